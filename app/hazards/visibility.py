"""Who may see which hazards. Every hazard list, get, export, stat and attachment check
starts from `visible_hazards`. Deny by default."""

from typing import Protocol

from sqlalchemy import ColumnElement, and_, false, or_, select, true
from sqlmodel import col

from app.auth.principal import Principal
from app.hazards.models import Hazard, handed_over
from app.orgs.models import Org, SchoolType
from app.users.models import Capability, Role


def visible_hazards(principal: Principal) -> ColumnElement[bool]:
    """The WHERE clause of the hazards `principal` may read.

    * office, oversight, and service accounts (their scope is checked at the route): all;
    * inspectors (检查组): all — they register and verify at any school;
    * a school: its own hazards;
    * a department: hazards it must fix (handed over to it: `handed_over`, which lets the
      partial index on the responsible org serve), hazards it registered, hazards at
      schools it supervises, and hazards under listed supervision by it;
    * admins: none (they manage users and orgs, not business data).
    """
    if principal.sees_district or principal.can(Capability.inspector):
        return true()
    if principal.org_id is None:
        return false()
    if principal.role == Role.school:
        return col(Hazard.school_id) == principal.org_id
    if principal.role == Role.department:
        supervised_schools = select(col(Org.id)).where(
            col(Org.supervising_org_id) == principal.org_id
        )
        return or_(
            and_(col(Hazard.responsible_org_id) == principal.org_id, handed_over()),
            col(Hazard.reporter_org_id) == principal.org_id,
            col(Hazard.supervising_org_id) == principal.org_id,
            col(Hazard.school_id).in_(supervised_schools),
        )
    return false()


class SchoolFacts(Protocol):
    """What registering a hazard needs to know of its school: an `Org`, or the few columns
    the register path reads instead of loading one."""

    @property
    def id(self) -> int | None: ...
    @property
    def supervising_org_id(self) -> int | None: ...
    @property
    def lat(self) -> float | None: ...
    @property
    def lng(self) -> float | None: ...
    @property
    def school_type(self) -> SchoolType | None: ...


def may_register_at(principal: Principal, school: SchoolFacts) -> bool:
    """Whether `principal` may register a hazard at `school`: a school at itself; inspectors
    and the office anywhere; a department at the schools it supervises."""
    if principal.role == Role.office or principal.can(Capability.inspector):
        return True
    if principal.role == Role.school:
        return school.id == principal.org_id
    if principal.role == Role.department:
        return school.supervising_org_id == principal.org_id
    return False
