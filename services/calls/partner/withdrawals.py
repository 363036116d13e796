"""Work withdrawn from partners and their acknowledgements (PDPO: the company shows
it told its outsourcers to stop). A partner sees and acknowledges only its own;
managers list them all, the unacknowledged first of all."""

from __future__ import annotations

from sqlalchemy import select, tuple_

from services.calls.partner.tables import Withdrawal
from shared.auth import Principal
from shared.clock import utcnow
from shared.errors import NotFound
from shared.web.pagination import decode_time_cursor, page


def listed(
    uow,
    caller: Principal | None,
    acknowledged: bool | None,
    limit: int,
    cursor: str | None = None,
) -> dict:
    """A page of withdrawals, oldest first (``caller``: a partner's own, None: all)."""
    query = select(Withdrawal).order_by(Withdrawal.withdrawn_at, Withdrawal.id).limit(limit + 1)
    if caller is not None:
        query = query.where(Withdrawal.partner_id == caller.partner_id)
    if acknowledged is not None:
        query = query.where(
            Withdrawal.acknowledged_at.is_not(None)
            if acknowledged
            else Withdrawal.acknowledged_at.is_(None)
        )
    after = decode_time_cursor(cursor)
    if after:
        query = query.where(tuple_(Withdrawal.withdrawn_at, Withdrawal.id) > after)
    with uow.reader() as session:
        rows = [view(row) for row in session.scalars(query)]
    return page(rows, limit, lambda r: (r["withdrawn_at"].isoformat(), r["id"]))


def acknowledge(uow, caller: Principal, withdrawal_id: str) -> dict:
    """Record the partner's acknowledgement, once: a repeat keeps the first time."""
    with uow() as work:
        row = work.session.get(Withdrawal, withdrawal_id, with_for_update=True)
        if row is None or row.partner_id != caller.partner_id:
            raise NotFound(f"no withdrawal {withdrawal_id}")
        if row.acknowledged_at is None:
            row.acknowledged_at, row.acknowledged_by = utcnow(), caller.subject
        return view(row)


def view(row: Withdrawal) -> dict:
    return {
        "id": row.id,
        "call_id": row.call_id,
        "partner_id": row.partner_id,
        "reason": "withdrawn",
        "withdrawn_at": row.withdrawn_at,
        "acknowledged_at": row.acknowledged_at,
        "acknowledged_by": row.acknowledged_by,
    }
