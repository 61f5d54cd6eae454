from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class EventPublic(BaseModel):
    """One domain event (领域事件)."""

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "example": {
                "id": 1042,
                "type": "hazard.status_changed",
                "at": "2026-11-25T02:14:07Z",
                "subject_type": "hazard",
                "subject_id": 123,
                "campaign_id": 1,
                "school_id": 7,
                "org_id": 12,
                "audience": "all",
                "actor": "user:31",
                "payload": {"code": "YH-2026-000123", "from": "reported", "to": "rectifying"},
            }
        },
    )

    id: int = Field(description="Unique and stable; use it to de-duplicate.")
    type: str = Field(description="Dotted event type, e.g. `hazard.status_changed`.")
    at: datetime
    subject_type: str
    subject_id: int
    campaign_id: int | None
    school_id: int | None
    org_id: int | None
    audience: str = Field(description="`all`, or `cases` for case events (restricted).")
    actor: str = Field(description="`user:<id>`, `client:<id>` or `system`.")
    payload: dict[str, Any]


class EventFeed(BaseModel):
    items: list[EventPublic]
    next_cursor: str | None = Field(
        description="Pass as `after` on the next poll. Equals the `after` you sent when "
        "nothing new has settled; null only when there has never been an event for you."
    )
    has_more: bool = Field(description="More events are waiting: poll again at once.")
