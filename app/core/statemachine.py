"""A status table per object: which action moves which statuses to which status.

Each domain declares one `StateMachine` next to its models; its service asks it for the
target status of an action and writes the timeline event and audit row itself.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar

from app.core.errors import Conflict

S = TypeVar("S", bound=StrEnum)


@dataclass(frozen=True)
class Move(Generic[S]):
    sources: frozenset[S]
    target: S


class StateMachine(Generic[S]):
    def __init__(self, name: str, table: Mapping[str, tuple[Iterable[S], S]]) -> None:
        self.name = name
        self.moves: dict[str, Move[S]] = {
            action: Move(frozenset(sources), target) for action, (sources, target) in table.items()
        }

    def target(self, action: str, current: S) -> S:
        move = self.moves[action]
        if current not in move.sources:
            raise Conflict(
                f"{self.name}.invalid_transition",
                zh=f"当前状态“{_label(current, 'zh')}”不允许执行“{action}”。",
                en=f"Action '{action}' is not allowed from status '{current}'.",
            )
        return move.target

    def actions_from(self, current: S) -> list[str]:
        return [a for a, m in self.moves.items() if current in m.sources]


def _label(value: StrEnum, lang: str) -> str:
    return str(getattr(value, lang, value))
