"""Every read model's rows, to compare one database's with another's."""
from __future__ import annotations

from services.reporting import rebuild
from shared.db import Database


def snapshot(url: str) -> dict:
    db = Database(url)
    try:
        with db.reader() as session:
            return rebuild.snapshot(session)
    finally:
        db.dispose()
