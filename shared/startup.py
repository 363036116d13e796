"""What every long-running process does once its start-up is done."""

from __future__ import annotations

import gc


def freeze_startup_objects() -> None:
    """Move what start-up made (modules, SQLAlchemy's mappers, marshmallow's schemas,
    the app itself) out of the cyclic garbage collector's reach, once per process.

    A request or a delivery window that allocates a lot (an upload of a thousand
    outcomes, a report over 5,000 customers, a window of a thousand events) triggers
    full collections, and each walked every long-lived object again: 65 µs an
    outcome of a partner upload, ≈ 20 µs an event of reporting's consumer, ~100 ms on
    every fifth report. Nothing frozen is ever freed, which is what start-up objects
    are for anyway."""
    if gc.get_freeze_count() == 0:
        gc.freeze()
