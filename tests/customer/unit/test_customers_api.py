"""The customer API through Flask's test client on a migrated SQLite database."""

import pytest
from sqlalchemy import func, select

from services.customer import config
from services.customer.app import create_app
from services.customer.profiles.tables import Customer
from services.customer.tables import Outbox
from shared.web.app import ServiceContext
from tests.conftest import auth


@pytest.fixture
def app(service_app, sqlite_url):
    return service_app(create_app, config.MIGRATIONS, sqlite_url)


@pytest.fixture
def client(app):
    return app.test_client()


def counts(app) -> tuple[int, int]:
    ctx: ServiceContext = app.extensions["rapport"]
    with ctx.db.reader() as s:
        return (
            s.scalar(select(func.count()).select_from(Customer)),
            s.scalar(select(func.count()).select_from(Outbox)),
        )


def test_register_normalises_phone_and_writes_event_in_same_transaction(app, client):
    r = client.post(
        "/api/v1/customers",
        headers=auth(),
        json={"name": "Chan Tai Man", "phone": "9123 4567", "segment": "smb"},
    )
    assert r.status_code == 201
    assert r.json["phone"] == "+85291234567"
    assert r.headers["Location"].endswith(r.json["id"])
    assert counts(app) == (1, 1)
    got = client.get(r.headers["Location"], headers=auth("analyst"))
    assert got.json["name"] == "Chan Tai Man" and got.headers["ETag"] == 'W/"1"'


@pytest.mark.parametrize(
    "body, field",
    [
        ({"phone": "91234567", "segment": "smb"}, "name"),
        ({"name": "A", "phone": "12", "segment": "smb"}, "phone"),
        ({"name": "A", "phone": "91234567", "segment": "SMB!"}, "segment"),
        ({"name": "A", "phone": "91234567", "segment": "smb", "extra": 1}, "extra"),
        ({"name": 5, "phone": "91234567", "segment": "smb"}, "name"),
    ],
)
def test_invalid_input_is_a_problem_with_field_detail_and_writes_nothing(app, client, body, field):
    r = client.post("/api/v1/customers", headers=auth(), json=body)
    assert r.status_code == 422
    assert r.content_type == "application/problem+json"
    assert field in r.json["errors"]
    assert counts(app) == (0, 0)


def test_malformed_json_is_400(app, client):
    r = client.post(
        "/api/v1/customers",
        headers={**auth(), "Content-Type": "application/json"},
        data='{"name": ',
    )
    assert r.status_code == 400 and r.content_type == "application/problem+json"
    assert counts(app) == (0, 0)


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer nonsense"}, {"Authorization": "Basic Zm9vOmJhcg=="}]
)
def test_missing_or_forged_token_is_401(app, client, headers):
    r = client.post(
        "/api/v1/customers",
        headers=headers,
        json={"name": "A", "phone": "91234567", "segment": "smb"},
    )
    assert r.status_code == 401 and r.content_type == "application/problem+json"
    assert counts(app) == (0, 0)


def test_token_signed_with_another_secret_is_refused(client):
    from shared.auth import issue_token

    forged = issue_token("not-the-secret", "mallory", "admin")
    r = client.get("/api/v1/customers", headers={"Authorization": f"Bearer {forged}"})
    assert r.status_code == 401


def test_partner_cannot_reach_customer_api(client):
    r = client.get("/api/v1/customers", headers=auth("partner", partner_id="p1"))
    assert r.status_code == 403 and r.content_type == "application/problem+json"


def test_list_is_cursor_paginated(client):
    for i in range(5):
        client.post(
            "/api/v1/customers",
            headers=auth(),
            json={"name": f"C{i}", "phone": f"9123456{i}", "segment": "smb"},
        )
    seen, cursor = [], None
    while True:
        r = client.get(
            "/api/v1/customers",
            headers=auth(),
            query_string={"limit": 2, **({"cursor": cursor} if cursor else {})},
        )
        seen += [c["name"] for c in r.json["items"]]
        cursor = r.json["next_cursor"]
        if not cursor:
            break
    assert seen == [f"C{i}" for i in range(5)]
    bad = client.get("/api/v1/customers", headers=auth(), query_string={"cursor": "%%%"})
    assert bad.status_code == 422


def test_health_and_metrics_need_no_token(client):
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").json["database"] == "ok"
    body = client.get("/metrics").data.decode()
    from prometheus_client.parser import text_string_to_metric_families

    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(body)
        for s in family.samples
    }
    assert (
        samples[
            (
                "rapport_http_requests_total",
                (
                    ("endpoint", "/healthz"),
                    ("method", "GET"),
                    ("service", "customer"),
                    ("status", "200"),
                ),
            )
        ]
        == 1
    )
    assert samples[("rapport_outbox_pending_events", (("service", "customer"),))] == 0


def test_a_forged_cursor_is_a_422_not_a_500(client):
    from shared.web.pagination import encode_cursor

    for cursor in (encode_cursor("yesterday", "x"), encode_cursor("2026-01-01T00:00:00", 5)):
        r = client.get("/api/v1/customers", headers=auth(), query_string={"cursor": cursor})
        assert r.status_code == 422 and "cursor" in r.json["errors"]


def test_a_caller_without_the_role_gets_403_whatever_the_body(client):
    r = client.post("/api/v1/customers", headers=auth("analyst"), json={"name": 5})
    assert r.status_code == 403


def test_an_external_reference_another_customer_has_is_409_on_update_and_changes_nothing(
    app, client
):
    def register(name, phone, ref):
        r = client.post(
            "/api/v1/customers",
            json={"name": name, "phone": phone, "segment": "smb", "external_ref": ref},
            headers=auth(),
        )
        assert r.status_code == 201, r.json
        return r.json

    first, second = (
        register("Chan Tai Man", "9123 4567", "ERP-1"),
        register("Wong", "5123 4567", None),
    )
    before = counts(app)
    r = client.patch(
        f"/api/v1/customers/{second['id']}", json={"external_ref": "ERP-1"}, headers=auth()
    )
    assert (r.status_code, r.mimetype) == (409, "application/problem+json")
    assert "ERP-1" in r.json["detail"]
    assert counts(app) == before
    assert (
        client.get(f"/api/v1/customers/{second['id']}", headers=auth()).json["external_ref"] is None
    )
    # Its own reference, sent again, is no conflict; a new one is taken.
    for ref in ("ERP-1", "ERP-2"):
        who = first if ref == "ERP-1" else second
        r = client.patch(
            f"/api/v1/customers/{who['id']}", json={"external_ref": ref}, headers=auth()
        )
        assert r.status_code == 200 and r.json["external_ref"] == ref
