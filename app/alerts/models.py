"""Which overdue notices were already sent to subscribed systems (so each goes out once)."""

from datetime import date, datetime

from sqlalchemy import Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.core.db import BigId, UTCDateTime
from app.core.time import now


class AlertNotice(SQLModel, table=True):
    """One `<object>.overdue` event emitted for an object missing one deadline. A new deadline
    (an extension granted) that is missed again gives a new notice."""

    __tablename__ = "alert_notice"
    __table_args__ = (UniqueConstraint("object_type", "object_id", "deadline"),)

    id: int | None = Field(default=None, primary_key=True)
    object_type: str = Field(max_length=40)
    object_id: int = Field(sa_type=BigId)
    deadline: date
    notified_at: datetime = Field(
        default_factory=now, sa_column=Column(UTCDateTime, nullable=False)
    )
