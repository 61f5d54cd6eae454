"""Who may see which rectification plans. Every plan list, get, export and attachment check
starts from `visible_plans`. Deny by default."""

from sqlalchemy import ColumnElement, false, or_, select, true
from sqlmodel import col

from app.auth.principal import Principal
from app.hazards.models import Hazard
from app.orgs.models import Org
from app.plans.models import Plan, PlanHazard
from app.users.models import Capability, Role


def visible_plans(principal: Principal) -> ColumnElement[bool]:
    """The WHERE clause of the plans `principal` may read — the same rule as for hazards.

    * office, oversight, and service accounts (their scope is checked at the route): all;
    * inspectors (检查组): all;
    * a school: its own org's plans;
    * a department: plans it owns, and plans covering hazards at the schools it supervises;
    * admins: none.
    """
    if principal.sees_district or principal.can(Capability.inspector):
        return true()
    if principal.org_id is None:
        return false()
    if principal.role == Role.school:
        return col(Plan.owner_org_id) == principal.org_id
    if principal.role == Role.department:
        supervised_schools = select(col(Org.id)).where(
            col(Org.supervising_org_id) == principal.org_id
        )
        plans_at_supervised_schools = (
            select(col(PlanHazard.plan_id))
            .join(Hazard, col(Hazard.id) == col(PlanHazard.hazard_id))
            .where(col(Hazard.school_id).in_(supervised_schools))
        )
        return or_(
            col(Plan.owner_org_id) == principal.org_id,
            col(Plan.id).in_(plans_at_supervised_schools),
        )
    return false()
