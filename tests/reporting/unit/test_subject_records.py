"""Reporting logs every event but one person's records on their way to the customer
service: a data-subject export's contribution leaves no copy in its event log."""

from datetime import UTC, datetime

from sqlalchemy import select

from services.reporting.tables import EventLog
from shared.events import make_event


def test_an_export_contribution_is_not_logged_while_its_request_is(dispatcher):
    now = datetime.now(UTC)
    request = make_event(
        "subject.export_requested",
        {"export_id": "x1", "customer_id": "c1", "customer_ids": ["c1"], "requested_at": now},
        producer="customer",
    )
    answer = make_event(
        "subject.export_contributed",
        {
            "export_id": "x1",
            "customer_id": "c1",
            "service": "calls",
            "part": 1,
            "parts": 1,
            "sections": {"calls": [{"id": "k1", "notes": "personal"}]},
            "contributed_at": now,
        },
        producer="calls",
    )
    assert dispatcher.dispatch(request) and dispatcher.dispatch(answer)
    with dispatcher.uow.reader() as s:
        logged = list(s.scalars(select(EventLog.event_type)))
    assert logged == ["subject.export_requested"]
