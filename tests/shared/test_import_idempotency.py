"""Idempotency-Key on an import's upload, the customer and the sales import alike
(spec, section 4: on every POST that creates something). The upload is streamed,
not read into memory to be hashed: the request is known by the hash of what was
written, so a retry of the same file answers with the first upload's job, however
its multipart boundary differs, and keeps no second file, job or parts."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from services.customer import config as customer_config
from services.customer.app import create_app as customer_app
from services.customer.imports import jobs as customer_jobs
from services.customer.imports.tables import ImportJob, ImportUploadPart
from services.customer.tables import IdempotencyKey as CustomerKey
from services.sales import config as sales_config
from services.sales.app import create_app as sales_app
from services.sales.db import IdempotencyKey as SalesKey
from services.sales.imports import jobs as sales_jobs
from services.sales.imports.tables import SaleImportJob, SaleImportUploadPart
from shared import context, import_uploads
from shared.clock import utcnow
from shared.testing import wait_for
from tests.conftest import auth


@dataclass(frozen=True)
class Import:
    create_app: object
    migrations: str
    path: str
    folder: str
    jobs: object  # the service's jobs module
    job: type
    part: type
    key: type
    header: str
    row: str  # a row with {n} in it

    def csv(self, rows: int, start: int = 0) -> bytes:
        lines = [self.header, *(self.row.format(n=n) for n in range(start, start + rows))]
        return ("\n".join(lines) + "\n").encode()


CUSTOMER = Import(
    customer_app,
    customer_config.MIGRATIONS,
    "/api/v1/customers/import",
    "imports",
    customer_jobs,
    ImportJob,
    ImportUploadPart,
    CustomerKey,
    "external_ref,name,phone,segment",
    "R{n},Chan Tai Man,5123 {n:04d},smb",
)
SALES = Import(
    sales_app,
    sales_config.MIGRATIONS,
    "/api/v1/sales/imports",
    "sale-imports",
    sales_jobs,
    SaleImportJob,
    SaleImportUploadPart,
    SalesKey,
    "external_ref,customer_id,recorded_at,currency,description,quantity,unit_price,unit_cost",
    "INV-{n},c1,2026-03-01T10:00:00+08:00,HKD,Tea,1,10.00,4.00",
)


@pytest.fixture(params=[CUSTOMER, SALES], ids=["customer", "sales"])
def imp(request) -> Import:
    return request.param


@pytest.fixture
def app(imp, service_app, database_url, tmp_path):
    app = service_app(imp.create_app, imp.migrations, database_url, DATA_DIR=str(tmp_path / "data"))
    yield app
    app.extensions["rapport"].db.dispose()


def post(app, imp: Import, body: bytes, key: str | None, multipart: bool = False, **query):
    headers = {**auth(), **({"Idempotency-Key": key} if key else {})}
    if multipart:
        return app.test_client().post(
            imp.path,
            headers=headers,
            content_type="multipart/form-data",
            data={"file": (io.BytesIO(body), "upload.csv")},
            query_string=query,
        )
    return app.test_client().post(
        imp.path,
        data=body,
        headers={**headers, "Content-Type": "text/csv"},
        query_string=query,
    )


def count(app, model) -> int:
    with app.extensions["rapport"].db.reader() as s:
        return s.scalar(select(func.count()).select_from(model))


def ended(app, imp: Import, uploads_removed: bool = False) -> None:
    """Every job of the app ended and, if asked, its upload file removed too (a job's
    thread removes it just after it commits the job's end)."""

    def done():
        with app.extensions["rapport"].db.reader() as s:
            jobs = s.execute(select(imp.job.status, imp.job.path)).all()
        return all(
            status in ("done", "failed") and not (uploads_removed and Path(path).exists())
            for status, path in jobs
        )

    wait_for(done, 30, interval=0.05, message="the imports to end")


def files(tmp_path: Path, imp: Import) -> list[str]:
    folder = tmp_path / "data" / imp.folder
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


@pytest.mark.parametrize("multipart", [False, True], ids=["body", "multipart"])
def test_a_retry_of_the_same_file_answers_with_the_first_job(app, imp, tmp_path, multipart):
    body = imp.csv(50)
    first = post(app, imp, body, "upload-1", multipart)
    again = post(app, imp, body, "upload-1", multipart)  # another multipart boundary
    assert first.status_code == again.status_code == 202, (first.json, again.json)
    assert again.json["id"] == first.json["id"]
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    ended(app, imp, uploads_removed=True)
    assert count(app, imp.job) == 1
    assert (count(app, imp.part), files(tmp_path, imp)) == (0, [])


def test_the_same_key_with_another_file_is_refused_and_keeps_nothing(app, imp, tmp_path):
    assert post(app, imp, imp.csv(5), "upload-2").status_code == 202
    other = post(app, imp, imp.csv(5, start=100), "upload-2")
    assert other.status_code == 422 and other.content_type == "application/problem+json"
    assert "Idempotency-Key" in other.json["errors"]
    # the same bytes read in another format are another request too
    assert post(app, imp, imp.csv(5), "upload-2", format="jsonl").status_code == 422
    ended(app, imp, uploads_removed=True)
    assert count(app, imp.job) == 1
    assert (count(app, imp.part), files(tmp_path, imp)) == (0, [])


def test_a_refused_upload_leaves_its_key_free(app, imp, tmp_path):
    refused = post(app, imp, b"nothing,we,read\n1,2,3\n", "upload-3")
    assert refused.status_code == 422, refused.json
    assert (count(app, imp.job), count(app, imp.key), files(tmp_path, imp)) == (0, 0, [])
    assert post(app, imp, imp.csv(5), "upload-3").status_code == 202
    ended(app, imp)
    assert count(app, imp.job) == 1


def test_without_a_key_every_upload_is_a_job(app, imp):
    assert post(app, imp, imp.csv(5), None).status_code == 202
    assert post(app, imp, imp.csv(5), None).status_code == 202
    ended(app, imp)
    assert (count(app, imp.job), count(app, imp.key)) == (2, 0)


def test_a_retry_while_the_first_is_registering_its_job_is_told_to_wait(
    app, imp, tmp_path, monkeypatch
):
    """Two uploads with one key at once: the one whose job commits second finds the
    key claimed when it claims it, in its own transaction, and registers nothing."""
    register = imp.jobs.import_uploads.register

    def the_other_first(uow, job, parts, path):
        owner, key, digest = context.idempotency_claim.get()
        with app.extensions["rapport"].db.transaction() as s:  # the other request's claim
            s.execute(
                insert(imp.key).values(
                    owner=owner, key=key, request_hash=digest, created_at=utcnow(), subjects=" "
                )
            )
        return register(uow, job, parts, path)

    monkeypatch.setattr(imp.jobs.import_uploads, "register", the_other_first)
    r = post(app, imp, imp.csv(5), "upload-4")
    assert r.status_code == 409 and r.content_type == "application/problem+json", r.json
    assert r.headers["Retry-After"] == "1"
    assert (count(app, imp.job), count(app, imp.part), files(tmp_path, imp)) == (0, 0, [])


class Broken(io.BytesIO):
    """A client that goes away after its first megabyte."""

    def read(self, size=-1):
        if self.tell() >= 1 << 20:
            raise ConnectionResetError("the client went away")
        return super().read(size)


def test_an_upload_is_written_with_its_size_and_hash_and_a_broken_one_not_at_all(tmp_path):
    body = bytes(range(256)) * 9000  # more than two parts
    size, digest = import_uploads.receive(io.BytesIO(body), tmp_path / "whole")
    assert (size, digest) == (len(body), hashlib.sha256(body).hexdigest())
    assert (tmp_path / "whole").read_bytes() == body
    with pytest.raises(ConnectionResetError):
        import_uploads.receive(Broken(body), tmp_path / "broken")
    assert not (tmp_path / "broken").exists()
