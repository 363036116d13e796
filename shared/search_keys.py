"""The normalised keys a customer is found by, shared by every service that searches
customers (the customer service's ``GET /customers?q=`` and the calls service's
workspace search over its projection), so both find the same people for the same box.

A name key is NFKD, case folded, combining marks stripped, organisation noise words
dropped, tokens sorted ("CHÂN Tài Man" -> "chan man tai"); a phone key is E.164.
"""

from __future__ import annotations

import re
import unicodedata

import phonenumbers

# Words that say what kind of organisation it is, not which one.
NOISE = frozenset(
    {
        "ltd",
        "limited",
        "co",
        "company",
        "inc",
        "corp",
        "corporation",
        "llc",
        "hk",
        "the",
        "mr",
        "mrs",
        "ms",
        "dr",
    }
)
_NOT_WORD = re.compile(r"[^\w]+")
_PHONE_LIKE = re.compile(r"^\+?[\d\s().\-/]{6,40}$")


def tokens(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKD", text).casefold()
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    return [t for t in _NOT_WORD.split(folded) if t and t not in NOISE]


def name_key(name: str) -> str:
    return " ".join(sorted(tokens(name)))[:200]


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
