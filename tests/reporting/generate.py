"""Generated event streams with known, planted effects, and the ground truth to
check the reports against, computed here from the raw generated values.

- ``effectiveness_stream``: segment ``retail`` where more calls raise satisfaction,
  segment ``sme`` where satisfaction moves at random whatever the number of calls;
  January–June 2025, one planned call a month per customer.
- ``parity_stream``: staff and partner ``p-good`` alike, partner ``p-bad`` reaching
  fewer customers, with more complaints and lower satisfaction; August 2025.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from shared.events import make_event

PRODUCERS = {
    "customer": "customer",
    "call": "calls",
    "followup": "calls",
    "deal": "sales",
    "sale": "sales",
    "allocation": "sales",
}


def event(event_type: str, when: datetime, **payload):
    return make_event(
        event_type, payload, producer=PRODUCERS[event_type.split(".")[0]], occurred_at=when
    )


def utc(*parts) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def effectiveness_stream(seed: int = 7, per_segment: int = 60):
    rng = random.Random(seed)
    events, truth = [], {}
    for segment in ("retail", "sme"):
        for n in range(per_segment):
            cid = f"{segment}-{n}"
            events.append(
                event(
                    "customer.registered",
                    utc(2024, 12, 1),
                    customer_id=cid,
                    name=f"Customer {n}",
                    segment=segment,
                    registered_at=utc(2024, 12, 1),
                )
            )
            calls = rng.randint(2, 6)  # of six planned
            months = sorted(rng.sample(range(1, 7), calls))
            if months[0] > 3 or months[-1] < 4:  # a score in each half of the window
                months = sorted({1, 6, *months[1:-1]})
            base = rng.choice((2, 3))
            scores = []
            for month in months:
                if month <= 3:
                    score = base
                elif segment == "retail":
                    score = base + (len(months) - 2) // 2 + rng.choice((0, 0, 1))
                else:
                    score = base + rng.choice((-1, 0, 1))
                scores.append((month, max(1, min(5, score))))
            for month in range(1, 7):
                call_id = f"{cid}-m{month}"
                due = utc(2025, month, 15, 2)
                events.append(
                    event(
                        "call.scheduled",
                        utc(2025, month, 1),
                        call_id=call_id,
                        plan_id="plan",
                        customer_id=cid,
                        channel="phone",
                        due_at=due,
                        segment=segment,
                    )
                )
                score = dict(scores).get(month)
                if score is not None:
                    events.append(
                        event(
                            "call.completed",
                            due,
                            call_id=call_id,
                            customer_id=cid,
                            channel="phone",
                            outcome="reached",
                            completed_at=due,
                            satisfaction=score,
                            segment=segment,
                            due_at=due,
                            agent_kind="staff",
                            team="hk-1",
                        )
                    )
            first = [s for m, s in scores if m <= 3]
            second = [s for m, s in scores if m >= 4]
            truth[cid] = {
                "segment": segment,
                "calls": len(scores),
                "planned": 6,
                "d_satisfaction": sum(second) / len(second) - sum(first) / len(first),
            }
    return events, truth


AGENTS = {"staff": (0.8, 0.02, 0), "p-good": (0.8, 0.02, 0), "p-bad": (0.55, 0.15, -1)}


def parity_stream(seed: int = 11, calls: int = 900, flagged: bool = False):
    """Staff against two partners; with ``flagged``, some calls carry quality flags
    and some sale opportunities open a deal, some won (drawn apart, so every other
    value is the same as without)."""
    rng, flags = random.Random(seed), random.Random(seed + 1)
    events, truth = [], {name: [] for name in AGENTS}
    for n in range(calls):
        agent = rng.choice(("staff", "staff", "p-good", "p-bad"))
        reach, complain, shift = AGENTS[agent]
        when = utc(2025, 8, 1 + n % 28, 3) + timedelta(minutes=n)
        outcome = "no_answer"
        satisfaction = checklist = None
        if rng.random() < reach:
            outcome = (
                "complaint"
                if rng.random() < complain
                else rng.choice(("reached", "interested", "sale_opportunity", "reached"))
            )
            satisfaction = max(1, min(5, rng.choice((3, 4, 4, 5)) + shift))
            checklist = rng.choice((0.8, 0.9, 1.0)) + (-0.1 if agent == "p-bad" else 0)
        partner = None if agent == "staff" else agent
        extra = (
            {
                "quality_flags": list(
                    flags.choice(
                        ((), (), (), ("duration",), ("outside_window",), ("checklist_incomplete",))
                    )
                )
            }
            if flagged
            else {}
        )
        events.append(
            event(
                "call.completed",
                when,
                call_id=f"par-{n}",
                customer_id=f"cp-{n % 50}",
                channel="phone",
                outcome=outcome,
                completed_at=when,
                satisfaction=satisfaction,
                checklist_compliance=checklist,
                segment="corporate",
                agent_kind="partner" if partner else "staff",
                partner_id=partner,
                agent_id=f"{agent}-{n % 3}",
                cost=Decimal("12.50"),
                **extra,
            )
        )
        if flagged and outcome == "sale_opportunity" and flags.random() < 0.7:
            deal = {"deal_id": f"par-deal-{n}", "customer_id": f"cp-{n % 50}"}
            opened = when + timedelta(hours=2)
            events.append(
                event(
                    "deal.created",
                    opened,
                    **deal,
                    stage="lead",
                    source_call_id=f"par-{n}",
                    created_at=opened,
                )
            )
            if flags.random() < 0.5:
                won = opened + timedelta(days=3)
                events.append(
                    event(
                        "deal.stage_changed",
                        won,
                        **deal,
                        from_stage="lead",
                        to_stage="won",
                        changed_at=won,
                    )
                )
        truth[agent].append(
            {"outcome": outcome, "satisfaction": satisfaction, "checklist": checklist}
        )
    return events, truth


def commerce_stream():
    """Sales, returns, cancellations, allocations, deals, quality items, follow-ups."""
    t = utc(2025, 3, 2, 4)
    return [
        event(
            "sale.recorded",
            t,
            sale_id="s1",
            customer_id="retail-1",
            currency="HKD",
            recorded_at=t,
            revenue=Decimal("100.00"),
            cost=Decimal("60.00"),
            discount=Decimal("5.00"),
            lines=[
                {
                    "quantity": Decimal(1),
                    "unit_price": Decimal("105"),
                    "unit_cost": Decimal("60"),
                    "discount": Decimal("5"),
                }
            ],
        ),
        event(
            "sale.recorded",
            t,
            sale_id="s2",
            customer_id="ghost-1",
            currency="HKD",
            recorded_at=t,
            revenue=Decimal("40.00"),
            cost=Decimal("10.00"),
            lines=[
                {"quantity": Decimal(1), "unit_price": Decimal("40"), "unit_cost": Decimal("10")}
            ],
        ),
        event(
            "sale.returned",
            t + timedelta(days=1),
            return_id="r1",
            sale_id="s1",
            customer_id="retail-1",
            currency="HKD",
            returned_at=t + timedelta(days=1),
            revenue=Decimal("20.00"),
            cost=Decimal("12.00"),
        ),
        event(
            "sale.cancelled",
            t + timedelta(days=2),
            sale_id="s2",
            customer_id="ghost-1",
            currency="HKD",
            revenue=Decimal("40.00"),
            cost=Decimal("10.00"),
            cancelled_at=t + timedelta(days=2),
        ),
        event(
            "allocation.recorded",
            t,
            allocation_id="a1",
            kind="training",
            amount=Decimal("9.00"),
            currency="HKD",
            period_start=t.date(),
            period_end=t.date(),
            rule="by_revenue",
            recorded_at=t,
            shares=[
                {"customer_id": "retail-1", "amount": Decimal("6.00")},
                {"customer_id": "sme-1", "amount": Decimal("3.00")},
            ],
        ),
        event(
            "deal.created",
            t,
            deal_id="d1",
            customer_id="retail-1",
            stage="lead",
            expected_value=Decimal("500"),
            source_call_id="retail-1-m1",
            created_at=t,
        ),
        event(
            "deal.stage_changed",
            t + timedelta(days=3),
            deal_id="d1",
            customer_id="retail-1",
            from_stage="lead",
            to_stage="proposal",
            seconds_in_previous_stage=3 * 86400,
            expected_value=Decimal("600"),
            changed_at=t + timedelta(days=3),
        ),
        event(
            "deal.stage_changed",
            t + timedelta(days=10),
            deal_id="d1",
            customer_id="retail-1",
            from_stage="proposal",
            to_stage="won",
            seconds_in_previous_stage=7 * 86400,
            changed_at=t + timedelta(days=10),
        ),
        event(
            "deal.created",
            t,
            deal_id="d2",
            customer_id="sme-2",
            stage="lead",
            expected_value=Decimal("250"),
            created_at=t,
        ),
        event(
            "customer.quality_flagged",
            t,
            item_id="q1",
            customer_id="sme-3",
            rule="missing_phone",
            segment="sme",
            flagged_at=t,
        ),
        event(
            "customer.quality_resolved",
            t + timedelta(hours=5),
            item_id="q1",
            customer_id="sme-3",
            rule="missing_phone",
            segment="sme",
            resolved_at=t + timedelta(hours=5),
        ),
        event(
            "customer.quality_flagged",
            t,
            item_id="q2",
            customer_id="sme-4",
            rule="duplicate_suspect",
            segment="sme",
            flagged_at=t,
        ),
        event(
            "customer.gaps_detected",
            t,
            customer_id="sme-5",
            segment="sme",
            missing_fields=["email", "birthday"],
            detected_at=t,
        ),
        event(
            "followup.created",
            t,
            followup_id="f1",
            kind="callback",
            customer_id="sme-6",
            source_call_id="sme-6-m1",
            due_at=t + timedelta(days=1),
            created_at=t,
            reason="asked to be called back",
        ),
        event(
            "call.assigned",
            utc(2025, 1, 1),
            call_id="retail-2-m1",
            customer_id="retail-2",
            agent_id="a-9",
            agent_kind="partner",
            partner_id="p-good",
            team="out-1",
            assigned_at=utc(2025, 1, 1),
        ),
        event(
            "call.missed",
            utc(2025, 6, 16),
            call_id="sme-7-m6",
            customer_id="sme-7",
            channel="phone",
            due_at=utc(2025, 6, 15, 2),
            missed_at=utc(2025, 6, 16),
            segment="sme",
        ),
        event(
            "customer.updated",
            utc(2025, 2, 1),
            customer_id="cp-1",
            segment="corporate",
            changes={"segment": {"old": None, "new": "corporate"}},
        ),
    ]
