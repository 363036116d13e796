"""The part of an import that needs no database, one chunk at a time: rows read and
checked (``row_validation.load``) and, for each good row, everything its creation as a new
customer would write, made ready for the driver (profile, contact points, first
version, ``customer.registered``).

It runs in the import's worker processes (``pipeline``), a few chunks ahead
of the writes. Nothing here depends on what is on file: whether a row really is
new (its ``external_ref`` unknown, its phone and e-mail no one's) is decided when
its chunk is written (``chunk_writes``), and a row that is not discards what was
made for it. Results travel back between processes, so they are plain tuples of
driver-ready values: unpickling a dict or an object per field would cost the
importing process more than the writes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from services.customer.imports import row_validation as import_rows
from services.customer.profiles import duplicates
from services.customer.profiles.tables import ContactPoint, Customer, CustomerVersion
from services.customer.profiles.versions import completeness, snapshot_of
from services.customer.segments.segments import REQUIRABLE
from services.customer.tables import Outbox
from shared.bulk_writes import Rows, dialect_for
from shared.clock import utcnow
from shared.ids import ordered_id
from shared.messaging import outbox

# Columns an import never fills (relationship state, merges, notices) are left out.
UNSET = (
    "opt_out_notice_at",
    "referred_by_call_id",
    "merged_into",
    "last_contacted_at",
    "satisfaction",
    "satisfaction_avg",
    "satisfaction_trend",
    "propensity",
    "relationship_score",
)
EMPTY = {c.key: None for c in Customer.__table__.columns if c.key not in UNSET}
TABLES = {
    "customers": (Customer, tuple(EMPTY)),
    "contact_points": (
        ContactPoint,
        ("id", "customer_id", "kind", "value", "do_not_contact", "status"),
    ),
    "customer_versions": (
        CustomerVersion,
        (
            "id",
            "customer_id",
            "version",
            "changed_at",
            "actor",
            "source",
            "reason",
            "changes",
            "snapshot",
        ),
    ),
    "outbox": (Outbox, outbox.COLUMNS),
}


@dataclass(frozen=True)
class Setup:
    """What every chunk of one job is prepared with (sent to the workers)."""

    fmt: str
    actor: str
    producer: str
    drivername: str  # the engine's, e.g. "sqlite" or "postgresql+psycopg"
    requirable: frozenset = frozenset(REQUIRABLE)  # fields a segment may require
    correlation_id: str | None = None
    causation_id: str | None = None


# A piece's rows cross back to the importing process as plain tuples: a named tuple
# costs a Python call a row to unpickle there, where every row's work is serial.
#
# A row: (line, why it is rejected or None, external_ref, segment, new customer or None).
Row = tuple[int, dict | None, str | None, str | None, "NewCustomer | None"]
# A new customer: (id, registered at, ((kind, value), …) for the duplicate checks,
# which of ``Setup.requirable`` the profile lacks, then its rows made ready for the
# driver: customer, contact points (a tuple of rows), first version, event).
NewCustomer = tuple[str, datetime, tuple, tuple, tuple, tuple, tuple, tuple]


@dataclass
class Prepared:
    rows: list[Row]
    statements: dict[str, str]  # table name → the statement its rows are ready for


@lru_cache(maxsize=8)
def inserts(drivername: str) -> dict[str, Rows]:
    dialect = dialect_for(drivername)
    return {
        name: Rows.insert(model.__table__, keys, dialect) for name, (model, keys) in TABLES.items()
    }


def prepare(setup: Setup, batch: list[tuple[int, dict | None, str | None]]) -> Prepared:
    """``batch``: (line, record or None, why it could not be read) per row."""
    ready = inserts(setup.drivername)
    now, requirable = utcnow(), sorted(setup.requirable)
    ids = new_ids()
    if setup.fmt == "csv":
        import_rows.normalise_ahead([record for _, record, _ in batch if record is not None])
    loaded = [(line, *import_rows.load(record, error, setup.fmt)) for line, record, error in batch]
    made = [
        _new_customer(data, setup, ready, now, requirable, ids)
        for _, data, _ in loaded
        if data is not None
    ]
    # The piece's events in one run of the outbox (each payload checked against
    # the contract there), in the order of their rows. The importing process's
    # correlation, which a worker's own context lacks.
    origin = outbox.Origin(setup.producer, setup.correlation_id, setup.causation_id)
    events = outbox.values(origin, "customer.registered", [payload for _, payload in made], now)
    new = (
        (*rows, ready["outbox"].row_of(event))
        for (rows, _), event in zip(made, events, strict=True)
    )
    out: list[Row] = [
        (line, reasons, None, None, None)
        if data is None
        else (line, None, data.get("external_ref"), data["segment"], next(new))
        for line, data, reasons in loaded
    ]
    return Prepared(out, {name: ready[name].sql for name in ready})


def new_ids() -> Iterator[str]:
    """Time-ordered ids (``shared.ids``), as text like ``models.new_id``'s: a chunk's
    rows are added at the end of every index on an id instead of all over it."""
    while True:
        yield ordered_id()


# A file repeats its family and given names: each name's keys are made once.
name_keys = lru_cache(maxsize=8192)(duplicates.keys)


def _new_customer(
    data: dict, setup: Setup, ready: dict, now: datetime, requirable: list[str], ids: Iterator[str]
) -> tuple[tuple, dict]:
    """A new customer but its event (``NewCustomer`` without the last), and the
    payload of its ``customer.registered``."""
    values = {
        "kind": "person",
        "lifecycle_status": "active",
        "tags": [],
        "do_not_call": False,
        **data,
    }
    points = [p for kind in values.pop("contact_points").values() for p in kind]
    customer_id = next(ids)
    phone = next((p["value"] for p in points if p["kind"] == "phone"), None)
    email = next((p["value"] for p in points if p["kind"] == "email"), None)
    customer = {
        **EMPTY,
        **values,
        **name_keys(values["name"]),
        "id": customer_id,
        "phone": phone,
        "email": email,
        "source": "import",
        "version": 1,
        "created_at": now,
        "updated_at": now,
        "calls_completed": 0,
        "lifetime_revenue": 0,
        "lifetime_margin": 0,
        "opt_out_notice_flagged": False,
    }
    contact = ready["contact_points"]
    point_rows = tuple(
        contact.row_of(
            (
                next(ids),
                customer_id,
                p["kind"],
                p["value"],
                bool(p.get("do_not_contact")),
                p.get("status") or "valid",
            )
        )
        for p in points
    )
    after = snapshot_of(values, points)
    version = (
        next(ids),
        customer_id,
        1,
        now,
        setup.actor,
        "import",
        "imported",
        {k: {"old": None, "new": v} for k, v in after.items() if v not in (None, [], False)},
        after,
    )
    payload = {
        "customer_id": customer_id,
        "name": values["name"],
        "phone": phone,
        "segment": values["segment"],
        "preferred_language": values.get("preferred_language"),
        "lifecycle_status": values["lifecycle_status"],
        "registered_at": now,
        "kind": values["kind"],
        "owner_team": values.get("owner_team"),
        "source": "import",
        "external_ref": values.get("external_ref"),
    }
    rows = (
        customer_id,
        now,
        tuple((p["kind"], p["value"]) for p in points),
        tuple(completeness(after, requirable)["missing"]),
        ready["customers"].row(customer),
        point_rows,
        ready["customer_versions"].row_of(version),
    )
    return rows, payload
