"""The e-mail field's shortcut for plain addresses answers exactly as
``validate_email`` does, for every address it takes, and leaves the rest to it."""

from __future__ import annotations

import itertools

import pytest
from email_validator import EmailNotValidError, validate_email
from marshmallow import ValidationError

from shared.web import fields
from shared.web.fields import Email

LOCALS = [
    "a",
    "A.B",
    "john.SMITH+tag",
    "a..b",
    ".a",
    "a.",
    '"quoted"',
    '"a b"',
    "ü",
    "Postmaster",
    "x" * 64,
    "x" * 65,
    "a b",
    "<a",
    "a@b",
    "",
    "Name <a",
    "o'neil",
    "{weird}~",
    "a\tb",
    "tab\t",
    "=?utf-8?q?x?=",
]
DOMAINS = [
    "example.com",
    "EXAMPLE.COM",
    "bücher.ch",
    "xn--bcher-kva.ch",
    "localhost",
    "test",
    "a.b",
    "-a.com",
    "a-.com",
    "[1.2.3.4]",
    "com",
    "x" * 63 + ".com",
    "x" * 64 + ".com",
    "a..com",
    "example.com.",
    "xn--zz.com",
    ".com",
    "sub.example.co.uk",
    "example.invalid",
    "1.2.3.4",
    "example.com ",
    "exa mple.com",
    "",
    "ex_ample.com",
    "example.local",
    ("d" * 60 + ".") * 3 + "com",
]


def reference(text: str):
    if len(text) > 254:
        return "too long"
    try:
        return validate_email(text, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return "invalid"


def field(text: str):
    try:
        return Email().deserialize(text)
    except ValidationError as exc:
        return "too long" if "too long" in str(exc.messages) and len(text) > 254 else "invalid"


ADDRESSES = [f"{local}@{domain}" for local, domain in itertools.product(LOCALS, DOMAINS)]
ADDRESSES += [
    "no-at-sign",
    "@",
    "a@",
    "@b.com",
    "a@b@c.com",
    "x" * 64 + "@" + "d" * 185 + ".com",
    "x" * 64 + "@" + "d" * 186 + ".com",
    "Name <a@example.com>",
    " a@example.com",
]


def test_every_address_gets_validate_emails_answer():
    assert len(ADDRESSES) > 500
    assert [(text, field(text)) for text in ADDRESSES if field(text) != reference(text)] == []


def test_a_plain_address_skips_validate_email_once_its_domain_is_known():
    fields._ascii_domain.cache_clear()
    assert fields._plain_address("A.B@Example.COM") == "a.b@example.com"
    assert fields._plain_address("c.d@example.com") == "c.d@example.com"
    info = fields._ascii_domain.cache_info()
    assert (info.misses, info.hits) == (2, 0)  # the domain as written: each its own
    assert fields._plain_address("e@Example.COM") == "e@example.com"
    assert fields._ascii_domain.cache_info().hits == 1


@pytest.mark.parametrize(
    "text",
    [
        '"quoted"@example.com',
        "ü@example.com",
        "a@bücher.ch",
        "a@xn--bcher-kva.ch",
        "a@localhost",
        "a..b@example.com",
    ],
)
def test_anything_unusual_goes_to_validate_email(text):
    assert fields._plain_address(text) is None
