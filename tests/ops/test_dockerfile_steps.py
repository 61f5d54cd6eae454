"""The Dockerfile's steps, run outside Docker by scripts/check_dockerfile_steps.sh: a fresh
venv from the locked requirements, the image's file layout, prestart (wait, migrate, serve
with 2 workers), the probes and the HEALTHCHECK. About a minute; runs in CI (`CI` set) or
with RUN_DEPLOY_TESTS=1."""

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from app.core.db import normalize_url

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.deploy,
    pytest.mark.skipif(
        not (os.environ.get("CI") or os.environ.get("RUN_DEPLOY_TESTS")),
        reason="slow (builds a venv); set RUN_DEPLOY_TESTS=1 or CI=1",
    ),
]


@pytest.fixture
def empty_database() -> Iterator[str | None]:
    """A brand-new PostgreSQL database when the suite runs on PostgreSQL (prestart must
    migrate it from nothing), else None: the script makes its own SQLite file."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        yield None
        return
    server = normalize_url(url).rsplit("/", 1)[0]
    name = f"cs_deploy_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{server}/{name}".replace("postgresql+psycopg://", "postgresql://")
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_dockerfile_steps_build_migrate_serve_and_stop(empty_database: str | None) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    if empty_database:
        env["DATABASE_URL"] = empty_database
    done = subprocess.run(
        [str(ROOT / "scripts" / "check_dockerfile_steps.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "OK: the Dockerfile's steps" in done.stdout
    assert '"status":"ok"' in done.stdout
