"""Bearer tokens: signed, with a role, a partner id only for partners, and an
expiry checked on every use even though a verified token is remembered."""

import time
from datetime import timedelta

import jwt
import pytest

from shared.auth import Authenticator, TokenError, issue_token, verify_token

SECRET = "s" * 64


def test_a_token_carries_its_principal():
    principal = verify_token(SECRET, issue_token(SECRET, "p1", "partner", "acme"))
    assert (principal.subject, principal.role, principal.partner_id) == ("p1", "partner", "acme")


def test_a_remembered_token_still_expires():
    token = issue_token(SECRET, "alice", "agent", ttl=timedelta(seconds=1))
    assert verify_token(SECRET, token).subject == "alice"
    time.sleep(1.1)
    with pytest.raises(TokenError, match="expired"):
        verify_token(SECRET, token)


def test_another_secret_or_a_tampered_token_is_refused():
    token = issue_token(SECRET, "alice", "agent")
    verify_token(SECRET, token)
    with pytest.raises(TokenError):
        verify_token("t" * 64, token)
    with pytest.raises(TokenError):
        verify_token(SECRET, token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1])


@pytest.mark.parametrize("role, partner", [("partner", None), ("agent", "acme"), ("root", None)])
def test_roles_and_partner_ids_must_agree(role, partner):
    with pytest.raises(TokenError):
        issue_token(SECRET, "x", role, partner)


def test_a_token_read_before_is_still_checked_by_each_authenticator():
    # The header's algorithm is read once per token; the signature, the expiry and
    # the token's form are still checked on every use.
    token = issue_token(SECRET, "alice", "agent")
    assert Authenticator(SECRET).verify(token).subject == "alice"
    for _ in range(2):
        with pytest.raises(TokenError):
            Authenticator("t" * 64).verify(token)
        with pytest.raises(TokenError):
            Authenticator(SECRET).verify("not.a-token")
    unsigned = jwt.encode({"sub": "eve", "role": "admin"}, key=None, algorithm="none")
    for _ in range(2):
        with pytest.raises(TokenError, match="not accepted"):
            Authenticator(SECRET).verify(unsigned)
