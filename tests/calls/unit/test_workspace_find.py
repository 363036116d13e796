"""Finding a customer from the workspace (GET /api/v1/customers/search and the search
page): the customer service's semantics over the calls projection, fed by events."""
import pytest

from datetime import datetime, timezone

from tests.calls.helpers import deliver
from tests.conftest import make_token

AGENT = {"Authorization": f"Bearer {make_token('agent', 'ann')}"}


def register(app, customer_id, name, phone=None, **extra):
    deliver(app, "customer.registered", customer_id=customer_id, name=name, phone=phone,
            segment="smb", registered_at=datetime.now(timezone.utc), **extra)


@pytest.fixture
def people(app):
    register(app, "c1", "CHÂN Tài Man", "+852 9123 4567", email="Chan.Tai@Example.HK")
    register(app, "c2", "Chan Siu Ming", "2345 6789")
    register(app, "c3", "Wong Mei Ling", "+44 20 7946 0958")
    register(app, "c4", "Tài Chan Holdings Ltd")


def _found(client, q, **args):
    r = client.get("/api/v1/customers/search", headers=AGENT, query_string={"q": q, **args})
    assert r.status_code == 200, r.json
    return [c["customer_id"] for c in r.json["items"]], r.json["next_cursor"]


def test_a_partial_name_finds_regardless_of_accents_case_and_word_order(people, client):
    assert _found(client, "chan tai")[0] == ["c1", "c4"]
    assert _found(client, "TÀI")[0] == ["c1", "c4"]
    assert _found(client, "man tà")[0] == ["c1"]
    assert _found(client, "wong")[0] == ["c3"]
    assert _found(client, "mei ling wong")[0] == ["c3"]
    assert _found(client, "ch")[0] == ["c1", "c2", "c4"]
    assert _found(client, "chan mei")[0] == []  # every word must begin a word of the name
    assert _found(client, "an")[0] == []  # a word prefix, not any substring


def test_a_phone_in_any_format_finds_its_customer(people, client):
    for q in ("91234567", "+85291234567", "9123-4567", "(852) 9123 4567", "+852 9123 4567"):
        assert _found(client, q)[0] == ["c1"], q
    assert _found(client, "2345 6789")[0] == ["c2"]
    assert _found(client, "+442079460958")[0] == ["c3"]
    assert _found(client, "9999 9999")[0] == []


def test_an_email_finds_its_customer_in_any_case(people, client):
    assert _found(client, "chan.tai@example.hk")[0] == ["c1"]
    assert _found(client, "CHAN.TAI@EXAMPLE.HK")[0] == ["c1"]
    assert _found(client, "nobody@example.hk")[0] == []


def test_the_results_come_in_pages_without_repeats_or_gaps(people, client):
    first, cursor = _found(client, "ch", limit=2)
    assert first == ["c1", "c2"] and cursor
    second, end = _found(client, "ch", limit=2, cursor=cursor)
    assert second == ["c4"] and end is None


def test_a_renamed_customer_is_found_by_the_new_name_only(people, app, client):
    deliver(app, "customer.updated", customer_id="c3", segment="smb", name="Lee Ka Yan",
            changes={"name": {"old": "Wong Mei Ling", "new": "Lee Ka Yan"}})
    assert _found(client, "lee ka")[0] == ["c3"]
    assert _found(client, "wong")[0] == []


def test_bad_search_input_is_refused_with_the_field_named(people, client):
    for args in ({}, {"q": ""}, {"q": "x" * 201}, {"q": "chan", "limit": 0},
                 {"q": "chan", "cursor": "nonsense"}):
        r = client.get("/api/v1/customers/search", headers=AGENT, query_string=args)
        assert r.status_code == 422 and r.mimetype == "application/problem+json", args
    partner = {"Authorization": f"Bearer {make_token('partner', 'p1', 'acme')}"}
    assert client.get("/api/v1/customers/search", headers=partner,
                      query_string={"q": "chan"}).status_code == 403
