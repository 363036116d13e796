"""Quality rules that flag call records for review: overlapping calls by one agent,
more calls in an hour than one person can make, durations out of range, outcomes
logged outside the calling window, conversations that left required checklist items
unanswered. The rules a call hits travel on its ``call.completed`` (``quality_flags``),
so reporting counts them per agent and partner."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from datetime import timedelta
from functools import cache

from sqlalchemy import bindparam, func, literal, null, select, tuple_, union_all

from services.calls.calls.findings import SPOKEN
from services.calls.calls.tables import Call, QualityFlag
from services.calls.db import new_id
from services.calls.plans import windows
from services.calls.plans.tables import CallPlan
from shared.messaging.unit_of_work import UnitOfWork
from shared.web.pagination import decode_time_cursor, page

MIN_SPOKEN_SECONDS = 10
MAX_SECONDS = 3 * 3600
MAX_CALLS_PER_HOUR = 30
_RATE = ("rate", f"more than {MAX_CALLS_PER_HOUR} calls by one agent within an hour")


def _END(row: tuple):
    return row[1]


class _Sorted:
    """An agent's calls around an upload sorted by end time, their end times alone
    beside them (bisecting the plain times calls no key function at every step), and
    how much of the database's share is here: every call that ends after ``after``
    and before ``before`` (None: to the window's edge). ``reload`` gives the whole
    window's calls, for the call whose answer needs more than is here."""

    def __init__(self, calls: list[tuple], after=None, before=None, reload=None):
        self._fill(calls)
        self.after, self.before, self.reload = after, before, reload
        self.own: list[tuple] = []  # the upload's calls, inserted as they complete

    def _fill(self, calls: list[tuple]) -> None:
        self.calls = sorted(calls, key=_END)
        self.ends = [row[1] for row in self.calls]

    def insert(self, row: tuple) -> None:
        """After the calls that end at the same time, as ``insort`` places it."""
        self._place(row)
        self.own.append(row)

    def _place(self, row: tuple) -> None:
        at = bisect_right(self.ends, row[1])
        self.calls.insert(at, row)
        self.ends.insert(at, row[1])

    def load_all(self) -> None:
        """The whole window's calls from the database, and the upload's own again."""
        self._fill(self.reload())
        self.after = self.before = None
        for row in self.own:
            self._place(row)


# The calls a bulk upload reads of each agent, at most, from each end of its window
# (see ``recent_calls``).
NEAREST = 200


def recent_calls(session, agents: set[str], first, last, start=None) -> dict[str, _Sorted]:
    """Completed calls of these agents around [first, last], for ``review`` in bulk;
    ``start`` is the earliest any of the upload's calls started (``first`` if None).

    Not the whole window: an agent that records thousands of calls an hour (an
    integration recording as one client) would make every further upload read all
    of them again. Of each agent, at most ``NEAREST`` calls of each kind (assigned,
    recorded unassigned) ending last up to ``last`` (what the hourly count looks
    at), and as many ending first from ``start`` (where an overlap is looked for).
    ``review`` checks that what it found is settled by what was read, and reads the
    whole window only for a call where it is not."""
    low, high = first - timedelta(hours=1), last + timedelta(hours=3)
    start = max(low, start or first)
    found: dict[str, _Sorted] = {}
    for agent in agents:
        params = {"agent": agent, "low": low, "high": high, "last": last, "start": start}
        parts: tuple[list, ...] = ([], [], [], [])
        for part, *row in session.connection().execute(_nearest_statement(), params):
            parts[part].append(tuple(row))
        latest, earliest = parts[:2], parts[2:]
        found[agent] = _Sorted(
            list({row[0]: row for part in parts for row in part}.values()),
            # past every kind's oldest read, or the window's start if all were read
            after=max((min(map(_END, p)) for p in latest if len(p) == NEAREST), default=None),
            # before every kind's newest read, or the window's end if all were read
            before=min((max(map(_END, p)) for p in earliest if len(p) == NEAREST), default=None),
            reload=lambda agent=agent: _recent(session, agent, low, high),
        )
    return found


def _recent(session, agent: str, low, high) -> list[tuple]:
    """Two index range scans (by assigned agent, by who recorded an unassigned call),
    as Core statements: an agent's hour can be thousands of rows, and the ORM's
    per-row work cost more than the scans."""
    conn = session.connection()
    params = {"agent": agent, "low": low, "high": high}
    return [tuple(r) for q in _recent_statements() for r in conn.execute(q, params)]


def _whose() -> tuple:
    return (
        (Call.agent_id == bindparam("agent"),),
        (Call.completed_by == bindparam("agent"), Call.agent_id.is_(None)),
    )


_DONE = (Call.completed_at.is_not(None), Call.status == "completed")
# What the rules read of each call: its id, end and duration.
_CALL = (Call.id, Call.completed_at, Call.duration_seconds)


@cache
def _recent_statements() -> tuple:
    window = (*_DONE, Call.completed_at.between(bindparam("low"), bindparam("high")))
    return tuple(select(*_CALL).where(*who, *window) for who in _whose())


@cache
def _nearest_statement():
    """Rows ``(part, id, completed_at, seconds)``: of each kind (assigned, recorded
    unassigned), the ``NEAREST`` calls ending last in [low, last] (parts 0 and 1),
    and those ending first in [start, high] (parts 2 and 3). One statement, so one
    round trip an agent."""
    latest = (
        select(*_CALL)
        .where(*who, *_DONE, Call.completed_at.between(bindparam("low"), bindparam("last")))
        .order_by(Call.completed_at.desc())
        .limit(NEAREST)
        for who in _whose()
    )
    earliest = (
        select(*_CALL)
        .where(
            *who,
            *_DONE,
            Call.completed_at >= bindparam("start"),
            Call.completed_at <= bindparam("high"),
        )
        .order_by(Call.completed_at)
        .limit(NEAREST)
        for who in _whose()
    )
    return union_all(*(_labelled(part, q) for part, q in enumerate((*latest, *earliest))))


def _labelled(part: int, query):
    """``query``'s calls as rows ``(part, id, completed_at, seconds)`` of a union."""
    calls = query.subquery()
    return select(
        literal(part).label("part"),
        calls.c.id,
        calls.c.completed_at,
        calls.c.duration_seconds.label("seconds"),
    )


def review(work: UnitOfWork, call: Call, known: dict | None = None, held=None) -> list[str]:
    """Flag the just-completed ``call`` where it is implausible; answers the rules hit.
    ``known`` (from ``recent_calls``) spares a query per call in a bulk upload."""
    hits = []
    agent = call.agent_id or call.completed_by
    end = call.completed_at
    start = end - timedelta(seconds=call.duration_seconds or 0)
    if call.outcome in SPOKEN and (call.duration_seconds or 0) < MIN_SPOKEN_SECONDS:
        hits.append(("duration", f"{call.duration_seconds}s is too short for a conversation"))
    if (call.duration_seconds or 0) > MAX_SECONDS:
        hits.append(("duration", f"{call.duration_seconds}s is longer than {MAX_SECONDS}s"))
    # ``reached`` must answer every required item (refused otherwise); another spoken
    # outcome may stop short of the guideline, and a reviewer should know how often.
    compliance = call.checklist_compliance
    if call.outcome in SPOKEN and compliance is not None and compliance < 1:
        hits.append(
            ("checklist_incomplete", f"{compliance:.0%} of the required checklist items answered")
        )
    if known is not None and agent in known:
        hits += _held_hits(known, agent, call, start, end)
    else:
        hits += _asked_hits(work.session, agent, call, start, end)
    plan = (held or work.session).get(CallPlan, call.plan_id)
    if plan is not None and call.kind != "escalation" and not _in_window(plan, end):
        hits.append(("outside_window", "outcome logged outside the plan's calling windows"))
    for rule, detail in hits:
        # Append-only, read by no one in this unit of work: one insert for them all.
        work.add_row(
            QualityFlag,
            {
                "id": new_id(),
                "call_id": call.id,
                "agent_id": agent,
                "rule": rule,
                "detail": detail,
                "created_at": end,
            },
        )
    return [rule for rule, _ in hits]


def _held_hits(known: dict, agent: str, call: Call, start, end) -> list[tuple]:
    # The agent's calls sorted by end time: each rule looks at a slice, found by
    # bisection, so a large upload costs O(log n) per call, not O(n).
    held = known[agent]
    found = _held_facts(held, call, start, end)
    if found is None:  # not settled by the calls read: read the whole window
        held.load_all()
        found = _held_facts(held, call, start, end)
    first, in_hour = found
    held.insert((call.id, end, call.duration_seconds))
    hits = [("overlap", f"overlaps call {first[0]} by the same agent")] if first else []
    if in_hour + 1 > MAX_CALLS_PER_HOUR:
        hits.append(_RATE)
    return hits


def _held_facts(held: _Sorted, call: Call, start, end) -> tuple | None:
    """The first call it overlaps (or None) and how many ended in the hour before it,
    or None if the calls read do not settle either (``recent_calls``)."""
    calls, ends = held.calls, held.ends
    first = None
    # Indexes rather than a slice: the first candidate usually settles it.
    for at in range(
        bisect_right(ends, start), bisect_right(ends, end + timedelta(seconds=MAX_SECONDS))
    ):
        other_id, other_end, seconds = calls[at]
        other_start = other_end - timedelta(seconds=seconds or 0)
        if other_id != call.id and seconds and call.duration_seconds and other_start < end:
            first = calls[at]
            break
    reach = first[1] if first else end + timedelta(seconds=MAX_SECONDS)
    if held.before is not None and reach >= held.before:
        return None  # a call not read may end before it
    low = end - timedelta(hours=1)
    in_hour = bisect_right(ends, end) - bisect_left(ends, low)
    if held.after is not None and low <= held.after and in_hour < MAX_CALLS_PER_HOUR:
        return None  # calls not read may end in the hour, and the count would matter
    return first, in_hour


def _asked_hits(session, agent: str, call: Call, start, end) -> list[tuple]:
    """The same rules for one call, asked of the database: the first overlapping call
    and a count, not every call of the agent's hours (which grow all day). Calls that
    ended before ``end - 1h`` are not looked at, as in ``_recent``'s window."""
    hits, low = [], end - timedelta(hours=1)
    params = {
        "agent": agent,
        "call_id": call.id,
        "start": start,
        "low": low,
        "end": end,
        "high": end + timedelta(seconds=MAX_SECONDS),
        "offset": 0,
    }
    overlapping = bool(call.duration_seconds)
    # One Core statement on the unit of work's connection: these run on every
    # outcome, and each round trip and the ORM's bookkeeping cost more than the scans.
    conn = session.connection()
    pages: tuple[list, list] = ([], [])
    in_hour = 0
    for part, *row in conn.execute(_asked(overlapping), params):
        if part < 2:
            pages[part].append(row)
        else:
            in_hour += row[2]
    first = None
    for query, rows in zip(_statements()[0] if overlapping else (), pages, strict=False):
        found = _first_overlap(conn, query, params, end, rows)
        if found is not None and (first is None or found[1] < first[1]):
            first = found  # on a tie, an assigned call first, as in ``_held_hits``
    if first is not None:
        hits.append(("overlap", f"overlaps call {first[0]} by the same agent"))
    if in_hour + 1 > MAX_CALLS_PER_HOUR:
        hits.append(_RATE)
    return hits


def _first_overlap(conn, query, params: dict, end, rows: list) -> tuple | None:
    """The first call by end time that started before ``end``: in the first page
    (``rows``), then a page at a time."""
    offset = 0
    while True:
        found = next((r for r in rows if r[1] - timedelta(seconds=r[2]) < end), None)
        if found is not None or len(rows) < _PAGE:
            return found
        offset += _PAGE
        rows = conn.execute(query, {**params, "offset": offset}).all()


_PAGE = 10


@cache
def _statements() -> tuple[tuple, tuple]:
    """The agent's other completed calls (assigned to it, or recorded by it while
    unassigned): overlap candidates by end time, and the count within the hour.
    Built once: building a statement costs more than running it."""
    done = (*_DONE, Call.id != bindparam("call_id"))
    whose = _whose()
    overlap = tuple(
        select(*_CALL)
        .where(
            *who,
            *done,
            Call.completed_at > bindparam("start"),
            Call.completed_at >= bindparam("low"),
            Call.completed_at <= bindparam("high"),
            Call.duration_seconds != 0,
        )
        .order_by(Call.completed_at, Call.id)
        .limit(_PAGE)
        .offset(bindparam("offset"))
        for who in whose
    )
    # Counted only up to the limit: whether it is passed is all the rule asks, and an
    # agent (or an upload) past it must not make every further call cost a longer scan.
    # In the index's order, so that the database reads the index back from ``end`` and
    # stops at the limit (ordered by nothing, PostgreSQL may scan the table instead,
    # expecting the agent's calls early in it, where a busy agent's recent calls are
    # at its end).
    count = tuple(
        select(func.count()).select_from(
            select(Call.id)
            .where(*who, *done, Call.completed_at.between(bindparam("low"), bindparam("end")))
            .order_by(Call.completed_at.desc())
            .limit(MAX_CALLS_PER_HOUR)
            .subquery()
        )
        for who in whose
    )
    return overlap, count


@cache
def _asked(overlapping: bool):
    """``_statements()`` as one: rows ``(0|1, id, completed_at, seconds)`` of each
    overlap query's first page (when the call has a duration), then ``(2, None,
    None, count)`` for each count; in that order, each page in its own order."""
    overlap, count = _statements()
    parts = []
    if overlapping:
        parts += [_labelled(part, query) for part, query in enumerate(overlap)]
    for query in count:
        counted = query.subquery()
        parts.append(
            select(
                literal(2).label("part"),
                null().label("id"),
                null().label("completed_at"),
                counted.c[0].label("seconds"),
            )
        )
    return union_all(*parts).order_by("part", "completed_at", "id")


def _in_window(plan: CallPlan, when) -> bool:
    if not plan.windows:
        return True
    day = when.astimezone(windows.ZoneInfo(plan.timezone)).date()
    if not plan.allow_holidays and windows.is_holiday(day):
        return False
    return windows.inside(when, plan.timezone, plan.windows)


def list_flags(uow, filters: dict, limit: int, cursor: str | None) -> dict:
    query = select(QualityFlag).order_by(QualityFlag.created_at, QualityFlag.id).limit(limit + 1)
    for name in ("rule", "agent_id", "call_id"):
        if filters.get(name):
            query = query.where(getattr(QualityFlag, name) == filters[name])
    after = decode_time_cursor(cursor)
    if after:
        query = query.where(tuple_(QualityFlag.created_at, QualityFlag.id) > after)
    with uow.reader() as session:
        rows = list(session.scalars(query))
    return page(rows, limit, lambda f: (f.created_at.isoformat(), f.id))
