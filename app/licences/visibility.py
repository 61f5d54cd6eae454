"""Who may see and drive which kindergartens' licence files. Deny by default."""

from sqlalchemy import ColumnElement, and_, false
from sqlmodel import Session, col, select

from app.auth.principal import Principal
from app.licences.models import UNLICENSED
from app.orgs.models import Org, OrgKind
from app.users.models import Role


def visible_licences(principal: Principal) -> ColumnElement[bool]:
    """The WHERE clause (over `Org`) of the unlicensed kindergartens `principal` may see:
    all of them for the office and oversight; its own for a supervising department."""
    unlicensed = and_(col(Org.kind) == OrgKind.school, col(Org.license_status).in_(UNLICENSED))
    if principal.sees_district and principal.role != Role.service:
        return unlicensed
    if principal.role == Role.department and principal.org_id is not None:
        return and_(unlicensed, col(Org.supervising_org_id) == principal.org_id)
    return false()


def may_drive(principal: Principal, school: Org) -> bool:
    """The crackdown is driven by the school's supervising org and the office."""
    return principal.is_office or (
        principal.role == Role.department and principal.org_id == school.supervising_org_id
    )


def licence_readable(session: Session, principal: Principal, parent_id: int) -> bool:
    stmt = select(col(Org.id)).where(col(Org.id) == parent_id, visible_licences(principal))
    return session.exec(stmt).first() is not None


def licence_attachable(session: Session, principal: Principal, parent_id: int) -> bool:
    school = session.exec(
        select(Org).where(col(Org.id) == parent_id, visible_licences(principal))
    ).first()
    return school is not None and may_drive(principal, school)
