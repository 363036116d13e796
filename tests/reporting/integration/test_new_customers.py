"""A window's customers that have no facts yet are inserted at once: the one read
of the window's customers already found them missing, so none is looked for again
on its own (a backlog's first sight of thousands of customers paid a query each)."""

import pytest
from sqlalchemy import event, select

from services.reporting.customers.tables import CustomerFacts
from tests.reporting.events import completed

pytestmark = pytest.mark.integration


def test_new_customers_facts_are_inserted_without_a_read_each(database_url, make_dispatcher):
    dispatcher = make_dispatcher(database_url)
    dispatcher.dispatch(completed("2025-03-01T04:00", call_id="before", customer_id="c0"))
    reads = []

    def count(_conn, _cursor, statement, _params, _context, _many):
        if statement.lstrip().upper().startswith("SELECT") and "customer_facts" in statement:
            reads.append(statement)

    engine = dispatcher.uow.db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        dispatcher.dispatch_batch(
            [completed("2025-03-02T04:00", call_id=f"k{i}", customer_id=f"c{i}") for i in range(6)]
        )
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(reads) == 1  # the window's customers, read together
    with dispatcher.uow.reader() as session:
        facts = session.scalars(select(CustomerFacts).order_by(CustomerFacts.customer_id)).all()
    assert [(f.customer_id, f.last_outcome, f.last_call_at.day) for f in facts] == [
        (f"c{i}", "reached", 2) for i in range(6)
    ]


def test_on_sqlite_new_customers_facts_are_written_once(sqlite_url, make_dispatcher):
    """SQLite has one writer: a customer not on file needs no insert-or-nothing to
    lock it before its facts are read, only the one write of the window's facts."""
    dispatcher = make_dispatcher(sqlite_url)
    dispatcher.dispatch(completed("2025-03-01T04:00", call_id="before", customer_id="c0"))
    writes = []

    def count(_conn, _cursor, statement, _params, _context, _many):
        if statement.lstrip().upper().startswith("INSERT INTO CUSTOMER_FACTS"):
            writes.append(statement)

    engine = dispatcher.uow.db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        dispatcher.dispatch_batch(
            [completed("2025-03-02T04:00", call_id=f"k{i}", customer_id=f"c{i}") for i in range(6)]
        )
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(writes) == 1
    with dispatcher.uow.reader() as session:
        facts = session.scalars(select(CustomerFacts).order_by(CustomerFacts.customer_id)).all()
    assert [(f.customer_id, f.last_outcome, f.last_call_at.day) for f in facts] == [
        (f"c{i}", "reached", 2) for i in range(6)
    ]
