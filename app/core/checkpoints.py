"""SQLite's WAL checkpoints, on a thread of the server's own instead of inside a commit.

In WAL mode a commit appends the pages it changed to the write-ahead log; a checkpoint
copies them back into the database file. By default the connection whose commit takes the
log past 1,000 pages runs the checkpoint there and then, inside that commit, while it holds
the write lock: a 100,000-row import's commit took 0.37 s with it and 0.07–0.12 s without,
the checkpoint 0.09–0.1 s on its own (1M hazards, measured). Registrations pay the same,
one in every few hundred.

While the server runs (`running()`, from the app's lifespan), its write connections turn
SQLite's automatic checkpoints off (`wal_autocheckpoint=0`), its writes mark the log after
they commit (`written()`), and a thread runs a PASSIVE checkpoint — one that never waits
for a reader or a writer — at most every `PAUSE` seconds while writes go on, and again
later for what a reader kept it from copying. Durability is unchanged: with
`synchronous=NORMAL` a commit is durable once a checkpoint has synced the log, whichever
connection runs it. Processes that do not start it (the command line, migrations, the
benchmark's builder) keep SQLite's automatic checkpoints.
"""

import logging
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import make_url

log = logging.getLogger("app.db")

# Seconds between two checkpoints while writes go on: the writes of that time share one (a
# page changed by many of them is copied once).
PAUSE = 0.2
# SQLite's own threshold (pages in the log) for the checkpoint a commit runs.
SQLITE_DEFAULT = 1000


class _Checkpointer:
    def __init__(self) -> None:
        self.enabled = False
        self.users = 0  # running() blocks open: one thread for all of them
        self.dirty = threading.Event()
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None

    def start(self, path: str) -> None:
        self.users += 1
        if self.thread is not None:
            return
        self.stopping.clear()
        self.dirty.set()  # what was written while no thread ran
        self.thread = threading.Thread(
            target=self._serve, args=(path,), name="db-checkpoint", daemon=True
        )
        self.enabled = True
        self.thread.start()

    def stop(self) -> None:
        """Stop the thread after a last checkpoint; commits run them again."""
        self.users -= 1
        if self.users or self.thread is None:
            return
        self.enabled = False
        self.stopping.set()
        self.dirty.set()
        self.thread.join()
        self.thread = None

    def _serve(self, path: str) -> None:
        try:
            connection = sqlite3.connect(path, timeout=30, isolation_level=None)
            connection.execute("PRAGMA synchronous=NORMAL")  # as the write connections
        except sqlite3.Error:
            log.exception("cannot open %s for WAL checkpoints; commits run them", path)
            self.enabled = False
            return
        try:
            while True:
                self.dirty.wait()
                self.stopping.wait(PAUSE)  # the writes of the next moment share this one
                self.dirty.clear()
                try:
                    _busy, logged, copied = connection.execute(
                        "PRAGMA wal_checkpoint(PASSIVE)"
                    ).fetchone()
                except sqlite3.Error:
                    log.exception("WAL checkpoint failed; retrying after the next write")
                    logged = copied = 0
                if self.stopping.is_set():
                    return
                if copied < logged:  # a reader's snapshot held some back: try again later
                    self.dirty.set()
        finally:
            connection.close()


_checkpointer = _Checkpointer()


def enabled() -> bool:
    """Whether new write connections leave checkpoints to the server's thread."""
    return _checkpointer.enabled


def written() -> None:
    """After a commit: the log has pages to copy back."""
    if _checkpointer.thread is not None:
        _checkpointer.dirty.set()


@contextmanager
def running(database_url: str) -> Iterator[None]:
    """The checkpoint thread for the server's life, on a SQLite database in a file (other
    databases run their own checkpoints)."""
    url = make_url(database_url)
    path = url.database
    if not url.drivername.startswith("sqlite") or not path or path == ":memory:":
        yield
        return
    _checkpointer.start(path)
    try:
        yield
    finally:
        _checkpointer.stop()
