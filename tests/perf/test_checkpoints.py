"""SQLite's WAL checkpoints run on the server's thread while it runs, not inside commits
(app/core/checkpoints.py, issue 10). On a SQLite file of its own, whatever the suite's
database."""

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from app.core import checkpoints, db
from app.core.config import get_settings


@pytest.fixture
def sqlite_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Path]]:
    path = tmp_path / "wal.db"
    url = f"sqlite:///{path}"
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    db.dispose_engine()
    with db.write() as session:
        session.execute(text("CREATE TABLE t (x TEXT)"))
    yield url, path
    db.dispose_engine()
    monkeypatch.undo()
    get_settings.cache_clear()


def _threshold() -> int:
    with db.write() as session:
        return int(session.execute(text("PRAGMA wal_autocheckpoint")).scalar_one())


def _write(rows: int) -> None:
    with db.write() as session:
        session.execute(
            text("INSERT INTO t VALUES (:x)"), [{"x": f"row {i} " * 20} for i in range(rows)]
        )


def _wait_for(condition: Callable[[], bool], seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def test_while_running_commits_leave_checkpoints_to_the_thread(
    sqlite_file: tuple[str, Path],
) -> None:
    url, path = sqlite_file
    assert _threshold() == checkpoints.SQLITE_DEFAULT
    with checkpoints.running(url):
        assert _threshold() == 0  # told to a connection opened before the thread started
        time.sleep(3 * checkpoints.PAUSE)  # the start's own catch-up
        before = path.stat().st_size
        # In WAL mode only a checkpoint writes the database file: the thread did it.
        _write(2000)
        assert _wait_for(lambda: path.stat().st_size > before)
    assert _threshold() == checkpoints.SQLITE_DEFAULT


def test_without_the_thread_small_commits_leave_the_database_file_alone(
    sqlite_file: tuple[str, Path],
) -> None:
    """The check above can fail: without a checkpoint the file stays as it was."""
    _, path = sqlite_file
    before = path.stat().st_size
    _write(2000)
    time.sleep(3 * checkpoints.PAUSE)
    assert path.stat().st_size == before


def test_nested_running_blocks_share_one_thread(sqlite_file: tuple[str, Path]) -> None:
    url, _ = sqlite_file
    with checkpoints.running(url):
        thread = checkpoints._checkpointer.thread
        with checkpoints.running(url):
            assert checkpoints._checkpointer.thread is thread
        assert checkpoints.enabled()
        assert checkpoints._checkpointer.thread is thread
    assert not checkpoints.enabled()
    assert checkpoints._checkpointer.thread is None


def test_other_databases_run_their_own() -> None:
    with checkpoints.running("postgresql://postgres@127.0.0.1:5432/test"):
        assert not checkpoints.enabled()
    with checkpoints.running("sqlite:///:memory:"):
        assert not checkpoints.enabled()
