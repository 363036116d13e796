"""Erasure in the customer service reaches every store that held the person: the
profile and its versions, contact points, the timeline, quality findings, the outbox
(sent events keep their payloads) and the stored idempotent answers, whose replay is
then 410 Gone and registers no one again."""

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, update

from services.customer import config
from services.customer.app import create_app
from services.customer.profiles.tables import Customer
from services.customer.quality import quality
from services.customer.quality.tables import QualityItem
from services.customer.tables import Base, Outbox
from shared.entrypoints import build_dispatcher
from shared.events import make_event
from tests.conftest import auth

PROFILE = {
    "name": "Chan Tai Man",
    "phone": "9123 4567",
    "segment": "smb",
    "email": "tm@example.com",
    "address": {"line1": "1 Queen's Road Central"},
    "date_of_birth": "1970-03-04",
    "external_ref": "ERP-9",
    "tags": ["golf-lover"],
}
PERSONAL = (
    "Chan Tai Man",
    "91234567",
    "9123 4567",
    "tm@example.com",
    "Queen's Road",
    "1970-03-04",
    "ERP-9",
    "golf-lover",
    "Wai Ming",
    "5987 6543",
    "59876543",
    "chan.new@example.com",
)


@pytest.fixture
def app(service_app, sqlite_url):
    return service_app(create_app, config.MIGRATIONS, sqlite_url)


@pytest.fixture
def client(app):
    return app.test_client()


def register(client, body=PROFILE, key="reg-1"):
    return client.post("/api/v1/customers", json=body, headers={**auth(), "Idempotency-Key": key})


def erase(app, client, customer_id):
    with app.extensions["rapport"].uow() as work:  # as the relay would have sent them
        work.session.execute(update(Outbox).values(sent_at=datetime.now(UTC)))
    r = client.post(
        f"/api/v1/customers/{customer_id}/erasure",
        headers=auth(),
        json={"reason": "data subject request"},
    )
    assert r.status_code == 200, r.json


def deliver_call(app, customer_id):
    ctx = app.extensions["rapport"]
    from services.customer.handlers import subscriptions
    from services.customer.tables import Inbox

    settings = config.load({"DATABASE_URL": ctx.db.url, "DEV_MODE": "1"})
    assert build_dispatcher(settings, ctx.db, Outbox, Inbox, subscriptions(settings)).dispatch(
        make_event(
            "call.completed",
            {
                "call_id": "call-1",
                "customer_id": customer_id,
                "channel": "phone",
                "outcome": "reached",
                "completed_at": datetime.now(UTC),
                "satisfaction": 4,
                "propensity": 70,
                "duration_seconds": 300,
                "notes": "her son Wai Ming answers",
            },
            producer="calls",
        )
    )


def everything(app) -> str:
    """Every row of every table, as text."""
    with app.extensions["rapport"].db.reader() as s:
        return " ".join(
            str(tuple(row))
            for table in Base.metadata.sorted_tables
            for row in s.execute(select(table))
        )


def count(app, model):
    with app.extensions["rapport"].db.reader() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_a_replayed_registration_after_erasure_is_gone_and_registers_no_one(app, client):
    first = register(client)
    assert first.status_code == 201
    erase(app, client, first.json["id"])
    customers, events = count(app, Customer), count(app, Outbox)
    replay = register(client)
    assert replay.status_code == 410 and replay.headers["Idempotent-Replayed"] == "true"
    assert replay.headers["Content-Type"] == "application/problem+json"
    assert replay.json["title"] == "Gone" and "erased" in replay.json["detail"]
    assert "Location" not in replay.headers
    assert not [value for value in PERSONAL if value in replay.get_data(as_text=True)]
    assert (count(app, Customer), count(app, Outbox)) == (customers, events)
    # the same key with another request is still refused, not run
    assert register(client, {**PROFILE, "name": "Someone Else"}).status_code == 422


def test_another_customers_stored_answer_still_replays(app, client):
    kept = register(
        client, {"name": "Wong Siu Fong", "phone": "6123 4567", "segment": "smb"}, key="reg-2"
    )
    erase(app, client, register(client).json["id"])
    again = register(
        client, {"name": "Wong Siu Fong", "phone": "6123 4567", "segment": "smb"}, key="reg-2"
    )
    assert again.status_code == 201 and again.json == kept.json


def test_erasure_leaves_no_personal_value_in_any_table_or_sent_event(app, client):
    customer = register(client).json
    r = client.patch(
        f"/api/v1/customers/{customer['id']}",
        headers=auth(),
        json={"phone": "5987 6543", "email": "chan.new@example.com"},
    )
    assert r.status_code == 200, r.json
    r = client.post(
        f"/api/v1/customers/{customer['id']}/consents",
        headers=auth(),
        json={"channel": "phone", "purpose": "insurance", "status": "withdrawn", "source": "call"},
    )
    assert r.status_code == 201, r.json
    deliver_call(app, customer["id"])
    stored = everything(app)
    assert all(value in stored for value in ("Wai Ming", "59876543", "chan.new@example.com"))
    erase(app, client, customer["id"])
    stored = everything(app)
    assert not [value for value in PERSONAL if value in stored]
    assert customer["id"] in stored and "withdrawn" in stored  # the skeleton and the proof
    with app.extensions["rapport"].db.reader() as s:
        [erased] = [
            json.loads(body)["payload"]
            for body in s.scalars(select(Outbox.body).where(Outbox.event_type == "customer.erased"))
        ]
    assert erased["customer_id"] == customer["id"] and erased["merged_ids"] == []


def test_erasing_a_survivor_erases_the_profiles_merged_into_it_and_their_answers(app, client):
    survivor = register(client).json
    merged = register(
        client,
        {**PROFILE, "name": "Chan T. M.", "external_ref": None, "confirm_duplicate": True},
        key="reg-dup",
    )
    assert merged.status_code == 201
    r = client.post(
        f"/api/v1/customers/{survivor['id']}/merge",
        headers=auth("admin"),
        json={"duplicate_id": merged.json["id"], "reason": "same person"},
    )
    assert r.status_code == 200, r.json
    erase(app, client, survivor["id"])
    assert (
        register(
            client,
            {**PROFILE, "name": "Chan T. M.", "external_ref": None, "confirm_duplicate": True},
            key="reg-dup",
        ).status_code
        == 410
    )
    assert "Chan T. M." not in everything(app)
    with app.extensions["rapport"].db.reader() as s:
        [erased] = [
            json.loads(body)["payload"]
            for body in s.scalars(select(Outbox.body).where(Outbox.event_type == "customer.erased"))
        ]
    assert erased["merged_ids"] == [merged.json["id"]]


def test_a_finding_that_names_the_erased_customer_loses_its_detail(app, client):
    erased = register(client).json
    other = register(
        client,
        {
            "name": "Wong Siu Fong",
            "phone": "9123 4567",
            "segment": "smb",
            "confirm_duplicate": True,
        },
        key="reg-3",
    ).json
    quality.scan(app.extensions["rapport"].uow, "tester")
    with app.extensions["rapport"].db.reader() as s:
        [shared] = s.scalars(select(QualityItem).where(QualityItem.rule == "shared_phone"))
    assert erased["id"] in shared.detail and other["id"] in shared.detail
    erase(app, client, erased["id"])
    with app.extensions["rapport"].db.reader() as s:
        assert s.get(QualityItem, shared.id).detail == "[erased]"
        outbox = " ".join(
            s.scalars(select(Outbox.body).where(Outbox.event_type == "customer.quality_flagged"))
        )
    assert erased["id"] not in outbox.replace(f'"customer_id":"{erased["id"]}"', "")


def test_an_uploaded_import_holding_the_person_is_kept_no_longer_than_its_job(
    service_app, sqlite_url, tmp_path
):
    from services.customer.imports.tables import ImportJob
    from shared.testing import wait_for

    app = service_app(create_app, config.MIGRATIONS, sqlite_url, DATA_DIR=str(tmp_path))
    client = app.test_client()
    r = client.post(
        "/api/v1/customers/import",
        headers={**auth(), "Content-Type": "text/csv"},
        data=b"name,phone,segment\nChan Tai Man,9123 4567,smb\n",
    )
    assert r.status_code == 202, r.json
    wait_for(
        lambda: (
            client.get(f"/api/v1/customers/import/{r.json['id']}", headers=auth()).json["status"]
            == "done"
        ),
        30,
        message="the import to finish",
    )
    assert not list((tmp_path / "imports").iterdir())
    # An upload an earlier version left behind goes with the next erasure.
    with app.extensions["rapport"].db.reader() as s:
        left = tmp_path / "imports" / f"{s.scalar(select(ImportJob.id))}.csv"
    left.write_text("name,phone,segment\nChan Tai Man,9123 4567,smb\n")
    with app.extensions["rapport"].uow() as work:
        work.session.execute(update(ImportJob).values(path=str(left)))
    [customer] = client.get("/api/v1/customers", headers=auth()).json["items"]
    erase(app, client, customer["id"])
    assert not left.exists()


def test_an_answer_stored_before_subjects_were_recorded_is_found_by_its_content(app, client):
    from services.customer.tables import IdempotencyKey

    first = register(client).json
    kept = register(
        client, {"name": "Wong Siu Fong", "phone": "6123 4567", "segment": "smb"}, key="reg-2"
    )
    with app.extensions["rapport"].uow() as work:  # as an earlier version stored them
        work.session.execute(update(IdempotencyKey).values(subjects=None))
    erase(app, client, first["id"])
    assert register(client).status_code == 410
    assert (
        register(
            client, {"name": "Wong Siu Fong", "phone": "6123 4567", "segment": "smb"}, key="reg-2"
        ).json
        == kept.json
    )
