"""Rectification plans (整改方案 / 治理方案)."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Column, Index, Numeric, UniqueConstraint
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


@register("plan_action")
class PlanAction(LabeledEnum):
    create = "create", "编制", "Create"
    edit = "edit", "修改", "Edit"
    submit = "submit", "提交审批", "Submit"
    approve = "approve", "批准", "Approve"
    return_ = "return", "退回修改", "Return for changes"
    complete = "complete", "完成整改", "Complete"
    progress = "progress", "报告进度", "Report progress"
    milestone_done = "milestone-done", "完成节点", "Milestone done"


class PlanMilestone(SQLModel, table=True):
    """One line of the plan's timetable (时间表)."""

    __tablename__ = "plan_milestone"
    __table_args__ = (Index("ix_plan_milestone_plan_id_sort", "plan_id", "sort_order"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id")
    sort_order: int = 0
    title: str = Field(max_length=200)
    due_on: date
    done_on: date | None = None


class PlanProgress(SQLModel, table=True):
    """A progress report by the owner: what was done, how far along, with evidence."""

    __tablename__ = "plan_progress"
    __table_args__ = (Index("ix_plan_progress_plan_id_id", "plan_id", "id"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    plan_id: int = Field(foreign_key="plan.id")
    at: datetime = Field(default_factory=now, sa_column=Column(UTCDateTime, nullable=False))
    actor: str = Field(max_length=40)
    actor_org_id: int | None = None
    text: str = Field(max_length=4000)
    percent: int
    attachment_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class PlanEvent(SQLModel, table=True):
    """One step on a plan's timeline: who, when, from, to, comment."""

    __tablename__ = "plan_event"
    __table_args__ = (Index("ix_plan_event_plan_id_id", "plan_id", "id"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=BigId)
    plan_id: int = Field(foreign_key="plan.id")
    at: datetime = Field(default_factory=now, sa_column=Column(UTCDateTime, nullable=False))
    action: PlanAction = Field(sa_type=enum_type(PlanAction))
    actor: str = Field(max_length=40)
    actor_org_id: int | None = None
    from_status: PlanStatus | None = Field(default=None, sa_type=enum_type(PlanStatus))
    to_status: PlanStatus | None = Field(default=None, sa_type=enum_type(PlanStatus))
    comment: str | None = Field(default=None, max_length=2000)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
