"""The public exposure board (曝光台) is a union of sources: case exposures today,
accountability records (问责) tomorrow. Each source returns `BoardEntry`s newest first and
the board merges them.

One order across every source: (published_at, source, id), newest first. A source that
receives the cursor of the last item shown returns only entries strictly after it in that
order; `after_cursor` builds that WHERE clause from the source's own columns, so a source
needs no knowledge of the others.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, true, tuple_

from app.core.enums import LabeledEnum, register


@register("exposure_source")
class ExposureSource(LabeledEnum):
    case = "case", "典型案件曝光", "Typical case"
    accountability = "accountability", "问责曝光", "Accountability"


@dataclass(frozen=True)
class BoardCursor:
    published_at: datetime
    source: str
    id: int


@dataclass(frozen=True)
class BoardEntry:
    """One item on the board. Only these fields ever leave the server; a source must put
    nothing personal in them."""

    source: ExposureSource
    id: int
    published_at: datetime
    title: str
    summary: str
    category: str
    category_label: str


def after_cursor(
    published_col: Any, id_col: Any, source: ExposureSource, cursor: BoardCursor | None
) -> ColumnElement[bool]:
    """Rows of `source` that come after `cursor` in the board's newest-first order."""
    if cursor is None:
        return true()
    if source.value < cursor.source:
        return published_col <= cursor.published_at  # type: ignore[no-any-return]
    if source.value > cursor.source:
        return published_col < cursor.published_at  # type: ignore[no-any-return]
    return tuple_(published_col, id_col) < (cursor.published_at, cursor.id)
