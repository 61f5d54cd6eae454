from pydantic import BaseModel, Field

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
    refresh_token: str = Field(min_length=10, max_length=200)


class PasswordChange(BaseModel):
    current_password: str = Field(min_length=1, max_length=200)
    new_password: str = Field(min_length=10, max_length=200)


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
