"""Cursor pagination for every list: an opaque cursor encoding the last sort key."""

from __future__ import annotations

import base64
import json
from datetime import datetime

from marshmallow import Schema, fields, validate

from shared.errors import Invalid


class PageArgs(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))
    cursor = fields.String(load_default=None, validate=validate.Length(max=500))


def encode_cursor(*key) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(key)).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, arity: int) -> list | None:
    if not cursor:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except ValueError as exc:
        raise _not_ours() from exc
    if not isinstance(key, list) or len(key) != arity:
        raise _not_ours()
    return key


def decode_time_cursor(cursor: str | None) -> tuple[datetime, str] | None:
    """A cursor over ``(timestamp, id)``, the order of most lists here."""
    key = decode_cursor(cursor, 2)
    if key is None:
        return None
    when: datetime | None
    try:
        when, row_id = datetime.fromisoformat(key[0]), key[1]
    except (TypeError, ValueError):
        when = row_id = None
    if when is None or when.tzinfo is None or not isinstance(row_id, str):
        raise _not_ours()
    return when, row_id


def decode_text_cursor(cursor: str | None) -> str | None:
    """A cursor over one text key (a code, say)."""
    key = decode_cursor(cursor, 1)
    if key is None:
        return None
    if not isinstance(key[0], str):
        raise _not_ours()
    return key[0]


def _not_ours() -> Invalid:
    return Invalid(
        "the cursor is not one this API issued", errors={"cursor": ["not a valid cursor"]}
    )


def page(rows: list, limit: int, key) -> dict:
    """``rows`` was fetched with ``limit + 1``; return the page and the next cursor."""
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": rows, "next_cursor": encode_cursor(*key(rows[-1])) if more else None}


def page_schema(item_schema, name: str):
    return Schema.from_dict(
        {
            "items": fields.List(fields.Nested(item_schema)),
            "next_cursor": fields.String(allow_none=True),
        },
        name=name,
    )
