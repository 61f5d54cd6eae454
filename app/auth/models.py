from datetime import datetime

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from app.core.db import UTCDateTime
from app.core.time import now


class RefreshToken(SQLModel, table=True):
    """One refresh token of a rotation family. Only its hash is stored.

    Using a token marks it used and issues its successor in the same family; presenting a
    used token again is theft or a replay, and revokes the whole family.
    """

    __tablename__ = "refresh_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    family_id: str = Field(max_length=32, index=True)
    token_hash: str = Field(max_length=64, unique=True)
    token_version: int
    issued_at: datetime = Field(default_factory=now, sa_column=Column(UTCDateTime, nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))


class ServiceClient(SQLModel, table=True):
    """A machine client of another government system (OAuth2 client credentials)."""

    __tablename__ = "service_client"

    id: int | None = Field(default=None, primary_key=True)
    client_id: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=100)
    description: str | None = Field(default=None, max_length=500)
    secret_hash: str = Field(max_length=200)
    scopes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    is_active: bool = True
    # Bumped on rotation or revocation: every token issued before is refused.
    token_version: int = 0
    created_by: int | None = Field(default=None, foreign_key="user_account.id")
    last_used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    created_at: datetime = Field(default_factory=now, sa_column=Column(UTCDateTime, nullable=False))
    updated_at: datetime = Field(default_factory=now, sa_column=Column(UTCDateTime, nullable=False))
    version: int = 1
