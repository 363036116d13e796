"""Data quality: each irregularity rule, the summary by rule and segment, fix-it
items resolved by a person or by the next scan once the finding is gone."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import update

from services.customer import config
from services.customer.app import create_app
from services.customer.profiles.tables import Customer
from tests.conftest import auth


@pytest.fixture
def app(service_app, sqlite_url):
    return service_app(create_app, config.MIGRATIONS, sqlite_url)


@pytest.fixture
def client(app):
    return app.test_client()


def register(client, name, phone, **fields):
    r = client.post(
        "/api/v1/customers",
        headers=auth(),
        json={"name": name, "phone": phone, "segment": "smb", "confirm_duplicate": True, **fields},
    )
    assert r.status_code == 201, r.json
    return r.json["id"]


def scan(client):
    r = client.post("/api/v1/data-quality/scan", headers=auth())
    assert r.status_code == 200, r.json
    return r.json


def items(client, **query):
    r = client.get("/api/v1/data-quality", headers=auth("analyst"), query_string=query)
    assert r.status_code == 200, r.json
    return r.json


def test_every_scanned_rule_finds_its_case(client, app):
    shared_a = register(client, "A One", "9123 4567")
    shared_b = register(client, "B Two", "9123 4567")
    bouncing = register(client, "C Three", "9123 4568", email="c@example.com")
    client.patch(
        f"/api/v1/customers/{bouncing}",
        headers=auth(),
        json={"emails": [{"address": "c@example.com", "status": "bouncing"}]},
    )
    stale = register(client, "D Four", "9123 4569")
    future = register(
        client, "E Five", "9123 4570", date_of_birth=str(date.today() + timedelta(days=30))
    )
    client.post(
        "/api/v1/segments",
        headers=auth(),
        json={"code": "insured", "name": "Insured", "required_fields": ["phone", "email"]},
    )
    incomplete = register(client, "F Six", "9123 4571", segment="insured")
    with app.extensions["rapport"].db.transaction() as s:
        s.execute(
            update(Customer)
            .where(Customer.id == stale)
            .values(updated_at=datetime.now(UTC) - timedelta(days=400))
        )
    assert scan(client)["raised"] == 5
    found = {(i["rule"], i["customer_id"]) for i in items(client)["items"]}
    assert found == {
        ("shared_phone", min(shared_a, shared_b)),
        ("invalid_contact", bouncing),
        ("stale_profile", stale),
        ("impossible_value", future),
        ("incomplete", incomplete),
    }
    summary = items(client)
    assert summary["open_items"] == 5 and summary["by_rule"]["shared_phone"] == 1
    assert {"rule": "incomplete", "segment": "insured", "open": 1} in summary["by_rule_and_segment"]
    assert scan(client)["raised"] == 0  # a rescan raises nothing twice


def test_items_are_resolved_by_a_person_or_by_the_scan(client):
    a = register(client, "A One", "9123 4567")
    register(client, "B Two", "9123 4567")
    scan(client)
    [item] = items(client, rule="shared_phone")["items"]
    r = client.post(
        f"/api/v1/data-quality/items/{item['id']}/resolve",
        headers=auth(),
        json={"resolution": "checked: a shared office line"},
    )
    assert r.status_code == 200 and r.json["status"] == "resolved"
    again = client.post(
        f"/api/v1/data-quality/items/{item['id']}/resolve",
        headers=auth(),
        json={"resolution": "again"},
    )
    assert again.status_code == 409
    assert items(client)["open_items"] == 0
    scan(client)  # the finding is still there: it comes back as a new item
    [item] = items(client, rule="shared_phone")["items"]
    assert (
        client.patch(
            f"/api/v1/customers/{a}", headers=auth(), json={"phone": "6123 4500"}
        ).status_code
        == 200
    )
    assert scan(client)["resolved"] == 1
    assert items(client)["open_items"] == 0
    assert len(items(client, status="resolved")["items"]) == 2


def test_resolving_needs_a_resolution_and_a_manager(client):
    register(client, "A One", "9123 4567")
    register(client, "B Two", "9123 4567")
    scan(client)
    [item] = items(client)["items"]
    url = f"/api/v1/data-quality/items/{item['id']}/resolve"
    assert client.post(url, headers=auth(), json={}).status_code == 422
    assert client.post(url, headers=auth("agent"), json={"resolution": "x"}).status_code == 403
    assert (
        client.post(
            "/api/v1/data-quality/items/nope/resolve", headers=auth(), json={"resolution": "x"}
        ).status_code
        == 404
    )
