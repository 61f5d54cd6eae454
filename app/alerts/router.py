"""HTTP route of the staged alerts (分级提醒)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from app.alerts import service
from app.alerts.schemas import Alert, AlertKind, AlertStage
from app.auth.dependencies import require
from app.auth.principal import Principal
from app.core.errors import problem_responses
from app.core.handlers import language
from app.core.pagination import DEFAULT_LIMIT, CursorQuery, LimitQuery, Page
from app.core.responses import json_response
from app.users.models import Role

router = APIRouter(prefix="/alerts", tags=["alerts"])

OrgUser = Annotated[Principal, Depends(require(Role.office, Role.department, Role.school))]


@router.get("", response_model=Page[Alert], responses=problem_responses(401, 403, 422))
def list_alerts(
    principal: OrgUser,
    request: Request,
    stage: Annotated[
        AlertStage | None,
        Query(description="`due_soon`, `due_today`, `overdue` or `escalated` (office only)."),
    ] = None,
    kind: Annotated[
        AlertKind | None,
        Query(
            description="`hazard`, `plan`, `task_assignment`, `case_supervision` or `case_report`."
        ),
    ] = None,
    campaign_id: Annotated[
        int | None, Query(ge=1, le=2**31 - 1, description="Only this campaign's items.")
    ] = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = DEFAULT_LIMIT,
) -> Response:
    """Your org's items with a deadline coming or gone, earliest deadline first: hazards you
    must fix, plans you own, your task assignments (written report due), and for the police
    supervised cases (deadline to solve) and their progress-report dates.

    * `due_soon`: deadline within the configured days (`DUE_SOON_DAYS`, default 3), counted in
      working days where the deadline was set in working days (`working_days: true`);
    * `due_today`; `overdue`: the deadline passed;
    * `escalated` (督办, office only): every other org's overdue items.

    Closed campaigns are left out. Admins and service accounts get 403."""
    items, next_cursor = service.list_alerts(
        principal,
        stage=stage,
        kind=kind,
        campaign_id=campaign_id,
        cursor=cursor,
        limit=limit,
        lang=language(request),
    )
    return json_response(Page(items=items, next_cursor=next_cursor))
