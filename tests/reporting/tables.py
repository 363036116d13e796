"""Every read model's rows, to compare one database's with another's."""

from __future__ import annotations

from services.reporting import rebuild
from shared.db import Database


def snapshot(url: str) -> dict:
    """The read models as reports see them: what is pending spread (in a transaction
    rolled back, so the database keeps its pending rows)."""
    db = Database(url)
    try:
        with db.Session() as session:
            session.begin()
            try:
                return rebuild.folded_snapshot(session)
            finally:
                session.rollback()
    finally:
        db.dispose()
