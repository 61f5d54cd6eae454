"""Request and response models of the hazard register (安全隐患登记册).

`HazardCreate` is also the row model of the bulk import: every rule that does not need the
database lives here, so a row and a POST are validated alike.
"""

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from app.core.schemas import Input, Patch
from app.core.time import today
from app.hazards.models import (
    ExtensionStatus,
    HazardAction,
    HazardCategory,
    HazardGrade,
    HazardScope,
    HazardSource,
    HazardStatus,
    VenueType,
)

MAX_ID = 2**31 - 1
MAX_BIG_ID = 2**62


def _no_nul(value: str) -> str:
    # PostgreSQL refuses NUL in text columns; catch it here so it is a 422, not a 500.
    if "\x00" in value:
        raise ValueError("NUL characters are not allowed")
    return value


NoNul = AfterValidator(_no_nul)
Title = Annotated[str, Field(min_length=1, max_length=200), NoNul]
Description = Annotated[str, Field(min_length=1, max_length=4000), NoNul]
Location = Annotated[str, Field(max_length=200), NoNul]
Person = Annotated[str, Field(max_length=50), NoNul]
Phone = Annotated[
    str, Field(max_length=30, pattern=r"^[0-9+() -]{3,30}$", description="Digits, +, -, ( )")
]
Reason = Annotated[str, Field(min_length=1, max_length=2000), NoNul]
Comment = Annotated[str, Field(max_length=2000), NoNul]
Note = Annotated[str, Field(min_length=1, max_length=4000), NoNul]
NoticeNo = Annotated[str, Field(min_length=1, max_length=50), NoNul]
Lat = Annotated[float, Field(ge=-90, le=90)]
Lng = Annotated[float, Field(ge=-180, le=180)]
OrgId = Annotated[int, Field(ge=1, le=MAX_ID)]
HazardId = Annotated[int, Field(ge=1, le=MAX_BIG_ID)]
AttachmentIds = Annotated[list[Annotated[int, Field(ge=1, le=MAX_BIG_ID)]], Field(max_length=20)]
WorkingDays = Annotated[int, Field(ge=1, le=250, description="Working days from today.")]


def _not_future(value: date) -> date:
    if value > today():
        raise ValueError("the date cannot be in the future")
    return value


def _check_venue(
    scope: HazardScope | None, category: HazardCategory | None, venue: VenueType | None
) -> None:
    if scope == HazardScope.campus:
        if venue is not None:
            raise ValueError("venue_type is only for hazards in the surroundings")
        if category == HazardCategory.surroundings_venue:
            raise ValueError("a surroundings venue cannot be on campus")
    if (
        scope == HazardScope.surroundings
        and category == HazardCategory.surroundings_venue
        and venue is None
    ):
        raise ValueError("venue_type is required for a surroundings venue")


def _check_coordinates(lat: float | None, lng: float | None) -> None:
    if (lat is None) != (lng is None):
        raise ValueError("give both lat and lng, or neither")


class HazardCreate(Input):
    """Register a hazard (登记). Also the row model of the bulk import."""

    campaign_id: OrgId = Field(description="An `active` campaign.")
    school_id: OrgId = Field(description="The school the hazard belongs to.")
    scope: HazardScope = Field(description="`campus` (校内) or `surroundings` (校园周边).")
    category: HazardCategory
    venue_type: VenueType | None = Field(
        default=None,
        description="Required for a surroundings venue (scope `surroundings`, category "
        "`surroundings_venue`); refused on campus.",
    )
    grade: HazardGrade = Field(description="`major` hazards are reported to the office at once.")
    title: Title = Field(description="One line, shown in lists.")
    description: Description = Field(description="What is wrong, where, and the risk.")
    location: Location | None = Field(default=None, description="Where exactly, in words.")
    lat: Lat | None = Field(
        default=None, description="Latitude in decimal degrees; send with `lng`."
    )
    lng: Lng | None = Field(
        default=None, description="Longitude in decimal degrees; send with `lat`."
    )
    source: HazardSource = Field(description="How it was found (self-inspection, …).")
    found_on: date = Field(description="Local date the hazard was found; not in the future.")
    responsible_person: Person | None = Field(
        default=None, description="Who answers for fixing it (责任人)."
    )
    responsible_phone: Phone | None = None

    @field_validator("found_on")
    @classmethod
    def _found_not_future(cls, value: date) -> date:
        return _not_future(value)

    @model_validator(mode="after")
    def _consistent(self) -> "HazardCreate":
        _check_venue(self.scope, self.category, self.venue_type)
        _check_coordinates(self.lat, self.lng)
        return self

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "campaign_id": 1,
                "school_id": 20,
                "scope": "surroundings",
                "category": "surroundings_venue",
                "venue_type": "internet_cafe",
                "grade": "general",
                "title": "校门东侧网吧距学校不足200米",
                "description": "校门东侧约120米处有一网吧,放学时段有学生出入。",
                "location": "学府路12号",
                "lat": 34.2615,
                "lng": 108.9432,
                "source": "self_inspection",
                "found_on": "2026-11-25",
                "responsible_person": "王老师",
                "responsible_phone": "029-88881234",
            }
        }
    )


class HazardUpdate(Patch):
    """Correct a hazard's descriptive fields while it is still open. Send `If-Match`."""

    required_if_sent = frozenset({"title", "description", "found_on"})

    title: Title | None = None
    description: Description | None = None
    location: Location | None = None
    lat: Lat | None = None
    lng: Lng | None = None
    found_on: date | None = None
    responsible_person: Person | None = None
    responsible_phone: Phone | None = None

    @field_validator("found_on")
    @classmethod
    def _found_not_future(cls, value: date | None) -> date | None:
        return None if value is None else _not_future(value)

    @model_validator(mode="after")
    def _coordinates_together(self) -> "HazardUpdate":
        sent = self.model_fields_set
        if ("lat" in sent) != ("lng" in sent):
            raise ValueError("send lat and lng together")
        _check_coordinates(self.lat, self.lng)
        return self

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "location": "学府路14号",
                "responsible_person": "李老师",
                "responsible_phone": "13800002222",
            }
        }
    )


# ------------------------------------------------------------------------------------------
# Actions: one body per action.


class _Deadline(Input):
    deadline: date | None = Field(default=None, description="A local date, today or later.")
    deadline_working_days: WorkingDays | None = Field(
        default=None,
        description="Or N working days from today on China's official calendar (调休 included).",
    )

    @field_validator("deadline")
    @classmethod
    def _not_past(cls, value: date | None) -> date | None:
        if value is not None and value < today():
            raise ValueError("the deadline cannot be in the past")
        return value

    def _at_most_one(self) -> None:
        if self.deadline is not None and self.deadline_working_days is not None:
            raise ValueError("give deadline or deadline_working_days, not both")

    def _exactly_one(self) -> None:
        self._at_most_one()
        if self.deadline is None and self.deadline_working_days is None:
            raise ValueError("give deadline or deadline_working_days")


class StartInput(_Deadline):
    """Start rectifying (开始整改). A deadline is optional: a date or N working days."""

    comment: Comment | None = Field(default=None, description="Written on the timeline.")

    @model_validator(mode="after")
    def _deadline(self) -> "StartInput":
        self._at_most_one()
        return self

    model_config = ConfigDict(
        json_schema_extra={
            "example": {"deadline_working_days": 5, "comment": "已联系维修单位,本周内进场。"}
        }
    )


class EscalateInput(Input):
    """The school cannot fix it itself: report it to the office (上报), with the reason."""

    reason: Reason = Field(description="Why the school cannot fix it; the office reads it.")

    model_config = ConfigDict(
        json_schema_extra={"example": {"reason": "校门外道路缺少减速带,需城建部门施工。"}}
    )


class AssignInput(_Deadline):
    """The office orders a department to fix it by a deadline (责成有关部门限期整改)."""

    org_id: OrgId = Field(description="The department that must fix the hazard.")
    comment: Comment | None = Field(default=None, description="Written on the timeline.")

    @model_validator(mode="after")
    def _deadline(self) -> "AssignInput":
        self._exactly_one()
        return self

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "org_id": 7,
                "deadline_working_days": 10,
                "comment": "请城建局在10个工作日内完成减速带施工。",
            }
        }
    )


class SubmitRectificationInput(Input):
    """What was done, with at least one evidence attachment uploaded to this hazard."""

    note: Note = Field(description="What was done (整改情况).")
    attachment_ids: AttachmentIds = Field(
        min_length=1,
        description="Evidence uploaded first with `parent_type=hazard`, `parent_id` = the "
        "hazard id.",
    )

    model_config = ConfigDict(
        json_schema_extra={
            "example": {"note": "已加装减速带两处并设置警示牌。", "attachment_ids": [3]}
        }
    )


class VerifyInput(Input):
    """Verification passed: close the hazard (复查合格销号)."""

    comment: Comment | None = Field(default=None, description="Written on the timeline.")
    attachment_ids: AttachmentIds = Field(
        default_factory=list, description="Photos of the re-inspection, uploaded to the hazard."
    )

    model_config = ConfigDict(
        json_schema_extra={"example": {"comment": "现场复查,减速带和警示牌已安装到位,复查合格。"}}
    )


class RejectInput(Input):
    """Verification failed (复查不合格): the responsible org must rectify again."""

    comment: Reason = Field(description="What is still wrong; the responsible org reads it.")
    attachment_ids: AttachmentIds = Field(
        default_factory=list, description="Photos of the re-inspection, uploaded to the hazard."
    )

    model_config = ConfigDict(
        json_schema_extra={"example": {"comment": "警示牌未安装到位,请补装后重新提交。"}}
    )


class VoidInput(Input):
    """Not a hazard, or a duplicate (作废). Office only."""

    reason: Reason = Field(description="Why it is not a hazard, or which one it repeats.")
    duplicate_of_id: HazardId | None = Field(
        default=None, description="The hazard this one duplicates; it stays open."
    )

    model_config = ConfigDict(
        json_schema_extra={"example": {"reason": "与 YH-2026-000012 重复", "duplicate_of_id": 12}}
    )


class SuperviseInput(Input):
    """Put a major hazard under listed supervision (挂牌督办)."""

    notice_no: NoticeNo = Field(description="Number of the supervision notice (督办通知书编号).")
    supervising_org_id: OrgId = Field(description="The org that supervises (督办单位).")
    deadline: date = Field(description="Local date by which it must be fixed; not in the past.")
    comment: Comment | None = Field(default=None, description="Written on the timeline.")

    @field_validator("deadline")
    @classmethod
    def _not_past(cls, value: date) -> date:
        if value < today():
            raise ValueError("the deadline cannot be in the past")
        return value

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "notice_no": "区安督〔2026〕3号",
                "supervising_org_id": 1,
                "deadline": "2026-12-15",
                "comment": "重大隐患,挂牌督办,限期整改。",
            }
        }
    )


class DelistInput(Input):
    """Remove listed supervision (摘牌) once the hazard is closed."""

    comment: Comment | None = Field(default=None, description="Written on the timeline.")

    model_config = ConfigDict(
        json_schema_extra={"example": {"comment": "隐患已整改销号,经复查合格,予以摘牌。"}}
    )


class ExtensionRequestInput(Input):
    """Ask the office for a later deadline (申请延期)."""

    reason: Reason = Field(description="Why the deadline cannot be met.")
    requested_deadline: date = Field(description="Local date, after the current deadline.")

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "reason": "加固钢材到货延迟,施工需顺延3天。",
                "requested_deadline": "2026-12-18",
            }
        }
    )


class ExtensionGrantInput(Input):
    """Grant a pending extension: the hazard's deadline becomes the requested date, or
    `deadline` when the office decides on another one."""

    extension_id: Annotated[int, Field(ge=1, le=MAX_ID)] = Field(
        description="The pending request (from `GET /hazards/{id}/extensions`)."
    )
    deadline: date | None = Field(
        default=None, description="Another deadline than the one requested (local date)."
    )
    comment: Comment | None = Field(default=None, description="Written on the timeline.")

    @field_validator("deadline")
    @classmethod
    def _not_past(cls, value: date | None) -> date | None:
        if value is not None and value < today():
            raise ValueError("the deadline cannot be in the past")
        return value

    model_config = ConfigDict(
        json_schema_extra={"example": {"extension_id": 4, "comment": "同意延期至12月18日。"}}
    )


class ExtensionRefuseInput(Input):
    """Refuse a pending extension, with the reason."""

    extension_id: Annotated[int, Field(ge=1, le=MAX_ID)] = Field(
        description="The pending request (from `GET /hazards/{id}/extensions`)."
    )
    comment: Reason = Field(description="Why it is refused; the deadline stays.")

    model_config = ConfigDict(
        json_schema_extra={
            "example": {"extension_id": 4, "comment": "延期理由不充分,请按原期限完成整改。"}
        }
    )


# ------------------------------------------------------------------------------------------
# Responses


class HazardPublic(BaseModel):
    """One hazard of the register, as every list, get and action returns it."""

    id: int
    code: str = Field(description="Human-readable code `YH-<year>-<seq>`.")
    campaign_id: int
    school_id: int
    scope: HazardScope
    category: HazardCategory
    venue_type: VenueType | None
    grade: HazardGrade
    title: str
    description: str
    location: str | None
    lat: float | None
    lng: float | None
    distance_m: float | None = Field(description="Metres from a surroundings venue to the school.")
    venue_unlawful: bool | None = Field(
        description="The venue is inside the distance the law forbids (e.g. a 网吧 within 200 m)."
    )
    source: HazardSource
    found_on: date
    reported_by: str
    reporter_org_id: int
    responsible_org_id: int
    responsible_person: str | None
    responsible_phone: str | None
    deadline: date | None
    deadline_working_days: int | None
    status: HazardStatus
    overdue: bool = Field(description="Deadline passed while still open; derived, never stored.")
    escalation_reason: str | None
    rectification_note: str | None
    void_reason: str | None
    duplicate_of_id: int | None
    inspection_id: int | None
    supervised: bool = Field(description="Under listed supervision (挂牌督办).")
    supervision_notice_no: str | None
    supervising_org_id: int | None
    supervision_deadline: date | None
    supervised_at: datetime | None
    delisted_at: datetime | None
    reported_at: datetime
    started_at: datetime | None
    escalated_at: datetime | None
    assigned_at: datetime | None
    rectified_at: datetime | None
    closed_at: datetime | None
    voided_at: datetime | None
    updated_at: datetime
    version: int
    plan_ids: list[int] = Field(description="Rectification plans covering this hazard.")
    allowed_actions: list[HazardAction] = Field(
        description="The actions you may take now (route names under /hazards/{id}/…)."
    )


class HazardEventPublic(BaseModel):
    """One step of the timeline."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    hazard_id: int
    at: datetime
    action: HazardAction
    actor: str
    actor_org_id: int | None
    from_status: HazardStatus | None
    to_status: HazardStatus | None
    comment: str | None
    data: dict[str, Any]
    attachment_ids: list[int]


class HazardExtensionPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    hazard_id: int
    requested_by: str
    requested_org_id: int
    reason: str
    requested_deadline: date
    status: ExtensionStatus
    decided_by: str | None
    decision_comment: str | None
    granted_deadline: date | None
    requested_at: datetime
    decided_at: datetime | None
