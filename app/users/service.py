"""Users are managed by admins. A role must fit its org's kind, and capabilities their role."""

from collections.abc import Sequence
from typing import Any

from sqlmodel import Session, col, select

from app.audit import service as audit
from app.auth import service as auth
from app.auth.principal import Principal
from app.core import db, security
from app.core.errors import Conflict, Invalid, NotFound, field_error
from app.core.etag import check_if_match
from app.core.pagination import SortDir, keyset, split_page
from app.core.time import now
from app.orgs.models import Org, OrgKind
from app.users.models import USER_ROLES, Capability, Role, User
from app.users.schemas import UserCreate, UserUpdate

ROLE_ORG_KIND = {
    Role.school: OrgKind.school,
    Role.department: OrgKind.department,
    Role.office: OrgKind.office,
}
CAPABILITY_ROLES = {
    Capability.cases: {Role.department},
    Capability.oversight: {Role.department, Role.office},
    Capability.inspector: {Role.department, Role.office},
}


def _not_found() -> NotFound:
    return NotFound("user.not_found", zh="用户不存在。", en="No such user.")


def _check_fit(session: Session, org_id: int, role: Role, capabilities: list[str]) -> None:
    if role not in USER_ROLES:
        raise Invalid(
            "user.bad_role",
            zh="该角色不能分配给用户。",
            en="This role cannot be given to a user.",
            errors=[field_error("body.role", "bad_role", "角色无效", "invalid role")],
        )
    org = session.get(Org, org_id)
    if org is None:
        raise Invalid(
            "user.bad_org",
            zh="所属组织不存在。",
            en="The org does not exist.",
            errors=[field_error("body.org_id", "bad_org", "组织不存在", "no such org")],
        )
    wanted = ROLE_ORG_KIND.get(role)
    if wanted is not None and org.kind != wanted:
        raise Invalid(
            "user.role_org_mismatch",
            zh=f"角色“{role.zh}”的用户必须属于{wanted.zh}类组织。",
            en=f"A {role.value} user must belong to an org of kind {wanted.value}.",
            errors=[
                field_error(
                    "body.role",
                    "role_org_mismatch",
                    "角色与组织类型不符",
                    "role does not fit the org",
                )
            ],
        )
    for cap in capabilities:
        if role not in CAPABILITY_ROLES[Capability(cap)]:
            raise Invalid(
                "user.capability_role_mismatch",
                zh=f"能力“{Capability(cap).zh}”不能授予角色“{role.zh}”。",
                en=f"Capability {cap} cannot be given to role {role.value}.",
                errors=[
                    field_error(
                        "body.capabilities",
                        "capability_role_mismatch",
                        "能力与角色不符",
                        "capability does not fit the role",
                    )
                ],
            )


def list_users(
    *, org_id: int | None, role: Role | None, q: str | None, cursor: str | None, limit: int
) -> tuple[Sequence[User], str | None]:
    stmt = select(User)
    if org_id:
        stmt = stmt.where(col(User.org_id) == org_id)
    if role:
        stmt = stmt.where(col(User.role) == role)
    if q:
        stmt = stmt.where(
            col(User.username).contains(q, autoescape=True)
            | col(User.full_name).contains(q, autoescape=True)
        )
    stmt = keyset(
        stmt,
        key=col(User.id),
        id_col=col(User.id),
        direction=SortDir.asc,
        cursor=cursor,
        limit=limit,
    )
    with db.read() as session:
        rows = session.exec(stmt).all()
    return split_page(rows, limit, lambda u: (u.id, u.id))


def get(user_id: int) -> User:
    with db.read() as session:
        user = session.get(User, user_id)
    if user is None:
        raise _not_found()
    return user


def create(principal: Principal, data: UserCreate) -> User:
    caps = [c.value for c in data.capabilities or []]
    with db.write() as session:
        if session.exec(select(User.id).where(col(User.username) == data.username)).first():
            raise Conflict("user.duplicate", zh="用户名已被使用。", en="The username is taken.")
        _check_fit(session, data.org_id, data.role, caps)
        user = User(
            username=data.username,
            full_name=data.full_name,
            phone=data.phone,
            org_id=data.org_id,
            role=data.role,
            capabilities=caps,
            password_hash=security.hash_password(data.password),
        )
        session.add(user)
        session.flush()
        audit.record(
            session,
            principal,
            action="user.create",
            object_type="user",
            object_id=user.id,
            changes=data.model_dump(exclude={"password"}),
        )
        return user


def _locked(session: Session, user_id: int) -> User:
    user = session.exec(select(User).where(col(User.id) == user_id).with_for_update()).first()
    if user is None:
        raise _not_found()
    return user


def update(principal: Principal, user_id: int, data: UserUpdate, if_match: str | None) -> User:
    changes: dict[str, Any] = data.model_dump(exclude_unset=True)
    if "capabilities" in changes:
        changes["capabilities"] = [Capability(c).value for c in changes["capabilities"]]
    with db.write() as session:
        user = _locked(session, user_id)
        check_if_match(if_match, user.version)
        before = user.model_dump()
        for key, value in changes.items():
            setattr(user, key, value)
        _check_fit(session, user.org_id, user.role, user.capabilities)
        # Role, org and capabilities ride in the token: old tokens must not keep old powers.
        if {"org_id", "role", "capabilities"} & changes.keys():
            auth.revoke_user_tokens(session, user)
        user.updated_at = now()
        user.version += 1
        session.add(user)
        audit.record(
            session,
            principal,
            action="user.update",
            object_type="user",
            object_id=user.id,
            changes=audit.diff(before, changes),
        )
        return user


def set_active(principal: Principal, user_id: int, active: bool) -> User:
    with db.write() as session:
        user = _locked(session, user_id)
        if user.id == principal.id and not active:
            raise Conflict(
                "user.self_disable", zh="不能停用自己的账号。", en="You cannot disable yourself."
            )
        if user.is_active != active:
            user.is_active = active
            if not active:
                auth.revoke_user_tokens(session, user)
            user.updated_at = now()
            user.version += 1
            session.add(user)
            audit.record(
                session,
                principal,
                action="user.enable" if active else "user.disable",
                object_type="user",
                object_id=user.id,
            )
        return user


def reset_password(principal: Principal, user_id: int, new_password: str) -> User:
    with db.write() as session:
        user = _locked(session, user_id)
        user.password_hash = security.hash_password(new_password)
        auth.revoke_user_tokens(session, user)
        user.updated_at = now()
        user.version += 1
        session.add(user)
        audit.record(
            session, principal, action="user.password_reset", object_type="user", object_id=user.id
        )
        return user


def create_first_admin(*, username: str, password: str, full_name: str, org_name: str) -> User:
    """For the CLI: an admin user, and an office org to hold it if none exists."""
    with db.write() as session:
        if session.exec(select(User.id).where(col(User.username) == username)).first():
            raise Conflict("user.duplicate", zh="用户名已被使用。", en="The username is taken.")
        org = session.exec(select(Org).where(col(Org.kind) == OrgKind.office)).first()
        if org is None:
            org = Org(name=org_name, kind=OrgKind.office)
            session.add(org)
            session.flush()
        assert org.id is not None
        user = User(
            username=username,
            full_name=full_name,
            org_id=org.id,
            role=Role.admin,
            password_hash=security.hash_password(password),
        )
        session.add(user)
        session.flush()
        audit.record(
            session,
            None,
            action="user.create",
            object_type="user",
            object_id=user.id,
            changes={"username": username, "role": Role.admin, "via": "cli"},
        )
        return user
