import base64
import binascii
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, Request, Response

from app.auth import service
from app.auth.dependencies import CurrentPrincipal, require
from app.auth.principal import Principal
from app.auth.schemas import Me, PasswordChange, RefreshRequest, TokenResponse
from app.core.errors import Invalid, Unauthorized, field_error, problem_responses
from app.core.middleware import FormChecked
from app.users.models import USER_ROLES

router = APIRouter(prefix="/auth", tags=["auth"])

AnyUser = Annotated[Principal, Depends(require(*USER_ROLES))]


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("basic "):
        return None
    try:
        raw = base64.b64decode(header[6:], validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise Unauthorized(
            "auth.invalid_client", zh="客户端凭据无效。", en="Invalid client credentials."
        ) from exc
    client_id, sep, secret = raw.partition(":")
    return (client_id, secret) if sep else None


def _missing(field: str) -> Invalid:
    return Invalid(
        "auth.missing_field",
        zh=f"缺少字段 {field}。",
        en=f"The field {field} is required for this grant.",
        errors=[field_error(f"body.{field}", "missing", "必填", "required")],
    )


@router.post(
    "/token",
    summary="Log In (Get a Token)",
    response_model=TokenResponse,
    responses=problem_responses(401, 422, 429),
    dependencies=[FormChecked],
)
def token(
    request: Request,
    grant_type: Annotated[
        Literal["password", "client_credentials"],
        Form(description="`password` for people, `client_credentials` for other systems."),
    ] = "password",
    username: Annotated[
        str | None, Form(max_length=50, description="Password grant.", examples=["wang.li"])
    ] = None,
    password: Annotated[str | None, Form(max_length=200, description="Password grant.")] = None,
    client_id: Annotated[
        str | None, Form(max_length=64, description="Client-credentials grant (or HTTP Basic).")
    ] = None,
    client_secret: Annotated[
        str | None,
        Form(max_length=200, description="Client-credentials grant (or HTTP Basic)."),
    ] = None,
    scope: Annotated[
        str | None,
        Form(
            max_length=500,
            description="Client-credentials grant: space-separated scopes to ask for; "
            "all the account's scopes when omitted.",
            examples=["hazards:read stats:read"],
        ),
    ] = None,
) -> TokenResponse:
    """Log in (OAuth2, form-encoded).

    * `grant_type=password` with `username` and `password`: a user gets a short-lived access
      token and a refresh token.
    * `grant_type=client_credentials` with `client_id` and `client_secret` (form fields or
      HTTP Basic), optional `scope`: a service account gets an access token.

    Wrong credentials give 401 with the same answer whether or not the account exists; too
    many failures per account or address give 429 with `Retry-After`.
    """
    ip = _client_ip(request)
    if grant_type == "client_credentials":
        basic = _basic_credentials(request)
        if basic:
            client_id, client_secret = basic
        if not client_id:
            raise _missing("client_id")
        if not client_secret:
            raise _missing("client_secret")
        return service.login_client(client_id, client_secret, scope, ip)
    if not username:
        raise _missing("username")
    if not password:
        raise _missing("password")
    return service.login_password(username, password, ip)


@router.post(
    "/refresh",
    summary="Refresh Tokens",
    response_model=TokenResponse,
    responses=problem_responses(401, 422),
)
def refresh(body: RefreshRequest) -> TokenResponse:
    """Exchange a refresh token for a new access token and a new refresh token.

    Each refresh token works once. Presenting one again (a stolen copy, or a replay) revokes
    every token of its family and answers 401 `auth.refresh_reused`: log in again.
    """
    return service.refresh(body.refresh_token)


@router.post("/logout", summary="Log Out", status_code=204, responses=problem_responses(422))
def logout(body: RefreshRequest) -> Response:
    """Revoke a refresh token and every token rotated from it. Always 204, also for an
    unknown or already revoked token. The access token stays valid until it expires
    (`expires_in`, minutes): the client drops it."""
    service.logout(body.refresh_token)
    return Response(status_code=204)


@router.get("/me", summary="Who Am I", response_model=Me, responses=problem_responses(401))
def me(principal: CurrentPrincipal) -> Me:
    """Who the token belongs to: role, org and capabilities (or a service account's scopes)."""
    return service.me(principal)


@router.post(
    "/password",
    summary="Change My Password",
    status_code=204,
    responses=problem_responses(401, 403, 422),
)
def change_password(principal: AnyUser, body: PasswordChange) -> Response:
    """Change your own password (users only: a service account gets 403). A wrong
    `current_password` is 422. Every token issued before stops working, on every
    device: log in again with the new password."""
    service.change_password(principal, body.current_password, body.new_password)
    return Response(status_code=204)
