"""Base request models shared by every domain."""

from datetime import date
from functools import cache
from typing import Any, ClassVar, get_args

from pydantic import BaseModel, ConfigDict, model_validator


def contains_nul(value: Any, depth: int = 0) -> bool:
    """True when a NUL character hides anywhere in a string, key, list or nested object."""
    if isinstance(value, str):
        return "\x00" in value
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


@cache
def _date_fields(model: type[BaseModel]) -> tuple[str, ...]:
    return tuple(
        field.alias or name
        for name, field in model.model_fields.items()
        if _is_date_type(field.annotation)
    )


class Input(BaseModel):
    """Request bodies: unknown fields are refused, strings trimmed, NUL characters refused
    (PostgreSQL cannot store them in text; the request middleware refuses them first, this
    guards bodies built in code, e.g. from multipart form fields)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _no_numbers_as_dates(cls, data: Any) -> Any:
        if isinstance(data, dict):
            # Pydantic would read a number as seconds since 1970: `"due_on": 0` would quietly
            # become a 1970 deadline. Dates and times travel as ISO 8601 text only.
            for name in _date_fields(cls):
                value = data.get(name)
                if isinstance(value, int | float) and not isinstance(value, bool):
                    raise ValueError(f"{name} must be an ISO 8601 date or time, not a number")
        return data

    # Over the parsed values, after validation: a loop over a few attributes, where a walk of
    # the raw input before it cost a fifth of validating a hazard (measured). Unknown keys
    # never get this far (extra="forbid"); nested models and containers are walked.
    @model_validator(mode="after")
    def _no_nul_characters(self) -> "Input":
        for value in self.__dict__.values():
            if value.__class__ is str:
                if "\x00" in value:
                    raise ValueError("text must not contain NUL characters")
            elif contains_nul(value):
                raise ValueError("text must not contain NUL characters")
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
