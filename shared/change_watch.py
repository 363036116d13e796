"""Asking cheaply whether anyone committed to a database since the last asking:
what lets a poller (an outbox relay) look every few milliseconds and query only
when something changed."""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

log = logging.getLogger(__name__)

# On PostgreSQL a unit of work that wrote outbox rows notifies this channel in its
# transaction (``notify_outbox``); the notice is delivered when it commits.
OUTBOX_CHANNEL = "rapport_outbox"


def notify_outbox(connection) -> None:
    """Tell the relays listening on this database that outbox rows are coming: sent
    with the transaction on ``connection``, delivered at its commit, dropped with its
    rollback. Only on PostgreSQL (SQLite's watch sees every commit by itself)."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"NOTIFY {OUTBOX_CHANNEL}")


class ChangeWatch:
    """Whether another connection committed to the database since the last call.

    On SQLite this is ``PRAGMA data_version`` on a connection of its own (a few
    microseconds, no table read): it sees every commit (``every_commit``), so a
    poller can look every few milliseconds and query only when something changed.

    On PostgreSQL it is a connection of its own listening on ``OUTBOX_CHANNEL``: it
    sees the commits that wrote outbox rows through a unit of work, not those that
    wrote them another way (a bulk import's chunks), so a poller still looks at its
    own interval and is woken early by a notice. A listening connection that fails is
    given up (the poller falls back to its interval) until ``reopen``.

    Elsewhere the answer is always yes, and the poller keeps its own interval."""

    def __init__(self, url, timeout: float):
        self._url, self._timeout = url, timeout
        self._conn: sqlite3.Connection | None = None
        self._listener: Any = None  # a psycopg connection, imported only where needed
        self._version = None
        self.every_commit = False
        self.reopen()

    def reopen(self) -> None:
        """Open the watch's connection, if it has none (again after a failure)."""
        url = self._url
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            if self._conn is None:
                self._conn = sqlite3.connect(
                    url.database,
                    timeout=self._timeout,
                    isolation_level=None,
                    check_same_thread=False,
                )
                self.every_commit = True
        elif url.get_backend_name() == "postgresql" and self._listener is None:
            self._listen()

    def _listen(self) -> None:
        import psycopg

        conninfo = self._url.set(drivername="postgresql").render_as_string(hide_password=False)
        try:
            listener = psycopg.connect(
                conninfo, autocommit=True, connect_timeout=max(1, int(self._timeout))
            )
            listener.execute(f"LISTEN {OUTBOX_CHANNEL}")
        except psycopg.Error as exc:
            log.warning("cannot listen for outbox notices, polling instead: %r", exc)
            return
        self._listener = listener

    @property
    def precise(self) -> bool:
        """Whether ``changed`` can say no: a False answer is worth waiting on."""
        return self._conn is not None or self._listener is not None

    def changed(self) -> bool:
        if self._listener is not None:
            return self._noticed()
        if self._conn is None:
            return True
        try:
            version = self._conn.execute("PRAGMA data_version").fetchone()[0]
        except sqlite3.Error:
            return True  # cannot tell: let the caller look
        changed, self._version = version != self._version, version
        return changed

    def _noticed(self) -> bool:
        import psycopg

        try:
            # Every notice delivered so far, without waiting for more.
            return bool(list(self._listener.notifies(timeout=0)))
        except psycopg.Error as exc:
            log.warning("outbox notices lost, polling instead: %r", exc)
            self._close_listener()
            return True

    def _close_listener(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            try:
                listener.close()
            except Exception:  # already broken: nothing more to release
                log.debug("closing the outbox listener failed", exc_info=True)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        self._close_listener()
