"""Audit rows are written inside the caller's transaction, so a write and its record stand or
fall together."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import Table, insert
from sqlmodel import Session, col, select

from app.audit.models import AuditLog
from app.auth.principal import Principal
from app.core import db
from app.core.context import request_id_var
from app.core.errors import Forbidden
from app.core.time import now
from app.users.models import Capability, Role

AUDIT_TABLE: Table = AuditLog.__table__  # type: ignore[attr-defined]
_INSERT = db.Prepared(insert(AUDIT_TABLE))


def plain(value: Any) -> Any:
    """Make a value JSON-safe for the audit and event payloads."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    return value


def record(
    session: Session,
    actor: Principal | None,
    *,
    action: str,
    object_type: str,
    object_id: Any = None,
    changes: dict[str, Any] | None = None,
) -> None:
    # An insert on the session's connection: the same transaction, without building and
    # flushing an ORM object for a row nobody reads back (every write pays this), run as a
    # `db.Prepared` statement (compiled once, values passed as parameters).
    _INSERT.execute(
        session.connection(),
        {
            "at": now(),
            "actor": actor.actor if actor else "system",
            "actor_org_id": actor.org_id if actor else None,
            "action": action,
            "object_type": object_type,
            "object_id": None if object_id is None else str(object_id),
            "request_id": request_id_var.get(),
            "changes": plain(changes or {}),
        },
    )


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """{field: [old, new]} for the fields that changed."""
    return {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}


@dataclass(frozen=True)
class AuditFilter:
    object_type: str | None = None
    object_id: str | None = None
    actor: str | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def list_entries(
    principal: Principal, flt: AuditFilter, *, before_id: int | None, limit: int
) -> Sequence[AuditLog]:
    """Newest first. Admins and oversight users only."""
    if principal.role != Role.admin and not principal.can(Capability.oversight):
        raise Forbidden(
            "audit.forbidden",
            zh="只有系统管理员和监督用户可以查看审计日志。",
            en="Only administrators and oversight users may read the audit log.",
        )
    stmt = select(AuditLog)
    for column, value in (
        (AuditLog.object_type, flt.object_type),
        (AuditLog.object_id, flt.object_id),
        (AuditLog.actor, flt.actor),
        (AuditLog.action, flt.action),
    ):
        if value is not None:
            stmt = stmt.where(col(column) == value)
    if flt.since:
        stmt = stmt.where(col(AuditLog.at) >= flt.since)
    if flt.until:
        stmt = stmt.where(col(AuditLog.at) < flt.until)
    if before_id is not None:
        stmt = stmt.where(col(AuditLog.id) < before_id)
    with db.read() as session:
        return session.exec(stmt.order_by(col(AuditLog.id).desc()).limit(limit + 1)).all()
