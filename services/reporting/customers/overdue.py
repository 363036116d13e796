"""Each customer's facts (``customer_facts``) as calls change them, and its
``overdue_since``: the time it is due by under ``shared.coverage`` — its plans'
tightest policy after its last qualifying contact, or, never contacted, its first
planned call's due time. A plan's policy is the one its latest call to the customer
that is not cancelled carries (``call_state.max_gap_days``).

The due time is recomputed from the customer's calls and facts, so it does not
depend on the order events arrive in. Projections only mark a customer as changed, and queue
what a completed call does to its facts; both are done once per transaction, just
before it commits: the facts of every customer concerned read in one query, then
one query for all their overdue times. The queued changes are applied in the order
they were made, so the facts end as if applied one by one; the overdue time depends
only on the state the transaction ends with, so computing it once at the end gives
what computing it after every event would.
"""

from __future__ import annotations

from functools import cache
from types import SimpleNamespace

from sqlalchemy import bindparam, func, select
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from services.reporting.calls.tables import CallState
from services.reporting.customers.tables import CustomerFacts
from services.reporting.store import locked_rows as rows
from services.reporting.store.counters import INSERTS, locks_rows
from shared import bulk_writes
from shared import coverage as rule


def customer_facts(session: Session, customer_id: str) -> CustomerFacts:
    """The customer's facts, with the changes queued for them applied."""
    facts = rows.row_for_update(session, CustomerFacts, {"customer_id": customer_id})
    pending = session.info.get("overdue")
    for change in pending["changes"].pop(customer_id, ()) if pending else ():
        change(facts)
    return facts


def change_later(session: Session, customer_id: str, change) -> None:
    """Apply ``change(facts)`` to the customer's facts before the commit (or as soon
    as anything here reads them)."""
    _pending(session)["changes"].setdefault(customer_id, []).append(change)


def mark(session: Session, customer_id: str) -> None:
    """Recompute this customer's overdue time before the transaction commits."""
    _pending(session)["marked"].add(customer_id)


def _pending(session: Session) -> dict:
    pending = session.info.get("overdue")
    if pending is None:
        pending = session.info["overdue"] = {"marked": set(), "changes": {}}
        sa_event.listen(session, "before_commit", refresh, once=True)
    return pending


def refresh(session: Session) -> None:
    """Apply the queued changes and recompute every marked customer now (a check
    that reads before committing)."""
    rows.write_sets(session)  # calls completed blind count here
    pending = session.info.get("overdue")
    if pending is None:
        return
    # sorted: one lock order for all
    concerned = sorted(pending["changes"].keys() | pending["marked"])
    facts = {}
    for customer_id in concerned:
        held = rows.held(session, CustomerFacts, {"customer_id": customer_id})
        if held is not None:  # loaded by a projection of this transaction: kept there
            facts[customer_id] = held
    plain = _plain_facts(session, [c for c in concerned if c not in facts])
    facts.update(plain)
    for customer_id, changes in pending["changes"].items():  # changes may mark more
        for change in changes:
            change(facts[customer_id])
    marked = sorted(pending["marked"])
    if marked:
        _recompute(session, {customer_id: facts[customer_id] for customer_id in marked})
    if plain:
        bulk_writes.run(
            session.connection(),
            _write_facts(session.get_bind().dialect.name),
            _COLUMNS,
            [tuple(map(vars(row).__getitem__, _COLUMNS)) for row in plain.values()],
        )
    session.info.pop("overdue")


_FACTS = CustomerFacts.__table__
_COLUMNS = tuple(column.key for column in _FACTS.columns)
_BLANK = dict.fromkeys(_COLUMNS)
CHUNK = 1000


def _plain_facts(session: Session, customer_ids: list[str]) -> dict:
    """The facts of customers no projection loaded, as plain records, locked, read in
    one query, not as mapped objects (a window touches hundreds: the ORM's per-object
    work cost more than the queries). Where rows are locked (PostgreSQL), those not on
    file are inserted first (insert-or-nothing, so two consumers cannot both insert
    one); on SQLite this transaction is the only writer, so a customer not on file is
    a blank record here, inserted by the one write of the facts (``refresh``)."""
    if not customer_ids:
        return {}
    connection = session.connection()
    dialect = session.get_bind().dialect.name
    if locks_rows(session):
        bulk_writes.run(
            connection, _insert_absent(dialect), ("customer_id",), [(c,) for c in customer_ids]
        )
    out = {}
    for start in range(0, len(customer_ids), CHUNK):  # a rebuild concerns every customer
        chunk = customer_ids[start : start + CHUNK]
        query = select(_FACTS).where(_FACTS.c.customer_id.in_(chunk)).with_for_update()
        out.update(
            (row["customer_id"], SimpleNamespace(**row))
            for row in connection.execute(query).mappings()
        )
    for customer_id in customer_ids:
        if customer_id not in out:  # not on file (SQLite): every fact unknown yet
            out[customer_id] = SimpleNamespace(**{**_BLANK, "customer_id": customer_id})
    return out


@cache
def _insert_absent(dialect: str):
    return (
        INSERTS[dialect](CustomerFacts)
        .values(customer_id=bindparam("customer_id"))
        .on_conflict_do_nothing()
    )


@cache
def _write_facts(dialect: str):
    """Every column of a customer's facts, on file and locked already."""
    insert = INSERTS[dialect](CustomerFacts).values({name: bindparam(name) for name in _COLUMNS})
    return insert.on_conflict_do_update(
        index_elements=["customer_id"],
        set_={name: insert.excluded[name] for name in _COLUMNS if name != "customer_id"},
    )


def _recompute(session: Session, facts: dict) -> None:
    session.flush()
    ids, live = list(facts), CallState.status != "cancelled"
    first = (
        select(CallState.customer_id, func.min(CallState.due_at))
        .where(CallState.customer_id.in_(ids), live, CallState.due_at.is_not(None))
        .group_by(CallState.customer_id)
    )
    latest = (
        select(
            CallState.customer_id,
            CallState.max_gap_days,
            func.row_number()
            .over(
                partition_by=(CallState.customer_id, CallState.plan_id),
                order_by=(CallState.due_at.desc(), CallState.call_id.desc()),
            )
            .label("n"),
        )
        .where(CallState.customer_id.in_(ids), live, CallState.max_gap_days.is_not(None))
        .subquery()
    )
    policy = (
        select(latest.c.customer_id, func.min(latest.c.max_gap_days))
        .where(latest.c.n == 1)
        .group_by(latest.c.customer_id)
    )
    firsts, policies = dict(session.execute(first).all()), dict(session.execute(policy).all())
    for customer_id, row in facts.items():
        row.overdue_since = rule.due_by(
            row.last_contact_at, policies.get(customer_id), firsts.get(customer_id)
        )
