"""Bulk import and export: good rows load while every bad one is reported by its
line number; the same file twice creates nothing new; an export re-imports as
an upsert; a malformed upload is refused before a job starts."""

import io
import json

import pytest
from sqlalchemy import func, select

from services.customer import config
from services.customer.app import create_app
from services.customer.imports.tables import ImportJob
from services.customer.profiles.tables import Customer, CustomerVersion
from services.customer.tables import Outbox
from shared.testing import wait_for
from tests.conftest import auth

HEADER = "external_ref,name,phone,email,segment,preferred_language,tags,address_line1,do_not_call"
GOOD = [
    "R1,Chan Tai Man,9123 4567,tm@example.com,smb,zh-HK,vip;tea,1 Nathan Road,false",
    "R2,Wong Siu Ming,+852 6123 4567,,enterprise,en,,,",
    'R3,"Lee, Ka Yan",5123 4567,,smb,,,"Flat 3A, 12 Kings Road",true',
    "R4,Robert'); DROP TABLE customers;--,5123 4568,,smb,,,,",
]
BAD = {
    "R5,Bad Phone,12345,,smb,,,,": "phone",
    "R6,No Segment,5123 4569,,no-such,,,,": "segment",
    "R7,Bad Email,5123 4570,not-an-email,smb,,,,": "email",
    ",,5123 4571,,smb,,,,": "name",
    "R9,Extra,5123 4572,,smb,,,,,surplus": "_row",
    "R10,Dup of R1,9123 4567,,smb,,,,": "phone",
    "R1,Repeat R1,5123 4573,,smb,,,,": "external_ref",
    "R12,Bad flag,5123 4574,,smb,,,,perhaps": "do_not_call",
    f"R13,{'x' * 300},5123 4575,,smb,,,,": "name",
}


@pytest.fixture
def app(service_app, sqlite_url, tmp_path):
    return service_app(create_app, config.MIGRATIONS, sqlite_url, DATA_DIR=str(tmp_path / "data"))


@pytest.fixture
def client(app):
    return app.test_client()


def count(app, model) -> int:
    with app.extensions["rapport"].db.reader() as s:
        return s.scalar(select(func.count()).select_from(model))


def upload(client, body: bytes, content_type="text/csv", headers=None, **query):
    r = client.post(
        "/api/v1/customers/import",
        data=body,
        headers={**auth(), "Content-Type": content_type, **(headers or {})},
        query_string=query,
    )
    return r


def finished(client, job):
    def done():
        got = client.get(f"/api/v1/customers/import/{job['id']}", headers=auth()).json
        return got if got["status"] in ("done", "failed") else None

    return wait_for(done, 30, interval=0.05, message="the import to finish")


def rejections(client, job) -> dict[int, dict]:
    r = client.get(
        f"/api/v1/customers/import/{job['id']}/rejections",
        headers=auth(),
        query_string={"limit": 500},
    )
    return {x["line"]: x["reasons"] for x in r.json["items"]}


def csv_file(lines) -> bytes:
    return ("\n".join([HEADER, *lines]) + "\n").encode()


def test_good_rows_load_and_every_bad_row_is_reported_by_line(client, app):
    lines = GOOD[:2] + list(BAD) + GOOD[2:]
    r = upload(client, csv_file(lines))
    assert r.status_code == 202 and r.headers["Location"].endswith(r.json["id"])
    job = finished(client, r.json)
    assert (job["status"], job["created"], job["rejected"], job["rows_read"]) == (
        "done",
        4,
        len(BAD),
        len(lines),
    )
    assert job["progress"] == 1.0
    reported = rejections(client, job)
    for offset, (line, field) in enumerate(BAD.items()):
        assert field in reported[offset + 4], (line, reported.get(offset + 4))
    assert count(app, Customer) == 4
    lee = client.get("/api/v1/customers", headers=auth(), query_string={"external_ref": "R3"}).json[
        "items"
    ][0]
    assert (lee["name"], lee["do_not_call"], lee["address"]["line1"]) == (
        "Lee, Ka Yan",
        True,
        "Flat 3A, 12 Kings Road",
    )
    assert count(app, Outbox) >= 4  # one customer.registered each


def test_the_job_keeps_its_upload_s_correlation_id_for_its_events(client, app):
    r = upload(client, csv_file(GOOD), headers={"X-Correlation-ID": "upload-9"})
    assert finished(client, r.json)["created"] == len(GOOD)
    with app.extensions["rapport"].db.reader() as s:
        assert s.scalar(select(ImportJob.correlation_id)) == "upload-9"
        bodies = s.scalars(select(Outbox.body))
        assert {json.loads(b)["correlation_id"] for b in bodies} == {"upload-9"}


def test_the_same_file_twice_creates_nothing_new(client, app):
    finished(client, upload(client, csv_file(GOOD)).json)
    before = (count(app, Customer), count(app, CustomerVersion), count(app, Outbox))
    job = finished(client, upload(client, csv_file(GOOD)).json)
    assert (job["created"], job["updated"], job["unchanged"]) == (0, 0, 4)
    assert (count(app, Customer), count(app, CustomerVersion), count(app, Outbox)) == before


def test_a_changed_row_updates_its_customer_with_a_version(client, app):
    finished(client, upload(client, csv_file(GOOD)).json)
    changed = GOOD[1].replace(",en,", ",zh-HK,")
    job = finished(client, upload(client, csv_file([changed])).json)
    assert (job["created"], job["updated"]) == (0, 1)
    wong = client.get(
        "/api/v1/customers", headers=auth(), query_string={"external_ref": "R2"}
    ).json["items"][0]
    history = client.get(f"/api/v1/customers/{wong['id']}/history", headers=auth()).json
    assert history["items"][0]["changes"] == {"preferred_language": {"old": "en", "new": "zh-HK"}}
    assert history["items"][0]["source"] == "import"


def test_json_lines_and_bad_lines(client, app):
    body = "\n".join(
        [
            json.dumps(
                {
                    "external_ref": "J1",
                    "name": "Ho Wing",
                    "phone": "9123 4567",
                    "segment": "smb",
                    "address": {"line1": "2 Canton Road"},
                }
            ),
            "{not json",
            json.dumps(["a", "list"]),
            json.dumps(
                {
                    "external_ref": "J4",
                    "name": "Lam Ka Ho",
                    "phone": "9123 4500",
                    "segment": "smb",
                    "favourite_colour": "blue",
                }
            ),
            "",
            json.dumps(
                {
                    "external_ref": "J6",
                    "name": "Tam Yan",
                    "email": "yan@example.com",
                    "segment": "vip",
                }
            ),
        ]
    ).encode()
    job = finished(client, upload(client, body, "application/x-ndjson").json)
    assert (job["created"], job["rejected"]) == (2, 3)
    assert set(rejections(client, job)) == {2, 3, 4}
    assert "favourite_colour" in rejections(client, job)[4]


def test_wrong_encoding_is_rejected_per_row(client, app):
    body = csv_file(GOOD[:1]) + "R20,Caf\u00e9 Owner,5123 4580,,smb,,,,\n".encode("latin-1")
    job = finished(client, upload(client, body).json)
    assert (job["created"], job["rejected"]) == (1, 1)
    assert "UTF-8" in rejections(client, job)[3]["_row"][0]


@pytest.mark.parametrize(
    "body, content_type",
    [
        (b"", "text/csv"),
        (b"name,segment,phone,shoe_size\nA,smb,91234567,9\n", "text/csv"),
        (b"\xff\xfe\x00n\x00a\x00m\x00e", "text/csv"),
        (b"name,phone\n", "text/csv"),
        (b"whatever", "application/pdf"),
    ],
)
def test_a_malformed_upload_is_refused_before_any_job(client, app, body, content_type):
    r = upload(client, body, content_type)
    assert r.status_code == 422 and r.content_type == "application/problem+json", r.json
    assert count(app, Customer) == 0


def test_import_needs_a_manager(client):
    assert upload(client.application.test_client(), csv_file(GOOD)).status_code == 202
    r = client.post(
        "/api/v1/customers/import",
        data=csv_file(GOOD),
        headers={**auth("agent"), "Content-Type": "text/csv"},
    )
    assert r.status_code == 403


def test_export_streams_csv_that_reimports_as_unchanged(client, app):
    finished(client, upload(client, csv_file(GOOD)).json)
    r = client.get("/api/v1/customers/export", headers=auth(), query_string={"segment": "smb"})
    assert r.status_code == 200 and r.mimetype == "text/csv"
    exported = r.data
    assert exported.count(b"\n") == 1 + 3  # header and the three smb customers
    job = finished(client, upload(client, exported).json)
    assert (job["created"], job["updated"], job["unchanged"], job["rejected"]) == (0, 0, 3, 0)


def test_a_multipart_upload_works_too(client, app):
    r = client.post(
        "/api/v1/customers/import",
        headers=auth(),
        content_type="multipart/form-data",
        data={"file": (io.BytesIO(csv_file(GOOD)), "customers.csv")},
    )
    assert r.status_code == 202, r.json
    assert finished(client, r.json)["created"] == 4


def test_a_huge_field_rejects_its_row_only(client, app):
    huge = "R30,Huge," + "9" * 100_000 + ",,smb,,,,"
    job = finished(client, upload(client, csv_file([GOOD[0], huge, GOOD[1]])).json)
    assert (job["created"], job["rejected"]) == (2, 1)
    assert "_row" in rejections(client, job)[3]
