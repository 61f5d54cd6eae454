"""Dialect-aware SQL for local (Asia/Shanghai) days, so that grouping by day happens in the
database, not in Python.

SQLite stores timestamps as naive UTC text and has no time zones: a fixed offset taken from
the configured zone is added (China has kept +08:00 without daylight saving since 1991).
PostgreSQL converts with the zone's name. Both render the zone as a literal, never a bound
parameter: PostgreSQL would otherwise see the SELECT and GROUP BY expressions as different.
"""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Date, Float
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from app.core.config import get_settings
from app.core.time import local_zone


def _offset_minutes() -> int:
    offset = datetime.now(UTC).astimezone(local_zone()).utcoffset()
    return int(offset.total_seconds() // 60) if offset else 0


def _zone_literal() -> str:
    return "'" + get_settings().timezone.replace("'", "''") + "'"


class local_day(FunctionElement[Any]):
    """The local calendar date of a UTC timestamp column."""

    type = Date()
    inherit_cache = True
    name = "local_day"


class local_week(FunctionElement[Any]):
    """The Monday of the local week of a UTC timestamp column."""

    type = Date()
    inherit_cache = True
    name = "local_week"


class days_between(FunctionElement[Any]):
    """Fractional days from the first timestamp to the second."""

    type = Float()
    inherit_cache = True
    name = "days_between"


def _arg(compiler: SQLCompiler, element: FunctionElement[Any], index: int, **kw: Any) -> str:
    return str(compiler.process(list(element.clauses)[index], **kw))


@compiles(local_day, "sqlite")
def _local_day_sqlite(element: local_day, compiler: SQLCompiler, **kw: Any) -> str:
    return f"date({_arg(compiler, element, 0, **kw)}, '{_offset_minutes():+d} minutes')"


@compiles(local_day, "postgresql")
def _local_day_pg(element: local_day, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(timezone({_zone_literal()}, {_arg(compiler, element, 0, **kw)}) AS DATE)"


@compiles(local_week, "sqlite")
def _local_week_sqlite(element: local_week, compiler: SQLCompiler, **kw: Any) -> str:
    # 'weekday 0' moves forward to Sunday (or stays), then back six days: that week's Monday.
    return (
        f"date({_arg(compiler, element, 0, **kw)}, '{_offset_minutes():+d} minutes', "
        "'weekday 0', '-6 days')"
    )


@compiles(local_week, "postgresql")
def _local_week_pg(element: local_week, compiler: SQLCompiler, **kw: Any) -> str:
    inner = f"timezone({_zone_literal()}, {_arg(compiler, element, 0, **kw)})"
    return f"CAST(date_trunc('week', {inner}) AS DATE)"


@compiles(days_between, "sqlite")
def _days_between_sqlite(element: days_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = _arg(compiler, element, 0, **kw), _arg(compiler, element, 1, **kw)
    return f"(julianday({end}) - julianday({start}))"


@compiles(days_between, "postgresql")
def _days_between_pg(element: days_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = _arg(compiler, element, 0, **kw), _arg(compiler, element, 1, **kw)
    return f"(EXTRACT(EPOCH FROM ({end} - {start})) / 86400.0)"
