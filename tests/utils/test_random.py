"""``utils.random``: seeds give repeatable generators; bad seeds are refused."""

from __future__ import annotations

import pytest

from synthaug.exceptions import InvalidParameterError
from synthaug.utils.random import check_random_state


def test_random_state_checks() -> None:
    a = check_random_state(1).random(3)
    b = check_random_state(1).random(3)
    assert (a == b).all()
    with pytest.raises(InvalidParameterError):
        check_random_state(-1)
    with pytest.raises(InvalidParameterError):
        check_random_state("seed")  # type: ignore[arg-type]
