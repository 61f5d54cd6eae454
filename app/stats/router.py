"""HTTP routes of the statistics (统计): overview, per-school and per-department tables, a time
series and a progress chart. Every figure is scoped to what the caller may see."""

from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from starlette.responses import Response

from app.auth.dependencies import CurrentPrincipal
from app.auth.principal import Principal, Scope
from app.core.errors import Forbidden, problem_responses
from app.core.pagination import DEFAULT_LIMIT, CursorQuery, LimitQuery, Page
from app.core.responses import json_response
from app.core.schemas import QueryDate
from app.stats import chart, service
from app.stats.schemas import DepartmentRow, Overview, SchoolRow, TimeSeries
from app.stats.service import DEPARTMENT_SORTS, SCHOOL_SORTS, Window
from app.users.models import Role

router = APIRouter(prefix="/stats", tags=["stats"])


async def stats_reader(principal: CurrentPrincipal) -> Principal:
    """Anyone with business data (not admins); service accounts need `stats:read`."""
    if principal.role == Role.admin:
        raise Forbidden(
            "stats.forbidden",
            zh="系统管理员不查看业务统计。",
            en="Administrators do not read business statistics.",
        )
    if not principal.has_scope(Scope.stats_read.value):
        raise Forbidden(
            "auth.scope_missing",
            zh="访问令牌缺少权限范围 stats:read。",
            en="The access token lacks the scope stats:read.",
        )
    return principal


async def department_stats_reader(
    principal: Annotated[Principal, Depends(stats_reader)],
) -> Principal:
    if principal.role == Role.school:
        raise Forbidden(
            "stats.forbidden",
            zh="学校不查看部门统计。",
            en="Schools do not read the department table.",
        )
    return principal


Reader = Annotated[Principal, Depends(stats_reader)]
DepartmentReader = Annotated[Principal, Depends(department_stats_reader)]
CampaignQuery = Annotated[int, Query(ge=1, le=2**31 - 1, description="The campaign (required).")]
FromQuery = Annotated[
    QueryDate | None, Query(alias="from", description="Reported on or after this local date.")
]
ToQuery = Annotated[QueryDate | None, Query(description="Reported on or before this local date.")]


class Interval(StrEnum):
    day = "day"
    week = "week"


IntervalQuery = Annotated[Interval, Query(description="`day` or `week` (weeks start on Monday).")]

ERRORS = problem_responses(401, 403, 404, 422)


@router.get("/overview", summary="Campaign Overview", response_model=Overview, responses=ERRORS)
def overview(
    principal: Reader,
    campaign_id: CampaignQuery,
    from_: FromQuery = None,
    to: ToQuery = None,
) -> Response:
    """One campaign's figures as the caller may see them (a school: its own hazards; a
    department: what it is responsible for, registered, supervises).

    * `hazards`: counts by status, grade, category and scope; `registered` excludes void;
      `rectification_rate` = closed ÷ registered and `on_time_rate` = closed on or before the
      deadline ÷ closed with a deadline, both **decimal strings with 4 places** (`"0.8333"`)
      or null; `overdue` = deadline before today and still open; `supervised` = under
      listed supervision (挂牌督办).
    * `plans`, `tasks` (assignments and written reports; null for schools), `cases` (office
      and oversight only; counts only, never victim data).

    `from` / `to` narrow the hazards to those reported in that local-date range. Unknown
    campaign: 404."""
    data = service.overview(principal, campaign_id, Window(from_, to))
    return json_response(data)


@router.get(
    "/schools", summary="Statistics Per School", response_model=Page[SchoolRow], responses=ERRORS
)
def schools(
    principal: Reader,
    campaign_id: CampaignQuery,
    from_: FromQuery = None,
    to: ToQuery = None,
    sort: Annotated[
        str,
        Query(max_length=40, description=f"One of {', '.join(SCHOOL_SORTS)}; `-` for descending."),
    ] = "-registered",
    cursor: CursorQuery = None,
    limit: LimitQuery = DEFAULT_LIMIT,
) -> Response:
    """Per school (学校统计): registered, rectified, closed, overdue, rectification rate and
    average days from reporting to closing. Lists the schools the caller may see (a school
    only itself, a department the schools it supervises); schools without hazards show zeros."""
    items, next_cursor = service.schools(
        principal, campaign_id, Window(from_, to), sort=sort, cursor=cursor, limit=limit
    )
    return json_response(Page(items=items, next_cursor=next_cursor))


@router.get(
    "/departments",
    summary="Statistics Per Department",
    response_model=Page[DepartmentRow],
    responses=ERRORS,
)
def departments(
    principal: DepartmentReader,
    campaign_id: CampaignQuery,
    from_: FromQuery = None,
    to: ToQuery = None,
    sort: Annotated[
        str,
        Query(
            max_length=40, description=f"One of {', '.join(DEPARTMENT_SORTS)}; `-` for descending."
        ),
    ] = "-registered",
    cursor: CursorQuery = None,
    limit: LimitQuery = DEFAULT_LIMIT,
) -> Response:
    """Per responsible department (部门统计): the hazards it must fix (registered, rectified,
    closed, overdue, rate, average days to close), its overdue task assignments and its late
    written reports. The office and oversight see every department; a department only itself;
    schools get 403."""
    items, next_cursor = service.departments(
        principal, campaign_id, Window(from_, to), sort=sort, cursor=cursor, limit=limit
    )
    return json_response(Page(items=items, next_cursor=next_cursor))


@router.get("/timeseries", summary="Hazards Over Time", response_model=TimeSeries, responses=ERRORS)
def timeseries(
    principal: Reader,
    campaign_id: CampaignQuery,
    interval: IntervalQuery = Interval.day,
    from_: FromQuery = None,
    to: ToQuery = None,
) -> Response:
    """Hazards registered (void excluded) and closed per local (Asia/Shanghai) day or week
    (weeks start on Monday), with running totals. Defaults to the campaign's first day up to
    its last day or today, whichever is earlier; at most 400 days."""
    return json_response(
        service.timeseries(principal, campaign_id, interval.value, Window(from_, to))
    )


@router.get(
    "/progress.png",
    summary="Progress Chart (PNG)",
    response_class=Response,
    responses={
        200: {"content": {"image/png": {}}, "description": "PNG chart."},
        **ERRORS,
    },
)
def progress_png(
    principal: Reader,
    campaign_id: CampaignQuery,
    interval: IntervalQuery = Interval.day,
    from_: FromQuery = None,
    to: ToQuery = None,
) -> Response:
    """Rectification progress as a PNG bar chart (整改进度图): per period, cumulative
    registered hazards (grey) with cumulative closed ones (green) in front. Same scoping and
    parameters as `/stats/timeseries`."""
    series = service.timeseries(principal, campaign_id, interval.value, Window(from_, to))
    return Response(
        chart.progress_png(series.points),
        media_type="image/png",
        headers={"Cache-Control": "private, max-age=60"},
    )
