"""Finding a customer from the workspace (GET /api/v1/customers/search and the search
page): the customer service's semantics over the calls projection, fed by events."""

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from services.calls.calls.tables import Call
from services.calls.db import Outbox
from tests.calls.helpers import deliver
from tests.conftest import make_token

AGENT = {"Authorization": f"Bearer {make_token('agent', 'ann')}"}


def register(app, customer_id, name, phone=None, **extra):
    deliver(
        app,
        "customer.registered",
        customer_id=customer_id,
        name=name,
        phone=phone,
        segment="smb",
        registered_at=datetime.now(UTC),
        **extra,
    )


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


def test_an_external_reference_from_the_customer_events_finds_its_customer(people, app, client):
    register(app, "c5", "Lam Wai Kit", external_ref="ERP-00042")
    deliver(
        app,
        "customer.updated",
        customer_id="c2",
        segment="smb",
        external_ref="CHAN-7",
        changes={"external_ref": {"old": None, "new": "CHAN-7"}},
    )
    assert _found(client, "ERP-00042")[0] == ["c5"]
    assert _found(client, " ERP-00042 ")[0] == ["c5"]
    # Exactly: neither another case nor a prefix, and a reference no one has is a name.
    assert _found(client, "erp-00042")[0] == []
    assert _found(client, "ERP-0004")[0] == []
    # A reference that reads as a name word still finds its customer first and only.
    assert _found(client, "CHAN-7")[0] == ["c2"]
    assert _found(client, "chan")[0] == ["c1", "c2", "c4"]
    # An update that does not carry it (an older producer) leaves it as it was.
    deliver(
        app, "customer.updated", customer_id="c5", segment="smb", name="Lam Wai Kit", changes={}
    )
    assert _found(client, "ERP-00042")[0] == ["c5"]
    # A reference that moves away (a merge, a correction) stops finding the customer.
    deliver(
        app,
        "customer.updated",
        customer_id="c5",
        segment="smb",
        external_ref=None,
        changes={"external_ref": {"old": "ERP-00042", "new": None}},
    )
    assert _found(client, "ERP-00042")[0] == []
    r = client.get("/api/v1/customers/search", headers=AGENT, query_string={"q": "CHAN-7"})
    assert r.json["items"][0]["external_ref"] == "CHAN-7"


def test_the_results_come_in_pages_without_repeats_or_gaps(people, client):
    first, cursor = _found(client, "ch", limit=2)
    assert first == ["c1", "c2"] and cursor
    second, end = _found(client, "ch", limit=2, cursor=cursor)
    assert second == ["c4"] and end is None


def test_a_renamed_customer_is_found_by_the_new_name_only(people, app, client):
    deliver(
        app,
        "customer.updated",
        customer_id="c3",
        segment="smb",
        name="Lee Ka Yan",
        changes={"name": {"old": "Wong Mei Ling", "new": "Lee Ka Yan"}},
    )
    assert _found(client, "lee ka")[0] == ["c3"]
    assert _found(client, "wong")[0] == []


def test_bad_search_input_is_refused_with_the_field_named(people, client):
    for args in (
        {},
        {"q": ""},
        {"q": "x" * 201},
        {"q": "chan", "limit": 0},
        {"q": "chan", "cursor": "nonsense"},
    ):
        r = client.get("/api/v1/customers/search", headers=AGENT, query_string=args)
        assert r.status_code == 422 and r.mimetype == "application/problem+json", args
    partner = {"Authorization": f"Bearer {make_token('partner', 'p1', 'acme')}"}
    assert (
        client.get(
            "/api/v1/customers/search", headers=partner, query_string={"q": "chan"}
        ).status_code
        == 403
    )


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([0-9a-f]+)"', html).group(1)


@pytest.fixture
def signed_in(people, client):
    client.get("/workspace/", query_string={"token": make_token("agent", "ann")})
    return client


def test_the_search_page_lists_what_the_search_use_case_finds(signed_in):
    r = signed_in.get("/workspace/customers", query_string={"q": "chan TA"})
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "Find a customer" in html
    assert "/workspace/customers/c1" in html and "/workspace/customers/c4" in html
    assert "/workspace/customers/c2" not in html and "a customer reference" in html
    paged = signed_in.get("/workspace/customers", query_string={"q": "ch", "limit": 2})
    more = re.search(r'href="([^"]+cursor=[^"]+)">More customers', paged.get_data(as_text=True))
    rest = signed_in.get(more.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert "/workspace/customers/c4" in rest and "/workspace/customers/c1" not in rest
    none = signed_in.get("/workspace/customers", query_string={"q": "zzz"})
    assert "No customer known here matches" in none.get_data(as_text=True)


def test_the_search_page_refuses_a_bad_query_next_to_the_box(signed_in):
    r = signed_in.get("/workspace/customers", query_string={"q": ""})
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and 'id="q-error"' in html and 'aria-invalid="true"' in html
    assert signed_in.get("/workspace/customers").status_code == 200  # the empty form


def _logged(app, customer_id):
    with app.extensions["rapport"].db.reader() as s:
        calls = s.scalars(select(Call).where(Call.customer_id == customer_id)).all()
        sent = s.scalars(select(Outbox.event_type)).all()
        return [(c.kind, c.status, c.outcome, c.channel) for c in calls], sent.count(
            "call.completed"
        )


def test_logging_an_inbound_call_from_the_customer_page_records_it_like_any_outcome(signed_in, app):
    page = signed_in.get("/workspace/customers/c1")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "CHÂN Tài Man" in html and "Log a call" in html
    assert "chan.tai@example.hk" in html.lower() and 'name="direction"' in html
    r = signed_in.post(
        "/workspace/customers/c1",
        data={
            "csrf_token": _csrf(html),
            "direction": "inbound",
            "channel": "phone",
            "outcome": "reached",
            "satisfaction": "4",
            "propensity": "70",
            "notes": "asked about renewal",
        },
    )
    assert r.status_code == 303
    assert _logged(app, "c1") == ([("inbound", "completed", "reached", "phone")], 1)
    shown = signed_in.get(r.headers["Location"]).get_data(as_text=True)
    assert "Call logged." in shown and "asked about renewal" in shown


def test_a_refused_log_shows_why_next_to_the_fields_and_writes_nothing(signed_in, app):
    html = signed_in.get("/workspace/customers/c1").get_data(as_text=True)
    r = signed_in.post(
        "/workspace/customers/c1",
        data={
            "csrf_token": _csrf(html),
            "direction": "sideways",
            "channel": "pigeon",
            "outcome": "",
            "satisfaction": "9",
        },
    )
    page = r.get_data(as_text=True)
    assert r.status_code == 422 and "Nothing was saved" in page
    for field in ("direction", "channel", "outcome", "satisfaction"):
        assert f'id="{field}-error"' in page, field
    # outbound without consent: the use case's 409 reason, shown on the page
    r = signed_in.post(
        "/workspace/customers/c1",
        data={
            "csrf_token": _csrf(html),
            "direction": "outbound",
            "channel": "phone",
            "purpose": "insurance",
            "outcome": "reached",
            "satisfaction": "4",
            "propensity": "70",
        },
    )
    assert r.status_code == 409 and "no consent" in r.get_data(as_text=True)
    assert _logged(app, "c1") == ([], 0)


def test_a_log_without_the_csrf_field_is_refused_and_writes_nothing(signed_in, app):
    r = signed_in.post(
        "/workspace/customers/c1",
        data={"direction": "inbound", "channel": "phone", "outcome": "interested"},
    )
    assert r.status_code == 403 and "nothing was saved" in r.get_data(as_text=True).lower()
    assert _logged(app, "c1") == ([], 0)


def test_an_unknown_customer_page_is_a_404_page(signed_in):
    assert signed_in.get("/workspace/customers/nobody").status_code == 404
