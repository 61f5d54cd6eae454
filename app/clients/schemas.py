"""Service accounts (外部系统接入账号) as the admin sees them."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.auth.principal import Scope
from app.core.schemas import Input


class ClientCreate(Input):
    name: str = Field(min_length=1, max_length=100, description="The other system's name.")
    description: str | None = Field(default=None, max_length=500)
    scopes: list[Scope] = Field(
        min_length=1, max_length=len(Scope), description="What the system may read."
    )

    @field_validator("scopes")
    @classmethod
    def _unique(cls, scopes: list[Scope]) -> list[Scope]:
        return sorted(set(scopes))

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "name": "市综治平台",
                "description": "City comprehensive-governance platform; pulls hazards nightly.",
                "scopes": ["hazards:read", "events:read"],
            }
        }
    )


class ClientPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    client_id: str = Field(description="Send as `client_id` in the client-credentials grant.")
    name: str
    description: str | None
    scopes: list[Scope]
    is_active: bool
    last_used_at: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int


class ClientWithSecret(ClientPublic):
    """Returned once, on creation and rotation: the secret is never shown again."""

    client_secret: str = Field(
        description="Shown only in this response; only its hash is stored. Keep it safe."
    )

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "example": {
                "id": 3,
                "client_id": "cs_4f1c2a9e7b3d",
                "name": "市综治平台",
                "description": None,
                "scopes": ["events:read", "hazards:read"],
                "is_active": True,
                "last_used_at": None,
                "created_at": "2026-11-21T01:00:00Z",
                "updated_at": "2026-11-21T01:00:00Z",
                "version": 1,
                "client_secret": "2n3Vq...shown-once...",
            }
        },
    )
