"""Settings from the environment and `.env` (pydantic-settings).

Everything that differs between a laptop, CI and production lives here; nothing else reads
`os.environ`.
"""

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET = "dev-insecure-secret-change-me-0123456789abcdef"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = "sqlite:///./var/campus_safety.db"
    db_pool_size: int = Field(default=20, ge=1, le=200)

    secret_key: str = DEFAULT_SECRET
    jwt_issuer: str = "campus-safety"
    jwt_audience: str = "campus-safety-api"
    access_token_minutes: int = Field(default=15, ge=1, le=24 * 60)
    refresh_token_days: int = Field(default=14, ge=1, le=90)

    cors_origins: list[str] = []
    timezone: str = "Asia/Shanghai"
    docs_enabled: bool = True
    demo_mode: bool = False

    storage_dir: Path = Path("./var/attachments")
    max_upload_bytes: int = 10 * 1024 * 1024
    max_json_bytes: int = 1024 * 1024

    redis_url: str | None = None
    login_max_attempts: int = 5
    login_window_seconds: int = 300

    # How long a worker trusts its cached copy of a user's token version (revocation check).
    auth_cache_seconds: float = 5.0

    due_soon_days: int = Field(default=3, ge=0, le=60)
    # Minimum distance (metres) of a venue type from a school. Internet cafés: 200 m by national
    # rule (互联网上网服务营业场所管理条例 art. 9); dance and game halls: set by the province.
    venue_limits_m: dict[str, int] = {"internet_cafe": 200, "dance_hall": 200, "game_hall": 200}
    webhook_allow_private: bool = False

    @model_validator(mode="after")
    def _refuse_default_secret_in_production(self) -> "Settings":
        if self.environment == "production" and self.secret_key == DEFAULT_SECRET:
            raise ValueError("SECRET_KEY must be set in production")
        if len(self.secret_key) < 32:
            raise ValueError("SECRET_KEY must be at least 32 characters")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    return Settings()
