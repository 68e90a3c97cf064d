"""Values read at most once per max age, by one thread at a time."""

import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")


class SingleFlightCache(Generic[T]):
    """Per-key values kept for a max age; a stale key is refreshed by one thread
    while the others wait for its result, so a flood of callers costs one read.

    A load that raises caches nothing: the next waiter tries again (AWS's
    region breaker keeps that cheap while a region does not answer).
    """

    def __init__(self) -> None:
        self._values: dict[Hashable, tuple[float, T]] = {}
        self._locks: dict[Hashable, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, key: Hashable, *, max_age: float, load: Callable[[], T]) -> T:
        """The value of `key` if it is younger than `max_age`, else `load()` (0: always)."""
        if max_age <= 0:
            return self._store(key, load())
        fresh = self._fresh(key, max_age)
        if fresh is not None:
            return fresh[1]
        with self._lock_for(key):
            fresh = self._fresh(key, max_age)
            if fresh is not None:
                return fresh[1]
            return self._store(key, load())

    def clear(self) -> None:
        with self._guard:
            self._values.clear()

    def _fresh(self, key: Hashable, max_age: float) -> tuple[float, T] | None:
        entry = self._values.get(key)
        if entry and time.monotonic() - entry[0] < max_age:
            return entry
        return None

    def _store(self, key: Hashable, value: T) -> T:
        with self._guard:
            self._values[key] = (time.monotonic(), value)
        return value

    def _lock_for(self, key: Hashable) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())
