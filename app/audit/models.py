from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from app.core.db import BigId, UTCDateTime
from app.core.time import now


class AuditLog(SQLModel, table=True):
    """Append-only record of every write. No endpoint updates or deletes a row."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_object", "object_type", "object_id", "id"),
        Index("ix_audit_log_actor", "actor", "id"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    at: datetime = Field(default_factory=now, sa_column=Column(UTCDateTime, nullable=False))
    actor: str = Field(max_length=40)  # "user:12", "client:3", "system"
    actor_org_id: int | None = None
    action: str = Field(max_length=60)  # "hazard.escalate"
    object_type: str = Field(max_length=40)
    object_id: str | None = Field(default=None, max_length=40)
    request_id: str | None = Field(default=None, max_length=64)
    changes: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
