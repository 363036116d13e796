"""Every report as JSON, CSV and PNG; filters; bad input as problem+json; the
dashboard's authentication."""

import csv
import io
import random

import pytest

from services.reporting import config
from services.reporting.app import create_app
from tests.conftest import auth, make_token
from tests.reporting import generate

REPORTS = [
    "activity",
    "coverage",
    "findings",
    "sales",
    "pnl",
    "call-effectiveness",
    "outsourcers",
    "data-quality",
    "follow-ups",
]
PERIODIC = ["activity", "findings", "sales", "pnl", "call-effectiveness", "outsourcers"]


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    from services.reporting.handlers import subscriptions
    from services.reporting.tables import Inbox, Outbox
    from shared import migrations
    from shared.db import Database
    from shared.entrypoints import build_dispatcher

    url = f"sqlite:///{tmp_path_factory.mktemp('formats') / 'reporting.db'}"
    migrations.upgrade(url, config.MIGRATIONS)
    settings = config.load({"DATABASE_URL": url, "DEV_MODE": "1"})
    db = Database(url)
    dispatcher = build_dispatcher(settings, db, Outbox, Inbox, subscriptions(settings))
    events = (
        generate.effectiveness_stream(per_segment=12)[0]
        + generate.parity_stream(calls=120)[0]
        + generate.commerce_stream()
    )
    random.Random(5).shuffle(events)
    for event in events:
        dispatcher.dispatch(event)
    yield create_app({"DATABASE_URL": url, "DEV_MODE": "1"}).test_client()
    db.dispose()


def get(client, name, role="analyst", **query):
    return client.get(f"/api/v1/reports/{name}", headers=auth(role), query_string=query)


@pytest.mark.parametrize("name", REPORTS)
def test_json_csv_and_png(client, name):
    assert get(client, name).status_code == 200
    r = get(client, name, format="csv")
    assert r.status_code == 200 and r.content_type.startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.get_data(as_text=True))))
    assert rows and all(len(row) == len(rows[0]) for row in rows)
    r = get(client, name, format="png")
    assert r.status_code == 200 and r.content_type == "image/png"
    assert r.data[:8] == b"\x89PNG\r\n\x1a\n"


def test_activity_filters_and_groups(client):
    whole = get(client, "activity", **{"from": "2025-01-01", "to": "2025-06-30"}).json
    retail = get(
        client, "activity", segment="retail", **{"from": "2025-01-01", "to": "2025-06-30"}
    ).json
    sme = get(client, "activity", segment="sme", **{"from": "2025-01-01", "to": "2025-06-30"}).json
    assert retail["totals"]["planned"] == sme["totals"]["planned"] == 72  # 12 × 6 months
    assert whole["totals"]["planned"] == 144
    by_month = get(
        client, "activity", group_by="month", **{"from": "2025-01-01", "to": "2025-06-30"}
    ).json["groups"]
    assert [g["key"] for g in by_month] == [f"2025-0{m}" for m in range(1, 7)]
    partners = get(
        client, "activity", group_by="partner", **{"from": "2025-08-01", "to": "2025-08-31"}
    ).json["groups"]
    assert {g["key"] for g in partners} == {"", "p-good", "p-bad"}
    bad = get(
        client,
        "activity",
        agent_kind="partner",
        partner="p-bad",
        **{"from": "2025-08-01", "to": "2025-08-31"},
    ).json
    assert (
        bad["totals"]["completed"] == next(g for g in partners if g["key"] == "p-bad")["completed"]
    )


def test_pnl_groups_and_reconciles(client):
    by_customer = get(client, "pnl", group_by="customer").json
    by_segment = get(client, "pnl").json
    assert by_customer["totals"] == by_segment["totals"]
    assert by_segment["reconciliation"]["balanced"] is True
    retail = get(client, "pnl", segment="retail").json["totals"]
    assert (retail["revenue"], retail["returns"], retail["allocations"]) == (
        "100.00",
        "20.00",
        "6.00",
    )


@pytest.mark.parametrize(
    "name, query, field",
    [
        *[(n, {"format": "xml"}, "format") for n in REPORTS],
        *[(n, {"from": "2025-03-02", "to": "2025-03-01"}, "from") for n in PERIODIC],
        *[(n, {"from": "2025-02-30"}, "from") for n in PERIODIC],
        ("activity", {"group_by": "colour"}, "group_by"),
        ("findings", {"group_by": "customer"}, "group_by"),
        ("pnl", {"group_by": "partner"}, "group_by"),
        ("activity", {"agent_kind": "robot"}, "agent_kind"),
        ("coverage", {"from": "2025-01-01"}, "from"),
        ("follow-ups", {"days": "0"}, "days"),
        ("outsourcers", {"partner": "p-bad"}, "partner"),
    ],
)
def test_bad_input_is_a_422_problem(client, name, query, field):
    r = get(client, name, **query)
    assert r.status_code == 422 and r.content_type == "application/problem+json"
    assert field in r.json["errors"]


@pytest.mark.parametrize("name", REPORTS)
def test_reports_need_a_reader(client, name):
    assert client.get(f"/api/v1/reports/{name}").status_code == 401
    assert get(client, name, role="agent").status_code == 403


def test_dashboard_by_header_by_query_token_and_by_cookie(client):
    assert client.get("/dashboard").status_code == 401
    assert client.get("/dashboard", headers=auth("agent")).status_code == 403
    r = client.get("/dashboard", headers=auth("manager"))
    assert r.status_code == 200 and r.content_type.startswith("text/html")
    assert r.get_data(as_text=True).count('src="data:image/png;base64,') >= 6
    token = make_token("manager")
    r = client.get("/dashboard", query_string={"token": token, "currency": "HKD"})
    assert r.status_code == 303 and r.headers["Location"].endswith("/dashboard?currency=HKD")
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/dashboard" in cookie
    assert client.get("/dashboard").status_code == 200  # the test client kept the cookie
    assert client.get("/api/v1/reports/activity").status_code == 401  # the API ignores it
    client.delete_cookie("rapport_token", path="/dashboard")
    assert client.get("/dashboard", query_string={"token": "forged"}).status_code == 401
