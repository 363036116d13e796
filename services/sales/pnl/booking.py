"""Booking ledger entries into the maintained P&L summary (``pnl_daily``).

Every ledger entry adds its amounts to the summary row of its local day and
dimensions in the same transaction, as an upsert that adds in the database
(``revenue = revenue + excluded.revenue``): never read-modify-written, so two
transactions booking at once cannot lose an update. Amounts are already in cents
(each entry was rounded once when recorded), so the summary is exact sums.

Every write of new entries (a ``zone`` given) also adds them to their days' totals
and publishes those (``day_totals``); a merge only moves entries.

``add`` defers the increments to the end of the transaction instead (for a consumer
that books a whole delivery window in one): they are merged and upserted once,
just before the commit; a merge in the same transaction upserts them first.

The customer of a summary row is the surviving customer after merges, and its
segment that customer's segment now (``segments``): a booking takes it, under the
customer's lock, whatever segment the entry was recorded with; ``resegment`` and
``merge`` move a customer's rows when it changes, summing them into the rows
already there, in the same transaction. A move changes no day's total, so it
publishes nothing.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from operator import itemgetter
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, bindparam, delete, event, select, type_coerce
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from services.sales.customers.tables import CustomerAlias
from services.sales.pnl import day_totals, segments
from services.sales.pnl.tables import AMOUNTS, DIMENSIONS, PnlDaily
from shared.bulk_writes import Rows, dialect_for, write
from shared.db import in_chunks
from shared.types import Money

_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}
KEYS = ("day", "currency", *DIMENSIONS)
COLUMNS = (*AMOUNTS, "calls")
PENDING = "sales.summary.pending"
ZONE = "sales.summary.zone"
LISTENING = "sales.summary.listening"


def local_day(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date()


def survivor(session: Session, customer_id: str) -> str:
    """The customer that ``customer_id`` was merged into, if it was."""
    alias = session.get(CustomerAlias, customer_id)
    return alias.survivor_id if alias else customer_id


def survivors(session: Session, customer_ids: set[str]) -> dict[str, str]:
    """``survivor`` of each id, in one query per few hundred ids."""
    ids, found = sorted(customer_ids), {}
    for part in in_chunks(ids):
        found.update(
            session.execute(
                select(CustomerAlias.merged_id, CustomerAlias.survivor_id).where(
                    CustomerAlias.merged_id.in_(part)
                )
            ).all()
        )
    return {c: found.get(c, c) for c in ids}


def entry(
    day: date,
    currency: str,
    customer_id: str,
    *,
    product=None,
    channel=None,
    team=None,
    agent_kind=None,
    **amounts,
) -> dict:
    """One summary increment; dimensions that do not apply are ``""`` (the segment
    is the customer's, taken when it is booked). Its amounts (cents, every one) are
    carried in whole ten-thousandths, their stored form (``entry_of_units``)."""
    return entry_of_units(
        day,
        currency,
        customer_id,
        product=product,
        channel=channel,
        team=team,
        agent_kind=agent_kind,
        calls=int(amounts.pop("calls", 0)),
        **{name: _units(value, None) for name, value in amounts.items() if value},
    )


# ``shared.types.Money``'s own conversion of an amount to its stored form.
_units = Money().process_bind_param


def entry_of_units(
    day: date,
    currency: str,
    customer_id: str,
    *,
    product=None,
    channel=None,
    team=None,
    agent_kind=None,
    revenue: int = 0,
    discounts: int = 0,
    returns: int = 0,
    cost_of_goods: int = 0,
    cost_to_serve: int = 0,
    allocations: int = 0,
    calls: int = 0,
) -> dict:
    """``entry`` of amounts given in whole ten-thousandths (``Money``'s stored form);
    an amount not given is 0. The summary adds them up and writes them as they are."""
    return {
        "day": day,
        "currency": currency,
        "customer_id": customer_id,
        "segment": "",
        "product": product or "",
        "channel": channel or "",
        "team": team or "",
        "agent_kind": agent_kind or "",
        "revenue": revenue,
        "discounts": discounts,
        "returns": returns,
        "cost_of_goods": cost_of_goods,
        "cost_to_serve": cost_to_serve,
        "allocations": allocations,
        "calls": calls,
    }


def book(session: Session, rows: list[dict], zone: ZoneInfo | None = None) -> None:
    """Add ``rows`` to the summary: one upsert per distinct key; new entries (the
    ``zone`` their days are in given) to their days' published totals too."""
    if rows:
        _add_up(session, rows, _owners(session, {row["customer_id"] for row in rows}))
    if zone is not None:
        day_totals.gather(session, rows, zone)
        _at_commit(session)


def _owners(session: Session, ids: set[str]) -> dict[str, tuple[str, str]]:
    """Each customer's (survivor, that one's segment) the rows are booked under, the
    segment rows locked; survivors are read again once locked, as a merge may have
    committed while this waited for it."""
    held = segments.locked(session, ids | set(survivors(session, ids).values()))
    found = survivors(session, ids)
    held.update(segments.locked(session, set(found.values()) - set(held)))
    return {customer: (kept, held[kept]) for customer, kept in found.items()}


_KEY = itemgetter(*KEYS)
_AMOUNTS = itemgetter(*COLUMNS)
_CUSTOMER, _SEGMENT = KEYS.index("customer_id"), KEYS.index("segment")


def _add_up(session: Session, rows: list[dict], owners: dict | None = None) -> None:
    """One upsert a distinct key of ``rows``, their amounts summed first; ``owners``
    (``_owners``) puts each row under its customer's survivor and segment."""
    merged: dict[tuple, list] = {}
    for row in rows:
        key = _KEY(row)
        if owners is not None:
            key = list(key)
            key[_CUSTOMER], key[_SEGMENT] = owners[row["customer_id"]]
            key = tuple(key)
        amounts = merged.get(key)
        if amounts is None:
            merged[key] = list(_AMOUNTS(row))
        else:
            for i, value in enumerate(_AMOUNTS(row)):
                amounts[i] += value
    if merged:
        upsert = _upsert(session.get_bind().url.drivername)
        write(
            session.connection(),
            upsert.sql,
            [upsert.row_of((*key, *amounts)) for key, amounts in merged.items()],
        )


def add(session: Session, rows: list[dict], zone: ZoneInfo) -> None:
    """``book`` ``rows`` just before the transaction commits, with every other row
    added in it. (A unit of work's session lives for one transaction, so what its
    ``info`` holds goes with a rollback.)"""
    session.info.setdefault(PENDING, []).extend(rows)
    session.info[ZONE] = zone
    _at_commit(session)


def _at_commit(session: Session) -> None:
    if not session.info.get(LISTENING):
        session.info[LISTENING] = True
        event.listen(session, "before_commit", _before_commit)


def _before_commit(session: Session) -> None:
    """The deferred rows, then the days' totals: the last rows the transaction locks."""
    book_pending(session)
    day_totals.flush(session)


def book_pending(session: Session) -> None:
    """Upsert what ``add`` deferred (at the commit, or before a merge)."""
    rows = session.info.get(PENDING)
    if rows:
        session.info[PENDING] = []
        book(session, rows, session.info[ZONE])


@cache
def _upsert(drivername: str) -> Rows:
    """The upsert, its rows handed to the driver: a sale books a row a line, and an
    import thousands, where SQLAlchemy's work per row cost more than the upsert."""
    dialect = dialect_for(drivername)
    table = PnlDaily.__table__
    insert = _INSERTS[dialect.name](PnlDaily).values(
        {name: bindparam(name, type_=table.c[name].type) for name in KEYS + COLUMNS}
    )
    return Rows(
        insert.on_conflict_do_update(
            index_elements=list(KEYS),
            set_={name: table.c[name] + insert.excluded[name] for name in COLUMNS},
        ),
        KEYS + COLUMNS,
        dialect,
        prepared=AMOUNTS,  # added up in their stored form (``entry``)
    )


def merge(session: Session, merged_id: str, survivor_id: str) -> None:
    """A merge: the merged customer's rows are added to the survivor's, under the
    survivor's segment."""
    held = segments.locked(session, {merged_id, survivor_id})
    _move(session, merged_id, survivor_id, held[survivor_id])


def resegment(session: Session, customer_id: str, segment: str) -> None:
    """The customer's P&L counts under ``segment`` from now on, history included."""
    held = segments.locked(session, {customer_id}, new={customer_id: segment})
    if held[customer_id] != segment:
        _move(session, customer_id, customer_id, segment)
        segments.change(session, customer_id, segment)


def _move(session: Session, customer_id: str, to_customer: str, segment: str) -> None:
    """Every row of ``customer_id`` to ``to_customer`` and ``segment``, added into the
    rows there; the rows it leaves are deleted (the caller holds the customers'
    segment rows, so no booking adds to them meanwhile)."""
    table = PnlDaily.__table__
    # the amounts read in their stored form, as ``entry`` carries them
    read = [
        type_coerce(table.c[k], BigInteger).label(k) if k in AMOUNTS else table.c[k]
        for k in KEYS + COLUMNS
    ]
    rows = [
        {**row, "customer_id": to_customer, "segment": segment}
        for row in session.connection()
        .execute(select(*read).where(table.c.customer_id == customer_id))
        .mappings()
    ]
    session.connection().execute(delete(table).where(table.c.customer_id == customer_id))
    _add_up(session, rows)
