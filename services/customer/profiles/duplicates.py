"""Duplicate candidates: on registration (a few indexed look-ups) and over the
whole base (one GROUP BY for shared contact points, sorted neighbourhood for
names and addresses; see matching.py)."""

from __future__ import annotations

from sqlalchemy import and_, bindparam, func, select

from services.customer.profiles import matching
from services.customer.profiles.tables import ContactPoint, Customer

LIVE = Customer.merged_into.is_(None)

# The look-ups of a registration, built once with their values bound at execution:
# SQLAlchemy keeps a built statement's cache key, where a statement built on every
# call is constructed and walked again each time.
_SAME_POINT = (
    select(Customer.id, Customer.name)
    .join(ContactPoint, ContactPoint.customer_id == Customer.id)
    .where(LIVE, ContactPoint.kind == bindparam("kind"), ContactPoint.value == bindparam("value"))
)
_NEIGHBOUR_COLUMNS = (Customer.id, Customer.name, Customer.name_key, Customer.address)
# For each sort order the finder walks (the key, then the key reversed): the
# profiles at and after the key, then those before it.
_NEIGHBOURS = tuple(
    (
        reverse,
        select(*_NEIGHBOUR_COLUMNS)
        .where(LIVE, column >= bindparam("key"))
        .order_by(column)
        .limit(matching.WINDOW),
        select(*_NEIGHBOUR_COLUMNS)
        .where(LIVE, column < bindparam("key"))
        .order_by(column.desc())
        .limit(matching.WINDOW),
    )
    for reverse, column in ((False, Customer.name_key), (True, Customer.name_rkey))
)


def keys(name: str) -> dict:
    key = matching.name_key(name)
    return {"name_key": key, "name_rkey": key[::-1]}


def candidates_for(session, name: str, address: dict | None, points: list[dict]) -> list[dict]:
    """Profiles on file a new one may duplicate, best first."""
    found: dict[str, dict] = {}
    for point in points:
        rows = session.execute(_SAME_POINT, {"kind": point["kind"], "value": point["value"]})
        for row in rows:
            found[row.id] = {
                "customer_id": row.id,
                "name": row.name,
                "score": 1.0,
                "reason": f"same {point['kind']} {point['value']}",
            }
    new = matching.Profile("", matching.name_key(name), matching.address_key(address))
    for neighbour in _neighbours(session, new.name_key):
        if neighbour.id in found:
            continue
        other = matching.Profile(
            neighbour.id, neighbour.name_key, matching.address_key(neighbour.address)
        )
        score = matching.score(new, other)
        if score >= matching.THRESHOLD:
            found[neighbour.id] = {
                "customer_id": neighbour.id,
                "name": neighbour.name,
                "score": score,
                "reason": "similar name and address",
            }
    return sorted(found.values(), key=lambda c: -c["score"])


def _neighbours(session, key: str) -> list:
    """The profiles next to ``key`` in both sort orders the finder walks."""
    rows = []
    for reverse, at_and_after, before in _NEIGHBOURS:
        bound = {"key": key[::-1] if reverse else key}
        rows += session.execute(at_and_after, bound).all()
        rows += session.execute(before, bound).all()
    return list({r.id: r for r in rows}.values())


def find_all(session, threshold: float = matching.THRESHOLD) -> tuple[list[dict], int]:
    """Every candidate pair over the base, best first, and how many comparisons it took."""
    pairs: dict[tuple[str, str], dict] = {}
    shared = (
        select(ContactPoint.kind, ContactPoint.value)
        .join(Customer, Customer.id == ContactPoint.customer_id)
        .where(LIVE)
        .group_by(ContactPoint.kind, ContactPoint.value)
        .having(func.count(func.distinct(ContactPoint.customer_id)) > 1)
    ).subquery()
    groups: dict[tuple[str, str], list[str]] = {}
    for row in session.execute(
        select(ContactPoint.kind, ContactPoint.value, ContactPoint.customer_id)
        .join(
            shared, and_(shared.c.kind == ContactPoint.kind, shared.c.value == ContactPoint.value)
        )
        .join(Customer, Customer.id == ContactPoint.customer_id)
        .where(LIVE)
    ):
        groups.setdefault((row.kind, row.value), []).append(row.customer_id)
    for (kind, value), ids in groups.items():
        ids = sorted(set(ids))
        for i, a in enumerate(ids):
            for b in ids[i + 1 :]:
                pairs[(a, b)] = {"score": 1.0, "reason": f"same {kind} {value}"}
    profiles = (
        matching.Profile(r.id, r.name_key, matching.address_key(r.address))
        for r in session.execute(
            select(Customer.id, Customer.name_key, Customer.address).where(LIVE)
        )
    )
    finding = matching.find_fuzzy(profiles, threshold=threshold)
    for pair, score in finding.pairs.items():
        pairs.setdefault(pair, {"score": score, "reason": "similar name and address"})
    result = [{"customer_id": a, "other_id": b, **v} for (a, b), v in pairs.items()]
    return sorted(
        result, key=lambda p: (-p["score"], p["customer_id"], p["other_id"])
    ), finding.comparisons
