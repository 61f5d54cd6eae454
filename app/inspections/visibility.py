"""Who may see which inspections. Every inspection list, get and attachment check starts from
`visible_inspections`. Deny by default."""

from sqlalchemy import ColumnElement, false, or_, true
from sqlmodel import Session, col, select

from app.auth.principal import Principal
from app.inspections.models import Inspection
from app.orgs.models import Org
from app.users.models import Capability, Role


def visible_inspections(principal: Principal) -> ColumnElement[bool]:
    """The WHERE clause of the inspections `principal` may see.

    * office, oversight, inspectors and service accounts (scope checked at the route): all;
    * a school: the inspections of itself;
    * a department: the ones it made and those of the schools it supervises;
    * admins: none.
    """
    if principal.sees_district or principal.can(Capability.inspector):
        return true()
    if principal.org_id is None:
        return false()
    if principal.role == Role.school:
        return col(Inspection.school_id) == principal.org_id
    if principal.role == Role.department:
        supervised = select(col(Org.id)).where(col(Org.supervising_org_id) == principal.org_id)
        return or_(
            col(Inspection.inspector_org_id) == principal.org_id,
            col(Inspection.school_id).in_(supervised),
        )
    return false()


def may_act_on(principal: Principal, inspection: Inspection) -> bool:
    """Who adds to an inspection (links hazards, attaches papers): the org that made it and
    the office."""
    return principal.is_office or (
        principal.role != Role.service and principal.org_id == inspection.inspector_org_id
    )


def inspection_readable(session: Session, principal: Principal, parent_id: int) -> bool:
    stmt = select(col(Inspection.id)).where(
        col(Inspection.id) == parent_id, visible_inspections(principal)
    )
    return session.exec(stmt).first() is not None


def inspection_attachable(session: Session, principal: Principal, parent_id: int) -> bool:
    inspection = session.exec(
        select(Inspection).where(col(Inspection.id) == parent_id, visible_inspections(principal))
    ).first()
    return inspection is not None and may_act_on(principal, inspection)


def inspection_campaign(session: Session, parent_id: int) -> int | None:
    stmt = select(col(Inspection.campaign_id)).where(col(Inspection.id) == parent_id)
    return session.exec(stmt).first()
