"""A service's answer to a data access request, cut into events of bounded size.

A service answering ``subject.export_requested`` may hold many records about one
person (years of calls, hundreds of sales); one event carrying them all would
outgrow what an outbox row and a broker message comfortably carry. ``payloads``
cuts the sections into parts of at most ``BUDGET`` bytes of JSON each (a record
larger than that travels alone), numbered so the customer service can tell when
it has them all and put them back together in order (``join``).
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

BUDGET = 256 * 1024
CENT = Decimal("0.01")


def plain(value):
    """A column value in wire form: times and dates as ISO 8601, money as a decimal
    string."""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        # Stored in ten-thousandths: shown to the cent unless a finer part is there.
        cents = value.quantize(CENT)
        return str(cents) if cents == value else format(value.normalize(), "f")
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def record(row, names) -> dict:
    """The named attributes of an ORM row, in wire form."""
    return {name: plain(getattr(row, name)) for name in names}


def _size(item: dict) -> int:
    return len(json.dumps(item, separators=(",", ":"), default=str))


def cut(sections: dict[str, list[dict]], budget: int = BUDGET) -> list[dict]:
    """The sections cut into parts of at most ``budget`` bytes; the first part names
    every section, even an empty one, so the reader sees what was looked at."""
    parts: list[dict[str, list[dict]]] = [{name: [] for name in sections}]
    size = 0
    for name, records in sections.items():
        for item in records:
            length = _size(item)
            if size and size + length > budget:
                parts.append({})
                size = 0
            parts[-1].setdefault(name, []).append(item)
            size += length
    return parts


def payloads(
    request: dict,
    service: str,
    sections: dict[str, list[dict]],
    now: datetime,
    budget: int = BUDGET,
) -> list[dict]:
    """The ``subject.export_contributed`` payloads answering ``request``."""
    parts = cut(sections, budget)
    return [
        {
            "export_id": request["export_id"],
            "customer_id": request["customer_id"],
            "service": service,
            "part": number,
            "parts": len(parts),
            "sections": part,
            "contributed_at": now,
        }
        for number, part in enumerate(parts, start=1)
    ]


def join(parts: list[dict]) -> dict[str, list[dict]]:
    """The sections of parts given in part order, put back together."""
    sections: dict[str, list[dict]] = {}
    for part in parts:
        for name, records in part.items():
            sections.setdefault(name, []).extend(records)
    return sections
