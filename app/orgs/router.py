from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Response

from app.auth.dependencies import AdminUser, CurrentPrincipal
from app.core.errors import problem_responses
from app.core.etag import etag
from app.core.pagination import DEFAULT_LIMIT, CursorQuery, LimitQuery, Page
from app.orgs import service
from app.orgs.models import OrgKind
from app.orgs.schemas import OrgCreate, OrgPublic, OrgUpdate

router = APIRouter(prefix="/orgs", tags=["orgs"])

OrgId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Org id.")]


@router.get("", response_model=Page[OrgPublic], responses=problem_responses(401, 422))
def list_orgs(
    principal: CurrentPrincipal,
    kind: Annotated[
        OrgKind | None, Query(description="Only offices, departments or schools.")
    ] = None,
    q: Annotated[str | None, Query(max_length=100, description="Part of the name.")] = None,
    supervising_org_id: Annotated[
        int | None,
        Query(ge=1, le=2**31 - 1, description="Only the schools this org supervises."),
    ] = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = DEFAULT_LIMIT,
) -> Page[OrgPublic]:
    """The orgs you may see (组织): a school sees offices, departments and itself; a department
    also the schools it supervises; the office, admins, oversight and inspectors see all."""
    rows, next_cursor = service.list_orgs(
        principal, kind=kind, q=q, supervising_org_id=supervising_org_id, cursor=cursor, limit=limit
    )
    return Page(items=[OrgPublic.model_validate(o) for o in rows], next_cursor=next_cursor)


@router.post(
    "", response_model=OrgPublic, status_code=201, responses=problem_responses(401, 403, 409, 422)
)
def create_org(principal: AdminUser, body: OrgCreate, response: Response) -> OrgPublic:
    """Create an office, department or school (admin only). A school needs `school_type` and
    `ownership`; its `supervising_org_id` names the department or town that supervises it.
    A name or code already in use is 409. The response carries the new org's `ETag`."""
    org = service.create(principal, body)
    response.headers["ETag"] = etag(org.version)
    return OrgPublic.model_validate(org)


@router.get("/{org_id}", response_model=OrgPublic, responses=problem_responses(401, 404, 422))
def get_org(principal: CurrentPrincipal, org_id: OrgId, response: Response) -> OrgPublic:
    """One org, if you may see it (404 otherwise), with the `ETag` an admin sends back on
    `PATCH`."""
    org = service.get(principal, org_id)
    response.headers["ETag"] = etag(org.version)
    return OrgPublic.model_validate(org)


@router.patch(
    "/{org_id}",
    response_model=OrgPublic,
    responses=problem_responses(401, 403, 404, 409, 412, 422, 428),
)
def update_org(
    principal: AdminUser,
    org_id: OrgId,
    body: OrgUpdate,
    response: Response,
    if_match: Annotated[str | None, Header(description="The org's current ETag.")] = None,
) -> OrgPublic:
    """Change an org (admin only). Only the fields sent change; `name` and `is_active` may be
    omitted but not sent as null. Requires `If-Match`: 428 without it, 412 if stale. A name
    or code already in use is 409."""
    org = service.update(principal, org_id, body, if_match)
    response.headers["ETag"] = etag(org.version)
    return OrgPublic.model_validate(org)
