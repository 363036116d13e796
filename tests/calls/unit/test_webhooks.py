"""Webhooks: each notification reaches each subscription that may hear it exactly once,
signed, even after the receiver was down for a while (retries on a moved clock, no
waiting); a partner hears only its own work, and never why a call was taken away;
bad URLs and cross-tenant subscriptions are refused with nothing written."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from services.calls.calls.tables import Call
from services.calls.notifications import delivery as deliveries
from services.calls.notifications.tables import WebhookDelivery, WebhookSubscription
from services.calls.partner.tables import Withdrawal
from shared import clock
from shared.events import parse_event
from tests.calls.helpers import (
    add_agent,
    add_partner,
    assign,
    build_app,
    calls_of,
    create_plan,
    dispatcher_for,
    outbox,
    project,
    schedule,
)
from tests.calls.webhook_receiver import Receiver, verify
from tests.conftest import auth, make_token

OWN_EVENTS = ("call.assigned", "call.cancelled", "followup.created")


@pytest.fixture
def app(service_app, database_url):
    return build_app(service_app, database_url, WEBHOOK_ALLOW_PRIVATE="1")


@pytest.fixture
def moved_clock(tmp_path):
    path = tmp_path / "offset"
    clock.use_offset_file(path)
    offset = [timedelta(0)]

    def move(by: timedelta) -> None:
        offset[0] += by
        clock.set_offset(path, offset[0])

    yield move
    clock.use_offset_file(None)


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.down()


def partner(partner_id):
    return {"Authorization": f"Bearer {make_token('partner', 'supervisor', partner_id)}"}


def subscribe(client, headers, url, kinds, **extra):
    return client.post(
        "/api/v1/webhooks", headers=headers, json={"url": url, "kinds": kinds, **extra}
    )


def handle_own_events(app):
    """The calls consumer's part: every call.* / followup.* event in the outbox."""
    dispatcher = dispatcher_for(app)
    for row in outbox(app):
        if row.event_type in OWN_EVENTS:
            assert dispatcher.dispatch(parse_event(row.body))


def send(app):
    return deliveries.deliver_due(app.extensions["rapport"].db, clock.now(), private_ok=True)


def rows(app, model):
    with app.extensions["rapport"].db.reader() as s:
        return list(s.scalars(select(model)))


@pytest.fixture
def world(app, client, receiver):
    """Partners A and B with an agent each, an internal subscriber and one per partner,
    and a week of calls assigned between the two partners."""
    project(app, "c1", "c2", "c3")
    a, b = add_partner(client, "A-Call"), add_partner(client, "B-Call")
    add_agent(client, "agent-a", kind="partner", partner_id=a["id"])
    add_agent(client, "agent-b", kind="partner", partner_id=b["id"])
    subs = {
        "internal": subscribe(
            client,
            auth(),
            f"{receiver.base}/internal",
            ["call.assigned", "call.withdrawn", "escalation.raised"],
        ).json,
        "a": subscribe(
            client, partner(a["id"]), f"{receiver.base}/a", ["call.assigned", "call.withdrawn"]
        ).json,
        "b": subscribe(client, partner(b["id"]), f"{receiver.base}/b", ["call.assigned"]).json,
    }
    schedule(client, create_plan(client, rrule="FREQ=WEEKLY;BYDAY=MO,TH;BYHOUR=10")["id"], days=7)
    assign(client)
    calls = calls_of(client)
    return {
        "a": a,
        "b": b,
        "subs": subs,
        "calls": calls,
        "mine": [c for c in calls if c["partner_id"] == a["id"]],
        "theirs": [c for c in calls if c["partner_id"] == b["id"]],
    }


def test_each_subscriber_gets_each_notification_once_signed_and_partners_only_their_own(
    app, world, receiver
):
    handle_own_events(app)
    handle_own_events(app)  # redelivered events: the inbox writes no second delivery
    assert send(app)["delivered"] == len(world["calls"]) + len(world["mine"]) + len(world["theirs"])
    assert send(app)["delivered"] == 0
    for path, expected in (
        ("/internal", world["calls"]),
        ("/a", world["mine"]),
        ("/b", world["theirs"]),
    ):
        assert sorted(b["data"]["call_id"] for b in receiver.bodies(path)) == sorted(
            c["id"] for c in expected
        )
        assert set(receiver.times_each(path).values()) == {1}
    for path, headers, body in receiver.received:
        assert verify(world["subs"][path.strip("/")]["secret"], headers, body)
        assert not verify("another secret of enough length", headers, body)
    assert all("customer_id" not in b["data"] for b in receiver.bodies("/a"))
    assert all(b["data"]["customer_id"] for b in receiver.bodies("/internal"))


def test_a_receiver_down_for_a_while_gets_everything_once_when_back(
    app, client, world, receiver, moved_clock
):
    handle_own_events(app)
    receiver.down()
    for _ in range(3):  # refused three times, each retry later than the last
        assert send(app)["retrying"] > 0
        assert send(app)["retrying"] == 0  # not due again until its backoff passed
        moved_clock(timedelta(minutes=30))
    r = client.get(
        f"/api/v1/webhooks/{world['subs']['a']['id']}/deliveries", headers=partner(world["a"]["id"])
    )
    assert {(d["status"], d["attempts"], d["last_status_code"]) for d in r.json["items"]} == {
        ("pending", 3, None)
    }
    assert "ConnectionError" in r.json["items"][0]["last_error"]
    receiver.up()
    assert send(app)["delivered"] == len(world["calls"]) + len(world["mine"]) + len(world["theirs"])
    moved_clock(timedelta(hours=5))
    assert send(app) == {"delivered": 0, "retrying": 0, "failed": 0, "skipped": 0}
    assert sorted(receiver.times_each("/a").values()) == [1] * len(world["mine"])
    assert {d.status for d in rows(app, WebhookDelivery)} == {"delivered"}


def failed_attempts() -> float:
    return sum(
        sample.value
        for metric in deliveries.FAILED.collect()
        for sample in metric.samples
        if sample.name.endswith("_total")
    )


def test_a_delivery_that_never_gets_through_is_failed_visible_and_resendable(
    app, client, world, receiver, moved_clock
):
    handle_own_events(app)
    receiver.down()
    counted = failed_attempts()
    for _ in range(deliveries.MAX_ATTEMPTS):
        send(app)
        moved_clock(timedelta(hours=2))
    path = f"/api/v1/webhooks/{world['subs']['b']['id']}/deliveries"
    headers = partner(world["b"]["id"])
    failed = client.get(path, headers=headers, query_string={"status": "failed"}).json["items"]
    assert len(failed) == len(world["theirs"])
    assert failed[0]["attempts"] == deliveries.MAX_ATTEMPTS
    # Operators see it: every attempt not taken counted (the alert reads this).
    assert failed_attempts() - counted >= len(failed) * deliveries.MAX_ATTEMPTS
    receiver.up()
    r = client.post(f"{path}/{failed[0]['id']}/resend", headers=headers)
    assert (r.status_code, r.json["status"], r.json["attempts"]) == (200, "pending", 0)
    assert send(app)["delivered"] == 1
    assert receiver.times_each("/b") == {failed[0]["id"]: 1}


def test_work_taken_from_a_partner_tells_it_neutrally_and_its_acknowledgement_is_recorded(
    app, client, world, receiver
):
    handle_own_events(app)
    send(app)
    moved = world["mine"][0]
    optout = next(c for c in world["mine"] if c["customer_id"] != moved["customer_id"])
    r = client.post(
        f"/api/v1/calls/{moved['id']}/assignment",
        headers=auth(),
        json={"agent_id": "agent-b", "reason": "A is overbooked"},
    )
    assert r.status_code == 200, r.json
    from tests.calls.helpers import deliver

    deliver(
        app,
        "customer.opted_out",
        customer_id=optout["customer_id"],
        channel="phone",
        purpose="*",
        opted_out_at=clock.now(),
    )
    handle_own_events(app)
    send(app)
    told = [b for b in receiver.bodies("/a") if b["kind"] == "call.withdrawn"]
    assert {b["data"]["call_id"] for b in told} >= {moved["id"], optout["id"]}
    assert {b["data"]["reason"] for b in told} == {"withdrawn"}
    assert not any("opted_out" in str(b) for b in receiver.bodies("/a"))
    assert moved["id"] in {b["data"]["call_id"] for b in receiver.bodies("/b")}
    ack = told[0]["data"]["acknowledge"]
    assert client.post(ack, headers=partner(world["b"]["id"])).status_code == 404
    open_ = client.get(
        "/api/v1/withdrawals", headers=auth(), query_string={"acknowledged": "false"}
    ).json["items"]
    assert told[0]["data"]["withdrawal_id"] in {w["id"] for w in open_}
    r = client.post(ack, headers=partner(world["a"]["id"]))
    assert r.status_code == 200 and r.json["acknowledged_by"] == "supervisor"
    first = r.json["acknowledged_at"]
    assert client.post(ack, headers=partner(world["a"]["id"])).json["acknowledged_at"] == first
    still_open = client.get(
        "/api/v1/partner/withdrawals",
        headers=partner(world["a"]["id"]),
        query_string={"acknowledged": "false"},
    ).json["items"]
    assert told[0]["data"]["withdrawal_id"] not in {w["id"] for w in still_open}
    gone = {c["id"] for c in world["mine"] if c["customer_id"] == optout["customer_id"]}
    assert {w.call_id for w in rows(app, Withdrawal) if w.partner_id == world["a"]["id"]} == {
        moved["id"],
        *gone,
    }


def test_partners_see_and_remove_only_their_own_subscriptions(app, client, world):
    a, b = partner(world["a"]["id"]), partner(world["b"]["id"])
    assert [s["id"] for s in client.get("/api/v1/webhooks", headers=a).json["items"]] == [
        world["subs"]["a"]["id"]
    ]
    assert "secret" not in client.get("/api/v1/webhooks", headers=a).json["items"][0]
    theirs = world["subs"]["b"]["id"]
    assert client.get(f"/api/v1/webhooks/{theirs}", headers=a).status_code == 404
    assert client.delete(f"/api/v1/webhooks/{theirs}", headers=a).status_code == 404
    assert client.delete(f"/api/v1/webhooks/{theirs}", headers=b).status_code == 204
    assert len(client.get("/api/v1/webhooks", headers=auth()).json["items"]) == 2
    assert client.get("/api/v1/webhooks", headers=auth("agent")).status_code == 403


@pytest.mark.parametrize(
    "url, why",
    [
        ("ftp://127.0.0.1/hook", "http"),
        ("http://user:pw@127.0.0.1/hook", "credentials"),
        ("http://no-such-host.invalid/hook", "resolve"),
        ("not a url", "http"),
    ],
)
def test_unusable_urls_are_refused_with_nothing_written(app, client, url, why):
    r = subscribe(client, auth(), url, ["call.assigned"])
    assert r.status_code == 422 and r.mimetype == "application/problem+json"
    assert why in r.json["errors"]["url"][0]
    assert rows(app, WebhookSubscription) == []


def test_private_addresses_are_refused_unless_the_setting_allows_them(service_app, sqlite_url):
    client = build_app(service_app, sqlite_url).test_client()
    r = subscribe(client, auth(), "http://127.0.0.1:9/hook", ["call.assigned"])
    assert r.status_code == 422 and "private" in r.json["errors"]["url"][0]
    assert client.get("/api/v1/webhooks", headers=auth()).json["items"] == []


def test_a_partner_may_not_subscribe_to_others_work_or_internal_kinds(app, client, world, receiver):
    a = partner(world["a"]["id"])
    before = len(rows(app, WebhookSubscription))
    r = subscribe(client, a, f"{receiver.base}/x", ["call.assigned"], partner_id=world["b"]["id"])
    assert r.status_code == 403 and r.mimetype == "application/problem+json"
    assert subscribe(client, a, f"{receiver.base}/x", ["escalation.raised"]).status_code == 403
    assert (
        subscribe(
            client, auth(), f"{receiver.base}/x", ["call.assigned"], partner_id=world["a"]["id"]
        ).status_code
        == 422
    )
    assert (
        subscribe(client, a, f"{receiver.base}/x", ["call.assigned"], secret="short").status_code
        == 422
    )
    assert len(rows(app, WebhookSubscription)) == before


def test_a_callback_falling_due_is_announced_once(app, client, world, receiver, moved_clock):
    from services.calls.notifications import owed as notifications

    uow = app.extensions["rapport"].uow
    call = world["mine"][0]
    with uow() as work:
        row = work.session.get(Call, call["id"])
        row.kind, row.due_at = "callback", clock.now() + timedelta(hours=1)
    subscribe(client, partner(world["a"]["id"]), f"{receiver.base}/cb", ["callback.due"])
    assert notifications.announce_due_callbacks(uow, clock.now())["due"] == 0
    moved_clock(timedelta(hours=1, minutes=1))
    assert notifications.announce_due_callbacks(uow, clock.now())["due"] == 1
    moved_clock(timedelta(hours=1))
    assert notifications.announce_due_callbacks(uow, clock.now())["due"] == 0
    send(app)
    assert [b["data"]["call_id"] for b in receiver.bodies("/cb")] == [call["id"]]


def test_an_escalation_is_raised_to_internal_subscribers_only(app, client, world, receiver):
    call = world["calls"][0]
    r = client.post(
        f"/api/v1/calls/{call['id']}/outcome",
        headers=auth(),
        json={"outcome": "complaint", "duration_seconds": 60, "notes": "angry"},
    )
    assert r.status_code == 201, r.json
    handle_own_events(app)
    send(app)
    raised = [b for b in receiver.bodies("/internal") if b["kind"] == "escalation.raised"]
    assert [b["data"]["source_call_id"] for b in raised] == [call["id"]]
    assert not [
        b for p in ("/a", "/b") for b in receiver.bodies(p) if b["kind"] == "escalation.raised"
    ]
    with app.extensions["rapport"].db.reader() as s:
        assert (
            s.scalar(
                select(func.count())
                .select_from(WebhookDelivery)
                .where(WebhookDelivery.kind == "escalation.raised")
            )
            == 1
        )


def test_a_pass_that_is_sending_also_takes_deliveries_written_meanwhile(app, world, receiver):
    import threading

    handle_own_events(app)
    subs = len(rows(app, WebhookDelivery))
    written = threading.Event()

    def later():  # a reassignment's notifications, written while the pass runs
        receiver_seen = lambda: len(receiver.received) >= subs  # noqa: E731
        from shared.testing import wait_for

        wait_for(receiver_seen, 10, message="the first deliveries sent")
        client = app.test_client()
        r = client.post(
            f"/api/v1/calls/{world['mine'][0]['id']}/assignment",
            headers=auth(),
            json={"agent_id": "agent-b", "reason": "moved"},
        )
        assert r.status_code == 200, r.json
        handle_own_events(app)
        written.set()

    thread = threading.Thread(target=later)
    thread.start()
    totals = deliveries.deliver_due(
        app.extensions["rapport"].db, clock.now(), linger=3, private_ok=True
    )
    thread.join()
    assert written.is_set()
    assert totals["delivered"] == len(rows(app, WebhookDelivery)) > subs
    assert send(app)["delivered"] == 0  # nothing was left for the next pass


def test_an_erasure_leaves_no_delivery_naming_the_customer(app, world, receiver):
    from tests.calls.helpers import deliver

    handle_own_events(app)
    send(app)
    gone = world["calls"][0]["customer_id"]
    deliver(app, "customer.erased", customer_id=gone, erased_at=clock.now())
    handle_own_events(app)  # its calls' cancellations too
    assert len(rows(app, WebhookDelivery)) > len(world["calls"]) + len(world["mine"]) + len(
        world["theirs"]
    )
    assert not [d for d in rows(app, WebhookDelivery) if gone in d.payload["data"].values()]
    assert {d.customer_id for d in rows(app, WebhookDelivery)} - {None} == {
        c["customer_id"] for c in world["calls"]
    } - {gone}


def test_other_follow_ups_are_announced_as_created_to_internal_subscribers(
    app, client, world, receiver
):
    hook = subscribe(client, auth(), f"{receiver.base}/followups", ["followup.created"]).json
    call = world["calls"][0]
    r = client.post(
        f"/api/v1/calls/{call['id']}/outcome", headers=auth(), json={"outcome": "no_answer"}
    )
    assert r.status_code == 201, r.json
    handle_own_events(app)
    send(app)
    [created] = receiver.bodies("/followups")
    assert (created["kind"], created["data"]["kind"], created["data"]["source_call_id"]) == (
        "followup.created",
        "retry",
        call["id"],
    )
    assert verify(
        hook["secret"], *next((h, b) for p, h, b in receiver.received if p == "/followups")
    )


def test_a_subscription_retried_with_its_key_is_made_once(app, client, receiver):
    """A client that lost the answer (and with it the secret) sends again with its
    Idempotency-Key: the first answer, secret and all, and still one subscription."""
    headers = {**auth(), "Idempotency-Key": "subscribe-1"}
    url = f"{receiver.base}/hook"
    first = subscribe(client, headers, url, ["call.assigned"])
    again = subscribe(client, headers, url, ["call.assigned"])
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json == first.json and again.json["secret"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(client.get("/api/v1/webhooks", headers=auth()).json["items"]) == 1
    other = subscribe(client, headers, url, ["call.withdrawn"])
    assert other.status_code == 422 and other.content_type == "application/problem+json"
    assert len(client.get("/api/v1/webhooks", headers=auth()).json["items"]) == 1


def every_page(client, path, headers, **query) -> list[list[dict]]:
    pages, cursor = [], None
    while True:
        r = client.get(
            path, headers=headers, query_string={**query, "limit": 2, "cursor": cursor or ""}
        )
        assert r.status_code == 200, r.json
        pages.append(r.json["items"])
        cursor = r.json["next_cursor"]
        if cursor is None:
            return pages


def test_deliveries_and_withdrawals_come_a_page_at_a_time(app, client, world):
    """Both grow without bound (every notification, every withdrawal kept as PDPO
    evidence): each is a page and a cursor to the next, like every list here, and the
    pages hold every row once, in order (ties on the time broken by id)."""
    handle_own_events(app)
    sub = world["subs"]["internal"]["id"]
    pages = every_page(client, f"/api/v1/webhooks/{sub}/deliveries", auth())
    mine = [d for d in rows(app, WebhookDelivery) if d.subscription_id == sub]
    newest_first = sorted(mine, key=lambda d: (d.created_at, d.id), reverse=True)
    assert len(pages) > 2 and all(len(page) <= 2 for page in pages)
    assert [d["id"] for page in pages for d in page] == [d.id for d in newest_first]
    a, b = world["a"]["id"], world["b"]["id"]
    at = clock.now().replace(microsecond=0)
    with app.extensions["rapport"].db.transaction() as s:
        for n in range(5):  # three at one moment
            s.add(
                Withdrawal(
                    source_id=f"w-{n}",
                    call_id=f"call-{n}",
                    partner_id=a if n % 2 == 0 else b,
                    withdrawn_at=at + timedelta(seconds=max(n - 2, 0)),
                )
            )
    every = rows(app, Withdrawal)
    oldest_first = [w.id for w in sorted(every, key=lambda w: (w.withdrawn_at, w.id))]
    pages = every_page(client, "/api/v1/withdrawals", auth())
    assert [w["id"] for page in pages for w in page] == oldest_first and len(pages) == 3
    theirs = every_page(client, "/api/v1/partner/withdrawals", partner(a), acknowledged="false")
    assert [w["id"] for page in theirs for w in page] == [
        w for w in oldest_first if next(x for x in every if x.id == w).partner_id == a
    ]
    bad = client.get("/api/v1/withdrawals", headers=auth(), query_string={"cursor": "nope"})
    assert bad.status_code == 422 and bad.content_type == "application/problem+json"
