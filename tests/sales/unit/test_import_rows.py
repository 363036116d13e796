"""The sales import's fast paths against what they replace: a sale loaded through
its fields (cells remembered) answers exactly what ``Schema.load`` answers, or
steps aside; a ``sale.recorded`` built by hand is the contract's own."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from decimal import Decimal

from marshmallow import ValidationError

from services.sales.imports import rows as import_rows
from shared.events import make_event, parse_event
from shared.messaging import outbox
from shared.web import row_fields

CELLS = {
    "external_ref": ["INV-1", "x" * 100, "x" * 101, ""],
    "customer_id": ["c1", "C00042", "", "y" * 65],
    "recorded_at": [
        "2026-03-01T10:00:00+08:00",
        "2026-03-01T10:00:00",
        "2999-01-01T00:00Z",
        "yesterday",
        "",
    ],
    "currency": ["HKD", "usd", "EURO", ""],
    "channel": ["phone", "fax", ""],
    "sku": ["TEA-1", "", "s" * 65],
    "description": ["Tea", "", "d" * 201],
    "quantity": ["1", "0", "-1", "2.5", "1.00001", "abc", "1e3", ""],
    "unit_price": ["19.99", "0", "-0.01", "NaN", "", "99999999999999"],
    "discount": ["0", "1.5", "-1", ""],
}


def _rows(rng: random.Random, n: int) -> list[tuple[int, dict]]:
    rows = []
    for line in range(2, 2 + n):
        rows.append(
            (
                line,
                {
                    column: cells[0] if rng.random() < 0.9 else rng.choice(cells)
                    for column, cells in CELLS.items()
                },
            )
        )
    for _, record in rows[1:]:
        record["external_ref"] = rows[0][1]["external_ref"]
        record["customer_id"] = ""
    return rows


def test_the_fast_path_answers_what_schema_load_answers():
    rng = random.Random(5)
    accepted = refused = 0
    for _ in range(1500):
        group = import_rows.Group(2, "", _rows(rng, rng.randint(1, 3)))
        data, problems = import_rows._from_csv(group)
        if problems:
            continue
        fast = row_fields.load(import_rows.SCHEMA, data, remember=True)
        try:
            expected = import_rows.SCHEMA.load(data)
        except ValidationError:
            assert fast is None, data
            refused += 1
            continue
        assert fast is not None and fast == expected, data
        accepted += 1
    assert accepted > 200 and refused > 200


def test_a_remembered_cell_is_still_refused_where_its_field_refuses_it():
    """The memory is per field: "1" is a good quantity, and a cell is remembered
    only once accepted; a date is never remembered (the clock moves)."""
    sale = {
        "external_ref": "R",
        "customer_id": "c1",
        "recorded_at": "2999-01-01T00:00:00Z",
        "lines": [{"quantity": "1", "unit_price": "1", "unit_cost": "1"}],
    }
    for _ in range(2):
        assert row_fields.load(import_rows.SCHEMA, sale, remember=True) is None
    assert all(
        not isinstance(key[0], type(import_rows.SCHEMA.fields["recorded_at"]))
        for key in row_fields._SEEN
    )


def _payload(rng: random.Random) -> dict:
    lines = [
        {
            "sku": rng.choice(["TEA-1", None]),
            "description": rng.choice(["Tea", None]),
            "quantity": Decimal(rng.randint(1, 9)).quantize(Decimal("0.0001")),
            "unit_price": Decimal(rng.randint(0, 99999)).scaleb(-2).quantize(Decimal("0.0001")),
            "unit_cost": Decimal("0.5000"),
            "discount": Decimal("0.0000"),
        }
        for _ in range(rng.randint(1, 4))
    ]
    return {
        "sale_id": f"s{rng.random()}",
        "customer_id": "c1",
        "currency": rng.choice(["HKD", "USD"]),
        "recorded_at": datetime(2026, 3, 1, rng.randint(0, 23), tzinfo=UTC),
        "revenue": Decimal(rng.randint(0, 10**6)).scaleb(-2),
        "cost": Decimal("1.00"),
        "discount": Decimal("0.00"),
        "segment": rng.choice(["smb", None]),
        "deal_id": None,
        "source_call_id": rng.choice(["call-1", None]),
        "lines": lines,
        "external_ref": rng.choice(["INV-1", None]),
    }


def test_the_events_of_an_import_are_the_contracts_own():
    rng = random.Random(3)
    payloads = [_payload(rng) for _ in range(300)]
    rows = list(outbox.rows(outbox.Origin("sales"), "sale.recorded", payloads, datetime.now(UTC)))
    for payload, row in zip(payloads, rows):
        event = parse_event(row["body"])
        expected = make_event("sale.recorded", payload, producer="sales")
        assert event.payload == expected.payload
        assert json.loads(row["body"])["payload"] == expected.wire_payload
    assert len({row["event_id"] for row in rows}) == len(rows)
