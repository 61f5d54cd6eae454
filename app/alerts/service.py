"""Staged alerts (分级提醒): each org's items due soon, due today or overdue, and for the office
every org's overdue items (督办). Also the job that tells subscribed systems, once, that a
hazard went overdue.

Stages, against today's local date: `due_soon` — the deadline is within
`settings.due_soon_days` (counted in working days where the item's deadline was set in working
days, e.g. a hazard with `deadline_working_days`); `due_today`; `overdue` — the deadline passed.
For the office, other orgs' overdue items appear as `escalated`.
"""

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import String, and_, cast, false, literal, null, or_, select, true, union_all
from sqlmodel import Session, col

from app.alerts.models import AlertNotice
from app.alerts.schemas import Alert, AlertKind, AlertStage
from app.audit import service as audit
from app.auth.principal import Principal
from app.campaigns.models import Campaign, CampaignStatus
from app.cases.models import UNSOLVED_STATUSES, Case, CaseSupervision, CaseType
from app.core import db
from app.core.config import get_settings
from app.core.errors import Forbidden
from app.core.pagination import SortDir, keyset, split_page
from app.core.time import add_working_days, today, working_days_between
from app.events import service as events
from app.hazards.models import OPEN_STATUSES, Hazard
from app.orgs.models import Org
from app.plans.models import Plan, PlanStatus
from app.tasks.models import DONE_STATUSES, Task, TaskAssignment
from app.users.models import Capability, Role

KINDS = list(AlertKind)
OPEN_PLAN_STATUSES = (
    PlanStatus.draft,
    PlanStatus.submitted,
    PlanStatus.approved,
    PlanStatus.returned,
)


@dataclass(frozen=True)
class Clock:
    today: date
    soon_calendar: date
    soon_working: date

    @classmethod
    def now(cls) -> "Clock":
        day = today()
        days = get_settings().due_soon_days
        return cls(day, date.fromordinal(day.toordinal() + days), add_working_days(day, days))


def _window(
    principal: Principal,
    clock: Clock,
    org_col: Any,
    deadline: Any,
    working: Any,
    stage: AlertStage | None,
    *,
    own_allowed: bool = True,
) -> Any:
    """Which rows of one kind the caller gets, for the stage asked for."""
    soon = (
        deadline <= clock.soon_calendar
        if working is None
        else or_(
            and_(working, deadline <= clock.soon_working),
            and_(~working, deadline <= clock.soon_calendar),
        )
    )
    own_stage = {
        None: soon,
        AlertStage.overdue: deadline < clock.today,
        AlertStage.due_today: deadline == clock.today,
        AlertStage.due_soon: and_(deadline > clock.today, soon),
        AlertStage.escalated: false(),
    }[stage]
    parts = []
    if own_allowed:
        parts.append(and_(org_col == principal.org_id, own_stage))
    if principal.role == Role.office and stage in (None, AlertStage.escalated):
        parts.append(and_(org_col != principal.org_id, deadline < clock.today))
    return or_(*parts) if parts else false()


def _active_campaign(campaign_col: Any, campaign_id: int | None) -> Any:
    open_campaigns = select(col(Campaign.id)).where(col(Campaign.status) != CampaignStatus.closed)
    clause = campaign_col.in_(open_campaigns)
    return and_(clause, campaign_col == campaign_id) if campaign_id is not None else clause


def _row(
    kind: AlertKind,
    object_type: str,
    object_id: Any,
    code: Any,
    title: Any,
    org_id: Any,
    campaign_id: Any,
    deadline: Any,
    working: Any,
    uid: Any,
) -> Any:
    """One kind's SELECT, every column named: the union takes its names from whichever part
    comes first."""
    return select(
        literal(kind.value).label("kind"),
        literal(object_type).label("object_type"),
        object_id.label("object_id"),
        code.label("code"),
        title.label("title"),
        org_id.label("org_id"),
        campaign_id.label("campaign_id"),
        deadline.label("deadline"),
        working.label("working"),
        uid.label("uid"),
    )


def _statement(
    principal: Principal,
    clock: Clock,
    kinds: list[AlertKind],
    stage: AlertStage | None,
    campaign_id: int | None,
) -> Any:
    police = principal.can(Capability.cases)
    parts: list[Any] = []
    index = {kind: i for i, kind in enumerate(KINDS)}

    def uid(id_col: Any, kind: AlertKind) -> Any:
        return id_col * len(KINDS) + index[kind]

    if AlertKind.hazard in kinds:
        working = col(Hazard.deadline_working_days).is_not(None)
        parts.append(
            _row(
                AlertKind.hazard,
                "hazard",
                col(Hazard.id),
                col(Hazard.code),
                col(Hazard.title),
                col(Hazard.responsible_org_id),
                col(Hazard.campaign_id),
                col(Hazard.deadline),
                working,
                uid(col(Hazard.id), AlertKind.hazard),
            ).where(
                col(Hazard.status).in_(OPEN_STATUSES),
                col(Hazard.deadline).is_not(None),
                _active_campaign(col(Hazard.campaign_id), campaign_id),
                _window(
                    principal,
                    clock,
                    col(Hazard.responsible_org_id),
                    col(Hazard.deadline),
                    working,
                    stage,
                ),
            )
        )
    if AlertKind.plan in kinds:
        parts.append(
            _row(
                AlertKind.plan,
                "plan",
                col(Plan.id),
                cast(null(), String(20)),
                col(Plan.title),
                col(Plan.owner_org_id),
                col(Plan.campaign_id),
                col(Plan.deadline),
                literal(False),
                uid(col(Plan.id), AlertKind.plan),
            ).where(
                col(Plan.status).in_(OPEN_PLAN_STATUSES),
                col(Plan.deadline).is_not(None),
                _active_campaign(col(Plan.campaign_id), campaign_id),
                _window(principal, clock, col(Plan.owner_org_id), col(Plan.deadline), None, stage),
            )
        )
    if AlertKind.task_assignment in kinds:
        parts.append(
            _row(
                AlertKind.task_assignment,
                "task",
                col(Task.id),
                cast(null(), String(20)),
                col(Task.title),
                col(TaskAssignment.org_id),
                col(Task.campaign_id),
                col(Task.due_on),
                literal(False),
                uid(col(TaskAssignment.id), AlertKind.task_assignment),
            )
            .join(Task, col(Task.id) == col(TaskAssignment.task_id))
            .where(
                col(TaskAssignment.status).not_in(DONE_STATUSES),
                _active_campaign(col(Task.campaign_id), campaign_id),
                _window(
                    principal, clock, col(TaskAssignment.org_id), col(Task.due_on), None, stage
                ),
            )
        )
    for kind, deadline, extra in (
        (
            AlertKind.case_supervision,
            col(CaseSupervision.solve_deadline),
            col(Case.status).in_(UNSOLVED_STATUSES),
        ),
        (AlertKind.case_report, col(CaseSupervision.next_report_due), true()),
    ):
        if kind not in kinds or not (police or principal.role == Role.office):
            continue
        parts.append(
            _row(
                kind,
                "case",
                col(Case.id),
                col(Case.code),
                col(Case.case_type),
                col(Case.handling_org_id),
                col(Case.campaign_id),
                deadline,
                literal(False),
                uid(col(CaseSupervision.id), kind),
            )
            .join(Case, col(Case.id) == col(CaseSupervision.case_id))
            .where(
                col(CaseSupervision.delisted_at).is_(None),
                extra,
                _active_campaign(col(Case.campaign_id), campaign_id),
                _window(
                    principal,
                    clock,
                    col(Case.handling_org_id),
                    deadline,
                    None,
                    stage,
                    own_allowed=police,
                ),
            )
        )
    if not parts:
        return None
    return union_all(*parts).subquery("alerts")


def _stage(principal: Principal, clock: Clock, org_id: int, deadline: date) -> AlertStage:
    if deadline < clock.today:
        return AlertStage.overdue if org_id == principal.org_id else AlertStage.escalated
    if deadline == clock.today:
        return AlertStage.due_today
    return AlertStage.due_soon


def _title(kind: AlertKind, title: Any, lang: str) -> str:
    if kind in (AlertKind.case_supervision, AlertKind.case_report):
        # Never the case's narrative: the case type is all an alert needs.
        case_type = CaseType(title.value if hasattr(title, "value") else title)
        return f"{case_type.label(lang)} · {kind.label(lang)}"
    return str(title)


def list_alerts(
    principal: Principal,
    *,
    stage: AlertStage | None,
    kind: AlertKind | None,
    campaign_id: int | None,
    cursor: str | None,
    limit: int,
    lang: str = "zh-CN",
) -> tuple[list[Alert], str | None]:
    """The caller's org's alerts, most urgent (earliest deadline) first."""
    if principal.kind != "user" or principal.org_id is None or principal.role == Role.admin:
        raise Forbidden(
            "alerts.forbidden",
            zh="提醒只面向业务单位的用户。",
            en="Alerts are for users of an office, department or school.",
        )
    clock = Clock.now()
    alerts = _statement(principal, clock, [kind] if kind else KINDS, stage, campaign_id)
    if alerts is None:
        return [], None
    stmt = keyset(
        select(alerts, col(Org.name).label("org_name")).join(Org, col(Org.id) == alerts.c.org_id),
        key=alerts.c.deadline,
        id_col=alerts.c.uid,
        direction=SortDir.asc,
        cursor=cursor,
        limit=limit,
        coerce=date.fromisoformat,
    )
    with db.read() as session:
        rows = session.execute(stmt).all()
    page, next_cursor = split_page(rows, limit, lambda r: (_as_date(r.deadline), r.uid))
    out = []
    for r in page:
        deadline = _as_date(r.deadline)
        item_kind = AlertKind(r.kind)
        stage_ = _stage(principal, clock, r.org_id, deadline)
        working = bool(r.working)
        span = working_days_between if working else _calendar_days
        late = stage_ in (AlertStage.overdue, AlertStage.escalated)
        out.append(
            Alert(
                kind=item_kind,
                object_type=r.object_type,
                object_id=r.object_id,
                code=r.code,
                title=_title(item_kind, r.title, lang),
                org_id=r.org_id,
                org_name=r.org_name,
                campaign_id=r.campaign_id,
                deadline=deadline,
                working_days=working,
                stage=stage_,
                days_left=None if late else span(clock.today, deadline),
                days_overdue=span(deadline, clock.today) if late else None,
            )
        )
    return out, next_cursor


def _calendar_days(start: date, end: date) -> int:
    return max(0, (end - start).days)


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


# --------------------------------------------------------------------------------------------
# Overdue notices for subscribed systems


def emit_overdue_events(*, batch: int = 500) -> int:
    """Emit `hazard.overdue` once per hazard per missed deadline; returns how many were
    emitted. Safe to run repeatedly (cron): a notice row per (hazard, deadline) remembers
    what went out, in the same transaction as the event."""
    total = 0
    while True:
        with db.write() as session:
            emitted = _emit_batch(session, today(), batch)
        total += emitted
        if emitted < batch:
            return total


def _emit_batch(session: Session, day: date, batch: int) -> int:
    notice = and_(
        col(AlertNotice.object_type) == "hazard",
        col(AlertNotice.object_id) == col(Hazard.id),
        col(AlertNotice.deadline) == col(Hazard.deadline),
    )
    stmt = (
        select(
            col(Hazard.id),
            col(Hazard.code),
            col(Hazard.campaign_id),
            col(Hazard.school_id),
            col(Hazard.responsible_org_id),
            col(Hazard.deadline),
        )
        .outerjoin(AlertNotice, notice)
        .where(
            col(Hazard.status).in_(OPEN_STATUSES),
            col(Hazard.deadline) < day,
            col(AlertNotice.id).is_(None),
        )
        .order_by(col(Hazard.id))
        .limit(batch)
    )
    rows = session.execute(stmt).all()
    for hazard_id, code, campaign_id, school_id, org_id, deadline in rows:
        session.add(AlertNotice(object_type="hazard", object_id=hazard_id, deadline=deadline))
        events.emit(
            session,
            None,
            type="hazard.overdue",
            subject_type="hazard",
            subject_id=hazard_id,
            campaign_id=campaign_id,
            school_id=school_id,
            org_id=org_id,
            payload={
                "code": code,
                "deadline": deadline,
                "days_overdue": (day - deadline).days,
                "responsible_org_id": org_id,
            },
        )
    if rows:
        audit.record(
            session,
            None,
            action="hazard.overdue_notified",
            object_type="hazard",
            changes={"hazard_ids": [r[0] for r in rows], "as_of": day},
        )
    return len(rows)
