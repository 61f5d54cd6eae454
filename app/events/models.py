from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index
from sqlmodel import Field, SQLModel

from app.core.db import BigId, UTCDateTime
from app.core.time import now


class Event(SQLModel, table=True):
    """A domain event, written in the same transaction as the change (transactional outbox).

    The feed (`GET /events`) and webhook deliveries both read from here. The visibility keys
    (`school_id`, `org_id`, `audience`) let the feed apply the same rule as the object's own
    list without joining back to it.
    """

    __tablename__ = "event"
    __table_args__ = (
        Index("ix_event_school_id_id", "school_id", "id"),
        Index("ix_event_org_id_id", "org_id", "id"),
        Index("ix_event_txid_id", "txid", "id"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    at: datetime = Field(default_factory=now, sa_column=Column(UTCDateTime, nullable=False))
    type: str = Field(max_length=60)  # "hazard.status_changed"
    subject_type: str = Field(max_length=40)
    subject_id: int
    campaign_id: int | None = None
    school_id: int | None = None
    org_id: int | None = None
    # "all": follows school/org visibility; "cases": police, office and oversight only.
    audience: str = Field(default="all", max_length=20)
    actor: str = Field(max_length=40)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # PostgreSQL only: the id of the transaction that wrote the event (xid8). Ids come from a
    # sequence at INSERT but transactions commit in any order; the feed orders by
    # (txid, id) and serves only transactions older than every one still running, so a poller
    # never skips an event that commits late. NULL on SQLite, whose writers are serialised.
    txid: int | None = Field(default=None, sa_type=BigInteger)
