"""Bulk sales import: good sales are recorded exactly as ``POST /transactions``
records one (ledger rows, P&L, events) while every bad line is reported by its
line number and its sale written not at all; the same file twice records nothing
new; a malformed or oversized upload is refused before a job starts."""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from services.sales import config
from services.sales.app import create_app
from services.sales.db import Outbox
from services.sales.imports import api as api_imports
from services.sales.imports import jobs as importer
from services.sales.imports import writes as import_writes
from services.sales.imports.tables import SaleImportJob
from services.sales.ledger.tables import Sale, SaleLine
from services.sales.pnl.tables import LedgerDay, PnlDaily
from shared import import_jobs
from shared.clock import utcnow
from shared.testing import wait_for
from tests.conftest import auth
from tests.sales.conftest import dispatcher_for, registered

HEADER = (
    "external_ref,customer_id,recorded_at,currency,sku,description,quantity,unit_price,"
    "unit_cost,discount"
)
WHEN = "2026-03-01T10:00:00+08:00"
GOOD = [
    f"INV-1,c1,{WHEN},HKD,TEA-1,,3,,,",  # catalogue price and cost
    "INV-1,,,,,Gift wrap,1,5.00,1.20,",  # sale cells may be left empty
    f"INV-1,c1,{WHEN},HKD,TEA-1,,2,18.00,,1.50",  # or repeated
    f"INV-2,c2,{WHEN},HKD,,Tea set,1,300.00,120.00,",
    f'INV-3,c1,{WHEN},HKD,,"Cups, 6",4,10.0001,2.5,',
]
BAD = {  # line (after the header and GOOD) → rows of one sale and the fields named
    "quantity": [
        f"BAD-1,c1,{WHEN},HKD,,Good line,1,5.00,1.00,",
        f"BAD-1,c1,{WHEN},HKD,,No quantity,,5.00,1.00,",
    ],
    "sku": [f"BAD-2,c1,{WHEN},HKD,NO-SUCH,,1,,,"],
    "customer_id": [f"BAD-3,,{WHEN},HKD,,Nobody,1,5.00,1.00,"],
    "recorded_at": ["BAD-4,c1,2999-01-01T00:00:00+00:00,HKD,,Future,1,5.00,1.00,"],
    "discount": [f"BAD-5,c1,{WHEN},HKD,,Too much off,1,5.00,1.00,6.00"],
    "unit_cost": [f"BAD-6,c1,{WHEN},HKD,,No cost,1,5.00,,"],
    "_row": [f"BAD-7,c1,{WHEN},HKD,,Surplus,1,5.00,1.00,,extra"],
}


def _seeded(app):
    client = app.test_client()
    r = client.post(
        "/api/v1/products",
        headers=auth(),
        json={
            "sku": "TEA-1",
            "name": "Jasmine tea",
            "price": "19.99",
            "unit_cost": "7.50",
            "effective_from": "2025-01-01T00:00:00+00:00",
        },
    )
    assert r.status_code == 201, r.json
    dispatcher_for(app).dispatch(registered("c1", segment="smb"))
    return app


@pytest.fixture
def app(service_app, database_url, tmp_path):
    """On SQLite and again on PostgreSQL."""
    app = _seeded(
        service_app(create_app, config.MIGRATIONS, database_url, DATA_DIR=str(tmp_path / "data"))
    )
    yield app
    app.extensions["rapport"].db.dispose()


@pytest.fixture
def lite(service_app, sqlite_url, tmp_path):
    """On SQLite only, for what is answered before any database write (the upload's
    checks, roles)."""
    return _seeded(
        service_app(create_app, config.MIGRATIONS, sqlite_url, DATA_DIR=str(tmp_path / "data"))
    )


@pytest.fixture
def client(app):
    return app.test_client()


def count(app, model, *where) -> int:
    with app.extensions["rapport"].db.reader() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def upload(client, body: bytes, content_type="text/csv", role="manager", headers=None, **query):
    return client.post(
        "/api/v1/sales/imports",
        data=body,
        query_string=query,
        headers={**auth(role), "Content-Type": content_type, **(headers or {})},
    )


def finished(client, job):
    """The job (or the answer that started it) once it has finished."""
    job = getattr(job, "json", job)
    assert job and "id" in job, job

    def done():
        got = client.get(f"/api/v1/sales/imports/{job['id']}", headers=auth()).json
        return got if got["status"] in ("done", "failed") else None

    return wait_for(done, 30, interval=0.05, message="the import to finish")


def post_inv_2(client):
    """A single POST of the sale the test files reference as INV-2."""
    return client.post(
        "/api/v1/transactions",
        headers=auth(),
        json={
            "external_ref": "INV-2",
            "customer_id": "c2",
            "lines": [{"quantity": "1", "unit_price": "1", "unit_cost": "1"}],
        },
    )


def csv_file(rows) -> bytes:
    return ("\n".join([HEADER, *rows]) + "\n").encode()


def by_line(job) -> dict[int, dict]:
    return {r["line"]: r["reasons"] for r in job["rejections"]}


def recorded_events(app) -> list[dict]:
    with app.extensions["rapport"].db.reader() as s:
        bodies = s.scalars(
            select(Outbox.body)
            .where(Outbox.event_type == "sale.recorded")
            .order_by(Outbox.created_at, Outbox.event_id)
        )
        return [json.loads(b)["payload"] for b in bodies]


def test_good_sales_are_recorded_and_every_bad_line_is_reported_by_number(client, app):
    bad_rows = [row for rows in BAD.values() for row in rows]
    r = upload(client, csv_file(GOOD + bad_rows))
    assert r.status_code == 202 and r.headers["Location"].endswith(r.json["id"]), r.json
    job = finished(client, r.json)
    assert job["status"] == "done", job
    assert (job["created"], job["lines_created"], job["skipped"], job["rejected"]) == (
        3,
        5,
        0,
        len(BAD),
    )
    assert (job["rows_read"], job["sales_read"], job["progress"]) == (
        len(GOOD) + len(bad_rows),
        3 + len(BAD),
        1.0,
    )
    rejected = by_line(job)
    line = 2 + len(GOOD)  # the header is line 1
    for name, rows in BAD.items():
        at = line + 1 if name == "quantity" else line  # the sale's second row is at fault
        assert name in rejected[at], (name, rejected)
        line += len(rows)
    assert rejected[2 + len(GOOD) + 1]["quantity"] == ["Missing data for required field."]
    # Nothing of a rejected sale is written, not even its good first line.
    assert count(app, Sale, Sale.external_ref.like("BAD-%")) == 0
    assert count(app, Sale) == 3 and count(app, SaleLine) == 5
    sales = {
        s["external_ref"]: s
        for s in client.get("/api/v1/transactions", headers=auth()).json["items"]
    }
    one = client.get(f"/api/v1/transactions/{sales['INV-1']['id']}", headers=auth()).json
    # 3 × 19.99 (catalogue) + 5.00 + 2 × 18.00 − 1.50 = 99.47; cost 3 × 7.5 + 1.2 + 2 × 7.5
    assert (one["revenue"], one["cost"], one["discount"]) == ("99.47", "38.70", "1.50")
    assert [line["unit_price"] for line in one["lines"]] == ["19.9900", "5.0000", "18.0000"]
    assert (one["customer_known"], one["segment"], sales["INV-2"]["customer_known"]) == (
        True,
        "smb",
        False,
    )
    paged = client.get(
        f"/api/v1/sales/imports/{job['id']}/rejections", headers=auth(), query_string={"limit": 2}
    ).json
    assert [x["line"] for x in paged["items"]] == sorted(rejected)[:2] and paged["next_cursor"]


def test_the_same_file_twice_records_nothing_new(client, app):
    body = csv_file(GOOD)
    assert finished(client, upload(client, body).json)["created"] == 3
    events, days = len(recorded_events(app)), count(app, Outbox)
    again = finished(client, upload(client, body).json)
    assert (again["created"], again["skipped"], again["rejected"]) == (0, 3, 0)
    assert count(app, Sale) == 3 and len(recorded_events(app)) == events
    assert count(app, Outbox) == days  # no day's totals published again either
    # A single POST of an imported reference is refused too.
    r = post_inv_2(client)
    assert r.status_code == 409 and r.content_type == "application/problem+json"


@pytest.mark.postgres
def test_a_chunk_that_meets_a_reference_posted_meanwhile_skips_it(
    service_app, postgres_database, tmp_path, monkeypatch
):
    """The chunk found INV-2 free, then a POST recorded it: the chunk's insert is
    refused by the unique reference, and written again it finds INV-2 on file and
    skips it; the job ends done with every other sale recorded once."""
    app = _seeded(
        service_app(
            create_app, config.MIGRATIONS, postgres_database, DATA_DIR=str(tmp_path / "data")
        )
    )
    client = app.test_client()
    found_in, raced = import_writes._in, []

    def found_then_posted(session, column, values):
        found = found_in(session, column, values)
        if column is Sale.external_ref and not raced:
            raced.append(sorted(values))
            r = post_inv_2(client)
            assert r.status_code == 201, r.json
        return found

    monkeypatch.setattr(import_writes, "_in", found_then_posted)
    job = finished(client, upload(client, csv_file(GOOD)))
    assert raced == [["INV-1", "INV-2", "INV-3"]]
    assert (job["status"], job["created"], job["skipped"], job["rejected"]) == ("done", 2, 1, 0)
    assert count(app, Sale) == 3 and len(recorded_events(app)) == 3
    app.extensions["rapport"].db.dispose()


def test_an_imported_sale_is_the_sale_a_post_records(client, app):
    """Same ledger rows, P&L bookings, day totals and ``sale.recorded`` payload."""
    body = {
        "customer_id": "c1",
        "currency": "HKD",
        "recorded_at": WHEN,
        "channel": "visit",
        "team": "east",
        "approval_reason": "clearance",
        "lines": [
            {"sku": "TEA-1", "quantity": "3"},
            {
                "description": "Gift wrap",
                "quantity": "1",
                "unit_price": "0.005",
                "unit_cost": "0.004",
                "discount": "0.001",
            },
            {"sku": "TEA-1", "quantity": "1.5", "unit_price": "1.00"},
        ],
    }
    posted = client.post(
        "/api/v1/transactions", headers=auth(), json={**body, "external_ref": "POSTED"}
    )
    assert posted.status_code == 201, posted.json
    pnl_before = _pnl(app)
    job = finished(
        client,
        upload(
            client,
            json.dumps({**body, "external_ref": "IMPORTED"}).encode() + b"\n",
            "application/x-ndjson",
            headers={"X-Correlation-ID": "upload-1"},
        ),
    )
    assert job["created"] == 1, job
    imported = next(
        s
        for s in client.get("/api/v1/transactions", headers=auth()).json["items"]
        if s["external_ref"] == "IMPORTED"
    )
    one = client.get(f"/api/v1/transactions/{imported['id']}", headers=auth()).json

    def same(sale):
        return {k: v for k, v in sale.items() if k not in ("id", "external_ref", "created_at")}

    assert same(one) == same(posted.json)
    first, second = recorded_events(app)
    assert {k: v for k, v in first.items() if k not in ("sale_id", "external_ref")} == {
        k: v for k, v in second.items() if k not in ("sale_id", "external_ref")
    }
    assert (first["external_ref"], second["external_ref"]) == ("POSTED", "IMPORTED")
    with app.extensions["rapport"].db.reader() as s:
        envelope = json.loads(
            s.scalars(
                select(Outbox.body)
                .where(Outbox.event_type == "sale.recorded")
                .order_by(Outbox.created_at.desc())
            ).first()
        )
    assert envelope["correlation_id"] == "upload-1"  # the job runs in the upload's context
    with app.extensions["rapport"].db.reader() as s:  # and keeps it, should it be taken up
        assert "upload-1" in s.scalars(select(SaleImportJob.correlation_id)).all()
    assert _pnl(app) == {key: tuple(2 * v for v in amounts) for key, amounts in pnl_before.items()}
    with app.extensions["rapport"].db.reader() as s:
        assert s.scalar(select(LedgerDay.revision)) == 2


def _pnl(app) -> dict:
    with app.extensions["rapport"].db.reader() as s:
        return {
            tuple(row[:7]): tuple(row[7:])
            for row in s.execute(
                select(
                    PnlDaily.day,
                    PnlDaily.currency,
                    PnlDaily.customer_id,
                    PnlDaily.segment,
                    PnlDaily.product,
                    PnlDaily.channel,
                    PnlDaily.team,
                    PnlDaily.revenue,
                    PnlDaily.discounts,
                    PnlDaily.cost_of_goods,
                )
            )
        }


def test_json_lines_and_their_bad_lines(client, app):
    sale = {
        "external_ref": "J-1",
        "customer_id": "c1",
        "lines": [{"sku": "TEA-1", "quantity": "2"}],
    }
    lines = [
        json.dumps(sale),
        "{not json",
        "[1, 2]",
        json.dumps({**sale, "external_ref": "J-2", "lines": [{"quantity": 1.5}]}),
        json.dumps({**sale, "external_ref": "J-3", "shoe_size": 9}),
        json.dumps({**sale, "external_ref": "J-1"}),
        json.dumps({"customer_id": "c1", "lines": sale["lines"]}),
        "",
        json.dumps({**sale, "external_ref": "J-4"}),
        json.dumps(
            {
                **sale,
                "external_ref": "J-5",
                "lines": [{"description": "tea\u0000", "quantity": "1"}],
            }
        ),
    ]
    job = finished(client, upload(client, "\n".join(lines).encode(), format="jsonl"))
    assert (job["created"], job["rejected"]) == (2, 7), job
    rejected = by_line(job)
    assert set(rejected) == {2, 3, 4, 5, 6, 7, 10}
    assert "NUL" in rejected[10]["_row"][0]
    assert "_row" in rejected[2] and "_row" in rejected[3]
    assert "Send amounts as strings" in rejected[4]["lines"]["0"]["quantity"][0]
    assert "shoe_size" in rejected[5] and "external_ref" in rejected[6]
    assert rejected[7]["external_ref"] == ["Missing data for required field."]


@pytest.mark.parametrize(
    "body, content_type",
    [
        (b"", "text/csv"),
        (b"external_ref,customer_id,quantity,shoe_size\nA,c1,1,9\n", "text/csv"),
        (b"external_ref,customer_id\nA,c1\n", "text/csv"),
        (b"\xff\xfe\x00e\x00x\x00t", "text/csv"),
        (b"whatever", "application/pdf"),
    ],
)
def test_a_malformed_upload_is_refused_before_any_job(lite, body, content_type):
    app, client = lite, lite.test_client()
    r = upload(client, body, content_type)
    assert r.status_code == 422 and r.content_type == "application/problem+json", r.json
    assert count(app, SaleImportJob) == 0
    assert not any((app.extensions["rapport"].settings.data_dir / "sale-imports").glob("*"))


def test_an_oversized_upload_is_refused(lite, monkeypatch):
    app, client = lite, lite.test_client()
    monkeypatch.setattr(api_imports, "IMPORT_MAX_BYTES", 100)
    r = upload(client, csv_file(GOOD))
    assert r.status_code == 413 and r.content_type == "application/problem+json", r.data
    assert count(app, SaleImportJob) == 0


def test_garbage_rows_reject_only_their_sales(client, app):
    garbage = b'\x00\xff\xfe garbage,"unterminated\n' + bytes(range(256))
    job = finished(
        client,
        upload(
            client, csv_file(GOOD[3:4]) + garbage + b"\n" + "\n".join(GOOD[4:]).encode() + b"\n"
        ),
    )
    assert job["status"] == "done" and job["created"] >= 1 and job["rejected"] >= 1, job
    assert count(app, Sale, Sale.external_ref == "INV-2") == 1


def test_a_multipart_upload_and_roles(lite):
    client = lite.test_client()
    r = client.post(
        "/api/v1/sales/imports",
        headers=auth(),
        content_type="multipart/form-data",
        data={"file": (io.BytesIO(csv_file(GOOD)), "sales.csv")},
    )
    assert r.status_code == 202, r.json
    assert finished(client, r.json)["created"] == 3
    assert upload(client, csv_file(GOOD), role="agent").status_code == 403
    assert (
        client.get(f"/api/v1/sales/imports/{r.json['id']}", headers=auth("analyst")).status_code
        == 403
    )
    missing = client.get("/api/v1/sales/imports/nope", headers=auth())
    assert missing.status_code == 404 and missing.content_type == "application/problem+json"


def test_a_stopped_job_whose_upload_is_gone_is_reported_failed_saying_so(lite):
    """Only then: a job without a heartbeat is otherwise taken up again (its tests are
    in tests/sales/integration/test_import_resume.py)."""
    app, client = lite, lite.test_client()
    uow = app.extensions["rapport"].uow
    with uow() as work:
        work.session.add(
            SaleImportJob(
                id="stopped",
                format="csv",
                path="/nonexistent",
                actor="t",
                status="running",
                total_bytes=10,
                bytes_read=5,
                rows_read=0,
                sales_read=0,
                created=0,
                lines_created=0,
                skipped=0,
                rejected=0,
                created_at=utcnow() - timedelta(hours=1),
                heartbeat_at=utcnow() - import_jobs.STALE - timedelta(seconds=1),
                owner="a process that stopped",
            )
        )
    job = client.get("/api/v1/sales/imports/stopped", headers=auth()).json
    assert (job["status"], job["error"]) == ("running", None)  # asking gives nothing up
    assert importer.resume_stale(uow, ZoneInfo(config.DEFAULT_TIMEZONE), utcnow()) == ["stopped"]

    def failed():
        got = client.get("/api/v1/sales/imports/stopped", headers=auth()).json
        return got if got["status"] == "failed" else None

    job = wait_for(failed, 30, message="the job to be reported failed")
    assert "upload file is gone" in job["error"] and "import the file again" in job["error"]
    assert job["progress"] == 0.5  # what it committed stays


def test_chunks_change_nothing_but_the_transactions(app, tmp_path):
    """Two sales a transaction give what one transaction of all does."""
    rows = [f"S-{i},c{i % 3},{WHEN},HKD,TEA-1,,{1 + i % 4},,," for i in range(9)]
    path = tmp_path / "sales.csv"
    path.write_bytes(csv_file(rows + rows[:2]))
    uow = app.extensions["rapport"].uow
    with uow() as work:
        work.session.add(
            SaleImportJob(
                id="chunked",
                format="csv",
                path=str(path),
                actor="t",
                status="queued",
                total_bytes=path.stat().st_size,
                bytes_read=0,
                rows_read=0,
                sales_read=0,
                created=0,
                lines_created=0,
                skipped=0,
                rejected=0,
                created_at=utcnow(),
            )
        )
    importer.run(uow, "chunked", ZoneInfo(config.DEFAULT_TIMEZONE), chunk=2)
    job = importer.get_job(uow, "chunked")
    assert (job["created"], job["skipped"], job["rejected"], job["rows_read"]) == (9, 2, 0, 11)
    assert count(app, Sale) == 9 and len(recorded_events(app)) == 9
    assert datetime.fromisoformat(recorded_events(app)[0]["recorded_at"]) == datetime.fromisoformat(
        WHEN
    )
