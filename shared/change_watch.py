"""Asking cheaply whether anyone committed to a database since the last asking:
what lets a poller (an outbox relay) look every few milliseconds and query only
when something changed."""

from __future__ import annotations

import sqlite3


class ChangeWatch:
    """Whether another connection committed to the database since the last call.

    On SQLite this is ``PRAGMA data_version`` on a connection of its own (a few
    microseconds, no table read), so a poller can look every few milliseconds and
    query only when something changed. Other databases have no such counter here:
    the answer is always yes, and the poller falls back to its own interval."""

    def __init__(self, url, timeout: float):
        self._conn = None
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            self._conn = sqlite3.connect(
                url.database, timeout=timeout, isolation_level=None, check_same_thread=False
            )
        self._version = None

    @property
    def precise(self) -> bool:
        return self._conn is not None

    def changed(self) -> bool:
        if self._conn is None:
            return True
        try:
            version = self._conn.execute("PRAGMA data_version").fetchone()[0]
        except sqlite3.Error:
            return True  # cannot tell: let the caller look
        changed, self._version = version != self._version, version
        return changed

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
