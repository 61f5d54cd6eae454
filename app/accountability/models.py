"""Accountability records (问责): notices (通报), public exposures (曝光) and accountability
decisions (责任追究) the office and oversight users record against an org that neglects
rectification."""

from datetime import date, datetime

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from app.core.db import UTCDateTime, enum_type
from app.core.enums import LabeledEnum, register
from app.core.time import now


@register("accountability_kind")
class AccountabilityKind(LabeledEnum):
    notice = "notice", "通报", "Notice"
    exposure = "exposure", "曝光", "Public exposure"
    accountability = "accountability", "责任追究", "Accountability decision"


class AccountabilityRecord(SQLModel, table=True):
    """One decision. Current while `withdrawn_at` is null; on the public board while current
    and `public`."""

    __tablename__ = "accountability_record"
    __table_args__ = (
        Index("ix_accountability_record_campaign_id_id", "campaign_id", "id"),
        Index("ix_accountability_record_target_org_id_id", "target_org_id", "id"),
        Index(
            "ix_accountability_record_public_board", "public", "withdrawn_at", "published_at", "id"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id")
    target_org_id: int = Field(foreign_key="org.id")
    target_person: str | None = Field(default=None, max_length=50)
    kind: AccountabilityKind = Field(sa_type=enum_type(AccountabilityKind))
    reason: str = Field(max_length=4000)
    # What the decision rests on; shown to the office and oversight only.
    hazard_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    task_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    case_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    decided_by: str = Field(max_length=40)
    decided_by_org_id: int | None = None
    decided_on: date
    public: bool = False
    # The only text that leaves for the public board; checked for personal data.
    public_summary: str | None = Field(default=None, max_length=1000)
    published_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    created_at: datetime = Field(default_factory=now, sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(default_factory=now, sa_column=Column(UTCDateTime, nullable=False))
    withdrawn_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    withdrawn_by: str | None = Field(default=None, max_length=40)
    withdraw_reason: str | None = Field(default=None, max_length=2000)
    version: int = 1
