"""The garbage collector is tuned while the app serves, and as before once it stops."""

import gc

from fastapi.testclient import TestClient

from app.core import collector
from app.core.config import get_settings
from app.main import create_app


def _tracked(obj: object) -> bool:
    """Whether a collection would look at `obj` (frozen objects are in no generation)."""
    return any(o is obj for generation in range(3) for o in gc.get_objects(generation))


def test_tuned_freezes_startup_objects_and_restores_on_exit() -> None:
    before = gc.get_threshold()
    survivor = [object()]  # alive when the block starts: frozen
    with collector.tuned(12_345):
        assert gc.get_threshold() == (12_345, *before[1:])
        assert gc.get_freeze_count() > 0
        assert not _tracked(survivor)
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
    assert _tracked(survivor)


def test_the_app_serves_with_the_configured_threshold() -> None:
    before = gc.get_threshold()
    with TestClient(create_app()) as client:
        assert client.get("/health").status_code == 200
        assert gc.get_threshold()[0] == get_settings().gc_threshold
        assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
