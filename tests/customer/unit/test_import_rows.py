"""The import's fast paths against what they replace: a CSV row loaded through its
fields answers exactly what ``Schema.load`` answers (or steps aside), a
``customer.registered`` built by hand is the contract's own, and the ids made in
bulk are time-ordered UUIDs."""

import itertools
import json
import random
import uuid
from datetime import UTC, datetime

import pytest
from marshmallow import ValidationError

from services.customer.imports import row_validation as rows
from services.customer.imports.preparation import Setup, new_ids
from shared.events import parse_event
from shared.messaging import outbox
from shared.web import row_fields

# Per column: cells that load, and cells that are refused (or that the fast path
# must step around).
CELLS = {
    "external_ref": (["R1", "EXT-00042", "x" * 100, ""], ["x" * 101]),
    "kind": (["person", "company", ""], ["robot"]),
    "name": (["Chan Tai Man", "Lee, Ka Yan", "x" * 200, "Café Ünïcode 陳大文"], ["", "x" * 201]),
    "phone": (["9123 4567", "+852 6123 4567", "51234567", ""], ["12345", "not a phone", "+1 212"]),
    "phones": (
        ["9123 4567;6123 4567", "9123 4567;;"],
        ["12345;9123 4567", ";".join(["9123 4567"] * 11)],
    ),
    "email": (["tm@example.com", "TM@Example.COM", ""], ["not-an-email", "a@b", "x@localhost"]),
    "emails": (["a@example.com;b@example.org"], ["a@example.com;bad"]),
    "segment": (["smb", "vip", "enterprise"], ["Bad Segment", "x" * 65]),
    "preferred_language": (["zh-HK", "en", ""], ["english!", "e"]),
    "lifecycle_status": (["active", "prospect", ""], ["archived", "zombie"]),
    "owner_team": (["team-a", ""], ["x" * 65]),
    "tags": (["vip;tea", ""], ["a;" + "b" * 51, ";".join(["t"] * 51)]),
    "date_of_birth": (["1980-02-29", ""], ["1981-02-29", "yesterday"]),
    "do_not_call": (["true", "no", ""], ["perhaps"]),
    "address_line1": (["1 Nathan Road", ""], ["x" * 201]),
    "address_district": (["Mong Kok", ""], []),
    "address_country": (["HK", ""], ["hk", "HKG"]),
}


def random_rows(count: int, seed: int):
    rng = random.Random(seed)
    for _ in range(count):
        columns = ["name", "segment"] + rng.sample(
            [c for c in CELLS if c not in ("name", "segment")], rng.randint(1, 8)
        )
        record = {}
        for column in columns:
            good, bad = CELLS[column]
            record[column] = rng.choice(bad if bad and rng.random() < 0.08 else good)
        yield record


def marshmallow_answer(record):
    try:
        data = rows.from_csv(record)
        return rows.schema_for(tuple(record)).load(data), None
    except ValidationError as exc:
        return None, exc.messages


def test_the_fast_loader_answers_what_the_schema_answers():
    accepted = 0
    for record in random_rows(3000, seed=7):
        expected, errors = marshmallow_answer(record)
        try:
            data = rows.from_csv(record)
        except ValidationError:
            assert errors is not None
            continue
        fast = row_fields.load(rows.schema_for(tuple(record)), data)
        if errors is not None:
            assert fast is None, (record, errors)
        else:
            assert fast == expected, record
            assert json.dumps(fast, default=str) == json.dumps(expected, default=str)
            accepted += 1
        assert rows.load(record, None, "csv") == (expected, errors)
    assert accepted > 300  # the corpus exercises the accepting path, not only refusals


def test_phones_and_emails_parsed_ahead_by_column_load_the_same_rows():
    records = list(random_rows(1500, seed=11))
    records.append({"name": "Surplus", "segment": "smb", "phone": "9123 4567", None: ["x"]})
    row_fields._SEEN.clear()
    rows.normalise_ahead(records)
    assert len(row_fields._SEEN) > 500  # parsed ahead: the rows below find them
    for record in records:
        expected, errors = marshmallow_answer(record) if None not in record else (None, None)
        got = rows.load(record, None, "csv")
        if None in record:
            assert got == (None, {"_row": ["more cells than header columns"]})
        else:
            assert got == (expected, errors), record


def test_a_repeated_phone_or_email_reads_the_same_the_second_time():
    record = {"name": "Ho Wing", "segment": "smb", "phone": "9123 4567", "email": "A@B.example.com"}
    first = rows.load(record, None, "csv")
    assert first == rows.load(dict(record), None, "csv") == marshmallow_answer(record)


def test_an_external_ref_longer_than_its_column_is_refused():
    _, reasons = rows.load(
        {"name": "A", "segment": "smb", "phone": "9123 4567", "external_ref": "x" * 101},
        None,
        "csv",
    )
    assert "external_ref" in reasons


def registered(**changes):
    now = datetime.now(UTC)
    return {
        "customer_id": str(uuid.uuid4()),
        "name": "Chan Tai Man",
        "phone": "+85291234567",
        "segment": "smb",
        "preferred_language": None,
        "lifecycle_status": "active",
        "registered_at": now,
        "kind": "person",
        "owner_team": None,
        "source": "import",
        "external_ref": None,
        **changes,
    }


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"phone": None, "owner_team": "a"},
        {"kind": "company", "preferred_language": "en"},
        {"external_ref": "ERP-1"},
    ],
)
def test_a_registered_event_of_an_import_is_the_contracts_own(changes):
    setup = Setup("csv", "tester", "customer", "sqlite", correlation_id="corr-1")
    first, second = registered(**changes), registered(**changes)
    rows_ = [
        row
        for p in (first, second)
        for row in outbox.rows(_origin(setup), "customer.registered", [p], p["registered_at"])
    ]
    for payload, row in zip((first, second), rows_):
        event = parse_event(row["body"])
        assert event.event_type == row["event_type"] == "customer.registered"
        assert event.correlation_id == "corr-1" and event.producer == "customer"
        assert event.payload == {
            **payload,
            "referred_by_call_id": None,
            "referred_by_customer_id": None,
            "email": None,
            "address": None,
            "relationship_score": None,
            "satisfaction_trend": None,
        }


def test_a_payload_outside_the_contract_is_refused():
    setup = Setup("csv", "tester", "customer", "sqlite")
    odd = registered(kind="robot")
    with pytest.raises(ValueError, match="contract"):
        list(outbox.rows(_origin(setup), "customer.registered", [odd], odd["registered_at"]))


def _origin(setup: Setup) -> outbox.Origin:
    # As the import's workers make it (``preparation``).
    return outbox.Origin(setup.producer, setup.correlation_id, setup.causation_id)


def test_ids_are_version_7_uuids_in_the_order_they_were_made():
    made = list(itertools.islice(new_ids(), 10_000))
    parsed = [uuid.UUID(text) for text in made]
    assert all(u.version == 7 and u.variant == uuid.RFC_4122 for u in parsed)
    assert [str(u) for u in parsed] == made
    assert made == sorted(made) and len(set(made)) == len(made)
    millis = int(made[0].replace("-", "")[:12], 16)
    assert abs(millis / 1000 - datetime.now(UTC).timestamp()) < 60
