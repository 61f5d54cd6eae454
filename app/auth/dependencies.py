"""Authentication and route-level gates as `Annotated` aliases.

`CurrentPrincipal` costs no database round trip on the hot path: the JWT carries role, org
and capabilities, decoded tokens are memoised, and revocation is checked against a
short-lived per-worker copy of the principal's token version.
"""

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import OAuth2PasswordBearer

from app.auth.principal import Principal
from app.auth.service import auth_states, load_auth_state, principal_from_claims
from app.core import security
from app.core.errors import Forbidden, Unauthorized
from app.core.memo import Memo
from app.core.time import now
from app.users.models import Capability, Role

# Decoded access tokens: a signature check per token, not per request.
_memo: Memo[str, tuple[security.AccessClaims, Principal]] = Memo(20_000)


def _decode(token: str) -> tuple[security.AccessClaims, Principal]:
    def decode() -> tuple[security.AccessClaims, Principal]:
        claims = security.decode_access_token(token)
        return claims, principal_from_claims(claims)

    return _memo.get(token, decode)


def _unauthenticated(code: str = "auth.unauthenticated") -> Unauthorized:
    return Unauthorized(
        code,
        zh="访问令牌缺失、无效或已过期。",
        en="The access token is missing, invalid or expired.",
    )


class Authenticated(OAuth2PasswordBearer):
    """The bearer token read, checked and turned into the caller, and then the route's gate
    (role, capability or scope), as one dependency.

    One dependency rather than a token dependency, a principal dependency and a gate
    depending on it: FastAPI's dependency solving costs as much per dependency as the whole
    check, and this runs on every request. Still an `OAuth2PasswordBearer`, so the OpenAPI
    document declares the same security scheme on every protected route."""

    def __init__(self, gate: Callable[[Principal], None] | None = None) -> None:
        super().__init__(
            tokenUrl="/api/v1/auth/token", auto_error=False, scheme_name="OAuth2PasswordBearer"
        )
        self.gate = gate

    async def __call__(self, request: Request) -> Principal:  # type: ignore[override]
        token = await super().__call__(request)
        if not token:
            raise _unauthenticated()
        try:
            claims, principal = _decode(token)
        except security.TokenError as exc:
            raise _unauthenticated() from exc
        if claims.expires_at <= now():
            _memo.discard(token)
            raise _unauthenticated("auth.token_expired")
        state = auth_states.get(claims.subject)
        if state is None:
            state = await run_in_threadpool(load_auth_state, claims.subject)
        if not state.active or state.token_version != claims.token_version:
            raise _unauthenticated("auth.token_revoked")
        request.state.principal = principal
        if self.gate is not None:
            self.gate(principal)
        return principal


CurrentPrincipal = Annotated[Principal, Depends(Authenticated())]


def _role_names(roles: tuple[Role, ...]) -> tuple[str, str]:
    return "、".join(r.zh for r in roles), ", ".join(r.value for r in roles)


def require(*roles: Role, capabilities: tuple[Capability, ...] = ()) -> Authenticated:
    """Callers with any of `roles` or any of `capabilities`."""
    zh_roles, en_roles = _role_names(roles)
    zh_caps = "、".join(c.zh for c in capabilities)
    en_caps = ", ".join(c.value for c in capabilities)

    def gate(principal: Principal) -> None:
        if principal.role in roles or any(principal.can(c) for c in capabilities):
            return
        who_zh = zh_roles + (f"或具备{zh_caps}能力的用户" if capabilities else "")
        who_en = en_roles + (f" or users with {en_caps}" if capabilities else "")
        raise Forbidden(zh=f"此操作仅限{who_zh}。", en=f"This action is limited to {who_en}.")

    return Authenticated(gate)


def require_scope(scope: str) -> Authenticated:
    """For service accounts: the token must carry `scope`. Users pass (their role decides)."""

    def gate(principal: Principal) -> None:
        if not principal.has_scope(scope):
            raise Forbidden(
                "auth.scope_missing",
                zh=f"访问令牌缺少权限范围 {scope}。",
                en=f"The access token lacks the scope {scope}.",
            )

    return Authenticated(gate)


AdminUser = Annotated[Principal, Depends(require(Role.admin))]
OfficeUser = Annotated[Principal, Depends(require(Role.office))]
