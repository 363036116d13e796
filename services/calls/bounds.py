"""The range of the integer columns a number from a request is compared with.

Every such column is an ``Integer``: 32 bits on PostgreSQL, and SQLite's driver
refuses a Python int past 64 bits. A number outside the range cannot name a row,
so it is answered before it reaches SQL: a path's number as not found, a
cursor's as a cursor this API never issued (422)."""

from __future__ import annotations

from shared.errors import Invalid

INTEGER_MIN, INTEGER_MAX = -(2**31), 2**31 - 1


def fits(value) -> bool:
    """An int (not a bool) an ``Integer`` column can hold."""
    return (
        isinstance(value, int)
        and not isinstance(value, bool)
        and INTEGER_MIN <= value <= INTEGER_MAX
    )


def cursor_integer(value) -> int:
    """A number read from a cursor, or the 422 every other bad cursor gets."""
    if not fits(value):
        raise Invalid(
            "the cursor is not one this API issued", errors={"cursor": ["not a valid cursor"]}
        )
    return value
