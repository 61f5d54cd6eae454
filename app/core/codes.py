"""Human-readable, gap-free yearly codes (`YH-2026-000123`, `AJ-2026-000007`).

One counter row per year in a table of the caller's (columns `year` primary key and `last`),
advanced with a single UPDATE … RETURNING: on PostgreSQL the row lock serialises concurrent
creates, on SQLite the write transaction (BEGIN IMMEDIATE) does. A domain keeps its own
counter table so its codes never depend on another domain's traffic.
"""

from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session


def reserve(session: Session, counter: Any, prefix: str, year: int, count: int = 1) -> list[str]:
    """Reserve `count` consecutive `<prefix>-<year>-<seq>` codes inside the caller's
    transaction. `counter` is a table model with integer columns `year` (key) and `last`."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(counter).values(year=year, last=0).on_conflict_do_nothing())
    last = session.execute(
        update(counter)
        .where(counter.year == year)
        .values(last=counter.last + count)
        .returning(counter.last)
    ).scalar_one()
    return [f"{prefix}-{year}-{seq:06d}" for seq in range(last - count + 1, last + 1)]
