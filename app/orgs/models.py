from datetime import datetime

from sqlalchemy import Column, Index
from sqlmodel import Field, SQLModel

from app.core.db import UTCDateTime, enum_type
from app.core.enums import LabeledEnum, register
from app.core.time import now


@register("org_kind")
class OrgKind(LabeledEnum):
    office = "office", "领导小组办公室", "Office"
    department = "department", "部门", "Department"
    school = "school", "学校", "School"


@register("school_type")
class SchoolType(LabeledEnum):
    kindergarten = "kindergarten", "幼儿园", "Kindergarten"
    primary = "primary", "小学", "Primary school"
    middle = "middle", "初中", "Middle school"
    nine_year = "nine_year", "九年一贯制学校", "Nine-year school"
    high = "high", "高中", "High school"
    complete_middle = "complete_middle", "完全中学", "Complete middle school"
    vocational = "vocational", "职业学校", "Vocational school"
    special = "special", "特殊教育学校", "Special-education school"


@register("ownership")
class Ownership(LabeledEnum):
    public = "public", "公办", "Public"
    private = "private", "民办", "Private"


@register("license_status")
class LicenseStatus(LabeledEnum):
    licensed = "licensed", "持证", "Licensed"
    discovered = "discovered", "已发现(无证)", "Discovered (unlicensed)"
    investigated = "investigated", "已调查", "Investigated"
    ordered_closed = "ordered_closed", "已责令关停", "Ordered closed"
    closed = "closed", "已取缔", "Closed"


class Org(SQLModel, table=True):
    """An office, department or school (组织)."""

    __tablename__ = "org"
    __table_args__ = (Index("ix_org_kind_supervising", "kind", "supervising_org_id"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    kind: OrgKind = Field(sa_type=enum_type(OrgKind))
    code: str | None = Field(default=None, max_length=40, unique=True)
    address: str | None = Field(default=None, max_length=200)
    contact_person: str | None = Field(default=None, max_length=50)
    contact_phone: str | None = Field(default=None, max_length=30)
    # School fields (null for offices and departments).
    school_type: SchoolType | None = Field(default=None, sa_type=enum_type(SchoolType))
    ownership: Ownership | None = Field(default=None, sa_type=enum_type(Ownership))
    license_status: LicenseStatus | None = Field(default=None, sa_type=enum_type(LicenseStatus))
    supervising_org_id: int | None = Field(default=None, foreign_key="org.id")
    student_count: int | None = Field(default=None, ge=0)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lng: float | None = Field(default=None, ge=-180, le=180)
    is_active: bool = True
    created_at: datetime = Field(default_factory=now, sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(default_factory=now, sa_column=Column(UTCDateTime, nullable=False))
    version: int = 1
