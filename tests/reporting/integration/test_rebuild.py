"""Rebuilding from the event log reproduces every read model row for row; redelivered
and out-of-order events end up counted as if delivered once, in order."""

import random
from zoneinfo import ZoneInfo

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from services.reporting import config, rebuild
from shared.db import Database, make_engine
from tests.reporting import deals, generate
from tests.reporting.tables import snapshot


def stream():
    return (
        generate.effectiveness_stream(per_segment=8)[0]
        + generate.parity_stream(calls=80)[0]
        + generate.commerce_stream()
    )


def test_rebuild_equals_live_row_for_row(database_url, make_dispatcher):
    dispatcher = make_dispatcher(database_url)
    events = stream()
    random.Random(9).shuffle(events)  # live order differs from the log's replay order
    for event in events + random.Random(4).sample(events, 40):  # and some come twice
        dispatcher.dispatch(event)
    live = snapshot(database_url)
    assert sum(len(rows) for rows in live.values()) > 500
    db = Database(database_url)
    try:
        assert rebuild.rebuild(db, ZoneInfo("Asia/Hong_Kong"), check=True) == (len(events), [])
        assert snapshot(database_url) == live  # the check rolled back
        assert rebuild.rebuild(db, ZoneInfo("Asia/Hong_Kong"))[0] == len(events)
    finally:
        db.dispose()
    rebuilt = snapshot(database_url)
    assert [name for name in live if live[name] != rebuilt[name]] == []


def test_order_and_redelivery_do_not_change_the_models(make_dispatcher, tmp_path):
    events = stream()
    in_order, shuffled = (f"sqlite:///{tmp_path / name}.db" for name in ("ordered", "shuffled"))
    first = make_dispatcher(in_order)
    for event in sorted(events, key=lambda e: e.occurred_at):
        first.dispatch(event)
    second = make_dispatcher(shuffled)
    mixed = events * 2
    random.Random(1).shuffle(mixed)
    for event in mixed:
        second.dispatch(event)
    assert snapshot(in_order) == snapshot(shuffled)


def test_the_command_line_checks_and_rebuilds(make_dispatcher, sqlite_url, capsys):
    dispatcher = make_dispatcher(sqlite_url)
    for event in generate.commerce_stream():
        dispatcher.dispatch(event)
    env = {"REPORTING_DATABASE_URL": sqlite_url, "DEV_MODE": "1"}
    assert rebuild.main(["--check"], env) == 0
    assert "equal the live ones" in capsys.readouterr().out
    assert rebuild.main([], env) == 0
    assert "replayed 17 events" in capsys.readouterr().out


def test_a_delivery_window_in_one_transaction_counts_as_events_one_by_one(
    make_dispatcher, tmp_path
):
    """The consumer applies a whole window in one transaction; what projections leave
    to the commit (overdue times, counts, blind writes) must come out the same."""
    events = stream()
    mixed = events + random.Random(2).sample(events, 40)
    random.Random(3).shuffle(mixed)
    one_by_one, windowed = (f"sqlite:///{tmp_path / name}.db" for name in ("one", "windows"))
    first = make_dispatcher(one_by_one)
    for event in mixed:
        first.dispatch(event)
    second = make_dispatcher(windowed)
    for start in range(0, len(mixed), 50):
        results = second.dispatch_batch(mixed[start : start + 50])
        assert [r for r in results if isinstance(r, Exception)] == []
    assert snapshot(one_by_one) == snapshot(windowed)


def test_deals_shuffled_redelivered_and_in_windows_count_as_in_order(make_dispatcher, tmp_path):
    """Stage changes before their deal, deals before their customer or their call,
    every event twice, whole windows in one transaction: the deal models come out as
    from the events one by one in order, and as a rebuild makes them."""
    events = deals.world()[0]
    in_order, windowed = (f"sqlite:///{tmp_path / name}.db" for name in ("ordered", "windows"))
    first = make_dispatcher(in_order)
    for event in sorted(events, key=lambda e: e.occurred_at):
        first.dispatch(event)
    second = make_dispatcher(windowed)
    mixed = events * 2
    random.Random(6).shuffle(mixed)
    for start in range(0, len(mixed), 200):
        assert not [
            r for r in second.dispatch_batch(mixed[start : start + 200]) if isinstance(r, Exception)
        ]
    ordered = snapshot(in_order)
    assert len(ordered["deal_state"]) > 80 and len(ordered["pipeline_change"]) > 200
    assert snapshot(windowed) == ordered
    db = Database(windowed)
    try:
        assert rebuild.rebuild(db, ZoneInfo("Asia/Hong_Kong"), check=True) == (len(events), [])
    finally:
        db.dispose()


def _migrate(url, revision, down=False):
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            cfg = Config()
            cfg.set_main_option("script_location", str(config.MIGRATIONS))
            cfg.attributes["connection"] = connection
            (command.downgrade if down else command.upgrade)(cfg, revision)
    finally:
        engine.dispose()


def _rows(url, sql):
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return sorted(tuple(row) for row in connection.execute(text(sql)))
    finally:
        engine.dispose()


def test_after_the_deal_migration_a_rebuild_fills_the_deal_models(database_url, make_dispatcher):
    """Down to the deal tables without currency, segment and days (summed from the
    new ones, nothing they held lost), up again (emptied), then a rebuild gives the
    live deal models back row for row."""
    dispatcher = make_dispatcher(database_url)
    events = deals.world()[0] + generate.commerce_stream()
    random.Random(5).shuffle(events)
    for event in events:
        dispatcher.dispatch(event)
    live = snapshot(database_url)
    funnel = _rows(
        database_url,
        "SELECT SUM(created), SUM(won), SUM(lost), SUM(cycle_seconds) FROM deal_funnel",
    )
    pipeline = _rows(
        database_url,
        "SELECT currency, stage, SUM(deals), SUM(value) FROM "
        "pipeline_change GROUP BY currency, stage "
        "HAVING SUM(deals) != 0",
    )
    _migrate(database_url, "a7d2c4e8f913", down=True)
    assert (
        _rows(
            database_url,
            "SELECT SUM(created), SUM(won), SUM(lost), SUM(cycle_seconds) FROM deal_funnel",
        )
        == funnel
    )
    assert (
        _rows(
            database_url,
            "SELECT currency, stage, deals, value FROM pipeline_stage WHERE deals != 0",
        )
        == pipeline
    )
    _migrate(database_url, "head")
    assert not snapshot(database_url)["deal_state"]
    db = Database(database_url)
    try:
        assert rebuild.rebuild(db, ZoneInfo("Asia/Hong_Kong"))[0] == len(events)
    finally:
        db.dispose()
    assert snapshot(database_url) == live
