"""The unauthenticated public exposure board: the union of every source's current public
items, newest first, keyset-paginated across sources.

A new source (accountability records, 问责) adds one entry to `SOURCES`: a function
`(after: BoardCursor | None, limit: int, lang: str) -> list[BoardEntry]` returning at most
`limit` of its current public items after the cursor, newest first (use
`app.public.board.after_cursor` for the WHERE clause).
"""

from collections.abc import Callable
from datetime import datetime

from app.accountability import service as accountability
from app.cases import service as cases
from app.core.errors import Invalid, field_error
from app.core.pagination import decode_cursor, encode_cursor
from app.core.time import local_date
from app.public.board import BoardCursor, BoardEntry, ExposureSource
from app.public.schemas import PublicExposure

Source = Callable[[BoardCursor | None, int, str], list[BoardEntry]]

SOURCES: dict[ExposureSource, Source] = {
    ExposureSource.case: cases.public_exposures,
    ExposureSource.accountability: accountability.public_exposures,
}


def _bad_cursor() -> Invalid:
    return Invalid(
        "pagination.bad_cursor",
        zh="分页游标无效,请从第一页重新开始。",
        en="The pagination cursor is not valid; start again from the first page.",
        errors=[field_error("query.cursor", "bad_cursor", "游标无效", "invalid cursor")],
    )


def _encode(entry: BoardEntry) -> str:
    return encode_cursor(f"{entry.published_at.isoformat()}|{entry.source.value}", entry.id)


def _decode(cursor: str) -> BoardCursor:
    value, row_id = decode_cursor(cursor)
    if not isinstance(value, str) or "|" not in value:
        raise _bad_cursor()
    moment, _, source = value.rpartition("|")
    try:
        published_at = datetime.fromisoformat(moment)
    except ValueError as exc:
        raise _bad_cursor() from exc
    if published_at.tzinfo is None or source not in {s.value for s in ExposureSource}:
        raise _bad_cursor()
    return BoardCursor(published_at=published_at, source=source, id=row_id)


def _order(entry: BoardEntry) -> tuple[datetime, str, int]:
    return (entry.published_at, entry.source.value, entry.id)


def list_exposures(
    *, cursor: str | None, limit: int, lang: str
) -> tuple[list[PublicExposure], str | None]:
    after = _decode(cursor) if cursor else None
    merged: list[BoardEntry] = []
    for fetch in SOURCES.values():
        merged.extend(fetch(after, limit + 1, lang))
    merged.sort(key=_order, reverse=True)
    page = merged[:limit]
    next_cursor = _encode(page[-1]) if len(merged) > limit else None
    return [
        PublicExposure(
            source=e.source,
            id=e.id,
            title=e.title,
            summary=e.summary,
            category=e.category,
            category_label=e.category_label,
            published_on=local_date(e.published_at),
        )
        for e in page
    ], next_cursor
