from datetime import date, datetime
from itertools import pairwise

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.campaigns.models import CampaignStatus, GroupPosition, KeyDateCode, PhaseCode
from app.core.schemas import Input, Patch

Day = date


class PhaseIn(Input):
    code: PhaseCode
    starts_on: Day
    ends_on: Day

    @model_validator(mode="after")
    def _order(self) -> "PhaseIn":
        if self.ends_on < self.starts_on:
            raise ValueError("a phase cannot end before it starts")
        return self


class KeyDateIn(Input):
    code: KeyDateCode
    title: str = Field(min_length=1, max_length=200)
    due_on: Day


class MemberIn(Input):
    position: GroupPosition
    person_name: str = Field(min_length=1, max_length=50)
    title: str | None = Field(default=None, max_length=100)
    org_id: int | None = Field(default=None, ge=1, le=2**31 - 1)


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
    name: str = Field(min_length=1, max_length=100)
    year: int = Field(ge=2000, le=2100)
    description: str | None = Field(default=None, max_length=4000)
    starts_on: Day
    ends_on: Day
    office_org_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
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
    plan_attachment_id: int | None = Field(default=None, ge=1, le=2**62)
    phases: list[PhaseIn] | None = Field(default=None, max_length=10)
    key_dates: list[KeyDateIn] | None = Field(default=None, max_length=50)
    members: list[MemberIn] | None = Field(default=None, max_length=200)

    @model_validator(mode="after")
    def _phases(self) -> "CampaignUpdate":
        _check_lists(self.phases)
        return self


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
