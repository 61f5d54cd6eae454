"""Who is calling: the one object every service receives and every visibility rule reads."""

from dataclasses import dataclass, field

from app.core.enums import LabeledEnum, register
from app.users.models import Capability, Role


@register("scope")
class Scope(LabeledEnum):
    """What a service account may do (OAuth2 scopes)."""

    hazards_read = "hazards:read", "读取隐患", "Read hazards"
    plans_read = "plans:read", "读取整改方案", "Read rectification plans"
    tasks_read = "tasks:read", "读取部门任务", "Read department tasks"
    cases_read = "cases:read", "读取案件(脱敏)", "Read cases (sanitised)"
    stats_read = "stats:read", "读取统计", "Read statistics"
    events_read = "events:read", "接收事件", "Receive events"


@dataclass(frozen=True, slots=True)
class Principal:
    kind: str  # "user" or "client"
    id: int
    role: Role
    org_id: int | None
    capabilities: frozenset[Capability] = field(default_factory=frozenset)
    scopes: frozenset[str] = field(default_factory=frozenset)

    @property
    def actor(self) -> str:
        return f"{self.kind}:{self.id}"

    @property
    def user_id(self) -> int | None:
        return self.id if self.kind == "user" else None

    def can(self, capability: Capability) -> bool:
        return capability in self.capabilities

    @property
    def is_office(self) -> bool:
        return self.role == Role.office

    @property
    def sees_district(self) -> bool:
        """Reads everything in the district: the office, oversight users, read-scoped systems."""
        return self.role in (Role.office, Role.service) or Capability.oversight in self.capabilities

    def has_scope(self, scope: str) -> bool:
        return self.kind != "client" or scope in self.scopes
