import re
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.core.schemas import Input, Patch
from app.webhooks.models import DeliveryStatus

_EVENT_TYPE = re.compile(r"^(\*|[a-z_]+(\.[a-z_]+)*(\.\*)?)$")
Url = Field(min_length=8, max_length=2000, description="http(s) URL that receives the POSTs.")


def _check_types(types: list[str]) -> list[str]:
    bad = [t for t in types if len(t) > 60 or not _EVENT_TYPE.match(t)]
    if bad:
        raise ValueError(f"invalid event types: {', '.join(bad[:5])}")
    return sorted(set(types))


class SubscriptionCreate(Input):
    url: str = Url
    description: str | None = Field(default=None, max_length=500)
    event_types: list[str] = Field(
        min_length=1,
        max_length=50,
        description="Exact types (`hazard.status_changed`), families (`hazard.*`) or `*`. "
        "Case events (`case.*`) are only sent when listed by their exact type.",
    )

    @field_validator("event_types")
    @classmethod
    def _each(cls, types: list[str]) -> list[str]:
        return _check_types(types)

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "url": "https://zongzhi.example.gov.cn/hooks/campus-safety",
                "description": "市综治平台",
                "event_types": ["hazard.*", "plan.approved"],
            }
        }
    )


class SubscriptionUpdate(Patch):
    """Only the fields sent change. `is_active: true` re-enables a disabled subscription and
    clears its failure count."""

    required_if_sent = frozenset({"url", "event_types", "is_active"})

    url: str | None = Field(default=None, min_length=8, max_length=2000)
    description: str | None = Field(default=None, max_length=500)
    event_types: list[str] | None = Field(default=None, min_length=1, max_length=50)
    is_active: bool | None = None

    @field_validator("event_types")
    @classmethod
    def _each(cls, types: list[str] | None) -> list[str] | None:
        return _check_types(types) if types is not None else None

    model_config = ConfigDict(
        json_schema_extra={"example": {"event_types": ["hazard.*"], "is_active": True}}
    )


class SubscriptionPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    url: str
    description: str | None
    event_types: list[str]
    is_active: bool
    failure_count: int = Field(description="Consecutive failed attempts.")
    disabled_at: datetime | None = Field(
        description="Set when too many consecutive failures disabled the subscription."
    )
    created_at: datetime
    updated_at: datetime
    version: int


class SubscriptionWithSecret(SubscriptionPublic):
    secret: str = Field(
        description="`whsec_…` signing secret, shown only in this response. Verify "
        "`webhook-signature` with it (Standard Webhooks)."
    )


class AttemptPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    status_code: int | None = Field(description="The receiver's HTTP status; null if none.")
    error: str | None
    duration_ms: int


class DeliveryPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    event_id: int
    message_id: str = Field(description="The `webhook-id` header; the same on every retry.")
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    attempt_log: list[AttemptPublic] = Field(default_factory=list)
