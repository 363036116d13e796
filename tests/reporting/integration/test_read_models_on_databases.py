"""The read models on SQLite and on PostgreSQL: reports, redelivery, rebuild, and
concurrent consumers adding to the same counters."""

import threading
from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from services.reporting import catalogue, config
from services.reporting.app import create_app
from services.reporting.calls.tables import FindingsCube, FindingsMonth
from services.reporting.events import projections
from services.reporting.pnl.tables import PnlDaily, PnlYtd
from services.reporting.relationships.tables import CustomerYtd
from services.reporting.store import year_to_date
from tests.conftest import auth
from tests.reporting.events import completed, registered, sale, scheduled, updated

pytestmark = pytest.mark.integration


def test_reports_redelivery_and_rebuild(database_url, make_dispatcher, service_app):
    dispatcher = make_dispatcher(database_url)
    first = sale("c1", "100.005", "40", "2025-03-01T02:00", sale_id="s1")
    for event in (
        first,
        first,
        completed("2025-03-01T16:30"),
        scheduled("2025-03-01T01:00"),
        sale("c2", "0.0025", "0", "2025-03-01T02:00", sale_id="s2"),
        registered("c1", "smb"),
        updated("c1", "vip", "2025-02-01T00:00"),
    ):
        dispatcher.dispatch(event)
    client = service_app(create_app, config.MIGRATIONS, database_url).test_client()
    pnl = client.get("/api/v1/reports/pnl", headers=auth("analyst")).json
    assert [(s["segment"], s["revenue"], s["sales"]) for s in pnl["segments"]] == [
        ("unknown", "0.00", 1),
        ("vip", "100.01", 1),
    ]
    assert pnl["totals"]["revenue"] == "100.01" and pnl["totals"]["margin"] == "60.01"
    activity = client.get(
        "/api/v1/reports/activity",
        headers=auth("manager"),
        query_string={"from": "2025-03-01", "to": "2025-03-02"},
    ).json
    assert [(d["day"], d["planned"], d["completed"]) for d in activity["days"]] == [
        ("2025-03-01", 1, 0),
        ("2025-03-02", 0, 1),
    ]
    with dispatcher.uow() as work:
        assert projections.rebuild(work.session, ZoneInfo("Asia/Hong_Kong")) == 6
    assert client.get("/api/v1/reports/pnl", headers=auth("analyst")).json == pnl


def test_concurrent_consumers_lose_no_update(database_url, make_dispatcher):
    """Four consumers, and the pending year-to-date months spread again and again
    meanwhile (as an idle consumer does): nothing lost, nothing counted twice."""
    dispatchers = [make_dispatcher(database_url) for _ in range(4)]
    errors, done = [], threading.Event()

    def consume(n, dispatcher):
        try:
            for i in range(10):
                dispatcher.dispatch(completed("2025-03-01T04:00", call_id=f"{n}-{i}"))
                dispatcher.dispatch(sale("c1", "0.0001", "0.0002", sale_id=f"{n}-{i}"))
                dispatcher.dispatch_batch(
                    [  # a window of several customers and months
                        sale(
                            f"k{k}",
                            "1",
                            "0",
                            f"2025-{1 + (n + k + i) % 12:02d}-10T04:00",
                            sale_id=f"{n}-{i}-{k}",
                        )
                        for k in range(3)
                    ]
                )
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    def spread():
        try:
            while not done.is_set():
                with dispatchers[0].uow.db.transaction() as session:
                    year_to_date.fold(session)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=consume, args=(n, d)) for n, d in enumerate(dispatchers)]
    folding = threading.Thread(target=spread)
    for thread in threads + [folding]:
        thread.start()
    for thread in threads:
        thread.join(60)
    done.set()
    folding.join(60)
    assert errors == []
    with dispatchers[0].uow.db.transaction() as session:
        year_to_date.fold(session)
    with dispatchers[0].uow.reader() as session:
        december = dict(
            session.execute(
                select(PnlYtd.customer_id, PnlYtd.sales).where(PnlYtd.month == date(2025, 12, 1))
            ).all()
        )
        assert december == {"c1": 40, "k0": 40, "k1": 40, "k2": 40}
        assert (
            session.scalar(select(CustomerYtd.calls).where(CustomerYtd.month == date(2025, 3, 1)))
            == 40
        )
    uow = dispatchers[0].uow
    day = date(2025, 3, 1)
    assert (
        catalogue.activity_report(uow, ZoneInfo("Asia/Hong_Kong"), day, day)["totals"]["completed"]
        == 40
    )
    with uow.reader() as session:
        row = session.execute(
            select(PnlDaily.revenue, PnlDaily.cost_of_goods, PnlDaily.sales).where(
                PnlDaily.customer_id == "c1"
            )
        ).one()
    assert tuple(row) == (Decimal("0.0040"), Decimal("0.0080"), 40)


def test_findings_sums_hold_more_than_32_bits(database_url, make_dispatcher, service_app):
    """A checklist's square is up to 10⁶ a call: a cell past 2,147 calls outgrew a 32-bit
    column on PostgreSQL and every later event for it failed. The cell here stands at
    2,147 fully compliant calls; the next two take it past 2³¹, and the reports read
    the sums back as whole numbers."""
    dispatcher = make_dispatcher(database_url)

    def call(n: int):
        event = completed("2025-03-03T04:00", call_id=f"call-{n}")
        event.payload.update(satisfaction=5, propensity=100, checklist_compliance=1.0)
        return event

    dispatcher.dispatch(call(0))
    with dispatcher.uow() as work:
        for model in (FindingsCube, FindingsMonth):
            work.session.execute(
                update(model).values(
                    calls=2147,
                    sat_n=2147,
                    sat_sum=5 * 2147,
                    sat_sq=25 * 2147,
                    prop_n=2147,
                    prop_sum=100 * 2147,
                    prop_sq=10**4 * 2147,
                    chk_n=2147,
                    chk_sum=1000 * 2147,
                    chk_sq=10**6 * 2147,
                )
            )
    dispatcher.dispatch(call(1))
    dispatcher.dispatch(call(2))
    with dispatcher.uow() as work:
        for model in (FindingsCube, FindingsMonth):
            assert work.session.execute(select(model.calls, model.chk_sq)).one() == (
                2149,
                10**6 * 2149,
            )
    client = service_app(create_app, config.MIGRATIONS, database_url).test_client()
    for report, args in (
        ("findings", {"from": "2025-03-01", "to": "2025-03-31", "group_by": "month"}),
        ("findings", {"from": "2025-03-02", "to": "2025-03-05", "group_by": "day"}),
        ("outsourcers", {"from": "2025-03-01", "to": "2025-03-31"}),
    ):
        r = client.get(f"/api/v1/reports/{report}", headers=auth("analyst"), query_string=args)
        assert r.status_code == 200, r.json
        if report == "findings":
            assert r.json["calls"] == 2149
            assert r.json["satisfaction"]["mean"] == 5 and r.json["propensity"]["mean"] == 100
        else:
            assert r.json["staff"]["checklist_compliance"]["mean"] == 1.0
