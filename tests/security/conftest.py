"""Build an app under different settings (CORS origins, docs off, Redis) for one test."""

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from app.core.config import get_settings
from app.core.ratelimit import reset_counter
from app.main import create_app


@pytest.fixture
def app_with(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Any]]:
    def build(**env: str) -> Any:
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        get_settings.cache_clear()
        reset_counter()
        return create_app()

    yield build
    get_settings.cache_clear()
    reset_counter()
