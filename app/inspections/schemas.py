from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.core.schemas import Input
from app.inspections.models import InspectionKind, InspectionResult


class InspectionCreate(Input):
    """An inspection (检查/督查) of one school on one day."""

    campaign_id: int = Field(ge=1, le=2**31 - 1)
    kind: InspectionKind = Field(
        description="`self_inspection`: a school of itself; `inspection_group`: an inspector "
        "(any school) or a department at a school it supervises; `oversight`: an oversight "
        "(监察) user checking whether measures were carried out."
    )
    school_id: int = Field(ge=1, le=2**31 - 1, description="The school inspected.")
    inspected_on: date = Field(description="Local date of the inspection; not in the future.")
    inspectors: str = Field(min_length=1, max_length=500, description="Names of the inspectors.")
    findings: str = Field(min_length=1, max_length=8000, description="What was found (检查情况).")
    result: InspectionResult = Field(description="`passed`, `issues_found` or `serious_issues`.")

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "campaign_id": 1,
                "kind": "inspection_group",
                "school_id": 20,
                "inspected_on": "2026-11-26",
                "inspectors": "张明、李华(区教体局)、王强(消防大队)",
                "findings": "教学楼三楼灭火器过期;校门口减速带缺失。",
                "result": "issues_found",
            }
        }
    )


class HazardLinks(Input):
    """Hazards registered from the inspection, to link to it."""

    hazard_ids: list[Annotated[int, Field(ge=1, le=2**62)]] = Field(
        min_length=1, max_length=100, description="Hazards registered from this inspection."
    )

    @model_validator(mode="after")
    def _distinct(self) -> "HazardLinks":
        if len(set(self.hazard_ids)) != len(self.hazard_ids):
            raise ValueError("hazard_ids must be distinct")
        return self

    model_config = ConfigDict(json_schema_extra={"example": {"hazard_ids": [101, 102]}})


class InspectionPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    campaign_id: int
    school_id: int
    kind: InspectionKind
    inspected_on: date
    inspectors: str
    findings: str
    result: InspectionResult
    inspector_org_id: int = Field(description="The org that made the inspection.")
    hazard_ids: list[int] = Field(description="Hazards registered from it (that you may see).")
    created_by: str
    created_at: datetime
    updated_at: datetime
    version: int
