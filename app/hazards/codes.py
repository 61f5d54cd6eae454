"""Human-readable hazard codes `YH-<year>-<seq>`, unique and gap-free under concurrency.

One counter row per year, advanced with a single UPDATE … RETURNING: on PostgreSQL the row
lock serialises concurrent creates, on SQLite the write transaction (BEGIN IMMEDIATE) does.
A bulk import reserves a whole block in one statement.
"""

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col

from app.hazards.models import HazardCodeCounter


def format_code(year: int, seq: int) -> str:
    return f"YH-{year}-{seq:06d}"


def reserve(session: Session, year: int, count: int = 1) -> list[str]:
    """Reserve `count` consecutive codes for `year` inside the caller's transaction."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(HazardCodeCounter).values(year=year, last=0).on_conflict_do_nothing())
    last = session.execute(
        update(HazardCodeCounter)
        .where(col(HazardCodeCounter.year) == year)
        .values(last=col(HazardCodeCounter.last) + count)
        .returning(col(HazardCodeCounter.last))
    ).scalar_one()
    return [format_code(year, seq) for seq in range(last - count + 1, last + 1)]
