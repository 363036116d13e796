"""The data-subject export across services, as the customer service runs it: a
request announces itself with the merged profiles' ids; contributions arriving in
parts complete it; the document is downloaded whole; a service that does not answer
in time is named; erasure drops what was sent; every bad request is a 4xx problem."""

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from services.customer import config
from services.customer.app import create_app
from services.customer.handlers import subscriptions
from services.customer.privacy.tables import ExportPart
from services.customer.tables import Inbox, Outbox
from shared.entrypoints import build_dispatcher
from shared.events import make_event
from tests.conftest import auth


@pytest.fixture
def app(service_app, sqlite_url):
    return service_app(create_app, config.MIGRATIONS, sqlite_url)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def dispatcher(app):
    ctx = app.extensions["rapport"]
    return build_dispatcher(ctx.settings, ctx.db, Outbox, Inbox, subscriptions(ctx.settings))


def register(client, name, phone):
    r = client.post(
        "/api/v1/customers", headers=auth(), json={"name": name, "phone": phone, "segment": "smb"}
    )
    assert r.status_code == 201, r.json
    return r.json["id"]


def start(client, customer_id, role="manager", **headers):
    return client.post(
        f"/api/v1/customers/{customer_id}/exports", headers={**auth(role), **headers}
    )


def requests_sent(app) -> list[dict]:
    with app.extensions["rapport"].db.reader() as s:
        return [
            json.loads(r.body)["payload"]
            for r in s.scalars(
                select(Outbox).where(Outbox.event_type == "subject.export_requested")
            )
        ]


def contributed(job, service, sections, part=1, parts=1):
    return make_event(
        "subject.export_contributed",
        {
            "export_id": job["id"],
            "customer_id": job["customer_id"],
            "service": service,
            "part": part,
            "parts": parts,
            "sections": sections,
            "contributed_at": datetime.now(UTC),
        },
        producer=service,
    )


def status(client, job):
    r = client.get(f"/api/v1/customers/{job['customer_id']}/exports/{job['id']}", headers=auth())
    assert r.status_code == 200, r.json
    return r


def test_a_request_names_the_merged_profiles_and_is_replayed_by_its_key(app, client):
    keep = register(client, "Chan Tai Man", "9123 4567")
    other = register(client, "Wong Siu Ming", "6123 4567")
    r = client.post(f"/api/v1/customers/{keep}/merge", headers=auth(), json={"duplicate_id": other})
    assert r.status_code == 200, r.json
    r = start(client, keep, **{"Idempotency-Key": "export-1"})
    assert r.status_code == 202, r.json
    job = r.json
    assert r.headers["Location"].endswith(f"/customers/{keep}/exports/{job['id']}")
    assert (job["status"], job["answered"], job["missing"]) == ("pending", [], ["calls", "sales"])
    again = start(client, keep, **{"Idempotency-Key": "export-1"})
    assert again.headers.get("Idempotent-Replayed") == "true" and again.json["id"] == job["id"]
    [sent] = requests_sent(app)
    assert (sent["export_id"], sent["customer_id"], sent["customer_ids"]) == (
        job["id"],
        keep,
        [keep, other],
    )


def test_contributions_in_parts_complete_the_export_and_download_as_one_document(
    client, dispatcher
):
    customer = register(client, "Chan Tai Man", "9123 4567")
    job = start(client, customer).json
    dispatcher.dispatch(
        contributed(job, "calls", {"calls": [{"id": "k1"}], "partner_reads": []}, part=1, parts=2)
    )
    dispatcher.dispatch(contributed(job, "sales", {"deals": [{"id": "d1"}]}))
    pending = status(client, job)
    assert (pending.json["status"], pending.json["answered"], pending.json["missing"]) == (
        "pending",
        ["sales"],
        ["calls"],
    )
    assert "Content-Disposition" not in pending.headers and "calls" not in pending.json
    last = contributed(job, "calls", {"calls": [{"id": "k2"}]}, part=2, parts=2)
    dispatcher.dispatch(last)
    dispatcher.dispatch(last)  # redelivered: kept once
    done = status(client, job)
    assert (
        done.headers["Content-Disposition"]
        == f'attachment; filename="customer-{customer}-export-{job["id"]}.json"'
    )
    document = done.json
    assert (document["status"], document["missing"]) == ("complete", [])
    assert document["calls"] == {"calls": [{"id": "k1"}, {"id": "k2"}], "partner_reads": []}
    assert document["sales"] == {"deals": [{"id": "d1"}]}
    assert document["customer"]["profile"]["name"] == "Chan Tai Man"
    assert document["customer"]["history"]


def test_a_service_that_does_not_answer_in_time_is_named_missing(service_app, sqlite_url):
    app = service_app(create_app, config.MIGRATIONS, sqlite_url, EXPORT_TIMEOUT_SECONDS="0")
    client = app.test_client()
    ctx = app.extensions["rapport"]
    dispatcher = build_dispatcher(ctx.settings, ctx.db, Outbox, Inbox, subscriptions(ctx.settings))
    job = start(client, register(client, "Chan Tai Man", "9123 4567")).json
    dispatcher.dispatch(contributed(job, "calls", {"calls": []}))
    late = status(client, job).json
    assert (late["status"], late["answered"], late["missing"]) == (
        "incomplete",
        ["calls"],
        ["sales"],
    )
    assert "calls" not in late and "customer" not in late


def test_erasure_drops_what_was_contributed_and_refuses_what_comes_late(app, client, dispatcher):
    customer = register(client, "Chan Tai Man", "9123 4567")
    job = start(client, customer).json
    dispatcher.dispatch(contributed(job, "calls", {"calls": [{"notes": "personal"}]}))
    r = client.post(
        f"/api/v1/customers/{customer}/erasure",
        headers=auth(),
        json={"reason": "data subject request"},
    )
    assert r.status_code == 200, r.json
    dispatcher.dispatch(contributed(job, "sales", {"deals": [{"title": "personal"}]}))
    got = status(client, job).json
    assert (got["status"], got["answered"]) == ("erased", [])
    with app.extensions["rapport"].db.reader() as s:
        assert s.scalar(select(func.count()).select_from(ExportPart)) == 0
    fresh = start(client, customer)
    assert fresh.status_code == 202 and fresh.json["status"] == "pending"


@pytest.mark.parametrize("role,partner", [("agent", None), ("analyst", None), ("partner", "p1")])
def test_only_a_manager_or_admin_may_export(client, role, partner):
    customer = register(client, "Chan Tai Man", "9123 4567")
    caller = auth(role, partner_id=partner)
    for r in (
        client.post(f"/api/v1/customers/{customer}/exports", headers=caller),
        client.get(f"/api/v1/customers/{customer}/exports/x", headers=caller),
    ):
        assert r.status_code == 403 and r.content_type == "application/problem+json"
    assert start(client, customer, role="admin").status_code == 202


def test_unknown_customers_and_exports_are_404_and_start_nothing(app, client):
    customer = register(client, "Chan Tai Man", "9123 4567")
    other = register(client, "Wong Siu Ming", "6123 4567")
    r = start(client, "no-such-customer")
    assert r.status_code == 404 and r.content_type == "application/problem+json"
    assert requests_sent(app) == []
    job = start(client, customer).json
    for path in (f"{customer}/exports/no-such-export", f"{other}/exports/{job['id']}"):
        r = client.get(f"/api/v1/customers/{path}", headers=auth())
        assert r.status_code == 404 and r.content_type == "application/problem+json"


@pytest.mark.parametrize("value", ["soon", "-5", "nan"])
def test_a_misspelt_export_timeout_stops_the_service_at_start(value):
    from services.customer.app import create_app

    with pytest.raises(ValueError, match="EXPORT_TIMEOUT_SECONDS"):
        create_app({"DEV_MODE": "1", "EXPORT_TIMEOUT_SECONDS": value})
