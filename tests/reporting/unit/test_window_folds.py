"""A delivery window is folded as a whole: its increments summed per row, the
roll-ups (activity cube and day totals, outcome day totals, monthly findings and
scores) summed from the window's summed rows, its new customers' facts inserted
together. Every read model must end the same whether the events come in one window
or one at a time, and each roll-up must hold the sums of the rows it rolls up."""

import random
from datetime import timedelta

from sqlalchemy import func, select

from services.reporting.agents.tables import AgentCube, AgentOutcome
from services.reporting.calls.tables import (
    ActivityCube,
    ActivityDay,
    FindingsCube,
    FindingsMonth,
    OutcomeDay,
    ScoreCube,
    ScoreMonth,
)
from services.reporting.read_models import READ_MODELS
from tests.reporting.generate import commerce_stream, event, parity_stream, utc


def planned_calls(n: int = 60) -> list:
    """Calls scheduled, then some assigned (moving their planned count between agents),
    reassigned, cancelled, missed or completed."""
    rng, events = random.Random(4), []
    for i in range(n):
        call = {"call_id": f"pl-{i}", "customer_id": f"cq-{i % 17}"}
        due = utc(2025, 5, 1 + i % 20, 2)
        at = due - timedelta(days=3)
        events.append(
            event("call.scheduled", at, **call, plan_id="plan-1", channel="phone", due_at=due)
        )
        for agent in rng.sample(("a1", "a2", "p1"), rng.randrange(3)):
            at += timedelta(hours=1)
            events.append(
                event(
                    "call.assigned",
                    at,
                    **call,
                    agent_id=agent,
                    agent_kind="partner" if agent == "p1" else "staff",
                    partner_id="p1" if agent == "p1" else None,
                    team="t1",
                    assigned_at=at,
                )
            )
        end = rng.choice(("cancelled", "missed", "completed", None))
        if end == "cancelled":
            events.append(
                event("call.cancelled", due, **call, reason="customer asked", cancelled_at=due)
            )
        elif end == "missed":
            events.append(
                event("call.missed", due, **call, channel="phone", due_at=due, missed_at=due)
            )
        elif end == "completed":
            done = due - timedelta(hours=rng.randrange(48))
            events.append(
                event(
                    "call.completed",
                    done,
                    **call,
                    channel="phone",
                    outcome=rng.choice(("reached", "no_answer", "complaint")),
                    completed_at=done,
                    satisfaction=rng.choice((None, 2, 5)),
                    propensity=rng.choice((None, 15, 95)),
                    due_at=due,
                )
            )
    return events


def stream() -> list:
    return planned_calls() + parity_stream(calls=150, flagged=True)[0] + commerce_stream()


def state(dispatcher) -> dict:
    with dispatcher.uow.reader() as session:
        return {
            model.__tablename__: sorted(
                map(tuple, session.execute(select(model.__table__)).all()), key=repr
            )
            for model in READ_MODELS
        }


def test_one_window_and_one_event_a_window_end_alike(make_dispatcher, tmp_path):
    events = stream()
    whole = make_dispatcher(f"sqlite:///{tmp_path / 'whole.db'}")
    single = make_dispatcher(f"sqlite:///{tmp_path / 'single.db'}")
    assert not [r for r in whole.dispatch_batch(events) if isinstance(r, Exception)]
    for one in events:
        assert not [r for r in single.dispatch_batch([one]) if isinstance(r, Exception)]
    folded = state(whole)
    assert folded == state(single)
    assert len(folded["activity_day"]) > 10 and len(folded["customer_facts"]) > 50


DIMS = ("day", "segment", "channel", "team", "agent_kind", "partner_id")
ROLLUPS = [
    # (roll-up, its source, the key columns it keeps, whether its day is a month's first)
    (ActivityCube, AgentCube, DIMS, False),
    (ActivityDay, AgentCube, ("day",), False),
    (OutcomeDay, AgentOutcome, ("day", "outcome"), False),
    (FindingsMonth, FindingsCube, (*DIMS, "outcome"), True),
    (ScoreMonth, ScoreCube, (*DIMS, "measure", "bucket"), True),
]


def test_each_rollup_holds_the_sums_of_its_rows(dispatcher):
    events = stream()
    for start in range(0, len(events), 97):
        assert not [
            r
            for r in dispatcher.dispatch_batch(events[start : start + 97])
            if isinstance(r, Exception)
        ]
    with dispatcher.uow.reader() as session:
        for rollup, source, keys, monthly in ROLLUPS:
            table, rows = rollup.__table__, source.__table__
            assert set(keys) == {c.key for c in table.primary_key.columns}
            amounts = [c.key for c in table.columns if c.key not in keys]
            group = [
                func.date(rows.c.day, "start of month") if monthly and key == "day" else rows.c[key]
                for key in keys
            ]
            summed = session.execute(
                select(*group, *(func.sum(rows.c[name]) for name in amounts)).group_by(*group)
            ).all()
            stored = session.execute(
                select(*(table.c[key] for key in keys), *(table.c[n] for n in amounts))
            ).all()
            assert stored, rollup
            assert {tuple(map(str, row)) for row in stored} == {
                tuple(map(str, row)) for row in summed
            }, rollup


def test_a_completed_calls_agent_counts_are_one_write_with_its_activity(dispatcher):
    """A completed call's activity and its agent's scores go to the same agent_cube
    row: one upsert for the window, and the activity roll-ups take only the activity's
    counts."""
    from sqlalchemy import event as sa_event

    calls = [
        event(
            "call.completed",
            utc(2025, 6, 2 + i % 3, 4),
            call_id=f"w-{i}",
            customer_id=f"cw-{i % 5}",
            channel="phone",
            outcome=("reached", "sale_opportunity")[i % 2],
            completed_at=utc(2025, 6, 2 + i % 3, 4),
            satisfaction=1 + i % 5,
            propensity=10 * i,
            agent_id="a1",
            agent_kind="staff",
            team="t1",
        )
        for i in range(8)
    ]
    writes = []

    def count(_conn, _cursor, statement, _params, _context, _many):
        if statement.lstrip().startswith("INSERT INTO agent_cube"):
            writes.append(statement)

    engine = dispatcher.uow.db.engine
    sa_event.listen(engine, "before_cursor_execute", count)
    try:
        dispatcher.dispatch_batch(calls)
    finally:
        sa_event.remove(engine, "before_cursor_execute", count)
    assert len(writes) == 1
    with dispatcher.uow.reader() as session:
        agent = session.execute(
            select(func.sum(AgentCube.completed), func.sum(AgentCube.sat_sum))
        ).one()
        cube = session.scalar(select(func.sum(ActivityCube.completed)))
        day = session.scalar(select(func.sum(ActivityDay.completed)))
    assert tuple(agent) == (8, sum(1 + i % 5 for i in range(8)))
    assert cube == day == 8
