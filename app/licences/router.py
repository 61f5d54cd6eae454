from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Response

from app.auth.dependencies import require
from app.auth.principal import Principal
from app.core.errors import problem_responses
from app.core.etag import etag
from app.core.pagination import DEFAULT_LIMIT, CursorQuery, LimitQuery, Page
from app.licences import service
from app.licences.schemas import (
    LicenceActionPublic,
    LicenceDiscover,
    LicencePublic,
    LicenceStep,
    LicenceStepIn,
)
from app.orgs.models import LicenseStatus
from app.users.models import Role

router = APIRouter(prefix="/licences", tags=["licences"])

SchoolId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The kindergarten's org id.")]
IfMatch = Annotated[str | None, Header(description="The licence file's current ETag.")]
# Schools, admins and systems have no part in the crackdown.
Staff = Annotated[Principal, Depends(require(Role.department, Role.office))]


def _one(licence: LicencePublic, response: Response) -> LicencePublic:
    response.headers["ETag"] = etag(licence.version)
    return licence


@router.get("", response_model=Page[LicencePublic], responses=problem_responses(401, 403, 422))
def list_licences(
    principal: Staff,
    status: Annotated[
        LicenseStatus | None,
        Query(description="`discovered`, `investigated`, `ordered_closed` or `closed` (取缔)."),
    ] = None,
    reopened: Annotated[
        bool | None, Query(description="true: caught operating again after closure.")
    ] = None,
    supervising_org_id: Annotated[
        int | None,
        Query(ge=1, le=2**31 - 1, description="Only those this department drives."),
    ] = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = DEFAULT_LIMIT,
) -> Page[LicencePublic]:
    """Unlicensed kindergartens (无证幼儿园) and where each stands, with its last step: all of
    them for the office and oversight; a department sees those it supervises. `reopened=true`
    lists the ones caught operating again after closure."""
    items, next_cursor = service.list_licences(
        principal,
        status=status,
        reopened=reopened,
        supervising_org_id=supervising_org_id,
        cursor=cursor,
        limit=limit,
    )
    return Page(items=items, next_cursor=next_cursor)


@router.post(
    "",
    response_model=LicencePublic,
    status_code=201,
    responses=problem_responses(401, 403, 409, 422),
)
def discover_kindergarten(
    principal: Staff, body: LicenceDiscover, response: Response
) -> LicencePublic:
    """Record a newly found unlicensed kindergarten: it is added as a private kindergarten
    (school org) in status `discovered`. A department (town, street office, approval group)
    records it under its own supervision; the office names the supervising department."""
    return _one(service.discover(principal, body), response)


@router.get(
    "/{school_id}", response_model=LicencePublic, responses=problem_responses(401, 403, 404, 422)
)
def get_licence(principal: Staff, school_id: SchoolId, response: Response) -> LicencePublic:
    """One unlicensed kindergarten's file: status, cycle, whether it reopened, and its last
    step (404 if you may not see it)."""
    return _one(service.get(principal, school_id), response)


@router.get(
    "/{school_id}/history",
    response_model=Page[LicenceActionPublic],
    responses=problem_responses(401, 403, 404, 422),
)
def list_licence_actions(
    principal: Staff,
    school_id: SchoolId,
    cursor: CursorQuery = None,
    limit: LimitQuery = DEFAULT_LIMIT,
) -> Page[LicenceActionPublic]:
    """Every step of the crackdown, oldest first, across all cycles: who, when, from and to
    which status, note and attachment ids."""
    rows, next_cursor = service.list_actions(principal, school_id, cursor=cursor, limit=limit)
    return Page(
        items=[LicenceActionPublic.model_validate(a) for a in rows], next_cursor=next_cursor
    )


_STEP_DOCS: dict[LicenceStep, tuple[str, str]] = {
    LicenceStep.investigate: (
        "Investigate Unlicensed Kindergarten",
        "调查核实: `discovered` → `investigated`.",
    ),
    LicenceStep.order_closure: (
        "Order Closure",
        "责令停办: `investigated` → `ordered_closed`.",
    ),
    LicenceStep.close: (
        "Close Unlicensed Kindergarten",
        "取缔: `ordered_closed` → `closed`.",
    ),
    LicenceStep.reinspect: (
        "Re-inspect Closed Kindergarten",
        '复查 a closed one, with `found_operating`: false keeps it closed (noted "still '
        'closed"); true starts a new cycle at `discovered`, flagged `reopened`, and emits '
        "`licence.reopened`.",
    ),
}


def _add_step_route(step: LicenceStep) -> None:
    """One route per step, so each has its own path and documentation and no step path can
    shadow another route (`/{school_id}/history`)."""
    summary, what = _STEP_DOCS[step]

    def take_step(
        principal: Staff,
        school_id: SchoolId,
        body: LicenceStepIn,
        response: Response,
        if_match: IfMatch = None,
    ) -> LicencePublic:
        return _one(service.act(principal, school_id, step, body, if_match), response)

    router.add_api_route(
        f"/{{school_id}}/{step.value}",
        take_step,
        methods=["POST"],
        name=f"licence_{step.name}",
        summary=summary,
        description=(
            f"{what}\n\nA step of the crackdown (supervising org or office), with date, note "
            "and attachments (uploaded to `parent_type=licence`, `parent_id=school_id`). A step "
            "out of order is 409."
        ),
        response_model=LicencePublic,
        responses=problem_responses(401, 403, 404, 409, 412, 422),
    )


for _step in LicenceStep:
    _add_step_route(_step)
