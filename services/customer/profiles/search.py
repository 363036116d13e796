"""Customer search: what one search box finds (a phone in any format, an e-mail, an
external reference, else a name) and in which order, for ``GET /customers?q=``.

A name is matched on the stored ``name_key`` (``shared.search_keys.name_key``: NFKD, case
folded, combining marks stripped, tokens sorted), so "chan tai" finds "CHÂN Tài Man":
every word of the query must begin a word of the name, in any order. That is a
``LIKE '% word%'`` per word over the key: a scan of the live customers, not an
index seek (its cost at 100,000 customers is in docs/benchmarks.md); an exact key
or a key starting with the first word is ranked first. A phone, an e-mail and an
external reference are exact look-ups through their indexes; when ``q`` is one of
them, the customers it names are the whole answer (no name scan).
"""

from __future__ import annotations

from sqlalchemy import and_, case, literal, select

from services.customer.profiles.tables import ContactPoint, Customer
from shared.search_keys import as_phone, name_key, tokens


def exact_ids(session, q: str) -> list[str]:
    """Customers whose external reference, phone or e-mail is ``q`` (index look-ups)."""
    ids = list(session.scalars(select(Customer.id).where(Customer.external_ref == q)))
    points = [("phone", as_phone(q))] + ([("email", q.casefold())] if "@" in q else [])
    for kind, value in points:
        if value:
            ids += session.scalars(
                select(ContactPoint.customer_id).where(
                    ContactPoint.kind == kind, ContactPoint.value == value
                )
            )
    return ids


def match(session, q: str):
    """The WHERE clause and the relevance rank (0 is best) for the search ``q``: the
    customers it identifies exactly if there are any (so an identifier costs an index
    look-up, not a scan), else those whose name has every word of ``q``."""
    q = q.strip()
    ids = exact_ids(session, q)
    words = tokens(q)
    if ids or not words:
        return Customer.id.in_(ids), literal(0)
    padded = literal(" ").concat(Customer.name_key)
    where = and_(*(padded.contains(" " + w, autoescape=True) for w in words))
    rank = case(
        (Customer.name_key == name_key(q), 1),
        (Customer.name_key.startswith(words[0], autoescape=True), 2),
        else_=3,
    )
    return where, rank
