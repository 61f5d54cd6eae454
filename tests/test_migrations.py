"""Migrations and models agree, and migrations go up and down cleanly on this database."""

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import Engine, create_engine, inspect, text
from sqlmodel import SQLModel

from app.core.db import normalize_url

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def scratch_engine(tmp_path: Path) -> Iterator[Engine]:
    """An empty database of the same kind as the suite's."""
    url = normalize_url(os.environ["DATABASE_URL"])
    if url.startswith("sqlite"):
        engine = create_engine(f"sqlite:///{tmp_path}/migrations.db")
        yield engine
        engine.dispose()
        return
    base = url.rsplit("/", 1)[0]
    name = f"cs_mig_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = create_engine(f"{base}/{name}")
    yield engine
    engine.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _run(engine: Engine, *args: str) -> None:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        getattr(command, args[0])(config, *args[1:])


def test_migrations_match_models_and_downgrade_cleanly(scratch_engine: Engine) -> None:
    _run(scratch_engine, "upgrade", "head")
    with scratch_engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), SQLModel.metadata
        )
    assert diff == [], f"models and migrations disagree; generate a migration: {diff}"

    _run(scratch_engine, "downgrade", "base")
    assert set(inspect(scratch_engine).get_table_names()) <= {"alembic_version"}

    _run(scratch_engine, "upgrade", "head")
    assert set(SQLModel.metadata.tables) <= set(inspect(scratch_engine).get_table_names())


def test_partial_indexes_are_partial_after_the_migrations(scratch_engine: Engine) -> None:
    """`compare_metadata` does not compare an index's WHERE: the migrated database and the
    models must agree on which indexes are partial, and on their conditions."""
    _run(scratch_engine, "upgrade", "head")
    dialect = scratch_engine.dialect.name

    def condition(where: object) -> str:
        return " ".join(str(where).strip("()").lower().split())

    wanted = {
        index.name: condition(index.dialect_options[dialect]["where"])
        for table in SQLModel.metadata.tables.values()
        for index in table.indexes
        if index.dialect_options[dialect]["where"] is not None
    }
    assert wanted, "no partial index in the models"
    inspector = inspect(scratch_engine)
    found = {
        index["name"]: condition(index.get("dialect_options", {}).get(f"{dialect}_where"))
        for table in SQLModel.metadata.tables
        for index in inspector.get_indexes(table)
        if index.get("dialect_options", {}).get(f"{dialect}_where") is not None
    }
    assert found == wanted
