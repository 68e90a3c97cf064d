"""The one way this project waits for something to become true."""

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def poll(
    check: Callable[[], T],
    *,
    timeout: float,
    what: str,
    interval: float = 0.1,
    ignore: tuple[type[BaseException], ...] = (),
) -> T:
    """Call `check` until it returns something truthy, and return that.

    Exceptions of the `ignore` types count as "not yet". After `timeout`
    seconds, TimeoutError names `what` (and the last ignored exception); a
    timeout of 0 makes exactly one attempt.
    """
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while True:
        try:
            result = check()
        except ignore as exc:
            last_error, result = exc, None
        if result:
            return result
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            suffix = f" (last: {last_error})" if last_error else ""
            raise TimeoutError(f"{what}: not within {timeout:g} s{suffix}")
        time.sleep(min(interval, remaining))
