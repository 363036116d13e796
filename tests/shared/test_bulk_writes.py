"""The one bulk writer (shared.bulk_writes), on SQLite and PostgreSQL (COPY there):
rows it writes read back as a Core insert's do, upserts add up, left-out columns
get what a Core insert would give them or are refused, and a failure is raised as
SQLAlchemy's exception inside the caller's transaction."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    create_engine,
    insert,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from shared import bulk_writes
from shared.types import Money, UTCDateTime

pytestmark = pytest.mark.integration
AWKWARD = ["tab\there", "new\nline", "back\\slash", "\\N", 'qu"ote', "caf\u00e9 \u5ba2", ""]
WHEN = datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)

metadata = MetaData()
things = Table(
    "bulk_things",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("label", String(80)),
    Column("count", Integer),
    Column("flag", Boolean),
    Column("at", UTCDateTime()),
    Column("day", Date),
    Column("doc", JSON),
    Column("amount", Money()),
    Column("kind", String(8), default="plain"),  # a scalar default
)
stamped = Table(
    "bulk_stamped",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("at", UTCDateTime(), default=lambda: WHEN),
)
totals = Table(
    "bulk_totals",
    metadata,
    Column("day", Date, primary_key=True),
    Column("team", String(8), primary_key=True),
    Column("calls", BigInteger, default=0),
    Column("amount", Money(), default=0),
)
UPSERT = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


@pytest.fixture
def engine(database_url):
    engine = create_engine(database_url)
    metadata.create_all(engine)
    yield engine
    engine.dispose()


def values(i: int, label: str) -> dict:
    return {
        "id": f"t{i}",
        "label": label,
        "count": i,
        "flag": i % 2 == 0,
        "at": WHEN,
        "day": date(2026, 2, 28),
        "doc": {"tags": [label, 1], "none": None},
        "amount": Decimal("12.3456"),
    }


def read(engine, table) -> dict:
    with engine.connect() as connection:
        return {row.id: row._asdict() for row in connection.execute(select(table))}


def test_rows_read_back_as_a_core_insert_stores_them(engine):
    keys = ("count", "id", "label", "flag", "at", "day", "doc", "amount")  # not the table's order
    ready = bulk_writes.Rows.insert(things, keys, bulk_writes.dialect_for(engine.url.drivername))
    with engine.begin() as connection:
        bulk_writes.write(
            connection, ready.sql, [ready.row(values(i, label)) for i, label in enumerate(AWKWARD)]
        )
        connection.execute(
            insert(things), [values(i + 100, label) for i, label in enumerate(AWKWARD)]
        )
    found = read(engine, things)
    for i in range(len(AWKWARD)):
        by_driver, by_core = found[f"t{i}"], found[f"t{i + 100}"]
        assert {**by_driver, "id": None, "count": None} == {**by_core, "id": None, "count": None}
    assert found["t1"] | {"doc": None} == values(1, AWKWARD[1]) | {"kind": "plain", "doc": None}
    assert found["t1"]["doc"] == {"tags": [AWKWARD[1], 1], "none": None}


def test_prepared_values_and_python_values_are_written_alike(engine):
    keys = ("id", "at", "label", "amount")
    with engine.begin() as connection:
        column = things.c
        prepared = [
            (
                f"p{i}",
                bulk_writes.driver_value(connection, column.at, WHEN),
                label,
                bulk_writes.driver_value(connection, column.amount, Decimal("1.5")),
            )
            for i, label in enumerate(AWKWARD)
        ]
        bulk_writes.insert_prepared(connection, things, keys, prepared)
        bulk_writes.insert(
            connection,
            things,
            keys,
            [(f"q{i}", WHEN, label, Decimal("1.5")) for i, label in enumerate(AWKWARD)],
        )
    found = read(engine, things)
    assert [
        (
            found[f"p{i}"]["label"],
            found[f"p{i}"]["at"],
            found[f"p{i}"]["amount"],
            found[f"p{i}"]["kind"],
        )
        for i in range(len(AWKWARD))
    ] == [(found[f"q{i}"]["label"], WHEN, Decimal("1.5"), "plain") for i in range(len(AWKWARD))]


def test_prepared_keys_are_handed_on_as_they_are_and_the_others_converted(engine):
    keys = ("id", "amount", "at")
    dialect = bulk_writes.dialect_for(engine.url.drivername)
    ready = bulk_writes.Rows.insert(things, keys, dialect, prepared=("amount",))
    # 123456 ten-thousandths: Money's stored form, which Money itself would take for
    # 123,456 whole units
    with engine.begin() as connection:
        bulk_writes.write(
            connection, ready.sql, [ready.row({"id": "s", "amount": 123456, "at": WHEN})]
        )
    found = read(engine, things)["s"]
    assert (found["amount"], found["at"], found["kind"]) == (Decimal("12.3456"), WHEN, "plain")


def test_an_upsert_adds_to_the_rows_there(engine):
    statement = UPSERT[engine.dialect.name](totals).values(
        {name: bindparam(name) for name in ("team", "day", "calls", "amount")}
    )
    statement = statement.on_conflict_do_update(
        index_elements=["day", "team"],
        set_={name: totals.c[name] + statement.excluded[name] for name in ("calls",)},
    )
    day = date(2026, 3, 1)
    with engine.begin() as connection:
        bulk_writes.run(
            connection,
            statement,
            ("team", "day", "calls", "amount"),
            [("a", day, 2, Decimal("1.25")), ("b", day, 1, Decimal(0))],
        )
        bulk_writes.run_dicts(
            connection,
            statement,
            [{"calls": 5, "team": "a", "day": day, "amount": Decimal("1.25")}],
        )
    with engine.connect() as connection:
        rows = {row.team: (row.calls, row.amount) for row in connection.execute(select(totals))}
    assert rows == {"a": (7, Decimal("1.25")), "b": (1, Decimal(0))}


def test_a_column_left_out_gets_its_scalar_default_and_a_computed_one_is_refused(engine):
    with engine.begin() as connection:
        bulk_writes.insert(connection, things, ("id",), [("bare",)])
    assert read(engine, things)["bare"]["kind"] == "plain"
    with pytest.raises(ValueError, match=r"bulk_stamped.at"):
        bulk_writes.Rows.insert(stamped, ("id",), bulk_writes.dialect_for("sqlite"))


def test_a_failure_is_sqlalchemys_and_undoes_the_callers_transaction(engine):
    keys = ("id", "label")
    with engine.begin() as connection:
        bulk_writes.insert(connection, things, keys, [("dup", "first")])
    with pytest.raises(IntegrityError), engine.begin() as connection:
        bulk_writes.insert(connection, things, keys, [("new", "x")])
        bulk_writes.insert(connection, things, keys, [("dup", "again")])
    assert set(read(engine, things)) == {"dup"}


def test_upserts_in_a_pipeline_add_up_and_a_failure_in_it_is_sqlalchemys(engine):
    """``pipelined``: on PostgreSQL the statements go as one pipeline, on SQLite as
    they are; either way they take effect in order, and the first failure among
    them is raised as SQLAlchemy's exception and undoes the caller's transaction."""
    statement = UPSERT[engine.dialect.name](totals).values(
        {name: bindparam(name) for name in ("team", "day", "calls", "amount")}
    )
    statement = statement.on_conflict_do_update(
        index_elements=["day", "team"],
        set_={"calls": totals.c.calls + statement.excluded.calls},
    )
    day, keys = date(2026, 3, 1), ("team", "day", "calls", "amount")
    plain = insert(things).values(id=bindparam("id"), label=bindparam("label"))  # not COPY
    with engine.begin() as connection, bulk_writes.pipelined(connection):
        bulk_writes.run(connection, statement, keys, [("a", day, 2, Decimal(1))])
        bulk_writes.run(connection, statement, keys, [("a", day, 3, Decimal(1))])
        bulk_writes.run(connection, plain, ("id", "label"), [("piped", "x")])
    with (
        pytest.raises(IntegrityError),
        engine.begin() as connection,
        bulk_writes.pipelined(connection),
    ):
        bulk_writes.run(connection, statement, keys, [("a", day, 10, Decimal(1))])
        bulk_writes.run(connection, plain, ("id", "label"), [("piped", "again")])
    with engine.connect() as connection:
        assert connection.execute(select(totals.c.calls)).scalar_one() == 5
    assert set(read(engine, things)) == {"piped"}


def test_statements_are_positional_for_every_driver():
    for drivername, marker in (("sqlite", "?"), ("postgresql+psycopg", "%s")):
        ready = bulk_writes.Rows(
            insert(totals), ("day", "team"), bulk_writes.dialect_for(drivername)
        )
        assert ready.sql.count(marker) == 4 and "%(" not in ready.sql
        assert ready.row_of((date(2026, 1, 1), "a"))[2:] == (0, 0)
