"""Which calls a caller may name. Staff may name any call (what they may do with it
is each use case's rule); a partner only its own agents' calls that are open or
done. For a partner every other call (cancelled, missed, moved to another agent or
partner, another partner's, or one that never existed) is looked up by the same
statement and comes back missing alike: neither the answer nor the work done to
give it tells the partner which it was, or why."""

from __future__ import annotations

from sqlalchemy import select

from services.calls.calls.tables import Call
from shared.auth import Principal

VISIBLE = ("scheduled", "completed")


def scope(caller: Principal) -> tuple:
    """The conditions, beside the id, a call must meet for ``caller`` to name it."""
    if caller.role != "partner":
        return ()
    return (Call.partner_id == caller.partner_id, Call.status.in_(VISIBLE))


def find(session, caller: Principal, call_id: str) -> Call | None:
    """The call ``caller`` names by ``call_id``, or None. (Recording an outcome finds
    it, locked, with what it looks up: ``outcome_lookups.find``.)"""
    conditions = scope(caller)
    if not conditions:
        return session.get(Call, call_id)
    return session.scalar(select(Call).where(Call.id == call_id, *conditions))
