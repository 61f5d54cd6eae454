"""Fixed-window attempt counters for login throttling.

In memory for one process; shared through Redis when `REDIS_URL` is set, so that several
workers (or several hosts) count the same attempts.
"""

import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol, TypeVar

from app.core.config import get_settings

log = logging.getLogger("app.ratelimit")
T = TypeVar("T")


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
    """Counts shared by every worker and host. When Redis does not answer, this worker counts
    on its own in memory until it does: logins must keep working (still throttled, per
    worker) through a Redis outage rather than fail with a 500."""

    def __init__(self, url: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
        self._errors: tuple[type[Exception], ...] = (redis.RedisError, OSError)
        self._fallback = MemoryCounter()

    def _shared(self, call: Callable[[], T], fallback: Callable[[], T]) -> T:
        try:
            return call()
        except self._errors as exc:
            log.warning("redis unavailable, throttling in memory", extra={"error": repr(exc)})
            return fallback()

    def hit(self, key: str, window: int) -> tuple[int, int]:
        def call() -> tuple[int, int]:
            pipe = self._redis.pipeline()
            pipe.incr(f"throttle:{key}")
            pipe.expire(f"throttle:{key}", window, nx=True)
            pipe.ttl(f"throttle:{key}")
            count, _, ttl = pipe.execute()
            return int(count), max(1, int(ttl))

        return self._shared(call, lambda: self._fallback.hit(key, window))

    def peek(self, key: str, window: int) -> tuple[int, int]:
        def call() -> tuple[int, int]:
            pipe = self._redis.pipeline()
            pipe.get(f"throttle:{key}")
            pipe.ttl(f"throttle:{key}")
            count, ttl = pipe.execute()
            return int(count or 0), max(1, int(ttl if ttl and ttl > 0 else window))

        return self._shared(call, lambda: self._fallback.peek(key, window))

    def reset(self, key: str) -> None:
        self._fallback.reset(key)
        self._shared(lambda: self._redis.delete(f"throttle:{key}"), lambda: 0)


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
