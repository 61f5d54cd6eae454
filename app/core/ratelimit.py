"""Fixed-window attempt counters for login throttling.

In memory for one process; shared through Redis when `REDIS_URL` is set, so that several
workers (or several hosts) count the same attempts.
"""

import threading
import time
from typing import Protocol

from app.core.config import get_settings


class Counter(Protocol):
    def hit(self, key: str, window: int) -> tuple[int, int]:
        """Count one attempt; return (attempts in this window, seconds until it ends)."""

    def peek(self, key: str, window: int) -> tuple[int, int]: ...

    def reset(self, key: str) -> None: ...


class MemoryCounter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._slots: dict[str, tuple[int, float]] = {}

    def _current(self, key: str, window: int, now: float) -> tuple[int, float]:
        count, ends = self._slots.get(key, (0, now + window))
        if ends <= now:
            count, ends = 0, now + window
        return count, ends

    def hit(self, key: str, window: int) -> tuple[int, int]:
        now = time.monotonic()
        with self._lock:
            count, ends = self._current(key, window, now)
            self._slots[key] = (count + 1, ends)
            if len(self._slots) > 100_000:  # bounded: drop expired windows
                self._slots = {k: v for k, v in self._slots.items() if v[1] > now}
        return count + 1, max(1, int(ends - now))

    def peek(self, key: str, window: int) -> tuple[int, int]:
        now = time.monotonic()
        with self._lock:
            count, ends = self._current(key, window, now)
        return count, max(1, int(ends - now))

    def reset(self, key: str) -> None:
        with self._lock:
            self._slots.pop(key, None)


class RedisCounter:
    def __init__(self, url: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=1.0)

    def hit(self, key: str, window: int) -> tuple[int, int]:
        pipe = self._redis.pipeline()
        pipe.incr(f"throttle:{key}")
        pipe.expire(f"throttle:{key}", window, nx=True)
        pipe.ttl(f"throttle:{key}")
        count, _, ttl = pipe.execute()
        return int(count), max(1, int(ttl))

    def peek(self, key: str, window: int) -> tuple[int, int]:
        pipe = self._redis.pipeline()
        pipe.get(f"throttle:{key}")
        pipe.ttl(f"throttle:{key}")
        count, ttl = pipe.execute()
        return int(count or 0), max(1, int(ttl if ttl and ttl > 0 else window))

    def reset(self, key: str) -> None:
        self._redis.delete(f"throttle:{key}")


_counter: Counter | None = None


def counter() -> Counter:
    global _counter
    if _counter is None:
        url = get_settings().redis_url
        _counter = RedisCounter(url) if url else MemoryCounter()
    return _counter


def reset_counter() -> None:
    global _counter
    _counter = None
