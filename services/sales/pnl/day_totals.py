"""The ledger's own figures: totals per local day and currency (``ledger_days``),
published as ``ledger.totals_published`` for reporting to reconcile against.

Every write that books ledger entries into the P&L summary gathers the same
amounts by local day and currency (``gather``); just before its transaction
commits, after every summary row it writes, ``flush`` adds them to the days'
totals and puts one event per day touched in the outbox of the same transaction,
carrying the day's totals after the write and a ``revision`` one higher than the
last. A write for a past day (a return dated back, a late call cost) therefore
re-publishes that day: the newest revision is the day's figure. Nothing periodic
is needed and nothing can be missed: the totals are committed, or not, with the
entries they sum.

The upsert adds in the database and hands back the row it left, under its row
lock: two transactions writing one day wait for each other, so each publishes
totals that include everything committed before it, and revisions follow the
commit order. The lock is the last a transaction takes and is held only through
its commit; days are locked in key order, so writers cannot deadlock on them. It
does serialize the commits of one day's writes (a sale, a return, a consumer's
window of call costs). A merge or a segment change moves entries between
customers or segments and leaves every day's totals alone, so it publishes
nothing.
"""

from __future__ import annotations

from decimal import Decimal
from functools import cache

from sqlalchemy import bindparam, insert, literal, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from services.sales.db import Outbox
from services.sales.pnl.tables import AMOUNTS, LedgerDay
from shared.clock import utcnow
from shared.messaging import outbox
from shared.types import CENT, PLACES

EVENT = "ledger.totals_published"
PRODUCER = "sales"
_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}
_COLUMNS = (*AMOUNTS, "calls")
GATHERED = "sales.day_totals.gathered"  # session.info: this transaction's days


def gather(session: Session, rows: list[dict], zone) -> None:
    """Remember summary ``rows`` (``booking.entry``, amounts in whole ten-thousandths)
    for their days' totals, to be added and published by ``flush`` at the commit."""
    days = session.info.setdefault(GATHERED, {})
    for row in rows:
        day = days.setdefault((row["day"], row["currency"], zone), dict.fromkeys(_COLUMNS, 0))
        for name in _COLUMNS:
            day[name] += row[name]


def flush(session: Session) -> None:
    """Add what was gathered to the days' totals and publish each day touched."""
    days = session.info.pop(GATHERED, None)
    if not days:
        return
    statement = _upsert(session.get_bind().dialect.name)
    payloads = []
    for (day, currency, zone), amounts in sorted(days.items(), key=lambda item: item[0][:2]):
        # gathered in whole ten-thousandths (``booking.entry``), bound as amounts
        amounts = {
            **amounts,
            **{name: Decimal(amounts[name]).scaleb(-PLACES) for name in AMOUNTS},
        }
        totals = (
            session.connection()
            .execute(statement, {"day": day, "currency": currency, **amounts})
            .one()
        )
        payloads.append(payload(totals, zone.key))
    session.connection().execute(insert(Outbox.__table__), _events(payloads))


def republish(session: Session, zone, start=None, end=None) -> int:
    """Publish the stored totals of the days from ``start`` to ``end`` again, each
    with the next revision (after the upgrade that filled ``ledger_days`` from the
    summary at revision 0, or for a consumer that lost them); returns the days."""
    table = LedgerDay.__table__
    statement = update(table).values(revision=table.c.revision + 1).returning(*table.c)
    if start:
        statement = statement.where(table.c.day >= start)
    if end:
        statement = statement.where(table.c.day <= end)
    events = _events(
        [payload(totals, zone.key) for totals in session.connection().execute(statement)]
    )
    if events:
        session.connection().execute(insert(Outbox.__table__), events)
    return len(events)


def _events(payloads: list[dict]) -> list[dict]:
    """The outbox rows of the totals' events (written in the session's own transaction,
    at its commit, so through the outbox's rows rather than a unit of work)."""
    return list(outbox.rows(outbox.Origin.current(PRODUCER), EVENT, payloads, utcnow()))


def payload(totals, zone_name: str) -> dict:
    # Sums of cents: shown with two places, not rounded (``quantize`` of an exact cent).
    amounts = {name: Decimal(getattr(totals, name)).quantize(CENT) for name in AMOUNTS}
    net = (
        amounts["revenue"]
        - amounts["discounts"]
        - amounts["returns"]
        - amounts["cost_of_goods"]
        - amounts["cost_to_serve"]
        - amounts["allocations"]
    )
    return {
        "day": totals.day,
        "currency": totals.currency,
        "timezone": zone_name,
        "revision": int(totals.revision),
        **amounts,
        "net_contribution": net,
        "calls": int(totals.calls),
    }


@cache
def _upsert(dialect: str):
    table = LedgerDay.__table__
    insert_ = _INSERTS[dialect](LedgerDay).values(
        day=bindparam("day", type_=table.c.day.type),
        currency=bindparam("currency", type_=table.c.currency.type),
        revision=literal(1),
        **{name: bindparam(name, type_=table.c[name].type) for name in _COLUMNS},
    )
    return insert_.on_conflict_do_update(
        index_elements=["day", "currency"],
        set_={
            "revision": table.c.revision + 1,
            **{name: table.c[name] + insert_.excluded[name] for name in _COLUMNS},
        },
    ).returning(*table.c)
