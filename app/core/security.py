"""Tokens and password hashes. The only module that imports jose and the hasher.

Access tokens are short-lived JWTs (HS256 pinned) carrying everything a request needs to be
authorised without a database round trip: subject, role, org, capabilities and the user's
token version (bumped on password change or disable, which revokes every earlier token).
"""

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from jose import JWTError, jwt
from jose.exceptions import ExpiredSignatureError
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from app.core.config import get_settings

ALGORITHM = "HS256"
_hasher = PasswordHash((Argon2Hasher(),))
# Verified against when the user does not exist, so that an unknown user costs the same time
# as a wrong password and login timing reveals nothing.
_DUMMY_HASH = _hasher.hash("dummy-password-for-timing")


class TokenError(Exception):
    """The token is missing, malformed, expired, tampered with or not for us."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    if password_hash is None:
        _hasher.verify(password, _DUMMY_HASH)
        return False
    try:
        return _hasher.verify(password, password_hash)
    except Exception:  # a corrupt stored hash is a failed login, not a crash
        return False


def new_secret(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def constant_time_equals(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


@dataclass(frozen=True, slots=True)
class AccessClaims:
    subject: str  # "user:<id>" or "client:<id>"
    role: str
    org_id: int | None
    capabilities: tuple[str, ...]
    scopes: tuple[str, ...]
    token_version: int
    expires_at: datetime


def create_access_token(
    *,
    subject: str,
    role: str,
    org_id: int | None,
    capabilities: tuple[str, ...] = (),
    scopes: tuple[str, ...] = (),
    token_version: int = 0,
    minutes: int | None = None,
    now: datetime | None = None,
) -> tuple[str, datetime]:
    settings = get_settings()
    issued = now or datetime.now(UTC)
    expires = issued + timedelta(minutes=minutes or settings.access_token_minutes)
    claims: dict[str, Any] = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": subject,
        "iat": int(issued.timestamp()),
        "nbf": int(issued.timestamp()),
        "exp": int(expires.timestamp()),
        "jti": uuid.uuid4().hex,
        "typ": "access",
        "role": role,
        "org": org_id,
        "cap": list(capabilities),
        "scp": list(scopes),
        "ver": token_version,
    }
    return jwt.encode(claims, settings.secret_key, algorithm=ALGORITHM), expires


def decode_access_token(token: str) -> AccessClaims:
    settings = get_settings()
    try:
        header = jwt.get_unverified_header(token)
    except JWTError as exc:
        raise TokenError("malformed token") from exc
    # Pin the algorithm and refuse critical extensions we do not understand (RFC 7515 §4.1.11).
    if header.get("alg") != ALGORITHM or "crit" in header:
        raise TokenError("unacceptable token header")
    try:
        claims = jwt.decode(
            token,
            settings.secret_key,
            algorithms=[ALGORITHM],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={
                "require_exp": True,
                "require_iat": True,
                "require_sub": True,
                "require_iss": True,
                "require_aud": True,
            },
        )
    except ExpiredSignatureError as exc:
        raise TokenError("token expired") from exc
    except JWTError as exc:
        raise TokenError("invalid token") from exc
    if claims.get("typ") != "access":
        raise TokenError("not an access token")
    try:
        org = claims.get("org")
        return AccessClaims(
            subject=str(claims["sub"]),
            role=str(claims["role"]),
            org_id=int(org) if org is not None else None,
            capabilities=tuple(str(c) for c in claims.get("cap", [])),
            scopes=tuple(str(s) for s in claims.get("scp", [])),
            token_version=int(claims.get("ver", 0)),
            expires_at=datetime.fromtimestamp(int(claims["exp"]), UTC),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise TokenError("malformed claims") from exc
