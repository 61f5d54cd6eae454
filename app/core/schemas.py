"""Base request models shared by every domain."""

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, model_validator


class Input(BaseModel):
    """Request bodies: unknown fields are refused, strings trimmed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


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
