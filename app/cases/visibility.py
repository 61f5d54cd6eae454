"""Who may see which cases, and how much of them. Every case list, get, stat, export and
attachment check starts from `visible_cases`. Deny by default.

Three depths of reading:
* full — the police of the handling org, the office, oversight (监察/政法委): the whole case,
  its timeline, supervision and progress;
* sanitized — a school the case concerns, and service accounts with `cases:read`: type,
  status, occurred date and a sanitized summary, never victims or the police's narrative;
* victims unmasked — only the handling org's police and oversight users, and every such
  read is audited.
"""

from enum import StrEnum

from sqlalchemy import ColumnElement, false, true
from sqlmodel import Session, col, select

from app.auth.principal import Principal
from app.cases.models import Case
from app.users.models import Capability, Role


class Depth(StrEnum):
    full = "full"
    sanitized = "sanitized"


def visible_cases(principal: Principal) -> ColumnElement[bool]:
    """The WHERE clause of the cases `principal` may read at any depth."""
    if principal.role in (Role.office, Role.service) or principal.can(Capability.oversight):
        return true()
    if principal.org_id is None:
        return false()
    if principal.can(Capability.cases):
        return col(Case.handling_org_id) == principal.org_id
    if principal.role == Role.school:
        return col(Case.school_id) == principal.org_id
    return false()


def may_list(principal: Principal) -> bool:
    """Schools may learn of a case concerning them, one at a time, but never browse cases."""
    return (
        principal.role in (Role.office, Role.service)
        or principal.can(Capability.oversight)
        or principal.can(Capability.cases)
    )


def depth(principal: Principal, case: Case) -> Depth:
    """How much of a case `principal` (who already passed `visible_cases`) may read."""
    if principal.is_office or principal.can(Capability.oversight):
        return Depth.full
    if principal.can(Capability.cases) and principal.org_id == case.handling_org_id:
        return Depth.full
    return Depth.sanitized


def may_read_victims(principal: Principal, case: Case) -> bool:
    """Minors' personal data: the handling org's police and oversight users only."""
    if principal.kind != "user":
        return False
    if principal.can(Capability.oversight):
        return True
    return principal.can(Capability.cases) and principal.org_id == case.handling_org_id


def handles(principal: Principal, case: Case) -> bool:
    """The police of the handling org: they file, edit, move and report on the case."""
    return (
        principal.kind == "user"
        and principal.can(Capability.cases)
        and principal.org_id == case.handling_org_id
    )


def supervises(principal: Principal) -> bool:
    """The office and oversight users list, extend and delist supervision."""
    return principal.kind == "user" and (principal.is_office or principal.can(Capability.oversight))


# Attachment checks for `AttachmentParent.case`, for `app/attachments/parents.py` to register.
# Evidence on a case may show a child: it is read at full depth only, never by a school or a
# service account.


def _visible_case(session: Session, principal: Principal, case_id: int) -> Case | None:
    return session.exec(
        select(Case).where(col(Case.id) == case_id, visible_cases(principal))
    ).first()


def case_attachments_readable(session: Session, principal: Principal, case_id: int) -> bool:
    if principal.kind != "user":
        return False
    case = _visible_case(session, principal, case_id)
    return case is not None and depth(principal, case) == Depth.full


def case_attachable(session: Session, principal: Principal, case_id: int) -> bool:
    """The handling police add evidence; the office adds supervision documents."""
    case = _visible_case(session, principal, case_id)
    return case is not None and (handles(principal, case) or principal.is_office)


def case_campaign(session: Session, case_id: int) -> int | None:
    return session.exec(select(col(Case.campaign_id)).where(col(Case.id) == case_id)).first()
