"""`db.in_writer`: units of work queued together on SQLite share one commit (group commit),
and each still stands or falls alone, seeing what it would have seen run by itself."""

import asyncio
import threading
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import event, func, inspect, select

from app.audit import service as audit
from app.audit.models import AuditLog
from app.core import db
from app.core.context import request_id_var

UNITS = 12


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def tag() -> str:
    return uuid.uuid4().hex[:8]


@pytest.fixture
def commits() -> Iterator[list[int]]:
    """Commits of the engine while the test runs."""
    seen: list[int] = []
    engine = db.get_engine()

    def count(_conn: object) -> None:
        seen.append(1)

    event.listen(engine, "commit", count)
    yield seen
    event.remove(engine, "commit", count)


def _record(action: str) -> str:
    with db.write() as session:
        audit.record(session, None, action=action, object_type="test")
    return action


def _fail_after_writing(action: str) -> None:
    with db.write() as session:
        audit.record(session, None, action=action, object_type="test")
        raise LookupError("no such thing")


def _swallow_own_failure(action: str) -> str:
    try:
        _fail_after_writing(action)
    except LookupError:
        return "handled"
    raise AssertionError("unreachable")


def _count(action_prefix: str) -> dict[str, int]:
    with db.read() as session:
        rows = session.execute(
            select(AuditLog.action, func.count())
            .where(AuditLog.action.startswith(action_prefix))  # type: ignore[attr-defined]
            .group_by(AuditLog.action)
        ).all()
    return {action: int(n) for action, n in rows}


async def _together(*units: tuple[object, str]) -> list[object]:
    """Queue the units while the SQLite write lock is held, so they wait as one group."""
    held = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with db.write():
            held.set()
            release.wait(10)

    holder = asyncio.get_running_loop().run_in_executor(None, hold)
    await asyncio.get_running_loop().run_in_executor(None, held.wait, 10)
    tasks = [asyncio.ensure_future(db.in_writer(fn, arg)) for fn, arg in units]  # type: ignore[arg-type]
    await asyncio.sleep(0.05)  # every unit is queued
    release.set()
    await holder
    async with asyncio.timeout(20):
        return await asyncio.gather(*tasks, return_exceptions=True)


@pytest.mark.anyio
async def test_units_queued_together_share_a_commit(tag: str, commits: list[int]) -> None:
    results = await _together(*((_record, f"{tag}.{i}") for i in range(UNITS)))
    assert results == [f"{tag}.{i}" for i in range(UNITS)]
    assert _count(tag) == {f"{tag}.{i}": 1 for i in range(UNITS)}
    if db.get_engine().dialect.name == "sqlite":
        # The holder's commit, the first unit (taken alone), then the others as one group.
        assert len(commits) <= 4, commits
    else:  # PostgreSQL: concurrent transactions, one each
        assert len(commits) >= UNITS


@pytest.mark.anyio
async def test_a_failing_unit_loses_only_its_own_writes(tag: str) -> None:
    units = [(_record, f"{tag}.{i}") for i in range(UNITS)]
    units[5] = (_fail_after_writing, f"{tag}.failed")
    results = await _together(*units)
    assert isinstance(results[5], LookupError)
    assert [r for i, r in enumerate(results) if i != 5] == [
        f"{tag}.{i}" for i in range(UNITS) if i != 5
    ]
    assert _count(tag) == {f"{tag}.{i}": 1 for i in range(UNITS) if i != 5}


@pytest.mark.anyio
async def test_a_unit_that_handles_its_own_failed_write_leaves_no_trace_of_it(tag: str) -> None:
    units = [(_record, f"{tag}.{i}") for i in range(4)]
    units.insert(2, (_swallow_own_failure, f"{tag}.swallowed"))
    results = await _together(*units)
    assert results[2] == "handled"
    assert _count(tag) == {f"{tag}.{i}": 1 for i in range(4)}


@pytest.mark.anyio
async def test_a_unit_reads_what_the_units_before_it_wrote(tag: str) -> None:
    def record_then_count(action: str) -> int:
        _record(action)
        return sum(_count(tag).values())

    results = await _together(*((record_then_count, f"{tag}.{i}") for i in range(6)))
    if db.get_engine().dialect.name == "sqlite":  # one after another, in arrival order
        assert results == [1, 2, 3, 4, 5, 6]
    else:  # concurrent transactions: each sees at least its own write
        assert all(1 <= n <= 6 for n in results), results
    assert sum(_count(tag).values()) == 6


@pytest.mark.anyio
async def test_a_unit_starts_with_none_of_the_objects_an_earlier_unit_loaded(tag: str) -> None:
    def add_row(action: str) -> tuple[int, AuditLog]:
        with db.write() as session:
            already = len(session.identity_map)
            row = AuditLog(actor="system", action=action, object_type="test")
            session.add(row)
        return already, row  # the unit keeps its object, as a route might

    results = await _together(*((add_row, f"{tag}.{i}") for i in range(4)))
    assert [already for already, _ in results] == [0, 0, 0, 0]
    # Stored and let go, as after a write of its own: detached, with its id.
    assert all(inspect(row).detached and row.id for _, row in results)
    assert _count(tag) == {f"{tag}.{i}": 1 for i in range(4)}


@pytest.mark.anyio
async def test_each_unit_keeps_its_own_request_context(tag: str) -> None:
    def request_id(_: str) -> str | None:
        return request_id_var.get()

    async def with_id(i: int) -> object:
        request_id_var.set(f"req-{i}")
        return await db.in_writer(request_id, tag)

    async with asyncio.timeout(20):
        results = await asyncio.gather(*(with_id(i) for i in range(UNITS)))
    assert results == [f"req-{i}" for i in range(UNITS)]
