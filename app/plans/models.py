"""Rectification plans (整改方案 / 治理方案)."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Column, Index, Numeric, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.core.db import BigId, UTCDateTime, enum_type
from app.core.enums import LabeledEnum, register
from app.core.statemachine import StateMachine
from app.core.time import now


@register("plan_status")
class PlanStatus(LabeledEnum):
    draft = "draft", "草稿", "Draft"
    submitted = "submitted", "已提交待审批", "Submitted"
    approved = "approved", "已批准", "Approved"
    returned = "returned", "已退回修改", "Returned"
    completed = "completed", "已完成", "Completed"


PLAN_MACHINE: StateMachine[PlanStatus] = StateMachine(
    "plan",
    {
        "submit": ([PlanStatus.draft, PlanStatus.returned], PlanStatus.submitted),
        "approve": ([PlanStatus.submitted], PlanStatus.approved),
        "return": ([PlanStatus.submitted], PlanStatus.returned),
        "complete": ([PlanStatus.approved], PlanStatus.completed),
    },
)


class Plan(SQLModel, table=True):
    """The six parts a hazard remediation plan must have, plus its status."""

    __tablename__ = "plan"
    __table_args__ = (
        Index("ix_plan_campaign_status_id", "campaign_id", "status", "id"),
        Index("ix_plan_owner_status_id", "owner_org_id", "status", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id")
    owner_org_id: int = Field(foreign_key="org.id")
    title: str = Field(max_length=200)
    # 目标和任务
    goal_and_tasks: str | None = Field(default=None, max_length=8000)
    # 方法和措施
    methods_and_measures: str | None = Field(default=None, max_length=8000)
    # 经费和物资
    funds_amount: Decimal | None = Field(default=None, sa_type=Numeric(14, 2))
    funds_source: str | None = Field(default=None, max_length=500)
    materials: str | None = Field(default=None, max_length=4000)
    # 负责治理的机构和人员
    responsible_body: str | None = Field(default=None, max_length=200)
    responsible_person: str | None = Field(default=None, max_length=50)
    responsible_phone: str | None = Field(default=None, max_length=30)
    # 时限和要求
    deadline: date | None = None
    requirements: str | None = Field(default=None, max_length=4000)
    # 安全措施和应急预案
    safety_measures: str | None = Field(default=None, max_length=8000)
    contingency_plan: str | None = Field(default=None, max_length=8000)
    status: PlanStatus = Field(default=PlanStatus.draft, sa_type=enum_type(PlanStatus))
    progress_percent: int = 0
    review_comment: str | None = Field(default=None, max_length=2000)
    created_by: str = Field(max_length=40)
    created_at: datetime = Field(default_factory=now, sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(default_factory=now, sa_column=Column(UTCDateTime, nullable=False))
    submitted_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    approved_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    returned_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    completed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    version: int = 1


class PlanHazard(SQLModel, table=True):
    """Which hazards a plan covers (one plan may cover several)."""

    __tablename__ = "plan_hazard"
    __table_args__ = (
        UniqueConstraint("plan_id", "hazard_id"),
        Index("ix_plan_hazard_hazard_id", "hazard_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id")
    hazard_id: int = Field(foreign_key="hazard.id", sa_type=BigId)
