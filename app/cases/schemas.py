from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.cases.models import (
    CaseAction,
    CaseStatus,
    CaseType,
    SupervisionLevel,
    SuspectStatus,
)
from app.core.schemas import Input, Patch

OrgId = int
ID_MAX = 2**31 - 1


class VictimIn(Input):
    """A victim (usually a minor). Held apart from the case; shown only to the handling org
    and oversight users."""

    name: str = Field(min_length=1, max_length=50)
    id_number: str | None = Field(
        default=None,
        min_length=15,
        max_length=18,
        pattern=r"^[0-9]{15}([0-9]{2}[0-9Xx])?$",
        description="Resident ID number (身份证号), 15 or 18 characters.",
    )
    contact: str | None = Field(
        default=None, max_length=30, description="Guardian's phone, usually."
    )
    age: int | None = Field(default=None, ge=0, le=120)
    note: str | None = Field(default=None, max_length=500)


class CaseCreate(Input):
    """A new case (立案), filed by the police."""

    campaign_id: int = Field(ge=1, le=ID_MAX)
    case_type: CaseType
    occurred_at: datetime = Field(
        description="When it happened, ISO 8601; without an offset it is Beijing time."
    )
    location: str = Field(min_length=1, max_length=200)
    school_id: int | None = Field(
        default=None,
        ge=1,
        le=ID_MAX,
        description="The school concerned, if any: it may then read the sanitized summary.",
    )
    summary: str = Field(
        min_length=1,
        max_length=4000,
        description="The police's narrative (简要案情); full readers only.",
    )
    sanitized_summary: str | None = Field(
        default=None,
        max_length=500,
        description="What the school concerned may read. Refused if it holds personal data.",
    )
    victim_minor_count: int = Field(
        default=0, ge=0, le=10_000, description="Minors harmed; shown in counts and lists."
    )
    suspect_count: int = Field(default=0, ge=0, le=10_000)
    suspect_status: SuspectStatus = SuspectStatus.unidentified
    victims: list[VictimIn] = Field(
        default_factory=list,
        max_length=100,
        description="Held apart; shown unmasked to the handling org and oversight only.",
    )

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "campaign_id": 1,
                "case_type": "campus_intrusion",
                "occurred_at": "2026-11-25T07:40:00+08:00",
                "location": "城关第一小学东门外",
                "school_id": 5,
                "summary": "一男子持械在校门口滋扰上学学生,致一名学生轻微伤。",
                "sanitized_summary": "校门口发生一起滋扰学生事件,公安机关已立案侦查。",
                "victim_minor_count": 1,
                "suspect_count": 1,
                "suspect_status": "at_large",
                "victims": [{"name": "张小明", "age": 9, "contact": "13800001111"}],
            }
        }
    )


class CaseUpdate(Patch):
    """Only the fields sent change; `victims`, when sent, replaces the whole list. Needs
    `If-Match`."""

    required_if_sent = frozenset(
        {
            "case_type",
            "occurred_at",
            "location",
            "summary",
            "victim_minor_count",
            "suspect_count",
            "suspect_status",
            "victims",
        }
    )

    case_type: CaseType | None = None
    occurred_at: datetime | None = None
    location: str | None = Field(default=None, min_length=1, max_length=200)
    school_id: int | None = Field(default=None, ge=1, le=ID_MAX)
    summary: str | None = Field(default=None, min_length=1, max_length=4000)
    sanitized_summary: str | None = Field(default=None, max_length=500)
    victim_minor_count: int | None = Field(default=None, ge=0, le=10_000)
    suspect_count: int | None = Field(default=None, ge=0, le=10_000)
    suspect_status: SuspectStatus | None = None
    victims: list[VictimIn] | None = Field(default=None, max_length=100)

    model_config = ConfigDict(
        json_schema_extra={"example": {"suspect_count": 2, "suspect_status": "detained"}}
    )


class TransitionIn(Input):
    """An optional note on a status change; the whole body may be left out."""

    comment: str | None = Field(default=None, max_length=4000, description="On the timeline.")
    model_config = ConfigDict(
        json_schema_extra={"example": {"comment": "已抓获犯罪嫌疑人,案件告破。"}}
    )


class JudgeIn(Input):
    """The court's judgement (判决)."""

    judgement_outcome: str = Field(
        min_length=1, max_length=2000, description="The outcome as the judgement states it."
    )
    comment: str | None = Field(default=None, max_length=4000, description="On the timeline.")
    model_config = ConfigDict(
        json_schema_extra={"example": {"judgement_outcome": "被告人犯寻衅滋事罪,判处有期徒刑二年"}}
    )


class SupervisionIn(Input):
    """Listed supervision (挂牌督办) with a deadline to solve (限期侦破)."""

    level: SupervisionLevel = Field(description="Who lists it: `district`, `city`, `province`.")
    supervising_org_id: int | None = Field(
        default=None, ge=1, le=ID_MAX, description="Defaults to the caller's org."
    )
    notice_no: str = Field(
        min_length=1, max_length=50, description="Number of the supervision notice (督办通知书)."
    )
    solve_deadline: date = Field(description="Local date by which the case must be solved.")
    requirements: str | None = Field(
        default=None, max_length=4000, description="What the police must do (督办要求)."
    )
    report_interval_days: int = Field(
        default=7,
        ge=1,
        le=90,
        description="A progress report is due every this many days; a missed one is overdue.",
    )
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "level": "district",
                "notice_no": "区综治督〔2026〕3号",
                "solve_deadline": "2026-12-15",
                "requirements": "限期侦破,每周报告侦办进展。",
                "report_interval_days": 7,
            }
        }
    )


class ExtendIn(Input):
    """A later deadline to solve, with the reason."""

    solve_deadline: date = Field(description="The new deadline; must be later than the current.")
    reason: str = Field(min_length=1, max_length=2000, description="On the timeline.")
    model_config = ConfigDict(
        json_schema_extra={"example": {"solve_deadline": "2026-12-31", "reason": "嫌疑人外逃"}}
    )


class DelistIn(Input):
    """Why supervision ends (摘牌); the whole body may be left out."""

    reason: str | None = Field(default=None, max_length=2000, description="On the timeline.")
    model_config = ConfigDict(json_schema_extra={"example": {"reason": "案件已侦破"}})


class ProgressIn(Input):
    """A progress report (侦办进展) on a supervised case."""

    text: str = Field(min_length=1, max_length=4000, description="What was done since last time.")
    model_config = ConfigDict(
        json_schema_extra={"example": {"text": "已锁定嫌疑人活动轨迹,正在组织抓捕。"}}
    )


class ExposeIn(Input):
    """What the public board shows: no names, ID numbers or phone numbers."""

    title: str = Field(min_length=1, max_length=100, description="Public; no personal data.")
    summary: str = Field(min_length=1, max_length=2000, description="Public; no personal data.")
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "title": "某小学门口持械滋扰学生案",
                "summary": "2026年11月,一男子在某小学门口持械滋扰学生,公安机关迅速侦破,嫌疑人已被依法逮捕。",
            }
        }
    )


class WithdrawIn(Input):
    """Why the case leaves the public board; the whole body may be left out."""

    reason: str | None = Field(default=None, max_length=2000, description="Kept on the case.")
    model_config = ConfigDict(
        json_schema_extra={"example": {"reason": "案件进入审判程序,暂停公开曝光。"}}
    )


# ---------------------------------------------------------------------------------------------
# Responses


class VictimOut(BaseModel):
    """Unmasked for the handling org and oversight (each read audited), masked for others."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    id_number: str | None
    contact: str | None
    age: int | None
    note: str | None
    masked: bool


class VictimsOut(BaseModel):
    case_id: int
    masked: bool
    items: list[VictimOut]


class SupervisionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    level: SupervisionLevel
    supervising_org_id: int
    notice_no: str
    solve_deadline: date
    requirements: str | None
    report_interval_days: int
    next_report_due: date
    last_report_at: datetime | None
    listed_by: str
    listed_at: datetime
    delisted_at: datetime | None
    delist_reason: str | None
    active: bool
    overdue: bool
    overdue_reasons: list[Literal["solve_deadline_passed", "progress_report_missed"]]


class ExposureOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    title: str
    summary: str
    published_by: str
    published_at: datetime
    withdrawn_at: datetime | None
    withdraw_reason: str | None


class CaseListItem(BaseModel):
    """A row of the case list: never victims, never the narrative summary."""

    view: Literal["full"] = "full"
    id: int
    code: str
    campaign_id: int
    case_type: CaseType
    occurred_at: datetime
    location: str
    school_id: int | None
    handling_org_id: int
    victim_minor_count: int
    suspect_count: int
    suspect_status: SuspectStatus
    status: CaseStatus
    supervised: bool
    solve_deadline: date | None
    overdue: bool
    exposed: bool
    filed_at: datetime
    version: int


class CaseSanitized(BaseModel):
    """What a school concerned and read-only systems may see of a case."""

    view: Literal["sanitized"] = "sanitized"
    id: int
    code: str
    case_type: CaseType
    status: CaseStatus
    occurred_on: date
    school_id: int | None
    sanitized_summary: str | None = Field(
        description="Written by the police for the school concerned; null when none was written."
    )
    version: int


class CaseDetail(CaseListItem):
    summary: str
    sanitized_summary: str | None
    judgement_outcome: str | None
    filed_by: str
    investigation_started_at: datetime | None
    solved_at: datetime | None
    prosecuted_at: datetime | None
    judged_at: datetime | None
    closed_at: datetime | None
    updated_at: datetime
    supervision: SupervisionOut | None
    exposure: ExposureOut | None
    victims: VictimsOut
    actions: list[str] = Field(description="Status actions possible from the current status.")


class CaseEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    at: datetime
    action: CaseAction
    actor: str
    actor_org_id: int | None
    from_status: CaseStatus | None
    to_status: CaseStatus | None
    comment: str | None
    data: dict[str, object]


class ProgressOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    case_id: int
    supervision_id: int
    text: str
    at: datetime
    reported_by: str
    reporter_org_id: int | None


class StatusCount(BaseModel):
    status: CaseStatus
    count: int


class StatusCounts(BaseModel):
    items: list[StatusCount]
    total: int
