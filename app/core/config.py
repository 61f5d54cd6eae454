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
    # Threads (each with its own connection) serving the hot reads: a hazard, a register page.
    db_read_threads: int = Field(default=4, ge=1, le=64)
    # Net allocations between two young-generation collections (CPython's default is 700):
    # see app/core/collector.py.
    gc_threshold: int = Field(default=100_000, ge=100, le=1_000_000)
    # Hazards whose stored columns each worker keeps serialised for the register's pages
    # (~2 KB each; 0 turns it off): see app/core/representations.py.
    hazard_cache_rows: int = Field(default=20_000, ge=0, le=1_000_000)

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
    # A register import (台账导入): 100,000 CSV rows are about 14 MB.
    max_import_bytes: int = 50 * 1024 * 1024
    max_json_bytes: int = 1024 * 1024

    redis_url: str | None = None
    # Set when uvicorn runs several workers: each writes its metrics to files here and
    # /metrics sums them (prometheus_client multiprocess mode). Must be empty at start.
    prometheus_multiproc_dir: str | None = None
    login_max_attempts: int = 5
    login_window_seconds: int = 300

    # How long a worker trusts its cached copy of a user's token version (revocation check).
    auth_cache_seconds: float = 5.0

    due_soon_days: int = Field(default=3, ge=0, le=60)
    # Minimum distance (metres) of a venue type from a school. Internet cafés: 200 m by national
    # rule (互联网上网服务营业场所管理条例 art. 9); dance and game halls: set by the province.
    venue_limits_m: dict[str, int] = {"internet_cafe": 200, "dance_hall": 200, "game_hall": 200}
    webhook_allow_private: bool = False
    # Deliveries run in a background task of the API process unless a separate
    # `python -m app webhook-worker` does it. Off by default under ENVIRONMENT=test, where
    # tests drive the worker step by step.
    webhook_worker_inline: bool = True
    webhook_poll_seconds: float = Field(default=2.0, gt=0, le=300)
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    webhook_max_attempts: int = Field(default=10, ge=1, le=50)
    webhook_backoff_base_seconds: float = Field(default=10.0, ge=0, le=3600)
    webhook_backoff_max_seconds: float = Field(default=6 * 3600, ge=1, le=7 * 24 * 3600)
    webhook_disable_after_failures: int = Field(default=20, ge=1, le=10_000)
    idempotency_ttl_hours: int = Field(default=24, ge=1, le=24 * 30)

    @model_validator(mode="after")
    def _refuse_default_secret_in_production(self) -> "Settings":
        if self.environment == "production" and self.secret_key == DEFAULT_SECRET:
            raise ValueError("SECRET_KEY must be set in production")
        if len(self.secret_key) < 32:
            raise ValueError("SECRET_KEY must be at least 32 characters")
        if self.environment == "test" and "webhook_worker_inline" not in self.model_fields_set:
            self.webhook_worker_inline = False
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    return Settings()
