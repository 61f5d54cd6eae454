"""Login, token rotation and revocation.

An unknown user and a wrong password get the same answer in the same time. Login attempts
are throttled per account and per client address.
"""

import threading
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session, col, select, update

from app.audit import service as audit
from app.auth.models import RefreshToken, ServiceClient
from app.auth.principal import Principal
from app.auth.schemas import Me, OrgBrief, TokenResponse
from app.core import db, security
from app.core.config import get_settings
from app.core.errors import Invalid, TooManyRequests, Unauthorized, field_error
from app.core.ratelimit import counter
from app.core.time import now
from app.orgs.models import Org
from app.users.models import Capability, Role, User

# ---------------------------------------------------------------------------------------------
# Revocation without a database round trip per request: each worker keeps a short-lived copy
# of every principal's (active, token_version). Changes made in this worker drop the copy at
# once; other workers see them within `auth_cache_seconds`.


@dataclass(frozen=True, slots=True)
class AuthState:
    active: bool
    token_version: int


class AuthStateCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[AuthState, float]] = {}

    def get(self, subject: str) -> AuthState | None:
        entry = self._entries.get(subject)
        if entry is None or entry[1] < time.monotonic():
            return None
        return entry[0]

    def put(self, subject: str, state: AuthState) -> None:
        ttl = get_settings().auth_cache_seconds
        with self._lock:
            if len(self._entries) > 50_000:
                self._entries.clear()
            self._entries[subject] = (state, time.monotonic() + ttl)

    def drop(self, subject: str) -> None:
        with self._lock:
            self._entries.pop(subject, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


auth_states = AuthStateCache()


def load_auth_state(subject: str) -> AuthState:
    kind, _, raw_id = subject.partition(":")
    with db.read() as session:
        if kind == "user":
            row = session.exec(
                select(User.is_active, User.token_version).where(col(User.id) == int(raw_id))
            ).first()
        elif kind == "client":
            row = session.exec(
                select(ServiceClient.is_active, ServiceClient.token_version).where(
                    col(ServiceClient.id) == int(raw_id)
                )
            ).first()
        else:
            row = None
    state = AuthState(bool(row[0]), int(row[1])) if row else AuthState(False, -1)
    auth_states.put(subject, state)
    return state


def principal_from_claims(claims: security.AccessClaims) -> Principal:
    kind, _, raw_id = claims.subject.partition(":")
    if kind not in ("user", "client") or not raw_id.isdigit():
        raise security.TokenError("bad subject")
    try:
        role = Role(claims.role)
        capabilities = frozenset(Capability(c) for c in claims.capabilities)
    except ValueError as exc:
        raise security.TokenError("bad role") from exc
    return Principal(
        kind=kind,
        id=int(raw_id),
        role=role,
        org_id=claims.org_id,
        capabilities=capabilities,
        scopes=frozenset(claims.scopes),
    )


# ---------------------------------------------------------------------------------------------
# Login


def _invalid_credentials() -> Unauthorized:
    return Unauthorized(
        "auth.invalid_credentials",
        zh="用户名或密码错误。",
        en="Incorrect username or password.",
    )


def _throttle(keys: list[str]) -> None:
    settings = get_settings()
    for key in keys:
        attempts, retry_after = counter().peek(key, settings.login_window_seconds)
        if attempts >= settings.login_max_attempts:
            raise TooManyRequests(
                "auth.throttled",
                zh=f"登录失败次数过多,请 {retry_after} 秒后再试。",
                en=f"Too many failed logins; try again in {retry_after} seconds.",
                headers={"Retry-After": str(retry_after)},
            )


def _count_failure(keys: list[str]) -> None:
    window = get_settings().login_window_seconds
    for key in keys:
        counter().hit(key, window)


def _user_tokens(user: User) -> TokenResponse:
    settings = get_settings()
    assert user.id is not None
    access, _ = security.create_access_token(
        subject=f"user:{user.id}",
        role=user.role,
        org_id=user.org_id,
        capabilities=tuple(user.capabilities),
        token_version=user.token_version,
    )
    refresh = _issue_refresh(user, family_id=uuid.uuid4().hex)
    return TokenResponse(
        access_token=access,
        expires_in=settings.access_token_minutes * 60,
        refresh_token=refresh,
    )


def _issue_refresh(user: User, *, family_id: str) -> str:
    """Store a new refresh token of the family (its hash only) and return the raw token."""
    raw = security.new_secret()
    assert user.id is not None
    with db.write() as session:
        session.add(
            RefreshToken(
                user_id=user.id,
                family_id=family_id,
                token_hash=security.sha256_hex(raw),
                token_version=user.token_version,
                expires_at=now() + timedelta(days=get_settings().refresh_token_days),
            )
        )
    return raw


def login_password(username: str, password: str, client_ip: str) -> TokenResponse:
    keys = [f"login:user:{username.lower()}", f"login:ip:{client_ip}"]
    _throttle(keys)
    with db.read() as session:
        user = session.exec(select(User).where(col(User.username) == username)).first()
    ok = security.verify_password(password, user.password_hash if user else None)
    if not user or not ok or not user.is_active:
        _count_failure(keys)
        raise _invalid_credentials()
    counter().reset(keys[0])
    with db.write() as session:
        session.exec(update(User).where(col(User.id) == user.id).values(last_login_at=now()))
        audit.record(
            session,
            Principal(kind="user", id=user.id or 0, role=user.role, org_id=user.org_id),
            action="auth.login",
            object_type="user",
            object_id=user.id,
        )
    return _user_tokens(user)


def login_client(
    client_id: str, client_secret: str, scope: str | None, client_ip: str
) -> TokenResponse:
    keys = [f"login:client:{client_id}", f"login:ip:{client_ip}"]
    _throttle(keys)
    with db.read() as session:
        client = session.exec(
            select(ServiceClient).where(col(ServiceClient.client_id) == client_id)
        ).first()
    ok = security.verify_password(client_secret, client.secret_hash if client else None)
    if not client or not ok or not client.is_active:
        _count_failure(keys)
        raise Unauthorized(
            "auth.invalid_client", zh="客户端凭据无效。", en="Invalid client credentials."
        )
    granted = list(client.scopes)
    if scope:
        asked = scope.split()
        unknown = [s for s in asked if s not in granted]
        if unknown:
            raise Invalid(
                "auth.invalid_scope",
                zh=f"客户端未被授予以下权限范围:{' '.join(unknown)}。",
                en=f"The client is not granted these scopes: {' '.join(unknown)}.",
                errors=[
                    field_error("body.scope", "invalid_scope", "权限范围无效", "invalid scope")
                ],
            )
        granted = asked
    assert client.id is not None
    settings = get_settings()
    access, _ = security.create_access_token(
        subject=f"client:{client.id}",
        role=Role.service,
        org_id=None,
        scopes=tuple(granted),
        token_version=client.token_version,
    )
    with db.write() as session:
        session.exec(
            update(ServiceClient)
            .where(col(ServiceClient.id) == client.id)
            .values(last_used_at=now())
        )
    return TokenResponse(
        access_token=access, expires_in=settings.access_token_minutes * 60, scope=" ".join(granted)
    )


# ---------------------------------------------------------------------------------------------
# Refresh-token rotation


def _refresh_rejected(code: str = "auth.refresh_invalid") -> Unauthorized:
    return Unauthorized(
        code,
        zh="刷新令牌无效或已过期,请重新登录。",
        en="The refresh token is invalid or expired; log in again.",
    )


def refresh(raw_token: str) -> TokenResponse:
    token_hash = security.sha256_hex(raw_token)
    with db.write() as session:
        token = session.exec(
            select(RefreshToken).where(col(RefreshToken.token_hash) == token_hash).with_for_update()
        ).first()
        if token is None:
            raise _refresh_rejected()
        spent = token.used_at is not None or token.revoked_at is not None
        if spent:
            # A spent token shown again: someone holds a copy. Revoke the whole family; the
            # transaction must commit before the refusal is raised.
            _revoke_family(session, token.family_id)
            audit.record(
                session,
                None,
                action="auth.refresh_reuse_detected",
                object_type="user",
                object_id=token.user_id,
                changes={"family_id": token.family_id},
            )
        else:
            user = session.get(User, token.user_id)
            if (
                token.expires_at <= now()
                or user is None
                or not user.is_active
                or user.token_version != token.token_version
            ):
                raise _refresh_rejected()
            token.used_at = now()
            session.add(token)
    if spent:
        raise _refresh_rejected("auth.refresh_reused")
    assert user is not None
    settings = get_settings()
    access, _ = security.create_access_token(
        subject=f"user:{user.id}",
        role=user.role,
        org_id=user.org_id,
        capabilities=tuple(user.capabilities),
        token_version=user.token_version,
    )
    new_raw = _issue_refresh(user, family_id=token.family_id)
    return TokenResponse(
        access_token=access, expires_in=settings.access_token_minutes * 60, refresh_token=new_raw
    )


def _revoke_family(session: Session, family_id: str) -> None:
    session.exec(
        update(RefreshToken)
        .where(col(RefreshToken.family_id) == family_id)
        .where(col(RefreshToken.revoked_at).is_(None))
        .values(revoked_at=now())
    )


def logout(raw_token: str) -> None:
    """Revoke the refresh token's whole family. Unknown tokens are ignored (no oracle)."""
    token_hash = security.sha256_hex(raw_token)
    with db.write() as session:
        token = session.exec(
            select(RefreshToken).where(col(RefreshToken.token_hash) == token_hash)
        ).first()
        if token is not None:
            _revoke_family(session, token.family_id)


def revoke_user_tokens(session: Session, user: User) -> None:
    """Bump the token version and revoke refresh tokens: every earlier token stops working."""
    user.token_version += 1
    session.exec(
        update(RefreshToken)
        .where(col(RefreshToken.user_id) == user.id)
        .where(col(RefreshToken.revoked_at).is_(None))
        .values(revoked_at=now())
    )
    auth_states.drop(f"user:{user.id}")


def change_password(principal: Principal, current: str, new: str) -> None:
    with db.write() as session:
        user = session.get(User, principal.id) if principal.kind == "user" else None
        if user is None or not security.verify_password(current, user.password_hash):
            raise Invalid(
                "auth.wrong_password",
                zh="当前密码不正确。",
                en="The current password is not correct.",
                errors=[
                    field_error(
                        "body.current_password", "wrong_password", "密码错误", "wrong password"
                    )
                ],
            )
        user.password_hash = security.hash_password(new)
        user.updated_at = now()
        user.version += 1
        revoke_user_tokens(session, user)
        session.add(user)
        audit.record(
            session,
            principal,
            action="auth.password_changed",
            object_type="user",
            object_id=user.id,
        )


def me(principal: Principal) -> Me:
    with db.read() as session:
        if principal.kind == "client":
            client = session.get(ServiceClient, principal.id)
            return Me(
                kind="client",
                id=principal.id,
                name=client.name if client else None,
                role=principal.role,
                org_id=None,
                scopes=sorted(principal.scopes),
            )
        user = session.get(User, principal.id)
        if user is None:
            raise Unauthorized()
        org = session.get(Org, user.org_id)
        return Me(
            kind="user",
            id=principal.id,
            username=user.username,
            full_name=user.full_name,
            role=user.role,
            org_id=user.org_id,
            org=OrgBrief(id=org.id or 0, name=org.name, kind=org.kind) if org else None,
            capabilities=[Capability(c) for c in user.capabilities],
        )
