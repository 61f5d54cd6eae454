from datetime import date, datetime
from itertools import pairwise

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.campaigns.models import CampaignStatus, GroupPosition, KeyDateCode, PhaseCode
from app.core.schemas import Input, Patch

Day = date


class PhaseIn(Input):
    """One phase of the campaign (阶段); local dates, both inclusive."""

    code: PhaseCode
    starts_on: Day
    ends_on: Day

    @model_validator(mode="after")
    def _order(self) -> "PhaseIn":
        if self.ends_on < self.starts_on:
            raise ValueError("a phase cannot end before it starts")
        return self


class KeyDateIn(Input):
    """A deadline everyone works towards, e.g. the department reports (local date)."""

    code: KeyDateCode
    title: str = Field(min_length=1, max_length=200, description="Shown in calendars.")
    due_on: Day


class MemberIn(Input):
    """A member of the leading group (领导小组) or the office director."""

    position: GroupPosition
    person_name: str = Field(min_length=1, max_length=50)
    title: str | None = Field(default=None, max_length=100, description="Job title (职务).")
    org_id: int | None = Field(
        default=None, ge=1, le=2**31 - 1, description="The member's org, when it is one of ours."
    )


def _check_lists(phases: list[PhaseIn] | None) -> None:
    if phases is None:
        return
    codes = [p.code for p in phases]
    if len(set(codes)) != len(codes):
        raise ValueError("each phase code may appear once")
    ordered = sorted(phases, key=lambda p: p.starts_on)
    for before, after in pairwise(ordered):
        if after.starts_on <= before.ends_on:
            raise ValueError("phases must not overlap")


class CampaignCreate(Input):
    """A new campaign (专项整治行动), saved in `planning`."""

    name: str = Field(min_length=1, max_length=100, description="Unique.")
    year: int = Field(ge=2000, le=2100)
    description: str | None = Field(default=None, max_length=4000)
    starts_on: Day = Field(description="Local date, inclusive.")
    ends_on: Day = Field(description="Local date, inclusive; not before `starts_on`.")
    office_org_id: int | None = Field(
        default=None, ge=1, le=2**31 - 1, description="The leading group's office (办公室)."
    )
    phases: list[PhaseIn] = Field(default_factory=list, max_length=10)
    key_dates: list[KeyDateIn] = Field(default_factory=list, max_length=50)
    members: list[MemberIn] = Field(default_factory=list, max_length=200)

    @model_validator(mode="after")
    def _dates(self) -> "CampaignCreate":
        if self.ends_on < self.starts_on:
            raise ValueError("the campaign cannot end before it starts")
        _check_lists(self.phases)
        for p in self.phases:
            if p.starts_on < self.starts_on or p.ends_on > self.ends_on:
                raise ValueError("every phase must lie within the campaign's dates")
        return self

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "name": "2026年校园安全管理专项整治行动",
                "year": 2026,
                "starts_on": "2026-11-21",
                "ends_on": "2026-12-20",
                "phases": [
                    {"code": "setup", "starts_on": "2026-11-21", "ends_on": "2026-11-23"},
                    {"code": "action", "starts_on": "2026-11-24", "ends_on": "2026-12-10"},
                    {"code": "rectification", "starts_on": "2026-12-11", "ends_on": "2026-12-20"},
                ],
                "key_dates": [
                    {
                        "code": "department_reports",
                        "title": "各部门书面报告",
                        "due_on": "2026-12-10",
                    },
                    {
                        "code": "completion_report",
                        "title": "整改完成情况汇总上报",
                        "due_on": "2026-12-15",
                    },
                ],
                "members": [
                    {"position": "office_director", "person_name": "张明", "title": "教体局副局长"}
                ],
            }
        }
    )


class CampaignUpdate(Patch):
    """Only the fields sent change; a list sent replaces the whole list. Needs `If-Match`."""

    required_if_sent = frozenset(
        {"name", "year", "starts_on", "ends_on", "phases", "key_dates", "members"}
    )

    name: str | None = Field(default=None, min_length=1, max_length=100)
    year: int | None = Field(default=None, ge=2000, le=2100)
    description: str | None = Field(default=None, max_length=4000)
    starts_on: Day | None = None
    ends_on: Day | None = None
    office_org_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    plan_attachment_id: int | None = Field(
        default=None,
        ge=1,
        le=2**62,
        description="The campaign's plan document (实施方案), uploaded first with "
        "`parent_type=campaign`.",
    )
    phases: list[PhaseIn] | None = Field(
        default=None, max_length=10, description="Replaces every phase."
    )
    key_dates: list[KeyDateIn] | None = Field(
        default=None, max_length=50, description="Replaces every key date."
    )
    members: list[MemberIn] | None = Field(
        default=None, max_length=200, description="Replaces the whole leading group."
    )

    @model_validator(mode="after")
    def _phases(self) -> "CampaignUpdate":
        _check_lists(self.phases)
        return self

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "ends_on": "2026-12-25",
                "members": [
                    {"position": "leader", "person_name": "刘建华", "title": "区政府副区长"},
                    {
                        "position": "deputy",
                        "person_name": "陈志强",
                        "title": "区教体局局长",
                        "org_id": 12,
                    },
                    {"position": "office_director", "person_name": "张明", "title": "教体局副局长"},
                ],
            }
        }
    )


class PhaseOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    code: PhaseCode
    starts_on: date
    ends_on: date


class KeyDateOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    code: KeyDateCode
    title: str
    due_on: date


class MemberOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    position: GroupPosition
    person_name: str
    title: str | None
    org_id: int | None


class CampaignPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    year: int
    description: str | None
    status: CampaignStatus
    starts_on: date
    ends_on: date
    office_org_id: int | None
    plan_attachment_id: int | None
    current_phase: PhaseCode | None = Field(description="The phase today falls in, if any.")
    phases: list[PhaseOut]
    key_dates: list[KeyDateOut]
    members: list[MemberOut]
    created_at: datetime
    updated_at: datetime
    activated_at: datetime | None
    closed_at: datetime | None
    version: int
