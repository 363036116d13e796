"""Test helpers: wait for asynchronous effects instead of sleeping and hoping."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class Timeout(AssertionError):
    pass


def wait_for(
    probe: Callable[[], T],
    timeout: float = 10.0,
    interval: float = 0.05,
    message: str = "condition",
) -> T:
    """Call ``probe`` until it returns something truthy; return that, or fail."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while True:
        try:
            value = probe()
            if value:
                return value
        except AssertionError as exc:
            last_error = exc
        if time.monotonic() > deadline:
            raise Timeout(
                f"timed out after {timeout}s waiting for {message}"
                + (f": {last_error}" if last_error else "")
            )
        time.sleep(interval)
