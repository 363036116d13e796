"""``rapport-dead-letters`` against the real RabbitMQ: dead letters listed with their
reasons, a chosen one replayed and applied once, a replay of what was applied
already changing nothing, and one clear line for what it cannot do."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pika
import pytest
from sqlalchemy import select

from shared.events import make_event
from shared.messaging import dead_letters, topology
from shared.messaging.dead_letters_cli import main
from shared.metrics import metrics_for
from shared.testing import wait_for
from tests.shared import messaging_app as m
from tests.shared.test_messaging import applied, consumer, pending, queue_depth, relay, running

pytestmark = pytest.mark.integration


@pytest.fixture
def db(database_url):
    db = m.make_db(database_url)
    yield db
    db.dispose()


@pytest.fixture(autouse=True)
def poison_fails():
    m.CURED["poison"] = False
    yield
    m.CURED["poison"] = False


def cli(capsys, namespace, amqp_url, *argv) -> tuple[int, str, str]:
    capsys.readouterr()
    status = main(["--amqp-url", amqp_url, "--namespace", namespace.namespace, *argv])
    out, err = capsys.readouterr()
    return status, out, err


def listed(capsys, namespace, amqp_url) -> list[dict]:
    status, out, _ = cli(capsys, namespace, amqp_url, "list", m.SERVICE, "--json")
    assert status == 0
    return json.loads(out)


def test_dead_letters_are_listed_with_reasons_and_a_chosen_one_is_replayed_and_applied_once(
    db, amqp_url, namespace, capsys
):
    poison = m.emit_calls(db, 2, notes="poison")
    m.emit_calls(db, 20)
    dlq = namespace.dead_letter_queue(m.SERVICE)
    with running(relay(db, amqp_url, namespace)), running(consumer(db, amqp_url, namespace)):
        wait_for(lambda: pending(db) == 0, 20, message="relayed")
        conn = pika.BlockingConnection(pika.URLParameters(amqp_url))
        conn.channel().basic_publish(
            namespace.exchange,
            "call.completed.v1",
            b"[" * 5000,
            pika.BasicProperties(message_id="deep"),
        )
        conn.close()
        wait_for(lambda: queue_depth(amqp_url, dlq) == 3, 20, message="three dead letters")
        wait_for(lambda: applied(db) == (20, 20), 20, message="the good events")

        rows = listed(capsys, namespace, amqp_url)
        assert sorted(r["event_id"] or r["message_id"] for r in rows) == sorted(poison + ["deep"])
        reasons = {r["event_id"] or r["message_id"]: r["reason"] for r in rows}
        assert reasons[poison[0]] == "handler failed 2 times: RuntimeError: this event always fails"
        assert reasons["deep"].startswith("malformed (not_json)")
        assert all(r["deaths"] == 1 and r["first_death"] for r in rows)
        assert {r["event_type"] for r in rows if r["event_id"]} == {"call.completed"}
        assert [r["size"] for r in rows if r["message_id"] == "deep"] == [5000]
        status, table, _ = cli(capsys, namespace, amqp_url, "list")
        assert status == 0 and "handler failed 2 times" in table and "REASON" in table
        assert listed(capsys, namespace, amqp_url) == rows  # listing takes nothing away

        m.CURED["poison"] = True  # the handler is fixed; replay one of the two
        status, out, _ = cli(capsys, namespace, amqp_url, "replay", m.SERVICE, poison[0])
        assert status == 0 and out.startswith("replayed 1 message(s)")
        wait_for(lambda: applied(db) == (21, 21), 20, message="the replayed event applied")
    with db.reader() as s:
        assert s.scalars(
            select(m.Applied.event_id).where(m.Applied.event_id.in_(poison))
        ).all() == [poison[0]]
    assert [r["event_id"] or r["message_id"] for r in listed(capsys, namespace, amqp_url)] == [
        r["event_id"] or r["message_id"] for r in rows if r["event_id"] != poison[0]
    ]


def test_replaying_an_event_already_applied_changes_nothing(db, amqp_url, namespace, capsys):
    [event_id] = m.emit_calls(db, 1)
    with running(relay(db, amqp_url, namespace)), running(consumer(db, amqp_url, namespace)):
        wait_for(lambda: applied(db) == (1, 1), 20, message="applied")
        # A copy dead-lettered although it was applied (say, its consumer died before the ack).
        with db.reader() as s:
            body = s.scalar(select(m.Outbox.body))
        conn = pika.BlockingConnection(pika.URLParameters(amqp_url))
        conn.channel().basic_publish(
            namespace.dead_letter_exchange,
            m.SERVICE,
            body.encode(),
            pika.BasicProperties(message_id=event_id),
        )
        conn.close()
        duplicates = metrics_for(m.SERVICE).duplicate.labels("call.completed")
        before = duplicates._value.get()
        status, out, _ = cli(capsys, namespace, amqp_url, "replay", m.SERVICE, "--all")
        assert status == 0 and out.startswith("replayed 1 message(s)")
        wait_for(lambda: duplicates._value.get() == before + 1, 20, message="the inbox absorbed it")
        assert queue_depth(amqp_url, namespace.queue(m.SERVICE)) == 0
    assert applied(db) == (1, 1)
    assert listed(capsys, namespace, amqp_url) == []


def test_an_id_that_is_not_dead_lettered_replays_nothing(db, amqp_url, namespace, capsys):
    [poison] = m.emit_calls(db, 1, notes="poison")
    with running(relay(db, amqp_url, namespace)), running(consumer(db, amqp_url, namespace)):
        wait_for(lambda: pending(db) == 0, 20, message="relayed")
        wait_for(
            lambda: queue_depth(amqp_url, namespace.dead_letter_queue(m.SERVICE)) == 1,
            20,
            message="dead-lettered",
        )
        status, out, err = cli(capsys, namespace, amqp_url, "replay", m.SERVICE, poison, "nope")
    assert status == 1 and out == ""
    assert err.strip() == (
        f"rapport-dead-letters: not in {namespace.dead_letter_queue(m.SERVICE)}"
        ": nope; nothing replayed"
    )
    assert [r["event_id"] for r in listed(capsys, namespace, amqp_url)] == [poison]


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["--amqp-url", "amqp://guest:guest@127.0.0.1:1/%2F", "list"],
            "rapport-dead-letters: cannot reach the broker at amqp://127.0.0.1:1/%2F",
        ),
        (
            ["list", "billing"],
            "rapport-dead-letters: unknown service 'billing' (one of: customer, "
            "calls, sales, reporting)",
        ),
        (["replay", "billing", "--all"], "rapport-dead-letters: unknown service 'billing'"),
    ],
)
def test_an_unreachable_broker_or_unknown_service_is_one_line_and_a_failure(argv, message, capsys):
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith(message) and err.count("\n") == 1


def _dead_letter(channel, names, service: str, body: bytes, message_id: str) -> None:
    """Dead-letter ``body`` as the broker does: published to the service's queue,
    taken and rejected without requeue (so it carries its ``x-death``)."""
    queue = names.queue(service)
    channel.basic_publish("", queue, body, pika.BasicProperties(message_id=message_id))
    method, _, _ = channel.basic_get(queue)
    channel.basic_nack(method.delivery_tag, requeue=False)


def _held(amqp_url, names, service) -> list:
    conn = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        with dead_letters.held(conn.channel(), names.dead_letter_queue(service)) as letters:
            return [(letter.message_id, letter.body, letter.describe()) for letter in letters]
    finally:
        conn.close()


def test_an_erased_customers_dead_letters_lose_their_personal_data_and_nothing_else(
    amqp_url, namespace
):
    erased, other = str(uuid.uuid4()), str(uuid.uuid4())
    now = datetime.now(UTC)

    def registered(customer_id, name, phone):
        return (
            make_event(
                "customer.registered",
                {
                    "customer_id": customer_id,
                    "name": name,
                    "phone": phone,
                    "segment": "smb",
                    "registered_at": now,
                },
                producer="customer",
            )
            .to_json()
            .encode()
        )

    finding = (
        make_event(
            "customer.quality_flagged",
            {
                "item_id": "q1",
                "customer_id": other,
                "rule": "shared_phone",
                "detail": f"phone shared with {erased}",
                "flagged_at": now,
            },
            producer="customer",
        )
        .to_json()
        .encode()
    )
    conn = pika.BlockingConnection(pika.URLParameters(amqp_url))
    channel = topology.declare(conn.channel(), namespace)
    channel.confirm_delivery()
    service = "calls"
    _dead_letter(
        channel, namespace, service, registered(erased, "Chan Tai Man", "+85291234567"), "a"
    )
    _dead_letter(
        channel, namespace, service, registered(other, "Wong Siu Ming", "+85251234567"), "b"
    )
    _dead_letter(channel, namespace, service, finding, "c")
    _dead_letter(channel, namespace, service, f"not json, names {erased}".encode(), "d")
    _dead_letter(channel, namespace, service, b"not json either", "e")
    conn.close()
    dlq = namespace.dead_letter_queue(service)
    wait_for(lambda: queue_depth(amqp_url, dlq) == 5, 20, message="five dead letters")
    before = {mid: (body, row) for mid, body, row in _held(amqp_url, namespace, service)}
    assert set(before) == set("abcde")

    asked = []

    def which(ids):
        asked.append(set(ids))
        return ids & {erased}

    conn = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        assert dead_letters.scrub(conn, namespace, service, which) == 3
        assert dead_letters.scrub(conn, namespace, service, which) == 0  # nothing left to blank
    finally:
        conn.close()
    assert {erased, other} <= asked[0]

    after = {mid: (body, row) for mid, body, row in _held(amqp_url, namespace, service)}
    assert set(after) == set("abce")  # "d" names the person and is no event: dropped
    for mid in "be":  # about someone else, or naming no one: untouched, in place
        assert after[mid] == before[mid]
    for mid in "ac":  # the same event, listed as before (reason, deaths), only blanked
        assert {**after[mid][1], "size": 0} == {**before[mid][1], "size": 0}
    assert erased.encode() in after["a"][0] and b"Chan" not in after["a"][0]
    payload = json.loads(after["a"][0])["payload"]
    assert payload["name"] == "[erased]" and payload["phone"] is None
    assert json.loads(after["a"][0])["event_id"] == json.loads(before["a"][0])["event_id"]
    assert json.loads(after["c"][0])["payload"]["detail"] is None
    assert after["a"][1]["deaths"] == 1 and after["a"][1]["reason"] == "rejected"
