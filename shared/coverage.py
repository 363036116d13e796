"""Coverage compliance and plan adherence, defined once: the calls service's
``/coverage``, reporting's ``/reports/coverage``, its activity report and the
dashboard all answer with these rules (docs/calls.md, "Coverage").

- A **qualifying contact** is a completed call, on any channel and for any plan, on
  which the customer was spoken to: every outcome but ``no_answer``, ``busy`` and
  ``wrong_number``.
- A plan's **policy** is the longest gap it allows between two qualifying contacts,
  ``max_gap_days``: the longest gap between its next occurrences, in whole days. A
  customer several plans target follows the tightest.
- A customer is **due** ``max_gap_days`` after its last qualifying contact; never
  contacted, at the due time of its first planned call. It is **compliant** while
  now is not past that time, and **overdue** from that time on.
- **Plan adherence** of a period = calls due in it that were completed by the end of
  their due day (early counts, on the due day, once) ÷ calls due in it; 0..1.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from shared.events.contracts import OUTCOMES

NOT_SPOKEN = frozenset({"no_answer", "busy", "wrong_number"})
QUALIFYING = tuple(outcome for outcome in OUTCOMES if outcome not in NOT_SPOKEN)


def qualifies(outcome: str | None) -> bool:
    """Whether a completed call with this outcome is a qualifying contact."""
    return outcome in QUALIFYING


def due_by(
    last_contact: datetime | None, max_gap_days: int | None, first_due: datetime | None
) -> datetime | None:
    """When the customer must next have been spoken to (None: no plan targets it,
    or nothing is planned for it yet)."""
    if max_gap_days is None:
        return None
    if last_contact is None:
        return first_due
    return last_contact + timedelta(days=max_gap_days)


def compliant(due: datetime | None, now: datetime) -> bool:
    return due is None or now <= due


def adherence(on_time: int, due: int) -> float | None:
    """Share of calls due that were done in time; None with nothing due. Bounded,
    so a count arriving before its plan (events out of order) never reads above 1."""
    if not due:
        return None
    return round(min(max(on_time / due, 0.0), 1.0), 4)
