"""Base request models shared by every domain."""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from typing import Annotated, Any, ClassVar, get_args

from annotated_types import MaxLen
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, model_validator

# NUL (PostgreSQL cannot store it) and the other control characters an XML export cannot hold;
# tab, line feed and carriage return are text.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


_NUMBER = re.compile(r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$")


def _number_is_not_a_date(value: Any) -> Any:
    # Pydantic's lax mode reads `?due_to=0` as seconds since 1970 and the list comes back
    # quietly wrong: a number is swapped for a value it refuses with its own `date_parsing`.
    if isinstance(value, str) and _NUMBER.match(value):
        return "not a date"
    return value


# A query date bounds a window: the day needs a local midnight and a day after it, and the
# calendar's first and last days have neither (0001-01-01 begins before year 1 in UTC+8;
# 9999-12-31 has no next day). Beyond these a window answered 500 (Schemathesis found it).
FIRST_QUERY_DATE, LAST_QUERY_DATE = date(1, 1, 2), date(9999, 12, 30)


def _inside_the_calendar(value: date) -> date:
    if not FIRST_QUERY_DATE <= value <= LAST_QUERY_DATE:
        raise ValueError(f"date must be between {FIRST_QUERY_DATE} and {LAST_QUERY_DATE}")
    return value


QueryDate = Annotated[
    date, BeforeValidator(_number_is_not_a_date), AfterValidator(_inside_the_calendar)
]
"""A date in the query string: YYYY-MM-DD, never a number of seconds, 0001-01-02 to
9999-12-30."""


def _representable_in_utc(value: datetime) -> datetime:
    # Stored times are UTC: 0001-01-01T00:00+08:00 is before year 1 there (a 500 before).
    try:
        value.astimezone(UTC)
    except OverflowError:
        raise ValueError("time must fall between years 1 and 9999 in UTC") from None
    return value


QueryDateTime = Annotated[
    datetime, BeforeValidator(_number_is_not_a_date), AfterValidator(_representable_in_utc)
]
"""A time in the query string: ISO 8601, never a number of seconds."""


def contains_nul(value: Any, depth: int = 0) -> bool:
    """True when a control character (NUL …) hides anywhere in a string, key, list or nested
    object."""
    if isinstance(value, str):
        return _CONTROL.search(value) is not None
    if depth > 32:
        return False
    if isinstance(value, dict):
        return any(
            contains_nul(k, depth + 1) or contains_nul(v, depth + 1) for k, v in value.items()
        )
    if isinstance(value, list | tuple | set | frozenset):
        return any(contains_nul(v, depth + 1) for v in value)
    if isinstance(value, BaseModel):
        return contains_nul(value.__dict__, depth + 1)
    return False


def _is_date_type(annotation: Any) -> bool:
    if isinstance(annotation, type) and issubclass(annotation, date):  # date and datetime
        return True
    return any(_is_date_type(arg) for arg in get_args(annotation))


def _types_in(annotation: Any) -> set[Any]:
    found = {annotation}
    for arg in get_args(annotation):
        found |= _types_in(arg)
    return found


@dataclass(frozen=True)
class _Rules:
    dates: tuple[str, ...]
    numbers: tuple[str, ...]
    booleans: tuple[str, ...]
    max_lengths: tuple[tuple[str, int], ...]


@cache
def _rules(model: type[BaseModel]) -> _Rules:
    dates, numbers, booleans, max_lengths = [], [], [], []
    for name, field in model.model_fields.items():
        key = field.alias or name
        types = _types_in(field.annotation)
        if _is_date_type(field.annotation):
            dates.append(key)
        if types & {int, float, Decimal} and bool not in types:
            numbers.append(key)
        if bool in types:
            booleans.append(key)
        if str in types:
            limit = next((m.max_length for m in field.metadata if isinstance(m, MaxLen)), None)
            if limit is not None:
                max_lengths.append((key, limit))
    return _Rules(tuple(dates), tuple(numbers), tuple(booleans), tuple(max_lengths))


class Input(BaseModel):
    """Request bodies: unknown fields are refused, strings trimmed, NUL characters refused
    (PostgreSQL cannot store them in text; the request middleware refuses them first, this
    guards bodies built in code, e.g. from multipart form fields)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _no_numbers_as_dates(cls, data: Any) -> Any:
        if isinstance(data, dict):
            # Pydantic's lax mode would read a number as seconds since 1970 (`"due_on": 0`
            # quietly becomes a 1970 deadline), `false` as 0 (`"lng": false`) and 0 or "yes"
            # as a boolean, and it trims blanks before checking a length. What the schema
            # documents is what is accepted: such a value is swapped for one pydantic itself
            # refuses, so the error still names the field (`body.lng`) with pydantic's own
            # code.
            rules = _rules(cls)
            swapped: dict[str, Any] = {}
            for name in rules.dates:
                value = data.get(name)
                if isinstance(value, int | float) and not isinstance(value, bool):
                    swapped[name] = "not a date"
            for name in rules.numbers:
                if isinstance(data.get(name), bool):
                    swapped[name] = "not a number"
            for name in rules.booleans:
                value = data.get(name)
                if value is not None and not isinstance(value, bool):
                    swapped[name] = "not a boolean"
            for name, limit in rules.max_lengths:
                value = data.get(name)
                if isinstance(value, str) and len(value) > limit:
                    swapped[name] = "x" * (limit + 1)
            if swapped:
                return {**data, **swapped}
        return data

    # Over the parsed values, after validation: a loop over a few attributes, where a walk of
    # the raw input before it cost a fifth of validating a hazard (measured). Unknown keys
    # never get this far (extra="forbid"); nested models and containers are walked.
    @model_validator(mode="after")
    def _no_nul_characters(self) -> "Input":
        for value in self.__dict__.values():
            if value.__class__ is str:
                if _CONTROL.search(value):
                    raise ValueError("text must not contain control characters such as NUL")
            elif contains_nul(value):
                raise ValueError("text must not contain control characters such as NUL")
        return self


class Patch(Input):
    """A partial update: only the fields sent change.

    Fields listed in `required_if_sent` may be omitted but not sent as null, because the
    column behind them cannot be empty.
    """

    required_if_sent: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="after")
    def _no_null_for_required(self) -> "Patch":
        nulls = sorted(
            f for f in self.model_fields_set & self.required_if_sent if getattr(self, f) is None
        )
        if nulls:
            raise ValueError(f"these fields cannot be null: {', '.join(nulls)}")
        return self
