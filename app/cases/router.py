from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Response
from pydantic import Field

from app.auth.dependencies import CurrentPrincipal, require, require_scope
from app.auth.principal import Principal
from app.cases import service
from app.cases.models import CaseStatus, CaseType
from app.cases.schemas import (
    CaseCreate,
    CaseDetail,
    CaseEventOut,
    CaseListItem,
    CaseSanitized,
    CaseUpdate,
    DelistIn,
    ExposeIn,
    ExtendIn,
    JudgeIn,
    ProgressIn,
    ProgressOut,
    StatusCounts,
    SupervisionIn,
    TransitionIn,
    VictimsOut,
    WithdrawIn,
)
from app.cases.visibility import may_list
from app.core.errors import Forbidden, problem_responses
from app.core.etag import etag
from app.core.pagination import DEFAULT_LIMIT, CursorQuery, LimitQuery, Page, parse_sort
from app.core.schemas import QueryDate
from app.users.models import Capability, Role

router = APIRouter(prefix="/cases", tags=["cases"])

CaseId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Case id.")]
CampaignFilter = Annotated[
    int | None, Query(ge=1, le=2**31 - 1, description="Only this campaign's cases.")
]
CaseTypeFilter = Annotated[
    CaseType | None, Query(description="e.g. `harm_to_minor` (伤害未成年人).")
]
IfMatch = Annotated[str | None, Header(description="The case's current ETag.")]

_scope = require_scope("cases:read")
Reader = Annotated[Principal, Depends(_scope)]


async def _police(principal: CurrentPrincipal) -> Principal:
    if not principal.can(Capability.cases):
        raise Forbidden(
            "case.police_only",
            zh="此操作仅限具备案件办理能力的公安机关用户。",
            en="This action is limited to police users with the cases capability.",
        )
    return principal


Police = Annotated[Principal, Depends(_police)]
Supervisor = Annotated[
    Principal, Depends(require(Role.office, capabilities=(Capability.oversight,)))
]
Office = Annotated[Principal, Depends(require(Role.office))]


async def _lister(principal: Reader) -> Principal:
    if not may_list(principal):
        raise Forbidden(
            "case.list_forbidden",
            zh="只有公安机关、办公室和监督用户可以查询案件列表。",
            en="Only the police, the office and oversight users may list cases.",
        )
    return principal


Lister = Annotated[Principal, Depends(_lister)]
AnyCase = Annotated[CaseDetail | CaseSanitized, Field(discriminator="view")]
AnyRow = Annotated[CaseListItem | CaseSanitized, Field(discriminator="view")]


def _one(case: CaseDetail | CaseSanitized, response: Response) -> CaseDetail | CaseSanitized:
    response.headers["ETag"] = etag(case.version)
    return case


def _full(case: CaseDetail, response: Response) -> CaseDetail:
    response.headers["ETag"] = etag(case.version)
    return case


@router.get(
    "",
    response_model=Page[AnyRow],
    responses=problem_responses(401, 403, 422),
)
def list_cases(
    principal: Lister,
    campaign_id: CampaignFilter = None,
    status: Annotated[CaseStatus | None, Query(description="Cases in this status.")] = None,
    case_type: CaseTypeFilter = None,
    school_id: Annotated[
        int | None, Query(ge=1, le=2**31 - 1, description="Cases concerning this school.")
    ] = None,
    supervised: Annotated[
        bool | None, Query(description="Under listed supervision now (挂牌督办).")
    ] = None,
    overdue: Annotated[
        bool | None,
        Query(
            description="Supervised and either unsolved past the deadline to solve, or a "
            "progress report missed."
        ),
    ] = None,
    occurred_from: Annotated[QueryDate | None, Query(description="Local date, inclusive.")] = None,
    occurred_to: Annotated[QueryDate | None, Query(description="Local date, inclusive.")] = None,
    sort: Annotated[
        str, Query(max_length=20, description="`occurred_at` or `filed_at`, `-` for newest first.")
    ] = "-occurred_at",
    cursor: CursorQuery = None,
    limit: LimitQuery = DEFAULT_LIMIT,
) -> Page[AnyRow]:
    """Cases (案件) the caller may see: the police their own org's, the office and oversight
    all. Service accounts (`cases:read`) get sanitized rows (`view: "sanitized"`). Schools and
    other departments may not list cases (403). Rows never carry victims or the narrative
    summary: open a case for those."""
    flt = service.CaseFilter(
        campaign_id=campaign_id,
        status=status,
        case_type=case_type,
        school_id=school_id,
        supervised=supervised,
        overdue=overdue,
        occurred_from=occurred_from,
        occurred_to=occurred_to,
    )
    items, next_cursor = service.list_cases(
        principal,
        flt,
        sort=parse_sort(sort, service.SORT_KEYS),
        cursor=cursor,
        limit=limit,
    )
    return Page(items=list(items), next_cursor=next_cursor)


@router.get(
    "/stats/by-status",
    summary="Count Cases By Status",
    response_model=StatusCounts,
    responses=problem_responses(401, 403, 422),
)
def stats_by_status(
    principal: Supervisor,
    campaign_id: CampaignFilter = None,
    case_type: CaseTypeFilter = None,
) -> StatusCounts:
    """Number of cases in each status (every status listed, zeros included, plus the
    `total`), for the office and oversight users: the police dashboard's tiles."""
    return service.stats_by_status(
        principal, service.CaseFilter(campaign_id=campaign_id, case_type=case_type)
    )


@router.post(
    "",
    response_model=CaseDetail,
    status_code=201,
    responses=problem_responses(401, 403, 409, 422),
)
def create_case(principal: Police, body: CaseCreate, response: Response) -> CaseDetail:
    """File a case (立案; police with the `cases` capability). The handling org is the
    caller's org; the code `AJ-<year>-<seq>` is assigned. Victims are stored apart and shown
    masked in this response. `sanitized_summary` (what the school concerned may read) is
    refused with 422 `case.sanitized_summary_has_personal_data` if it names a victim or holds
    an ID or mobile number. A time without offset is taken as local time."""
    return _full(service.create(principal, body), response)


@router.get(
    "/{case_id}",
    response_model=AnyCase,
    responses=problem_responses(401, 403, 404, 422),
)
def get_case(principal: Reader, case_id: CaseId, response: Response) -> CaseDetail | CaseSanitized:
    """One case. `view: "full"` for the handling police, the office and oversight — with
    victims unmasked only for the handling org and oversight (each such read is audited as
    `case.victims_read`), masked for the office. `view: "sanitized"` for a school the case
    concerns and for service accounts: type, status, occurred date and sanitized summary only.
    Anyone else: 404."""
    return _one(service.get(principal, case_id), response)


@router.patch(
    "/{case_id}",
    response_model=CaseDetail,
    responses=problem_responses(401, 403, 404, 409, 412, 422, 428),
)
def update_case(
    principal: Police,
    case_id: CaseId,
    body: CaseUpdate,
    response: Response,
    if_match: IfMatch = None,
) -> CaseDetail:
    """Change a case (handling police only; needs `If-Match`). `victims`, when sent, replaces
    the whole list. A closed case refuses changes (409 `case.closed`)."""
    return _full(service.update(principal, case_id, body, if_match), response)


@router.get(
    "/{case_id}/events",
    response_model=Page[CaseEventOut],
    responses=problem_responses(401, 403, 404, 422),
)
def list_case_events(
    principal: Reader, case_id: CaseId, cursor: CursorQuery = None, limit: LimitQuery = 100
) -> Page[CaseEventOut]:
    """The case's timeline, oldest first: status changes, supervision, extensions (with their
    reasons), progress reports, exposure. Full readers only; a school concerned gets 403."""
    items, next_cursor = service.timeline(principal, case_id, cursor=cursor, limit=limit)
    return Page(items=items, next_cursor=next_cursor)


@router.get(
    "/{case_id}/victims",
    response_model=VictimsOut,
    responses=problem_responses(401, 403, 404, 422),
)
def list_victims(principal: Reader, case_id: CaseId) -> VictimsOut:
    """The case's victims (受害人). Unmasked for the handling police and oversight users —
    every such read is written to the audit log (`case.victims_read`) — masked for the office
    (`张*`, `1101**********1234`). A school concerned and service accounts get 403."""
    return service.victims(principal, case_id)


def _transition(
    action: str,
    summary: str,
    doc: str,
) -> None:
    def route(
        principal: Police,
        case_id: CaseId,
        response: Response,
        body: TransitionIn | None = None,
        if_match: IfMatch = None,
    ) -> CaseDetail:
        return _full(
            service.transition(
                principal,
                case_id,
                action,
                comment=body.comment if body else None,
                if_match=if_match,
            ),
            response,
        )

    route.__doc__ = doc
    router.add_api_route(
        f"/{{case_id}}/{action}",
        route,
        methods=["POST"],
        response_model=CaseDetail,
        summary=summary,
        name=f"case_{action.replace('-', '_')}",
        responses=problem_responses(401, 403, 404, 409, 412, 422),
    )


_ACTION_NOTE = (
    " The body, and its `comment` (written on the timeline), may be left out; `If-Match` with"
    " the case's ETag is optional. Any other status is 409; another org's case is 404."
)
_transition(
    "start-investigation",
    "Start Case Investigation",
    "`filed` → `investigating` (侦查; handling police)." + _ACTION_NOTE,
)
_transition(
    "solve",
    "Solve Case",
    "`investigating` → `solved` (破案; handling police). A supervised case may then be "
    "delisted (摘牌) and exposed (曝光)." + _ACTION_NOTE,
)
_transition(
    "prosecute",
    "Prosecute Case",
    "`solved` → `prosecuted` (移送起诉; handling police); then `judge` records the outcome."
    + _ACTION_NOTE,
)
_transition(
    "close",
    "Close Case",
    "`judged` → `closed` (结案; handling police). A closed case refuses every change."
    + _ACTION_NOTE,
)


@router.post(
    "/{case_id}/judge",
    response_model=CaseDetail,
    responses=problem_responses(401, 403, 404, 409, 412, 422),
)
def judge_case(
    principal: Police,
    case_id: CaseId,
    body: JudgeIn,
    response: Response,
    if_match: IfMatch = None,
) -> CaseDetail:
    """`prosecuted` → `judged` (判决; handling police) with the court's `judgement_outcome`
    (required); then `close`. Optional `If-Match`; any other status is 409."""
    return _full(
        service.transition(
            principal,
            case_id,
            "judge",
            comment=body.comment,
            judgement_outcome=body.judgement_outcome,
            if_match=if_match,
        ),
        response,
    )


@router.post(
    "/{case_id}/supervision",
    response_model=CaseDetail,
    status_code=201,
    responses=problem_responses(401, 403, 404, 409, 412, 422),
)
def supervise_case(
    principal: Supervisor,
    case_id: CaseId,
    body: SupervisionIn,
    response: Response,
    if_match: IfMatch = None,
) -> CaseDetail:
    """Put an unsolved case under listed supervision (挂牌督办; office or oversight) with a
    deadline to solve (限期侦破) and a progress-report interval. The supervising org defaults
    to the caller's. 409 when the case is solved already or was listed before."""
    return _full(service.supervise(principal, case_id, body, if_match), response)


@router.post(
    "/{case_id}/supervision/extend",
    response_model=CaseDetail,
    responses=problem_responses(401, 403, 404, 409, 412, 422),
)
def extend_supervision(
    principal: Supervisor,
    case_id: CaseId,
    body: ExtendIn,
    response: Response,
    if_match: IfMatch = None,
) -> CaseDetail:
    """Move the deadline to solve later (office or oversight); the reason goes on the
    timeline. 422 when the new date is not later; 409 when not supervised or already
    solved."""
    return _full(service.extend(principal, case_id, body, if_match), response)


@router.post(
    "/{case_id}/supervision/delist",
    response_model=CaseDetail,
    responses=problem_responses(401, 403, 404, 409, 412, 422),
)
def delist_case(
    principal: Supervisor,
    case_id: CaseId,
    response: Response,
    body: DelistIn | None = None,
    if_match: IfMatch = None,
) -> CaseDetail:
    """Remove listed supervision (摘牌; office or oversight), only once the case is solved
    (409 before, or when it is not supervised). The body, and its `reason`, may be left out;
    the reason goes on the timeline."""
    return _full(service.delist(principal, case_id, body or DelistIn(), if_match), response)


@router.post(
    "/{case_id}/progress",
    summary="Report Case Progress",
    response_model=ProgressOut,
    status_code=201,
    responses=problem_responses(401, 403, 404, 409, 422),
)
def report_progress(principal: Police, case_id: CaseId, body: ProgressIn) -> ProgressOut:
    """A progress report on a supervised case (handling police). The next report is due
    `report_interval_days` after today; a missed one makes the supervision overdue. 409 when
    the case is not under supervision."""
    return service.report_progress(principal, case_id, body)


@router.get(
    "/{case_id}/progress",
    summary="List Case Progress",
    response_model=Page[ProgressOut],
    responses=problem_responses(401, 403, 404, 422),
)
def list_progress(
    principal: Reader,
    case_id: CaseId,
    cursor: CursorQuery = None,
    limit: LimitQuery = DEFAULT_LIMIT,
) -> Page[ProgressOut]:
    """Progress reports (侦办进展) on the case, newest first (handling police, office,
    oversight; a school concerned gets 403)."""
    items, next_cursor = service.list_progress(principal, case_id, cursor=cursor, limit=limit)
    return Page(items=items, next_cursor=next_cursor)


@router.post(
    "/{case_id}/expose",
    response_model=CaseDetail,
    status_code=201,
    responses=problem_responses(401, 403, 404, 409, 412, 422),
)
def expose_case(
    principal: Office,
    case_id: CaseId,
    body: ExposeIn,
    response: Response,
    if_match: IfMatch = None,
) -> CaseDetail:
    """Publish a typical solved case on the public board (公开曝光; office only) with a
    sanitized title and summary. Refused with 422 `case.exposure_has_personal_data` when the
    text holds a victim's name, ID number or contact, or any ID-number or mobile-number
    pattern. 409 when not yet solved or already exposed."""
    return _full(service.expose(principal, case_id, body, if_match), response)


@router.post(
    "/{case_id}/expose/withdraw",
    summary="Withdraw Case Exposure",
    response_model=CaseDetail,
    responses=problem_responses(401, 403, 404, 409, 412, 422),
)
def withdraw_exposure(
    principal: Office,
    case_id: CaseId,
    response: Response,
    body: WithdrawIn | None = None,
    if_match: IfMatch = None,
) -> CaseDetail:
    """Take the case off the public board (office only): it disappears from
    `/public/exposures` at once and stays on the case with `withdrawn_at`. The body, and its
    `reason`, may be left out. 409 when it is not exposed."""
    return _full(
        service.withdraw_exposure(principal, case_id, body or WithdrawIn(), if_match), response
    )
