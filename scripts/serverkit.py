"""Shared by the fuzz, load and crash scripts: a scratch database (SQLite file or a fresh
PostgreSQL database), a migrated + demo-seeded schema, and a uvicorn subprocess on a free
loopback port."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pg_server(url: str) -> str:
    from app.core.db import normalize_url

    return normalize_url(url).rsplit("/", 1)[0]


@contextmanager
def scratch_database(pg_url: str | None) -> Iterator[str]:
    """A brand-new database, dropped afterwards: never the developer's own."""
    if not pg_url:
        tmp = Path(tempfile.mkdtemp(prefix="cs-scratch-"))
        try:
            yield f"sqlite:///{tmp}/scratch.db"
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return
    from sqlalchemy import create_engine, text

    server = _pg_server(pg_url)
    name = f"cs_scratch_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{server}/{name}".replace("postgresql+psycopg://", "postgresql://")
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def server_env(database_url: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        ENVIRONMENT="development",
        SECRET_KEY=secrets.token_urlsafe(48),
        DEMO_MODE="true",
        WEBHOOK_WORKER_INLINE="false",
        STORAGE_DIR=tempfile.mkdtemp(prefix="cs-storage-"),
    )
    env.pop("REDIS_URL", None)
    env.update(extra)
    return env


def prepare(env: dict[str, str], seed: bool = True, models_schema: bool = False) -> None:
    """Migrate (as production does). `models_schema` then adds any table the models define
    and the migrations do not yet: for diagnosing while a migration is being regenerated."""
    subprocess.run([PYTHON, "-m", "app", "migrate"], cwd=ROOT, env=env, check=True)
    if models_schema:
        code = (
            "import app.models; from sqlmodel import SQLModel; from app.core import db; "
            "SQLModel.metadata.create_all(db.get_engine())"
        )
        subprocess.run([PYTHON, "-c", code], cwd=ROOT, env=env, check=True)
    if seed:
        subprocess.run(
            [PYTHON, "-m", "app", "seed-demo"], cwd=ROOT, env=env, check=True, capture_output=True
        )


class Server:
    """uvicorn in a subprocess (its own process group, so kill -9 takes every worker)."""

    def __init__(self, env: dict[str, str], port: int, workers: int = 1, log: Path | None = None):
        self.env, self.port, self.workers = env, port, workers
        self.base = f"http://127.0.0.1:{port}"
        self.log_path = log or Path(tempfile.mkstemp(prefix="cs-server-", suffix=".log")[1])
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60) -> Server:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [
                PYTHON, "-m", "uvicorn", "app.main:app",
                "--host", "127.0.0.1", "--port", str(self.port),
                "--workers", str(self.workers), "--no-access-log",
            ],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited; see {self.log_path}")
            try:
                if httpx.get(self.base + "/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"server did not start in {timeout}s; see {self.log_path}")

    def kill_hard(self) -> None:
        """SIGKILL the whole process group: no shutdown handlers, no flushing."""
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


def login(base: str, username: str, password: str = "demo-password") -> str:
    r = httpx.post(
        base + "/api/v1/auth/token", data={"username": username, "password": password}, timeout=30
    )
    r.raise_for_status()
    return str(r.json()["access_token"])
