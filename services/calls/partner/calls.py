"""The partner API's use cases: a partner sees and updates only the calls assigned
to its own agents, with only the customer fields needed to make the call, and every
read of customer data is recorded (PDPO). Any call it may not name (``reach``) does
not exist for it."""

from __future__ import annotations

from sqlalchemy import select, tuple_

from services.calls.bounds import cursor_integer
from services.calls.calls import outcomes, reach
from services.calls.calls.findings import checklist
from services.calls.calls.tables import Call
from services.calls.customers.tables import Customer
from services.calls.partner.tables import PartnerRead
from shared.auth import Principal
from shared.clock import utcnow
from shared.errors import NotFound
from shared.web.pagination import decode_cursor, decode_time_cursor, page

# What a partner's agent needs to make a call of each channel; nothing more.
NEEDED = {
    "phone": ("name", "phone", "preferred_language"),
    "video": ("name", "phone", "preferred_language"),
    "visit": ("name", "preferred_language"),
    "email": ("name", "preferred_language"),
}


def list_calls(uow, caller: Principal, status: str | None, limit: int, cursor: str | None) -> dict:
    query = (
        select(Call)
        .where(Call.partner_id == caller.partner_id, Call.status == (status or "scheduled"))
        .order_by(Call.due_at, Call.id)
        .limit(limit + 1)
    )
    after = decode_time_cursor(cursor)
    if after:
        query = query.where(tuple_(Call.due_at, Call.id) > after)
    with uow() as work:
        calls = list(work.session.scalars(query))
        result = page(calls, limit, lambda c: (c.due_at.isoformat(), c.id))
        result["items"] = [_view(work, caller, call, "list") for call in result["items"]]
    return result


def get_call(uow, caller: Principal, call_id: str) -> dict:
    with uow() as work:
        call = _own(work.session, caller, call_id)
        return _view(work, caller, call, "read")


def record_outcome(uow, caller: Principal, call_id: str, data: dict) -> tuple[dict, bool]:
    call, created = outcomes.record_outcome(uow, call_id, data, caller)
    with uow() as work:
        return _view(work, caller, work.session.get(Call, call.id), "outcome"), created


def _own(session, caller: Principal, call_id: str) -> Call:
    call = reach.find(session, caller, call_id)
    if call is None:
        raise NotFound(f"no call {call_id}")
    return call


def _view(work, caller: Principal, call: Call, endpoint: str) -> dict:
    customer = work.session.get(Customer, call.customer_id)
    shown = NEEDED[call.channel]
    work.add_row(
        PartnerRead,
        {
            "partner_id": caller.partner_id,
            "subject": caller.subject,
            "call_id": call.id,
            "customer_id": call.customer_id,
            "fields": ",".join(shown),
            "endpoint": endpoint,
            "read_at": utcnow(),
        },
    )
    person = {name: getattr(customer, name, None) if customer else None for name in shown}
    return {
        "call": call,
        "customer": person,
        "checklist": checklist(work.session, call),
        "items_to_confirm": list(customer.gaps or []) if customer else [],
    }


def audit_replay(uow, caller: Principal, answer: dict) -> None:
    """A stored outcome answer given again shows the customer again: audit it as the
    live answer was audited (the fields it shows, the call), marked as a replay."""
    call_id = answer["call"]["id"]
    with uow() as work:
        call = work.session.get(Call, call_id)
        work.add_row(
            PartnerRead,
            {
                "partner_id": caller.partner_id,
                "subject": caller.subject,
                "call_id": call_id,
                "customer_id": call.customer_id,
                "fields": ",".join(answer["customer"]),
                "endpoint": "outcome-replay",
                "read_at": utcnow(),
            },
        )


def list_reads(uow, partner_id: str | None, limit: int, cursor: str | None) -> dict:
    query = select(PartnerRead).order_by(PartnerRead.id).limit(limit + 1)
    if partner_id:
        query = query.where(PartnerRead.partner_id == partner_id)
    if cursor:
        [after] = decode_cursor(cursor, 1)
        query = query.where(PartnerRead.id > cursor_integer(after))
    with uow.reader() as session:
        rows = list(session.scalars(query))
    return page(rows, limit, lambda r: (r.id,))


def refuse_method(uow, caller: Principal, call_id: str) -> None:
    """A method the partner API does not offer: 405 on your own call, and on anyone
    else's the same 404 as every other request about it."""
    from werkzeug.exceptions import MethodNotAllowed

    with uow.reader() as session:
        _own(session, caller, call_id)
    raise MethodNotAllowed()
