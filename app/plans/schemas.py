"""Request and response models of rectification plans (整改方案)."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
    model_validator,
)

from app.core.enums import LabeledEnum, register
from app.core.schemas import Input, Patch
from app.hazards.models import HazardGrade, HazardStatus
from app.plans.models import PlanAction, PlanStatus

CENT = Decimal("0.01")
MAX_ID = 2**62
MAX_ORG_ID = 2**31 - 1


def money_text(value: Decimal) -> str:
    """Exactly two decimal places, never through a float: `Decimal("12345.6")` → "12345.60"."""
    return str(value.quantize(CENT))


# Money in: a JSON string ("12345.60", preferred) or number, at most 12 integer digits and 2
# decimals (the column is NUMERIC(14, 2)), never negative.
MoneyIn = Annotated[
    Decimal,
    Field(
        ge=0,
        max_digits=14,
        decimal_places=2,
        description='Amount in CNY (元), e.g. "12345.60"; at most 2 decimal places.',
    ),
    # Stored and audited in one form: "200000" becomes 200000.00.
    AfterValidator(lambda d: d.quantize(CENT)),
]
# Money out: always a string with two decimals, so no client parses it into a float.
MoneyOut = Annotated[
    Decimal,
    PlainSerializer(money_text, return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^\d{1,12}\.\d{2}$", "example": "12345.60"}),
]

HazardId = Annotated[int, Field(ge=1, le=MAX_ID)]
AttachmentId = Annotated[int, Field(ge=1, le=MAX_ID)]


@register("plan_readiness_item")
class ReadinessItem(LabeledEnum):
    """The five-in-place (五落实) a plan must have before it can be submitted."""

    responsibility = "responsibility", "责任落实(负责机构、负责人及电话)", "Responsibility"
    measures = "measures", "措施落实(方法和措施)", "Measures"
    funds = "funds", "资金落实(经费金额及来源)", "Funds"
    deadline = "deadline", "时限落实(完成期限)", "Deadline"
    contingency = "contingency", "预案落实(应急预案)", "Contingency plan"


class MilestoneIn(Input):
    """One line of the timetable (时间表)."""

    title: str = Field(min_length=1, max_length=200)
    due_on: date = Field(description="Local date.")
    done_on: date | None = Field(
        default=None, description="Local date it was done; usually ticked later with `done`."
    )


class _Content(Input):
    """The six parts of a plan. Every part may be left empty in a draft."""

    goal_and_tasks: str | None = Field(
        default=None, max_length=8000, description="目标和任务 Goal and tasks."
    )
    methods_and_measures: str | None = Field(
        default=None, max_length=8000, description="方法和措施 Methods and measures."
    )
    funds_amount: MoneyIn | None = Field(
        default=None, description='经费 Amount in CNY (元), e.g. "12345.60"; at most 2 decimals.'
    )
    funds_source: str | None = Field(
        default=None, max_length=500, description="经费来源 Where the money comes from."
    )
    materials: str | None = Field(default=None, max_length=4000, description="物资 Materials.")
    responsible_body: str | None = Field(
        default=None, max_length=200, description="负责治理的机构 Responsible body."
    )
    responsible_person: str | None = Field(
        default=None, max_length=50, description="负责人 Responsible person."
    )
    responsible_phone: str | None = Field(
        default=None, max_length=30, pattern=r"^[0-9+\-() ]{3,30}$", description="联系电话."
    )
    deadline: date | None = Field(default=None, description="时限 Deadline (local date).")
    requirements: str | None = Field(default=None, max_length=4000, description="要求.")
    safety_measures: str | None = Field(
        default=None, max_length=8000, description="整改期间的安全措施 Interim safety measures."
    )
    contingency_plan: str | None = Field(
        default=None, max_length=8000, description="应急预案 Contingency plan."
    )


def _unique(ids: list[int] | None) -> None:
    if ids is not None and len(set(ids)) != len(ids):
        raise ValueError("each hazard may be listed once")


_EXAMPLE: dict[str, Any] = {
    "campaign_id": 1,
    "title": "城关第一小学教学楼D级危房加固整改方案",
    "hazard_ids": [12],
    "goal_and_tasks": "12月15日前完成教学楼加固,消除坍塌隐患。",
    "methods_and_measures": "停用二层以上教室,聘请有资质单位加固。",
    "funds_amount": "186000.00",
    "funds_source": "区财政校舍安全专项资金",
    "materials": "钢材、加固砂浆",
    "responsible_body": "城关第一小学校舍安全工作组",
    "responsible_person": "王建国",
    "responsible_phone": "029-88886666",
    "deadline": "2026-12-15",
    "requirements": "加固后经区建设部门鉴定合格。",
    "safety_measures": "危楼周边设置围挡和警示标志,专人值守。",
    "contingency_plan": "发生险情立即疏散师生至操场,拨打119。",
    "milestones": [
        {"title": "完成鉴定与设计", "due_on": "2026-11-30"},
        {"title": "完成加固施工", "due_on": "2026-12-12"},
    ],
}


class PlanCreate(_Content):
    """A new plan, saved as a draft. The owner is the caller's org; the office names one."""

    campaign_id: int = Field(ge=1, le=MAX_ORG_ID, description="An `active` campaign.")
    owner_org_id: int | None = Field(
        default=None,
        ge=1,
        le=MAX_ORG_ID,
        description="Office only: the school or department that owns the plan.",
    )
    title: str = Field(min_length=1, max_length=200, description="Shown in lists.")
    hazard_ids: list[HazardId] = Field(
        min_length=1,
        max_length=100,
        description="Hazards the plan covers: the owner's, same campaign, still open.",
    )
    milestones: list[MilestoneIn] = Field(
        default_factory=list, max_length=50, description="The timetable (时间表), in order."
    )

    model_config = ConfigDict(json_schema_extra={"example": _EXAMPLE})

    @model_validator(mode="after")
    def _distinct(self) -> "PlanCreate":
        _unique(self.hazard_ids)
        return self


class PlanUpdate(_Content, Patch):
    """Only the fields sent change; `milestones` or `hazard_ids` sent replace the whole list."""

    required_if_sent = frozenset({"title", "hazard_ids", "milestones"})

    title: str | None = Field(default=None, min_length=1, max_length=200)
    hazard_ids: list[HazardId] | None = Field(
        default=None, min_length=1, max_length=100, description="Replaces the covered hazards."
    )
    milestones: list[MilestoneIn] | None = Field(
        default=None, max_length=50, description="Replaces the whole timetable."
    )

    model_config = ConfigDict(
        json_schema_extra={"example": {"funds_amount": "200000.00", "deadline": "2026-12-18"}}
    )

    @model_validator(mode="after")
    def _distinct(self) -> "PlanUpdate":
        _unique(self.hazard_ids)
        return self


class ReviewComment(Input):
    """The office's optional comment on approving; the whole body may be left out."""

    comment: str | None = Field(
        default=None, max_length=2000, description="Shown to the owner on the plan."
    )

    model_config = ConfigDict(
        json_schema_extra={"example": {"comment": "方案可行,同意实施,请按时间表推进。"}}
    )


class ReturnComment(Input):
    comment: str = Field(
        min_length=1, max_length=2000, description="What the owner must change (required)."
    )

    model_config = ConfigDict(
        json_schema_extra={"example": {"comment": "经费来源不明确,请补充财政批复文号。"}}
    )


class ProgressCreate(Input):
    """A progress report (整改进展) on an approved plan."""

    text: str = Field(min_length=1, max_length=4000, description="What was done since last time.")
    percent: int = Field(ge=0, le=100, description="How far along the whole plan is, 0–100.")
    attachment_ids: list[AttachmentId] = Field(
        default_factory=list,
        max_length=20,
        description="Attachments already uploaded to this plan (parent_type=plan).",
    )

    model_config = ConfigDict(
        json_schema_extra={
            "example": {"text": "加固施工已完成一层。", "percent": 40, "attachment_ids": []}
        }
    )


class MilestoneDone(Input):
    """When the milestone was done; the whole body may be left out (today)."""

    done_on: date | None = Field(default=None, description="Defaults to today; not in the future.")

    model_config = ConfigDict(json_schema_extra={"example": {"done_on": "2026-11-27"}})


class HazardBrief(BaseModel):
    id: int
    code: str
    title: str
    school_id: int
    grade: HazardGrade
    status: HazardStatus
    deadline: date | None


class MilestoneOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    sort_order: int
    title: str
    due_on: date
    done_on: date | None
    overdue: bool = Field(description="Due date passed and not done.")


class ProgressOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    plan_id: int
    at: datetime
    actor: str
    actor_org_id: int | None
    text: str
    percent: int
    attachment_ids: list[int]


class PlanEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    action: PlanAction
    actor: str
    actor_org_id: int | None
    from_status: PlanStatus | None
    to_status: PlanStatus | None
    comment: str | None
    data: dict[str, object]


class PlanSummary(BaseModel):
    """A plan as it appears in lists."""

    id: int
    campaign_id: int
    owner_org_id: int
    title: str
    status: PlanStatus
    deadline: date | None
    funds_amount: MoneyOut | None
    progress_percent: int
    overdue: bool = Field(description="Deadline passed and not completed (derived).")
    hazard_ids: list[int]
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    approved_at: datetime | None
    returned_at: datetime | None
    completed_at: datetime | None
    version: int


class PlanPublic(PlanSummary):
    """A whole plan: the six parts, covered hazards, timetable and latest progress."""

    goal_and_tasks: str | None
    methods_and_measures: str | None
    funds_source: str | None
    materials: str | None
    responsible_body: str | None
    responsible_person: str | None
    responsible_phone: str | None
    requirements: str | None
    safety_measures: str | None
    contingency_plan: str | None
    review_comment: str | None
    created_by: str
    hazards: list[HazardBrief]
    milestones: list[MilestoneOut]
    latest_progress: ProgressOut | None
    missing_items: list[ReadinessItem] = Field(
        description="Five-in-place items still empty; `submit` is refused until none remain."
    )
    allowed_actions: list[str] = Field(
        description="What the caller may do now: edit, submit, approve, return, complete, "
        "progress, milestone-done."
    )
