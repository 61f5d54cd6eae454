from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.core.enums import LabeledEnum, register
from app.core.schemas import Input
from app.licences.models import LicenceActionKind
from app.orgs.models import LicenseStatus

AttachmentId = Annotated[int, Field(ge=1, le=2**62)]


@register("licence_step")
class LicenceStep(LabeledEnum):
    """The actions a caller takes (`reinspect` becomes `reopen` when found operating)."""

    investigate = "investigate", "调查核实", "Investigate"
    order_closure = "order-closure", "责令停办", "Order closure"
    close = "close", "取缔", "Close"
    reinspect = "reinspect", "复查", "Re-inspect"


class LicenceDiscover(Input):
    """A newly found unlicensed kindergarten (无证幼儿园)."""

    name: str = Field(min_length=1, max_length=100, description="The kindergarten's name.")
    address: str | None = Field(default=None, max_length=200)
    contact_person: str | None = Field(default=None, max_length=50)
    contact_phone: str | None = Field(
        default=None,
        max_length=30,
        pattern=r"^[0-9+() -]{3,30}$",
        description="Digits, +, -, ( ) and spaces.",
    )
    student_count: int | None = Field(
        default=None, ge=0, le=100_000, description="Children found enrolled."
    )
    lat: float | None = Field(
        default=None, ge=-90, le=90, description="Latitude in decimal degrees; send with `lng`."
    )
    lng: float | None = Field(
        default=None, ge=-180, le=180, description="Longitude in decimal degrees; send with `lat`."
    )
    supervising_org_id: int | None = Field(
        default=None,
        ge=1,
        le=2**31 - 1,
        description="The department that will drive the crackdown. Required from the office; "
        "a department records discoveries for itself and may omit it.",
    )
    discovered_on: date = Field(description="Local date it was found; not in the future.")
    note: str | None = Field(
        default=None, max_length=2000, description="How it was found, what was seen."
    )

    @model_validator(mode="after")
    def _coordinates(self) -> "LicenceDiscover":
        if (self.lat is None) != (self.lng is None):
            raise ValueError("give both lat and lng, or neither")
        return self

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "name": "金苹果幼儿园(无证)",
                "address": "桃花镇西街 8 号",
                "contact_person": "赵某",
                "student_count": 35,
                "discovered_on": "2026-11-26",
                "note": "群众举报,现场核实无办园许可证。",
            }
        }
    )


class LicenceStepIn(Input):
    """One step of the crackdown on an unlicensed kindergarten."""

    acted_on: date = Field(description="Local date of the step; not in the future.")
    note: str | None = Field(default=None, max_length=2000, description="On the file's history.")
    attachment_ids: list[AttachmentId] = Field(
        default_factory=list,
        max_length=20,
        description="Uploaded beforehand with parent_type `licence` and parent_id = school id.",
    )
    found_operating: bool | None = Field(
        default=None,
        description="`reinspect` only, and required there: true when the closed kindergarten "
        "is found operating again (a new cycle begins, flagged `reopened`).",
    )

    @model_validator(mode="after")
    def _distinct(self) -> "LicenceStepIn":
        if len(set(self.attachment_ids)) != len(self.attachment_ids):
            raise ValueError("attachment_ids must be distinct")
        return self

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "acted_on": "2026-11-27",
                "note": "已下达责令停办通知书。",
                "attachment_ids": [],
            }
        }
    )


class LicenceActionPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    school_id: int
    cycle: int
    action: LicenceActionKind
    from_status: LicenseStatus | None
    to_status: LicenseStatus
    acted_on: date
    note: str | None
    attachment_ids: list[int]
    actor: str
    actor_org_id: int | None
    at: datetime


class LicencePublic(BaseModel):
    school_id: int
    name: str
    address: str | None
    supervising_org_id: int | None
    status: LicenseStatus
    cycle: int = Field(description="1, then +1 each time it is caught operating after closure.")
    reopened: bool = Field(description="The current cycle began with it caught operating again.")
    reopened_count: int
    reopened_at: datetime | None
    last_action: LicenceActionPublic | None
    version: int
