"""What was made from a row (its serialisation), kept by id and taken only at the version it
was made from.

A register page is 50 rows of 45 stored columns. Reading every column, turning each value
into Python and then into JSON was three quarters of a page's CPU (issue 10: 1M hazards,
profiled). A row's stored columns change only together with its `version` (which every write
bumps, and which the ETag and If-Match already rely on) and its `updated_at`; so a page reads
those two, and takes the stored columns' JSON (and the few of them its derived fields need)
from here. A row that is not here, or is here at another version, is read whole and
serialised once more.

`updated_at` is part of the check so that a database put back from a backup, or emptied and
refilled (as the tests do), cannot hand out a serialisation of another row that happens to
have the same id and version.

Bounded, least recently used out first. Reader threads share it under one lock, taken once
per page rather than once per row.
"""

import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from typing import Any, Generic, TypeVar

Key = tuple[int, Any, Any]
"""(id, version, updated_at as the driver returns it)."""
V = TypeVar("V")


class Representations(Generic[V]):
    __slots__ = ("_items", "_lock", "size")

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[int, tuple[Any, Any, V]] = OrderedDict()
        self._lock = threading.Lock()

    def lookup(self, keys: Sequence[Key]) -> list[V | None]:
        """What was made from each row, or None where it is missing or out of date."""
        found: list[V | None] = []
        with self._lock:
            items = self._items
            for row_id, version, stamp in keys:
                entry = items.get(row_id)
                if entry is not None and entry[0] == version and entry[1] == stamp:
                    items.move_to_end(row_id)
                    found.append(entry[2])
                else:
                    found.append(None)
        return found

    def store(self, entries: Iterable[tuple[Key, V]]) -> None:
        if self.size <= 0:
            return
        with self._lock:
            items = self._items
            for (row_id, version, stamp), value in entries:
                items[row_id] = (version, stamp, value)
                items.move_to_end(row_id)
            while len(items) > self.size:
                items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)
