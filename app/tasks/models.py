"""Department tasks (部门任务), each org's assignment, and its written reports (书面报告)."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.core.db import UTCDateTime, enum_type
from app.core.enums import LabeledEnum, register
from app.core.statemachine import StateMachine
from app.core.time import now


@register("key_task_type")
class KeyTaskType(LabeledEnum):
    surroundings_cleanup = "surroundings_cleanup", "校园周边环境治理", "Surroundings cleanup"
    hazard_inspection = "hazard_inspection", "安全隐患排查", "Campus hazard inspection"
    private_school_inspection = (
        "private_school_inspection",
        "民办学校幼儿园排查整治",
        "Private school & kindergarten inspection",
    )
    case_crackdown = "case_crackdown", "重大案件查处", "Major case crackdown"
    summary_report = "summary_report", "汇总上报", "Summary report"
    other = "other", "其他", "Other"


@register("task_role")
class TaskRole(LabeledEnum):
    lead = "lead", "牵头单位", "Lead"
    participant = "participant", "参加单位", "Participant"


@register("task_assignment_status")
class AssignmentStatus(LabeledEnum):
    assigned = "assigned", "已下达", "Assigned"
    in_progress = "in_progress", "办理中", "In progress"
    reported = "reported", "已报告待审核", "Reported"
    accepted = "accepted", "已通过", "Accepted"
    returned = "returned", "已退回", "Returned"


# An assignment is done once its report is in (or accepted); otherwise a passed due date makes
# it overdue.
DONE_STATUSES = (AssignmentStatus.reported, AssignmentStatus.accepted)


@register("task_report_status")
class ReportStatus(LabeledEnum):
    submitted = "submitted", "已提交待审核", "Submitted"
    accepted = "accepted", "已通过", "Accepted"
    returned = "returned", "已退回", "Returned"


@register("task_action")
class TaskAction(LabeledEnum):
    assign = "assign", "下达", "Assign"
    start = "start", "开始办理", "Start"
    submit = "submit", "提交书面报告", "Submit the report"
    accept = "accept", "审核通过", "Accept"
    return_ = "return", "退回", "Return"


# A resubmission after `return` passes through `in_progress` again (the service applies
# `start` first), so `submit` only ever leaves `in_progress`.
ASSIGNMENT_MACHINE: StateMachine[AssignmentStatus] = StateMachine(
    "task_assignment",
    {
        "start": (
            [AssignmentStatus.assigned, AssignmentStatus.returned],
            AssignmentStatus.in_progress,
        ),
        "submit": ([AssignmentStatus.in_progress], AssignmentStatus.reported),
        "accept": ([AssignmentStatus.reported], AssignmentStatus.accepted),
        "return": ([AssignmentStatus.reported], AssignmentStatus.returned),
    },
)

REPORT_MACHINE: StateMachine[ReportStatus] = StateMachine(
    "task_report",
    {
        "accept": ([ReportStatus.submitted], ReportStatus.accepted),
        "return": ([ReportStatus.submitted], ReportStatus.returned),
    },
)


class Task(SQLModel, table=True):
    """A department task (部门任务) in a campaign: one lead org (牵头) and participants (参加)."""

    __tablename__ = "task"
    __table_args__ = (Index("ix_task_campaign_id_id", "campaign_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id")
    title: str = Field(max_length=200)
    description: str | None = Field(default=None, max_length=8000)
    key_task_type: KeyTaskType = Field(sa_type=enum_type(KeyTaskType))
    lead_org_id: int = Field(foreign_key="org.id", index=True)
    due_on: date
    created_by: str = Field(max_length=40)
    created_at: datetime = Field(default_factory=now, sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(default_factory=now, sa_column=Column(UTCDateTime, nullable=False))
    version: int = 1


class TaskAssignment(SQLModel, table=True):
    """One org's share of a task, with its own status."""

    __tablename__ = "task_assignment"
    __table_args__ = (
        UniqueConstraint("task_id", "org_id"),
        Index("ix_task_assignment_org_id_status", "org_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="task.id", index=True)
    org_id: int = Field(foreign_key="org.id")
    role: TaskRole = Field(sa_type=enum_type(TaskRole))
    status: AssignmentStatus = Field(
        default=AssignmentStatus.assigned, sa_type=enum_type(AssignmentStatus)
    )
    assigned_at: datetime = Field(
        default_factory=now, sa_column=Column(UTCDateTime, nullable=False)
    )
    started_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    reported_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    accepted_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    returned_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    updated_at: datetime = Field(default_factory=now, sa_column=Column(UTCDateTime, nullable=False))
    version: int = 1


class TaskAssignmentEvent(SQLModel, table=True):
    """One step on an assignment's timeline: who, when, from, to, comment."""

    __tablename__ = "task_assignment_event"
    __table_args__ = (Index("ix_task_assignment_event_assignment_id_id", "assignment_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    assignment_id: int = Field(foreign_key="task_assignment.id")
    at: datetime = Field(default_factory=now, sa_column=Column(UTCDateTime, nullable=False))
    action: TaskAction = Field(sa_type=enum_type(TaskAction))
    actor: str = Field(max_length=40)
    actor_org_id: int | None = None
    from_status: AssignmentStatus | None = Field(default=None, sa_type=enum_type(AssignmentStatus))
    to_status: AssignmentStatus = Field(sa_type=enum_type(AssignmentStatus))
    comment: str | None = Field(default=None, max_length=2000)
    report_id: int | None = None


class TaskReport(SQLModel, table=True):
    """A written report (书面报告) by one assigned org. A returned report stays on record; the
    org submits a new one."""

    __tablename__ = "task_report"
    __table_args__ = (
        Index("ix_task_report_task_id_id", "task_id", "id"),
        Index("ix_task_report_assignment_id_id", "assignment_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="task.id")
    assignment_id: int = Field(foreign_key="task_assignment.id")
    org_id: int = Field(foreign_key="org.id")
    text: str = Field(max_length=20000)
    figures: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    attachment_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    status: ReportStatus = Field(default=ReportStatus.submitted, sa_type=enum_type(ReportStatus))
    # Submitted after the task's due date; fixed at submission so moving the due date later
    # does not rewrite history.
    late: bool = False
    submitted_by: str = Field(max_length=40)
    submitted_at: datetime = Field(
        default_factory=now, sa_column=Column(UTCDateTime, nullable=False)
    )
    review_comment: str | None = Field(default=None, max_length=2000)
    reviewed_by: str | None = Field(default=None, max_length=40)
    reviewed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    version: int = 1
