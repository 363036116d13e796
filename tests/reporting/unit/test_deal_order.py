"""Deals count where their customer and their call put them, whatever arrives first
and however events are grouped into transactions."""

from datetime import timedelta
from decimal import Decimal

import pytest

from services.reporting.app import create_app
from tests.conftest import auth
from tests.reporting.generate import event, utc


def report(url, **query):
    client = create_app({"DATABASE_URL": url, "DEV_MODE": "1"}).test_client()
    r = client.get("/api/v1/reports/sales", headers=auth("analyst"), query_string=query)
    assert r.status_code == 200, r.json
    return r.json


def test_a_deal_without_a_segment_counts_under_its_customers_once_known(
    make_dispatcher, sqlite_url
):
    """Events that carry no segment: ``unknown`` until the customer arrives, then the
    customer's segment; a segment the events carry wins over the customer's."""
    dispatcher = make_dispatcher(sqlite_url)
    at = utc(2025, 5, 2, 3)
    for deal_id, segment in (("d-plain", None), ("d-carried", "corporate")):
        dispatcher.dispatch(
            event(
                "deal.created",
                at,
                deal_id=deal_id,
                customer_id="late",
                stage="lead",
                expected_value=Decimal(100),
                segment=segment,
                created_at=at,
            )
        )
    dispatcher.dispatch(
        event(
            "deal.stage_changed",
            at + timedelta(days=1),
            deal_id="d-plain",
            customer_id="late",
            from_stage="lead",
            to_stage="won",
            changed_at=at + timedelta(days=1),
        )
    )

    def created(segment):
        return report(sqlite_url, segment=segment)["funnel"]["deals_created"]

    assert (created("unknown"), created("sme"), created("corporate")) == (1, 0, 1)
    dispatcher.dispatch(
        event(
            "customer.registered",
            utc(2025, 1, 1),
            customer_id="late",
            name="Late",
            segment="sme",
            registered_at=utc(2025, 1, 1),
        )
    )
    assert (created("unknown"), created("sme"), created("corporate")) == (0, 1, 1)
    sme = report(sqlite_url, segment="sme")
    assert (sme["funnel"]["won"], sme["stages"][0]["left"]) == (1, 1)
    assert {p["stage"]: p["deals"] for p in sme["pipeline"] if p["deals"]} == {"won": 1}


@pytest.mark.parametrize("deal_first", [True, False])
def test_a_deal_and_its_opportunity_in_one_window_count_together(
    make_dispatcher, sqlite_url, deal_first
):
    """The deal's call is not written yet when the call event looks for its deals."""
    dispatcher = make_dispatcher(sqlite_url)
    at = utc(2025, 5, 2, 3)
    deal = event(
        "deal.created",
        at + timedelta(hours=1),
        deal_id="d",
        customer_id="c",
        stage="lead",
        source_call_id="k",
        segment="sme",
        created_at=at + timedelta(hours=1),
    )
    call = event(
        "call.completed",
        at,
        call_id="k",
        customer_id="c",
        channel="phone",
        outcome="sale_opportunity",
        completed_at=at,
        segment="sme",
    )
    results = dispatcher.dispatch_batch([deal, call] if deal_first else [call, deal])
    assert not [r for r in results if isinstance(r, Exception)]
    funnel = report(sqlite_url, segment="sme")["funnel"]
    assert (
        funnel["opportunities"],
        funnel["deals_from_opportunities"],
        funnel["opportunity_to_deal"],
    ) == (1, 1, 1.0)
