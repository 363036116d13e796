"""Money finer than the stored ten-thousandths is rounded once per entry, when it is
added: the read models are the same whether the entries came one per window or
together (as a rebuild folds them)."""

from decimal import Decimal

import pytest
from sqlalchemy import select

from services.reporting.pnl.tables import PnlCube, PnlDaily, PnlYtd, PnlYtdPending
from services.reporting.store import year_to_date
from tests.reporting.events import sale

pytestmark = pytest.mark.integration


def _revenues(dispatcher) -> list:
    """The revenue of the day, the month pending, the cube, and the year to date once
    the pending month is spread."""
    with dispatcher.uow.db.transaction() as session:
        out = [
            session.scalar(select(model.revenue)) for model in (PnlDaily, PnlYtdPending, PnlCube)
        ]
        year_to_date.fold(session)
        return out + [session.scalar(select(PnlYtd.revenue))]


def test_an_entry_is_rounded_alone_whatever_window_it_comes_in(
    database_url, make_dispatcher, tmp_path
):
    events = [sale("c1", "0.00005", "0", sale_id=f"s{i}") for i in range(2)]
    apart = make_dispatcher(database_url)
    for event in events:
        apart.dispatch(event)
    together = make_dispatcher(f"sqlite:///{tmp_path / 'together.db'}")
    together.dispatch_batch(events)
    assert _revenues(apart) == _revenues(together) == [Decimal("0.0002")] * 4
