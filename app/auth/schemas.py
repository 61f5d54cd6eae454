from pydantic import BaseModel, ConfigDict, Field

from app.users.models import Capability, Role


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="Seconds until the access token expires.")
    refresh_token: str | None = Field(
        default=None, description="Only for users; exchange at `/auth/refresh` for a new pair."
    )
    scope: str | None = Field(default=None, description="Granted scopes (service accounts).")

    model_config = {
        "json_schema_extra": {
            "example": {
                "access_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9...",
                "token_type": "bearer",
                "expires_in": 900,
                "refresh_token": "5mQ2yX1c...",
            }
        }
    }


class RefreshRequest(BaseModel):
    """The refresh token from the last `/auth/token` or `/auth/refresh` response."""

    refresh_token: str = Field(
        min_length=10,
        max_length=200,
        description="Opaque; each one works once (a reused one revokes its whole chain).",
    )

    model_config = ConfigDict(
        json_schema_extra={"example": {"refresh_token": "5mQ2yX1cR8vKp0LwZ3nT7bHd"}}
    )


class PasswordChange(BaseModel):
    """Your current password, to prove it is you, and the new one."""

    current_password: str = Field(min_length=1, max_length=200)
    new_password: str = Field(min_length=10, max_length=200, description="At least 10 characters.")

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "current_password": "a-long-initial-password",
                "new_password": "校园安全-2026-winter",
            }
        }
    )


class OrgBrief(BaseModel):
    id: int
    name: str
    kind: str


class Me(BaseModel):
    kind: str = Field(description="`user` or `client`.")
    id: int
    username: str | None = None
    full_name: str | None = None
    name: str | None = Field(default=None, description="Service account name.")
    role: Role
    org_id: int | None
    org: OrgBrief | None = None
    capabilities: list[Capability] = []
    scopes: list[str] = []
