"""Answer a report as JSON, streamed CSV or a PNG chart.

Each report module offers ``table(report) -> (columns, rows)`` and
``chart(report, charts) -> bytes``; JSON is the report itself.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal

from flask import Response, stream_with_context

from services.reporting.reports import charts

EDGES = {"start": "from", "end": "to"}  # a period is answered as the query named it


def plain(value):
    """A JSON- and CSV-friendly value: dates ISO, money as strings."""
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def respond(name: str, report: dict, fmt: str, module):
    if fmt == "csv":
        return csv_response(name, *module.table(report))
    if fmt == "png":
        return Response(module.chart(report, charts), mimetype="image/png")
    return plain({EDGES.get(k, k): v for k, v in report.items()})


def csv_response(name: str, columns: list, rows) -> Response:
    def lines():
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_cell(v) for v in row])
            if buffer.tell() > 8192:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    return Response(
        stream_with_context(lines()),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


def _cell(value):
    value = plain(value)
    if isinstance(value, (dict, list)):
        return (
            "; ".join(f"{k}={v}" for k, v in value.items())
            if isinstance(value, dict)
            else "; ".join(map(str, value))
        )
    if isinstance(value, str) and value[:1] in ("=", "+", "@", "\t", "\r"):
        return "'" + value  # a spreadsheet must not run a segment name as a formula
    return "" if value is None else value
