from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.accountability.models import AccountabilityKind
from app.core.schemas import Input

HazardId = Annotated[int, Field(ge=1, le=2**62)]
SmallId = Annotated[int, Field(ge=1, le=2**31 - 1)]


class AccountabilityCreate(Input):
    """A notice (通报), public exposure (曝光) or accountability decision (责任追究)."""

    campaign_id: int = Field(ge=1, le=2**31 - 1)
    target_org_id: int = Field(ge=1, le=2**31 - 1, description="The org held to account.")
    target_person: str | None = Field(
        default=None, min_length=1, max_length=50, description="The official held accountable."
    )
    kind: AccountabilityKind
    reason: str = Field(
        min_length=1, max_length=4000, description="Why (internal; never on the public board)."
    )
    hazard_ids: list[HazardId] = Field(
        default_factory=list, max_length=50, description="Overdue hazards behind the decision."
    )
    task_ids: list[SmallId] = Field(
        default_factory=list, max_length=50, description="Department tasks behind it."
    )
    case_ids: list[SmallId] = Field(
        default_factory=list, max_length=50, description="Cases behind it."
    )
    decided_on: date = Field(description="Local date of the decision.")
    public: bool = Field(
        default=False, description="Publish on the public exposure board (曝光台) at once."
    )
    public_summary: str | None = Field(
        default=None,
        min_length=1,
        max_length=1000,
        description="Required when `public`: the only text shown on the public board. Refused "
        "when it contains anything shaped like an ID number or a mobile number.",
    )

    @model_validator(mode="after")
    def _summary_when_public(self) -> "AccountabilityCreate":
        if self.public and not self.public_summary:
            raise ValueError("public_summary is required when public is true")
        return self

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "campaign_id": 1,
                "target_org_id": 7,
                "kind": "exposure",
                "reason": "责任单位对挂牌督办的重大隐患逾期未整改,且未申请延期。",
                "hazard_ids": [123],
                "decided_on": "2026-12-16",
                "public": True,
                "public_summary": "某执法分局对校园周边违规网吧整治不力,逾期未完成整改,予以通报曝光。",
            }
        }
    )


class AccountabilityWithdraw(Input):
    """Why the record is withdrawn (撤销); it stays on record."""

    reason: str = Field(min_length=1, max_length=2000, description="Kept with the record.")

    model_config = ConfigDict(
        json_schema_extra={"example": {"reason": "经复核,逾期系施工审批延误所致,撤销该通报。"}}
    )


class AccountabilityPublic(BaseModel):
    id: int
    campaign_id: int
    target_org_id: int
    target_org_name: str
    target_person: str | None
    kind: AccountabilityKind
    reason: str
    hazard_ids: list[int] | None = Field(
        description="Linked objects: only for the office and oversight users, null otherwise."
    )
    task_ids: list[int] | None
    case_ids: list[int] | None
    decided_by: str
    decided_on: date
    public: bool
    public_summary: str | None
    published_at: datetime | None
    created_at: datetime
    withdrawn_at: datetime | None
    withdraw_reason: str | None
    version: int


class Candidate(BaseModel):
    """An org whose overdue work may call for accountability."""

    org_id: int
    org_name: str
    org_kind: str
    overdue_hazards: int = Field(description="Open hazards it must fix, deadline passed.")
    overdue_assignments: int = Field(description="Task assignments past due, no report in.")
    late_reports: int = Field(description="Written reports submitted after the due date.")
    total: int
