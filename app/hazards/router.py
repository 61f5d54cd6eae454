"""HTTP routes of the hazard register (安全隐患登记册)."""

from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path
from pydantic import Field
from starlette.responses import Response

from app.auth.dependencies import require, require_scope
from app.auth.principal import Principal
from app.core import db
from app.core.errors import problem_responses
from app.core.etag import etag
from app.core.pagination import (
    CURSOR_DESCRIPTION,
    DEFAULT_LIMIT,
    LIMIT_DESCRIPTION,
    MAX_LIMIT,
    CursorQuery,
    LimitQuery,
    Page,
)
from app.core.query import QueryModel
from app.core.responses import json_response
from app.core.schemas import QueryDate
from app.hazards import service
from app.hazards.models import HazardCategory, HazardGrade, HazardScope, HazardStatus
from app.hazards.schemas import (
    AssignInput,
    DelistInput,
    EscalateInput,
    ExtensionGrantInput,
    ExtensionRefuseInput,
    ExtensionRequestInput,
    HazardCreate,
    HazardEventPublic,
    HazardExtensionPublic,
    HazardPublic,
    HazardUpdate,
    RejectInput,
    StartInput,
    SubmitRectificationInput,
    SuperviseInput,
    VerifyInput,
    VoidInput,
)
from app.users.models import Capability, Role

router = APIRouter(prefix="/hazards", tags=["hazards"])

HazardId = Annotated[int, Path(ge=1, le=2**62, description="Hazard id.")]
IfMatch = Annotated[
    str | None, Header(max_length=200, description="The hazard's current ETag (optional).")
]
OrgId = Annotated[int, Field(ge=1, le=2**31 - 1)]

Reader = Annotated[Principal, Depends(require_scope("hazards:read"))]
# Everyone who works on hazards; which action each may take is decided per hazard.
Actor = Annotated[
    Principal,
    Depends(
        require(Role.school, Role.department, Role.office, capabilities=(Capability.inspector,))
    ),
]

ACTION_ERRORS = problem_responses(401, 403, 404, 409, 412, 422)


def _hazard(content: dict[str, Any], status_code: int = 200) -> Response:
    return json_response(content, status_code=status_code, etag=etag(content["version"]))


@router.post(
    "",
    response_model=HazardPublic,
    status_code=201,
    responses=problem_responses(401, 403, 409, 422),
)
async def register_hazard(principal: Actor, body: HazardCreate) -> Response:
    """Register a hazard (登记). A school registers at itself; a department at the schools it
    supervises; inspectors and the office at any school. The hazard gets a code
    `YH-<year>-<seq>`, status `reported`, and its school as the responsible org. A `major`
    hazard is reported to the office at once (event `hazard.major_reported`).

    For a surroundings venue with coordinates, `distance_m` to the school is computed and
    `venue_unlawful` set when the venue is inside the legal distance (e.g. 网吧 within 200 m)."""
    return _hazard(await db.in_writer(service.register, principal, body), 201)


class HazardListQuery(QueryModel):
    """The register's filters, sort and page (read by one model: app/core/query.py)."""

    campaign_id: OrgId | None = None
    school_id: OrgId | None = None
    status: list[HazardStatus] | None = Field(
        default=None, max_length=7, description="Repeat for several."
    )
    category: HazardCategory | None = None
    grade: HazardGrade | None = None
    scope: HazardScope | None = None
    responsible_org_id: OrgId | None = None
    overdue: bool | None = Field(
        default=None, description="Deadline passed and still open (derived)."
    )
    supervised: bool | None = Field(default=None, description="Under listed supervision.")
    found_from: QueryDate | None = None
    found_to: QueryDate | None = None
    reported_from: QueryDate | None = Field(default=None, description="Local date, inclusive.")
    reported_to: QueryDate | None = Field(default=None, description="Local date, inclusive.")
    q: str | None = Field(
        default=None,
        min_length=1,
        max_length=service.MAX_Q,
        pattern=r"^[^\x00]*$",
        description="Text in the title, code or location.",
    )
    sort: str = Field(
        default="-id",
        max_length=20,
        description=f"One of {', '.join(service.SORT_KEYS)}; prefix `-` for descending.",
    )
    with_total: bool = Field(default=False, description="Also count all matches.")
    cursor: str | None = Field(default=None, max_length=500, description=CURSOR_DESCRIPTION)
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description=LIMIT_DESCRIPTION)

    def filter(self) -> service.HazardFilter:
        return service.HazardFilter(
            campaign_id=self.campaign_id,
            school_id=self.school_id,
            status=tuple(self.status or ()),
            category=self.category,
            grade=self.grade,
            scope=self.scope,
            responsible_org_id=self.responsible_org_id,
            overdue=self.overdue,
            supervised=self.supervised,
            found_from=self.found_from,
            found_to=self.found_to,
            reported_from=self.reported_from,
            reported_to=self.reported_to,
            q=self.q,
        )


@router.get(
    "",
    response_model=Page[HazardPublic],
    responses=problem_responses(401, 403, 422),
    openapi_extra=HazardListQuery.openapi(),
)
async def list_hazards(
    principal: Reader, query: Annotated[HazardListQuery, Depends(HazardListQuery.parse)]
) -> Response:
    """The register (登记册): the hazards you may see, filtered and sorted, a page at a time.

    A school sees its own; a department what it must fix, registered, supervises or
    supervises by listing; the office, oversight and inspectors all. Pass `next_cursor` back
    as `cursor` for the next page."""
    page = await db.hot_read(
        partial(
            service.list_hazards,
            sort=query.sort,
            cursor=query.cursor,
            limit=query.limit,
            with_total=query.with_total,
        ),
        principal,
        query.filter(),
    )
    return json_response(page)


@router.get(
    "/{hazard_id}", response_model=HazardPublic, responses=problem_responses(401, 403, 404, 422)
)
async def get_hazard(principal: Reader, hazard_id: HazardId) -> Response:
    """One hazard, with `overdue`, the plans covering it, and `allowed_actions`: the actions
    you may take now (show only those buttons). Another school's hazard is 404."""
    return _hazard(await db.hot_read(service.get, principal, hazard_id))


@router.patch(
    "/{hazard_id}",
    response_model=HazardPublic,
    responses=problem_responses(401, 403, 404, 409, 412, 422, 428),
)
async def update_hazard(
    principal: Actor,
    hazard_id: HazardId,
    body: HazardUpdate,
    if_match: IfMatch = None,
) -> Response:
    """Correct title, description, location, coordinates, found date or responsible person
    while the hazard is `reported`, `rectifying` or `escalated` (its school, the org that
    registered it, or the office). `If-Match` is required. Recorded on the timeline."""
    return _hazard(await db.in_writer(service.update, principal, hazard_id, body, if_match))


@router.get(
    "/{hazard_id}/events",
    response_model=Page[HazardEventPublic],
    responses=problem_responses(401, 403, 404, 422),
)
def list_hazard_events(
    principal: Reader,
    hazard_id: HazardId,
    cursor: CursorQuery = None,
    limit: LimitQuery = DEFAULT_LIMIT,
) -> Page[HazardEventPublic]:
    """The hazard's timeline, oldest first: every transition, edit, supervision and extension
    step, with actor, time, from/to status, comment and attachment ids."""
    rows, next_cursor = service.list_events(principal, hazard_id, cursor=cursor, limit=limit)
    items = [
        HazardEventPublic.model_validate(
            {**e.model_dump(), "attachment_ids": service.timeline_attachment_ids(e.data)}
        )
        for e in rows
    ]
    return Page(items=items, next_cursor=next_cursor)


@router.get(
    "/{hazard_id}/extensions",
    response_model=Page[HazardExtensionPublic],
    responses=problem_responses(401, 403, 404, 422),
)
def list_hazard_extensions(
    principal: Reader,
    hazard_id: HazardId,
    cursor: CursorQuery = None,
    limit: LimitQuery = DEFAULT_LIMIT,
) -> Page[HazardExtensionPublic]:
    """Deadline extension requests (延期申请) of the hazard, oldest first, with decisions."""
    rows, next_cursor = service.list_extensions(principal, hazard_id, cursor=cursor, limit=limit)
    return Page(
        items=[HazardExtensionPublic.model_validate(e) for e in rows], next_cursor=next_cursor
    )


# ------------------------------------------------------------------------------------------
# Actions: POST /hazards/{id}/{action}. Each answers with the hazard and its new ETag.
# 403 `hazard.forbidden_action` when your role may not take it on this hazard, 409
# `hazard.invalid_transition` when the status does not allow it; nothing changes then.


@router.post("/{hazard_id}/start", response_model=HazardPublic, responses=ACTION_ERRORS)
async def start(
    principal: Actor, hazard_id: HazardId, body: StartInput, if_match: IfMatch = None
) -> Response:
    """`reported` → `rectifying` (开始整改), by the responsible org. Optionally set a deadline:
    `deadline` (a date) or `deadline_working_days` (N working days on the official calendar)."""
    return _hazard(await db.in_writer(service.start, principal, hazard_id, body, if_match))


@router.post("/{hazard_id}/escalate", response_model=HazardPublic, responses=ACTION_ERRORS)
async def escalate(
    principal: Actor, hazard_id: HazardId, body: EscalateInput, if_match: IfMatch = None
) -> Response:
    """`reported`/`rectifying` → `escalated` (上报办公室): the school cannot fix it and says why."""
    return _hazard(await db.in_writer(service.escalate, principal, hazard_id, body, if_match))


@router.post("/{hazard_id}/assign", response_model=HazardPublic, responses=ACTION_ERRORS)
async def assign(
    principal: Actor, hazard_id: HazardId, body: AssignInput, if_match: IfMatch = None
) -> Response:
    """`escalated` → `rectifying` (责成有关部门限期整改), office only: the department in `org_id`
    becomes responsible, with a deadline (a date or N working days)."""
    return _hazard(await db.in_writer(service.assign, principal, hazard_id, body, if_match))


@router.post(
    "/{hazard_id}/submit-rectification", response_model=HazardPublic, responses=ACTION_ERRORS
)
async def submit_rectification(
    principal: Actor,
    hazard_id: HazardId,
    body: SubmitRectificationInput,
    if_match: IfMatch = None,
) -> Response:
    """`rectifying`/`rejected` → `rectified` (提交整改结果), by the responsible org: what was done
    and at least one evidence attachment uploaded to this hazard first. A major hazard needs
    an approved rectification plan (409 `hazard.plan_required`)."""
    return _hazard(
        await db.in_writer(service.submit_rectification, principal, hazard_id, body, if_match)
    )


@router.post("/{hazard_id}/verify", response_model=HazardPublic, responses=ACTION_ERRORS)
async def verify(
    principal: Actor, hazard_id: HazardId, body: VerifyInput, if_match: IfMatch = None
) -> Response:
    """`rectified` → `closed` (复查合格销号), by the office or an inspector."""
    return _hazard(await db.in_writer(service.verify, principal, hazard_id, body, if_match))


@router.post("/{hazard_id}/reject", response_model=HazardPublic, responses=ACTION_ERRORS)
async def reject(
    principal: Actor, hazard_id: HazardId, body: RejectInput, if_match: IfMatch = None
) -> Response:
    """`rectified` → `rejected` (复查不合格), by the office or an inspector, with the reason; the
    responsible org then submits again."""
    return _hazard(await db.in_writer(service.reject, principal, hazard_id, body, if_match))


@router.post("/{hazard_id}/void", response_model=HazardPublic, responses=ACTION_ERRORS)
async def void(
    principal: Actor, hazard_id: HazardId, body: VoidInput, if_match: IfMatch = None
) -> Response:
    """Any open status → `void` (作废), office only, with a reason; optionally the hazard this
    one duplicates (`duplicate_of_id`, which stays open)."""
    return _hazard(await db.in_writer(service.void, principal, hazard_id, body, if_match))


@router.post("/{hazard_id}/supervise", response_model=HazardPublic, responses=ACTION_ERRORS)
async def supervise(
    principal: Actor, hazard_id: HazardId, body: SuperviseInput, if_match: IfMatch = None
) -> Response:
    """Put a major hazard under listed supervision (挂牌督办), office only: notice number,
    supervising org and deadline. The status does not change; `supervised` becomes true."""
    return _hazard(await db.in_writer(service.supervise, principal, hazard_id, body, if_match))


@router.post("/{hazard_id}/delist", response_model=HazardPublic, responses=ACTION_ERRORS)
async def delist(
    principal: Actor, hazard_id: HazardId, body: DelistInput, if_match: IfMatch = None
) -> Response:
    """Remove listed supervision (摘牌), office only, once the hazard is `closed`."""
    return _hazard(await db.in_writer(service.delist, principal, hazard_id, body, if_match))


@router.post("/{hazard_id}/request-extension", response_model=HazardPublic, responses=ACTION_ERRORS)
async def request_extension(
    principal: Actor, hazard_id: HazardId, body: ExtensionRequestInput, if_match: IfMatch = None
) -> Response:
    """Ask for a later deadline (申请延期), by the responsible org, with a reason; the requested
    date must be after the current deadline. One pending request at a time."""
    return _hazard(
        await db.in_writer(service.request_extension, principal, hazard_id, body, if_match)
    )


@router.post("/{hazard_id}/grant-extension", response_model=HazardPublic, responses=ACTION_ERRORS)
async def grant_extension(
    principal: Actor, hazard_id: HazardId, body: ExtensionGrantInput, if_match: IfMatch = None
) -> Response:
    """Grant a pending extension (批准延期), office only: the deadline becomes the requested date
    (or `deadline` if given)."""
    return _hazard(
        await db.in_writer(service.grant_extension, principal, hazard_id, body, if_match)
    )


@router.post("/{hazard_id}/refuse-extension", response_model=HazardPublic, responses=ACTION_ERRORS)
async def refuse_extension(
    principal: Actor, hazard_id: HazardId, body: ExtensionRefuseInput, if_match: IfMatch = None
) -> Response:
    """Refuse a pending extension (驳回延期), office only, with the reason."""
    return _hazard(
        await db.in_writer(service.refuse_extension, principal, hazard_id, body, if_match)
    )
