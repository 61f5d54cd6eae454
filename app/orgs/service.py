"""Orgs: the directory every other domain refers to.

Who sees which orgs: the office, admins, oversight and inspectors see all; a department sees
offices, departments and the schools it supervises; a school sees offices, departments and
itself — never another school.
"""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, or_, true
from sqlmodel import Session, col, select

from app.audit import service as audit
from app.auth.principal import Principal
from app.core import db
from app.core.errors import Conflict, Invalid, NotFound, field_error
from app.core.etag import check_if_match
from app.core.pagination import SortDir, keyset, split_page
from app.core.time import now
from app.orgs.models import Org, OrgKind
from app.orgs.schemas import OrgCreate, OrgUpdate
from app.users.models import Capability, Role


def visible_orgs(principal: Principal) -> ColumnElement[bool]:
    """The WHERE clause of the orgs `principal` may see. Deny by default."""
    if principal.role in (Role.office, Role.admin, Role.service) or principal.capabilities & {
        Capability.oversight,
        Capability.inspector,
    }:
        return true()
    not_school = col(Org.kind) != OrgKind.school
    if principal.role == Role.department:
        return or_(not_school, col(Org.supervising_org_id) == principal.org_id)
    if principal.role == Role.school:
        return or_(not_school, col(Org.id) == principal.org_id)
    return col(Org.id) == -1


def supervised_school_ids(session: Session, org_id: int) -> list[int]:
    stmt = select(Org.id).where(
        col(Org.supervising_org_id) == org_id, col(Org.kind) == OrgKind.school
    )
    return [i for i in session.exec(stmt).all() if i is not None]


def _not_found() -> NotFound:
    return NotFound(
        "org.not_found", zh="组织不存在或您无权查看。", en="No such org, or you may not see it."
    )


def get(principal: Principal, org_id: int) -> Org:
    with db.read() as session:
        org = session.exec(
            select(Org).where(col(Org.id) == org_id, visible_orgs(principal))
        ).first()
    if org is None:
        raise _not_found()
    return org


def list_orgs(
    principal: Principal,
    *,
    kind: OrgKind | None,
    q: str | None,
    supervising_org_id: int | None,
    cursor: str | None,
    limit: int,
) -> tuple[Sequence[Org], str | None]:
    stmt = select(Org).where(visible_orgs(principal))
    if kind:
        stmt = stmt.where(col(Org.kind) == kind)
    if supervising_org_id:
        stmt = stmt.where(col(Org.supervising_org_id) == supervising_org_id)
    if q:
        stmt = stmt.where(col(Org.name).contains(q, autoescape=True))
    stmt = keyset(
        stmt, key=col(Org.id), id_col=col(Org.id), direction=SortDir.asc, cursor=cursor, limit=limit
    )
    with db.read() as session:
        rows = session.exec(stmt).all()
    return split_page(rows, limit, lambda o: (o.id, o.id))


def _check_supervisor(session: Session, supervising_org_id: int | None) -> None:
    if supervising_org_id is None:
        return
    sup = session.get(Org, supervising_org_id)
    if sup is None or sup.kind == OrgKind.school:
        raise Invalid(
            "org.bad_supervisor",
            zh="主管单位必须是已存在的部门或办公室。",
            en="The supervising org must be an existing department or office.",
            errors=[
                field_error(
                    "body.supervising_org_id",
                    "bad_supervisor",
                    "主管单位无效",
                    "invalid supervisor",
                )
            ],
        )


def _name_taken(
    session: Session, name: str, code: str | None, exclude_id: int | None = None
) -> None:
    stmt = select(Org.id).where(
        or_(col(Org.name) == name, col(Org.code) == code) if code else col(Org.name) == name
    )
    if exclude_id is not None:
        stmt = stmt.where(col(Org.id) != exclude_id)
    if session.exec(stmt).first() is not None:
        raise Conflict(
            "org.duplicate",
            zh="同名或同编码的组织已存在。",
            en="An org with this name or code exists.",
        )


def create(principal: Principal, data: OrgCreate) -> Org:
    with db.write() as session:
        _name_taken(session, data.name, data.code)
        _check_supervisor(session, data.supervising_org_id)
        org = Org(**data.model_dump())
        session.add(org)
        session.flush()
        audit.record(
            session,
            principal,
            action="org.create",
            object_type="org",
            object_id=org.id,
            changes=data.model_dump(exclude_none=True),
        )
        return org


def update(principal: Principal, org_id: int, data: OrgUpdate, if_match: str | None) -> Org:
    changes: dict[str, Any] = data.model_dump(exclude_unset=True)
    with db.write() as session:
        org = session.exec(select(Org).where(col(Org.id) == org_id).with_for_update()).first()
        if org is None:
            raise _not_found()
        check_if_match(if_match, org.version)
        if "name" in changes or "code" in changes:
            _name_taken(
                session, changes.get("name", org.name), changes.get("code", org.code), org.id
            )
        if "supervising_org_id" in changes:
            _check_supervisor(session, changes["supervising_org_id"])
        before = org.model_dump()
        for key, value in changes.items():
            setattr(org, key, value)
        if org.kind != OrgKind.school and (
            org.school_type or org.ownership or org.supervising_org_id
        ):
            raise Invalid(
                "org.not_a_school", zh="只有学校有学校属性。", en="Only schools have school fields."
            )
        org.updated_at = now()
        org.version += 1
        session.add(org)
        audit.record(
            session,
            principal,
            action="org.update",
            object_type="org",
            object_id=org.id,
            changes=audit.diff(before, changes),
        )
        return org
