"""Webhook subscriptions (事件推送订阅), their deliveries and every delivery attempt."""

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.core.db import BigId, UTCDateTime, enum_type
from app.core.enums import LabeledEnum, register
from app.core.time import now


@register("webhook_delivery_status")
class DeliveryStatus(LabeledEnum):
    pending = "pending", "待发送", "Pending"
    succeeded = "succeeded", "已送达", "Delivered"
    failed = "failed", "失败,等待重试", "Failed, will retry"
    dead = "dead", "已放弃", "Given up"


class WebhookSubscription(SQLModel, table=True):
    """Where to push events for another system, and which ones."""

    __tablename__ = "webhook_subscription"

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(max_length=2000)
    description: str | None = Field(default=None, max_length=500)
    # Exact types, or `family.*`; `*` for all. Case events need their exact type.
    event_types: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # The signing secret ("whsec_" + base64), encrypted with a key derived from SECRET_KEY:
    # it must be read back to sign, so it cannot be hashed.
    secret_encrypted: str = Field(sa_column=Column(Text, nullable=False))
    is_active: bool = True
    # Consecutive failed attempts; reset by any success. Too many disable the subscription.
    failure_count: int = 0
    disabled_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    created_by: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=now, sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(default_factory=now, sa_column=Column(UTCDateTime, nullable=False))
    version: int = 1


class WebhookDelivery(SQLModel, table=True):
    """One event to send to one subscription, retried until it succeeds or is given up."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        UniqueConstraint("subscription_id", "event_id"),
        Index("ix_webhook_delivery_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    subscription_id: int = Field(foreign_key="webhook_subscription.id", index=True)
    event_id: int = Field(foreign_key="event.id", sa_type=BigInteger)
    # The `webhook-id` header: stable across retries so receivers can de-duplicate.
    message_id: str = Field(max_length=40)
    status: DeliveryStatus = Field(
        default=DeliveryStatus.pending, sa_type=enum_type(DeliveryStatus)
    )
    attempts: int = 0
    next_attempt_at: datetime = Field(
        default_factory=now, sa_column=Column(UTCDateTime, nullable=False)
    )
    last_attempt_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, max_length=500)
    # A worker's lease: no other worker sends this delivery before `claimed_until`.
    claimed_by: str | None = Field(default=None, max_length=80)
    claimed_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    created_at: datetime = Field(default_factory=now, sa_column=Column(UTCDateTime, nullable=False))


class WebhookAttempt(SQLModel, table=True):
    """One HTTP attempt of a delivery."""

    __tablename__ = "webhook_attempt"

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    # None for a test ping (`POST /webhooks/{id}/test`), which is no delivery of an event.
    delivery_id: int | None = Field(
        default=None, foreign_key="webhook_delivery.id", index=True, sa_type=BigInteger
    )
    subscription_id: int = Field(foreign_key="webhook_subscription.id", index=True)
    at: datetime = Field(default_factory=now, sa_column=Column(UTCDateTime, nullable=False))
    status_code: int | None = None
    error: str | None = Field(default=None, max_length=500)
    duration_ms: int = 0
    worker: str | None = Field(default=None, max_length=80)


class WebhookDispatchState(SQLModel, table=True):
    """Where the dispatcher stopped reading the outbox (one row)."""

    __tablename__ = "webhook_dispatch_state"

    name: str = Field(primary_key=True, max_length=40)
    txid: int | None = Field(default=None, sa_type=BigInteger)
    event_id: int = Field(default=0, sa_type=BigInteger)
    updated_at: datetime = Field(default_factory=now, sa_column=Column(UTCDateTime, nullable=False))
