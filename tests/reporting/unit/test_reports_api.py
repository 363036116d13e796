"""The report endpoints through Flask's test client, fed by the real handler."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.reporting import config
from services.reporting.app import create_app
from tests.conftest import auth
from tests.reporting.events import completed, registered, sale, scheduled

ACTIVITY, PNL = "/api/v1/reports/activity", "/api/v1/reports/pnl"


@pytest.fixture
def app(service_app, sqlite_url):
    return service_app(create_app, config.MIGRATIONS, sqlite_url)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def feed(app, make_dispatcher, sqlite_url):
    dispatcher = make_dispatcher(sqlite_url)
    return lambda *events: [dispatcher.dispatch(e) for e in events]


def get(client, url, role="analyst", **query):
    return client.get(url, headers=auth(role), query_string=query)


def test_activity_report_shape_and_numbers(client, feed):
    feed(
        completed("2025-03-01T02:00", "reached", "a"),
        completed("2025-03-01T03:00", "busy", "b"),
        completed("2025-03-03T02:00", "reached", "c"),
        scheduled("2025-03-01T01:00", "d"),
        completed("2025-03-09T02:00", "reached", "outside"),
    )
    r = get(client, ACTIVITY, **{"from": "2025-03-01", "to": "2025-03-05"})
    assert r.status_code == 200
    assert r.json["days"] == [
        {
            "day": "2025-03-01",
            "planned": 1,
            "completed": 2,
            "missed": 0,
            "outcomes": {"reached": 1, "busy": 1},
        },
        {
            "day": "2025-03-03",
            "planned": 0,
            "completed": 1,
            "missed": 0,
            "outcomes": {"reached": 1},
        },
    ]
    assert {k: r.json[k] for k in ("from", "to", "timezone", "group_by")} == {
        "from": "2025-03-01",
        "to": "2025-03-05",
        "timezone": "Asia/Hong_Kong",
        "group_by": "day",
    }
    assert r.json["totals"] == {
        "planned": 1,
        "completed": 3,
        "missed": 0,
        "cancelled": 0,
        "on_time": 0,
        "adherence": 0.0,
        "completion_rate": 3.0,
        "outcomes": {"reached": 2, "busy": 1},
    }


def test_activity_defaults_to_the_last_30_days(client, feed):
    now = datetime.now(UTC)
    feed(
        completed(now.strftime("%Y-%m-%dT%H:%M"), call_id="today"),
        completed((now - timedelta(days=40)).strftime("%Y-%m-%dT%H:%M"), call_id="old"),
    )
    r = get(client, ACTIVITY, role="manager")
    today = datetime.now(ZoneInfo("Asia/Hong_Kong")).date()
    assert (r.json["from"], r.json["to"]) == (str(today - timedelta(days=29)), str(today))
    assert r.json["totals"]["completed"] == 1


def test_pnl_report_by_segment_with_money_as_strings(client, feed):
    feed(
        registered("c1", "smb"),
        registered("c2", "enterprise"),
        sale("c1", "100.10", "60", "2025-03-01T02:00", sale_id="s1"),
        sale("c1", "0.005", "0", "2025-03-02T02:00", sale_id="s2"),
        sale("c2", "1000", "750.5", "2025-03-02T02:00", sale_id="s3"),
        sale("c3", "10", "12", "2025-03-02T02:00", sale_id="s4"),
        sale("c1", "999", "1", "2025-03-02T02:00", currency="USD", sale_id="s5"),
    )
    r = get(client, PNL)
    assert r.status_code == 200
    assert (r.json["currency"], r.json["from"], r.json["to"]) == ("HKD", None, None)
    keys = ("segment", "revenue", "cost", "margin", "sales")
    assert [{k: row[k] for k in keys} for row in r.json["segments"]] == [
        {
            "segment": "enterprise",
            "revenue": "1000.00",
            "cost": "750.50",
            "margin": "249.50",
            "sales": 1,
        },
        {"segment": "smb", "revenue": "100.11", "cost": "60.00", "margin": "40.11", "sales": 2},
        {"segment": "unknown", "revenue": "10.00", "cost": "12.00", "margin": "-2.00", "sales": 1},
    ]
    assert {k: r.json["totals"][k] for k in keys[1:]} == {
        "revenue": "1110.11",
        "cost": "822.50",
        "margin": "287.61",
        "sales": 4,
    }
    assert r.json["reconciliation"]["balanced"] is True
    usd = get(client, PNL, currency="USD").json
    assert {k: usd["totals"][k] for k in ("revenue", "cost", "margin", "sales")} == {
        "revenue": "999.00",
        "cost": "1.00",
        "margin": "998.00",
        "sales": 1,
    }


def test_pnl_date_filter_uses_local_days(client, feed):
    feed(
        sale("c1", "1", "0", "2025-02-28T15:59", sale_id="feb"),  # 23:59 on 28 Feb in HK
        sale("c1", "2", "0", "2025-02-28T16:00", sale_id="mar"),
    )  # 00:00 on 1 Mar in HK
    r = get(client, PNL, **{"from": "2025-03-01"})
    assert (r.json["from"], r.json["to"], r.json["totals"]["revenue"]) == (
        "2025-03-01",
        None,
        "2.00",
    )
    assert get(client, PNL, to="2025-02-28").json["totals"]["revenue"] == "1.00"
    assert get(client, PNL, **{"from": "2025-04-01"}).json["segments"] == []


@pytest.mark.parametrize(
    "url, query, field",
    [
        (ACTIVITY, {"from": "2025-03-02", "to": "2025-03-01"}, "from"),
        (PNL, {"from": "2025-03-02", "to": "2025-03-01"}, "from"),
        (ACTIVITY, {"from": "2999-01-01"}, "from"),  # after the default "to", today
        (ACTIVITY, {"from": "2025-13-01"}, "from"),
        (ACTIVITY, {"to": "yesterday"}, "to"),
        (PNL, {"from": "2025-03-01T00:00:00"}, "from"),
        (PNL, {"currency": "hkd"}, "currency"),
        (PNL, {"currency": "HKDX"}, "currency"),
        (PNL, {"partner": "p1"}, "partner"),  # P&L has no partner dimension
    ],
)
def test_bad_query_is_a_422_problem_naming_the_field(client, url, query, field):
    r = get(client, url, **query)
    assert r.status_code == 422 and r.content_type == "application/problem+json"
    assert field in r.json["errors"]


@pytest.mark.parametrize("url", [ACTIVITY, PNL])
def test_reports_need_a_token(client, url):
    r = client.get(url)
    assert r.status_code == 401 and r.content_type == "application/problem+json"


@pytest.mark.parametrize(
    "role, partner_id, status",
    [
        ("agent", None, 403),
        ("partner", "p1", 403),
        ("analyst", None, 200),
        ("manager", None, 200),
        ("admin", None, 200),
    ],
)
@pytest.mark.parametrize("url", [ACTIVITY, PNL])
def test_only_analysts_and_managers_read_reports(client, url, role, partner_id, status):
    r = client.get(url, headers=auth(role, partner_id=partner_id))
    assert r.status_code == status


def test_health_metrics_and_openapi(client):
    assert client.get("/healthz").json["service"] == "reporting"
    assert client.get("/readyz").json["database"] == "ok"
    metrics = client.get("/metrics").data.decode()
    assert any(
        line.startswith("rapport_http_requests_total{") and 'service="reporting"' in line
        for line in metrics.splitlines()
    )
    paths = client.get("/api/docs/openapi.json").json["paths"]
    assert {ACTIVITY, PNL} <= set(paths)
