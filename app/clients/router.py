"""Service accounts of other government systems (admin only)."""

from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Response

from app.auth.dependencies import AdminUser
from app.clients import service
from app.clients.schemas import ClientCreate, ClientPublic, ClientWithSecret
from app.core.errors import problem_responses
from app.core.etag import etag
from app.core.pagination import DEFAULT_LIMIT, CursorQuery, LimitQuery, Page

router = APIRouter(prefix="/clients", tags=["service accounts"])

ClientPk = Annotated[int, Path(ge=1, le=2**31 - 1, description="Service account id.")]
IfMatch = Annotated[
    str | None, Header(max_length=200, description="Optional: the account's current ETag.")
]


def _one(client: object, response: Response) -> ClientPublic:
    out = ClientPublic.model_validate(client)
    response.headers["ETag"] = etag(out.version)
    return out


@router.post(
    "",
    response_model=ClientWithSecret,
    status_code=201,
    summary="Create a service account",
    responses=problem_responses(401, 403, 422),
)
def create_client(principal: AdminUser, body: ClientCreate, response: Response) -> ClientWithSecret:
    """Create a service account (外部系统账号) for another government system (admin only).

    The response carries `client_id` and `client_secret`. **The secret is shown only here**:
    store it in the other system's vault. The system then gets tokens with
    `POST /api/v1/auth/token` (`grant_type=client_credentials`, credentials as form fields or
    HTTP Basic) and may call only the routes its `scopes` allow. Its calls are audited as
    `client:<id>`.
    """
    out = service.create(principal, body)
    response.headers["ETag"] = etag(out.version)
    return out


@router.get(
    "",
    response_model=Page[ClientPublic],
    summary="List service accounts",
    responses=problem_responses(401, 403, 422),
)
def list_clients(
    principal: AdminUser,
    active: Annotated[bool | None, Query(description="Only active or only revoked.")] = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = DEFAULT_LIMIT,
) -> Page[ClientPublic]:
    """Service accounts, oldest first (admin only). Secrets are never listed."""
    rows, next_cursor = service.list_clients(active=active, cursor=cursor, limit=limit)
    return Page(items=[ClientPublic.model_validate(c) for c in rows], next_cursor=next_cursor)


@router.get(
    "/{client_pk}",
    response_model=ClientPublic,
    summary="Get a service account",
    responses=problem_responses(401, 403, 404, 422),
)
def get_client(principal: AdminUser, client_pk: ClientPk, response: Response) -> ClientPublic:
    """One service account with its scopes and when it last obtained a token (admin only)."""
    return _one(service.get(client_pk), response)


@router.post(
    "/{client_pk}/rotate",
    response_model=ClientWithSecret,
    summary="Rotate a service account's secret",
    responses=problem_responses(401, 403, 404, 409, 412, 422),
)
def rotate_client_secret(
    principal: AdminUser, client_pk: ClientPk, response: Response, if_match: IfMatch = None
) -> ClientWithSecret:
    """Issue a new secret (shown once, in this response). The old secret and every access
    token obtained with it stop working immediately. A revoked account cannot be rotated
    (409 `client.revoked`)."""
    out = service.rotate(principal, client_pk, if_match)
    response.headers["ETag"] = etag(out.version)
    return out


@router.post(
    "/{client_pk}/revoke",
    response_model=ClientPublic,
    summary="Revoke a service account",
    responses=problem_responses(401, 403, 404, 412, 422),
)
def revoke_client(
    principal: AdminUser, client_pk: ClientPk, response: Response, if_match: IfMatch = None
) -> ClientPublic:
    """Permanently disable a service account: it can no longer get tokens and its current
    tokens are refused at once. Revoking an already revoked account changes nothing."""
    return _one(service.revoke(principal, client_pk, if_match), response)
