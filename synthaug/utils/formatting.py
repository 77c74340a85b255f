"""Numbers and intervals as report text: one set of rules for every report synthaug writes.

Suite reports (:mod:`synthaug.validators.report`) and gain reports
(:mod:`synthaug.recipes.report`) both print values with intervals; these two functions are
the one place that decides how, so the reports read alike and a change of style is made once.

Examples
--------
>>> format_number(0.93214), format_number(12345.0), format_number(None)
('0.932', '1.23e+04', 'n/a')
>>> format_interval((0.0, 0.115)), format_interval(None)
('[0.000, 0.115]', '')
>>> format_number(0.0123, decimals=4, signed=True, compact=False)
'+0.0123'
"""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["format_interval", "format_number"]


def format_number(
    value: float | None,
    *,
    decimals: int = 3,
    signed: bool = False,
    compact: bool = True,
    missing: str = "n/a",
) -> str:
    """``value`` with ``decimals`` digits after the point; ``missing`` for None or NaN.

    Parameters
    ----------
    value : float or None
    decimals : int, default 3
        Digits after the decimal point.
    signed : bool, default False
        Always print the sign (``+0.012``), for differences.
    compact : bool, default True
        Print values of magnitude 1000 or more, or below ``10 ** -decimals`` (but not 0), with
        ``decimals`` significant digits in scientific notation instead: fixed decimals would
        show them as long rows of digits or as 0.000.
    missing : str, default "n/a"
        The text of a missing value.

    Returns
    -------
    str

    Examples
    --------
    >>> format_number(0.00073), format_number(0.00073, compact=False)
    ('0.00073', '0.001')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return missing
    sign = "+" if signed else ""
    if compact and value != 0 and (abs(value) >= 1000 or abs(value) < 10.0 ** -decimals):
        return f"{value:{sign}.{decimals}g}"
    return f"{value:{sign}.{decimals}f}"


def format_interval(
    interval: Sequence[float | None] | None,
    *,
    decimals: int = 3,
    signed: bool = False,
    compact: bool = True,
    missing: str = "",
) -> str:
    """``[low, high]``, each end as :func:`format_number` prints it; ``missing`` for None.

    Parameters
    ----------
    interval : (low, high) or None
    decimals, signed, compact
        As for :func:`format_number`.
    missing : str, default ""
        The text when there is no interval.

    Returns
    -------
    str

    Examples
    --------
    >>> format_interval((-0.0123, 0.2), decimals=4, signed=True, compact=False)
    '[-0.0123, +0.2000]'
    """
    if not interval:
        return missing
    low, high = (format_number(v, decimals=decimals, signed=signed, compact=compact)
                 for v in interval)
    return f"[{low}, {high}]"
