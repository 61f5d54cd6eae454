"""Things worth building once per key (a caller's statements, the actions a rule allows),
kept in a bounded dict.

Bounded by starting over: when the dict is full it is emptied and refilled by what is in use.
Keys here are callers and query shapes, of which a worker sees a few hundred; the bound only
stops a pathological stream of distinct keys from growing memory without limit, so an LRU's
bookkeeping on every hit would buy nothing.
"""

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Memo(Generic[K, V]):
    __slots__ = ("_items", "size")

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: dict[K, V] = {}

    def get(self, key: K, build: Callable[[], V]) -> V:
        """The value for `key`, built (once) by `build()` if it is not here."""
        value = self._items.get(key)
        if value is None:
            if len(self._items) >= self.size:
                self._items.clear()
            value = self._items[key] = build()
        return value

    def discard(self, key: K) -> None:
        self._items.pop(key, None)

    def clear(self) -> None:
        self._items.clear()

    def __len__(self) -> int:
        return len(self._items)
