"""`db.Prepared` for the INSERTs and UPDATEs every write repeats: values bound through the
column types, RETURNING converted back, errors raised as SQLAlchemy's, and statements that
would need a column default computed in Python refused."""

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import (
    JSON,
    Column,
    Connection,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from app.core import db
from app.core.db import UTCDateTime

metadata = MetaData()
things = Table(
    "prepared_test_thing",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(20), nullable=False, unique=True),
    Column("at", UTCDateTime, nullable=False),
    Column("data", JSON, nullable=False),
    Column("n", Integer, nullable=False, default=0),  # a default computed in Python
)

INSERT = db.Prepared(insert(things).returning(things.c.id, things.c.at, things.c.data))
BUMP = db.Prepared(
    update(things).where(things.c.code == bindparam("c")).values(n=things.c.n + bindparam("by"))
)
READ = db.Prepared(select(things.c.n, things.c.data).where(things.c.code == bindparam("c")))
AT = datetime(2026, 11, 28, 8, 30, 15, 123456, tzinfo=UTC)


@pytest.fixture
def conn() -> Iterator[Connection]:
    engine = db.get_engine()
    metadata.create_all(engine)
    try:
        with engine.connect() as c:
            yield c
            c.rollback()
    finally:
        metadata.drop_all(engine)


def test_an_insert_binds_through_the_column_types_and_returns_converted_values(
    conn: Connection,
) -> None:
    row = INSERT.first(conn, {"code": "A-1", "at": AT, "data": {"k": [1, "二"]}, "n": 0})
    assert row is not None
    thing_id, at, data = row
    assert isinstance(thing_id, int)
    assert at == AT
    assert data == {"k": [1, "二"]}


def test_an_update_without_returning_changes_the_row(conn: Connection) -> None:
    INSERT.first(conn, {"code": "B-1", "at": AT, "data": {}, "n": 1})
    BUMP.execute(conn, {"c": "B-1", "by": 41})
    assert READ.first(conn, {"c": "B-1"}) == [42, {}]


def test_a_constraint_violation_is_sqlalchemys_integrity_error(conn: Connection) -> None:
    INSERT.first(conn, {"code": "C-1", "at": AT, "data": {}, "n": 0})
    with pytest.raises(IntegrityError):
        INSERT.first(conn, {"code": "C-1", "at": AT, "data": {}, "n": 0})


def test_a_statement_leaving_a_python_default_to_compute_is_refused(conn: Connection) -> None:
    with pytest.raises(TypeError, match=r"\['n'\]"):
        INSERT.first(conn, {"code": "D-1", "at": AT, "data": {}})


def test_in_lists_expand_per_call_with_this_calls_other_values(conn: Connection) -> None:
    """An expanded statement is kept by its lists (`_Compiled._expand`): the same lists with
    other values, other lists, and lists too long to keep each read their own rows."""
    for i in range(30):
        INSERT.first(conn, {"code": f"c{i}", "at": AT, "data": {}, "n": i % 3})
    codes_with_n = db.Prepared(
        select(things.c.code)
        .where(things.c.code.in_(bindparam("codes", expanding=True)), things.c.n == bindparam("n"))
        .order_by(things.c.id)
    )

    def read(codes: list[str], n: int) -> list[str]:
        return [row[0] for row in codes_with_n.all(conn, {"codes": codes, "n": n})]

    assert read(["c0", "c1", "c2", "c3"], 0) == ["c0", "c3"]
    assert read(["c0", "c1", "c2", "c3"], 1) == ["c1"]  # same lists, another value
    assert read(["c1", "c4"], 1) == ["c1", "c4"]  # other lists
    assert read(["c0", "c1", "c2", "c3"], 2) == ["c2"]
    many = [f"c{i}" for i in range(30)]
    assert len(many) > db._Compiled.EXPAND_ONCE
    assert read(many, 0) == [f"c{i}" for i in range(0, 30, 3)]
    assert read(many, 1) == [f"c{i}" for i in range(1, 30, 3)]


def test_lists_fixed_in_the_statement_expand_beside_the_callers(conn: Connection) -> None:
    for i in range(6):
        INSERT.first(conn, {"code": f"c{i}", "at": AT, "data": {}, "n": i % 3})
    fixed = db.Prepared(
        select(things.c.code)
        .where(things.c.n.in_([0, 1]), things.c.code.in_(bindparam("codes", expanding=True)))
        .order_by(things.c.id)
    )
    for _ in range(2):  # expanded, then kept
        rows = fixed.all(conn, {"codes": ["c0", "c2", "c4"]})
        assert [row[0] for row in rows] == ["c0", "c4"]
