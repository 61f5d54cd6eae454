"""Emitting domain events into the outbox, inside the caller's transaction."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, false, insert, literal_column, or_, true, tuple_
from sqlmodel import Session, col, select

from app.audit.service import plain
from app.auth.principal import Principal, Scope
from app.core import db
from app.core.errors import Invalid, field_error
from app.core.pagination import decode_cursor, encode_cursor
from app.core.time import now
from app.events.models import Event
from app.orgs.models import Org
from app.users.models import Capability, Role

_TABLE: Table = Event.__table__  # type: ignore[attr-defined]
# The id of the transaction writing the row: see `Event.txid`.
_PG_TXID: ColumnElement[int] = literal_column("pg_current_xact_id()::text::bigint")
# Built once, values passed as parameters: building `.values(...)` per call cost more CPU
# than running the insert.
_INSERT = db.Prepared(insert(_TABLE).returning(_TABLE.c.id))
_PG_INSERT = db.Prepared(insert(_TABLE).values(txid=_PG_TXID).returning(_TABLE.c.id))


def emit(
    session: Session,
    actor: Principal | None,
    *,
    type: str,
    subject_type: str,
    subject_id: int,
    campaign_id: int | None = None,
    school_id: int | None = None,
    org_id: int | None = None,
    audience: str = "all",
    payload: dict[str, Any] | None = None,
) -> int:
    """Write one event into the outbox on the caller's transaction; returns its id.

    An INSERT … RETURNING (`db.Prepared`) rather than an ORM object: every state change pays
    for this, and an ORM object would cost a flush at commit for a row nobody reads back. On
    PostgreSQL the row is stamped with the writing transaction's id (see `Event.txid`).
    """
    values: dict[str, Any] = {
        "at": now(),
        "type": type,
        "subject_type": subject_type,
        "subject_id": subject_id,
        "campaign_id": campaign_id,
        "school_id": school_id,
        "org_id": org_id,
        "audience": audience,
        "actor": actor.actor if actor else "system",
        "payload": plain(payload or {}),
    }
    conn = session.connection()
    stmt = _PG_INSERT if conn.dialect.name == "postgresql" else _INSERT
    row = stmt.first(conn, values)
    assert row is not None
    return int(row[0])


# ---------------------------------------------------------------------------------------------
# Reading the outbox in commit order: the feed and the webhook dispatcher.
#
# A position is (txid, id) on PostgreSQL and (None, id) on SQLite. `after_position` returns
# only events every reader will agree on for good: on PostgreSQL those written by
# transactions older than the oldest one still running (so nothing can later appear *before*
# the position handed out), on SQLite any committed event (one writer at a time, so ids are
# committed in order).

Position = tuple[int | None, int]

# Oldest transaction still running, as seen by the statement's own snapshot.
_PG_HORIZON: ColumnElement[int] = literal_column(
    "pg_snapshot_xmin(pg_current_snapshot())::text::bigint"
)


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def after_position(
    session: Session,
    position: Position | None,
    *,
    where: ColumnElement[bool] | None = None,
    types: Sequence[str] = (),
    limit: int,
) -> list[Event]:
    """Up to `limit` settled events after `position`, in commit order."""
    stmt = select(Event)
    if where is not None:
        stmt = stmt.where(where)
    type_filter = _types_clause(types)
    if type_filter is not None:
        stmt = stmt.where(type_filter)
    if _is_postgres(session):
        stmt = stmt.where(col(Event.txid) < _PG_HORIZON)
        if position is not None:
            stmt = stmt.where(
                tuple_(col(Event.txid), col(Event.id)) > (position[0] or 0, position[1])
            )
        stmt = stmt.order_by(col(Event.txid), col(Event.id))
    else:
        if position is not None:
            stmt = stmt.where(col(Event.id) > position[1])
        stmt = stmt.order_by(col(Event.id))
    return list(session.exec(stmt.limit(limit)).all())


def latest_position(session: Session) -> Position | None:
    """The position of the newest settled event (as `after_position` would reach it), or
    None if there is none: one row read from the end of the index, not the events."""
    stmt = select(col(Event.txid), col(Event.id))
    if _is_postgres(session):
        stmt = stmt.where(col(Event.txid) < _PG_HORIZON).order_by(
            col(Event.txid).desc(), col(Event.id).desc()
        )
    else:
        stmt = stmt.order_by(col(Event.id).desc())
    row = session.exec(stmt.limit(1)).first()
    if row is None:
        return None
    txid, event_id = row
    assert event_id is not None
    return txid, event_id


def position_of(event: Event) -> Position:
    assert event.id is not None
    return (event.txid, event.id)


def encode_position(position: Position) -> str:
    return encode_cursor(position[0], position[1])


def decode_position(cursor: str) -> Position:
    value, event_id = decode_cursor(cursor)
    if value is not None and not isinstance(value, int):
        raise Invalid(
            "events.bad_cursor",
            zh="事件游标无效。",
            en="The event cursor is not valid.",
            errors=[field_error("query.after", "bad_cursor", "游标无效", "invalid cursor")],
        )
    return (value, event_id)


def _types_clause(types: Sequence[str]) -> ColumnElement[bool] | None:
    """`hazard.status_changed` matches exactly; `hazard.*` matches a whole family."""
    if not types:
        return None
    exact = [t for t in types if not t.endswith(".*")]
    prefixes = [t[:-1] for t in types if t.endswith(".*")]
    clauses: list[ColumnElement[bool]] = []
    if exact:
        clauses.append(col(Event.type).in_(exact))
    clauses.extend(col(Event.type).startswith(p, autoescape=True) for p in prefixes)
    return or_(*clauses)


def visible_events(principal: Principal) -> ColumnElement[bool]:
    """The WHERE clause of the events `principal` may read from the feed. Deny by default.

    * office and oversight: all;
    * service accounts (route checks `events:read`): all, except case events (audience
      `cases`) unless the token also carries `cases:read`;
    * inspectors: every non-case event (they work at any school, like their hazard view);
    * a school: events about itself, and district-wide campaign announcements;
    * a department: events addressed to its org or about schools it supervises, and campaign
      announcements; case events only to the police (capability `cases`) of the handling org;
    * admins: none (no business data).
    """
    not_cases = col(Event.audience) != "cases"
    campaign_wide = and_(
        col(Event.subject_type) == "campaign",
        col(Event.school_id).is_(None),
        col(Event.org_id).is_(None),
    )
    if principal.role == Role.office or principal.can(Capability.oversight):
        return true()
    if principal.role == Role.service:
        return true() if principal.has_scope(Scope.cases_read.value) else not_cases
    if principal.org_id is None:
        return false()
    if principal.role == Role.school:
        return and_(not_cases, or_(col(Event.school_id) == principal.org_id, campaign_wide))
    if principal.role == Role.department:
        if principal.can(Capability.inspector):
            general: ColumnElement[bool] = not_cases
        else:
            supervised = select(col(Org.id)).where(col(Org.supervising_org_id) == principal.org_id)
            general = and_(
                not_cases,
                or_(
                    col(Event.org_id) == principal.org_id,
                    col(Event.school_id).in_(supervised),
                    campaign_wide,
                ),
            )
        if principal.can(Capability.cases):
            cases = and_(col(Event.audience) == "cases", col(Event.org_id) == principal.org_id)
            return or_(general, cases)
        return general
    return false()


def feed(
    principal: Principal, *, after: str | None, types: Sequence[str], limit: int
) -> tuple[list[Event], str | None, bool]:
    """(events, next cursor, whether more are waiting) for the event feed."""
    position = decode_position(after) if after else None
    with db.read() as session:
        rows = after_position(
            session, position, where=visible_events(principal), types=types, limit=limit + 1
        )
    has_more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_position(position_of(rows[-1])) if rows else after
    return rows, next_cursor, has_more
