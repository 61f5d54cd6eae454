"""How a SQLite database file is set up: 8 KiB pages when new, WAL, foreign keys on."""

import sqlite3
from pathlib import Path

from sqlalchemy import text

from app.core import db


def _pragmas(url: str) -> dict[str, object]:
    engine = db._make_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text("CREATE TABLE IF NOT EXISTS t (x INTEGER)"))
            conn.commit()
            return {
                name: conn.execute(text(f"PRAGMA {name}")).scalar_one()
                for name in ("page_size", "journal_mode", "foreign_keys")
            }
    finally:
        engine.dispose()


def test_a_new_database_gets_large_pages_wal_and_foreign_keys(tmp_path: Path) -> None:
    assert _pragmas(f"sqlite:///{tmp_path / 'new.db'}") == {
        "page_size": db.SQLITE_PAGE_SIZE,
        "journal_mode": "wal",
        "foreign_keys": 1,
    }


def test_an_existing_database_keeps_its_page_size(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as old:
        old.execute("PRAGMA page_size=4096")
        old.execute("CREATE TABLE t (x INTEGER)")
    assert _pragmas(f"sqlite:///{path}")["page_size"] == 4096
