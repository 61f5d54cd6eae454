"""The event feed (事件订阅): what changed, in order, for systems that poll."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from app.auth.dependencies import CurrentPrincipal
from app.auth.principal import Principal, Scope
from app.core.errors import Forbidden, Invalid, field_error, problem_responses
from app.events import service
from app.events.schemas import EventFeed, EventPublic
from app.users.models import Role

router = APIRouter(prefix="/events", tags=["events"])

_FEED_ROLES = (Role.school, Role.department, Role.office, Role.service)
_MAX_TYPES = 30


async def feed_reader(principal: CurrentPrincipal) -> Principal:
    if principal.role not in _FEED_ROLES:
        raise Forbidden(
            "events.forbidden",
            zh="系统管理员不能读取业务事件。",
            en="Administrators do not read business events.",
        )
    if not principal.has_scope(Scope.events_read.value):
        raise Forbidden(
            "auth.scope_missing",
            zh="访问令牌缺少权限范围 events:read。",
            en="The access token lacks the scope events:read.",
        )
    return principal


def _parse_types(raw: str | None) -> list[str]:
    if not raw:
        return []
    types = [t.strip() for t in raw.split(",") if t.strip()]
    bad = [
        t
        for t in types
        if len(t) > 60 or not t.replace("_", "").replace(".", "").replace("*", "").isalnum()
    ]
    if bad or len(types) > _MAX_TYPES:
        raise Invalid(
            "events.bad_types",
            zh=f"事件类型过滤无效(最多 {_MAX_TYPES} 个,形如 hazard.status_changed 或 hazard.*)。",
            en=f"Invalid event type filter (at most {_MAX_TYPES}, like "
            "`hazard.status_changed` or `hazard.*`).",
            errors=[field_error("query.types", "bad_types", "类型无效", "invalid type")],
        )
    return types


@router.get(
    "",
    response_model=EventFeed,
    summary="Poll the event feed",
    responses=problem_responses(401, 403, 422),
)
def list_events(
    principal: Annotated[Principal, Depends(feed_reader)],
    after: Annotated[
        str | None,
        Query(max_length=200, description="`next_cursor` of your previous poll; omit to start."),
    ] = None,
    types: Annotated[
        str | None,
        Query(
            max_length=2000,
            description="Comma-separated event types; `hazard.*` for a whole family.",
            examples=["hazard.status_changed,plan.approved"],
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100, description="At most 100 per poll.")] = 100,
) -> EventFeed:
    """Domain events (`hazard.registered`, `hazard.status_changed`, `plan.approved`,
    `task.report_submitted`, `case.supervised`, …) after a cursor, oldest first, filtered to
    what you may see (a school sees its own; a department what is addressed to it or to the
    schools it supervises; case events only the handling police, the office and oversight;
    service accounts need `events:read`, and `cases:read` for case events).

    **Delivery guarantee — never miss, never double-count.** Every event is written in the
    same transaction as the change it describes (transactional outbox). Positions are
    handed out in *commit* order, not insert order: on PostgreSQL the feed serves only events
    of transactions older than every transaction still running, ordered by
    (transaction id, event id); on SQLite writers are serialised, so ids commit in order. An
    event therefore never appears behind a cursor you already hold. Keep `next_cursor` after
    each poll (also when `items` is empty) and pass it as `after`; when `has_more` is true,
    poll again at once. Events are at-least-once only if you lose your cursor: de-duplicate
    by `id`. An event written by a transaction still running is held back until it commits.
    """
    rows, next_cursor, has_more = service.feed(
        principal, after=after, types=_parse_types(types), limit=limit
    )
    return EventFeed(
        items=[EventPublic.model_validate(e) for e in rows],
        next_cursor=next_cursor,
        has_more=has_more,
    )
