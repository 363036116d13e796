"""A large export contribution is cut into numbered parts of bounded size that join
back to exactly what was cut, and every one of them passes the event contract."""

import json
from datetime import UTC, datetime
from decimal import Decimal

from shared.events import make_event
from shared.events.export_parts import cut, join, payloads, plain

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_sections_over_the_budget_are_cut_into_parts_that_join_back():
    sections = {
        "calls": [{"id": f"call-{i}", "notes": "x" * 100} for i in range(50)],
        "partner_reads": [],
        "deals": [{"id": "d1"}],
    }
    parts = cut(sections, budget=1000)
    assert len(parts) > 5
    assert all(len(json.dumps(part)) < 1000 + 200 for part in parts)
    assert set(parts[0]) == {"calls", "partner_reads", "deals"}  # empty ones named too
    assert join(parts) == sections


def test_a_record_larger_than_the_budget_travels_alone():
    big = {"id": "big", "notes": "x" * 5000}
    parts = cut({"calls": [{"id": "a"}, big, {"id": "b"}]}, budget=1000)
    assert [p["calls"] for p in parts] == [[{"id": "a"}], [big], [{"id": "b"}]]


def test_every_part_is_a_valid_event_numbered_in_order():
    request = {"export_id": "x1", "customer_id": "c1"}
    sections = {
        "sales": [
            {"id": f"s{i}", "revenue": plain(Decimal("12.5000")), "recorded_at": plain(NOW)}
            for i in range(40)
        ]
    }
    answers = payloads(request, "sales", sections, NOW, budget=500)
    assert [(p["part"], p["parts"]) for p in answers] == [
        (n, len(answers)) for n in range(1, len(answers) + 1)
    ]
    events = [make_event("subject.export_contributed", p, producer="sales") for p in answers]
    assert join([e.payload["sections"] for e in events]) == sections
    assert sections["sales"][0]["revenue"] == "12.50"
    assert sections["sales"][0]["recorded_at"] == "2026-03-02T09:00:00+00:00"


def test_money_keeps_a_finer_part_than_cents():
    assert (plain(Decimal("0.0050")), plain(Decimal("3.0000")), plain(Decimal("100"))) == (
        "0.005",
        "3.00",
        "100.00",
    )
