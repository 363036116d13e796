"""Customer search: what one search box finds (a phone in any format, an e-mail, an
external reference, else a name) and in which order, for ``GET /customers?q=``.

A name is matched on the stored ``name_key`` (``matching.name_key``: NFKD, case
folded, combining marks stripped, tokens sorted), so "chan tai" finds "CHÂN Tài Man":
every word of the query must begin a word of the name, in any order. That is a
``LIKE '% word%'`` per word over the key: a scan of the live customers, not an
index seek (its cost at 100,000 customers is in docs/benchmarks.md); an exact key
or a key starting with the first word is ranked first. A phone, an e-mail and an
external reference are exact look-ups through their indexes and ranked first.
"""
from __future__ import annotations

import re

import phonenumbers
from sqlalchemy import and_, case, literal, or_, select

from services.customer.matching import name_key, tokens
from services.customer.models import ContactPoint, Customer

_PHONE_LIKE = re.compile(r"^\+?[\d\s().\-/]{6,40}$")


def as_phone(q: str, region: str = "HK") -> str | None:
    """The E.164 form of ``q`` if it reads as a valid phone number, else None."""
    if not _PHONE_LIKE.match(q) or sum(c.isdigit() for c in q) < 6:
        return None
    try:
        number = phonenumbers.parse(q, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _points(kind: str, value: str):
    return Customer.id.in_(select(ContactPoint.customer_id).where(
        ContactPoint.kind == kind, ContactPoint.value == value))


def match(q: str):
    """The WHERE clause and the relevance rank (0 is best) for the search ``q``."""
    q = q.strip()
    exact = [Customer.external_ref == q]
    phone = as_phone(q)
    if phone:
        exact.append(_points("phone", phone))
    if "@" in q:
        exact.append(_points("email", q.casefold()))
    words = [] if len(exact) > 1 else tokens(q)  # a phone or an e-mail is not a name
    if words:
        padded = literal(" ").concat(Customer.name_key)
        named = [padded.contains(" " + w, autoescape=True) for w in words]
        by_name = and_(*named)
        rank = case((or_(*exact), 0), (Customer.name_key == name_key(q), 1),
                    (Customer.name_key.startswith(words[0], autoescape=True), 2), else_=3)
        return or_(*exact, by_name), rank
    return or_(*exact), literal(0)
