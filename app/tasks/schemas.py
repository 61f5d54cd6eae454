from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.core.schemas import Input, Patch
from app.tasks.models import AssignmentStatus, KeyTaskType, ReportStatus, TaskRole

OrgId = Annotated[int, Field(ge=1, le=2**31 - 1)]
AttachmentId = Annotated[int, Field(ge=1, le=2**62)]
Figure = Annotated[int, Field(ge=0, le=10**9)]


def _distinct_participants(lead: int | None, participants: list[int] | None) -> None:
    if participants is None:
        return
    if len(set(participants)) != len(participants):
        raise ValueError("participant_org_ids must be distinct")
    if lead is not None and lead in participants:
        raise ValueError("the lead org is not repeated among the participants")


class TaskCreate(Input):
    """A task for departments (部门任务): one lead org and any participants."""

    campaign_id: int = Field(ge=1, le=2**31 - 1)
    title: str = Field(min_length=1, max_length=200)
    description: str | None = Field(
        default=None, max_length=8000, description="What the departments must do."
    )
    key_task_type: KeyTaskType = Field(
        description="Which key task it is; decides the figures its reports carry."
    )
    lead_org_id: OrgId = Field(description="The lead department (牵头单位).")
    participant_org_ids: list[OrgId] = Field(
        default_factory=list,
        max_length=50,
        description="Participating departments (参加单位), each once, not the lead.",
    )
    due_on: date = Field(description="Local date the written reports are due.")

    @model_validator(mode="after")
    def _orgs(self) -> "TaskCreate":
        _distinct_participants(self.lead_org_id, self.participant_org_ids)
        return self

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "campaign_id": 1,
                "title": "校园周边环境治理行动",
                "description": "依法清理整顿校园周边的非法网吧、书摊、小卖部等场所。",
                "key_task_type": "surroundings_cleanup",
                "lead_org_id": 2,
                "participant_org_ids": [3, 4, 5],
                "due_on": "2026-12-10",
            }
        }
    )


class TaskUpdate(Patch):
    """Only the fields sent change. `participant_org_ids` replaces the participants: new orgs
    get an assignment; an org can be removed only while its assignment is untouched."""

    required_if_sent = frozenset({"title", "due_on", "participant_org_ids"})

    title: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=8000)
    due_on: date | None = Field(default=None, description="Local date the reports are due.")
    participant_org_ids: list[OrgId] | None = Field(
        default=None, max_length=50, description="Replaces the participants."
    )

    @model_validator(mode="after")
    def _orgs(self) -> "TaskUpdate":
        _distinct_participants(None, self.participant_org_ids)
        return self

    model_config = ConfigDict(
        json_schema_extra={"example": {"due_on": "2026-12-12", "participant_org_ids": [3, 4, 5, 6]}}
    )


class AssignmentPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    task_id: int
    org_id: int
    role: TaskRole
    status: AssignmentStatus
    overdue: bool = Field(description="Due date passed and no report in (derived).")
    assigned_at: datetime
    started_at: datetime | None
    reported_at: datetime | None
    accepted_at: datetime | None
    returned_at: datetime | None
    version: int


class TaskPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    campaign_id: int
    title: str
    description: str | None
    key_task_type: KeyTaskType
    lead_org_id: int
    participant_org_ids: list[int] = Field(description="Every participant org (参加单位).")
    due_on: date
    assignments: list[AssignmentPublic] = Field(
        description="The assignments you may see: all of them for the office, oversight and "
        "the lead org; only its own for a participant."
    )
    created_by: str
    created_at: datetime
    updated_at: datetime
    version: int


class ReportCreate(Input):
    """Your org's written report (书面报告) on its assignment."""

    text: str = Field(min_length=1, max_length=20000, description="The report itself.")
    figures: dict[Annotated[str, Field(max_length=40)], Figure] = Field(
        default_factory=dict,
        max_length=20,
        description="Counts for the task's type; unknown keys are refused. "
        "surroundings_cleanup: venues_inspected, venues_rectified, venues_closed; "
        "hazard_inspection: schools_inspected, hazards_found, hazards_rectified; "
        "private_school_inspection: schools_inspected, unlicensed_found, unlicensed_closed; "
        "case_crackdown: cases_filed, cases_solved; summary_report: schools_inspected, "
        "hazards_found, hazards_rectified, hazards_outstanding; other: none.",
    )
    attachment_ids: list[AttachmentId] = Field(
        default_factory=list,
        max_length=20,
        description="Attachments uploaded beforehand with parent_type `task_report` and "
        "parent_id = your assignment's id (the report does not exist yet).",
    )

    @model_validator(mode="after")
    def _distinct(self) -> "ReportCreate":
        if len(set(self.attachment_ids)) != len(self.attachment_ids):
            raise ValueError("attachment_ids must be distinct")
        return self

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "text": "共排查校园周边场所 42 处,整改 30 处,取缔非法网吧 3 家。",
                "figures": {"venues_inspected": 42, "venues_rectified": 30, "venues_closed": 3},
                "attachment_ids": [],
            }
        }
    )


class ReviewAccept(Input):
    """The office's optional comment on accepting; the whole body may be left out."""

    comment: str | None = Field(
        default=None, max_length=2000, description="Shown to the reporting org."
    )

    model_config = ConfigDict(json_schema_extra={"example": {"comment": "报告内容完整。"}})


class ReviewReturn(Input):
    """Why the report goes back; the org then submits a new one."""

    comment: str = Field(min_length=1, max_length=2000, description="Why it is returned.")

    model_config = ConfigDict(
        json_schema_extra={"example": {"comment": "请补充取缔场所的清单和照片。"}}
    )


class ReportPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    task_id: int
    assignment_id: int
    org_id: int
    text: str
    figures: dict[str, int]
    attachment_ids: list[int]
    status: ReportStatus
    late: bool = Field(description="Submitted after the task's due date (fixed at submission).")
    submitted_by: str
    submitted_at: datetime
    review_comment: str | None
    reviewed_by: str | None
    reviewed_at: datetime | None
    version: int
