"""Database access: one engine per service, short transactions, SQLite tuned for
several processes (API workers, consumer, relay) writing to the same file."""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DisconnectionError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from shared.change_watch import ChangeWatch
from shared.prepared import prepare


def _sqlite_pragmas(dbapi_connection, _record):
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Read pages through a memory map of the file, shared by every connection and
    # process, instead of a read() into each connection's own 2 MB cache: a large
    # database's hot pages then cost no system call.
    cursor.execute(f"PRAGMA mmap_size={MMAP_BYTES}")
    cursor.close()


BUSY_TIMEOUT_MS = 30000
MMAP_BYTES = 1 << 30
IN_CHUNK = 500  # values per IN (...): well under any database's bind-parameter limit


def in_chunks(values: Sequence, size: int = IN_CHUNK) -> Iterator[Sequence]:
    """``values`` in slices of ``size``, one ``IN (...)`` each."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _sqlite_begin(conn):
    # A writing transaction takes the write lock when it starts, not when it first
    # writes: a deferred one that upgrades later fails with "database is locked"
    # instead of waiting for the busy timeout. Readers stay deferred (WAL lets them
    # run beside a writer); a one-statement read needs no transaction at all: the
    # statement reads its own committed snapshot.
    options = conn.get_execution_options()
    if options.get("one_statement"):
        return
    if options.get("read_only"):
        conn.connection.driver_connection.execute("BEGIN")
    else:
        _begin_immediate(conn)


def _begin_immediate(conn) -> None:
    """Wait for the write lock in fine steps.

    SQLite's own busy handler sleeps longer and longer (up to 100 ms a try) while
    the lock stays taken; writers here hold it for milliseconds, so those sleeps
    leave the database idle while everyone waits. Poll every millisecond or two
    instead, up to the same overall timeout, on the driver's connection (a failed
    try is then a cheap sqlite3 error, not a wrapped SQLAlchemy one)."""
    raw = conn.connection.driver_connection
    raw.execute("PRAGMA busy_timeout=0")
    try:
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        while True:
            try:
                raw.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    # Raised as SQLAlchemy raises any other database error.
                    raise OperationalError("BEGIN IMMEDIATE", None, exc) from exc
                time.sleep(random.uniform(0.0005, 0.002))
    finally:
        raw.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")


def json_loads(text):
    """A JSON column's value, as the standard library reads it, by orjson (several
    times faster on the tags and lists every profile read holds). What orjson
    reads otherwise is left to the standard library: a run of 19 digits or more
    (an integer past 64 bits, which orjson makes a float), and what orjson refuses
    (NaN, infinities, lone surrogates, deep nesting)."""
    if type(text) is str and _LONG_DIGITS.search(text) is None:
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
    return json.loads(text)


_LONG_DIGITS = re.compile(r"[0-9]{19}")


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"timeout": 30, "isolation_level": None},
            json_deserializer=json_loads,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    engine = create_engine(url, pool_size=5, max_overflow=10)
    _ping_when_idle(engine)
    return engine


# A pooled server connection used this recently is not pinged before its next use,
# as HikariCP bypasses its alive check for 500 ms: at a trickle, where every event
# is a transaction of its own, SQLAlchemy's ``pool_pre_ping`` was one more round
# trip in each (of about ten). Past this, a connection is pinged, and a dead one is
# replaced before anyone uses it. Within it, a connection the server dropped fails
# the one statement that finds out, and SQLAlchemy then replaces the whole pool.
PING_AFTER_IDLE_SECONDS = 0.5


def _ping_when_idle(engine: Engine) -> None:
    def used(_dbapi_connection, record) -> None:
        record.info["used_at"] = time.monotonic()

    def ping(dbapi_connection, record, _proxy) -> None:
        if time.monotonic() - record.info.get("used_at", 0.0) < PING_AFTER_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            # The pool discards this connection and checks out another (documented
            # for ``checkout`` listeners).
            raise DisconnectionError(f"the database dropped a pooled connection: {exc}") from exc

    event.listen(engine, "connect", used)
    event.listen(engine, "checkin", used)
    event.listen(engine, "checkout", ping)


def _hold_strong_references(session_factory) -> None:
    """Keep every object a session loads alive until the session ends.

    The identity map holds clean objects weakly: once a flush makes a changed row
    clean, it can be collected, and the next ``get`` of it in the same unit of
    work goes back to the database (and autoflushes what is pending). Units of
    work here are short, so holding them is cheap; it is SQLAlchemy's
    "strong reference session" recipe."""

    @event.listens_for(session_factory, "loaded_as_persistent")
    @event.listens_for(session_factory, "pending_to_persistent")
    @event.listens_for(session_factory, "detached_to_persistent")
    def _hold(session, instance):
        session.info.setdefault("held", set()).add(instance)

    @event.listens_for(session_factory, "persistent_to_detached")
    @event.listens_for(session_factory, "persistent_to_deleted")
    @event.listens_for(session_factory, "persistent_to_transient")
    def _release(session, instance):
        session.info.get("held", set()).discard(instance)


class Database:
    """Owns the engine and hands out sessions; nothing connects until first use."""

    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        self.Session = sessionmaker(self.engine, expire_on_commit=False)
        # Reads never take SQLite's write lock: sessions and bare connections alike.
        self.read_engine = self.engine.execution_options(read_only=True)
        self.ReadSession = sessionmaker(self.read_engine, expire_on_commit=False)
        _hold_strong_references(self.Session)
        self._hot, self._hot_lock = threading.local(), threading.Lock()
        self._hot_all: list[Any] = []

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work commits on success and rolls back on any error."""
        with self.Session() as session, session.begin():
            yield session

    @contextmanager
    def reader(self) -> Iterator[Session]:
        """A session for queries only; on SQLite it does not block writers."""
        with self.ReadSession() as session, session.begin():
            yield session

    @contextmanager
    def connection(self) -> Iterator:
        """A bare connection for hot read paths of one statement that need no ORM
        objects. On SQLite it reads beside writers and other readers, and opens no
        transaction: each statement sees its own committed snapshot, so a caller
        that needs two statements to agree uses :meth:`reader` instead."""
        with self.read_engine.connect() as conn:
            yield conn.execution_options(one_statement=True)

    def fetch(self, statement, params: dict) -> list[dict]:
        """Run a read of one statement on a pooled driver connection: the hottest read
        paths' rows as dicts, each value converted by its column type as SQLAlchemy
        would. The statement is compiled once per dialect; SQLAlchemy's per-execution
        work (connection wrapper, compiled-cache look-up, result object) cost more
        than the database's own work for a one-row read. Like :meth:`connection`, it
        opens no transaction on SQLite."""
        prepared = prepare(self.engine.dialect, statement)
        if self.engine.dialect.name == "sqlite":
            rows, convert = self._fetch_held(prepared, params)
        else:
            raw = self.read_engine.raw_connection()
            try:
                rows, convert = _run(raw.dbapi_connection, prepared, params)
            finally:
                raw.close()
        keys = prepared.keys
        if not convert:
            return [dict(zip(keys, row)) for row in rows]
        out = []
        for row in rows:
            values = list(row)
            for i, f in convert:
                values[i] = f(values[i])
            out.append(dict(zip(keys, values)))
        return out

    def _fetch_held(self, prepared, params: dict):
        """:meth:`fetch` on SQLite: each thread keeps a driver connection of its own,
        taken out of the pool once (with the pool's pragmas): checking one out and
        back in cost a fifth of a profile read. It never holds a transaction between
        reads; one that fails is closed and not used again. A forked child opens its
        own (the held connection names the process generation it was opened in)."""
        held = getattr(self._hot, "held", None)
        if held is None or held[0] != _forks:
            fairy = self.engine.raw_connection()
            fairy.detach()
            held = self._hot.held = (_forks, fairy, fairy.dbapi_connection)
            with self._hot_lock:
                self._hot_all.append(fairy)
        try:
            return _run(held[2], prepared, params)
        except sqlite3.Error:
            self._hot.held = None
            with self._hot_lock:
                self._hot_all.remove(held[1])
            _close_quietly(held[1])
            raise

    def change_watch(self) -> ChangeWatch:
        """A cheap way to ask whether anyone committed since the last asking."""
        return ChangeWatch(self.engine.url, timeout=BUSY_TIMEOUT_MS / 1000)

    def ping(self) -> None:
        with self.read_engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def dispose(self) -> None:
        with self._hot_lock:
            hot, self._hot_all = self._hot_all, []
        for fairy in hot:
            _close_quietly(fairy)
        self._hot = threading.local()
        self.engine.dispose()


def _run(connection, prepared, params: dict):
    """A prepared statement's rows on a driver connection, and its result conversions."""
    cursor = connection.cursor()
    try:
        cursor.execute(prepared.sql, prepared.parameters(params))
        return cursor.fetchall(), prepared.converters(cursor.description)
    finally:
        cursor.close()


# How many forks led to this process: a connection held across a fork is the
# parent's (counted here, not asked of the system on every read).
_forks = 0


def _forked() -> None:
    global _forks
    _forks += 1


os.register_at_fork(after_in_child=_forked)


def _close_quietly(fairy) -> None:
    """Close a connection taken out of the pool (the pool no longer does it)."""
    with contextlib.suppress(sqlite3.Error):
        fairy.dbapi_connection.close()


# PostgreSQL's SQLSTATEs for a transaction it aborted to break a lock cycle or a
# serialisation conflict: nothing of it was written, and running it again succeeds.
TRANSIENT_SQLSTATES = frozenset({"40P01", "40001"})


def transient(exc: BaseException) -> bool:
    """Whether ``exc`` is a transaction the database aborted and would take again."""
    return getattr(getattr(exc, "orig", None), "sqlstate", None) in TRANSIENT_SQLSTATES


def retry_transient(function, attempts: int = 4):
    """``function`` (one whole unit of work, nothing done outside its transaction)
    run again when the database aborted it as a deadlock victim or a serialisation
    failure, after a short random pause; the last failure is raised."""
    from functools import wraps

    from sqlalchemy.exc import DBAPIError

    @wraps(function)
    def run(*args, **kwargs):
        for attempt in range(1, attempts + 1):
            try:
                return function(*args, **kwargs)
            except DBAPIError as exc:
                if attempt == attempts or not transient(exc):
                    raise
                time.sleep(random.uniform(0.01, 0.05) * attempt)

    return run
