"""Booking a P&L entry into the P&L read models: per customer and day
(``pnl_daily``), per customer year to date by month (``pnl_ytd``) and per segment
and day (``pnl_cube``), and moving a customer's history between segments.

The segment an entry counts under is the customer's ``customer_segment`` row: the
customer's segment now, or, once it is merged into another, its survivor's (the
merged customer's entries count under the survivor, as in the ledger; the sales
service's summary follows the same rule, docs/sales.md).
Entries are gathered for the transaction and booked into the cube just before it
commits: the segment rows of every customer concerned are read (and locked) in one
query, those of customers not seen yet inserted as ``unknown``. A segment change
first books what is gathered under the old segment, then moves the customer's
whole history, so the cube ends as if every entry had been booked one by one.
"""

from __future__ import annotations

from functools import cache

from sqlalchemy import bindparam, delete, literal, select, tuple_
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from services.reporting.customers.tables import CustomerFacts
from services.reporting.pnl.tables import CustomerSegment, PnlCube, PnlDaily, PnlYtd
from services.reporting.store import counters, year_to_date
from services.reporting.store.counters import INSERTS
from services.reporting.store.locked_rows import held, row_for_update
from shared.db import in_chunks

UNKNOWN = "unknown"
AMOUNTS = (
    "revenue",
    "discounts",
    "returns",
    "cost_of_goods",
    "cost_to_serve",
    "allocations",
    "sales",
)
CUBE_KEY = ("currency", "day", "segment")
ZEROS = dict.fromkeys(AMOUNTS, 0)
CHUNK = 1000


def book(session: Session, currency: str, day, customer_id: str, amounts: dict) -> None:
    """Add ``amounts`` (some of ``AMOUNTS``) to the customer's P&L of that day."""
    # Every entry in one shape, so a sale and a call cost of one customer and day
    # are summed into one upsert rather than written as two; its money converted to
    # stored units once for the three tables (they share ``Amounts``).
    amounts = {**ZEROS, **counters.in_stored_units(PnlDaily, amounts)}
    counters.add_stored(
        session, PnlDaily, {"currency": currency, "day": day, "customer_id": customer_id}, amounts
    )
    year_to_date.add(
        session,
        PnlYtd,
        {"currency": currency, "customer_id": customer_id},
        day,
        amounts,
        stored=True,
    )
    gathered = _gathered(session).setdefault(customer_id, {})
    entry = gathered.setdefault((currency, day), dict.fromkeys(AMOUNTS, 0))
    for name, value in amounts.items():
        entry[name] += value


def _gathered(session: Session) -> dict:
    gathered = session.info.get("pnl_entries")
    if gathered is None:
        gathered = session.info["pnl_entries"] = {}
        sa_event.listen(session, "before_commit", settle, once=True)
    return gathered


def settle(session: Session) -> None:
    """Book the gathered entries into the cube under each customer's segment now."""
    gathered = session.info.pop("pnl_entries", None)
    if not gathered:
        return
    segments = _segments(session, sorted(gathered))
    rows: dict = {}
    for customer_id, entries in gathered.items():
        for (currency, day), amounts in entries.items():
            row = rows.setdefault((currency, day, segments[customer_id]), dict.fromkeys(AMOUNTS, 0))
            for name, value in amounts.items():
                row[name] += value
    counters.write(session, PnlCube, CUBE_KEY, AMOUNTS, rows)


def _segments(session: Session, customers: list[str]) -> dict:
    """Each customer's segment row, locked; sorted, so every consumer locks in one order."""
    out = {}
    wanted = []
    for customer_id in customers:
        row = held(session, CustomerSegment, {"customer_id": customer_id})
        if row is None:
            wanted.append(customer_id)
        else:
            out[customer_id] = row.segment
    for attempt in range(2):
        for part in in_chunks(wanted, CHUNK):  # a rebuild gathers every customer
            with session.no_autoflush:
                out.update(
                    session.execute(
                        select(CustomerSegment.customer_id, CustomerSegment.segment)
                        .where(CustomerSegment.customer_id.in_(part))
                        .with_for_update()
                    ).all()
                )
        wanted = [c for c in wanted if c not in out]
        if wanted and attempt == 0:  # new customers: insert-or-nothing, then lock
            session.connection().execute(
                _insert_unknown(session.get_bind().dialect.name),
                [{"customer_id": c} for c in wanted],
            )
    return out


def move(session: Session, customer_id: str, segment: str, new: bool = False) -> None:
    """Count the customer's P&L, and that of the customers merged into it, under
    ``segment`` from now on, history included; nothing for a customer merged into
    another (its P&L follows the survivor's). ``new``: most likely a customer not
    seen before (a registration)."""
    if _merged_into(session, customer_id) in (None, customer_id) and _move_one(
        session, customer_id, segment, new
    ):
        _move_merged(session, customer_id, segment)


def follow(session: Session, merged_id: str, survivor_id: str) -> None:
    """A merge: the merged customer's P&L (and that of those merged into it) counts
    under the survivor's segment from now on, history included."""
    root, seen = survivor_id, {merged_id, survivor_id}
    while (up := _merged_into(session, root)) is not None and up not in seen:
        root = up
        seen.add(up)
    segment = row_for_update(
        session, CustomerSegment, {"customer_id": root}, segment=UNKNOWN
    ).segment
    if _move_one(session, merged_id, segment):
        _move_merged(session, merged_id, segment)


def _move_merged(session: Session, customer_id: str, segment: str) -> None:
    """The customers merged into ``customer_id`` (directly or along a chain) carry
    its segment: they move with it. (Read with autoflush: a merge folded earlier in
    this transaction is in a held row not written yet.)"""
    found, frontier = set(), [customer_id]
    while frontier:
        frontier = sorted(
            set(
                session.scalars(
                    select(CustomerFacts.customer_id).where(CustomerFacts.merged_into.in_(frontier))
                )
            )
            - found
            - {customer_id}
        )
        found.update(frontier)
        for merged in frontier:
            _move_one(session, merged, segment)


def _merged_into(session: Session, customer_id: str):
    facts = held(session, CustomerFacts, {"customer_id": customer_id})
    if facts is not None:
        return facts.merged_into
    with session.no_autoflush:
        return session.scalar(
            select(CustomerFacts.merged_into).where(CustomerFacts.customer_id == customer_id)
        )


def _move_one(session: Session, customer_id: str, segment: str, new: bool = False) -> bool:
    """Move one customer's history to ``segment``; False if it was there already."""
    key = {"customer_id": customer_id}
    if new and customer_id not in session.info.get("pnl_entries", {}):
        # Inserted just now means no entry was ever booked for it: nothing to move.
        row = row_for_update(session, CustomerSegment, key, new=True, segment=segment)
    else:
        row = row_for_update(session, CustomerSegment, key, segment=UNKNOWN)
    if row.segment == segment:
        return False
    settle(session)  # what this transaction booked counts under the old segment first
    counters.flush_rows(session)  # and is in pnl_daily, which the move reads
    dialect = session.get_bind().dialect.name
    for name, sign in ((row.segment, -1), (segment, 1)):
        session.connection().execute(
            _move(dialect, sign), {"customer_id": customer_id, "segment": name}
        )
    # Rows the move emptied go, as if the customer had been in ``segment`` all along.
    session.connection().execute(
        _drop_emptied(), {"customer_id": customer_id, "segment": row.segment}
    )
    row.segment = segment
    return True


@cache
def _drop_emptied():
    daily, cube = PnlDaily.__table__.c, PnlCube.__table__.c
    days = select(daily.currency, daily.day).where(daily.customer_id == bindparam("customer_id"))
    return delete(PnlCube).where(
        cube.segment == bindparam("segment"),
        tuple_(cube.currency, cube.day).in_(days),
        *(cube[name] == 0 for name in AMOUNTS),
    )


@cache
def _insert_unknown(dialect: str):
    return (
        INSERTS[dialect](CustomerSegment)
        .values(customer_id=bindparam("customer_id"), segment=UNKNOWN)
        .on_conflict_do_nothing()
    )


@cache
def _move(dialect: str, sign: int):
    """Add ``sign`` × the customer's per-day P&L to the segment's cube rows."""
    daily = PnlDaily.__table__.c
    source = select(
        daily.currency,
        daily.day,
        bindparam("segment", type_=PnlCube.segment.type),
        *((daily[name] * literal(sign)).label(name) for name in AMOUNTS),
    ).where(daily.customer_id == bindparam("customer_id"))
    insert = INSERTS[dialect](PnlCube).from_select(CUBE_KEY + AMOUNTS, source)
    table = PnlCube.__table__
    return insert.on_conflict_do_update(
        index_elements=list(CUBE_KEY),
        set_={name: table.c[name] + insert.excluded[name] for name in AMOUNTS},
    )
