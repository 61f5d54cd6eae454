from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Response

from app.auth.dependencies import require, require_scope
from app.auth.principal import Principal
from app.core.errors import problem_responses
from app.core.etag import etag
from app.core.pagination import DEFAULT_LIMIT, CursorQuery, LimitQuery, Page
from app.core.schemas import QueryDate
from app.inspections import service
from app.inspections.models import InspectionKind, InspectionResult
from app.inspections.schemas import HazardLinks, InspectionCreate, InspectionPublic
from app.users.models import Role

router = APIRouter(prefix="/inspections", tags=["inspections"])

InspectionId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Inspection id.")]
IfMatch = Annotated[str | None, Header(description="The inspection's current ETag.")]
# Inspections belong to the hazard register: systems read them with the hazards scope.
Reader = Annotated[Principal, Depends(require_scope("hazards:read"))]
Recorder = Annotated[Principal, Depends(require(Role.school, Role.department, Role.office))]


def _one(inspection: InspectionPublic, response: Response) -> InspectionPublic:
    response.headers["ETag"] = etag(inspection.version)
    return inspection


@router.get("", response_model=Page[InspectionPublic], responses=problem_responses(401, 403, 422))
def list_inspections(
    principal: Reader,
    campaign_id: Annotated[
        int | None, Query(ge=1, le=2**31 - 1, description="Only this campaign's inspections.")
    ] = None,
    school_id: Annotated[
        int | None, Query(ge=1, le=2**31 - 1, description="Only inspections of this school.")
    ] = None,
    kind: Annotated[
        InspectionKind | None,
        Query(description="`self_inspection`, `inspection_group` or `oversight`."),
    ] = None,
    result: Annotated[
        InspectionResult | None,
        Query(description="`passed`, `issues_found` or `serious_issues`."),
    ] = None,
    inspected_from: Annotated[QueryDate | None, Query(description="On or after this date.")] = None,
    inspected_to: Annotated[QueryDate | None, Query(description="On or before this date.")] = None,
    sort: Annotated[
        str, Query(max_length=20, description="`inspected_on`, `id`; prefix `-` to descend.")
    ] = "-inspected_on",
    cursor: CursorQuery = None,
    limit: LimitQuery = DEFAULT_LIMIT,
) -> Page[InspectionPublic]:
    """Inspections (检查/督查) you may see, newest first: a school those of itself; a
    department the ones it made and those of the schools it supervises; the office,
    oversight and inspectors all. Each lists the ids of the hazards registered from it."""
    items, next_cursor = service.list_inspections(
        principal,
        campaign_id=campaign_id,
        school_id=school_id,
        kind=kind,
        result=result,
        inspected_from=inspected_from,
        inspected_to=inspected_to,
        sort=sort,
        cursor=cursor,
        limit=limit,
    )
    return Page(items=items, next_cursor=next_cursor)


@router.post(
    "",
    response_model=InspectionPublic,
    status_code=201,
    responses=problem_responses(401, 403, 409, 422),
)
def create_inspection(
    principal: Recorder, body: InspectionCreate, response: Response
) -> InspectionPublic:
    """Record an inspection of a school. Who may record which `kind`:
    `self_inspection` — the school itself; `inspection_group` — inspectors and the office at
    any school, a department at the schools it supervises; `oversight` (督查) — oversight
    users. Then register the hazards found (`POST /hazards`) and link them with
    `POST /inspections/{id}/hazards`; attach the inspection form with `parent_type=inspection`.
    """
    return _one(service.create(principal, body), response)


@router.get(
    "/{inspection_id}",
    response_model=InspectionPublic,
    responses=problem_responses(401, 403, 404, 422),
)
def get_inspection(
    principal: Reader, inspection_id: InspectionId, response: Response
) -> InspectionPublic:
    """One inspection with the ids of the hazards registered from it (404 if you may not
    see it)."""
    return _one(service.get(principal, inspection_id), response)


@router.post(
    "/{inspection_id}/hazards",
    summary="Link Hazards To Inspection",
    response_model=InspectionPublic,
    responses=problem_responses(401, 403, 404, 409, 412, 422),
)
def link_hazards(
    principal: Recorder,
    inspection_id: InspectionId,
    body: HazardLinks,
    response: Response,
    if_match: IfMatch = None,
) -> InspectionPublic:
    """Link hazards registered from this inspection (the org that made it, or the office).
    Each hazard must be one you may see, at the same school and in the same campaign (422);
    one already linked to another inspection is refused (409). Linking again is harmless."""
    return _one(service.link_hazards(principal, inspection_id, body, if_match), response)
