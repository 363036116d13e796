"""The rules of a deal held in memory (services.sales.deals): the legal path through
the sales cycle, its expected value, and the time spent in each stage."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from services.sales.deals import pipeline as deals
from services.sales.deals.tables import Deal, DealStage

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def test_every_open_stage_leads_on_or_to_lost_and_closed_stages_lead_nowhere():
    for stage in deals.OPEN:
        assert "lost" in deals.TRANSITIONS[stage]
        assert len(deals.TRANSITIONS[stage]) == 2
    assert deals.TRANSITIONS["won"] == () and deals.TRANSITIONS["lost"] == ()
    path, stage = [], "lead"
    while stage != "won":
        stage = deals.TRANSITIONS[stage][0]
        path.append(stage)
    assert path == ["qualified", "proposal", "negotiation", "won"]


def test_probability_rises_along_the_path():
    along = [deals.PROBABILITY[s] for s in ("lead", *deals.OPEN[1:], "won")]
    assert along == sorted(along) and along[-1] == 100 and deals.PROBABILITY["lost"] == 0


def test_expected_value_is_the_amount_weighted_by_probability_rounded_once_half_up():
    assert deals.expected_value(Deal(amount=Decimal("1234.565"), probability=25)) == Decimal(
        "308.64"
    )
    assert deals.expected_value(Deal(amount=Decimal("10.02"), probability=25)) == Decimal("2.51")
    assert deals.expected_value(Deal(amount=Decimal("0.02"), probability=25)) == Decimal("0.01")
    assert deals.expected_value(Deal(amount=Decimal("80"), probability=0)) == Decimal("0.00")


def test_a_deal_without_an_amount_has_no_expected_value():
    assert deals.expected_value(Deal(amount=None, probability=50)) is None


def entered(stage: str, hours: float, by: str = "agent-1", note=None) -> DealStage:
    return DealStage(
        stage=stage,
        entered_at=T0 + timedelta(hours=hours),
        probability=deals.PROBABILITY[stage],
        changed_by=by,
        note=note,
    )


def test_an_open_deals_current_stage_runs_to_now():
    deal = Deal(stage="proposal", probability=50)
    deal.history = [
        entered("lead", 0),
        entered("qualified", 1),
        entered("proposal", 3, note="sent"),
    ]
    rows = deals.stage_times(deal, now=T0 + timedelta(hours=8))
    assert [(r["stage"], r["seconds"]) for r in rows] == [
        ("lead", 3600),
        ("qualified", 7200),
        ("proposal", 5 * 3600),
    ]
    assert rows[0]["left_at"] == T0 + timedelta(hours=1)
    assert rows[-1]["left_at"] is None and rows[-1]["note"] == "sent"
    assert rows[-1]["probability"] == 50 and rows[-1]["changed_by"] == "agent-1"


def test_a_closed_deals_final_stage_has_no_duration():
    deal = Deal(stage="lost", probability=0)
    deal.history = [entered("lead", 0), entered("lost", 2, by="manager")]
    rows = deals.stage_times(deal, now=T0 + timedelta(days=30))
    assert [(r["stage"], r["seconds"], r["left_at"]) for r in rows] == [
        ("lead", 7200, T0 + timedelta(hours=2)),
        ("lost", None, None),
    ]
