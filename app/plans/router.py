from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Body, Depends, Header, Path, Query, Response

from app.auth.dependencies import require, require_scope
from app.auth.principal import Principal, Scope
from app.core.errors import problem_responses
from app.core.etag import etag
from app.core.pagination import DEFAULT_LIMIT, CursorQuery, LimitQuery, Page
from app.plans import service
from app.plans.export import XLSX, plan_workbook
from app.plans.models import PlanStatus
from app.plans.schemas import (
    MilestoneDone,
    PlanCreate,
    PlanEventOut,
    PlanPublic,
    PlanSummary,
    PlanUpdate,
    ProgressCreate,
    ProgressOut,
    ReturnComment,
    ReviewComment,
)
from app.users.models import Role

router = APIRouter(prefix="/plans", tags=["plans"])


async def _reader(
    principal: Annotated[
        Principal, Depends(require(Role.school, Role.department, Role.office, Role.service))
    ],
    _scoped: Annotated[Principal, Depends(require_scope(Scope.plans_read.value))],
) -> Principal:
    """Users by role (admins hold no business data); service accounts need `plans:read`."""
    return principal


Reader = Annotated[Principal, Depends(_reader)]
Writer = Annotated[Principal, Depends(require(Role.school, Role.department, Role.office))]
Owner = Annotated[Principal, Depends(require(Role.school, Role.department))]
Office = Annotated[Principal, Depends(require(Role.office))]
PlanId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Plan id.")]
MilestoneId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Milestone id.")]
IfMatch = Annotated[str | None, Header(max_length=200, description="The plan's current ETag.")]


def _one(plan: PlanPublic, response: Response) -> PlanPublic:
    response.headers["ETag"] = etag(plan.version)
    return plan


@router.get("", response_model=Page[PlanSummary], responses=problem_responses(401, 403, 422))
def list_plans(
    principal: Reader,
    campaign_id: Annotated[
        int | None, Query(ge=1, le=2**31 - 1, description="Only this campaign's plans.")
    ] = None,
    owner_org_id: Annotated[
        int | None, Query(ge=1, le=2**31 - 1, description="Only plans owned by this org.")
    ] = None,
    status: Annotated[
        PlanStatus | None,
        Query(description="`draft`, `submitted`, `approved`, `returned` or `completed`."),
    ] = None,
    overdue: Annotated[
        bool | None,
        Query(description="true: deadline passed and not completed; false: the others."),
    ] = None,
    hazard_id: Annotated[
        int | None, Query(ge=1, le=2**62, description="Only plans covering this hazard.")
    ] = None,
    sort: Annotated[
        str,
        Query(
            max_length=20,
            description="`id`, `deadline`, `created_at` or `updated_at`; `-` for descending.",
        ),
    ] = "-id",
    cursor: CursorQuery = None,
    limit: LimitQuery = DEFAULT_LIMIT,
) -> Page[PlanSummary]:
    """Rectification plans (整改方案) the caller may see: a school its own, a department the
    ones it owns and those covering hazards at schools it supervises, the office all.
    `overdue` is derived from today's local date. Service accounts need `plans:read`."""
    items, next_cursor = service.list_plans(
        principal,
        service.PlanFilter(
            campaign_id=campaign_id,
            owner_org_id=owner_org_id,
            status=status,
            overdue=overdue,
            hazard_id=hazard_id,
        ),
        sort=sort,
        cursor=cursor,
        limit=limit,
    )
    return Page(items=items, next_cursor=next_cursor)


@router.post(
    "",
    response_model=PlanPublic,
    status_code=201,
    responses=problem_responses(401, 403, 409, 422),
)
def create_plan(principal: Writer, body: PlanCreate, response: Response) -> PlanPublic:
    """Write a plan as a `draft`. The owner is the caller's school or department; the office
    writes one for any school or department by naming `owner_org_id`.

    Every hazard in `hazard_ids` must be visible to the caller, the owner's to fix
    (`responsible_org_id`), in the same campaign and neither closed nor void (422 otherwise);
    a hazard already covered by another plan that is not completed is a 409
    (`plan.hazard_already_covered`). The six parts may be left empty in a draft; `submit`
    checks them. `funds_amount` is a decimal string in 元 with at most two decimals."""
    return _one(service.create(principal, body), response)


@router.get(
    "/{plan_id}", response_model=PlanPublic, responses=problem_responses(401, 403, 404, 422)
)
def get_plan(principal: Reader, plan_id: PlanId, response: Response) -> PlanPublic:
    """One plan: its six parts, the hazards it covers, its timetable, the latest progress
    report, `missing_items` (five-in-place items still empty), `overdue`, and
    `allowed_actions` (what the caller may do now, to show or hide buttons)."""
    return _one(service.get(principal, plan_id), response)


@router.patch(
    "/{plan_id}",
    response_model=PlanPublic,
    responses=problem_responses(401, 403, 404, 409, 412, 422, 428),
)
def update_plan(
    principal: Owner,
    plan_id: PlanId,
    body: PlanUpdate,
    response: Response,
    if_match: IfMatch = None,
) -> PlanPublic:
    """Change a `draft` or `returned` plan (owner only; needs `If-Match`). Only the fields
    sent change; `milestones` and `hazard_ids` sent replace the whole list. Once submitted or
    approved a plan cannot be edited (409 `plan.not_editable`)."""
    return _one(service.update(principal, plan_id, body, if_match), response)


@router.post(
    "/{plan_id}/submit",
    response_model=PlanPublic,
    responses=problem_responses(401, 403, 404, 409, 412, 422),
)
def submit_plan(
    principal: Owner, plan_id: PlanId, response: Response, if_match: IfMatch = None
) -> PlanPublic:
    """`draft`/`returned` → `submitted` (owner only). Refused with 422 `plan.incomplete`
    while any of the five-in-place (五落实) is empty: responsibility (body, person, phone),
    measures, funds (amount and source), deadline, contingency plan. The error's `detail`
    names the missing items and `errors` lists each missing field."""
    return _one(service.transition(principal, plan_id, "submit", if_match=if_match), response)


@router.post(
    "/{plan_id}/approve",
    response_model=PlanPublic,
    responses=problem_responses(401, 403, 404, 409, 412, 422),
)
def approve_plan(
    principal: Office,
    plan_id: PlanId,
    response: Response,
    body: Annotated[ReviewComment | None, Body()] = None,
    if_match: IfMatch = None,
) -> PlanPublic:
    """`submitted` → `approved` (office only). The body, and its `comment`, may be left out.
    Once approved the owner reports progress and ticks milestones; `complete` ends it."""
    comment = body.comment if body else None
    return _one(
        service.transition(principal, plan_id, "approve", comment=comment, if_match=if_match),
        response,
    )


@router.post(
    "/{plan_id}/return",
    response_model=PlanPublic,
    responses=problem_responses(401, 403, 404, 409, 412, 422),
)
def return_plan(
    principal: Office,
    plan_id: PlanId,
    body: ReturnComment,
    response: Response,
    if_match: IfMatch = None,
) -> PlanPublic:
    """`submitted` → `returned` (office only) with a required comment saying what to change.
    The owner edits the plan and submits it again."""
    return _one(
        service.transition(principal, plan_id, "return", comment=body.comment, if_match=if_match),
        response,
    )


@router.post(
    "/{plan_id}/complete",
    response_model=PlanPublic,
    responses=problem_responses(401, 403, 404, 409, 412, 422),
)
def complete_plan(
    principal: Owner, plan_id: PlanId, response: Response, if_match: IfMatch = None
) -> PlanPublic:
    """`approved` → `completed` (owner only). In the same transaction every covered hazard
    that is `rectifying` (or `rejected`) moves to `rectified`, awaiting verification, with a
    step on its timeline; if any of that fails nothing changes."""
    return _one(service.transition(principal, plan_id, "complete", if_match=if_match), response)


@router.post(
    "/{plan_id}/progress",
    summary="Add Plan Progress",
    response_model=ProgressOut,
    status_code=201,
    responses=problem_responses(401, 403, 404, 409, 412, 422),
)
def add_progress(
    principal: Owner, plan_id: PlanId, body: ProgressCreate, if_match: IfMatch = None
) -> ProgressOut:
    """Report progress (整改进展) on an `approved` plan (owner only): text, overall percent,
    and attachments uploaded beforehand to this plan (`parent_type=plan`). The percent
    becomes the plan's `progress_percent`."""
    return service.add_progress(principal, plan_id, body, if_match)


@router.get(
    "/{plan_id}/progress",
    summary="List Plan Progress",
    response_model=Page[ProgressOut],
    responses=problem_responses(401, 403, 404, 422),
)
def list_progress(
    principal: Reader,
    plan_id: PlanId,
    cursor: CursorQuery = None,
    limit: LimitQuery = DEFAULT_LIMIT,
) -> Page[ProgressOut]:
    """The plan's progress reports, newest first, with their attachment ids (404 if you may
    not see the plan)."""
    items, next_cursor = service.list_progress(principal, plan_id, cursor=cursor, limit=limit)
    return Page(items=items, next_cursor=next_cursor)


@router.get(
    "/{plan_id}/events",
    summary="List Plan Events",
    response_model=Page[PlanEventOut],
    responses=problem_responses(401, 403, 404, 422),
)
def list_events(
    principal: Reader,
    plan_id: PlanId,
    cursor: CursorQuery = None,
    limit: LimitQuery = DEFAULT_LIMIT,
) -> Page[PlanEventOut]:
    """The plan's timeline, oldest first: who did what, when, from which status to which, and
    the review comments (404 if you may not see the plan)."""
    items, next_cursor = service.list_events(principal, plan_id, cursor=cursor, limit=limit)
    return Page(items=items, next_cursor=next_cursor)


@router.post(
    "/{plan_id}/milestones/{milestone_id}/done",
    response_model=PlanPublic,
    responses=problem_responses(401, 403, 404, 409, 412, 422),
)
def tick_milestone(
    principal: Owner,
    plan_id: PlanId,
    milestone_id: MilestoneId,
    response: Response,
    body: Annotated[MilestoneDone | None, Body()] = None,
    if_match: IfMatch = None,
) -> PlanPublic:
    """Tick a timetable milestone off on an `approved` plan (owner only). `done_on` defaults
    to today and may not be in the future; the body may be left out. A milestone already
    done is a 409."""
    done_on = body.done_on if body else None
    return _one(
        service.tick_milestone(principal, plan_id, milestone_id, done_on, if_match), response
    )


@router.get(
    "/{plan_id}/export.xlsx",
    summary="Export Plan (xlsx)",
    response_class=Response,
    responses={
        200: {"content": {XLSX: {}}, "description": "The plan as an xlsx workbook."},
        **problem_responses(401, 403, 404, 422),
    },
)
def export_plan(principal: Reader, plan_id: PlanId) -> Response:
    """The plan as a printable workbook with Chinese labels (整改方案表): the six parts, the
    covered hazards with their status, the timetable, every progress report and the review."""
    plan, reports, owner_name, campaign_name = service.export_data(principal, plan_id)
    content = plan_workbook(plan, reports, owner_name, campaign_name)
    filename = f"整改方案-{plan.id}.xlsx"
    return Response(
        content,
        media_type=XLSX,
        headers={
            "Content-Disposition": f'attachment; filename="plan-{plan.id}.xlsx"; '
            f"filename*=UTF-8''{quote(filename)}",
            "ETag": etag(plan.version),
        },
    )
