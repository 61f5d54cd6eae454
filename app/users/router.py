from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Response

from app.auth.dependencies import AdminUser
from app.core.errors import problem_responses
from app.core.etag import etag
from app.core.pagination import DEFAULT_LIMIT, CursorQuery, LimitQuery, Page
from app.users import service
from app.users.models import Role
from app.users.schemas import PasswordReset, UserCreate, UserPublic, UserUpdate

router = APIRouter(prefix="/users", tags=["users"])

UserId = Annotated[int, Path(ge=1, le=2**31 - 1, description="User id.")]


def _one(user: object, response: Response) -> UserPublic:
    out = UserPublic.model_validate(user)
    response.headers["ETag"] = etag(out.version)
    return out


@router.get("", response_model=Page[UserPublic], responses=problem_responses(401, 403, 422))
def list_users(
    principal: AdminUser,
    org_id: Annotated[
        int | None, Query(ge=1, le=2**31 - 1, description="Only the users of this org.")
    ] = None,
    role: Annotated[Role | None, Query(description="Only users with this role.")] = None,
    q: Annotated[str | None, Query(max_length=50, description="Part of username or name.")] = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = DEFAULT_LIMIT,
) -> Page[UserPublic]:
    """Users (admin only), filtered by org, role or name. Disabled users are listed too
    (`is_active: false`). Passwords are never returned."""
    rows, next_cursor = service.list_users(
        org_id=org_id, role=role, q=q, cursor=cursor, limit=limit
    )
    return Page(items=[UserPublic.model_validate(u) for u in rows], next_cursor=next_cursor)


@router.post(
    "", response_model=UserPublic, status_code=201, responses=problem_responses(401, 403, 409, 422)
)
def create_user(principal: AdminUser, body: UserCreate, response: Response) -> UserPublic:
    """Create a user (admin only). The role must fit the org: `school` users belong to a
    school, `department` users to a department, `office` users to the office. Capabilities:
    `cases` for departments (police), `oversight` and `inspector` for departments or the office."""
    return _one(service.create(principal, body), response)


@router.get(
    "/{user_id}", response_model=UserPublic, responses=problem_responses(401, 403, 404, 422)
)
def get_user(principal: AdminUser, user_id: UserId, response: Response) -> UserPublic:
    """One user (admin only), with an `ETag` to send back on `PATCH`."""
    return _one(service.get(user_id), response)


@router.patch(
    "/{user_id}",
    response_model=UserPublic,
    responses=problem_responses(401, 403, 404, 412, 422, 428),
)
def update_user(
    principal: AdminUser,
    user_id: UserId,
    body: UserUpdate,
    response: Response,
    if_match: Annotated[str | None, Header(description="The user's current ETag.")] = None,
) -> UserPublic:
    """Change a user (admin only); needs `If-Match`. Changing org, role or capabilities
    revokes the user's tokens, since those ride in the token."""
    return _one(service.update(principal, user_id, body, if_match), response)


@router.post(
    "/{user_id}/disable",
    response_model=UserPublic,
    responses=problem_responses(401, 403, 404, 409, 422),
)
def disable_user(principal: AdminUser, user_id: UserId, response: Response) -> UserPublic:
    """Disable a user (admin only): they cannot log in and every token they hold stops
    working at once. Nothing they did is deleted; `enable` undoes it. Disabling yourself is
    409."""
    return _one(service.set_active(principal, user_id, False), response)


@router.post(
    "/{user_id}/enable", response_model=UserPublic, responses=problem_responses(401, 403, 404, 422)
)
def enable_user(principal: AdminUser, user_id: UserId, response: Response) -> UserPublic:
    """Enable a disabled user (admin only): they can log in again with their password."""
    return _one(service.set_active(principal, user_id, True), response)


@router.post(
    "/{user_id}/password",
    summary="Reset User Password",
    response_model=UserPublic,
    responses=problem_responses(401, 403, 404, 422),
)
def reset_password(
    principal: AdminUser, user_id: UserId, body: PasswordReset, response: Response
) -> UserPublic:
    """Set a new password for a user who forgot theirs (admin only). Every token they hold
    stops working; hand the new password over and let them change it with
    `POST /auth/password`."""
    return _one(service.reset_password(principal, user_id, body.new_password), response)
