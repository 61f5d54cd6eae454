from datetime import date, datetime

from sqlalchemy import Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.core.db import UTCDateTime, enum_type
from app.core.enums import LabeledEnum, register
from app.core.statemachine import StateMachine
from app.core.time import now


@register("campaign_status")
class CampaignStatus(LabeledEnum):
    planning = "planning", "筹备中", "Planning"
    active = "active", "进行中", "Active"
    closed = "closed", "已结束", "Closed"


@register("campaign_phase")
class PhaseCode(LabeledEnum):
    setup = "setup", "成立机构,制定方案", "Set up organisation and plan"
    action = "action", "统一部署,分头行动", "Unified deployment, separate action"
    rectification = "rectification", "全面整改,督促检查", "Full rectification and inspection"


@register("key_date")
class KeyDateCode(LabeledEnum):
    department_reports = "department_reports", "部门书面报告截止", "Department written reports due"
    completion_report = (
        "completion_report",
        "整改完成情况上报截止",
        "Rectification completion report due",
    )
    summary_report = "summary_report", "汇总上报截止", "District summary due"
    other = "other", "其他", "Other"


@register("group_position")
class GroupPosition(LabeledEnum):
    leader = "leader", "组长", "Group leader"
    deputy = "deputy", "副组长", "Deputy leader"
    member = "member", "成员", "Member"
    office_director = "office_director", "办公室主任", "Office director"


CAMPAIGN_MACHINE = StateMachine(
    "campaign",
    {
        "activate": ([CampaignStatus.planning], CampaignStatus.active),
        "close": ([CampaignStatus.active], CampaignStatus.closed),
    },
)


class Campaign(SQLModel, table=True):
    """A special rectification campaign (专项整治行动). Everything else belongs to one."""

    __tablename__ = "campaign"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    year: int
    description: str | None = Field(default=None, max_length=4000)
    status: CampaignStatus = Field(
        default=CampaignStatus.planning, sa_type=enum_type(CampaignStatus)
    )
    starts_on: date
    ends_on: date
    office_org_id: int | None = Field(default=None, foreign_key="org.id")
    plan_attachment_id: int | None = None
    created_at: datetime = Field(default_factory=now, sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(default_factory=now, sa_column=Column(UTCDateTime, nullable=False))
    activated_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    closed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    version: int = 1


class CampaignPhase(SQLModel, table=True):
    __tablename__ = "campaign_phase"
    __table_args__ = (UniqueConstraint("campaign_id", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    code: PhaseCode = Field(sa_type=enum_type(PhaseCode))
    starts_on: date
    ends_on: date


class CampaignKeyDate(SQLModel, table=True):
    __tablename__ = "campaign_key_date"

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    code: KeyDateCode = Field(sa_type=enum_type(KeyDateCode))
    title: str = Field(max_length=200)
    due_on: date


class CampaignMember(SQLModel, table=True):
    """The leading group's roster (领导小组) and the office director."""

    __tablename__ = "campaign_member"

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    position: GroupPosition = Field(sa_type=enum_type(GroupPosition))
    person_name: str = Field(max_length=50)
    title: str | None = Field(default=None, max_length=100)
    org_id: int | None = Field(default=None, foreign_key="org.id")
