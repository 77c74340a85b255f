"""Parameter checks shared by synthaug's components: one home, one argument order.

Every check takes ``(value, name, ...)`` (as scikit-learn's ``check_scalar`` does), raises
:class:`~synthaug.exceptions.InvalidParameterError` with a message that names the parameter,
says what it must be and shows what it got, and returns nothing.  Components call them from
their ``_check_params`` hook, once, at ``fit`` (never in ``__init__``).

Examples
--------
>>> from synthaug.utils.validation import check_int
>>> check_int(3, "epochs", 1)
>>> check_int(0, "epochs", 1)
Traceback (most recent call last):
...
synthaug.exceptions.InvalidParameterError: epochs must be an integer >= 1, got 0.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Collection
from typing import Any

from synthaug.exceptions import InvalidParameterError

__all__ = [
    "check_bool",
    "check_callable",
    "check_choice",
    "check_fraction",
    "check_int",
    "check_number",
    "check_positive_int",
]


def _is_int(value: Any) -> bool:
    # numpy integers count (a value read from an array); bools do not, though they are ints
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_int(
    value: Any,
    name: str,
    minimum: int | None = None,
    maximum: int | None = None,
    *,
    allow_none: bool = False,
) -> None:
    """Raise unless ``value`` is an integer within ``[minimum, maximum]`` (bounds optional).

    Examples
    --------
    >>> check_int(None, "max_categories", 2, allow_none=True)
    >>> check_int(True, "n_modes", 1)
    Traceback (most recent call last):
    ...
    synthaug.exceptions.InvalidParameterError: n_modes must be an integer >= 1, got True.
    """
    if value is None and allow_none:
        return
    ok = _is_int(value) and (minimum is None or value >= minimum) and (
        maximum is None or value <= maximum
    )
    if not ok:
        raise InvalidParameterError(
            f"{name} must be an integer{_range(minimum, maximum, False, False)}"
            f"{' or None' if allow_none else ''}, got {value!r}."
        )


def check_positive_int(
    value: Any, name: str, *, minimum: int = 1, allow_none: bool = False
) -> None:
    """Raise unless ``value`` is an integer >= ``minimum`` (1 unless told)."""
    check_int(value, name, minimum, allow_none=allow_none)


def check_number(
    value: Any,
    name: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    open_low: bool = False,
    open_high: bool = False,
    allow_none: bool = False,
) -> None:
    """Raise unless ``value`` is a finite real number within the given bounds.

    ``open_low`` / ``open_high`` exclude the bound itself (``minimum=0, open_low=True``: a
    positive number).

    Examples
    --------
    >>> check_number(1e-3, "learning_rate", minimum=0, open_low=True)
    >>> check_number(0.0, "learning_rate", minimum=0, open_low=True)
    Traceback (most recent call last):
    ...
    synthaug.exceptions.InvalidParameterError: learning_rate must be a number > 0, got 0.0.
    """
    if value is None and allow_none:
        return
    ok = _is_real(value) and math.isfinite(value)
    if ok and minimum is not None:
        ok = value > minimum if open_low else value >= minimum
    if ok and maximum is not None:
        ok = value < maximum if open_high else value <= maximum
    if not ok:
        raise InvalidParameterError(
            f"{name} must be a number{_range(minimum, maximum, open_low, open_high)}"
            f"{' or None' if allow_none else ''}, got {value!r}."
        )


def check_fraction(value: Any, name: str, *, open_low: bool = False,
                   open_high: bool = False) -> None:
    """Raise unless ``value`` is a number within [0, 1] (either end open on request)."""
    ok = _is_real(value) and math.isfinite(value)
    if ok:
        ok = (value > 0 if open_low else value >= 0) and (value < 1 if open_high else value <= 1)
    if not ok:
        lo, hi = "(" if open_low else "[", ")" if open_high else "]"
        raise InvalidParameterError(f"{name} must be a number within {lo}0, 1{hi}, got {value!r}.")


def check_bool(value: Any, name: str, *, allow_none: bool = False) -> None:
    """Raise unless ``value`` is ``True`` or ``False`` (or ``None`` when allowed)."""
    if value is None and allow_none:
        return
    if not isinstance(value, bool):
        allowed = "None, True or False" if allow_none else "True or False"
        raise InvalidParameterError(f"{name} must be {allowed}, got {value!r}.")


def check_choice(value: Any, name: str, choices: Collection[Any]) -> None:
    """Raise unless ``value`` is one of ``choices``.

    Examples
    --------
    >>> check_choice("gmm", "numerical", ("gmm", "quantile"))
    >>> check_choice("z", "mode", ("a", "b"))
    Traceback (most recent call last):
    ...
    synthaug.exceptions.InvalidParameterError: mode must be one of 'a', 'b', got 'z'.
    """
    try:
        ok = value in choices
    except TypeError:  # an unhashable value tested against a set
        ok = False
    if not ok:
        raise InvalidParameterError(
            f"{name} must be one of {', '.join(repr(c) for c in choices)}, got {value!r}."
        )


def check_callable(value: Any, name: str, *, signature: str = "", allow_none: bool = True
                   ) -> None:
    """Raise unless ``value`` is callable (or ``None`` when allowed); ``signature`` says how it
    is called, for the message (``"(generator, epoch, losses) -> bool"``)."""
    if value is None and allow_none:
        return
    if not callable(value):
        what = f"a callable {signature}".rstrip()
        raise InvalidParameterError(
            f"{name} must be {'None or ' if allow_none else ''}{what}, got {value!r}."
        )


def _range(minimum: float | None, maximum: float | None, open_low: bool, open_high: bool
           ) -> str:
    if minimum is not None and maximum is not None:
        lo, hi = "(" if open_low else "[", ")" if open_high else "]"
        return f" within {lo}{minimum}, {maximum}{hi}"
    if minimum is not None:
        return f" {'>' if open_low else '>='} {minimum}"
    if maximum is not None:
        return f" {'<' if open_high else '<='} {maximum}"
    return ""
