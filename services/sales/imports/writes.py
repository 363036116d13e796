"""One chunk of a sales import written, in the importing job's transaction.

What needs the database is read once for the whole chunk: which references are on
file, the catalogue of every SKU named (with its price history, each sale then
priced at its own moment), the segment of every customer. Each sale is then built
by ``services.build_entry``, the code ``POST /transactions`` records one with, and
the chunk written with one ``executemany`` (``COPY`` on PostgreSQL) per table, its
P&L bookings in one ``booking.book``, its ``sale.recorded`` events built by hand
each checked against the contract by the unit of work's outbox rows
(``shared.messaging.outbox``).
"""

from __future__ import annotations

from datetime import UTC
from functools import lru_cache

from sqlalchemy import select

from services.sales.catalogue.products import in_effect, price_lists
from services.sales.customers.tables import Customer
from services.sales.db import Outbox
from services.sales.imports.rows import Loaded, by_line, printable_ref
from services.sales.ledger.sales import LINE_MONEY, SALE_MONEY, attribution, build_entry
from services.sales.ledger.tables import Sale, SaleLine
from services.sales.pnl import booking
from shared import bulk_writes
from shared.clock import utcnow
from shared.db import in_chunks
from shared.errors import Invalid
from shared.ids import ordered_id
from shared.messaging import outbox


@lru_cache(maxsize=8)
def _inserts(drivername: str) -> dict[str, bulk_writes.Rows]:
    """The chunk's inserts, their rows handed to the driver as they are (``COPY`` on
    PostgreSQL): a Core executemany's work per row costs more than the insert. The
    ledger rows' money comes in its stored form (``Entry``), converted no further."""
    dialect = bulk_writes.dialect_for(drivername)
    return {
        table.name: bulk_writes.Rows.insert(table, keys, dialect, prepared=prepared)
        for table, keys, prepared in (
            (Sale.__table__, tuple(Sale.__table__.columns.keys()), SALE_MONEY),
            (SaleLine.__table__, tuple(SaleLine.__table__.columns.keys()), LINE_MONEY),
        )
    }


def apply(work, setup, batch: list[Loaded]) -> dict:
    counts = {
        "rows_read": 0,
        "sales_read": 0,
        "created": 0,
        "lines_created": 0,
        "skipped": 0,
        "rejected": 0,
        "rejections": [],
    }
    session = work.session
    good: list[Loaded] = []
    refs: dict[str, int] = {}
    for loaded in batch:
        counts["rows_read"] += loaded.lines
        counts["sales_read"] += 1
        if loaded.data is None:
            _reject(counts, loaded, loaded.rejections)
            continue
        ref = loaded.data["external_ref"]
        if ref in refs:
            _reject(
                counts,
                loaded,
                [
                    (
                        loaded.group.line,
                        {"external_ref": [f"Repeats the external_ref of line {refs[ref]}."]},
                    )
                ],
            )
            continue
        refs[ref] = loaded.group.line
        good.append(loaded)
    on_file = _in(session, Sale.external_ref, list(refs))
    sales = [loaded for loaded in good if loaded.data["external_ref"] not in on_file]
    counts["skipped"] += len(good) - len(sales)
    catalogue = price_lists(
        session, {line["sku"] for loaded in sales for line in loaded.data["lines"] if line["sku"]}
    )
    segments = _segments(session, sorted({s.data["customer_id"] for s in sales}))
    now = utcnow()
    written: dict[str, list] = {"sales": [], "lines": [], "bookings": [], "events": []}
    for loaded in sales:
        data = loaded.data
        try:
            entry = build_entry(
                data,
                _priced(catalogue, data, now),
                segments.get(data["customer_id"]),
                attribution(session, data),
                ordered_id(),
                setup.actor,
                now,
                setup.zone,
            )
        except Invalid as exc:
            _reject(
                counts,
                loaded,
                by_line(loaded.group, setup.fmt, exc.errors or {"_row": [exc.detail]}),
            )
            continue
        written["sales"].append(entry.sale)
        written["lines"] += entry.lines
        written["bookings"] += entry.bookings
        written["events"].append(entry.event)
    if written["sales"]:
        ready = _inserts(session.get_bind().url.drivername)
        connection = session.connection()
        for name, rows in (("sales", written["sales"]), ("sale_lines", written["lines"])):
            bulk_writes.write(connection, ready[name].sql, [ready[name].row(row) for row in rows])
        # the events' rows as the driver takes them, their time converted once
        created = bulk_writes.driver_value(connection, Outbox.__table__.c.created_at, now)
        bulk_writes.insert_prepared(
            connection,
            Outbox.__table__,
            outbox.COLUMNS,
            outbox.values(
                outbox.Origin.current(work.producer),
                "sale.recorded",
                written["events"],
                now,
                created=created,
            ),
        )
        booking.book(session, written["bookings"], setup.zone)
    counts["created"] += len(written["sales"])
    counts["lines_created"] += len(written["lines"])
    return counts


def _reject(counts: dict, loaded: Loaded, reasons: list[tuple[int, dict]]) -> None:
    counts["rejected"] += 1
    ref = printable_ref(loaded.group.ref)
    counts["rejections"] += [(line, ref, why) for line, why in reasons]


def _in(session, column, values: list[str]) -> set[str]:
    found: set[str] = set()
    for part in in_chunks(values):
        found.update(session.scalars(select(column).where(column.in_(part))))
    return found


def _segments(session, ids: list[str]) -> dict[str, str]:
    """The segment of each customer known here (a sale of one not known yet has none)."""
    found: dict[str, str] = {}
    for part in in_chunks(ids):
        found.update(
            session.execute(
                select(Customer.customer_id, Customer.segment).where(Customer.customer_id.in_(part))
            ).all()
        )
    return found


def _priced(catalogue: dict, data: dict, now) -> dict:
    """The sale's SKUs as ``prices_at`` answers them: (product, price at its time).
    The moment is compared in UTC, the zone the prices are read in: the same order,
    without converting zones at every comparison."""
    moment = (data["recorded_at"] or now).astimezone(UTC)
    return {
        line["sku"]: (catalogue[line["sku"]], in_effect(catalogue[line["sku"]], moment))
        for line in data["lines"]
        if line["sku"] in catalogue
    }
