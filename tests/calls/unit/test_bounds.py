"""Numbers from a request that an ``Integer`` column could never hold are answered
before they reach SQL (services.calls.bounds)."""

import pytest

from services.calls import bounds
from shared.errors import Invalid


@pytest.mark.parametrize("value", [0, 1, -1, 2**31 - 1, -(2**31)])
def test_a_32_bit_int_fits(value):
    assert bounds.fits(value)
    assert bounds.cursor_integer(value) == value


@pytest.mark.parametrize("value", [2**31, -(2**31) - 1, 2**64, True, False, 1.0, "1", None])
def test_anything_else_does_not_and_a_cursor_holding_it_is_not_one_this_api_issued(value):
    assert not bounds.fits(value)
    with pytest.raises(Invalid) as refused:
        bounds.cursor_integer(value)
    assert refused.value.errors == {"cursor": ["not a valid cursor"]}
