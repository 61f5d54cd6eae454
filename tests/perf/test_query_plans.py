"""The hazard list's query shapes walk an index in (sort key, id) order: a page costs the
same at row 50 and at row 500,000 (issue 10). Checked with EXPLAIN on the database the run
uses, SQLite or PostgreSQL, with the exact statements the service executes.

On PostgreSQL the test tables are nearly empty, so sequential scans, bitmap scans and sorts
are priced out (`enable_* = off`): the planner then shows whether an index *can* serve the
filter and the order, which is what the schema must guarantee.
"""

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Connection, func, inspect, select
from sqlmodel import col

from app.auth.principal import Principal
from app.core import db
from app.core.pagination import cursor_position, encode_cursor
from app.hazards import service
from app.hazards.models import OPEN_STATUSES, Hazard, HazardStatus
from app.stats import service as stats_service
from app.users.models import Role

OFFICE = Principal(kind="user", id=1, role=Role.office, org_id=1)
SCHOOL = Principal(kind="user", id=3, role=Role.school, org_id=1000)


@pytest.fixture
def conn() -> Iterator[Connection]:
    with db.get_engine().connect() as c:
        if c.dialect.name == "postgresql":
            for knob in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
                c.exec_driver_sql(f"SET LOCAL {knob} = off")
        yield c


def _plan(conn: Connection, stmt: Any, params: dict[str, Any]) -> list[str]:
    """EXPLAIN of `stmt` as the service runs it: bound parameters, not literals (SQLite's
    planner chooses differently for literals)."""
    compiled = stmt.compile(dialect=conn.dialect)
    state = compiled.construct_expanded_state(params)
    values = {
        k: state.processors[k](v) if k in state.processors else v
        for k, v in state.parameters.items()
    }
    if conn.dialect.name == "sqlite":
        args: Any = tuple(values[name] for name in state.positiontup or ())
        rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {state.statement}", args).all()
        return [str(r[-1]) for r in rows]
    rows = conn.exec_driver_sql(f"EXPLAIN {state.statement}", values).all()
    return [str(r[0]) for r in rows]


def _page_plan(conn: Connection, plan: list[str]) -> list[str]:
    """The part of the plan that walks the hazard table for the page (the outer query only
    re-orders the ≤ 101 rows of the page and adds the plan ids)."""
    if conn.dialect.name == "sqlite":
        # The page is a co-routine; its steps come before the outer scan of `page`.
        end = next(i for i, line in enumerate(plan) if line.startswith("SCAN page"))
        return plan[:end]
    start = next(i for i, line in enumerate(plan) if "Limit" in line)
    depth = len(plan[start]) - len(plan[start].lstrip())
    inner = [plan[start]]
    for line in plan[start + 1 :]:
        stripped = line.lstrip()
        if stripped.startswith("->") and len(line) - len(stripped) <= depth:
            break
        inner.append(line)
    return inner


def _assert_index_walk(conn: Connection, page: list[str], *indexes: str) -> None:
    """The page is read by walking one of `indexes` in order: no full scan, no sort."""
    text = "\n".join(page)
    assert any(index in text for index in indexes), text
    if conn.dialect.name == "sqlite":
        assert "TEMP B-TREE" not in text, text
    else:
        assert "Sort" not in text, text


def _list_plan(
    conn: Connection,
    principal: Principal,
    flt: service.HazardFilter,
    sort: str,
    cursor: str | None = None,
) -> list[str]:
    stmt = service._list_statement(principal, flt, sort, cursor is not None, 50)
    params = service._filter_values(flt)
    if cursor is not None:
        _, coerce, _, _ = service._sort(sort)
        params["cursor_key"], params["cursor_id"] = cursor_position(cursor, coerce)
    return _page_plan(conn, _plan(conn, stmt, params))


def test_default_sort_within_a_campaign_walks_an_id_ordered_index_at_any_depth(
    conn: Connection,
) -> None:
    """`GET /hazards?campaign_id=…` (sort `-id`), the first page and a deep one."""
    flt = service.HazardFilter(campaign_id=1)
    for cursor in (None, encode_cursor(500_000, 500_000)):
        page = "\n".join(_list_plan(conn, OFFICE, flt, "-id", cursor))
        if conn.dialect.name == "sqlite":
            assert "PRIMARY KEY" in page or "ix_hazard_campaign_id_id" in page, page
            assert "TEMP B-TREE" not in page, page
        else:
            assert "pk_hazard" in page or "ix_hazard_campaign_id_id" in page, page
            assert "Sort" not in page, page
    deep = "\n".join(_list_plan(conn, OFFICE, flt, "-id", encode_cursor(500_000, 500_000)))
    # The cursor bounds the walk in the index itself, not as a filter on every row read.
    assert "<?" in deep if conn.dialect.name == "sqlite" else "Index Cond" in deep, deep


def test_found_on_sort_within_a_campaign_walks_its_index_at_any_depth(conn: Connection) -> None:
    """`GET /hazards?campaign_id=…&sort=-found_on`, the first page and a deep one."""
    flt = service.HazardFilter(campaign_id=1)
    for cursor in (None, encode_cursor("2026-10-15", 500_000)):
        page = _list_plan(conn, OFFICE, flt, "-found_on", cursor)
        _assert_index_walk(conn, page, "ix_hazard_campaign_found_on_id")
    deep = "\n".join(_list_plan(conn, OFFICE, flt, "-found_on", encode_cursor("2026-10-15", 9)))
    if conn.dialect.name == "sqlite":
        assert "(found_on,rowid)<(?,?)" in deep or "found_on<?" in deep, deep
    else:
        assert "found_on" in deep.split("Index Cond", 1)[-1], deep


def test_status_within_a_campaign_by_id_walks_the_campaign_status_index(
    conn: Connection,
) -> None:
    """`GET /hazards?campaign_id=…&status=rectifying` (sort `-id`)."""
    flt = service.HazardFilter(campaign_id=1, status=(HazardStatus.rectifying,))
    for cursor in (None, encode_cursor(500_000, 500_000)):
        page = _list_plan(conn, OFFICE, flt, "-id", cursor)
        # PostgreSQL on a near-empty table may prefer walking the campaign by id and
        # filtering the status; either walk avoids a sort.
        _assert_index_walk(conn, page, "ix_hazard_campaign_status_id", "ix_hazard_campaign_id_id")


def test_bench_list_shape_status_and_found_on_within_a_campaign_uses_an_index(
    conn: Connection,
) -> None:
    """The bench's list: `campaign_id=1&status=rectifying&sort=-found_on`. Either index
    order serves it: (campaign, found_on, id) filtering the status, or a dedicated one."""
    flt = service.HazardFilter(campaign_id=1, status=(HazardStatus.rectifying,))
    page = "\n".join(_list_plan(conn, OFFICE, flt, "-found_on"))
    assert "ix_hazard_campaign" in page, page
    if conn.dialect.name == "sqlite":
        # Status, version and updated_at come from the index: no row is looked up.
        assert "USING COVERING INDEX ix_hazard_campaign_found_on_id" in page, page
        assert "TEMP B-TREE" not in page, page
    else:
        assert "Sort" not in page, page


def test_get_by_id_reads_one_row_by_primary_key_and_probes_plans_by_index(
    conn: Connection,
) -> None:
    plan = "\n".join(_plan(conn, service._get_statement(SCHOOL), {"hazard_id": 7}))
    if conn.dialect.name == "sqlite":
        assert "SEARCH hazard USING INTEGER PRIMARY KEY (rowid=?)" in plan, plan
    else:
        # The primary key, or the school's index with the id in its condition: one row.
        assert "id = " in plan.split("Index Cond", 1)[1].split("\n", 1)[0], plan
    assert "ix_plan_hazard_hazard_id" in plan, plan
    assert "ix_hazard_extension_hazard_id" in plan, plan


def test_district_overdue_sums_a_range_of_the_due_counters_index(conn: Connection) -> None:
    """`GET /stats/overview` for the district (issue 10): overdue is a range of the
    (campaign_id, deadline) unique index of `hazard_due_count`, one row per deadline day,
    not a count over the campaign's hazards."""
    stmt = stats_service.counted_overdue_statement(1, date(2026, 11, 28))
    lines = _plan(conn, stmt, {})
    plan = "\n".join(lines)
    if conn.dialect.name == "sqlite":
        assert lines == [
            "SEARCH hazard_due_count USING INDEX sqlite_autoindex_hazard_due_count_1 "
            "(campaign_id=? AND deadline<?)"
        ], plan
    else:
        scans = [line for line in lines if " on " in line]
        assert len(scans) == 1, plan
        assert "uq_hazard_due_count_campaign_id_deadline on hazard_due_count" in scans[0], plan
        assert "(campaign_id = 1) AND (deadline < " in plan.split("Index Cond", 1)[1], plan


def test_overdue_scans_read_the_partial_deadline_indexes(conn: Connection) -> None:
    """The two deadline indexes hold only hazards with a deadline (migration 0004): the
    office's overdue count and the due-soon alerts' scan can still read them, their WHERE
    (`deadline < :day`, `deadline IS NOT NULL`) implying the index's. On PostgreSQL the
    nearly empty test table makes any index as cheap as another: the other indexes of the
    table are dropped inside the test's transaction (rolled back), so the plan shows whether
    the partial one can serve."""
    day = date(2026, 11, 28)
    if conn.dialect.name == "postgresql":
        keep = ("ix_hazard_stats_overdue", "ix_hazard_status_deadline")
        for index in inspect(conn).get_indexes("hazard"):
            if index["name"] not in keep and not index.get("unique"):
                conn.exec_driver_sql(f'DROP INDEX "{index["name"]}"')
    count = select(func.count()).where(
        *stats_service.hazard_scope(OFFICE, 1, stats_service.Window()),
        stats_service.overdue_sql(day),
    )
    plan = "\n".join(_plan(conn, count, {}))
    assert "ix_hazard_stats_overdue" in plan, plan
    due = select(Hazard.id).where(
        col(Hazard.status).in_(OPEN_STATUSES), col(Hazard.deadline).is_not(None)
    )
    plan = "\n".join(_plan(conn, due, {}))
    assert "ix_hazard_status_deadline" in plan, plan


DEPARTMENT_ID, SCHOOL_ID = 50, 1000


@pytest.mark.parametrize("status", [(), (HazardStatus.rectifying,)])
def test_a_departments_hazards_walk_the_partial_responsible_index(
    conn: Connection, status: tuple[HazardStatus, ...]
) -> None:
    """`GET /hazards?responsible_org_id=<department>`: the hazards handed to it, from the
    index that holds only handed-over hazards (migration 0006), at any depth."""
    flt = service.HazardFilter(
        responsible_org_id=DEPARTMENT_ID, responsible_is_school=False, status=status
    )
    for cursor in (None, encode_cursor(500_000, 500_000)):
        page = _list_plan(conn, OFFICE, flt, "-id", cursor)
        _assert_index_walk(
            conn, page, "ix_hazard_responsible_id", "ix_hazard_responsible_status_id"
        )


def test_a_schools_own_hazards_walk_the_school_index(conn: Connection) -> None:
    """`GET /hazards?responsible_org_id=<school>`: the hazards it still answers for itself."""
    flt = service.HazardFilter(
        responsible_org_id=SCHOOL_ID,
        responsible_is_school=True,
        status=(HazardStatus.rectifying,),
    )
    page = _list_plan(conn, OFFICE, flt, "-id", encode_cursor(500_000, 500_000))
    _assert_index_walk(conn, page, "ix_hazard_school_status_id")


def test_per_school_and_per_department_tables_read_their_indexes_only(
    conn: Connection,
) -> None:
    """The statistics' tables: each school's figures from the school's index, each
    department's from the partial (campaign, responsible org) one; no hazard row is read
    on SQLite (covering indexes)."""
    args = (OFFICE, 1, stats_service.Window(), "name", None, 50, date(2026, 11, 28))
    cases = {
        "ix_hazard_school_status_id": stats_service.school_statement(*args),
        "ix_hazard_stats_responsible": stats_service.department_statement(*args),
    }
    for index, stmt in cases.items():
        plan = "\n".join(_plan(conn, stmt, {}))
        assert index in plan, plan
        if conn.dialect.name == "sqlite":
            assert f"USING COVERING INDEX {index}" in plan, plan
