from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.core.schemas import Input, Patch
from app.orgs.models import LicenseStatus, OrgKind, Ownership, SchoolType

Name = Field(min_length=1, max_length=100)


class OrgFields(Input):
    code: str | None = Field(
        default=None,
        max_length=40,
        pattern=r"^[A-Za-z0-9_.-]+$",
        description="Short unique code, e.g. the school's registry number (letters, digits, "
        "`_ . -`).",
    )
    address: str | None = Field(default=None, max_length=200)
    contact_person: str | None = Field(default=None, max_length=50, description="联系人.")
    contact_phone: str | None = Field(
        default=None,
        max_length=30,
        pattern=r"^[0-9+() -]{3,30}$",
        description="Digits, +, -, ( ) and spaces.",
    )
    school_type: SchoolType | None = Field(
        default=None, description="Schools only (required for a new school)."
    )
    ownership: Ownership | None = Field(
        default=None,
        description="Schools only (required for a new school). `private` schools and kindergartens "
        "are supervised by a town, street office or the approval group.",
    )
    license_status: LicenseStatus | None = Field(
        default=None,
        description="Schools only: `licensed`, or where an unlicensed kindergarten stands "
        "(the crackdown itself runs through `/licences`).",
    )
    supervising_org_id: int | None = Field(
        default=None,
        ge=1,
        le=2**31 - 1,
        description="Schools only: the department or office that supervises the school (its "
        "users then see the school's hazards).",
    )
    student_count: int | None = Field(default=None, ge=0, le=100_000)
    lat: float | None = Field(
        default=None, ge=-90, le=90, description="Latitude in decimal degrees; send with `lng`."
    )
    lng: float | None = Field(
        default=None, ge=-180, le=180, description="Longitude in decimal degrees; send with `lat`."
    )


class OrgCreate(OrgFields):
    """A new office, department or school."""

    name: str = Name
    kind: OrgKind

    @model_validator(mode="after")
    def _school_fields(self) -> "OrgCreate":
        if self.kind == OrgKind.school:
            if self.school_type is None or self.ownership is None:
                raise ValueError("a school needs school_type and ownership")
        elif self.school_type or self.ownership or self.license_status or self.supervising_org_id:
            raise ValueError("only schools have school_type, ownership, licence and supervisor")
        if (self.lat is None) != (self.lng is None):
            raise ValueError("give both lat and lng, or neither")
        return self

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "name": "桃花镇中心小学",
                "kind": "school",
                "school_type": "primary",
                "ownership": "public",
                "license_status": "licensed",
                "supervising_org_id": 14,
                "address": "桃花镇学府路 1 号",
                "lat": 34.27,
                "lng": 108.95,
            }
        }
    )


class OrgUpdate(OrgFields, Patch):
    """Only the fields sent are changed. Send `If-Match` with the org's ETag."""

    required_if_sent = frozenset({"name", "is_active"})

    name: str | None = Field(default=None, min_length=1, max_length=100)
    is_active: bool | None = Field(
        default=None,
        description="`false` marks the org inactive: it can no longer be given department "
        "tasks. Nothing is deleted.",
    )

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "contact_person": "李校长",
                "contact_phone": "029-88661234",
                "student_count": 860,
            }
        }
    )


class OrgPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    kind: OrgKind
    code: str | None
    address: str | None
    contact_person: str | None
    contact_phone: str | None
    school_type: SchoolType | None
    ownership: Ownership | None
    license_status: LicenseStatus | None
    supervising_org_id: int | None
    student_count: int | None
    lat: float | None
    lng: float | None
    is_active: bool
    created_at: datetime
    updated_at: datetime
    version: int
