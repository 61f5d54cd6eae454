"""Inspections (检查/督查): who inspected which school when, what they found, the result."""

from datetime import date, datetime

from sqlalchemy import Column, Index
from sqlmodel import Field, SQLModel

from app.core.db import UTCDateTime, enum_type
from app.core.enums import LabeledEnum, register
from app.core.time import now


@register("inspection_kind")
class InspectionKind(LabeledEnum):
    self_inspection = "self_inspection", "学校自查", "Self-inspection"
    inspection_group = "inspection_group", "检查组检查", "Inspection group"
    oversight = "oversight", "督查", "Oversight check"


@register("inspection_result")
class InspectionResult(LabeledEnum):
    passed = "passed", "合格", "Passed"
    issues_found = "issues_found", "发现问题", "Issues found"
    serious_issues = "serious_issues", "发现严重问题", "Serious issues"


class Inspection(SQLModel, table=True):
    """One inspection of one school. The hazards registered from it point back here through
    `Hazard.inspection_id`."""

    __tablename__ = "inspection"
    __table_args__ = (
        Index("ix_inspection_school_inspected_on_id", "school_id", "inspected_on", "id"),
        Index("ix_inspection_campaign_inspected_on_id", "campaign_id", "inspected_on", "id"),
        Index("ix_inspection_inspector_org_id_id", "inspector_org_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id")
    school_id: int = Field(foreign_key="org.id")
    kind: InspectionKind = Field(sa_type=enum_type(InspectionKind))
    inspected_on: date
    inspectors: str = Field(max_length=500)  # names as written on the inspection form
    findings: str = Field(max_length=8000)
    result: InspectionResult = Field(sa_type=enum_type(InspectionResult))
    # The org that carried out and recorded the inspection (the school itself for a
    # self-inspection).
    inspector_org_id: int = Field(foreign_key="org.id")
    created_by: str = Field(max_length=40)
    created_at: datetime = Field(default_factory=now, sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(default_factory=now, sa_column=Column(UTCDateTime, nullable=False))
    version: int = 1
