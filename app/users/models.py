from datetime import datetime

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from app.core.db import UTCDateTime, enum_type
from app.core.enums import LabeledEnum, register
from app.core.time import now


@register("role")
class Role(LabeledEnum):
    school = "school", "学校", "School"
    department = "department", "部门", "Department"
    office = "office", "办公室", "Office"
    admin = "admin", "系统管理员", "Administrator"
    # Machine clients of other government systems; never a user's role.
    service = "service", "外部系统", "Service account"


USER_ROLES = (Role.school, Role.department, Role.office, Role.admin)


@register("capability")
class Capability(LabeledEnum):
    cases = "cases", "案件办理(公安)", "Case handling (police)"
    oversight = "oversight", "监督(监察/政法委)", "Oversight"
    inspector = "inspector", "检查组成员", "Inspection-group member"


class User(SQLModel, table=True):
    __tablename__ = "user_account"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=50, unique=True)
    full_name: str = Field(max_length=50)
    phone: str | None = Field(default=None, max_length=30)
    org_id: int = Field(foreign_key="org.id", index=True)
    role: Role = Field(sa_type=enum_type(Role))
    capabilities: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    password_hash: str = Field(max_length=200)
    is_active: bool = True
    # Bumped on password change or disable: every token minted before is refused.
    token_version: int = 0
    last_login_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    created_at: datetime = Field(default_factory=now, sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(default_factory=now, sa_column=Column(UTCDateTime, nullable=False))
    version: int = 1
