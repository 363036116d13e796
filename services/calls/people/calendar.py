"""Agents' calendar feeds: an agent's open calls as RFC 5545 iCalendar, at a secret
URL any calendar app can subscribe to. Only the secret's SHA-256 is kept; a new one
(by the agent or a manager) replaces the old at once. A feed leaves Rapport for
whatever calendar service the agent uses, so it names the customer minimised
(given name and initials) and links to the call for the rest."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from icalendar import Calendar, Event
from sqlalchemy import select

from services.calls.calls.tables import Call
from services.calls.customers.tables import Customer
from services.calls.people.tables import Agent, CalendarToken
from shared.auth import Principal
from shared.clock import utcnow
from shared.errors import Forbidden, NotFound

LIMIT = 500
DEFAULT_LENGTH = timedelta(minutes=30)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def rotate(uow, caller: Principal, agent_id: str) -> str:
    """A new feed secret for the agent (the agent itself, or a manager)."""
    if caller.role == "agent" and caller.subject != agent_id:
        raise Forbidden("an agent rotates only its own calendar's secret")
    token = secrets.token_urlsafe(32)
    with uow() as work:
        if work.session.get(Agent, agent_id) is None:
            raise NotFound(f"no agent {agent_id}")
        row = work.session.get(CalendarToken, agent_id, with_for_update=True)
        if row is None:
            row = CalendarToken(agent_id=agent_id)
            work.session.add(row)
        row.token_hash, row.created_at = _hash(token), utcnow()
    return token


def feed(uow, agent_id: str, token: str, link: str) -> bytes:
    """The agent's open calls as an iCalendar document; 404 for a wrong secret."""
    with uow.reader() as session:
        row = session.get(CalendarToken, agent_id)
        if row is None or not hmac.compare_digest(row.token_hash, _hash(token)):
            raise NotFound("no such calendar")  # whether the agent exists stays unsaid
        calls = session.execute(
            select(Call, Customer.name)
            .outerjoin(Customer, Customer.customer_id == Call.customer_id)
            .where(Call.agent_id == agent_id, Call.status == "scheduled")
            .order_by(Call.due_at, Call.id)
            .limit(LIMIT)
        ).all()
    cal = Calendar()
    cal.add("prodid", "-//Rapport//Calls queue//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", "Rapport: my calls")
    now = utcnow()
    for call, name in calls:
        cal.add_component(_event(call, name, now, link))
    return cal.to_ical()


def _event(call: Call, name: str | None, now, link: str) -> Event:
    end = (
        call.window_end
        if call.window_end and call.window_end > call.due_at
        else call.due_at + DEFAULT_LENGTH
    )
    event = Event()
    event.add("uid", f"{call.id}@rapport")
    event.add("dtstamp", now)
    event.add("dtstart", call.due_at)
    event.add("dtend", end)
    event.add("summary", f"{call.channel.capitalize()} call: {minimised(name)}")
    event.add("description", f"{call.kind} call, priority {call.priority}. {link}{call.id}")
    event.add("url", f"{link}{call.id}")
    return event


def minimised(name: str | None) -> str:
    """ "Chan Tai Man" → "Chan T. M.": enough to recognise, not to identify."""
    words = (name or "").split()
    if not words:
        return "a customer"
    return " ".join([words[0], *(f"{w[0].upper()}." for w in words[1:])])
