from functools import lru_cache
from pathlib import Path
from typing import Any

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from app.core import db

ROOT = Path(__file__).resolve().parents[2]


@lru_cache
def expected_head() -> str | None:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    return ScriptDirectory.from_config(config).get_current_head()


def readiness() -> dict[str, Any]:
    """Three answers a deployer needs apart: the database is down (`unavailable`), it is up
    but not migrated yet or behind (`migrations_pending`), or all is well (`ok`)."""
    expected = expected_head()
    try:
        with db.read() as session:
            session.execute(text("SELECT 1"))
            # A fresh database has no alembic_version table: that is "not migrated", not
            # "unreachable", and the deployer must be told which.
            connection = session.connection()
            current = None
            if inspect(connection).has_table("alembic_version"):
                current = session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception:
        return {
            "status": "unavailable",
            "database": False,
            "migrations": None,
            "expected": expected,
        }
    ok = current is not None and current == expected
    return {
        "status": "ok" if ok else "migrations_pending",
        "database": True,
        "migrations": current,
        "expected": expected,
    }
