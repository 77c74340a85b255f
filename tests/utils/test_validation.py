"""``utils.validation``: the parameter checks, value then name, and their messages."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from synthaug.exceptions import InvalidParameterError
from synthaug.utils.validation import (
    check_bool,
    check_callable,
    check_choice,
    check_fraction,
    check_int,
    check_number,
    check_positive_int,
)


# -- synthaug.utils.validation -------------------------------------------------------------------
def test_checks_take_value_then_name_and_accept_what_they_should() -> None:
    check_int(np.int64(3), "n", 1, 5)
    check_positive_int(2, "n", minimum=2)
    check_positive_int(None, "n", allow_none=True)
    check_number(0.5, "x", minimum=0, maximum=1)
    check_fraction(1.0, "x")
    check_bool(None, "flag", allow_none=True)
    check_choice("b", "mode", ("a", "b"))
    check_callable(print, "hook")


@pytest.mark.parametrize(
    ("call", "message"),
    [(lambda: check_int(True, "n", 1), "n must be an integer >= 1, got True."),
     (lambda: check_int(9, "n", 1, 5), "n must be an integer within [1, 5], got 9."),
     (lambda: check_int(None, "n"), "n must be an integer, got None."),
     (lambda: check_number(1.0, "x", maximum=1, open_high=True),
      "x must be a number < 1, got 1.0."),
     (lambda: check_number("1", "x"), "x must be a number, got '1'."),
     (lambda: check_fraction(1.5, "f", open_low=True),
      "f must be a number within (0, 1], got 1.5."),
     (lambda: check_choice([1], "mode", {"a"}), "mode must be one of 'a', got [1]."),
     (lambda: check_callable(3, "hook", allow_none=False), "hook must be a callable, got 3.")],
)
def test_check_messages_say_what_was_expected(call: Callable[[], None], message: str) -> None:
    with pytest.raises(InvalidParameterError) as caught:
        call()
    assert str(caught.value) == message
