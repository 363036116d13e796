"""A CSV of outcomes turned into the items ``POST /partner/outcomes`` takes, and its
answer into a per-row report. The file is refused whole (nothing recorded) when it
is not a CSV this page documents; each row is then judged by the API's own schema
and use case (``outcomes.record_outcomes``), so a bad row refuses only itself."""

from __future__ import annotations

import csv
import io

from services.calls.calls.outcome_schemas import MAX_BULK
from services.calls.workspace.form import _number, field_errors
from shared.events.contracts import OUTCOMES

MAX_BYTES = 1024 * 1024
REQUIRED = ("call_id", "outcome")
# (column, what it holds): shown on the upload page, so the page and parser agree.
COLUMNS = (
    ("call_id", "the call's id, as in your queue (required)"),
    ("outcome", "one of: " + ", ".join(OUTCOMES) + " (required)"),
    ("satisfaction", "1 to 5, when reached"),
    ("propensity", "0 to 100, when reached"),
    ("duration_seconds", "whole seconds (0 when empty)"),
    ("notes", "free text, at most 2,000 characters"),
    ("completed_at", "ISO 8601 time with its zone, e.g. 2026-12-01T10:30:00+08:00"),
    ("callback_at", "ISO 8601 time with its zone, when a callback is requested"),
    ("competitor_mentions", "competitors named, separated by semicolons"),
    ("opt_out_notice_given", "yes or no"),
)
NUMBERS = ("satisfaction", "propensity", "duration_seconds")


class BadFile(ValueError):
    """The file as a whole is not one this page takes; nothing is recorded."""


def items(raw: bytes) -> list[dict]:
    """The bulk API's items, one per data row, in file order."""
    if len(raw) > MAX_BYTES:
        raise BadFile(f"The file is larger than {MAX_BYTES // 1024} KB; split it.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadFile("The file is not UTF-8 text; save it as CSV UTF-8.") from None
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    try:
        header = reader.fieldnames or []
        unknown = [h for h in header if h not in dict(COLUMNS)]
        missing = [c for c in REQUIRED if c not in header]
        if not header or unknown or missing or len(set(header)) != len(header):
            raise BadFile(
                "The first line must name the columns listed below"
                + (f"; unknown: {', '.join(unknown)}" if unknown else "")
                + (f"; missing: {', '.join(missing)}" if missing else "")
                + ("; a column is named twice" if len(set(header)) != len(header) else "")
                + "."
            )
        rows = []
        for row in reader:
            if None in row:
                raise BadFile(f"Line {reader.line_num} has more values than columns.")
            rows.append(_item(row))
            if len(rows) > MAX_BULK:
                raise BadFile(f"The file has more than {MAX_BULK} rows; split it.")
    except csv.Error as exc:
        raise BadFile(f"The file is not valid CSV (line {reader.line_num}: {exc}).") from None
    if not rows:
        raise BadFile("The file has no rows under its header.")
    return rows


def _item(row: dict) -> dict:
    """Only what the row gives: an empty cell is left out, so the API's default holds.
    Values are typed only where CSV cannot (numbers, yes/no, lists); anything that
    does not convert is passed on, so the refusal is the API's own message."""
    item = {}
    for name, value in row.items():
        value = (value or "").strip()
        if not value:
            continue
        if name in NUMBERS:
            item[name] = _number(value)
        elif name == "opt_out_notice_given":
            item[name] = {"yes": True, "no": False}.get(value.lower(), value)
        elif name == "competitor_mentions":
            item[name] = [m.strip() for m in value.split(";") if m.strip()]
        else:
            item[name] = value
    return item


def report(answer: dict) -> list[dict]:
    """One line per data row: its line number in the file, its call, what happened.
    A call the partner may not name is "not in your work", whatever the reason."""
    lines = []
    for result in answer["results"]:
        line = {
            "row": result["index"] + 2,
            "call_id": result.get("call_id"),
            "result": result["result"],
            "reasons": [],
        }
        if result["result"] == "rejected":
            if result["status"] == 404:
                line["reasons"] = ["This call is not in your work."]
            else:
                errors = field_errors(result.get("errors"))
                line["reasons"] = [f"{k}: {' '.join(v)}" for k, v in errors.items()] or [
                    result.get("detail", "refused")
                ]
        lines.append(line)
    return lines
