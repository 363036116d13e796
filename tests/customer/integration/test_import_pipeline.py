"""The import with worker processes, several pieces and several transactions, on
SQLite and PostgreSQL: the same counts, rejections (line and reasons) and stored
profiles, versions and events as the import done in one process; rows made ready
for the driver are stored as a Core insert stores them; a second run creates
nothing."""

import json
import re
import threading
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, insert, select

from services.customer import config
from services.customer.imports import jobs as importer
from services.customer.imports.preparation import TABLES, inserts
from services.customer.imports.tables import ImportJob, ImportRejection
from services.customer.profiles.tables import ContactPoint, Customer, CustomerVersion
from services.customer.segments.tables import Segment
from services.customer.tables import Outbox
from shared import bulk_writes, migrations
from shared.db import Database
from shared.events import parse_event
from shared.messaging.unit_of_work import UnitOfWorkFactory

pytestmark = pytest.mark.integration

HEADER = "external_ref,name,phone,email,segment,preferred_language,tags,address_line1,do_not_call"
LINES = [
    "R1,Chan Tai Man,9123 4567,tm@example.com,smb,zh-HK,vip;tea,1 Nathan Road,false",
    "R2,Wong Siu Ming,+852 6123 4567,,enterprise,en,,,",
    "R3,Bad Phone,12345,,smb,,,,",
    "R4,Dup of R1,9123 4567,,smb,,,,",
    "R5,No Segment,5123 4569,,no-such,,,,",
    'R6,"Lee, Ka Yan",5123 4567,,smb,,,"Flat 3A, 12 Kings Road",true',
    "R2,Repeat R2,5123 4573,,smb,,,,",
    "R8,Needs an e-mail,5123 4574,,needs-email,,,,",
    ",No ref,5123 4575,noref@example.com,smb,,,,",
    "R10,Bad Email,5123 4576,not-an-email,smb,,,,",
] + [f"G{i},Customer {i},5200 {i:04d},g{i}@example.com,smb,,,,false" for i in range(40)]


def csv_path(tmp_path, name="import.csv"):
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *LINES]) + "\n")
    return path


def service(url):
    migrations.upgrade(url, config.MIGRATIONS)
    db = Database(url)
    with db.transaction() as s:
        s.add(
            Segment(
                code="needs-email",
                name="Needs e-mail",
                required_fields=["phone", "email"],
                created_at=datetime.now(UTC),
            )
        )
    return db, UnitOfWorkFactory(db, Outbox, "customer")


def import_file(uow, path, **options) -> dict:
    job = ImportJob(
        id=str(uuid.uuid4()),
        format="csv",
        path=str(path),
        actor="tester",
        status="queued",
        total_bytes=path.stat().st_size,
    )
    with uow() as work:
        work.session.add(job)
    importer.run(uow, job.id, **options)
    return outcome(uow, job.id)


def outcome(uow, job_id: str) -> dict:
    """What a job reports: its status, counts, rejections and progress."""
    with uow.reader() as s:
        done = s.get(ImportJob, job_id)
        rejected = {
            r.line: _without_ids(r.reasons)
            for r in s.scalars(select(ImportRejection).where(ImportRejection.job_id == job_id))
        }
        return {
            "status": done.status,
            "error": done.error,
            "rows": done.rows_read,
            "created": done.created,
            "updated": done.updated,
            "unchanged": done.unchanged,
            "rejected": rejected,
            "progress": (done.bytes_read, done.total_bytes),
        }


def _without_ids(reasons: dict) -> dict:
    """Reasons as a user reads them, the owner's id masked (each database makes its own)."""
    return json.loads(re.sub(r"[0-9a-f]{8}-[0-9a-f-]{27}", "<id>", json.dumps(reasons)))


def stored(db) -> dict:
    """What the import left, without the ids and times it made."""
    with db.reader() as s:
        names = {c.id: c.name for c in s.scalars(select(Customer))}
        customers = sorted(
            (
                c.name,
                c.external_ref,
                c.phone,
                c.email,
                c.segment,
                c.preferred_language,
                c.tags,
                c.address,
                c.do_not_call,
                c.kind,
                c.lifecycle_status,
                c.name_key,
                c.name_rkey,
                c.source,
                c.version,
                c.lifetime_revenue,
                c.opt_out_notice_flagged,
                c.satisfaction,
                c.merged_into,
            )
            for c in s.scalars(select(Customer))
        )
        points = sorted(
            (names[p.customer_id], p.kind, p.value, p.do_not_contact, p.status)
            for p in s.scalars(select(ContactPoint))
        )
        versions = sorted(
            (
                names[v.customer_id],
                v.version,
                v.actor,
                v.source,
                v.reason,
                json.dumps(v.changes, sort_keys=True),
                json.dumps(v.snapshot, sort_keys=True),
            )
            for v in s.scalars(select(CustomerVersion))
        )
        events = []
        for row in s.scalars(select(Outbox)):
            event = parse_event(row.body)
            payload = {
                k: v
                for k, v in event.payload.items()
                if k not in ("customer_id", "registered_at", "detected_at")
            }
            events.append(
                (
                    event.event_type,
                    row.routing_key,
                    names[event.payload["customer_id"]],
                    json.dumps(payload, sort_keys=True),
                )
            )
    return {
        "customers": customers,
        "points": points,
        "versions": versions,
        "events": sorted(events),
    }


def test_workers_pieces_and_transactions_change_nothing_but_speed(database_url, tmp_path):
    in_process_db, in_process = service(f"sqlite:///{tmp_path / 'in-process.db'}")
    pooled_db, pooled = service(database_url)
    path = csv_path(tmp_path)
    expected = import_file(in_process, path, workers=0)
    got = import_file(pooled, path, workers=2, chunk=7, piece=3)
    assert got == expected
    assert (got["status"], got["rows"], got["created"]) == ("done", len(LINES), 45)
    assert got["progress"][0] == got["progress"][1]
    assert set(got["rejected"]) == {4, 5, 6, 8, 11}
    assert "belongs to customer" in got["rejected"][5]["phone"][0]
    assert "repeats the external_ref of line 3" in got["rejected"][8]["external_ref"][0]
    assert stored(pooled_db) == stored(in_process_db)
    gaps = [e for e in stored(pooled_db)["events"] if e[0] == "customer.gaps_detected"]
    assert [(g[2], json.loads(g[3])["missing_fields"]) for g in gaps] == [
        ("Needs an e-mail", ["email"])
    ]

    again = import_file(pooled, path, workers=2, chunk=7, piece=3)
    assert (again["created"], again["updated"]) == (0, 0)
    assert again["unchanged"] == 44  # each row whose ref is on file; the one without is a duplicate
    assert stored(pooled_db) == stored(in_process_db)
    in_process_db.dispose()
    pooled_db.dispose()


def test_rows_made_for_the_driver_are_stored_as_a_core_insert_stores_them(database_url):
    """(On PostgreSQL through COPY.)"""
    migrations.upgrade(database_url, config.MIGRATIONS)
    db = Database(database_url)
    ready = inserts(db.engine.url.drivername)
    now = datetime.now(UTC)
    customers = [
        dict.fromkeys(TABLES["customers"][1])
        | {
            "id": str(uuid.uuid4()),
            "kind": "person",
            "name": name,
            "name_key": "k",
            "name_rkey": "k",
            "segment": "smb",
            "lifecycle_status": "active",
            "tags": tags,
            "address": address,
            "date_of_birth": datetime(1980, 2, 29).date(),
            "do_not_call": True,
            "opt_out_notice_flagged": False,
            "source": "import",
            "version": 1,
            "created_at": now,
            "updated_at": now,
            "calls_completed": 0,
            "lifetime_revenue": 0,
            "lifetime_margin": 0,
        }
        for name, tags, address in (
            ("By driver", ["a"], {"line1": "1 Road"}),
            ("By Core", ["a"], {"line1": "1 Road"}),
        )
    ]
    with db.transaction() as s:
        bulk_writes.write(
            s.connection(), ready["customers"].sql, [ready["customers"].row(customers[0])]
        )
        s.connection().execute(insert(Customer.__table__), [customers[1]])
    with db.reader() as s:
        read = {
            c.name: {k: getattr(c, k) for k in TABLES["customers"][1] if k not in ("id", "name")}
            for c in s.scalars(select(Customer))
        }
    assert read["By driver"] == read["By Core"]
    assert read["By driver"]["created_at"] == now and read["By driver"]["tags"] == ["a"]
    db.dispose()


def test_from_a_web_servers_thread_and_to_a_failure_the_job_reports_what_happened(
    tmp_path, monkeypatch
):
    db, uow = service(f"sqlite:///{tmp_path / 'threaded.db'}")
    path = csv_path(tmp_path)
    job = ImportJob(
        id=str(uuid.uuid4()),
        format="csv",
        path=str(path),
        actor="tester",
        status="queued",
        total_bytes=path.stat().st_size,
    )
    with uow() as work:
        work.session.add(job)
    writes = importer.chunk_writes.apply
    calls = []

    def failing_second_chunk(*args):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("the disk is full")
        return writes(*args)

    monkeypatch.setattr(importer.chunk_writes, "apply", failing_second_chunk)
    thread = threading.Thread(
        target=importer.run, args=(uow, job.id), kwargs={"workers": 2, "chunk": 20, "piece": 5}
    )
    thread.start()
    thread.join(60)
    with uow.reader() as s:
        done = s.get(ImportJob, job.id)
        assert (done.status, done.error) == ("failed", "the disk is full")
        assert done.rows_read == 20 and done.created + done.rejected == 20
        assert s.scalar(select(func.count()).select_from(Customer)) == done.created
    db.dispose()
