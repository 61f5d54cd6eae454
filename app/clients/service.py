"""Service accounts: creation, secret rotation and revocation (admins only).

The secret is generated here, returned once and stored as an argon2 hash. Rotation and
revocation bump the client's `token_version`, so every access token minted before stops
working at once in this worker and within `auth_cache_seconds` in the others.
"""

import secrets
from collections.abc import Sequence

from sqlmodel import Session, col, select

from app.audit import service as audit
from app.auth.models import ServiceClient
from app.auth.principal import Principal
from app.auth.service import auth_states
from app.clients.schemas import ClientCreate, ClientPublic, ClientWithSecret
from app.core import db, security
from app.core.errors import Conflict, NotFound
from app.core.etag import check_if_match
from app.core.pagination import SortDir, keyset, split_page
from app.core.time import now


def _not_found() -> NotFound:
    return NotFound("client.not_found", zh="外部系统账号不存在。", en="No such service account.")


def _with_secret(client: ServiceClient, secret: str) -> ClientWithSecret:
    public = ClientPublic.model_validate(client)
    return ClientWithSecret(**public.model_dump(), client_secret=secret)


def create(principal: Principal, data: ClientCreate) -> ClientWithSecret:
    secret = security.new_secret()
    with db.write() as session:
        client = ServiceClient(
            client_id=f"cs_{secrets.token_hex(8)}",
            name=data.name,
            description=data.description,
            secret_hash=security.hash_password(secret),
            scopes=[s.value for s in data.scopes],
            created_by=principal.user_id,
        )
        session.add(client)
        session.flush()
        audit.record(
            session,
            principal,
            action="client.created",
            object_type="service_client",
            object_id=client.id,
            changes={"name": data.name, "scopes": client.scopes},
        )
    return _with_secret(client, secret)


def list_clients(
    *, active: bool | None, cursor: str | None, limit: int
) -> tuple[Sequence[ServiceClient], str | None]:
    stmt = select(ServiceClient)
    if active is not None:
        stmt = stmt.where(col(ServiceClient.is_active) == active)
    stmt = keyset(
        stmt,
        key=col(ServiceClient.id),
        id_col=col(ServiceClient.id),
        direction=SortDir.asc,
        cursor=cursor,
        limit=limit,
    )
    with db.read() as session:
        rows = session.exec(stmt).all()
    return split_page(rows, limit, lambda c: (c.id, c.id))


def get(client_pk: int) -> ServiceClient:
    with db.read() as session:
        client = session.get(ServiceClient, client_pk)
    if client is None:
        raise _not_found()
    return client


def _locked(session: Session, client_pk: int) -> ServiceClient:
    client = session.exec(
        select(ServiceClient).where(col(ServiceClient.id) == client_pk).with_for_update()
    ).first()
    if client is None:
        raise _not_found()
    return client


def _bump(session: Session, client: ServiceClient) -> None:
    client.token_version += 1
    client.version += 1
    client.updated_at = now()
    session.add(client)
    auth_states.drop(f"client:{client.id}")


def rotate(principal: Principal, client_pk: int, if_match: str | None) -> ClientWithSecret:
    """A new secret; the old one and every token issued with it stop working."""
    secret = security.new_secret()
    secret_hash = security.hash_password(secret)
    with db.write() as session:
        client = _locked(session, client_pk)
        check_if_match(if_match, client.version, required=False)
        if not client.is_active:
            raise Conflict(
                "client.revoked",
                zh="已吊销的账号不能更换密钥。",
                en="A revoked service account cannot get a new secret.",
            )
        client.secret_hash = secret_hash
        _bump(session, client)
        audit.record(
            session,
            principal,
            action="client.secret_rotated",
            object_type="service_client",
            object_id=client.id,
        )
    # Drop again after commit: a request in between may have cached the old version.
    auth_states.drop(f"client:{client.id}")
    return _with_secret(client, secret)


def revoke(principal: Principal, client_pk: int, if_match: str | None) -> ServiceClient:
    """Permanently disable the account. Idempotent: revoking twice changes nothing more."""
    with db.write() as session:
        client = _locked(session, client_pk)
        check_if_match(if_match, client.version, required=False)
        if client.is_active:
            client.is_active = False
            _bump(session, client)
            audit.record(
                session,
                principal,
                action="client.revoked",
                object_type="service_client",
                object_id=client.id,
            )
    auth_states.drop(f"client:{client.id}")
    return client
