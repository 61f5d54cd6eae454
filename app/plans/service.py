"""Rectification plans (整改方案): the rules, queries and the approval loop.

A plan belongs to its owner org (the school or department that must fix the hazards) and
covers one or more of that org's open hazards in one campaign. It is written as a draft,
submitted once the five-in-place (五落实) are filled, approved or returned by the office, and
completed by the owner — which moves every covered hazard to `rectified` in the same
transaction.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, not_
from sqlmodel import Session, col, delete, select

from app.attachments.models import AttachmentParent
from app.attachments.service import require_attachments
from app.audit import service as audit
from app.auth.principal import Principal
from app.campaigns.models import Campaign, CampaignStatus
from app.campaigns.service import ensure_writable
from app.core import db
from app.core.errors import Conflict, Forbidden, Invalid, NotFound, field_error
from app.core.etag import check_if_match
from app.core.pagination import SortDir, keyset, parse_sort, split_page
from app.core.time import now, today
from app.events import service as events
from app.hazards.models import Hazard, HazardStatus
from app.hazards.visibility import visible_hazards
from app.orgs.models import Org, OrgKind
from app.plans.models import (
    PLAN_MACHINE,
    Plan,
    PlanAction,
    PlanEvent,
    PlanHazard,
    PlanMilestone,
    PlanProgress,
    PlanStatus,
)
from app.plans.schemas import (
    HazardBrief,
    MilestoneIn,
    MilestoneOut,
    PlanCreate,
    PlanEventOut,
    PlanPublic,
    PlanSummary,
    PlanUpdate,
    ProgressCreate,
    ProgressOut,
    ReadinessItem,
)
from app.plans.visibility import visible_plans
from app.users.models import Role

EDITABLE = (PlanStatus.draft, PlanStatus.returned)
OWNER_ACTIONS = ("submit", "complete")
OFFICE_ACTIONS = ("approve", "return")
SORT_KEYS = ("id", "deadline", "created_at", "updated_at")
# Plans without a deadline sort after every plan that has one.
NO_DEADLINE = date(9999, 12, 31)
CONTENT_FIELDS = (
    "title",
    "goal_and_tasks",
    "methods_and_measures",
    "funds_amount",
    "funds_source",
    "materials",
    "responsible_body",
    "responsible_person",
    "responsible_phone",
    "deadline",
    "requirements",
    "safety_measures",
    "contingency_plan",
)
# Which fields each five-in-place item needs; the submit error names them.
READINESS_FIELDS: dict[ReadinessItem, tuple[str, ...]] = {
    ReadinessItem.responsibility: ("responsible_body", "responsible_person", "responsible_phone"),
    ReadinessItem.measures: ("methods_and_measures",),
    ReadinessItem.funds: ("funds_amount", "funds_source"),
    ReadinessItem.deadline: ("deadline",),
    ReadinessItem.contingency: ("contingency_plan",),
}


# ---------------------------------------------------------------------------------------------
# Errors


def _not_found() -> NotFound:
    return NotFound(
        "plan.not_found",
        zh="整改方案不存在或您无权查看。",
        en="No such rectification plan, or you may not see it.",
    )


def _not_owner() -> Forbidden:
    return Forbidden(
        "plan.not_owner",
        zh="只有方案所属单位可以执行此操作。",
        en="Only the org that owns the plan may do this.",
    )


def _not_editable(status: PlanStatus) -> Conflict:
    return Conflict(
        "plan.not_editable",
        zh=f"方案状态为“{status.zh}”,只有草稿或已退回的方案可以修改。",
        en=f"A plan in status '{status.value}' cannot be edited; only drafts and returned "
        "plans can.",
    )


def _not_in_progress(status: PlanStatus) -> Conflict:
    return Conflict(
        "plan.not_approved",
        zh=f"方案状态为“{status.zh}”,只有已批准的方案可以报告进度或完成节点。",
        en=f"A plan in status '{status.value}' takes no progress; only approved plans do.",
    )


def _hazard_error(code: str, ids: list[int], zh: str, en: str, field: str) -> Invalid:
    return Invalid(
        f"plan.{code}",
        zh=f"{zh}:{ids}。",
        en=f"{en}: {ids}.",
        errors=[field_error(field, code, zh, en)],
    )


# ---------------------------------------------------------------------------------------------
# Derived values


def overdue_clause(day: date) -> ColumnElement[bool]:
    """A plan is overdue when its deadline has passed and it is not completed (never stored)."""
    return and_(
        col(Plan.deadline).is_not(None),
        col(Plan.deadline) < day,
        col(Plan.status) != PlanStatus.completed,
    )


def is_overdue(plan: Plan, day: date) -> bool:
    return plan.deadline is not None and plan.deadline < day and plan.status != PlanStatus.completed


def missing_items(plan: Plan) -> list[ReadinessItem]:
    """The five-in-place items that are still empty."""

    def empty(field: str) -> bool:
        value = getattr(plan, field)
        return value is None or (isinstance(value, str) and not value.strip())

    return [item for item, fields in READINESS_FIELDS.items() if any(empty(f) for f in fields)]


def _is_owner(principal: Principal, plan: Plan) -> bool:
    return (
        principal.kind == "user"
        and principal.role in (Role.school, Role.department)
        and principal.org_id == plan.owner_org_id
    )


def allowed_actions(principal: Principal, plan: Plan, campaign_open: bool) -> list[str]:
    if not campaign_open:
        return []
    owner = _is_owner(principal, plan)
    actions: list[str] = []
    if owner and plan.status in EDITABLE:
        actions.append("edit")
    for action in PLAN_MACHINE.actions_from(plan.status):
        if (action in OWNER_ACTIONS and owner) or (
            action in OFFICE_ACTIONS and principal.role == Role.office
        ):
            actions.append(action)
    if owner and plan.status == PlanStatus.approved:
        actions += ["progress", "milestone-done"]
    return actions


# ---------------------------------------------------------------------------------------------
# Loading and shaping


def _load(session: Session, principal: Principal, plan_id: int, *, lock: bool = False) -> Plan:
    stmt = select(Plan).where(col(Plan.id) == plan_id, visible_plans(principal))
    if lock:
        stmt = stmt.with_for_update(of=Plan)
    plan = session.exec(stmt).first()
    if plan is None:
        raise _not_found()
    return plan


def _hazard_ids(session: Session, plan_ids: Sequence[int]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {pid: [] for pid in plan_ids}
    if not plan_ids:
        return out
    rows = session.exec(
        select(col(PlanHazard.plan_id), col(PlanHazard.hazard_id))
        .where(col(PlanHazard.plan_id).in_(plan_ids))
        .order_by(col(PlanHazard.hazard_id))
    ).all()
    for plan_id, hazard_id in rows:
        out[plan_id].append(hazard_id)
    return out


def _summary_fields(plan: Plan, hazard_ids: list[int], day: date) -> dict[str, Any]:
    return {
        **plan.model_dump(),
        "hazard_ids": hazard_ids,
        "overdue": is_overdue(plan, day),
    }


def _milestones(session: Session, plan_id: int) -> Sequence[PlanMilestone]:
    return session.exec(
        select(PlanMilestone)
        .where(col(PlanMilestone.plan_id) == plan_id)
        .order_by(col(PlanMilestone.sort_order), col(PlanMilestone.id))
    ).all()


def milestone_out(milestone: PlanMilestone, day: date) -> MilestoneOut:
    return MilestoneOut.model_validate(
        {
            **milestone.model_dump(),
            "overdue": milestone.done_on is None and milestone.due_on < day,
        }
    )


def covered_hazards(session: Session, plan_id: int) -> Sequence[Hazard]:
    return session.exec(
        select(Hazard)
        .join(PlanHazard, col(PlanHazard.hazard_id) == col(Hazard.id))
        .where(col(PlanHazard.plan_id) == plan_id)
        .order_by(col(Hazard.id))
    ).all()


def progress_reports(session: Session, plan_id: int) -> Sequence[PlanProgress]:
    return session.exec(
        select(PlanProgress)
        .where(col(PlanProgress.plan_id) == plan_id)
        .order_by(col(PlanProgress.id).desc())
    ).all()


def _public(session: Session, principal: Principal, plan: Plan) -> PlanPublic:
    assert plan.id is not None
    day = today()
    hazards = covered_hazards(session, plan.id)
    latest = session.exec(
        select(PlanProgress)
        .where(col(PlanProgress.plan_id) == plan.id)
        .order_by(col(PlanProgress.id).desc())
        .limit(1)
    ).first()
    campaign = session.get(Campaign, plan.campaign_id)
    campaign_open = campaign is not None and campaign.status != CampaignStatus.closed
    return PlanPublic.model_validate(
        {
            **_summary_fields(plan, [h.id for h in hazards if h.id is not None], day),
            "hazards": [HazardBrief.model_validate(h, from_attributes=True) for h in hazards],
            "milestones": [milestone_out(m, day) for m in _milestones(session, plan.id)],
            "latest_progress": (
                ProgressOut.model_validate(latest, from_attributes=True) if latest else None
            ),
            "missing_items": missing_items(plan),
            "allowed_actions": allowed_actions(principal, plan, campaign_open),
        }
    )


# ---------------------------------------------------------------------------------------------
# Reads


@dataclass(frozen=True)
class PlanFilter:
    campaign_id: int | None = None
    owner_org_id: int | None = None
    status: PlanStatus | None = None
    overdue: bool | None = None
    hazard_id: int | None = None


def list_plans(
    principal: Principal, flt: PlanFilter, *, sort: str, cursor: str | None, limit: int
) -> tuple[list[PlanSummary], str | None]:
    key_name, direction = parse_sort(sort, SORT_KEYS)
    day = today()
    stmt = select(Plan).where(visible_plans(principal))
    if flt.campaign_id is not None:
        stmt = stmt.where(col(Plan.campaign_id) == flt.campaign_id)
    if flt.owner_org_id is not None:
        stmt = stmt.where(col(Plan.owner_org_id) == flt.owner_org_id)
    if flt.status is not None:
        stmt = stmt.where(col(Plan.status) == flt.status)
    if flt.overdue is not None:
        clause = overdue_clause(day)
        stmt = stmt.where(clause if flt.overdue else not_(clause))
    if flt.hazard_id is not None:
        stmt = stmt.where(
            col(Plan.id).in_(
                select(col(PlanHazard.plan_id)).where(col(PlanHazard.hazard_id) == flt.hazard_id)
            )
        )
    coerce: Any = None
    key: Any
    if key_name == "deadline":
        key = func.coalesce(col(Plan.deadline), NO_DEADLINE)
        coerce = date.fromisoformat
    elif key_name in ("created_at", "updated_at"):
        key = col(getattr(Plan, key_name))
        coerce = datetime.fromisoformat
    else:
        key = col(Plan.id)

    def sort_value(plan: Plan) -> tuple[Any, int]:
        assert plan.id is not None
        if key_name == "deadline":
            return plan.deadline or NO_DEADLINE, plan.id
        return getattr(plan, key_name), plan.id

    stmt = keyset(
        stmt,
        key=key,
        id_col=col(Plan.id),
        direction=direction,
        cursor=cursor,
        limit=limit,
        coerce=coerce,
    )
    with db.read() as session:
        rows = session.exec(stmt).all()
        page, next_cursor = split_page(rows, limit, sort_value)
        ids = _hazard_ids(session, [p.id for p in page if p.id is not None])
        items = [
            PlanSummary.model_validate(_summary_fields(p, ids.get(p.id or 0, []), day))
            for p in page
        ]
    return items, next_cursor


def get(principal: Principal, plan_id: int) -> PlanPublic:
    with db.read() as session:
        return _public(session, principal, _load(session, principal, plan_id))


def list_progress(
    principal: Principal, plan_id: int, *, cursor: str | None, limit: int
) -> tuple[list[ProgressOut], str | None]:
    with db.read() as session:
        _load(session, principal, plan_id)
        stmt = keyset(
            select(PlanProgress).where(col(PlanProgress.plan_id) == plan_id),
            key=col(PlanProgress.id),
            id_col=col(PlanProgress.id),
            direction=SortDir.desc,
            cursor=cursor,
            limit=limit,
        )
        rows = session.exec(stmt).all()
    page, next_cursor = split_page(rows, limit, lambda p: (p.id, p.id))
    return [ProgressOut.model_validate(p, from_attributes=True) for p in page], next_cursor


def list_events(
    principal: Principal, plan_id: int, *, cursor: str | None, limit: int
) -> tuple[list[PlanEventOut], str | None]:
    with db.read() as session:
        _load(session, principal, plan_id)
        stmt = keyset(
            select(PlanEvent).where(col(PlanEvent.plan_id) == plan_id),
            key=col(PlanEvent.id),
            id_col=col(PlanEvent.id),
            direction=SortDir.asc,
            cursor=cursor,
            limit=limit,
        )
        rows = session.exec(stmt).all()
    page, next_cursor = split_page(rows, limit, lambda e: (e.id, e.id))
    return [PlanEventOut.model_validate(e, from_attributes=True) for e in page], next_cursor


# ---------------------------------------------------------------------------------------------
# Writes: helpers


def _owner_org(session: Session, principal: Principal, requested: int | None) -> Org:
    """The caller's own org; the office names any school or department."""
    if principal.role == Role.office:
        if requested is None:
            raise Invalid(
                "plan.owner_required",
                zh="办公室编制方案时必须指定所属单位(owner_org_id)。",
                en="The office must name the owning org (owner_org_id).",
                errors=[
                    field_error("body.owner_org_id", "missing", "必填", "required"),
                ],
            )
        owner_id = requested
    else:
        if requested is not None and requested != principal.org_id:
            raise Forbidden(
                "plan.owner_forbidden",
                zh="只能为本单位编制整改方案。",
                en="You may only write plans for your own org.",
            )
        owner_id = principal.org_id or 0
    org = session.get(Org, owner_id)
    if org is None or org.kind not in (OrgKind.school, OrgKind.department):
        raise Invalid(
            "plan.bad_owner",
            zh="方案所属单位必须是已存在的学校或部门。",
            en="The plan's owner must be an existing school or department.",
            errors=[field_error("body.owner_org_id", "bad_owner", "所属单位无效", "invalid owner")],
        )
    return org


def _check_hazards(
    session: Session,
    principal: Principal,
    *,
    owner_org_id: int,
    campaign_id: int,
    hazard_ids: list[int],
    plan_id: int | None,
) -> None:
    """Every hazard is visible to the caller, the owner's to fix, in the plan's campaign, still
    open, and not already covered by another plan in progress."""
    field = "body.hazard_ids"
    # Lock the hazards (in id order, so two writers never deadlock): two plans racing to
    # cover the same hazard are serialised here.
    hazards = session.exec(
        select(Hazard)
        .where(col(Hazard.id).in_(hazard_ids))
        .order_by(col(Hazard.id))
        .with_for_update()
    ).all()
    visible = set(
        session.exec(
            select(col(Hazard.id)).where(col(Hazard.id).in_(hazard_ids), visible_hazards(principal))
        ).all()
    )
    unknown = sorted(set(hazard_ids) - visible)
    if unknown:
        raise _hazard_error(
            "hazard_unknown", unknown, "隐患不存在或无权查看", "Unknown hazards", field
        )
    checks: list[tuple[str, str, str, Any]] = [
        (
            "hazard_not_owned",
            "这些隐患的责任单位不是方案所属单位",
            "These hazards are not the owner's to fix",
            lambda h: h.responsible_org_id != owner_org_id,
        ),
        (
            "hazard_other_campaign",
            "这些隐患不属于方案所在的专项行动",
            "These hazards belong to another campaign",
            lambda h: h.campaign_id != campaign_id,
        ),
        (
            "hazard_closed",
            "这些隐患已销号或已作废",
            "These hazards are closed or void",
            lambda h: h.status in (HazardStatus.closed, HazardStatus.void),
        ),
    ]
    for code, zh, en, bad in checks:
        ids = sorted(h.id for h in hazards if bad(h) and h.id is not None)
        if ids:
            raise _hazard_error(code, ids, zh, en, field)
    stmt = (
        select(col(PlanHazard.hazard_id), col(Plan.id))
        .join(Plan, col(Plan.id) == col(PlanHazard.plan_id))
        .where(
            col(PlanHazard.hazard_id).in_(hazard_ids),
            col(Plan.status) != PlanStatus.completed,
        )
    )
    if plan_id is not None:
        stmt = stmt.where(col(Plan.id) != plan_id)
    taken = session.exec(stmt).all()
    if taken:
        ids = sorted({h for h, _ in taken})
        raise Conflict(
            "plan.hazard_already_covered",
            zh=f"隐患 {ids} 已由其他未完成的整改方案覆盖。",
            en=f"Hazards {ids} are already covered by another plan that is not completed.",
            errors=[
                field_error(field, "hazard_already_covered", "已被其他方案覆盖", "already covered")
            ],
        )


def _replace_hazards(session: Session, plan_id: int, hazard_ids: list[int]) -> None:
    # Import here: the hazard service may itself ask this module about plans.
    from app.hazards import service as hazard_service

    before = set(_hazard_ids(session, [plan_id])[plan_id])
    session.exec(delete(PlanHazard).where(col(PlanHazard.plan_id) == plan_id))
    session.add_all(PlanHazard(plan_id=plan_id, hazard_id=h) for h in hazard_ids)
    # The hazards the plan starts or stops covering show other plan ids now.
    hazard_service.plans_changed(session, before.symmetric_difference(hazard_ids))


def _replace_milestones(session: Session, plan_id: int, milestones: list[MilestoneIn]) -> None:
    session.exec(delete(PlanMilestone).where(col(PlanMilestone.plan_id) == plan_id))
    session.add_all(
        PlanMilestone(plan_id=plan_id, sort_order=i, **m.model_dump())
        for i, m in enumerate(milestones)
    )


def _timeline(
    session: Session,
    principal: Principal,
    plan: Plan,
    action: PlanAction,
    *,
    from_status: PlanStatus | None = None,
    comment: str | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    assert plan.id is not None
    session.add(
        PlanEvent(
            plan_id=plan.id,
            action=action,
            actor=principal.actor,
            actor_org_id=principal.org_id,
            from_status=from_status,
            to_status=plan.status if from_status is not None else None,
            comment=comment,
            data=audit.plain(data or {}),
        )
    )


def _emit(
    session: Session, principal: Principal, plan: Plan, type: str, payload: dict[str, Any]
) -> None:
    assert plan.id is not None
    owner = session.get(Org, plan.owner_org_id)
    events.emit(
        session,
        principal,
        type=type,
        subject_type="plan",
        subject_id=plan.id,
        campaign_id=plan.campaign_id,
        school_id=plan.owner_org_id if owner and owner.kind == OrgKind.school else None,
        org_id=plan.owner_org_id,
        payload={"title": plan.title, **payload},
    )


def _touch(plan: Plan) -> None:
    plan.updated_at = now()
    plan.version += 1


# ---------------------------------------------------------------------------------------------
# Writes


def create(principal: Principal, data: PlanCreate) -> PlanPublic:
    with db.write() as session:
        ensure_writable(session, data.campaign_id)
        owner = _owner_org(session, principal, data.owner_org_id)
        assert owner.id is not None
        _check_hazards(
            session,
            principal,
            owner_org_id=owner.id,
            campaign_id=data.campaign_id,
            hazard_ids=data.hazard_ids,
            plan_id=None,
        )
        plan = Plan(
            campaign_id=data.campaign_id,
            owner_org_id=owner.id,
            created_by=principal.actor,
            **data.model_dump(include=set(CONTENT_FIELDS)),
        )
        session.add(plan)
        session.flush()
        assert plan.id is not None
        _replace_hazards(session, plan.id, data.hazard_ids)
        _replace_milestones(session, plan.id, data.milestones)
        _timeline(session, principal, plan, PlanAction.create, data={"hazard_ids": data.hazard_ids})
        audit.record(
            session,
            principal,
            action="plan.create",
            object_type="plan",
            object_id=plan.id,
            changes=data.model_dump(exclude_none=True) | {"owner_org_id": owner.id},
        )
        _emit(session, principal, plan, "plan.created", {"hazard_ids": data.hazard_ids})
        session.flush()
        return _public(session, principal, plan)


def update(
    principal: Principal, plan_id: int, data: PlanUpdate, if_match: str | None
) -> PlanPublic:
    changes: dict[str, Any] = data.model_dump(exclude_unset=True)
    with db.write() as session:
        plan = _load(session, principal, plan_id, lock=True)
        if not _is_owner(principal, plan):
            raise _not_owner()
        check_if_match(if_match, plan.version)
        ensure_writable(session, plan.campaign_id)
        if plan.status not in EDITABLE:
            raise _not_editable(plan.status)
        if data.hazard_ids is not None:
            _check_hazards(
                session,
                principal,
                owner_org_id=plan.owner_org_id,
                campaign_id=plan.campaign_id,
                hazard_ids=data.hazard_ids,
                plan_id=plan_id,
            )
            _replace_hazards(session, plan_id, data.hazard_ids)
        if data.milestones is not None:
            _replace_milestones(session, plan_id, data.milestones)
        before = plan.model_dump()
        scalars = {k: v for k, v in changes.items() if k in CONTENT_FIELDS}
        for key, value in scalars.items():
            setattr(plan, key, value)
        _touch(plan)
        session.add(plan)
        _timeline(session, principal, plan, PlanAction.edit, data={"fields": sorted(changes)})
        audit.record(
            session,
            principal,
            action="plan.update",
            object_type="plan",
            object_id=plan_id,
            changes={
                **audit.diff(before, scalars),
                **{k: v for k, v in changes.items() if k not in scalars},
            },
        )
        session.flush()
        return _public(session, principal, plan)


def _incomplete(items: list[ReadinessItem]) -> Invalid:
    return Invalid(
        "plan.incomplete",
        zh="方案未做到“五落实”,缺少:" + "、".join(i.zh for i in items) + "。",
        en="The plan lacks these of the five-in-place: " + ", ".join(i.en for i in items) + ".",
        errors=[
            field_error(
                f"body.{f}", "required_for_submit", f"提交前必填({i.zh})", f"required ({i.en})"
            )
            for i in items
            for f in READINESS_FIELDS[i]
        ],
    )


def transition(
    principal: Principal,
    plan_id: int,
    action: str,
    *,
    comment: str | None = None,
    if_match: str | None = None,
) -> PlanPublic:
    """submit (owner), approve / return (office), complete (owner)."""
    with db.write() as session:
        plan = _load(session, principal, plan_id, lock=True)
        if action in OWNER_ACTIONS and not _is_owner(principal, plan):
            raise _not_owner()
        if action in OFFICE_ACTIONS and principal.role != Role.office:
            raise Forbidden(
                "plan.office_only",
                zh="只有领导小组办公室可以审批整改方案。",
                en="Only the office approves or returns plans.",
            )
        check_if_match(if_match, plan.version, required=False)
        ensure_writable(session, plan.campaign_id)
        source = plan.status
        target = PLAN_MACHINE.target(action, source)
        stamp = now()
        payload: dict[str, Any] = {"from": source, "to": target}
        if action == "submit":
            missing = missing_items(plan)
            if missing:
                raise _incomplete(missing)
            plan.submitted_at = stamp
        elif action == "approve":
            plan.approved_at = stamp
            plan.review_comment = comment
        elif action == "return":
            plan.returned_at = stamp
            plan.review_comment = comment
        elif action == "complete":
            # Import here: the hazard service may itself ask this module about plans.
            from app.hazards import service as hazard_service

            # The hazards move while the plan is still `approved`, so the hazard service sees
            # an approved plan behind the change.
            hazard_ids = _hazard_ids(session, [plan_id])[plan_id]
            moved = hazard_service.rectify_by_plan(
                session, principal, plan_id=plan_id, hazard_ids=hazard_ids
            )
            payload["rectified_hazard_ids"] = moved
            plan.completed_at = stamp
            plan.progress_percent = 100
        plan.status = target
        plan.updated_at = stamp
        plan.version += 1
        session.add(plan)
        _timeline(
            session,
            principal,
            plan,
            PlanAction(action),
            from_status=source,
            comment=comment,
            data={k: v for k, v in payload.items() if k not in ("from", "to")},
        )
        audit.record(
            session,
            principal,
            action=f"plan.{action}",
            object_type="plan",
            object_id=plan_id,
            changes={"status": [source, plan.status], "comment": comment, **payload},
        )
        if comment:
            payload["comment"] = comment
        past = {"submit": "submitted", "approve": "approved", "return": "returned"}
        _emit(session, principal, plan, f"plan.{past.get(action, 'completed')}", payload)
        session.flush()
        return _public(session, principal, plan)


def add_progress(
    principal: Principal, plan_id: int, data: ProgressCreate, if_match: str | None
) -> ProgressOut:
    with db.write() as session:
        plan = _load(session, principal, plan_id, lock=True)
        if not _is_owner(principal, plan):
            raise _not_owner()
        check_if_match(if_match, plan.version, required=False)
        ensure_writable(session, plan.campaign_id)
        if plan.status != PlanStatus.approved:
            raise _not_in_progress(plan.status)
        require_attachments(session, data.attachment_ids, AttachmentParent.plan, plan_id)
        report = PlanProgress(
            plan_id=plan_id,
            actor=principal.actor,
            actor_org_id=principal.org_id,
            text=data.text,
            percent=data.percent,
            attachment_ids=data.attachment_ids,
        )
        session.add(report)
        before = plan.progress_percent
        plan.progress_percent = data.percent
        _touch(plan)
        session.add(plan)
        session.flush()
        _timeline(
            session,
            principal,
            plan,
            PlanAction.progress,
            comment=data.text[:2000],
            data={"progress_id": report.id, "percent": data.percent},
        )
        audit.record(
            session,
            principal,
            action="plan.progress",
            object_type="plan",
            object_id=plan_id,
            changes={
                "progress_id": report.id,
                "progress_percent": [before, data.percent],
                "attachment_ids": data.attachment_ids,
            },
        )
        return ProgressOut.model_validate(report, from_attributes=True)


def tick_milestone(
    principal: Principal,
    plan_id: int,
    milestone_id: int,
    done_on: date | None,
    if_match: str | None,
) -> PlanPublic:
    day = today()
    done = done_on or day
    if done > day:
        raise Invalid(
            "plan.milestone_future",
            zh="完成日期不能晚于今天。",
            en="The done date cannot be in the future.",
            errors=[field_error("body.done_on", "in_future", "不能晚于今天", "in the future")],
        )
    with db.write() as session:
        plan = _load(session, principal, plan_id, lock=True)
        milestone = session.exec(
            select(PlanMilestone).where(
                col(PlanMilestone.id) == milestone_id, col(PlanMilestone.plan_id) == plan_id
            )
        ).first()
        if milestone is None:
            raise NotFound(
                "plan.milestone_not_found",
                zh="方案中没有这个时间节点。",
                en="The plan has no such milestone.",
            )
        if not _is_owner(principal, plan):
            raise _not_owner()
        check_if_match(if_match, plan.version, required=False)
        ensure_writable(session, plan.campaign_id)
        if plan.status != PlanStatus.approved:
            raise _not_in_progress(plan.status)
        if milestone.done_on is not None:
            raise Conflict(
                "plan.milestone_done",
                zh="该时间节点已完成。",
                en="The milestone is already done.",
            )
        milestone.done_on = done
        session.add(milestone)
        _touch(plan)
        session.add(plan)
        _timeline(
            session,
            principal,
            plan,
            PlanAction.milestone_done,
            data={"milestone_id": milestone_id, "title": milestone.title, "done_on": done},
        )
        audit.record(
            session,
            principal,
            action="plan.milestone_done",
            object_type="plan",
            object_id=plan_id,
            changes={"milestone_id": milestone_id, "done_on": [None, done]},
        )
        session.flush()
        return _public(session, principal, plan)


def export_data(
    principal: Principal, plan_id: int
) -> tuple[PlanPublic, Sequence[PlanProgress], str, str]:
    """Everything the printable document shows: the plan, all progress reports, the owner's
    and the campaign's names."""
    with db.read() as session:
        plan = _load(session, principal, plan_id)
        public = _public(session, principal, plan)
        reports = progress_reports(session, plan_id)
        owner = session.get(Org, plan.owner_org_id)
        campaign = session.get(Campaign, plan.campaign_id)
    return (
        public,
        reports,
        owner.name if owner else "",
        campaign.name if campaign else "",
    )
