"""Thread pool and connection pool: more concurrent requests than connections, each opening
a second connection while it holds its first, all finish in bounded time (issue 10)."""

import threading
import time
from collections.abc import Iterator
from typing import Any

import anyio
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from app.core import db
from app.core.config import get_settings

POOL = 2
REQUESTS = 12  # six times the pool


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def small_pool(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("DB_POOL_SIZE", str(POOL))
    get_settings.cache_clear()
    db.dispose_engine()
    yield
    monkeypatch.delenv("DB_POOL_SIZE")
    get_settings.cache_clear()
    db.dispose_engine()


def _nested_app(held: list[int], peak: list[int]) -> FastAPI:
    app = FastAPI()
    lock = threading.Lock()

    @app.get("/nested")
    def nested() -> dict[str, Any]:
        # A unit of work that opens a second connection while holding the first.
        with db.get_engine().connect() as outer:
            with lock:
                held[0] += 1
                peak[0] = max(peak[0], held[0])
            outer.execute(text("SELECT 1"))
            time.sleep(0.02)  # hold it while others arrive
            with db.get_engine().connect() as inner:
                inner.execute(text("SELECT 1"))
            with lock:
                held[0] -= 1
        return {"ok": True}

    return app


@pytest.mark.anyio
async def test_more_requests_than_connections_with_nested_use_do_not_deadlock(
    small_pool: None,
) -> None:
    assert get_settings().db_pool_size == POOL
    db.configure_threads()
    assert anyio.to_thread.current_default_thread_limiter().total_tokens == POOL
    held, peak = [0], [0]
    transport = httpx.ASGITransport(app=_nested_app(held, peak))
    statuses: list[int] = []
    started = time.monotonic()
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:

        async def one() -> None:
            statuses.append((await client.get("/nested")).status_code)

        # The pool's checkout timeout is 30 s: a deadlock would show as a stall far longer
        # than the 12 × 20 ms of work spread over two threads.
        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:
                for _ in range(REQUESTS):
                    tg.start_soon(one)
    assert statuses == [200] * REQUESTS
    assert time.monotonic() - started < 10
    # Never more units of work at once than threads, so never more connections than the
    # pool holds with its overflow.
    assert peak[0] <= POOL
    pool: Any = db.get_engine().pool
    assert (pool.size(), pool._max_overflow) == (POOL, POOL)
