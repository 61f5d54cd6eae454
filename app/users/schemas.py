from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.core.schemas import Input, Patch
from app.users.models import Capability, Role

Username = Field(min_length=3, max_length=50, pattern=r"^[A-Za-z0-9_.-]+$")
Password = Field(min_length=10, max_length=200, description="At least 10 characters.")
Phone = Field(
    default=None,
    max_length=30,
    pattern=r"^[0-9+() -]{3,30}$",
    description="Digits, +, -, ( ) and spaces.",
)


class _Caps(Input):
    capabilities: list[Capability] | None = Field(
        default=None,
        description="Extra powers on top of the role: `cases` (police case handling), "
        "`oversight` (监察/政法委: read everything), `inspector` (inspection group).",
    )

    @field_validator("capabilities")
    @classmethod
    def _unique(cls, caps: list[Capability] | None) -> list[Capability] | None:
        return sorted(set(caps)) if caps is not None else None


class UserCreate(_Caps):
    """A new login for a person. `role` must fit the org's kind."""

    username: str = Username
    full_name: str = Field(min_length=1, max_length=50, description="Real name (姓名).")
    phone: str | None = Phone
    org_id: int = Field(ge=1, le=2**31 - 1, description="The org the user works for.")
    role: Role = Field(description="`school`, `department`, `office` or `admin`.")
    password: str = Password

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "username": "wang.li",
                "full_name": "王丽",
                "phone": "13800000000",
                "org_id": 3,
                "role": "department",
                "capabilities": ["inspector"],
                "password": "a-long-initial-password",
            }
        }
    )


class UserUpdate(_Caps, Patch):
    """Only the fields sent change. Send `If-Match` with the user's ETag."""

    required_if_sent = frozenset({"full_name", "org_id", "role", "capabilities"})

    full_name: str | None = Field(default=None, min_length=1, max_length=50)
    phone: str | None = Phone
    org_id: int | None = Field(
        default=None, ge=1, le=2**31 - 1, description="Moving the user revokes their tokens."
    )
    role: Role | None = Field(default=None, description="Changing it revokes their tokens.")

    model_config = ConfigDict(
        json_schema_extra={"example": {"phone": "13900001111", "capabilities": ["inspector"]}}
    )


class PasswordReset(Input):
    """A new password the administrator hands over; the user should change it at once."""

    new_password: str = Password

    model_config = ConfigDict(
        json_schema_extra={"example": {"new_password": "temporary-password-2026"}}
    )


class UserPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    full_name: str
    phone: str | None
    org_id: int
    role: Role
    capabilities: list[Capability]
    is_active: bool
    last_login_at: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int
