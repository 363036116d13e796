"""A partner learns nothing about a call it may no longer see: its own call cancelled
(opted out, erased) or moved to another partner's agent answers, on every partner
endpoint, exactly as another partner's call or one that never existed, after the
same work; staff still see why a call takes no outcome."""

import statistics
import time
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import event

from services.calls.calls.tables import Call
from tests.calls.helpers import (
    add_agent,
    add_partner,
    assign,
    build_app,
    calls_of,
    counts,
    create_plan,
    deliver,
    project,
    schedule,
)
from tests.conftest import auth, make_token

REACHED = {"outcome": "reached", "satisfaction": 5, "propensity": 60, "duration_seconds": 200}
HIDDEN = ("opted_out", "erased", "reassigned", "another_partners")
ENDPOINTS = [
    ("GET", "/partner/calls/{id}", None),
    ("POST", "/partner/calls/{id}/outcome", REACHED),
    ("PUT", "/partner/calls/{id}", {}),
    ("DELETE", "/partner/calls/{id}", None),
    ("GET", "/partner/calls/{id}/outcome", None),
    ("POST", "/partner/outcomes", {"outcomes": [{"call_id": "{id}", **REACHED}]}),
]


@pytest.fixture
def app(service_app, database_url):
    """On SQLite and on PostgreSQL, where the look-up also takes a row lock."""
    return build_app(service_app, database_url)


@pytest.fixture
def ids(app, client):
    """Partner A's calls made hidden from it in each way, and one that never existed."""
    project(app, *(f"c{n}" for n in range(1, 11)))
    a, b = add_partner(client, "A-Call"), add_partner(client, "B-Call")
    add_agent(client, "agent-a", kind="partner", partner_id=a["id"])
    add_agent(client, "agent-b", kind="partner", partner_id=b["id"])
    schedule(client, create_plan(client, rrule="FREQ=WEEKLY;BYDAY=MO,TH;BYHOUR=10")["id"], days=7)
    assign(client)
    calls = calls_of(client)
    mine = {}
    for call in calls:  # one of A's calls per customer
        if call["partner_id"] == a["id"]:
            mine.setdefault(call["customer_id"], call["id"])
    opted, erased, moved, kept = list(mine.items())[:4]
    now = datetime.now(UTC)
    deliver(app, "customer.opted_out", customer_id=opted[0], opted_out_at=now)
    deliver(app, "customer.erased", customer_id=erased[0], erased_at=now)
    r = client.post(
        f"/api/v1/calls/{moved[1]}/assignment",
        headers=auth(),
        json={"agent_id": "agent-b", "reason": "rebalance"},
    )
    assert r.status_code == 200, r.json
    states = {c["id"]: c for c in calls_of(client)}
    assert states[opted[1]]["cancel_reason"] == "opted_out"
    assert states[erased[1]]["cancel_reason"] == "erased"
    assert states[moved[1]]["partner_id"] == b["id"]
    theirs = next(c["id"] for c in calls if c["partner_id"] == b["id"])
    return {
        "opted_out": opted[1],
        "erased": erased[1],
        "reassigned": moved[1],
        "another_partners": theirs,
        "never_existed": str(uuid.uuid4()),
        "own": kept[1],
        "A": {"Authorization": f"Bearer {make_token('partner', 'sup', a['id'])}"},
    }


def ask(client, ids, method, path, body, call_id):
    """The request about ``call_id``, as a partner of A would send it."""
    if body is not None:
        body = (
            {"outcomes": [{**body["outcomes"][0], "call_id": call_id}]}
            if "outcomes" in body
            else body
        )
    return client.open(
        f"/api/v1{path.format(id=call_id)}", method=method, headers=ids["A"], json=body
    )


def seen(response, call_id: str) -> tuple:
    """What the partner sees, byte for byte, with its own id and the request id put aside."""
    request_id = response.headers["X-Request-ID"]
    body = (
        response.get_data()
        .replace(call_id.encode(), b"{id}")
        .replace(request_id.encode(), b"{request}")
    )
    headers = sorted((k, v) for k, v in response.headers.items() if k != "X-Request-ID")
    return response.status_code, headers, body


@pytest.mark.parametrize("method, path, body", ENDPOINTS)
def test_a_hidden_call_answers_exactly_like_one_that_never_existed(
    app, client, ids, method, path, body
):
    before = counts(app)
    unknown = seen(ask(client, ids, method, path, body, ids["never_existed"]), ids["never_existed"])
    assert unknown[0] in (200, 404)  # the bulk upload answers 200 with a 404 row
    for hidden in HIDDEN:
        answer = seen(ask(client, ids, method, path, body, ids[hidden]), ids[hidden])
        assert answer == unknown, hidden
    assert b"opted" not in unknown[2] and b"erased" not in unknown[2]
    assert counts(app) == before


def test_the_bulk_report_row_is_the_same_for_every_hidden_call(client, ids):
    names = ("never_existed", *HIDDEN)
    r = client.post(
        "/api/v1/partner/outcomes",
        headers=ids["A"],
        json={"outcomes": [{"call_id": ids[name], **REACHED} for name in names]},
    )
    assert r.status_code == 200
    rows = [{**row, "index": 0} for row in r.json["results"]]
    assert [row["call_id"] for row in rows] == [ids[name] for name in names]
    shapes = [
        {
            k: (v.replace(row["call_id"], "{id}") if isinstance(v, str) else v)
            for k, v in row.items()
        }
        for row in rows
    ]
    assert shapes == [shapes[0]] * len(names)
    assert shapes[0] == {
        "index": 0,
        "call_id": "{id}",
        "result": "rejected",
        "status": 404,
        "problem": "not-found",
        "detail": "no call {id}",
    }


class Work:
    """The SQL statements a request runs (its call id put aside) and the calls it loads."""

    def __init__(self, app):
        self.engine = app.extensions["rapport"].db.engine
        self.statements, self.loaded = [], 0

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._statement)
        event.listen(Call, "load", self._load)
        return self

    def __exit__(self, *_exc):
        event.remove(self.engine, "before_cursor_execute", self._statement)
        event.remove(Call, "load", self._load)

    def _statement(self, _conn, _cursor, statement, parameters, _context, _many):
        self.statements.append((statement, repr(parameters)))

    def _load(self, _target, _context):
        self.loaded += 1

    def of(self, call_id: str) -> list:
        return [(s, p.replace(call_id, "{id}")) for s, p in self.statements]


@pytest.mark.parametrize("method, path, body", ENDPOINTS)
def test_a_hidden_call_costs_the_same_statements_as_one_that_never_existed(
    app, client, ids, method, path, body
):
    def work(call_id):
        with Work(app) as seen_work:
            ask(client, ids, method, path, body, call_id)
        return seen_work.of(call_id), seen_work.loaded

    unknown = work(ids["never_existed"])
    assert unknown[0] and unknown[1] == 0
    for hidden in HIDDEN:
        assert work(ids[hidden]) == unknown, hidden


def test_a_hidden_call_takes_about_as_long_as_one_that_never_existed(client, ids):
    """A loose wall-clock check (the statements above are the proof): interleaved
    requests, medians within half of each other or 2 ms on a busy machine."""
    times = {"hidden": [], "unknown": []}
    for _ in range(150):
        for kind, call_id in (("hidden", ids["opted_out"]), ("unknown", ids["never_existed"])):
            started = time.perf_counter()
            r = client.post(
                f"/api/v1/partner/calls/{call_id}/outcome", headers=ids["A"], json=REACHED
            )
            times[kind].append(time.perf_counter() - started)
            assert r.status_code == 404
    hidden, unknown = (statistics.median(times[k]) for k in ("hidden", "unknown"))
    assert abs(hidden - unknown) <= max(0.5 * min(hidden, unknown), 0.002)


def test_the_partner_still_records_on_its_own_open_call(client, ids):
    r = client.post(f"/api/v1/partner/calls/{ids['own']}/outcome", headers=ids["A"], json=REACHED)
    assert r.status_code == 201 and r.json["call"]["outcome"] == "reached"


@pytest.mark.parametrize("hidden, reason", [("opted_out", "opted_out"), ("erased", "erased")])
def test_staff_still_see_why_a_cancelled_call_takes_no_outcome(client, ids, hidden, reason):
    r = client.post(f"/api/v1/calls/{ids[hidden]}/outcome", headers=auth(), json=REACHED)
    assert r.status_code == 409 and r.content_type == "application/problem+json"
    assert f"was cancelled ({reason})" in r.json["detail"]
    bulk = client.post(
        "/api/v1/calls/outcomes",
        headers=auth(),
        json={"outcomes": [{"call_id": ids[hidden], **REACHED}]},
    )
    assert bulk.json["results"][0]["status"] == 409
    assert reason in bulk.json["results"][0]["detail"]
