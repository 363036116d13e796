"""The system's clock: the machine's UTC time, moved by an offset an operator sets.

``RAPPORT_CLOCK_OFFSET_FILE`` names a file holding a number of seconds to add to
the machine's time (it may be negative). Every process of a system reads the same
file, looks at it again at most every ``RECHECK_SECONDS``, and so moves in time
together without a restart: a rehearsal of the periodic work over weeks, or a test
that runs the whole system through 90 days without waiting for them. A missing or
empty file is no offset; without the setting the clock is the machine's. The
offset only ever moves what ``now()`` answers: nothing sleeps longer or shorter.
"""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ENV = "RAPPORT_CLOCK_OFFSET_FILE"
RECHECK_SECONDS = 0.2


class _Offset:
    def __init__(self, path: str | None):
        self.path = Path(path) if path else None
        self.seconds = 0.0
        self.checked = float("-inf")
        self.lock = threading.Lock()

    def get(self) -> float:
        if self.path is None:
            return 0.0
        now = time.monotonic()
        if now - self.checked >= RECHECK_SECONDS:
            with self.lock:
                self.seconds, self.checked = read_offset(self.path), now
        return self.seconds


def read_offset(path: Path) -> float:
    try:
        text = path.read_text().strip()
    except FileNotFoundError:
        return 0.0
    return float(text) if text else 0.0


_offset = _Offset(os.environ.get(ENV))


def now() -> datetime:
    """The current time, aware, in UTC."""
    moment = datetime.now(UTC)
    seconds = _offset.get()
    return moment + timedelta(seconds=seconds) if seconds else moment


def utcnow() -> datetime:
    """The current time, aware, in UTC: ``now()`` under the name the services use."""
    return now()


def set_offset(path: Path, offset: timedelta) -> None:
    """Move every process reading ``path`` to the machine's time plus ``offset``
    (written whole, then renamed, so no reader sees half a number)."""
    partial = path.with_suffix(".partial")
    partial.write_text(repr(offset.total_seconds()))
    partial.replace(path)
    if _offset.path == Path(path):
        _offset.checked = float("-inf")  # this process sees it at once


def use_offset_file(path: str | Path | None) -> None:
    """Read the offset from ``path`` in this process from now on (None: no offset);
    for a process that learns its settings after import, and for tests."""
    global _offset
    _offset = _Offset(str(path) if path else None)
