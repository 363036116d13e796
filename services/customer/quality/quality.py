"""Data quality: irregularity rules, fix-it items and the summary by rule and
segment.

Rules the scan evaluates over the whole base (an item they raised is resolved by
the scan itself once its finding is gone, or by a person):
- ``shared_phone``: one phone number on several live customers;
- ``invalid_contact``: a contact point reported invalid or bouncing;
- ``stale_profile``: neither updated nor contacted for the segment's ``stale_after_days``;
- ``incomplete``: a required field of the segment is missing;
- ``impossible_value``: a birth date in the future or before 1900, a negative
  lifetime revenue, a last contact in the future.
Rules raised as events arrive (resolved by a person only):
- ``dnc_call_logged``: call findings logged for a do-not-call customer;
- ``opt_out_notice_missing``: a first contact that does not record the opt-out notice;
- ``confirmed_value_invalid``: a value confirmed on a call that the profile refuses
  (``confirmations``, which also resolves ``incomplete`` once nothing is missing).
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

from sqlalchemy import and_, bindparam, func, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite

from services.customer.profiles.tables import ContactPoint, Customer
from services.customer.profiles.versions import SCALARS, completeness, snapshot_of
from services.customer.quality.tables import QualityItem
from services.customer.segments.tables import Segment
from services.customer.tables import new_id
from shared.clock import utcnow
from shared.errors import Conflict, NotFound
from shared.web.pagination import decode_time_cursor, page

SCANNED = ("shared_phone", "invalid_contact", "stale_profile", "incomplete", "impossible_value")
LIVE = and_(Customer.merged_into.is_(None), Customer.lifecycle_status != "archived")


def flag(work, rule: str, customer: Customer | None, detail: str, key: str) -> bool:
    """Raise a fix-it item unless the same finding is already on file."""
    known = work.session.info.setdefault("quality_keys", set())
    if key in known:  # looked up (or raised) already in this transaction
        return False
    known.add(key)
    now = utcnow()
    item = {
        "id": new_id(),
        "key": key,
        "rule": rule,
        "customer_id": customer and customer.id,
        "segment": customer and customer.segment,
        "detail": detail,
        "created_at": now,
    }
    # One statement asks and raises: the key is unique, and an item already on
    # file (open or resolved) makes the insert do nothing and return no row.
    connection = work.session.connection()
    if connection.execute(_raise_new(connection.dialect.name), item).first() is None:
        return False
    work.emit(
        "customer.quality_flagged",
        {
            "item_id": item["id"],
            "customer_id": item["customer_id"],
            "rule": rule,
            "segment": item["segment"],
            "detail": detail,
            "flagged_at": now,
        },
    )
    return True


_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


@cache
def _raise_new(dialect: str):
    table = QualityItem.__table__
    names = ("id", "key", "rule", "customer_id", "segment", "detail", "created_at")
    return (
        _INSERTS[dialect](table)
        .values({**{name: bindparam(name) for name in names}, "status": "open"})
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(table.c.id)
    )


def _findings(session, now) -> dict[str, tuple[str, Customer | None, str]]:
    """Every current finding of the scanned rules: key -> (rule, customer, detail)."""
    found: dict[str, tuple[str, Customer | None, str]] = {}
    shared = (
        select(ContactPoint.value)
        .join(Customer, Customer.id == ContactPoint.customer_id)
        .where(LIVE, ContactPoint.kind == "phone")
        .group_by(ContactPoint.value)
        .having(func.count(func.distinct(ContactPoint.customer_id)) > 1)
    )
    for value in session.scalars(shared):
        owners = list(
            session.scalars(
                select(Customer)
                .join(ContactPoint, ContactPoint.customer_id == Customer.id)
                .where(LIVE, ContactPoint.kind == "phone", ContactPoint.value == value)
                .order_by(Customer.id)
            )
        )
        found[f"shared_phone:{value}"] = (
            "shared_phone",
            owners[0],
            f"phone {value} is on {len(owners)} customers: " + ", ".join(c.id for c in owners),
        )
    bad = session.execute(
        select(ContactPoint, Customer)
        .join(Customer, Customer.id == ContactPoint.customer_id)
        .where(LIVE, ContactPoint.status.in_(("invalid", "bouncing")))
    )
    for point, customer in bad:
        found[f"invalid_contact:{point.id}"] = (
            "invalid_contact",
            customer,
            f"{point.kind} {point.value} is {point.status}",
        )
    segments = {s.code: s for s in session.scalars(select(Segment))}
    kinds: dict[str, set[str]] = {}
    for customer_id, kind in session.execute(select(ContactPoint.customer_id, ContactPoint.kind)):
        kinds.setdefault(customer_id, set()).add(kind)
    for customer in session.scalars(select(Customer).where(LIVE)):
        _profile_findings(
            customer, kinds.get(customer.id, set()), segments[customer.segment], now, found
        )
    return found


def _profile_findings(customer, kinds: set[str], segment, now, found) -> None:
    cutoff = now - timedelta(days=segment.stale_after_days)
    if customer.updated_at < cutoff and (
        customer.last_contacted_at is None or customer.last_contacted_at < cutoff
    ):
        found[f"stale_profile:{customer.id}"] = (
            "stale_profile",
            customer,
            f"not updated or contacted for over {segment.stale_after_days} days",
        )
    if segment.required_fields:
        points = [{"kind": k, "value": "", "do_not_contact": False} for k in kinds]
        missing = completeness(
            snapshot_of({f: getattr(customer, f) for f in SCALARS}, points), segment.required_fields
        )["missing"]
        if missing:
            found[f"incomplete:{customer.id}"] = (
                "incomplete",
                customer,
                "missing: " + ", ".join(missing),
            )
    checks = {
        "date_of_birth": customer.date_of_birth is not None
        and not (date(1900, 1, 1) <= customer.date_of_birth <= now.date()),
        "lifetime_revenue": (customer.lifetime_revenue or 0) < 0,
        "last_contacted_at": customer.last_contacted_at is not None
        and customer.last_contacted_at > now + timedelta(minutes=5),
    }
    for field, impossible in checks.items():
        if impossible:
            found[f"impossible_value:{customer.id}:{field}"] = (
                "impossible_value",
                customer,
                f"{field} = {getattr(customer, field)}",
            )


def scan(uow, actor: str) -> dict:
    """Evaluate every scanned rule; raise new items, resolve the ones now gone."""
    with uow() as work:
        now = utcnow()
        found = _findings(work.session, now)
        raised = sum(
            flag(work, rule, customer, detail, key)
            for key, (rule, customer, detail) in found.items()
        )
        open_items = work.session.scalars(
            select(QualityItem).where(QualityItem.status == "open", QualityItem.rule.in_(SCANNED))
        )
        resolved = 0
        for item in open_items:
            if item.key not in found:
                _resolve(work, item, "scan", "no longer found by the scan", now)
                resolved += 1
    return {"findings": len(found), "raised": raised, "resolved": resolved}


def _resolve(work, item: QualityItem, actor: str, resolution: str, now) -> None:
    item.status, item.resolved_at = "resolved", now
    item.resolved_by, item.resolution = actor, resolution
    # A resolved finding may come back: free its key for a new item.
    item.key = f"{item.key}#resolved:{item.id}"[:200]
    work.emit(
        "customer.quality_resolved",
        {
            "item_id": item.id,
            "customer_id": item.customer_id,
            "rule": item.rule,
            "segment": item.segment,
            "resolution": resolution,
            "resolved_at": now,
        },
    )


resolve_item = _resolve  # for use cases that resolve an item in their own transaction


def resolve(uow, item_id: str, actor: str, resolution: str) -> QualityItem:
    with uow() as work:
        item = work.session.get(QualityItem, item_id)
        if item is None:
            raise NotFound(f"no data-quality item {item_id}")
        if item.status != "open":
            raise Conflict(f"item {item_id} was already resolved")
        _resolve(work, item, actor, resolution, utcnow())
    return item


def summary(uow) -> dict:
    with uow.reader() as session:
        rows = session.execute(
            select(QualityItem.rule, QualityItem.segment, func.count())
            .where(QualityItem.status == "open")
            .group_by(QualityItem.rule, QualityItem.segment)
            .order_by(QualityItem.rule, QualityItem.segment)
        ).all()
        live = session.scalar(select(func.count()).select_from(Customer).where(LIVE))
    by_rule: dict[str, int] = {}
    for rule, _, count in rows:
        by_rule[rule] = by_rule.get(rule, 0) + count
    return {
        "customers": live,
        "open_items": sum(by_rule.values()),
        "by_rule": by_rule,
        "by_rule_and_segment": [{"rule": r, "segment": s, "open": c} for r, s, c in rows],
    }


def list_items(uow, filters: dict, limit: int, cursor: str | None) -> dict:
    query = (
        select(QualityItem)
        .order_by(QualityItem.created_at.desc(), QualityItem.id.desc())
        .limit(limit + 1)
    )
    for field in ("rule", "segment", "status", "customer_id"):
        if filters.get(field):
            query = query.where(getattr(QualityItem, field) == filters[field])
    before = decode_time_cursor(cursor)
    if before:
        query = query.where(tuple_(QualityItem.created_at, QualityItem.id) < before)
    with uow.reader() as session:
        rows = list(session.scalars(query))
    return page(rows, limit, lambda i: (i.created_at.isoformat(), i.id))
