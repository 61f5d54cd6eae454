"""The hot-read threads (`db.hot_read`): each owns one read-only connection, more reads than
threads finish, and a connection the server dropped is replaced (issue 10)."""

import asyncio
from typing import Any

import pytest
from sqlalchemy import Connection, Integer, literal, select, text
from sqlalchemy.exc import DBAPIError

from app.core import db
from app.core.config import get_settings


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _backend_pid(conn: Connection) -> Any:
    if conn.dialect.name == "postgresql":
        return conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    return id(conn.connection.dbapi_connection)


@pytest.mark.anyio
async def test_more_reads_than_threads_finish_each_thread_on_its_own_connection() -> None:
    threads = get_settings().db_read_threads
    seen: list[Any] = []

    def slow_read(conn: Connection, n: int) -> int:
        seen.append(_backend_pid(conn))
        conn.execute(text("SELECT 1")).scalar_one()
        return n

    async with asyncio.timeout(20):
        results = await asyncio.gather(*(db.hot_read(slow_read, n) for n in range(threads * 8)))
    assert results == list(range(threads * 8))
    assert 1 <= len(set(seen)) <= threads


@pytest.mark.anyio
async def test_reader_connections_cannot_write() -> None:
    def write(conn: Connection) -> None:
        conn.execute(text("UPDATE org SET name = name"))

    with pytest.raises(DBAPIError):
        await db.hot_read(write)


@pytest.mark.anyio
async def test_a_dropped_reader_connection_is_replaced() -> None:
    if db.get_engine().dialect.name != "postgresql":
        pytest.skip("only a server can drop a connection")
    pids = {await db.hot_read(_backend_pid) for _ in range(get_settings().db_read_threads * 4)}
    with db.get_engine().connect() as admin:
        for pid in pids:
            admin.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
        admin.commit()

    # The hazard reads run `db.Prepared` statements on the driver's cursor directly.
    prepared = db.Prepared(select(literal(1, Integer)))

    def one(conn: Connection) -> int:
        row = prepared.first(conn, {})
        assert row is not None
        return int(row[0])

    # Every reader's connection is gone: each read fails over to a new one, none fails.
    results = [await db.hot_read(one) for _ in range(get_settings().db_read_threads * 4)]
    assert results == [1] * len(results)


@pytest.mark.anyio
async def test_reads_taken_together_each_get_their_own_outcome() -> None:
    """Reads queued together run in one batch on one thread; an error in one is that read's
    alone, and the others still get their rows."""

    def read(conn: Connection, n: int) -> int:
        if n % 3 == 0:
            raise ValueError(n)
        return int(conn.execute(select(literal(n, Integer))).scalar_one())

    async with asyncio.timeout(20):
        outcomes = await asyncio.gather(
            *(db.hot_read(read, n) for n in range(db._Readers.BATCH * 5)),
            return_exceptions=True,
        )
    for n, outcome in enumerate(outcomes):
        if n % 3 == 0:
            assert isinstance(outcome, ValueError)
            assert outcome.args == (n,)
        else:
            assert outcome == n


@pytest.mark.anyio
async def test_a_read_whose_caller_went_away_is_skipped() -> None:
    ran: list[int] = []

    def read(conn: Connection, n: int) -> int:
        ran.append(n)
        return n

    readers = db._get_readers()
    with readers.wakeup:  # hold the queue: both reads wait in it
        first = asyncio.ensure_future(db.hot_read(read, 1))
        second = asyncio.ensure_future(db.hot_read(read, 2))
        await asyncio.sleep(0)  # both submitted
        first.cancel()
    async with asyncio.timeout(20):
        assert await second == 2
    assert ran == [2]
