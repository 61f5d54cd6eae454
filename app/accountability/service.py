"""Accountability (问责): the office and oversight users record notices, public exposures and
accountability decisions against an org; the target org reads what concerns it; public
records appear, sanitized, on the unauthenticated exposure board."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, false, func, literal, true, union_all
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from app.accountability.models import AccountabilityKind, AccountabilityRecord
from app.accountability.schemas import AccountabilityCreate, AccountabilityPublic, Candidate
from app.audit import service as audit
from app.auth.principal import Principal
from app.campaigns.service import ensure_writable
from app.cases.models import Case, CaseVictim
from app.cases.privacy import find_personal_data
from app.cases.visibility import visible_cases
from app.core import db
from app.core.errors import Conflict, Forbidden, Invalid, NotFound, field_error
from app.core.etag import check_if_match
from app.core.pagination import SortDir, keyset, split_page
from app.core.time import now, today
from app.events import service as events
from app.hazards.models import Hazard
from app.hazards.visibility import visible_hazards
from app.orgs.models import Org
from app.public.board import BoardCursor, BoardEntry, ExposureSource, after_cursor
from app.stats.service import overdue_sql
from app.tasks.models import Task, TaskAssignment, TaskReport
from app.tasks.service import overdue_clause
from app.tasks.visibility import visible_tasks
from app.users.models import Capability, Role


def records(principal: Principal) -> bool:
    """The office and oversight users record, read every record and withdraw."""
    return principal.kind == "user" and (
        principal.role == Role.office or principal.can(Capability.oversight)
    )


def visible_records(principal: Principal) -> ColumnElement[bool]:
    """The WHERE clause of the records `principal` may read: all for the office and
    oversight; a department or school those targeting itself; nobody else any."""
    if records(principal):
        return true()
    if principal.kind == "user" and principal.role in (Role.department, Role.school):
        return col(AccountabilityRecord.target_org_id) == (principal.org_id or -1)
    return false()


def _not_found() -> NotFound:
    return NotFound(
        "accountability.not_found",
        zh="问责记录不存在或您无权查看。",
        en="No such accountability record, or you may not see it.",
    )


def _forbidden() -> Forbidden:
    return Forbidden(
        "accountability.forbidden",
        zh="只有领导小组办公室和监督用户可以记录问责。",
        en="Only the office and oversight users record accountability.",
    )


def _public(
    record: AccountabilityRecord, org_name: str, principal: Principal
) -> AccountabilityPublic:
    linked = records(principal)
    return AccountabilityPublic(
        id=record.id or 0,
        campaign_id=record.campaign_id,
        target_org_id=record.target_org_id,
        target_org_name=org_name,
        target_person=record.target_person,
        kind=record.kind,
        reason=record.reason,
        hazard_ids=list(record.hazard_ids) if linked else None,
        task_ids=list(record.task_ids) if linked else None,
        case_ids=list(record.case_ids) if linked else None,
        decided_by=record.decided_by,
        decided_on=record.decided_on,
        public=record.public,
        public_summary=record.public_summary,
        published_at=record.published_at,
        created_at=record.created_at,
        withdrawn_at=record.withdrawn_at,
        withdraw_reason=record.withdraw_reason,
        version=record.version,
    )


def _unknown(field: str, zh: str, en: str) -> Invalid:
    return Invalid(
        f"accountability.unknown_{field.split('.')[-1]}",
        zh=zh,
        en=en,
        errors=[field_error(field, "unknown", zh, en)],
    )


def _check_linked(
    session: Session, principal: Principal, data: AccountabilityCreate
) -> list[CaseVictim]:
    """Linked hazards, tasks and cases exist, belong to the campaign and are visible to the
    recorder. Returns the linked cases' victims, whose data must stay off the public board."""
    checks: list[tuple[list[int], Any, Any, Any, str]] = [
        (data.hazard_ids, Hazard.id, Hazard.campaign_id, visible_hazards(principal), "hazard_ids"),
        (data.task_ids, Task.id, Task.campaign_id, visible_tasks(principal), "task_ids"),
        (data.case_ids, Case.id, Case.campaign_id, visible_cases(principal), "case_ids"),
    ]
    for ids, id_col, campaign_col, visible, field in checks:
        if not ids:
            continue
        found = set(
            session.exec(
                select(id_col).where(
                    col(id_col).in_(ids), col(campaign_col) == data.campaign_id, visible
                )
            ).all()
        )
        if found != set(ids):
            raise _unknown(
                f"body.{field}",
                "关联对象不存在或不属于该专项行动。",
                "A linked object does not exist or is not in this campaign.",
            )
    if not data.case_ids:
        return []
    return list(
        session.exec(select(CaseVictim).where(col(CaseVictim.case_id).in_(data.case_ids))).all()
    )


def create(principal: Principal, data: AccountabilityCreate) -> AccountabilityPublic:
    if not records(principal):
        raise _forbidden()
    if data.decided_on > today():
        raise Invalid(
            "accountability.future_decision",
            zh="决定日期不能晚于今天。",
            en="The decision date cannot be in the future.",
            errors=[field_error("body.decided_on", "future", "日期无效", "date in the future")],
        )
    with db.write() as session:
        ensure_writable(session, data.campaign_id)
        target = session.get(Org, data.target_org_id)
        if target is None:
            raise _unknown(
                "body.target_org_id", "问责对象单位不存在。", "The target org does not exist."
            )
        victims = _check_linked(session, principal, data)
        if data.public_summary and find_personal_data(data.public_summary, victims):
            raise Invalid(
                "accountability.public_summary_has_personal_data",
                zh="公开摘要不得包含身份证号、手机号等个人信息。",
                en="The public summary must not contain personal data such as ID or mobile numbers.",
                errors=[
                    field_error(
                        "body.public_summary", "personal_data", "含有个人信息", "personal data"
                    )
                ],
            )
        moment = now()
        record = AccountabilityRecord(
            **data.model_dump(exclude={"public_summary"}),
            public_summary=data.public_summary,
            decided_by=principal.actor,
            decided_by_org_id=principal.org_id,
            published_at=moment if data.public else None,
            created_at=moment,
            updated_at=moment,
        )
        session.add(record)
        session.flush()
        assert record.id is not None
        audit.record(
            session,
            principal,
            action="accountability.create",
            object_type="accountability",
            object_id=record.id,
            changes=data.model_dump(exclude_none=True),
        )
        events.emit(
            session,
            principal,
            type="accountability.recorded",
            subject_type="accountability",
            subject_id=record.id,
            campaign_id=record.campaign_id,
            org_id=record.target_org_id,
            payload={"kind": record.kind, "public": record.public},
        )
        return _public(record, target.name, principal)


def _load(
    session: Session, principal: Principal, record_id: int
) -> tuple[AccountabilityRecord, str]:
    row = session.exec(
        select(AccountabilityRecord, Org.name)
        .join(Org, col(Org.id) == col(AccountabilityRecord.target_org_id))
        .where(col(AccountabilityRecord.id) == record_id, visible_records(principal))
    ).first()
    if row is None:
        raise _not_found()
    return row[0], row[1]


def get(principal: Principal, record_id: int) -> AccountabilityPublic:
    with db.read() as session:
        record, name = _load(session, principal, record_id)
    return _public(record, name, principal)


def withdraw(
    principal: Principal, record_id: int, reason: str, if_match: str | None
) -> AccountabilityPublic:
    with db.write() as session:
        record, name = _load(session, principal, record_id)
        if not records(principal):
            raise _forbidden()
        check_if_match(if_match, record.version, required=False)
        if record.withdrawn_at is not None:
            raise Conflict(
                "accountability.already_withdrawn",
                zh="该问责记录已撤回。",
                en="The record has already been withdrawn.",
            )
        ensure_writable(session, record.campaign_id)
        record.withdrawn_at = now()
        record.withdrawn_by = principal.actor
        record.withdraw_reason = reason
        record.updated_at = record.withdrawn_at
        record.version += 1
        session.add(record)
        audit.record(
            session,
            principal,
            action="accountability.withdraw",
            object_type="accountability",
            object_id=record.id,
            changes={"withdrawn": [False, True], "reason": reason},
        )
        events.emit(
            session,
            principal,
            type="accountability.withdrawn",
            subject_type="accountability",
            subject_id=record.id or 0,
            campaign_id=record.campaign_id,
            org_id=record.target_org_id,
            payload={"kind": record.kind},
        )
        return _public(record, name, principal)


def list_records(
    principal: Principal,
    *,
    campaign_id: int | None,
    kind: AccountabilityKind | None,
    target_org_id: int | None,
    public: bool | None,
    include_withdrawn: bool,
    cursor: str | None,
    limit: int,
) -> tuple[list[AccountabilityPublic], str | None]:
    """Newest first."""
    stmt: Any = (
        sa_select(AccountabilityRecord, col(Org.name))
        .join(Org, col(Org.id) == col(AccountabilityRecord.target_org_id))
        .where(visible_records(principal))
    )
    if campaign_id is not None:
        stmt = stmt.where(col(AccountabilityRecord.campaign_id) == campaign_id)
    if kind is not None:
        stmt = stmt.where(col(AccountabilityRecord.kind) == kind)
    if target_org_id is not None:
        stmt = stmt.where(col(AccountabilityRecord.target_org_id) == target_org_id)
    if public is not None:
        stmt = stmt.where(col(AccountabilityRecord.public).is_(public))
    if not include_withdrawn:
        stmt = stmt.where(col(AccountabilityRecord.withdrawn_at).is_(None))
    stmt = keyset(
        stmt,
        key=col(AccountabilityRecord.id),
        id_col=col(AccountabilityRecord.id),
        direction=SortDir.desc,
        cursor=cursor,
        limit=limit,
    )
    with db.read() as session:
        rows = session.execute(stmt).all()
    page, next_cursor = split_page(rows, limit, lambda r: (r[0].id, r[0].id))
    return [_public(record, name, principal) for record, name in page], next_cursor


def candidates(
    principal: Principal, *, campaign_id: int, min_overdue: int, limit: int
) -> list[Candidate]:
    """Orgs whose overdue items reach `min_overdue`, most first: overdue hazards they must
    fix, overdue task assignments and late written reports."""
    if not records(principal):
        raise _forbidden()
    day = today()
    zero = literal(0)
    hazards: Any = (
        sa_select(
            col(Hazard.responsible_org_id).label("org_id"),
            func.count().label("h"),
            zero.label("a"),
            zero.label("r"),
        )
        .where(col(Hazard.campaign_id) == campaign_id, overdue_sql(day))
        .group_by(col(Hazard.responsible_org_id))
    )
    assignments: Any = (
        sa_select(col(TaskAssignment.org_id), zero, func.count(), zero)
        .join(Task, col(Task.id) == col(TaskAssignment.task_id))
        .where(col(Task.campaign_id) == campaign_id, overdue_clause(day))
        .group_by(col(TaskAssignment.org_id))
    )
    late: Any = (
        sa_select(col(TaskReport.org_id), zero, zero, func.count())
        .join(Task, col(Task.id) == col(TaskReport.task_id))
        .where(col(Task.campaign_id) == campaign_id, col(TaskReport.late).is_(True))
        .group_by(col(TaskReport.org_id))
    )
    parts = union_all(hazards, assignments, late).subquery()
    total = func.sum(parts.c.h) + func.sum(parts.c.a) + func.sum(parts.c.r)
    stmt: Any = (
        sa_select(
            parts.c.org_id,
            col(Org.name),
            col(Org.kind),
            func.sum(parts.c.h),
            func.sum(parts.c.a),
            func.sum(parts.c.r),
            total,
        )
        .join(Org, col(Org.id) == parts.c.org_id)
        .group_by(parts.c.org_id, col(Org.name), col(Org.kind))
        .having(total >= min_overdue)
        .order_by(total.desc(), parts.c.org_id)
        .limit(limit)
    )
    with db.read() as session:
        rows: Sequence[Any] = session.execute(stmt).all()
    return [
        Candidate(
            org_id=org_id,
            org_name=name,
            org_kind=str(kind.value if hasattr(kind, "value") else kind),
            overdue_hazards=int(h),
            overdue_assignments=int(a),
            late_reports=int(r),
            total=int(t),
        )
        for org_id, name, kind, h, a, r, t in rows
    ]


def public_exposures(after: BoardCursor | None, limit: int, lang: str) -> list[BoardEntry]:
    """The board's accountability source: current public records, newest first. Only the
    checked summary, the target org's name and the kind leave; never the reason, the person
    or the linked objects."""
    stmt = (
        select(AccountabilityRecord, Org.name)
        .join(Org, col(Org.id) == col(AccountabilityRecord.target_org_id))
        .where(
            col(AccountabilityRecord.public).is_(True),
            col(AccountabilityRecord.withdrawn_at).is_(None),
            col(AccountabilityRecord.published_at).is_not(None),
            after_cursor(
                col(AccountabilityRecord.published_at),
                col(AccountabilityRecord.id),
                ExposureSource.accountability,
                after,
            ),
        )
        .order_by(
            col(AccountabilityRecord.published_at).desc(), col(AccountabilityRecord.id).desc()
        )
        .limit(limit)
    )
    with db.read() as session:
        rows = session.exec(stmt).all()
    return [
        BoardEntry(
            source=ExposureSource.accountability,
            id=record.id or 0,
            published_at=record.published_at or record.created_at,
            title=name,
            summary=record.public_summary or "",
            category=record.kind.value,
            category_label=record.kind.label(lang),
        )
        for record, name in rows
    ]
