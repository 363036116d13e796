"""Two writers that both find an external reference free: the one whose commit comes
second is refused by the unique constraint, and that is the same 409 problem the
check gives, with nothing written, not a 500. PostgreSQL runs such writers side by
side; SQLite serialises them (the second cannot begin before the first commits), so
the race is reproduced on PostgreSQL."""

import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from services.customer import config
from services.customer.app import create_app
from services.customer.imports import chunk_writes
from services.customer.profiles import profiles
from services.customer.profiles.tables import Customer, CustomerVersion
from services.customer.tables import Outbox
from shared.testing import wait_for
from tests.conftest import auth

pytestmark = pytest.mark.postgres


@pytest.fixture
def app(service_app, postgres_database):
    return service_app(create_app, config.MIGRATIONS, postgres_database)


def counts(app) -> tuple[int, int, int]:
    with app.extensions["rapport"].db.reader() as s:
        return tuple(
            s.scalar(select(func.count()).select_from(model))
            for model in (Customer, CustomerVersion, Outbox)
        )


def register(app, name: str, phone: str, ref: str | None):
    return app.test_client().post(
        "/api/v1/customers",
        json={"name": name, "phone": phone, "segment": "smb", "external_ref": ref},
        headers=auth(),
    )


def racing(monkeypatch, app, rival: tuple[str, str]):
    """Make the next check of a reference let another request take it, committed,
    between the check and this request's own commit."""
    check, raced = profiles.refuse_taken_ref, []

    def check_then_lose(session, external_ref, own_id=None):
        check(session, external_ref, own_id)
        if not raced:
            raced.append(external_ref)
            answers = []
            rival_request = threading.Thread(
                target=lambda: answers.append(register(app, *rival, external_ref))
            )
            rival_request.start()
            rival_request.join(30)
            assert answers and answers[0].status_code == 201, answers

    monkeypatch.setattr(profiles, "refuse_taken_ref", check_then_lose)
    return raced


def test_a_registration_that_loses_the_race_for_a_reference_is_409_and_writes_nothing(
    app, monkeypatch
):
    raced = racing(monkeypatch, app, ("Wong Siu Ming", "5123 4567"))
    r = register(app, "Chan Tai Man", "9123 4567", "ERP-7")
    assert raced == ["ERP-7"]
    assert (r.status_code, r.mimetype) == (409, "application/problem+json"), r.json
    assert "ERP-7" in r.json["detail"]
    # Only the winner is on file: one customer, its version, its event.
    assert counts(app) == (1, 1, 1)


def test_a_change_that_loses_the_race_for_a_reference_is_409_and_changes_nothing(app, monkeypatch):
    mine = register(app, "Chan Tai Man", "9123 4567", None).json
    before = counts(app)
    raced = racing(monkeypatch, app, ("Wong Siu Ming", "5123 4567"))
    r = app.test_client().patch(
        f"/api/v1/customers/{mine['id']}", json={"external_ref": "ERP-8"}, headers=auth()
    )
    assert raced == ["ERP-8"]
    assert (r.status_code, r.mimetype) == (409, "application/problem+json"), r.json
    # The rival's registration is all that was written.
    assert counts(app) == tuple(n + 1 for n in before)
    got = app.test_client().get(f"/api/v1/customers/{mine['id']}", headers=auth())
    assert got.json["external_ref"] is None and got.json["version"] == mine["version"]


def test_another_integrity_error_is_not_reported_as_a_taken_reference(app, monkeypatch):
    """A failure the reference did not cause stays what it was."""
    mine = register(app, "Chan Tai Man", "9123 4567", "ERP-9").json
    with app.extensions["rapport"].db.reader() as s:
        holder = s.scalar(select(Customer.id).where(Customer.external_ref == "ERP-9"))
    assert holder == mine["id"]
    with (
        pytest.raises(IntegrityError),
        profiles.ref_raced(app.extensions["rapport"].uow, "ERP-9", mine["id"]),
    ):
        raise IntegrityError("INSERT", {}, Exception("another constraint"))


def test_an_import_chunk_that_meets_a_reference_registered_meanwhile_updates_it(app, monkeypatch):
    """The chunk found the reference free, then a registration took it: the chunk's
    insert is refused, and the chunk written again finds the customer on file and
    updates it; the job ends done, nothing written twice."""
    on_file, raced = chunk_writes._on_file, []

    def found_then_taken(session, refs):
        found = on_file(session, refs)
        if not raced:
            raced.append(refs)
            r = register(app, "Wong Siu Ming", "5123 4567", "ERP-R")
            assert r.status_code == 201, r.json
        return found

    monkeypatch.setattr(chunk_writes, "_on_file", found_then_taken)
    client = app.test_client()
    r = client.post(
        "/api/v1/customers/import",
        data=b"name,phone,segment,external_ref\nChan Tai Man,9123 4567,smb,ERP-R\n",
        headers={**auth(), "Content-Type": "text/csv"},
    )
    assert r.status_code == 202, r.json

    def ended():
        got = client.get(f"/api/v1/customers/import/{r.json['id']}", headers=auth()).json
        return got if got["status"] in ("done", "failed") else None

    job = wait_for(ended, 30, message="the import to end")
    assert raced == [["ERP-R"]]
    assert (job["status"], job["created"], job["updated"], job["rejected"]) == ("done", 0, 1, 0)
    found = client.get(
        "/api/v1/customers", headers=auth(), query_string={"external_ref": "ERP-R"}
    ).json["items"]
    assert [(c["name"], c["version"]) for c in found] == [("Chan Tai Man", 2)]
