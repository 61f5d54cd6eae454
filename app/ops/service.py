from functools import lru_cache
from pathlib import Path
from typing import Any

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text

from app.core import db

ROOT = Path(__file__).resolve().parents[2]


@lru_cache
def expected_head() -> str | None:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    return ScriptDirectory.from_config(config).get_current_head()


def readiness() -> dict[str, Any]:
    expected = expected_head()
    try:
        with db.read() as session:
            current = session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception:
        return {
            "status": "unavailable",
            "database": False,
            "migrations": None,
            "expected": expected,
        }
    ok = current == expected
    return {
        "status": "ok" if ok else "migrations_pending",
        "database": True,
        "migrations": current,
        "expected": expected,
    }
