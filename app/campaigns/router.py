from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Response

from app.auth.dependencies import CurrentPrincipal, OfficeUser
from app.campaigns import service
from app.campaigns.models import CampaignStatus
from app.campaigns.schemas import CampaignCreate, CampaignPublic, CampaignUpdate
from app.core.errors import problem_responses
from app.core.etag import etag
from app.core.pagination import DEFAULT_LIMIT, CursorQuery, LimitQuery, Page

router = APIRouter(prefix="/campaigns", tags=["campaigns"])

CampaignId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Campaign id.")]
IfMatch = Annotated[str | None, Header(description="The campaign's current ETag.")]


def _one(campaign: CampaignPublic, response: Response) -> CampaignPublic:
    response.headers["ETag"] = etag(campaign.version)
    return campaign


@router.get("", response_model=Page[CampaignPublic], responses=problem_responses(401, 422))
def list_campaigns(
    principal: CurrentPrincipal,
    status: Annotated[
        CampaignStatus | None, Query(description="`planning`, `active` or `closed`.")
    ] = None,
    year: Annotated[int | None, Query(ge=2000, le=2100, description="Campaign year.")] = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = DEFAULT_LIMIT,
) -> Page[CampaignPublic]:
    """Campaigns (专项整治行动), newest first, with phases, key dates and the leading group.
    Everyone signed in sees every campaign: most screens start by picking the `active` one."""
    items, next_cursor = service.list_campaigns(
        status=status, year=year, cursor=cursor, limit=limit
    )
    return Page(items=items, next_cursor=next_cursor)


@router.post(
    "",
    response_model=CampaignPublic,
    status_code=201,
    responses=problem_responses(401, 403, 409, 422),
)
def create_campaign(
    principal: OfficeUser, body: CampaignCreate, response: Response
) -> CampaignPublic:
    """Start planning a campaign (office only). Phases must lie within the campaign's dates
    and must not overlap. It starts in `planning`; `activate` it when work begins. A name
    already in use is 409."""
    return _one(service.create(principal, body), response)


@router.get(
    "/{campaign_id}", response_model=CampaignPublic, responses=problem_responses(401, 404, 422)
)
def get_campaign(
    principal: CurrentPrincipal, campaign_id: CampaignId, response: Response
) -> CampaignPublic:
    """One campaign, with `current_phase` computed from today's local date (null between or
    outside the phases), and the `ETag` the office sends back on `PATCH`."""
    return _one(service.get(campaign_id), response)


@router.patch(
    "/{campaign_id}",
    response_model=CampaignPublic,
    responses=problem_responses(401, 403, 404, 409, 412, 422, 428),
)
def update_campaign(
    principal: OfficeUser,
    campaign_id: CampaignId,
    body: CampaignUpdate,
    response: Response,
    if_match: IfMatch = None,
) -> CampaignPublic:
    """Change a campaign (office only; needs `If-Match`). Only the fields sent change; a
    list sent (`phases`, `key_dates`, `members`) replaces the whole list. A closed campaign
    refuses every change (409 `campaign.closed`)."""
    return _one(service.update(principal, campaign_id, body, if_match), response)


@router.post(
    "/{campaign_id}/activate",
    response_model=CampaignPublic,
    responses=problem_responses(401, 403, 404, 409, 412, 422),
)
def activate_campaign(
    principal: OfficeUser, campaign_id: CampaignId, response: Response, if_match: IfMatch = None
) -> CampaignPublic:
    """`planning` → `active` (office only): schools and departments start registering
    hazards. Optional `If-Match`; any other status is 409."""
    return _one(service.transition(principal, campaign_id, "activate", if_match), response)


@router.post(
    "/{campaign_id}/close",
    response_model=CampaignPublic,
    responses=problem_responses(401, 403, 404, 409, 412, 422),
)
def close_campaign(
    principal: OfficeUser, campaign_id: CampaignId, response: Response, if_match: IfMatch = None
) -> CampaignPublic:
    """`active` → `closed` (office only). Everything in a closed campaign becomes read-only:
    every later write to its hazards, plans, tasks or cases is 409 `campaign.closed`.
    Optional `If-Match`."""
    return _one(service.transition(principal, campaign_id, "close", if_match), response)
