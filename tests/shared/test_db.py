"""The database helpers the hot paths rely on: deferred reads, the change watch."""

from __future__ import annotations

import threading
import time
from datetime import UTC

import pytest
from flask import Flask
from sqlalchemy import create_engine, text

import shared.db
from shared.db import PING_AFTER_IDLE_SECONDS, Database
from shared.web import problems


def _table(db: Database) -> None:
    with db.transaction() as s:
        s.execute(text("CREATE TABLE t (x INTEGER)"))


def test_a_bare_read_connection_does_not_wait_for_a_writer(tmp_path):
    db = Database(f"sqlite:///{tmp_path}/r.db")
    _table(db)
    read = threading.Event()
    with db.transaction() as s:  # holds the write lock
        s.execute(text("INSERT INTO t VALUES (1)"))

        def reader():
            with db.connection() as conn:
                conn.execute(text("SELECT count(*) FROM t")).scalar()
            read.set()

        worker = threading.Thread(target=reader)
        worker.start()
        assert read.wait(5), "the read queued behind the writer"
        worker.join()
    db.dispose()


def test_the_change_watch_sees_other_connections_commits_once(tmp_path):
    db = Database(f"sqlite:///{tmp_path}/w.db")
    _table(db)
    watch = db.change_watch()
    assert watch.precise
    watch.changed()
    assert not watch.changed()
    with db.transaction() as s:
        s.execute(text("INSERT INTO t VALUES (1)"))
    assert watch.changed()
    assert not watch.changed()
    with db.reader() as s:  # reading is not a change
        s.execute(text("SELECT * FROM t")).all()
    assert not watch.changed()
    watch.close()
    db.dispose()


def test_without_a_change_counter_the_watch_always_says_look(postgres_admin_url):
    watch = Database(postgres_admin_url).change_watch()
    assert not watch.precise
    assert watch.changed() and watch.changed()


def test_a_bare_read_opens_no_transaction_on_sqlite(tmp_path):
    # One statement reads its own snapshot: no BEGIN, nothing to roll back.
    db = Database(f"sqlite:///{tmp_path}/r.db")
    _table(db)
    with db.connection() as conn:
        assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 0
        assert not conn.connection.driver_connection.in_transaction
    with db.reader() as session:  # a reader of several statements still has one
        session.execute(text("SELECT count(*) FROM t"))
        assert session.connection().connection.driver_connection.in_transaction
    db.dispose()


def test_a_driver_level_read_returns_what_sqlalchemy_returns(database_url):
    """``Database.fetch`` converts every column as SQLAlchemy would: times come back
    in UTC, money as Decimal, JSON decoded, booleans as bool, NULLs as None."""
    from datetime import date, datetime
    from decimal import Decimal

    from sqlalchemy import (
        JSON,
        Boolean,
        Column,
        Date,
        Float,
        Integer,
        MetaData,
        String,
        Table,
        bindparam,
        select,
    )

    from shared.types import Money, UTCDateTime

    table = Table(
        "typed",
        MetaData(),
        Column("id", String(8), primary_key=True),
        Column("at", UTCDateTime()),
        Column("amount", Money()),
        Column("doc", JSON),
        Column("flag", Boolean),
        Column("day", Date),
        Column("n", Integer),
        Column("x", Float),
    )
    db = Database(database_url)
    table.create(db.engine)
    with db.engine.begin() as conn:
        conn.execute(table.insert(), {"id": "b"})
        conn.execute(
            table.insert(),
            [
                {
                    "id": "a",
                    "at": datetime(2026, 3, 1, 4, 5, 6, 7, tzinfo=UTC),
                    "amount": Decimal("12.3456"),
                    "doc": {"k": [1, "x"]},
                    "flag": True,
                    "day": date(2026, 3, 1),
                    "n": 7,
                    "x": 0.25,
                }
            ],
        )
    statement = (
        select(table, table.c.n.label("also_n"))
        .where(table.c.id >= bindparam("from_id"))
        .order_by(table.c.id)
    )
    for _ in range(2):  # the second run uses the conversions fixed by the first
        with db.engine.connect() as conn:
            expected = [dict(row._mapping) for row in conn.execute(statement, {"from_id": "a"})]
        assert db.fetch(statement, {"from_id": "a"}) == expected
        assert [type(v) for v in db.fetch(statement, {"from_id": "a"})[0].values()] == [
            type(v) for v in expected[0].values()
        ]
    assert expected[0]["at"].tzinfo is not None and expected[1]["doc"] is None
    assert db.fetch(statement, {"from_id": "c"}) == []
    db.dispose()


def test_money_binds_whole_numbers_as_their_decimals():
    from decimal import Decimal

    from shared.types import Money

    money = Money()
    for value in (0, 7, -3, 10**12, True):
        assert (
            money.process_bind_param(value, None)
            == money.process_bind_param(Decimal(int(value)), None)
            == int(value) * 10_000
        )
    assert money.process_bind_param(Decimal("1.23456"), None) == 12346


def test_a_thread_keeps_its_sqlite_read_connection_and_sees_every_commit(tmp_path):
    import sqlite3

    import pytest
    from sqlalchemy import column, select, table

    db = Database(f"sqlite:///{tmp_path}/hot.db")
    _table(db)
    t = table("t", column("x"))

    def xs():
        return [row["x"] for row in db.fetch(select(t.c.x), {})]

    assert xs() == []
    first = db._hot.held[1]
    with db.engine.begin() as conn:  # another connection commits: the next read sees it
        conn.execute(text("INSERT INTO t (x) VALUES (1)"))
    assert xs() == [1] and db._hot.held[1] is first
    assert not first.dbapi_connection.in_transaction  # nothing held between reads

    seen = {}

    def other_thread():
        seen["xs"], seen["connection"] = xs(), db._hot.held[1]

    worker = threading.Thread(target=other_thread)
    worker.start()
    worker.join()
    assert seen["xs"] == [1] and seen["connection"] is not first

    with pytest.raises(sqlite3.Error):  # a failed read drops its connection
        db.fetch(select(column("nope")).select_from(t), {})
    assert db._hot.held is None
    assert xs() == [1] and db._hot.held[1] is not first
    kept = db._hot.held[1].dbapi_connection
    db.dispose()
    with pytest.raises(sqlite3.ProgrammingError):  # closed with the database
        kept.execute("SELECT 1")


@pytest.mark.postgres
def test_a_connection_used_within_the_bypass_window_is_not_pinged(postgres_database, monkeypatch):
    """At a trickle every event is a transaction: a connection back from one less
    than half a second ago goes out again without a round trip to ask if it lives;
    one idle longer is asked first."""
    db = Database(postgres_database)
    pings = []
    real = db.engine.dialect.do_ping
    monkeypatch.setattr(db.engine.dialect, "do_ping", lambda c: pings.append(c) or real(c))
    for _ in range(5):
        with db.transaction() as s:
            s.execute(text("SELECT 1"))
    assert pings == []
    time.sleep(PING_AFTER_IDLE_SECONDS + 0.1)
    with db.transaction() as s:
        s.execute(text("SELECT 1"))
    assert len(pings) == 1
    db.dispose()


@pytest.mark.postgres
def test_a_connection_the_server_dropped_while_idle_is_replaced_before_use(
    postgres_database, postgres_admin_url
):
    db = Database(postgres_database)
    with db.transaction() as s:
        first = s.execute(text("SELECT pg_backend_pid()")).scalar()
    admin = create_engine(postgres_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        assert conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": first}).scalar()
    admin.dispose()
    time.sleep(PING_AFTER_IDLE_SECONDS + 0.1)
    with db.transaction() as s:  # no error: the dead connection was pinged and replaced
        second = s.execute(text("SELECT pg_backend_pid()")).scalar()
    assert second != first
    db.dispose()


@pytest.mark.postgres
def test_a_request_whose_connection_the_server_dropped_gets_503_and_the_next_is_served(
    postgres_database, postgres_admin_url, monkeypatch
):
    """Within the bypass window a dropped connection is found by the statement that
    uses it: the request is answered 503 problem+json with Retry-After (nothing was
    written), SQLAlchemy replaces the pool, and the next request is served."""
    monkeypatch.setattr(shared.db, "PING_AFTER_IDLE_SECONDS", 3600.0)  # never pinged here
    db = Database(postgres_database)
    app = Flask(__name__)
    problems.register(app)

    @app.get("/backend")
    def backend():
        with db.transaction() as s:
            return {"pid": s.execute(text("SELECT pg_backend_pid()")).scalar()}

    client = app.test_client()
    first = client.get("/backend").json["pid"]
    admin = create_engine(postgres_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": first})
    admin.dispose()
    r = client.get("/backend")
    assert r.status_code == 503 and r.content_type == "application/problem+json"
    assert r.headers["Retry-After"] == "1"
    assert r.json["type"] == "urn:rapport:problem:database-unavailable"
    r = client.get("/backend")
    assert r.status_code == 200 and r.json["pid"] != first
    db.dispose()
