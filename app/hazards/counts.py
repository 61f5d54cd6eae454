"""Hazard counts kept up to date on write, so the district overview costs the same at a
million hazards as at a hundred.

One `GROUP BY` over a covering index still reads every index entry of the campaign: about
150–250 ms at 1,000,000 hazards on SQLite (measured), over the 100 ms target of issue 10.
`HazardCount` holds, per campaign, one row per combination of the dimensions the overview
reports on (status, grade, category, scope, listed supervision, closed on time or late): at
most 7 × 2 × 10 × 2 × 2 × 3 rows, whatever the number of hazards.

Overdue (open, deadline before today) depends on the day it is asked, so it cannot be a
dimension of `HazardCount`; `HazardDueCount` holds, per campaign, how many open hazards fall
due on each day instead. Overdue on any day is then the sum of the rows before it: one row
per deadline day in use (about a hundred per campaign), not one per hazard. The key of a
hazard (`key_of`) carries that deadline, so every caller of `key_of` / `apply` keeps both
tables in step.

Neither school nor responsible org is a dimension on purpose: with them the table would hold
nearly one row per hazard in a province-sized deployment and summing it would be no faster
than the live query. A school's or department's own figures come from the live query over
its (small, indexed) slice instead.

The rows move in the SAME transaction as the hazard: a session `after_flush` listener diffs
the counted attributes of every Hazard inserted, changed or deleted through the ORM. Core
bulk inserts (`session.execute(insert(Hazard), rows)`) bypass the ORM and must call
`add_bulk(session, rows)`; Core `update(Hazard)` statements that change a counted column
must not be used (or must be followed by `rebuild`). `python -m app rebuild-counts`
recomputes everything from the hazard table.
"""

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from enum import Enum
from functools import cache
from typing import Any

from sqlalchemy import Index, UniqueConstraint, case, delete, event, func, insert, inspect, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import UOWTransaction
from sqlmodel import Field, Session, SQLModel, col

from app.core import db
from app.core.time import local_date
from app.hazards.models import OPEN_STATUSES, Hazard, HazardStatus
from app.stats.sql import local_day

# Closed on time (on or before the deadline), late, or neither (not closed / no deadline).
NOT_JUDGED, ON_TIME, LATE = 0, 1, 2

DIMENSIONS = ("campaign_id", "status", "grade", "category", "scope", "supervised", "timeliness")
_OPEN = frozenset(s.value for s in OPEN_STATUSES)
_TRACKED = (
    "campaign_id",
    "status",
    "grade",
    "category",
    "scope",
    "supervised",
    "deadline",
    "closed_at",
)


class HazardCount(SQLModel, table=True):
    """How many hazards of a campaign share one combination of the overview's dimensions."""

    __tablename__ = "hazard_count"
    __table_args__ = (
        UniqueConstraint(*DIMENSIONS),
        Index("ix_hazard_count_campaign_id", "campaign_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id")
    status: str = Field(max_length=40)
    grade: str = Field(max_length=40)
    category: str = Field(max_length=40)
    scope: str = Field(max_length=40)
    supervised: bool
    timeliness: int
    n: int = 0


class HazardDueCount(SQLModel, table=True):
    """How many open hazards of a campaign fall due on one day (overdue = the days before
    today)."""

    __tablename__ = "hazard_due_count"
    __table_args__ = (UniqueConstraint("campaign_id", "deadline"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id")
    deadline: date
    n: int = 0


# The `HazardCount` dimensions, then the deadline if the hazard is open (else None).
Key = tuple[int, str, str, str, str, bool, int, date | None]


def _code(value: Any) -> str:
    return str(value.value if isinstance(value, Enum) else value)


def timeliness(status: Any, deadline: date | None, closed_at: datetime | None) -> int:
    if _code(status) != HazardStatus.closed.value or deadline is None or closed_at is None:
        return NOT_JUDGED
    return ON_TIME if local_date(closed_at) <= deadline else LATE


def timeliness_sql() -> Any:
    """The same rule as `timeliness`, as a SQL expression over the hazard table."""
    judged = (
        (col(Hazard.status) == HazardStatus.closed)
        & col(Hazard.deadline).is_not(None)
        & col(Hazard.closed_at).is_not(None)
    )
    return case(
        (judged & (local_day(col(Hazard.closed_at)) <= col(Hazard.deadline)), ON_TIME),
        (judged, LATE),
        else_=NOT_JUDGED,
    )


def key_of(values: Mapping[str, Any]) -> Key:
    """The counters a hazard (given as its column values) falls into."""
    status = values.get("status") or HazardStatus.reported
    deadline = values.get("deadline")
    return (
        int(values["campaign_id"]),
        _code(status),
        _code(values["grade"]),
        _code(values["category"]),
        _code(values["scope"]),
        bool(values.get("supervised") or False),
        timeliness(status, deadline, values.get("closed_at")),
        deadline if _code(status) in _OPEN else None,
    )


def _values(obj: Hazard, *, old: bool) -> dict[str, Any]:
    state = inspect(obj)
    out: dict[str, Any] = {}
    for name in _TRACKED:
        history = state.attrs[name].history
        if old and history.deleted:
            out[name] = history.deleted[0]
        elif old and history.unchanged:
            out[name] = history.unchanged[0]
        else:
            out[name] = getattr(obj, name)
    return out


def apply(session: OrmSession, deltas: Mapping[Key, int]) -> None:
    """Add `deltas` to the counters, in the caller's transaction (one upsert per table that
    changes). Rows go in key order, so concurrent writers lock counter rows in one order."""
    counted: Counter[tuple[Any, ...]] = Counter()
    due: Counter[tuple[int, date]] = Counter()
    for key, n in deltas.items():
        counted[key[:7]] += n
        if key[7] is not None:
            due[(key[0], key[7])] += n
    connection = session.connection()
    for table, names, moved in (
        (HazardCount, DIMENSIONS, counted),
        (HazardDueCount, ("campaign_id", "deadline"), due),
    ):
        upsert = _upsert(connection.dialect.name, table.__tablename__, names)
        for k, n in sorted(moved.items()):
            if n:
                upsert.execute(connection, dict(zip(names, k, strict=True), n=n))


@cache
def _upsert(dialect: str, tablename: str, names: tuple[str, ...]) -> Any:
    """A counter table's upsert, built once per database kind (every hazard write runs it)."""
    insert_ = pg_insert if dialect == "postgresql" else sqlite_insert
    table = SQLModel.metadata.tables[tablename]
    stmt = insert_(table)
    return db.Prepared(
        stmt.on_conflict_do_update(
            index_elements=list(names), set_={"n": table.c.n + stmt.excluded.n}
        )
    )


def add_bulk(session: OrmSession, rows: Iterable[Mapping[str, Any]]) -> None:
    """Count hazards inserted with Core (`session.execute(insert(Hazard), rows)`): call it in
    the same transaction with the same rows."""
    apply(session, Counter(key_of(row) for row in rows))


@event.listens_for(OrmSession, "after_flush")
def _count_flushed_hazards(session: OrmSession, _ctx: UOWTransaction) -> None:
    deltas: Counter[Key] = Counter()
    for obj in session.new:
        if isinstance(obj, Hazard):
            deltas[key_of(_values(obj, old=False))] += 1
    for obj in session.dirty:
        if isinstance(obj, Hazard):
            before, after = key_of(_values(obj, old=True)), key_of(_values(obj, old=False))
            if before != after:
                deltas[before] -= 1
                deltas[after] += 1
    for obj in session.deleted:
        if isinstance(obj, Hazard):
            deltas[key_of(_values(obj, old=True))] -= 1
    apply(session, deltas)


def rebuild(session: Session, campaign_id: int | None = None) -> int:
    """Recompute the counters from the hazard table (all campaigns or one); returns the
    number of counter rows written."""
    clear, clear_due = delete(HazardCount), delete(HazardDueCount)
    dims = [
        col(Hazard.campaign_id),
        col(Hazard.status),
        col(Hazard.grade),
        col(Hazard.category),
        col(Hazard.scope),
        col(Hazard.supervised),
        timeliness_sql(),
    ]
    source = select(*dims, func.count()).group_by(*dims)
    due_dims = [col(Hazard.campaign_id), col(Hazard.deadline)]
    due_source = (
        select(*due_dims, func.count())
        .where(col(Hazard.status).in_(OPEN_STATUSES), col(Hazard.deadline).is_not(None))
        .group_by(*due_dims)
    )
    if campaign_id is not None:
        clear = clear.where(col(HazardCount.campaign_id) == campaign_id)
        clear_due = clear_due.where(col(HazardDueCount.campaign_id) == campaign_id)
        source = source.where(col(Hazard.campaign_id) == campaign_id)
        due_source = due_source.where(col(Hazard.campaign_id) == campaign_id)
    session.execute(clear)
    session.execute(clear_due)
    session.execute(insert(HazardCount).from_select([*DIMENSIONS, "n"], source))
    session.execute(
        insert(HazardDueCount).from_select(["campaign_id", "deadline", "n"], due_source)
    )
    return sum(
        int(session.execute(select(func.count()).select_from(t)).scalar_one())
        for t in (HazardCount, HazardDueCount)
    )
