from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict

from app.audit import service
from app.audit.service import AuditFilter
from app.auth.dependencies import CurrentPrincipal
from app.core.errors import problem_responses
from app.core.pagination import DEFAULT_LIMIT, LimitQuery, Page
from app.core.schemas import QueryDateTime

router = APIRouter(prefix="/audit", tags=["audit"])


class AuditEntry(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor: str
    actor_org_id: int | None
    action: str
    object_type: str
    object_id: str | None
    request_id: str | None
    changes: dict[str, object]


@router.get(
    "",
    summary="List Audit Log",
    response_model=Page[AuditEntry],
    responses=problem_responses(401, 403, 422),
)
def list_audit(
    principal: CurrentPrincipal,
    object_type: Annotated[
        str | None, Query(max_length=40, description="e.g. `hazard`, `plan`, `user`.")
    ] = None,
    object_id: Annotated[
        str | None, Query(max_length=40, description="With `object_type`: one object's rows.")
    ] = None,
    actor: Annotated[str | None, Query(max_length=40, description="e.g. `user:12`")] = None,
    action: Annotated[
        str | None, Query(max_length=60, description="e.g. `hazard.escalate`")
    ] = None,
    since: Annotated[
        QueryDateTime | None, Query(description="At or after this time (ISO 8601 with offset).")
    ] = None,
    until: Annotated[
        QueryDateTime | None, Query(description="Before this time (ISO 8601 with offset).")
    ] = None,
    cursor: Annotated[
        int | None, Query(ge=1, le=2**62, description="`next_cursor` of the previous page.")
    ] = None,
    limit: LimitQuery = DEFAULT_LIMIT,
) -> Page[AuditEntry]:
    """The append-only audit log, newest first (admins and oversight users only). Every write
    in the system has a row: actor, org, action, object, time, request id and changes."""
    flt = AuditFilter(
        object_type=object_type,
        object_id=object_id,
        actor=actor,
        action=action,
        since=since,
        until=until,
    )
    rows = service.list_entries(principal, flt, before_id=cursor, limit=limit)
    next_cursor = str(rows[limit - 1].id) if len(rows) > limit else None
    return Page(items=[AuditEntry.model_validate(r) for r in rows[:limit]], next_cursor=next_cursor)
