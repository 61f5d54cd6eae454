"""Cases (案件): filing, the status machine, listed supervision (挂牌督办) with progress
reports, public exposure (公开曝光), and minors' personal data.

Rules that shape this module:
* every read starts from `visible_cases`; `depth` decides full or sanitized;
* victims' personal data leaves the server only through `_victims_out` with `unmasked=True`,
  and every such read is audited in its own committed transaction before the data is returned;
* audit rows record victim counts, never names; event payloads carry codes and statuses only.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_
from sqlmodel import Session, col, delete, select

from app.audit import service as audit
from app.auth.principal import Principal
from app.campaigns.service import ensure_writable
from app.cases.models import (
    CASE_MACHINE,
    SOLVED_OR_LATER,
    UNSOLVED_STATUSES,
    Case,
    CaseAction,
    CaseCodeCounter,
    CaseEvent,
    CaseExposure,
    CaseProgressReport,
    CaseStatus,
    CaseSupervision,
    CaseType,
    CaseVictim,
)
from app.cases.privacy import (
    find_personal_data,
    mask_contact,
    mask_id_number,
    mask_name,
    redact,
)
from app.cases.schemas import (
    CaseCreate,
    CaseDetail,
    CaseEventOut,
    CaseListItem,
    CaseSanitized,
    CaseUpdate,
    DelistIn,
    ExposeIn,
    ExposureOut,
    ExtendIn,
    ProgressIn,
    ProgressOut,
    StatusCount,
    StatusCounts,
    SupervisionIn,
    SupervisionOut,
    VictimIn,
    VictimOut,
    VictimsOut,
    WithdrawIn,
)
from app.cases.visibility import Depth, depth, handles, may_read_victims, visible_cases
from app.core import codes, db
from app.core.errors import Conflict, Forbidden, Invalid, NotFound, field_error
from app.core.etag import check_if_match
from app.core.pagination import SortDir, keyset, split_page
from app.core.time import local_date, local_zone, now, today
from app.events import service as events
from app.orgs.models import Org, OrgKind
from app.public.board import BoardCursor, BoardEntry, ExposureSource, after_cursor

CODE_PREFIX = "AJ"
SORT_KEYS = ("occurred_at", "filed_at")


# ---------------------------------------------------------------------------------------------
# Errors


def _not_found() -> NotFound:
    return NotFound(
        "case.not_found", zh="案件不存在或您无权查看。", en="No such case, or you may not see it."
    )


def _details_forbidden() -> Forbidden:
    return Forbidden(
        "case.details_forbidden",
        zh="您只能查看该案件的脱敏概况。",
        en="You may only see a sanitized overview of this case.",
    )


def _not_handler() -> Forbidden:
    return Forbidden(
        "case.not_handling_org",
        zh="只有承办该案件的公安机关可以执行此操作。",
        en="Only the police org handling the case may do this.",
    )


def _personal_data(code: str, fields: list[str]) -> Invalid:
    zh = "文本含有个人信息(受害人姓名、身份证号、联系方式或手机号),请脱敏后再提交。"
    en = (
        "The text contains personal data (a victim's name, an ID number, a contact or a "
        "mobile number); remove it and try again."
    )
    return Invalid(
        code,
        zh=zh,
        en=en,
        errors=[
            field_error(f, "personal_data", "含有个人信息", "contains personal data")
            for f in fields
        ],
    )


# ---------------------------------------------------------------------------------------------
# Loading


def _load(session: Session, principal: Principal, case_id: int, *, lock: bool = False) -> Case:
    stmt = select(Case).where(col(Case.id) == case_id, visible_cases(principal))
    if lock:
        stmt = stmt.with_for_update()
    case = session.exec(stmt).first()
    if case is None:
        raise _not_found()
    return case


def _load_full(session: Session, principal: Principal, case_id: int, *, lock: bool = False) -> Case:
    case = _load(session, principal, case_id, lock=lock)
    if depth(principal, case) != Depth.full:
        raise _details_forbidden()
    return case


def _load_handled(session: Session, principal: Principal, case_id: int) -> Case:
    case = _load(session, principal, case_id, lock=True)
    if not handles(principal, case):
        raise _not_handler()
    return case


def _active_supervision(
    session: Session, case_id: int, *, lock: bool = False
) -> CaseSupervision | None:
    stmt = select(CaseSupervision).where(
        col(CaseSupervision.case_id) == case_id, col(CaseSupervision.delisted_at).is_(None)
    )
    if lock:
        stmt = stmt.with_for_update()
    return session.exec(stmt).first()


def _supervision(session: Session, case_id: int) -> CaseSupervision | None:
    return session.exec(
        select(CaseSupervision).where(col(CaseSupervision.case_id) == case_id)
    ).first()


def _current_exposure(session: Session, case_id: int) -> CaseExposure | None:
    return session.exec(
        select(CaseExposure).where(
            col(CaseExposure.case_id) == case_id, col(CaseExposure.withdrawn_at).is_(None)
        )
    ).first()


def _victims(session: Session, case_id: int) -> Sequence[CaseVictim]:
    return session.exec(
        select(CaseVictim).where(col(CaseVictim.case_id) == case_id).order_by(col(CaseVictim.id))
    ).all()


# ---------------------------------------------------------------------------------------------
# Derived: overdue supervision


def overdue_reasons(sup: CaseSupervision | None, status: CaseStatus, day: date) -> list[Any]:
    """Why an active supervision is overdue: the deadline to solve passed while the case is
    unsolved, or the police missed a progress report. Empty when not overdue."""
    if sup is None or sup.delisted_at is not None:
        return []
    reasons: list[Any] = []
    if status in UNSOLVED_STATUSES and sup.solve_deadline < day:
        reasons.append("solve_deadline_passed")
    if sup.next_report_due < day:
        reasons.append("progress_report_missed")
    return reasons


def _overdue_clause(day: date) -> ColumnElement[bool]:
    return exists().where(
        col(CaseSupervision.case_id) == col(Case.id),
        col(CaseSupervision.delisted_at).is_(None),
        or_(
            and_(
                col(Case.status).in_(UNSOLVED_STATUSES),
                col(CaseSupervision.solve_deadline) < day,
            ),
            col(CaseSupervision.next_report_due) < day,
        ),
    )


def _supervised_clause() -> ColumnElement[bool]:
    return exists().where(
        col(CaseSupervision.case_id) == col(Case.id), col(CaseSupervision.delisted_at).is_(None)
    )


# ---------------------------------------------------------------------------------------------
# Shaping


def _supervision_out(sup: CaseSupervision, status: CaseStatus, day: date) -> SupervisionOut:
    reasons = overdue_reasons(sup, status, day)
    return SupervisionOut.model_validate(
        {
            **sup.model_dump(),
            "active": sup.delisted_at is None,
            "overdue": bool(reasons),
            "overdue_reasons": reasons,
        }
    )


def _victims_out(case_id: int, victims: Sequence[CaseVictim], *, unmasked: bool) -> VictimsOut:
    if unmasked:
        items = [VictimOut.model_validate({**v.model_dump(), "masked": False}) for v in victims]
    else:
        items = [
            VictimOut(
                id=v.id or 0,
                name=mask_name(v.name),
                id_number=mask_id_number(v.id_number),
                contact=mask_contact(v.contact),
                age=v.age,
                note=None,
                masked=True,
            )
            for v in victims
        ]
    return VictimsOut(case_id=case_id, masked=not unmasked, items=items)


def _list_item_fields(
    case: Case, sup: CaseSupervision | None, exposed: bool, day: date
) -> dict[str, Any]:
    active = sup if sup is not None and sup.delisted_at is None else None
    return {
        **case.model_dump(),
        "supervised": active is not None,
        "solve_deadline": active.solve_deadline if active else None,
        "overdue": bool(overdue_reasons(active, case.status, day)),
        "exposed": exposed,
    }


def _sanitized(case: Case) -> CaseSanitized:
    assert case.id is not None
    return CaseSanitized(
        id=case.id,
        code=case.code,
        case_type=case.case_type,
        status=case.status,
        occurred_on=local_date(case.occurred_at),
        school_id=case.school_id,
        sanitized_summary=case.sanitized_summary,
        version=case.version,
    )


def _detail(
    session: Session, principal: Principal, case: Case, *, unmasked: bool = False
) -> CaseDetail:
    """`unmasked`: the victims list in clear (the caller audits the read). The police's free
    text is redacted for whoever may not read victims at all."""
    assert case.id is not None
    day = today()
    sup = _supervision(session, case.id)
    exposure = _current_exposure(session, case.id)
    victims_ = _victims(session, case.id)
    fields = _list_item_fields(case, sup, exposure is not None, day)
    if not may_read_victims(principal, case):
        fields["summary"] = redact(case.summary, victims_)
        fields["judgement_outcome"] = redact(case.judgement_outcome, victims_)
    return CaseDetail.model_validate(
        {
            **fields,
            "supervision": _supervision_out(sup, case.status, day) if sup else None,
            "exposure": ExposureOut.model_validate(exposure) if exposure else None,
            "victims": _victims_out(case.id, victims_, unmasked=unmasked),
            "actions": CASE_MACHINE.actions_from(case.status),
        }
    )


def _audit_victims_read(
    principal: Principal, case_id: int, victim_ids: list[int], via: str
) -> None:
    """Its own transaction, committed before the data goes out: a read that cannot be
    recorded is not served."""
    with db.write() as session:
        audit.record(
            session,
            principal,
            action="case.victims_read",
            object_type="case",
            object_id=case_id,
            changes={"victim_ids": victim_ids, "via": via},
        )


# ---------------------------------------------------------------------------------------------
# Timeline, audit, events


def _timeline(
    session: Session,
    principal: Principal,
    case: Case,
    action: CaseAction,
    *,
    from_status: CaseStatus | None = None,
    to_status: CaseStatus | None = None,
    comment: str | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    assert case.id is not None
    session.add(
        CaseEvent(
            case_id=case.id,
            action=action,
            actor=principal.actor,
            actor_org_id=principal.org_id,
            from_status=from_status,
            to_status=to_status,
            comment=comment,
            data=audit.plain(data or {}),
        )
    )


def _emit(session: Session, principal: Principal, case: Case, type: str, **payload: Any) -> None:
    assert case.id is not None
    events.emit(
        session,
        principal,
        type=type,
        subject_type="case",
        subject_id=case.id,
        campaign_id=case.campaign_id,
        school_id=case.school_id,
        org_id=case.handling_org_id,
        audience="cases",
        payload={"code": case.code, "case_type": case.case_type, "status": case.status, **payload},
    )


# ---------------------------------------------------------------------------------------------
# Checks


def _check_school(session: Session, school_id: int | None) -> None:
    if school_id is None:
        return
    org = session.get(Org, school_id)
    if org is None or org.kind != OrgKind.school:
        raise Invalid(
            "case.unknown_school",
            zh="学校不存在。",
            en="The school does not exist.",
            errors=[
                field_error("body.school_id", "unknown_school", "学校不存在", "no such school")
            ],
        )


def _check_occurred(occurred_at: datetime) -> datetime:
    if occurred_at.tzinfo is None:
        # A time without an offset is the district's local time.
        occurred_at = occurred_at.replace(tzinfo=local_zone())
    if occurred_at.year < 2000 or occurred_at > now() + timedelta(minutes=5):
        raise Invalid(
            "case.bad_occurred_at",
            zh="案发时间不能晚于现在,也不能早于2000年。",
            en="The time of occurrence cannot be in the future or before 2000.",
            errors=[
                field_error("body.occurred_at", "bad_occurred_at", "案发时间无效", "invalid time")
            ],
        )
    return occurred_at


def _check_sanitized_summary(text: str | None, victims: Sequence[CaseVictim]) -> None:
    if text and find_personal_data(text, victims):
        raise _personal_data("case.sanitized_summary_has_personal_data", ["body.sanitized_summary"])


def _victim_rows(case_id: int, victims: list[VictimIn]) -> list[CaseVictim]:
    return [
        CaseVictim(
            case_id=case_id,
            name=v.name,
            id_number=v.id_number.upper() if v.id_number else None,
            contact=v.contact,
            age=v.age,
            note=v.note,
        )
        for v in victims
    ]


# ---------------------------------------------------------------------------------------------
# Filing and editing (police)


def create(principal: Principal, data: CaseCreate) -> CaseDetail:
    """File a case (立案). The handling org is the filing officer's own org."""
    assert principal.org_id is not None
    occurred_at = _check_occurred(data.occurred_at)
    with db.write() as session:
        ensure_writable(session, data.campaign_id)
        _check_school(session, data.school_id)
        probe = _victim_rows(0, data.victims)
        _check_sanitized_summary(data.sanitized_summary, probe)
        (code,) = codes.reserve(session, CaseCodeCounter, CODE_PREFIX, today().year)
        case = Case(
            code=code,
            campaign_id=data.campaign_id,
            case_type=data.case_type,
            occurred_at=occurred_at,
            location=data.location,
            school_id=data.school_id,
            summary=data.summary,
            sanitized_summary=data.sanitized_summary,
            handling_org_id=principal.org_id,
            victim_minor_count=data.victim_minor_count,
            suspect_count=data.suspect_count,
            suspect_status=data.suspect_status,
            filed_by=principal.actor,
        )
        session.add(case)
        session.flush()
        assert case.id is not None
        session.add_all(_victim_rows(case.id, data.victims))
        _timeline(session, principal, case, CaseAction.file, to_status=CaseStatus.filed)
        audit.record(
            session,
            principal,
            action="case.create",
            object_type="case",
            object_id=case.id,
            changes={
                **data.model_dump(exclude={"victims", "summary", "sanitized_summary"}),
                "code": code,
                "victims": len(data.victims),
            },
        )
        _emit(session, principal, case, "case.filed")
        session.flush()
        return _detail(session, principal, case)


def update(
    principal: Principal, case_id: int, data: CaseUpdate, if_match: str | None
) -> CaseDetail:
    changes: dict[str, Any] = data.model_dump(exclude_unset=True, exclude={"victims"})
    with db.write() as session:
        case = _load_handled(session, principal, case_id)
        check_if_match(if_match, case.version)
        ensure_writable(session, case.campaign_id)
        if case.status == CaseStatus.closed:
            raise Conflict("case.closed", zh="案件已结案,不能修改。", en="The case is closed.")
        if "occurred_at" in changes:
            changes["occurred_at"] = _check_occurred(changes["occurred_at"])
        if "school_id" in changes:
            _check_school(session, changes["school_id"])
        old_victims = list(_victims(session, case_id))
        new_victims = _victim_rows(case_id, data.victims) if data.victims is not None else None
        # The school-facing summary must not name anyone, old list or new.
        _check_sanitized_summary(
            changes.get("sanitized_summary", case.sanitized_summary),
            old_victims + (new_victims or []),
        )
        before = case.model_dump()
        for key, value in changes.items():
            setattr(case, key, value)
        if new_victims is not None:
            session.exec(delete(CaseVictim).where(col(CaseVictim.case_id) == case_id))
            session.add_all(new_victims)
        case.updated_at = now()
        case.version += 1
        session.add(case)
        recorded = audit.diff(before, changes)
        for private in ("summary", "sanitized_summary"):
            if private in recorded:
                recorded[private] = "changed"
        if new_victims is not None:
            recorded["victims"] = [len(old_victims), len(new_victims)]
        _timeline(session, principal, case, CaseAction.edit, data={"fields": sorted(recorded)})
        audit.record(
            session,
            principal,
            action="case.update",
            object_type="case",
            object_id=case.id,
            changes=recorded,
        )
        session.flush()
        return _detail(session, principal, case)


_STAMPS = {
    "start-investigation": "investigation_started_at",
    "solve": "solved_at",
    "prosecute": "prosecuted_at",
    "judge": "judged_at",
    "close": "closed_at",
}


def transition(
    principal: Principal,
    case_id: int,
    action: str,
    *,
    comment: str | None,
    judgement_outcome: str | None = None,
    if_match: str | None,
) -> CaseDetail:
    """Move a case along `filed → investigating → solved → prosecuted → judged → closed`."""
    with db.write() as session:
        case = _load_handled(session, principal, case_id)
        check_if_match(if_match, case.version, required=False)
        ensure_writable(session, case.campaign_id)
        source = case.status
        case.status = CASE_MACHINE.target(action, source)
        stamp = now()
        setattr(case, _STAMPS[action], stamp)
        data: dict[str, Any] = {}
        if action == "judge":
            case.judgement_outcome = judgement_outcome
            data["judgement_outcome"] = judgement_outcome
        case.updated_at = stamp
        case.version += 1
        session.add(case)
        _timeline(
            session,
            principal,
            case,
            CaseAction(action),
            from_status=source,
            to_status=case.status,
            comment=comment,
            data=data,
        )
        audit.record(
            session,
            principal,
            action=f"case.{action}",
            object_type="case",
            object_id=case.id,
            changes={"status": [source, case.status], **data},
        )
        _emit(
            session, principal, case, "case.status_changed", **{"from": source, "to": case.status}
        )
        session.flush()
        return _detail(session, principal, case)


# ---------------------------------------------------------------------------------------------
# Reading


def get(principal: Principal, case_id: int) -> CaseDetail | CaseSanitized:
    """The full case for the police, office and oversight (victims unmasked for the handling
    org and oversight, and that read audited); a sanitized overview for anyone else who may
    see it."""
    with db.read() as session:
        case = _load(session, principal, case_id)
        if depth(principal, case) == Depth.sanitized:
            return _sanitized(case)
        unmasked = may_read_victims(principal, case)
        detail = _detail(session, principal, case, unmasked=unmasked)
    if unmasked:
        _audit_victims_read(principal, case_id, [v.id for v in detail.victims.items], "detail")
    return detail


def victims(principal: Principal, case_id: int) -> VictimsOut:
    """The victims of a case: unmasked (and audited) for the handling org and oversight,
    masked for the office; refused to everyone else."""
    with db.read() as session:
        case = _load_full(session, principal, case_id)
        unmasked = may_read_victims(principal, case)
        out = _victims_out(case_id, _victims(session, case_id), unmasked=unmasked)
    if unmasked:
        _audit_victims_read(principal, case_id, [v.id for v in out.items], "victims")
    return out


def timeline(
    principal: Principal, case_id: int, *, cursor: str | None, limit: int
) -> tuple[list[CaseEventOut], str | None]:
    with db.read() as session:
        case = _load_full(session, principal, case_id)
        stmt = keyset(
            select(CaseEvent).where(col(CaseEvent.case_id) == case_id),
            key=col(CaseEvent.id),
            id_col=col(CaseEvent.id),
            direction=SortDir.asc,
            cursor=cursor,
            limit=limit,
        )
        rows = session.exec(stmt).all()
        clear = may_read_victims(principal, case)
        victims_ = [] if clear else _victims(session, case_id)
    page, next_cursor = split_page(rows, limit, lambda e: (e.id, e.id))
    out = [CaseEventOut.model_validate(e) for e in page]
    if not clear:
        for event in out:
            event.comment = redact(event.comment, victims_)
            event.data = {
                k: redact(v, victims_) if isinstance(v, str) else v for k, v in event.data.items()
            }
    return out, next_cursor


@dataclass(frozen=True)
class CaseFilter:
    campaign_id: int | None = None
    status: CaseStatus | None = None
    case_type: CaseType | None = None
    school_id: int | None = None
    supervised: bool | None = None
    overdue: bool | None = None
    occurred_from: date | None = None
    occurred_to: date | None = None


def _local_midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=local_zone())


def _filtered(principal: Principal, flt: CaseFilter) -> list[ColumnElement[bool]]:
    day = today()
    where: list[ColumnElement[bool]] = [visible_cases(principal)]
    if flt.campaign_id is not None:
        where.append(col(Case.campaign_id) == flt.campaign_id)
    if flt.status is not None:
        where.append(col(Case.status) == flt.status)
    if flt.case_type is not None:
        where.append(col(Case.case_type) == flt.case_type)
    if flt.school_id is not None:
        where.append(col(Case.school_id) == flt.school_id)
    if flt.supervised is not None:
        clause = _supervised_clause()
        where.append(clause if flt.supervised else ~clause)
    if flt.overdue is not None:
        clause = _overdue_clause(day)
        where.append(clause if flt.overdue else ~clause)
    if flt.occurred_from is not None:
        where.append(col(Case.occurred_at) >= _local_midnight(flt.occurred_from))
    if flt.occurred_to is not None:
        where.append(col(Case.occurred_at) < _local_midnight(flt.occurred_to + timedelta(days=1)))
    return where


def list_cases(
    principal: Principal,
    flt: CaseFilter,
    *,
    sort: tuple[str, SortDir],
    cursor: str | None,
    limit: int,
) -> tuple[list[CaseListItem] | list[CaseSanitized], str | None]:
    """Full rows for the police, office and oversight; sanitized rows for read-only systems.
    Never victims, never the narrative summary."""
    key_name, direction = sort
    key = col(Case.occurred_at) if key_name == "occurred_at" else col(Case.filed_at)
    stmt = keyset(
        select(Case).where(*_filtered(principal, flt)),
        key=key,
        id_col=col(Case.id),
        direction=direction,
        cursor=cursor,
        limit=limit,
        coerce=datetime.fromisoformat,
    )
    with db.read() as session:
        rows = session.exec(stmt).all()
        page, next_cursor = split_page(rows, limit, lambda c: (getattr(c, key_name), c.id))
        if principal.kind == "client":
            return [_sanitized(c) for c in page], next_cursor
        ids = [c.id for c in page]
        sups = {
            s.case_id: s
            for s in session.exec(
                select(CaseSupervision).where(col(CaseSupervision.case_id).in_(ids))
            ).all()
        }
        exposed = set(
            session.exec(
                select(CaseExposure.case_id).where(
                    col(CaseExposure.case_id).in_(ids), col(CaseExposure.withdrawn_at).is_(None)
                )
            ).all()
        )
    day = today()
    return [
        CaseListItem.model_validate(_list_item_fields(c, sups.get(c.id or 0), c.id in exposed, day))
        for c in page
    ], next_cursor


def stats_by_status(principal: Principal, flt: CaseFilter) -> StatusCounts:
    """Per-status counts of the cases the caller may see (office and oversight)."""
    stmt = (
        select(col(Case.status), func.count())
        .where(*_filtered(principal, flt))
        .group_by(col(Case.status))
    )
    with db.read() as session:
        counts = dict(session.exec(stmt).all())
    items = [StatusCount(status=s, count=int(counts.get(s, 0))) for s in CaseStatus]
    return StatusCounts(items=items, total=sum(i.count for i in items))


# ---------------------------------------------------------------------------------------------
# Listed supervision (office, oversight) and progress reports (police)


def _check_supervisor_org(session: Session, org_id: int) -> None:
    org = session.get(Org, org_id)
    if org is None or org.kind == OrgKind.school:
        raise Invalid(
            "case.bad_supervising_org",
            zh="督办单位必须是已存在的办公室或部门。",
            en="The supervising org must be an existing office or department.",
            errors=[
                field_error(
                    "body.supervising_org_id", "bad_supervising_org", "督办单位无效", "invalid org"
                )
            ],
        )


def _future_deadline(deadline: date, field: str = "body.solve_deadline") -> None:
    if deadline < today():
        raise Invalid(
            "case.deadline_in_past",
            zh="侦破期限不能早于今天。",
            en="The deadline to solve cannot be in the past.",
            errors=[field_error(field, "deadline_in_past", "期限已过", "deadline in the past")],
        )


def supervise(
    principal: Principal, case_id: int, data: SupervisionIn, if_match: str | None
) -> CaseDetail:
    """List a case for supervision (挂牌督办) with a deadline to solve (限期侦破)."""
    assert principal.org_id is not None
    with db.write() as session:
        case = _load_full(session, principal, case_id, lock=True)
        check_if_match(if_match, case.version, required=False)
        ensure_writable(session, case.campaign_id)
        if case.status not in UNSOLVED_STATUSES:
            raise Conflict(
                "case.not_unsolved",
                zh="只有尚未侦破的案件可以挂牌督办。",
                en="Only an unsolved case may be put under listed supervision.",
            )
        if _supervision(session, case_id) is not None:
            raise Conflict(
                "case.already_supervised",
                zh="该案件已挂牌督办。",
                en="The case is already under listed supervision.",
            )
        supervising_org_id = data.supervising_org_id or principal.org_id
        _check_supervisor_org(session, supervising_org_id)
        _future_deadline(data.solve_deadline)
        stamp = now()
        sup = CaseSupervision(
            case_id=case_id,
            level=data.level,
            supervising_org_id=supervising_org_id,
            notice_no=data.notice_no,
            solve_deadline=data.solve_deadline,
            requirements=data.requirements,
            report_interval_days=data.report_interval_days,
            next_report_due=local_date(stamp) + timedelta(days=data.report_interval_days),
            listed_by=principal.actor,
            listed_at=stamp,
        )
        session.add(sup)
        case.version += 1
        case.updated_at = stamp
        session.add(case)
        recorded = {**data.model_dump(), "supervising_org_id": supervising_org_id}
        _timeline(session, principal, case, CaseAction.supervise, data=recorded)
        audit.record(
            session,
            principal,
            action="case.supervise",
            object_type="case",
            object_id=case_id,
            changes=recorded,
        )
        _emit(
            session,
            principal,
            case,
            "case.supervised",
            level=data.level,
            solve_deadline=data.solve_deadline,
            supervising_org_id=supervising_org_id,
        )
        session.flush()
        return _detail(session, principal, case)


def _require_active(session: Session, case_id: int) -> CaseSupervision:
    sup = _active_supervision(session, case_id, lock=True)
    if sup is None:
        raise Conflict(
            "case.not_supervised",
            zh="该案件未挂牌督办。",
            en="The case is not under listed supervision.",
        )
    return sup


def extend(principal: Principal, case_id: int, data: ExtendIn, if_match: str | None) -> CaseDetail:
    """Move the deadline to solve later; the reason stays on the timeline."""
    with db.write() as session:
        case = _load_full(session, principal, case_id, lock=True)
        check_if_match(if_match, case.version, required=False)
        ensure_writable(session, case.campaign_id)
        sup = _require_active(session, case_id)
        if case.status not in UNSOLVED_STATUSES:
            raise Conflict(
                "case.not_unsolved",
                zh="案件已侦破,无需延长侦破期限。",
                en="The case is solved; there is no deadline left to extend.",
            )
        if data.solve_deadline <= sup.solve_deadline:
            raise Invalid(
                "case.deadline_not_later",
                zh="新的侦破期限必须晚于原期限。",
                en="The new deadline must be later than the current one.",
                errors=[
                    field_error(
                        "body.solve_deadline", "not_later", "期限未延后", "deadline not later"
                    )
                ],
            )
        _future_deadline(data.solve_deadline)
        old = sup.solve_deadline
        sup.solve_deadline = data.solve_deadline
        sup.version += 1
        session.add(sup)
        case.version += 1
        case.updated_at = now()
        session.add(case)
        _timeline(
            session,
            principal,
            case,
            CaseAction.extend,
            comment=data.reason,
            data={"from": old, "to": data.solve_deadline},
        )
        audit.record(
            session,
            principal,
            action="case.supervision_extend",
            object_type="case",
            object_id=case_id,
            changes={"solve_deadline": [old, data.solve_deadline], "reason": data.reason},
        )
        _emit(
            session,
            principal,
            case,
            "case.supervision_extended",
            solve_deadline=data.solve_deadline,
        )
        session.flush()
        return _detail(session, principal, case)


def delist(principal: Principal, case_id: int, data: DelistIn, if_match: str | None) -> CaseDetail:
    """Remove listed supervision (摘牌) once the case is solved."""
    with db.write() as session:
        case = _load_full(session, principal, case_id, lock=True)
        check_if_match(if_match, case.version, required=False)
        ensure_writable(session, case.campaign_id)
        sup = _require_active(session, case_id)
        if case.status not in SOLVED_OR_LATER:
            raise Conflict(
                "case.not_solved",
                zh="案件侦破后才能摘牌。",
                en="Supervision can be removed only once the case is solved.",
            )
        stamp = now()
        sup.delisted_at = stamp
        sup.delist_reason = data.reason
        sup.version += 1
        session.add(sup)
        case.version += 1
        case.updated_at = stamp
        session.add(case)
        _timeline(session, principal, case, CaseAction.delist, comment=data.reason)
        audit.record(
            session,
            principal,
            action="case.delist",
            object_type="case",
            object_id=case_id,
            changes={"reason": data.reason},
        )
        _emit(session, principal, case, "case.delisted")
        session.flush()
        return _detail(session, principal, case)


def report_progress(principal: Principal, case_id: int, data: ProgressIn) -> ProgressOut:
    """A progress report by the handling police on a supervised case; the next one is due
    `report_interval_days` after today."""
    with db.write() as session:
        case = _load_handled(session, principal, case_id)
        ensure_writable(session, case.campaign_id)
        sup = _require_active(session, case_id)
        assert sup.id is not None
        stamp = now()
        report = CaseProgressReport(
            case_id=case_id,
            supervision_id=sup.id,
            text=data.text,
            at=stamp,
            reported_by=principal.actor,
            reporter_org_id=principal.org_id,
        )
        session.add(report)
        sup.last_report_at = stamp
        sup.next_report_due = local_date(stamp) + timedelta(days=sup.report_interval_days)
        sup.version += 1
        session.add(sup)
        session.flush()
        _timeline(session, principal, case, CaseAction.progress, data={"report_id": report.id})
        audit.record(
            session,
            principal,
            action="case.progress_report",
            object_type="case",
            object_id=case_id,
            changes={"report_id": report.id, "next_report_due": sup.next_report_due},
        )
        return ProgressOut.model_validate(report)


def list_progress(
    principal: Principal, case_id: int, *, cursor: str | None, limit: int
) -> tuple[list[ProgressOut], str | None]:
    with db.read() as session:
        case = _load_full(session, principal, case_id)
        stmt = keyset(
            select(CaseProgressReport).where(col(CaseProgressReport.case_id) == case_id),
            key=col(CaseProgressReport.id),
            id_col=col(CaseProgressReport.id),
            direction=SortDir.desc,
            cursor=cursor,
            limit=limit,
        )
        rows = session.exec(stmt).all()
        clear = may_read_victims(principal, case)
        victims_ = [] if clear else _victims(session, case_id)
    page, next_cursor = split_page(rows, limit, lambda r: (r.id, r.id))
    out = [ProgressOut.model_validate(r) for r in page]
    if not clear:
        for report in out:
            report.text = redact(report.text, victims_) or ""
    return out, next_cursor


# ---------------------------------------------------------------------------------------------
# Public exposure (office)


def expose(principal: Principal, case_id: int, data: ExposeIn, if_match: str | None) -> CaseDetail:
    """Publish a sanitized title and summary of a solved case on the public board. Text with
    any victim's name, ID number or contact, or anything shaped like an ID number or a mobile
    number, is refused."""
    with db.write() as session:
        case = _load_full(session, principal, case_id, lock=True)
        check_if_match(if_match, case.version, required=False)
        ensure_writable(session, case.campaign_id)
        victims_ = _victims(session, case_id)
        offending = [
            f"body.{name}"
            for name, text in (("title", data.title), ("summary", data.summary))
            if find_personal_data(text, victims_)
        ]
        if offending:
            raise _personal_data("case.exposure_has_personal_data", offending)
        if case.status not in SOLVED_OR_LATER:
            raise Conflict(
                "case.not_solved",
                zh="案件侦破后才能公开曝光。",
                en="A case can be exposed only once it is solved.",
            )
        if _current_exposure(session, case_id) is not None:
            raise Conflict(
                "case.already_exposed", zh="该案件已公开曝光。", en="The case is already exposed."
            )
        exposure = CaseExposure(
            case_id=case_id, title=data.title, summary=data.summary, published_by=principal.actor
        )
        session.add(exposure)
        case.version += 1
        case.updated_at = now()
        session.add(case)
        session.flush()
        _timeline(session, principal, case, CaseAction.expose, data={"exposure_id": exposure.id})
        audit.record(
            session,
            principal,
            action="case.expose",
            object_type="case",
            object_id=case_id,
            changes={"exposure_id": exposure.id, "title": data.title, "summary": data.summary},
        )
        _emit(session, principal, case, "case.exposed", exposure_id=exposure.id)
        session.flush()
        return _detail(session, principal, case)


def withdraw_exposure(
    principal: Principal, case_id: int, data: WithdrawIn, if_match: str | None
) -> CaseDetail:
    """Take a case off the public board."""
    with db.write() as session:
        case = _load_full(session, principal, case_id, lock=True)
        check_if_match(if_match, case.version, required=False)
        ensure_writable(session, case.campaign_id)
        exposure = _current_exposure(session, case_id)
        if exposure is None:
            raise Conflict(
                "case.not_exposed", zh="该案件未公开曝光。", en="The case is not exposed."
            )
        stamp = now()
        exposure.withdrawn_at = stamp
        exposure.withdrawn_by = principal.actor
        exposure.withdraw_reason = data.reason
        session.add(exposure)
        case.version += 1
        case.updated_at = stamp
        session.add(case)
        _timeline(
            session,
            principal,
            case,
            CaseAction.withdraw_exposure,
            comment=data.reason,
            data={"exposure_id": exposure.id},
        )
        audit.record(
            session,
            principal,
            action="case.expose_withdraw",
            object_type="case",
            object_id=case_id,
            changes={"exposure_id": exposure.id, "reason": data.reason},
        )
        _emit(session, principal, case, "case.exposure_withdrawn", exposure_id=exposure.id)
        session.flush()
        return _detail(session, principal, case)


def public_exposures(after: BoardCursor | None, limit: int, lang: str) -> list[BoardEntry]:
    """The board's case source: current exposures, newest first. Only the checked title and
    summary and the case type leave; no case id, code, school or date of occurrence."""
    stmt = (
        select(CaseExposure, col(Case.case_type))
        .join(Case, col(Case.id) == col(CaseExposure.case_id))
        .where(
            col(CaseExposure.withdrawn_at).is_(None),
            after_cursor(
                col(CaseExposure.published_at), col(CaseExposure.id), ExposureSource.case, after
            ),
        )
        .order_by(col(CaseExposure.published_at).desc(), col(CaseExposure.id).desc())
        .limit(limit)
    )
    with db.read() as session:
        rows = session.exec(stmt).all()
    return [
        BoardEntry(
            source=ExposureSource.case,
            id=exposure.id or 0,
            published_at=exposure.published_at,
            title=exposure.title,
            summary=exposure.summary,
            category=case_type.value,
            category_label=case_type.label(lang),
        )
        for exposure, case_type in rows
    ]
