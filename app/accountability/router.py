"""HTTP routes of accountability (问责)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query
from starlette.responses import Response

from app.accountability import service
from app.accountability.models import AccountabilityKind
from app.accountability.schemas import (
    AccountabilityCreate,
    AccountabilityPublic,
    AccountabilityWithdraw,
    Candidate,
)
from app.auth.dependencies import require
from app.auth.principal import Principal
from app.core.errors import problem_responses
from app.core.etag import etag
from app.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, CursorQuery, LimitQuery, Page
from app.core.responses import json_response
from app.users.models import Capability, Role

router = APIRouter(prefix="/accountability", tags=["accountability"])

Recorder = Annotated[Principal, Depends(require(Role.office, capabilities=(Capability.oversight,)))]
Reader = Annotated[
    Principal,
    Depends(
        require(Role.office, Role.department, Role.school, capabilities=(Capability.oversight,))
    ),
]
RecordId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Record id.")]
IfMatch = Annotated[
    str | None, Header(max_length=200, description="The record's current ETag (optional).")
]


def _one(record: AccountabilityPublic, status_code: int = 200) -> Response:
    return json_response(record, status_code=status_code, etag=etag(record.version))


@router.post(
    "",
    summary="Record Accountability",
    response_model=AccountabilityPublic,
    status_code=201,
    responses=problem_responses(401, 403, 409, 422),
)
def create_record(principal: Recorder, body: AccountabilityCreate) -> Response:
    """Record a notice (通报), public exposure (曝光) or accountability decision (责任追究)
    against an org (office and oversight users only).

    Linked hazards, tasks and cases must be in the campaign and visible to you (422
    otherwise). With `public: true` the record goes on the public board at once, showing only
    `public_summary`, the target org's name, the kind and the date; a summary holding anything
    shaped like an ID or mobile number, or a linked case's victim data, is refused (422
    `accountability.public_summary_has_personal_data`). Closed campaign: 409."""
    return _one(service.create(principal, body), status_code=201)


@router.get(
    "",
    summary="List Accountability Records",
    response_model=Page[AccountabilityPublic],
    responses=problem_responses(401, 403, 422),
)
def list_records(
    principal: Reader,
    campaign_id: Annotated[
        int | None, Query(ge=1, le=2**31 - 1, description="Only this campaign's records.")
    ] = None,
    kind: Annotated[
        AccountabilityKind | None,
        Query(description="`notice` (通报), `exposure` (曝光) or `accountability` (责任追究)."),
    ] = None,
    target_org_id: Annotated[
        int | None, Query(ge=1, le=2**31 - 1, description="Only records against this org.")
    ] = None,
    public: Annotated[
        bool | None, Query(description="true: only those on the public board; false: the rest.")
    ] = None,
    include_withdrawn: Annotated[
        bool, Query(description="false: leave out withdrawn records.")
    ] = True,
    cursor: CursorQuery = None,
    limit: LimitQuery = DEFAULT_LIMIT,
) -> Response:
    """Accountability records (问责), newest first. The office and oversight see all (with the
    linked object ids); a department or school sees the records targeting itself (linked ids
    null)."""
    items, next_cursor = service.list_records(
        principal,
        campaign_id=campaign_id,
        kind=kind,
        target_org_id=target_org_id,
        public=public,
        include_withdrawn=include_withdrawn,
        cursor=cursor,
        limit=limit,
    )
    return json_response(Page(items=items, next_cursor=next_cursor))


@router.get(
    "/candidates",
    summary="List Accountability Candidates",
    response_model=list[Candidate],
    responses=problem_responses(401, 403, 422),
)
def list_candidates(
    principal: Recorder,
    campaign_id: Annotated[int, Query(ge=1, le=2**31 - 1, description="Required.")],
    min_overdue: Annotated[
        int, Query(ge=1, le=100_000, description="Least overdue items (all kinds together).")
    ] = 1,
    limit: Annotated[
        int, Query(ge=1, le=MAX_LIMIT, description="Most orgs returned (no paging).")
    ] = DEFAULT_LIMIT,
) -> Response:
    """Orgs that may call for accountability (office and oversight users): per org, its
    overdue hazards (it is responsible, deadline passed, still open), overdue task
    assignments and late written reports, when together they reach `min_overdue`; most first."""
    return json_response(
        service.candidates(principal, campaign_id=campaign_id, min_overdue=min_overdue, limit=limit)
    )


@router.get(
    "/{record_id}",
    summary="Get Accountability Record",
    response_model=AccountabilityPublic,
    responses=problem_responses(401, 403, 404, 422),
)
def get_record(principal: Reader, record_id: RecordId) -> Response:
    """One accountability record, with its `ETag`. A department or school may read the
    records against itself (linked ids null); another org's record is 404."""
    return _one(service.get(principal, record_id))


@router.post(
    "/{record_id}/withdraw",
    summary="Withdraw Accountability Record",
    response_model=AccountabilityPublic,
    responses=problem_responses(401, 403, 404, 409, 412, 422),
)
def withdraw_record(
    principal: Recorder, record_id: RecordId, body: AccountabilityWithdraw, if_match: IfMatch = None
) -> Response:
    """Withdraw a record (office and oversight users), with a reason: it leaves the public
    board and stays on record with `withdrawn_at` and `withdraw_reason`. A second withdrawal
    is 409. Optional `If-Match` with the record's ETag."""
    return _one(service.withdraw(principal, record_id, body.reason, if_match))
