"""The one definition of coverage compliance and plan adherence (shared.coverage)."""

from datetime import UTC, datetime, timedelta

from shared import coverage

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_only_a_call_on_which_the_customer_was_spoken_to_qualifies():
    assert coverage.qualifies("reached") and coverage.qualifies("complaint")
    assert not any(coverage.qualifies(o) for o in ("no_answer", "busy", "wrong_number", None))


def test_a_contacted_customer_is_due_the_policy_after_its_last_contact():
    last = NOW - timedelta(days=5)
    due = coverage.due_by(last, 7, NOW - timedelta(days=30))
    assert due == last + timedelta(days=7)
    assert coverage.compliant(due, NOW) and not coverage.compliant(due, due + timedelta(seconds=1))
    assert coverage.compliant(due, due)  # on the due time itself still in time


def test_a_customer_never_contacted_is_due_at_its_first_planned_call():
    first = NOW - timedelta(days=1)
    assert coverage.due_by(None, 7, first) == first
    assert not coverage.compliant(first, NOW)


def test_nothing_is_due_without_a_policy_or_without_anything_planned():
    assert coverage.due_by(NOW, None, NOW) is None
    assert coverage.due_by(None, 7, None) is None
    assert coverage.compliant(None, NOW)


def test_adherence_is_bounded_and_undefined_with_nothing_due():
    assert coverage.adherence(1, 4) == 0.25
    assert coverage.adherence(5, 2) == 1.0
    assert coverage.adherence(0, 0) is None
