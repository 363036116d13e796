"""Query pieces every report shares: the period, the dimension filters, grouping
keys over days, and the segment of a customer (``unknown`` until it is known)."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func

from services.reporting.tables import CustomerDim
from shared import clock
from shared.errors import Invalid

UNKNOWN_SEGMENT = "unknown"
FILTERS = {
    "segment": "segment",
    "channel": "channel",
    "team": "team",
    "agent_kind": "agent_kind",
    "partner": "partner_id",
}


def check_period(start: date | None, end: date | None) -> None:
    if start and end and start > end:
        raise Invalid(
            "the period ends before it starts", errors={"from": [f"{start} is after 'to' ({end})."]}
        )


def default_period(args: dict, zone: ZoneInfo, days: int) -> tuple[date, date]:
    end = args.get("end") or clock.now().astimezone(zone).date()
    start = args.get("start") or end - timedelta(days=days - 1)
    check_period(start, end)
    return start, end


def where_period(query, column, start, end):
    if start:
        query = query.where(column >= start)
    if end:
        query = query.where(column <= end)
    return query


def where_dimensions(query, model, args: dict):
    """Apply each given filter to the model's column of that dimension; a partner
    filter of ``staff`` is not special: staff rows have partner ""."""
    for arg, column in FILTERS.items():
        value = args.get(arg)
        if value is not None and hasattr(model, column):
            query = query.where(getattr(model, column) == value)
    return query


def segment_of(customer_column):
    return func.coalesce(CustomerDim.segment, UNKNOWN_SEGMENT)


def join_segment(query, customer_column, segment: str | None):
    query = query.outerjoin(CustomerDim, CustomerDim.customer_id == customer_column)
    if segment is not None:
        query = query.where(segment_of(customer_column) == segment)
    return query


def group_key(group_by: str, day: date) -> str:
    if group_by == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    if group_by == "month":
        return day.strftime("%Y-%m")
    return day.isoformat()


def ratio(part, whole, places: int = 4):
    return round(part / whole, places) if whole else None
