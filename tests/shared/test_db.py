"""The database helpers the hot paths rely on: deferred reads, the change watch."""
from __future__ import annotations

import threading

from sqlalchemy import text

from shared.db import Database


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
