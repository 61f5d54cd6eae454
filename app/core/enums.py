"""Enums that carry their own zh-CN and en labels.

Every code a client may see is declared once, with its labels, next to the domain that owns
it; `/api/v1/meta/enums` lists every subclass so frontends never hard-code a label.

    class HazardGrade(LabeledEnum):
        general = "general", "一般隐患", "General"
        major = "major", "重大隐患", "Major"
"""

from enum import StrEnum
from typing import Any, Self

REGISTRY: dict[str, type["LabeledEnum"]] = {}


class LabeledEnum(StrEnum):
    zh: str
    en: str

    def __new__(cls, value: str, zh: str = "", en: str = "") -> Self:
        member = str.__new__(cls, value)
        member._value_ = value
        member.zh = zh or value
        member.en = en or value
        return member

    def label(self, lang: str = "zh-CN") -> str:
        return self.en if lang.startswith("en") else self.zh


def register(key: str) -> Any:
    """Class decorator naming the enum in `/meta/enums`."""

    def wrap(cls: type[LabeledEnum]) -> type[LabeledEnum]:
        if key in REGISTRY and REGISTRY[key] is not cls:
            raise RuntimeError(f"enum key {key!r} registered twice")
        REGISTRY[key] = cls
        return cls

    return wrap
