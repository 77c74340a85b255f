"""Honest statistics over seeds: means with t intervals, paired differences, plain verdicts.

Each arm is trained once per seed, and arm ``A`` and real-only share the seed (the same model
initialisation, the same split), so the gain is measured on *paired* runs: the difference
``metric(A, seed) - metric(real, seed)`` is computed per seed and its mean gets a Student-t
interval with ``n - 1`` degrees of freedom.  Pairing removes the seed-to-seed variation that
both arms share, which is usually most of it.

The intervals describe the training and generator randomness for the recipe's fixed split; they
do not cover the variation between different draws of the data (run the recipe with several
``split.seed`` values for that).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from scipy import stats

__all__ = ["Interval", "Verdict", "mean_interval", "paired_difference", "verdict"]

Verdict = Literal["gain", "harm", "no detectable gain"]


@dataclass(frozen=True)
class Interval:
    """A mean with its two-sided confidence interval over ``n`` values.

    ``low`` and ``high`` are NaN when fewer than two finite values were available.

    Examples
    --------
    >>> from synthaug.recipes.stats import Interval
    >>> round(Interval(0.8, 0.78, 0.82, 5, 0.95).half_width, 6)
    0.02
    """

    mean: float
    low: float
    high: float
    n: int
    confidence: float

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict (NaN as ``None``)."""
        return {k: _nan_to_none(v) for k, v in self.__dict__.items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Interval:
        """Rebuild from :meth:`to_dict`."""
        def num(key: str) -> float:
            value = data.get(key)
            return math.nan if value is None else float(value)

        return cls(num("mean"), num("low"), num("high"), int(data["n"]),
                   float(data["confidence"]))

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2


def _nan_to_none(value: Any) -> Any:
    return None if isinstance(value, float) and math.isnan(value) else value


def mean_interval(values: Sequence[float] | np.ndarray, confidence: float = 0.95) -> Interval:
    """Mean of ``values`` and its Student-t confidence interval (NaN values are left out).

    Examples
    --------
    >>> from synthaug.recipes.stats import mean_interval
    >>> iv = mean_interval([0.80, 0.82, 0.81, 0.83, 0.79])
    >>> round(iv.mean, 3), round(iv.low, 3), round(iv.high, 3)
    (0.81, 0.79, 0.83)
    """
    arr = np.asarray(values, dtype=np.float64)
    arr = arr[np.isfinite(arr)]
    n = len(arr)
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, 0, confidence)
    mean = float(arr.mean())
    if n < 2:
        return Interval(mean, math.nan, math.nan, n, confidence)
    sem = float(arr.std(ddof=1)) / math.sqrt(n)
    half = float(stats.t.ppf(0.5 + confidence / 2, df=n - 1)) * sem
    return Interval(mean, mean - half, mean + half, n, confidence)


def paired_difference(
    treated: Sequence[float], baseline: Sequence[float], confidence: float = 0.95
) -> Interval:
    """Mean of ``treated[i] - baseline[i]`` with its paired t interval.

    Pairs where either value is NaN (an undefined metric) are left out.

    Examples
    --------
    >>> from synthaug.recipes.stats import paired_difference
    >>> d = paired_difference([0.82, 0.84, 0.83], [0.80, 0.81, 0.81])
    >>> round(d.mean, 3), d.low > 0
    (0.023, True)
    """
    a = np.asarray(treated, dtype=np.float64)
    b = np.asarray(baseline, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"paired values need equal lengths, got {a.shape} and {b.shape}.")
    return mean_interval(a - b, confidence)


def verdict(difference: Interval) -> Verdict:
    """``"gain"`` when the whole interval is above 0, ``"harm"`` when below, else
    ``"no detectable gain"`` (also when there is no interval).

    Examples
    --------
    >>> from synthaug.recipes.stats import Interval, verdict
    >>> verdict(Interval(0.02, 0.005, 0.035, 5, 0.95))
    'gain'
    >>> verdict(Interval(0.01, -0.01, 0.03, 5, 0.95))
    'no detectable gain'
    """
    if math.isnan(difference.low) or math.isnan(difference.high):
        return "no detectable gain"
    if difference.low > 0:
        return "gain"
    if difference.high < 0:
        return "harm"
    return "no detectable gain"
