"""Consent (PDPO): withdrawals and do-not-call requests announce an opt-out in the
same transaction. Merge: one survivor, both histories and timelines kept."""

import json
from datetime import UTC

import pytest
from sqlalchemy import select

from services.customer import config
from services.customer.app import create_app
from services.customer.tables import Outbox
from tests.conftest import auth


@pytest.fixture
def app(service_app, sqlite_url):
    return service_app(create_app, config.MIGRATIONS, sqlite_url)


@pytest.fixture
def client(app):
    return app.test_client()


def outbox(app, event_type=None) -> list[dict]:
    with app.extensions["rapport"].db.reader() as s:
        rows = s.scalars(select(Outbox).order_by(Outbox.id))
        return [
            {"type": r.event_type, **json.loads(r.body)["payload"]}
            for r in rows
            if event_type in (None, r.event_type)
        ]


def register(client, name="Chan Tai Man", phone="9123 4567", **fields):
    r = client.post(
        "/api/v1/customers",
        headers=auth(),
        json={"name": name, "phone": phone, "segment": "smb", **fields},
    )
    assert r.status_code == 201, r.json
    return r.json


def consent(client, customer_id, status, channel="phone", purpose="insurance"):
    return client.post(
        f"/api/v1/customers/{customer_id}/consents",
        headers=auth("agent"),
        json={
            "channel": channel,
            "purpose": purpose,
            "status": status,
            "source": "call",
            "notice_version": "2026-01",
        },
    )


def test_a_withdrawal_publishes_consent_changed_and_opted_out(client, app):
    customer = register(client)
    assert consent(client, customer["id"], "granted").status_code == 201
    assert consent(client, customer["id"], "withdrawn").status_code == 201
    changed = outbox(app, "customer.consent_changed")
    assert [c["status"] for c in changed] == ["granted", "withdrawn"]
    [opt_out] = outbox(app, "customer.opted_out")
    assert (opt_out["customer_id"], opt_out["channel"], opt_out["purpose"], opt_out["reason"]) == (
        customer["id"],
        "phone",
        "insurance",
        "consent_withdrawn",
    )
    view = client.get(f"/api/v1/customers/{customer['id']}/consents", headers=auth()).json
    assert [(c["channel"], c["purpose"], c["status"]) for c in view["current"]] == [
        ("phone", "insurance", "withdrawn")
    ]
    assert len(view["history"]) == 2


def test_bad_consent_is_refused_and_writes_nothing(client, app):
    customer = register(client)
    before = len(outbox(app))
    r = consent(client, customer["id"], "maybe", channel="pigeon")
    assert r.status_code == 422 and set(r.json["errors"]) == {"status", "channel"}
    assert len(outbox(app)) == before
    assert consent(client, "nobody", "granted").status_code == 404


def test_do_not_call_and_do_not_contact_opt_out_at_once(client, app):
    customer = register(client, email="tai.man@example.com")
    url = f"/api/v1/customers/{customer['id']}"
    client.patch(url, json={"do_not_call": True}, headers=auth())
    client.patch(
        url,
        json={"emails": [{"address": "tai.man@example.com", "do_not_contact": True}]},
        headers=auth(),
    )
    reasons = [
        (o["reason"], o["channel"], o["contact_point"]) for o in outbox(app, "customer.opted_out")
    ]
    assert reasons == [
        ("do_not_call", None, None),
        ("do_not_contact", "email", "tai.man@example.com"),
    ]
    assert client.get(url, headers=auth()).json["phone"] == "+85291234567"


def test_merge_keeps_both_histories_and_announces_it(client, app):
    keep = register(client, address={"line1": "1 Queen's Road"})
    other = register(
        client,
        name="Chan Tai-man",
        phone="6123 4567",
        email="tm@example.com",
        preferred_language="zh-HK",
    )
    consent(client, other["id"], "withdrawn")
    r = client.post(
        f"/api/v1/customers/{keep['id']}/merge",
        headers=auth(),
        json={"duplicate_id": other["id"], "reason": "same person"},
    )
    assert r.status_code == 200, r.json
    merged = r.json
    assert merged["preferred_language"] == "zh-HK" and merged["email"] == "tm@example.com"
    assert {p["value"] for p in merged["contact_points"]} == {
        "+85291234567",
        "+85261234567",
        "tm@example.com",
    }
    history = client.get(f"/api/v1/customers/{keep['id']}/history", headers=auth()).json["items"]
    assert {v["customer_id"] for v in history} == {keep["id"], other["id"]}
    gone = client.get(f"/api/v1/customers/{other['id']}", headers=auth()).json
    assert gone["merged_into"] == keep["id"]
    [event] = outbox(app, "customer.merged")
    assert (event["survivor_id"], event["merged_id"]) == (keep["id"], other["id"])
    current = client.get(f"/api/v1/customers/{keep['id']}/consents", headers=auth()).json
    assert current["current"][0]["status"] == "withdrawn"
    listed = client.get("/api/v1/customers", headers=auth()).json["items"]
    assert [c["id"] for c in listed] == [keep["id"]]


def test_a_merged_profile_cannot_be_changed_or_merged_again(client):
    keep, other = register(client), register(client, name="B", phone="6123 4567")
    client.post(
        f"/api/v1/customers/{keep['id']}/merge", headers=auth(), json={"duplicate_id": other["id"]}
    )
    r = client.patch(f"/api/v1/customers/{other['id']}", json={"name": "C"}, headers=auth())
    assert r.status_code == 409 and r.json["merged_into"] == keep["id"]
    r = client.post(
        f"/api/v1/customers/{keep['id']}/merge", headers=auth(), json={"duplicate_id": keep["id"]}
    )
    assert r.status_code == 409
    r = client.post(
        f"/api/v1/customers/{keep['id']}/merge",
        headers=auth("agent"),
        json={"duplicate_id": other["id"]},
    )
    assert r.status_code == 403


def test_subject_export_holds_every_record(client):
    customer = register(client)
    consent(client, customer["id"], "granted")
    client.patch(f"/api/v1/customers/{customer['id']}", json={"owner_team": "x"}, headers=auth())
    r = client.get(f"/api/v1/customers/{customer['id']}/export", headers=auth())
    assert r.status_code == 200
    assert r.json["profile"]["owner_team"] == "x"
    assert len(r.json["history"]) == 2 and len(r.json["consents"]) == 1


def test_duplicates_over_the_base_are_listed_best_first_and_paged(client):
    a = register(client, name="Chan Tai Man", address={"line1": "Flat 3A, 12 Nathan Road"})
    b = register(
        client,
        name="CHAN Tai-man",
        phone="6123 4567",
        address={"line1": "Flat 3A 12 Nathan Rd"},
        confirm_duplicate=True,
    )
    c = register(client, name="Wong Siu Ming", phone="5123 4567", email="w@example.com")
    d = register(
        client, name="Lee Ka Yan", phone="5123 4568", email="w@example.com", confirm_duplicate=True
    )
    register(client, name="Ho Wing", phone="5123 4569")
    r = client.get("/api/v1/duplicates", headers=auth(), query_string={"limit": 1})
    assert r.status_code == 200
    first = r.json
    assert first["items"][0]["score"] == 1.0 and first["next_cursor"]
    assert {first["items"][0]["customer_id"], first["items"][0]["other_id"]} == {c["id"], d["id"]}
    second = client.get(
        "/api/v1/duplicates",
        headers=auth(),
        query_string={"limit": 1, "cursor": first["next_cursor"]},
    ).json
    assert {second["items"][0]["customer_id"], second["items"][0]["other_id"]} == {a["id"], b["id"]}
    assert second["next_cursor"] is None and first["comparisons"] > 0
    assert client.get("/api/v1/duplicates", headers=auth("agent")).status_code == 403


def test_erasure_removes_what_identifies_the_person_and_says_so(client, app):
    customer = register(
        client, email="tm@example.com", address={"line1": "1 Queen's Road"}, external_ref="ERP-9"
    )
    consent(client, customer["id"], "withdrawn")
    client.patch(f"/api/v1/customers/{customer['id']}", json={"owner_team": "x"}, headers=auth())
    r = client.post(
        f"/api/v1/customers/{customer['id']}/erasure",
        headers=auth(),
        json={"reason": "data subject request"},
    )
    assert r.status_code == 200, r.json
    erased = r.json
    assert (
        erased["name"],
        erased["contact_points"],
        erased["address"],
        erased["external_ref"],
    ) == ("[erased]", [], None, None)
    everything = json.dumps(
        client.get(f"/api/v1/customers/{customer['id']}/export", headers=auth()).json
    )
    for personal in ("Chan Tai Man", "91234567", "tm@example.com", "Queen", "ERP-9"):
        assert personal not in everything
    assert "withdrawn" in everything  # the proof that the opt-out was honoured stays
    [event] = outbox(app, "customer.erased")
    assert event["customer_id"] == customer["id"]
    assert (
        client.post(
            f"/api/v1/customers/{customer['id']}/erasure",
            headers=auth("agent"),
            json={"reason": "x"},
        ).status_code
        == 403
    )


def test_profiles_past_retention_are_erased(client, app):
    from datetime import datetime, timedelta

    from sqlalchemy import update

    from services.customer.privacy import erasure
    from services.customer.profiles.tables import Customer

    old, recent = register(client), register(client, name="Wong", phone="5123 4567")
    ctx = app.extensions["rapport"]
    with ctx.db.transaction() as s:
        s.execute(
            update(Customer)
            .where(Customer.id == old["id"])
            .values(updated_at=datetime.now(UTC) - timedelta(days=3000))
        )
    assert erasure.erase_expired(ctx.uow, retention_days=7 * 365) == 1
    assert client.get(f"/api/v1/customers/{old['id']}", headers=auth()).json["name"] == "[erased]"
    assert client.get(f"/api/v1/customers/{recent['id']}", headers=auth()).json["name"] == "Wong"
    assert erasure.erase_expired(ctx.uow, retention_days=7 * 365) == 0
