"""Finding a customer from the workspace: the search the customer service answers for
``GET /customers?q=`` (services/customer/search.py), over this service's customer
projection, for ``GET /api/v1/customers/search`` and the workspace's search page.

One box: an external reference (exactly, as the customer service matches it), a phone
in any format (its E.164 ``phone_key``), an e-mail (case-insensitive), else a name:
every word of ``q`` must begin a word of the name (``name_key``: accents and case
folded, any order). An identifier that matches is the whole answer. Keys are set as
customer events arrive (customers/tables.py, ``Customer``; the external reference travels on
``customer.registered`` and ``customer.updated``).
``customer_page`` is the workspace's customer page: the call page's context and the
customer's open calls.
"""

from __future__ import annotations

from sqlalchemy import and_, case, false, func, literal, or_, select, tuple_

from services.calls.calls.tables import Call
from services.calls.customers.tables import Consent, Customer
from services.calls.workspace import context
from shared.errors import Invalid, NotFound
from shared.search_keys import as_phone, name_key, tokens
from shared.web.pagination import decode_cursor, page

GONE = ("erased", "merged")
OPEN_SHOWN = 50


def match(session, q: str):
    """The WHERE clause and the rank (0 is best) of the customers ``q`` names: those
    whose external reference it is, if any (an index look-up), else those whose phone
    or e-mail it is if it reads as one, else those whose name has every word of it."""
    q = q.strip()
    if (
        q
        and session.scalar(select(Customer.customer_id).where(Customer.external_ref == q).limit(1))
        is not None
    ):
        return Customer.external_ref == q, literal(0)
    exact = []
    if phone := as_phone(q):
        exact.append(Customer.phone_key == phone)
    if "@" in q:
        exact.append(func.lower(Customer.email) == q.casefold())
    words = tokens(q)
    if exact:
        return or_(*exact), literal(0)
    if not words:
        return false(), literal(0)
    padded = literal(" ").concat(Customer.name_key)
    where = and_(*(padded.contains(" " + w, autoescape=True) for w in words))
    rank = case(
        (Customer.name_key == name_key(q), 1),
        (Customer.name_key.startswith(words[0], autoescape=True), 2),
        else_=3,
    )
    return where, rank


def search(uow, q: str, limit: int, cursor: str | None) -> dict:
    """A page of the customers ``q`` finds, best first, then by name."""
    after = decode_cursor(cursor, 3)
    if after and not (isinstance(after[0], int) and all(isinstance(k, str) for k in after[1:])):
        raise Invalid(
            "the cursor is not one this API issued", errors={"cursor": ["not a valid cursor"]}
        )
    name = func.coalesce(Customer.name, "")
    with uow.reader() as session:
        where, rank = match(session, q)
        query = (
            select(Customer, rank.label("rank"), name.label("sort_name"))
            .where(where, Customer.lifecycle_status.not_in(GONE))
            .order_by(rank, name, Customer.customer_id)
            .limit(limit + 1)
        )
        if after:
            query = query.where(tuple_(rank, name, Customer.customer_id) > tuple(after))
        rows = list(session.execute(query))
    result = page(rows, limit, lambda r: (r.rank, r.sort_name, r.Customer.customer_id))
    result["items"] = [r.Customer for r in result["items"]]
    return result


def customer_page(uow, caller, customer_id: str) -> dict:
    """A found customer: the context the call page shows and the calls still open
    (an agent sees the open calls it may open: its own and those not assigned)."""
    with uow.reader() as session:
        customer = session.get(Customer, customer_id)
        if customer is None or customer.lifecycle_status in GONE:
            raise NotFound(f"no customer {customer_id} known here")
        open_calls = select(Call).where(Call.customer_id == customer_id, Call.status == "scheduled")
        if caller.role == "agent":
            open_calls = open_calls.where(
                or_(Call.agent_id.is_(None), Call.agent_id == caller.subject)
            )
        return {
            "customer": customer,
            "gaps": list(customer.gaps or []),
            "open_calls": list(
                session.scalars(open_calls.order_by(Call.due_at, Call.id).limit(OPEN_SHOWN))
            ),
            "consents": list(
                session.scalars(
                    select(Consent)
                    .where(Consent.customer_id == customer_id)
                    .order_by(Consent.channel, Consent.purpose)
                )
            ),
            "last_calls": list(
                session.scalars(
                    select(Call)
                    .where(Call.customer_id == customer_id, Call.status == "completed")
                    .order_by(Call.completed_at.desc())
                    .limit(context.LAST_OUTCOMES)
                )
            ),
            "open_followups": context.open_followups(session, customer_id),
        }
