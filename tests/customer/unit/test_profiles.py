"""Profiles: the permanent record, optimistic concurrency, as-of reads, duplicates
on registration, and what a bad request leaves behind (nothing)."""

import json
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from services.customer import config
from services.customer.app import create_app
from services.customer.profiles.tables import Customer, CustomerVersion
from services.customer.tables import Outbox
from tests.conftest import auth

ADDRESS = {
    "line1": "Flat 3A, 12 Nathan Road",
    "district": "Tsim Sha Tsui",
    "city": "Hong Kong",
    "country": "HK",
}


@pytest.fixture
def app(service_app, sqlite_url):
    return service_app(create_app, config.MIGRATIONS, sqlite_url)


@pytest.fixture
def client(app):
    return app.test_client()


def count(app, model) -> int:
    with app.extensions["rapport"].db.reader() as s:
        return s.scalar(select(func.count()).select_from(model))


def events(app) -> list[str]:
    with app.extensions["rapport"].db.reader() as s:
        return list(s.scalars(select(Outbox.event_type).order_by(Outbox.id)))


def register(client, **fields):
    body = {"name": "Chan Tai Man", "phone": "9123 4567", "segment": "smb", **fields}
    if "phones" in fields:
        del body["phone"]
    r = client.post("/api/v1/customers", json=body, headers=auth())
    assert r.status_code == 201, r.json
    return r.json


def test_a_full_profile_is_normalised_and_complete(client):
    customer = register(
        client,
        kind="company",
        name="Wing On Trading Ltd",
        phones=[{"number": "+852 9123 4567"}, {"number": "2345 6789"}],
        emails=[{"address": "Sales@WingOn.example.COM", "do_not_contact": True}],
        address=ADDRESS,
        preferred_language="zh-HK",
        owner_team="kowloon",
        external_ref="ERP-1",
        tags=["wholesale"],
    )
    assert [p["value"] for p in customer["contact_points"]] == [
        "sales@wingon.example.com",
        "+85223456789",
        "+85291234567",
    ]
    assert customer["email"] == "sales@wingon.example.com"
    assert customer["contact_points"][0]["do_not_contact"] is True
    assert customer["completeness"] == {"score": 1.0, "missing": []}
    assert customer["relationship_score"] is None and customer["lifetime_revenue"] == "0"


def test_every_change_is_a_version_and_as_of_returns_the_old_values(client, app):
    customer = register(client)
    url = f"/api/v1/customers/{customer['id']}"
    time.sleep(0.01)
    between = datetime.now(UTC)
    time.sleep(0.01)
    r = client.patch(
        url,
        json={"segment": "enterprise", "reason": "grew"},
        headers={**auth(), "If-Match": 'W/"1"'},
    )
    assert r.status_code == 200 and r.headers["ETag"] == 'W/"2"'
    old = client.get(url, query_string={"as_of": between.isoformat()}, headers=auth())
    assert old.status_code == 200
    assert (old.json["segment"], old.json["version"]) == ("smb", 1)
    assert client.get(url, headers=auth()).json["segment"] == "enterprise"
    history = client.get(f"{url}/history", headers=auth()).json["items"]
    assert [v["version"] for v in history] == [2, 1]
    assert history[0]["changes"] == {"segment": {"old": "smb", "new": "enterprise"}}
    assert (history[0]["actor"], history[0]["source"], history[0]["reason"]) == (
        "tester",
        "api",
        "grew",
    )
    assert events(app) == ["customer.registered", "customer.updated"]


def test_a_stale_if_match_is_412_and_changes_nothing(client, app):
    customer = register(client)
    url = f"/api/v1/customers/{customer['id']}"
    assert client.patch(url, json={"owner_team": "a"}, headers=auth()).status_code == 200
    before = (count(app, CustomerVersion), count(app, Outbox))
    r = client.patch(url, json={"owner_team": "b"}, headers={**auth(), "If-Match": 'W/"1"'})
    assert r.status_code == 412 and r.content_type == "application/problem+json"
    assert client.get(url, headers=auth()).json["owner_team"] == "a"
    assert (count(app, CustomerVersion), count(app, Outbox)) == before


def test_as_of_before_the_customer_existed_is_404(client):
    customer = register(client)
    r = client.get(
        f"/api/v1/customers/{customer['id']}",
        query_string={"as_of": "2001-01-01T00:00:00+00:00"},
        headers=auth(),
    )
    assert r.status_code == 404


def test_archive_instead_of_delete(client):
    customer = register(client)
    url = f"/api/v1/customers/{customer['id']}"
    assert client.delete(url, headers=auth()).status_code == 405
    r = client.patch(
        url, json={"lifecycle_status": "archived", "reason": "left HK"}, headers=auth()
    )
    assert r.json["lifecycle_status"] == "archived"
    assert client.get(url, headers=auth()).status_code == 200


def test_an_unchanged_patch_writes_no_version(client, app):
    customer = register(client)
    r = client.patch(f"/api/v1/customers/{customer['id']}", json={"segment": "smb"}, headers=auth())
    assert r.json["version"] == 1 and count(app, CustomerVersion) == 1


def test_same_phone_is_a_duplicate_unless_confirmed(client, app):
    first = register(client)
    r = client.post(
        "/api/v1/customers",
        headers=auth(),
        json={"name": "Someone Else", "phone": "+85291234567", "segment": "smb"},
    )
    assert r.status_code == 409 and r.content_type == "application/problem+json"
    assert r.json["candidates"][0]["customer_id"] == first["id"]
    assert r.json["candidates"][0]["score"] == 1.0
    assert count(app, Customer) == 1
    register(client, name="Someone Else", phone="+85291234567", confirm_duplicate=True)
    assert count(app, Customer) == 2


def test_similar_name_and_address_is_a_fuzzy_duplicate(client):
    first = register(client, name="Chan Tai-man", address=ADDRESS)
    r = client.post(
        "/api/v1/customers",
        headers=auth(),
        json={
            "name": "CHAN Tai Man",
            "phone": "9876 5432",
            "segment": "smb",
            "address": {**ADDRESS, "line1": "Flat 3A 12 Nathan Rd"},
        },
    )
    assert r.status_code == 409
    candidate = r.json["candidates"][0]
    assert candidate["customer_id"] == first["id"] and 0.85 <= candidate["score"] < 1


def test_a_common_name_alone_is_not_a_duplicate(client):
    register(client)
    register(client, phone="9876 5432")


@pytest.mark.parametrize(
    "body, field",
    [
        ({"segment": "no-such-segment"}, "segment"),
        ({"email": "not-an-email", "phone": None}, "email"),
        ({"phone": "12345"}, "phone"),
        ({"name": "x" * 201}, "name"),
        ({"address": {"line1": "y" * 5000}}, "address"),
        ({"date_of_birth": "31/12/1990"}, "date_of_birth"),
        ({"phones": [{"number": "+85291234567"}]}, "phone"),
        ({"tags": ["ok"] * 51}, "tags"),
    ],
)
def test_bad_input_is_a_problem_and_writes_nothing(client, app, body, field):
    payload = {"name": "Chan Tai Man", "phone": "9123 4567", "segment": "smb", **body}
    payload = {k: v for k, v in payload.items() if v is not None}
    r = client.post("/api/v1/customers", json=payload, headers=auth())
    assert r.status_code == 422 and r.content_type == "application/problem+json", r.json
    assert field in r.json["errors"]
    assert (count(app, Customer), count(app, Outbox), count(app, CustomerVersion)) == (0, 0, 0)


def test_injection_strings_are_kept_as_data(client):
    name = "Robert'); DROP TABLE customers;-- <script>alert(1)</script>"
    customer = register(client, name=name)
    got = client.get(f"/api/v1/customers/{customer['id']}", headers=auth()).json
    assert got["name"] == name
    listed = client.get("/api/v1/customers", headers=auth()).json["items"]
    assert len(listed) == 1


def test_a_malformed_if_match_is_refused(client):
    customer = register(client)
    r = client.patch(
        f"/api/v1/customers/{customer['id']}",
        json={"owner_team": "a"},
        headers={**auth(), "If-Match": "yesterday"},
    )
    assert r.status_code == 422


def test_segments_are_managed_and_drive_completeness(client):
    r = client.post(
        "/api/v1/segments",
        headers=auth(),
        json={
            "code": "insurance",
            "name": "Insurance clients",
            "required_fields": ["phone", "email", "address"],
        },
    )
    assert r.status_code == 201
    customer = register(client, segment="insurance")
    assert customer["completeness"] == {"score": 0.333, "missing": ["email", "address"]}
    assert (
        client.post(
            "/api/v1/segments", headers=auth(), json={"code": "insurance", "name": "again"}
        ).status_code
        == 409
    )
    assert (
        client.post(
            "/api/v1/segments", headers=auth("agent"), json={"code": "other", "name": "x"}
        ).status_code
        == 403
    )


def test_the_external_reference_travels_on_registered_and_updated(client, app):
    """The calls service's workspace search finds a customer by it (from these events)."""
    customer = register(client, external_ref="ERP-7")
    url = f"/api/v1/customers/{customer['id']}"
    assert client.patch(url, json={"external_ref": "ERP-8"}, headers=auth()).status_code == 200
    assert client.patch(url, json={"owner_team": "a"}, headers=auth()).status_code == 200
    with app.extensions["rapport"].db.reader() as s:
        bodies = [json.loads(b) for b in s.scalars(select(Outbox.body).order_by(Outbox.id))]
    assert [(b["event_type"], b["payload"]["external_ref"]) for b in bodies] == [
        ("customer.registered", "ERP-7"),
        ("customer.updated", "ERP-8"),
        ("customer.updated", "ERP-8"),
    ]
    assert bodies[1]["payload"]["changes"]["external_ref"] == {"old": "ERP-7", "new": "ERP-8"}
