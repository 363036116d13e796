"""The segment filter of the customer-level reports (coverage, follow-ups,
data-quality) applies to every figure: with customers in two segments, a filtered
answer equals the one computed here, by the documented rules, from only the
matching customers' events."""

from datetime import UTC, datetime, timedelta

import pytest

from services.reporting import config
from services.reporting.app import create_app
from services.reporting.handlers import subscriptions
from services.reporting.tables import Inbox, Outbox
from shared import migrations
from shared.db import Database
from shared.entrypoints import build_dispatcher
from tests.conftest import auth
from tests.reporting.generate import event

NOW = datetime.now(UTC).replace(microsecond=0)
SEGMENTS = ("retail", "sme")
NOT_CONTACTED = ("no_answer", "busy", "wrong_number")
POLICY = 14  # the plan's max_gap_days, carried by call.scheduled
FIELDS = ("email", "birthday", "address")


def _customer(segment: str, n: int) -> tuple[list, dict]:
    """One of five stories by ``n``: overdue, complained, keen but not called lately,
    a follow-up due, or opted out after a complaint. Returns its events and facts."""
    cid, ago = f"{segment}-{n}", lambda days: NOW - timedelta(days=days, hours=n)
    facts = {
        "customer_id": cid,
        "segment": segment,
        "missed": [],
        "done": [],
        "followups": [],
        "opted_out": False,
        "planned": [],
    }
    events = [
        event(
            "customer.registered",
            ago(400),
            customer_id=cid,
            name=cid,
            segment=segment,
            registered_at=ago(400),
        )
    ]

    def scheduled(call, days):
        events.append(
            event(
                "call.scheduled",
                ago(400),
                call_id=f"{cid}-{call}",
                plan_id="plan",
                customer_id=cid,
                channel="phone",
                due_at=ago(days),
                segment=segment,
                max_gap_days=POLICY,
            )
        )
        facts["planned"].append(ago(days))

    scheduled("next", -5)

    def done(call, days, outcome, propensity=None):
        events.append(
            event(
                "call.completed",
                ago(days),
                call_id=f"{cid}-{call}",
                customer_id=cid,
                channel="phone",
                outcome=outcome,
                completed_at=ago(days),
                propensity=propensity,
                segment=segment,
            )
        )
        facts["done"].append((ago(days), outcome, propensity))

    def missed(call, days):
        scheduled(call, days)
        events.append(
            event(
                "call.missed",
                ago(days),
                call_id=f"{cid}-{call}",
                customer_id=cid,
                channel="phone",
                due_at=ago(days),
                missed_at=ago(days),
                segment=segment,
            )
        )
        facts["missed"].append(ago(days))

    story = n % 5
    if story == 0:
        done("a", 60, "reached"), missed("b", 3 + 9 * n + (5 if segment == "sme" else 0))
    elif story == 1:
        missed("a", 20), done("b", 4, "complaint")
    elif story == 2:
        done("a", 40 + n, "interested", propensity=70 + n)
    elif story == 3:
        done("a", 12, "reached"), done("b", 2, "no_answer"), missed("c", 2)
        events.append(
            event(
                "followup.created",
                ago(10),
                followup_id=f"{cid}-f",
                kind="callback",
                customer_id=cid,
                source_call_id=f"{cid}-a",
                due_at=ago(5),
                created_at=ago(10),
            )
        )
        facts["followups"].append((ago(10), ago(5)))
    else:
        done("a", 3, "complaint")
        events.append(event("customer.opted_out", ago(1), customer_id=cid, opted_out_at=ago(1)))
        facts["opted_out"] = True
    for k in range(n % 3):
        flagged = ago(30 + k)
        events.append(
            event(
                "customer.quality_flagged",
                flagged,
                item_id=f"{cid}-q{k}",
                customer_id=cid,
                rule=f"rule-{k}",
                segment=segment,
                flagged_at=flagged,
            )
        )
        if k == 1:
            events.append(
                event(
                    "customer.quality_resolved",
                    flagged + timedelta(hours=n),
                    item_id=f"{cid}-q{k}",
                    customer_id=cid,
                    rule=f"rule-{k}",
                    segment=segment,
                    resolved_at=flagged + timedelta(hours=n),
                )
            )
    facts["quality"] = [(f"rule-{k}", k == 1 and n) for k in range(n % 3)]
    facts["gaps"] = list(FIELDS[: n % 4])
    if facts["gaps"]:
        events.append(
            event(
                "customer.gaps_detected",
                ago(9),
                customer_id=cid,
                segment=segment,
                missing_fields=facts["gaps"],
                detected_at=ago(9),
            )
        )
    return events, facts


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('customers') / 'reporting.db'}"
    migrations.upgrade(url, config.MIGRATIONS)
    settings = config.load({"DATABASE_URL": url, "DEV_MODE": "1"})
    db = Database(url)
    dispatcher = build_dispatcher(settings, db, Outbox, Inbox, subscriptions(settings))
    customers = []
    for segment in SEGMENTS:
        for n in range(10 if segment == "retail" else 12):
            events, facts = _customer(segment, n)
            customers.append(facts)
            for e in events:
                dispatcher.dispatch(e)
    yield create_app({"DATABASE_URL": url, "DEV_MODE": "1"}).test_client(), customers
    db.dispose()


def report(client, name, **query):
    r = client.get(f"/api/v1/reports/{name}", headers=auth("analyst"), query_string=query)
    assert r.status_code == 200, r.json
    return r.json


def _contacts(c):
    return [at for at, outcome, _ in c["done"] if outcome not in NOT_CONTACTED]


def overdue_since(c):
    """The time the customer was due by, if past: the policy's days after its last
    qualifying contact, or, never contacted, its first planned call's due time."""
    contacts = _contacts(c)
    due = max(contacts) + timedelta(days=POLICY) if contacts else min(c["planned"])
    return due if due < NOW else None


@pytest.mark.parametrize("segment", SEGMENTS)
def test_coverage_filtered_equals_the_segments_customers_alone(world, segment):
    client, customers = world
    mine = [c for c in customers if c["segment"] == segment]
    late = {c["customer_id"]: overdue_since(c) for c in mine if overdue_since(c)}
    body = report(client, "coverage", segment=segment)
    assert body["overdue_customers"] == len(late) > 0
    assert {c["customer_id"]: c["days_overdue"] for c in body["customers"]} == {
        cid: pytest.approx((NOW - since).total_seconds() / 86400, abs=0.06)
        for cid, since in late.items()
    }
    [row] = body["by_segment"]
    assert (row["segment"], row["overdue"], row["customers"]) == (segment, len(late), len(mine))
    assert row["compliance"] == round(1 - len(late) / len(mine), 4)


def expected_actions(c, days=30, floor=70) -> set:
    if c["opted_out"]:
        return set()
    out, contacts = set(), _contacts(c)
    last = max(c["done"], default=None)
    last_contact = max(
        ((at, o) for at, o, _ in c["done"] if o not in NOT_CONTACTED), default=(None, None)
    )
    if last_contact[1] == "complaint":
        out.add("resolve_complaint")
    scored = [(at, p) for at, _, p in c["done"] if p is not None]
    if scored and max(scored)[1] >= floor and last[0] < NOW - timedelta(days=days):
        out.add("call_now")
    since = overdue_since(c)
    if since and since < NOW - timedelta(days=7):
        out.add("catch_up")
    if any(
        due < NOW and not any(at > created for at in contacts) for created, due in c["followups"]
    ):
        out.add("followup_due")
    return {(c["customer_id"], action) for action in out}


@pytest.mark.parametrize("segment", SEGMENTS)
def test_follow_ups_filtered_equal_the_segments_customers_alone(world, segment):
    client, customers = world
    body = report(client, "follow-ups", segment=segment)
    expected = set().union(*(expected_actions(c) for c in customers if c["segment"] == segment))
    assert {(a["customer_id"], a["action"]) for a in body["actions"]} == expected
    assert body["proposals"] == len(expected) and {a["segment"] for a in body["actions"]} == {
        segment
    }
    assert {a for _, a in expected} == {"resolve_complaint", "call_now", "catch_up", "followup_due"}


@pytest.mark.parametrize("segment", SEGMENTS)
def test_data_quality_filtered_equals_the_segments_items_and_gaps_alone(world, segment):
    client, customers = world
    mine = [c for c in customers if c["segment"] == segment]
    items = [item for c in mine for item in c["quality"]]
    body = report(client, "data-quality", segment=segment)
    assert (body["open"], body["resolved"]) == (
        sum(not r for _, r in items),
        sum(r is not False for _, r in items),
    )
    hours = [r for rule, r in items if rule == "rule-1"]
    assert {(r["rule"], r["segment"]): r["mean_hours_to_resolve"] for r in body["rules"]} == {
        ("rule-0", segment): None,
        ("rule-1", segment): round(sum(hours) / len(hours), 1),
    }
    gaps = [c["gaps"] for c in mine if c["gaps"]]
    assert body["customers_with_gaps"] == len(gaps)
    assert {f["field"]: f["customers"] for f in body["missing_fields"]} == {
        name: sum(name in g for g in gaps) for name in FIELDS
    }
