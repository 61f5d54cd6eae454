"""Statistics (统计): one campaign's figures, always scoped to what the caller may see.

Every figure is computed in the database by an aggregate query (GROUP BY / conditional SUM)
that starts from the domain's visibility rule; no hazard row is ever loaded into Python.
The district overview (callers who see everything, no date range) reads the counters kept
on write (`app.hazards.counts`), overdue included: the open hazards per deadline day, summed
up to today. Everyone else, and any date range, gets the live query over covering indexes.
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from app.auth.principal import Principal
from app.campaigns.models import Campaign
from app.cases.models import SOLVED_OR_LATER, Case, CaseStatus, CaseSupervision
from app.cases.visibility import visible_cases
from app.core import db
from app.core.errors import Invalid, NotFound, field_error
from app.core.pagination import keyset, parse_sort, split_page
from app.core.time import local_zone, today
from app.hazards.counts import LATE, ON_TIME, HazardCount, HazardDueCount, timeliness_sql
from app.hazards.models import (
    OPEN_STATUSES,
    Hazard,
    HazardCategory,
    HazardGrade,
    HazardScope,
    HazardStatus,
    handed_over,
)
from app.hazards.visibility import visible_hazards
from app.orgs.models import Org, OrgKind
from app.orgs.service import visible_orgs
from app.plans.models import Plan, PlanStatus
from app.plans.visibility import visible_plans
from app.stats.schemas import (
    CaseFigures,
    DepartmentRow,
    HazardFigures,
    Overview,
    PlanFigures,
    SchoolRow,
    TaskFigures,
    TimePoint,
    TimeSeries,
)
from app.stats.sql import days_between, local_day, local_week
from app.tasks.models import AssignmentStatus, ReportStatus, Task, TaskAssignment, TaskReport
from app.tasks.service import overdue_clause
from app.tasks.visibility import visible_assignments, visible_reports
from app.users.models import Capability, Role

MAX_SERIES_DAYS = 400
SCHOOL_SORTS = ("name", "registered", "rectified", "closed", "overdue", "rectification_rate")
DEPARTMENT_SORTS = (*SCHOOL_SORTS, "late_reports", "overdue_assignments")
_FOUR_PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class Window:
    """Optional range of local reporting dates, both ends included."""

    start: date | None = None
    end: date | None = None


# --------------------------------------------------------------------------------------------
# Shared pieces


def rate(numerator: int, denominator: int) -> str | None:
    """`numerator ÷ denominator` as a 4-place decimal string (half up); None for ÷ 0."""
    if not denominator:
        return None
    return str((Decimal(numerator) / Decimal(denominator)).quantize(_FOUR_PLACES, ROUND_HALF_UP))


def local_midnight_utc(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=local_zone()).astimezone(UTC)


def _campaign(session: Session, campaign_id: int) -> Campaign:
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(
            "campaign.not_found", zh="专项行动不存在。", en="The campaign does not exist."
        )
    return campaign


def check_window(window: Window) -> None:
    if window.start and window.end and window.start > window.end:
        raise Invalid(
            "stats.bad_range",
            zh="起始日期不能晚于截止日期。",
            en="`from` must not be after `to`.",
            errors=[field_error("query.from", "bad_range", "日期范围无效", "invalid range")],
        )


def hazard_scope(principal: Principal, campaign_id: int, window: Window) -> list[Any]:
    """The WHERE clause of every hazard statistic: campaign, visibility, reporting window."""
    clauses: list[Any] = [col(Hazard.campaign_id) == campaign_id, visible_hazards(principal)]
    if window.start:
        clauses.append(col(Hazard.reported_at) >= local_midnight_utc(window.start))
    if window.end:
        clauses.append(col(Hazard.reported_at) < local_midnight_utc(window.end + timedelta(days=1)))
    return clauses


def overdue_sql(day: date) -> ColumnElement[bool]:
    return and_(col(Hazard.status).in_(OPEN_STATUSES), col(Hazard.deadline) < day)


def _sum_if(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def sees_cases(principal: Principal) -> bool:
    return principal.kind == "user" and (principal.is_office or principal.can(Capability.oversight))


# --------------------------------------------------------------------------------------------
# Overview


def overview_statement(principal: Principal, campaign_id: int, window: Window) -> Any:
    """The live overview query: one GROUP BY in the order of the covering index
    `ix_hazard_stats_overview`, so SQLite streams the groups without a temporary B-tree.
    Timeliness is summed, not grouped by: an expression in the GROUP BY would force a sort
    of every row."""
    dims = [
        col(Hazard.status),
        col(Hazard.grade),
        col(Hazard.category),
        col(Hazard.scope),
        col(Hazard.supervised),
    ]
    timeliness = timeliness_sql()
    return (
        select(
            *dims,
            func.count(),
            _sum_if(timeliness == ON_TIME),
            _sum_if(timeliness == LATE),
        )
        .where(*hazard_scope(principal, campaign_id, window))
        .group_by(*dims)
    )


def _counter_rows(session: Session, campaign_id: int) -> list[tuple[Any, ...]]:
    """The counters in the live query's row shape."""
    stmt = select(
        col(HazardCount.status),
        col(HazardCount.grade),
        col(HazardCount.category),
        col(HazardCount.scope),
        col(HazardCount.supervised),
        col(HazardCount.timeliness),
        col(HazardCount.n),
    ).where(col(HazardCount.campaign_id) == campaign_id, col(HazardCount.n) != 0)
    return [
        (
            status,
            grade,
            category,
            scope,
            supervised,
            n,
            n if t == ON_TIME else 0,
            n if t == LATE else 0,
        )
        for status, grade, category, scope, supervised, t, n in session.execute(stmt).all()
    ]


def _zeros(codes: Iterable[Any]) -> dict[str, int]:
    return {str(c.value if hasattr(c, "value") else c): 0 for c in codes}


def _code(value: Any) -> str:
    return str(value.value if hasattr(value, "value") else value)


def hazard_figures(rows: Iterable[Sequence[Any]], overdue: int) -> HazardFigures:
    """Fold grouped rows (status, grade, category, scope, supervised, n, on time, late)."""
    by_status = _zeros(HazardStatus)
    by_grade = _zeros(HazardGrade)
    by_category = _zeros(HazardCategory)
    by_scope = _zeros(HazardScope)
    supervised = on_time = late = 0
    for status, grade, category, scope, is_supervised, n, n_on_time, n_late in rows:
        status = _code(status)
        by_status[status] = by_status.get(status, 0) + n
        if status == HazardStatus.void.value:
            continue
        by_grade[_code(grade)] = by_grade.get(_code(grade), 0) + n
        by_category[_code(category)] = by_category.get(_code(category), 0) + n
        by_scope[_code(scope)] = by_scope.get(_code(scope), 0) + n
        if is_supervised:
            supervised += n
        on_time += int(n_on_time)
        late += int(n_late)
    total = sum(by_status.values())
    void = by_status[HazardStatus.void.value]
    closed = by_status[HazardStatus.closed.value]
    registered = total - void
    return HazardFigures(
        total=total,
        registered=registered,
        rectified=by_status[HazardStatus.rectified.value] + closed,
        closed=closed,
        void=void,
        rectification_rate=rate(closed, registered),
        closed_with_deadline=on_time + late,
        closed_on_time=on_time,
        on_time_rate=rate(on_time, on_time + late),
        overdue=overdue,
        supervised=supervised,
        by_status=by_status,
        by_grade=by_grade,
        by_category=by_category,
        by_scope=by_scope,
    )


def _by(session: Session, stmt: Any, codes: Iterable[Any]) -> dict[str, int]:
    out = _zeros(codes)
    for code, n in session.execute(stmt).all():
        out[_code(code)] = out.get(_code(code), 0) + int(n)
    return out


def _plan_figures(session: Session, principal: Principal, campaign_id: int) -> PlanFigures:
    by_status = _by(
        session,
        select(col(Plan.status), func.count())
        .where(col(Plan.campaign_id) == campaign_id, visible_plans(principal))
        .group_by(col(Plan.status)),
        PlanStatus,
    )
    return PlanFigures(total=sum(by_status.values()), by_status=by_status)


def _task_figures(
    session: Session, principal: Principal, campaign_id: int, day: date
) -> TaskFigures | None:
    """Assignments by status with how many are overdue, reports by status with how many
    came late: two grouped statements."""
    if principal.role not in (Role.office, Role.department, Role.service):
        return None
    in_campaign = col(Task.campaign_id) == campaign_id
    assignments = (
        select(col(TaskAssignment.status), func.count(), _sum_if(overdue_clause(day)))
        .join(Task, col(Task.id) == col(TaskAssignment.task_id))
        .where(in_campaign, visible_assignments(principal))
        .group_by(col(TaskAssignment.status))
    )
    reports = (
        select(col(TaskReport.status), func.count(), _sum_if(col(TaskReport.late).is_(True)))
        .join(Task, col(Task.id) == col(TaskReport.task_id))
        .where(in_campaign, visible_reports(principal))
        .group_by(col(TaskReport.status))
    )
    by_assignment, overdue = _by_with(session, assignments, AssignmentStatus)
    by_report, late = _by_with(session, reports, ReportStatus)
    return TaskFigures(
        assignments_by_status=by_assignment,
        reports_by_status=by_report,
        overdue_assignments=overdue,
        late_reports=late,
    )


def _by_with(session: Session, stmt: Any, codes: Iterable[Any]) -> tuple[dict[str, int], int]:
    """Rows (code, n, flagged): counts per code, and the flagged ones over all codes."""
    out, flagged = _zeros(codes), 0
    for code, n, k in session.execute(stmt).all():
        out[_code(code)] = out.get(_code(code), 0) + int(n)
        flagged += int(k)
    return out, flagged


def _case_figures(session: Session, principal: Principal, campaign_id: int) -> CaseFigures | None:
    if not sees_cases(principal):
        return None
    scope = (col(Case.campaign_id) == campaign_id, visible_cases(principal))
    by_status = _by(
        session,
        select(col(Case.status), func.count()).where(*scope).group_by(col(Case.status)),
        CaseStatus,
    )
    supervised = session.execute(
        select(func.count())
        .select_from(CaseSupervision)
        .join(Case, col(Case.id) == col(CaseSupervision.case_id))
        .where(*scope, col(CaseSupervision.delisted_at).is_(None))
    ).scalar_one()
    return CaseFigures(
        total=sum(by_status.values()),
        by_status=by_status,
        supervised=int(supervised),
        solved=sum(by_status[s.value] for s in SOLVED_OR_LATER),
    )


def count_overdue(
    session: Session, principal: Principal, campaign_id: int, window: Window, day: date
) -> int:
    stmt = select(func.count()).where(
        *hazard_scope(principal, campaign_id, window), overdue_sql(day)
    )
    return int(session.execute(stmt).scalar_one())


def counted_overdue_statement(campaign_id: int, day: date) -> Any:
    """Overdue from the counters: the open hazards of the days before `day`, one row per
    deadline day read from the (campaign_id, deadline) unique index."""
    return select(func.coalesce(func.sum(col(HazardDueCount.n)), 0)).where(
        col(HazardDueCount.campaign_id) == campaign_id, col(HazardDueCount.deadline) < day
    )


def overview_in(
    session: Session,
    principal: Principal,
    campaign_id: int,
    window: Window,
    *,
    day: date | None = None,
) -> Overview:
    """`day`: what overdue is measured against (today by default)."""
    check_window(window)
    _campaign(session, campaign_id)
    day = day or today()
    if principal.sees_district and window == Window():
        rows: Sequence[Any] = _counter_rows(session, campaign_id)
        overdue = int(session.execute(counted_overdue_statement(campaign_id, day)).scalar_one())
    else:
        rows = session.execute(overview_statement(principal, campaign_id, window)).all()
        overdue = count_overdue(session, principal, campaign_id, window, day)
    return Overview(
        campaign_id=campaign_id,
        from_=window.start,
        to=window.end,
        as_of=day,
        hazards=hazard_figures(rows, overdue),
        plans=_plan_figures(session, principal, campaign_id),
        tasks=_task_figures(session, principal, campaign_id, day),
        cases=_case_figures(session, principal, campaign_id),
    )


def overview(principal: Principal, campaign_id: int, window: Window) -> Overview:
    with db.read() as session:
        return overview_in(session, principal, campaign_id, window)


# --------------------------------------------------------------------------------------------
# Per-school and per-department tables


def _table_aggregates(day: date) -> list[Any]:
    closed = col(Hazard.status) == HazardStatus.closed
    timed = and_(closed, col(Hazard.closed_at).is_not(None))
    return [
        _sum_if(col(Hazard.status) != HazardStatus.void).label("registered"),
        _sum_if(col(Hazard.status).in_((HazardStatus.rectified, HazardStatus.closed))).label(
            "rectified"
        ),
        _sum_if(closed).label("closed"),
        _sum_if(overdue_sql(day)).label("overdue"),
        func.sum(
            case((timed, days_between(col(Hazard.reported_at), col(Hazard.closed_at))), else_=None)
        ).label("close_days"),
        _sum_if(timed).label("closed_timed"),
    ]


def _rate_bp(sub: Any) -> Any:
    """Rectification rate in basis points, an integer: a stable keyset sort key."""
    return case((sub.c.registered > 0, sub.c.closed * 10000 / sub.c.registered), else_=0)


def _sort_key(sub: Any, key: str, extra: dict[str, Any] | None = None) -> Any:
    if key == "rectification_rate":
        return _rate_bp(sub)
    if extra and key in extra:
        return extra[key]
    return sub.c[key]


def _avg_days(close_days: Any, closed_timed: int) -> float | None:
    if not closed_timed or close_days is None:
        return None
    return round(float(close_days) / closed_timed, 1)


def _hazard_figures(r: Any) -> dict[str, Any]:
    """The hazard columns the per-school and per-department tables share."""
    return {
        "registered": int(r.registered),
        "rectified": int(r.rectified),
        "closed": int(r.closed),
        "overdue": int(r.overdue),
        "rectification_rate": rate(int(r.closed), int(r.registered)),
        "avg_days_to_close": _avg_days(r.close_days, int(r.closed_timed)),
    }


def _coerce_cursor(key: str) -> Any:
    return str if key == "name" else int


def _table_page(
    session: Session,
    campaign_id: int,
    window: Window,
    key: str,
    limit: int,
    statement: Callable[[], Any],
) -> tuple[Sequence[Any], str | None]:
    """A page of a per-org table: the window and campaign checked, `statement()` run, and
    the rows past `limit` turned into the next cursor on (sort value, org id)."""
    check_window(window)
    _campaign(session, campaign_id)
    rows = session.execute(statement()).all()
    return split_page(rows, limit, lambda r: (_row_sort_value(r, key), r.org_id))


def school_rows(
    session: Session,
    principal: Principal,
    campaign_id: int,
    window: Window,
    *,
    sort: str,
    cursor: str | None,
    limit: int,
    day: date | None = None,
) -> tuple[list[SchoolRow], str | None]:
    """Schools the caller may see (its own for a school, supervised ones for a department),
    each with the figures of the hazards at it that the caller may see; schools without any
    hazard appear with zeros."""
    kept, next_cursor = _table_page(
        session,
        campaign_id,
        window,
        parse_sort(sort, SCHOOL_SORTS)[0],
        limit,
        lambda: school_statement(principal, campaign_id, window, sort, cursor, limit, day),
    )
    return [
        SchoolRow(
            school_id=r.org_id,
            school_name=r.name,
            **_hazard_figures(r),
        )
        for r in kept
    ], next_cursor


def school_statement(
    principal: Principal,
    campaign_id: int,
    window: Window,
    sort: str,
    cursor: str | None,
    limit: int,
    day: date | None = None,
) -> Any:
    """The per-school table's page: each school's figures from the school's index
    (`ix_hazard_school_status_id` holds what they read)."""
    key, direction = parse_sort(sort, SCHOOL_SORTS)
    day = day or today()
    school = aliased(Org)
    visible_schools = select(col(Org.id)).where(
        visible_orgs(principal), col(Org.kind) == OrgKind.school
    )
    agg = (
        select(
            col(school.id).label("org_id"),
            col(school.name).label("name"),
            *_table_aggregates(day),
        )
        .select_from(school)
        .outerjoin(
            Hazard,
            and_(
                col(Hazard.school_id) == col(school.id),
                *hazard_scope(principal, campaign_id, window),
            ),
        )
        .where(col(school.kind) == OrgKind.school, col(school.id).in_(visible_schools))
        .group_by(col(school.id), col(school.name))
        .subquery()
    )
    return keyset(
        select(agg),
        key=_sort_key(agg, key),
        id_col=agg.c.org_id,
        direction=direction,
        cursor=cursor,
        limit=limit,
        coerce=_coerce_cursor(key),
    )


def _row_sort_value(row: Any, key: str) -> Any:
    if key == "rectification_rate":
        registered = int(row.registered)
        return int(row.closed) * 10000 // registered if registered else 0
    return getattr(row, key)


def department_rows(
    session: Session,
    principal: Principal,
    campaign_id: int,
    window: Window,
    *,
    sort: str,
    cursor: str | None,
    limit: int,
    day: date | None = None,
) -> tuple[list[DepartmentRow], str | None]:
    """Departments with the hazards they are responsible for, their overdue task assignments
    and late written reports. The district sees every department; a department only itself."""
    kept, next_cursor = _table_page(
        session,
        campaign_id,
        window,
        parse_sort(sort, DEPARTMENT_SORTS)[0],
        limit,
        lambda: department_statement(principal, campaign_id, window, sort, cursor, limit, day),
    )
    return [
        DepartmentRow(
            org_id=r.org_id,
            org_name=r.name,
            **_hazard_figures(r),
            overdue_assignments=int(r.overdue_assignments),
            late_reports=int(r.late_reports),
        )
        for r in kept
    ], next_cursor


def department_statement(
    principal: Principal,
    campaign_id: int,
    window: Window,
    sort: str,
    cursor: str | None,
    limit: int,
    day: date | None = None,
) -> Any:
    """The per-department table's page: the hazards handed to each department from the
    partial `ix_hazard_stats_responsible`, its task assignments and reports."""
    key, direction = parse_sort(sort, DEPARTMENT_SORTS)
    day = day or today()
    dept = aliased(Org)
    orgs_clause: list[Any] = [col(dept.kind) == OrgKind.department]
    if not principal.sees_district:
        orgs_clause.append(col(dept.id) == (principal.org_id or -1))
    agg = (
        select(
            col(dept.id).label("org_id"),
            col(dept.name).label("name"),
            *_table_aggregates(day),
        )
        .select_from(dept)
        .outerjoin(
            Hazard,
            and_(
                col(Hazard.responsible_org_id) == col(dept.id),
                handed_over(),
                *hazard_scope(principal, campaign_id, window),
            ),
        )
        .where(*orgs_clause)
        .group_by(col(dept.id), col(dept.name))
        .subquery()
    )
    late_reports = (
        select(func.count())
        .select_from(TaskReport)
        .join(Task, col(Task.id) == col(TaskReport.task_id))
        .where(
            col(TaskReport.org_id) == agg.c.org_id,
            col(Task.campaign_id) == campaign_id,
            col(TaskReport.late).is_(True),
        )
        .scalar_subquery()
    )
    overdue_assignments = (
        select(func.count())
        .select_from(TaskAssignment)
        .join(Task, col(Task.id) == col(TaskAssignment.task_id))
        .where(
            col(TaskAssignment.org_id) == agg.c.org_id,
            col(Task.campaign_id) == campaign_id,
            overdue_clause(day),
        )
        .scalar_subquery()
    )
    extra = {"late_reports": late_reports, "overdue_assignments": overdue_assignments}
    return keyset(
        select(
            agg,
            late_reports.label("late_reports"),
            overdue_assignments.label("overdue_assignments"),
        ),
        key=_sort_key(agg, key, extra),
        id_col=agg.c.org_id,
        direction=direction,
        cursor=cursor,
        limit=limit,
        coerce=_coerce_cursor(key),
    )


def schools(
    principal: Principal,
    campaign_id: int,
    window: Window,
    *,
    sort: str,
    cursor: str | None,
    limit: int,
) -> tuple[list[SchoolRow], str | None]:
    with db.read() as session:
        return school_rows(
            session, principal, campaign_id, window, sort=sort, cursor=cursor, limit=limit
        )


def departments(
    principal: Principal,
    campaign_id: int,
    window: Window,
    *,
    sort: str,
    cursor: str | None,
    limit: int,
) -> tuple[list[DepartmentRow], str | None]:
    with db.read() as session:
        return department_rows(
            session, principal, campaign_id, window, sort=sort, cursor=cursor, limit=limit
        )


# --------------------------------------------------------------------------------------------
# Time series


def _periods(start: date, end: date, interval: str) -> list[date]:
    step = timedelta(days=7 if interval == "week" else 1)
    current = start - timedelta(days=start.weekday()) if interval == "week" else start
    out = []
    while current <= end:
        out.append(current)
        current += step
    return out


def series_in(
    session: Session, principal: Principal, campaign_id: int, interval: str, window: Window
) -> TimeSeries:
    """Hazards registered (void excluded) and closed per local day or week. Defaults: the
    campaign's first day to its last (or today, if earlier)."""
    check_window(window)
    campaign = _campaign(session, campaign_id)
    start = window.start or campaign.starts_on
    end = window.end or max(start, min(campaign.ends_on, today()))
    if start > end:
        check_window(Window(start, end))
    if (end - start).days > MAX_SERIES_DAYS:
        raise Invalid(
            "stats.range_too_long",
            zh=f"时间序列最长 {MAX_SERIES_DAYS} 天。",
            en=f"A time series spans at most {MAX_SERIES_DAYS} days.",
            errors=[field_error("query.to", "range_too_long", "日期范围过长", "range too long")],
        )
    periods = _periods(start, end, interval)
    first, after = local_midnight_utc(periods[0]), local_midnight_utc(end + timedelta(days=1))
    bucket = local_week if interval == "week" else local_day
    base = [
        col(Hazard.campaign_id) == campaign_id,
        visible_hazards(principal),
    ]
    not_void = col(Hazard.status) != HazardStatus.void
    closed = and_(col(Hazard.status) == HazardStatus.closed, col(Hazard.closed_at).is_not(None))

    def per_period(column: Any, condition: Any) -> dict[date, int]:
        period = bucket(column)
        stmt = (
            select(period, func.count())
            .where(*base, condition, column >= first, column < after)
            .group_by(period)
        )
        return {_as_date(p): int(n) for p, n in session.execute(stmt).all()}

    def before(column: Any, condition: Any) -> int:
        stmt = select(func.count()).where(*base, condition, column < first)
        return int(session.execute(stmt).scalar_one())

    registered = per_period(col(Hazard.reported_at), not_void)
    closed_per = per_period(col(Hazard.closed_at), closed)
    running_reg = before(col(Hazard.reported_at), not_void)
    running_closed = before(col(Hazard.closed_at), closed)
    points = []
    for period in periods:
        reg, clo = registered.get(period, 0), closed_per.get(period, 0)
        running_reg += reg
        running_closed += clo
        points.append(
            TimePoint(
                period=period,
                registered=reg,
                closed=clo,
                cumulative_registered=running_reg,
                cumulative_closed=running_closed,
            )
        )
    return TimeSeries(campaign_id=campaign_id, interval=interval, points=points)


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def timeseries(principal: Principal, campaign_id: int, interval: str, window: Window) -> TimeSeries:
    with db.read() as session:
        return series_in(session, principal, campaign_id, interval, window)


# --------------------------------------------------------------------------------------------
# Lists for the summary report


@dataclass(frozen=True)
class HazardLine:
    code: str
    title: str
    school_name: str
    responsible_name: str
    grade: HazardGrade
    status: HazardStatus
    deadline: date | None
    days_overdue: int | None
    supervision_notice_no: str | None
    supervision_deadline: date | None


def _hazard_lines(
    session: Session, principal: Principal, campaign_id: int, condition: Any, day: date, limit: int
) -> list[HazardLine]:
    school, responsible = aliased(Org), aliased(Org)
    stmt = (
        select(
            col(Hazard.code),
            col(Hazard.title),
            col(school.name),
            col(responsible.name),
            col(Hazard.grade),
            col(Hazard.status),
            col(Hazard.deadline),
            col(Hazard.supervision_notice_no),
            col(Hazard.supervision_deadline),
        )
        .join(school, col(school.id) == col(Hazard.school_id))
        .join(responsible, col(responsible.id) == col(Hazard.responsible_org_id))
        .where(*hazard_scope(principal, campaign_id, Window()), condition)
        .order_by(col(Hazard.deadline), col(Hazard.id))
        .limit(limit)
    )
    out = []
    for (
        code,
        title,
        school_name,
        resp_name,
        grade,
        status,
        deadline,
        notice,
        sup_deadline,
    ) in session.execute(stmt).all():
        late = (
            (day - deadline).days
            if deadline is not None and deadline < day and status in OPEN_STATUSES
            else None
        )
        out.append(
            HazardLine(
                code=code,
                title=title,
                school_name=school_name,
                responsible_name=resp_name,
                grade=grade,
                status=status,
                deadline=deadline,
                days_overdue=late,
                supervision_notice_no=notice,
                supervision_deadline=sup_deadline,
            )
        )
    return out


def overdue_hazards(
    session: Session, principal: Principal, campaign_id: int, day: date, limit: int
) -> list[HazardLine]:
    return _hazard_lines(session, principal, campaign_id, overdue_sql(day), day, limit)


def supervised_hazards(
    session: Session, principal: Principal, campaign_id: int, day: date, limit: int
) -> list[HazardLine]:
    condition = and_(col(Hazard.supervised).is_(True), col(Hazard.status) != HazardStatus.void)
    return _hazard_lines(session, principal, campaign_id, condition, day, limit)
