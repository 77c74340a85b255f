"""Honest statistics over seeds: means with t intervals, paired differences, plain verdicts.

Each arm is trained once per seed, and arm ``A`` and real-only share the seed (the same model
initialisation, the same split), so the gain is measured on *paired* runs: the difference
``metric(A, seed) - metric(real, seed)`` is computed per seed and its mean gets a Student-t
interval with ``n - 1`` degrees of freedom.  Pairing removes the seed-to-seed variation that
both arms share, which is usually most of it.

The intervals describe the training and generator randomness for the recipe's fixed split; they
do not cover the variation between different draws of the data (run the recipe with several
``split.seed`` values for that).

**Many arms, one question each.**  A recipe compares many arms with real-only; at 95% each, one
in twenty no-effect arms would look like a gain.  :func:`holm` adjusts the paired tests' p
values for the number of comparisons (Holm 1979: controls the family-wise error rate, never
less powerful than Bonferroni), and :func:`corrected_verdicts` states each arm's verdict from
the adjusted p value.  An interval cannot be Holm-adjusted; the one shown beside a corrected
verdict is the Bonferroni interval at ``1 - (1 - confidence) / m``, which contains 0 whenever
Holm does not reject.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from scipy import stats

__all__ = [
    "Interval",
    "Verdict",
    "corrected_verdicts",
    "holm",
    "mean_interval",
    "paired_difference",
    "paired_p_value",
    "verdict",
]

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


def paired_p_value(treated: Sequence[float], baseline: Sequence[float]) -> float:
    """Two-sided p value of the paired t test that ``treated - baseline`` has mean 0.

    NaN pairs are left out; NaN when fewer than two pairs remain.  Pairs that are all equal
    give 1.0 (no evidence of a difference), not scipy's NaN.

    Examples
    --------
    >>> from synthaug.recipes.stats import paired_p_value
    >>> round(paired_p_value([0.82, 0.84, 0.83, 0.85], [0.80, 0.81, 0.81, 0.82]), 4)
    0.0032
    >>> paired_p_value([0.8, 0.8], [0.8, 0.8])
    1.0
    """
    d = np.asarray(treated, dtype=np.float64) - np.asarray(baseline, dtype=np.float64)
    d = d[np.isfinite(d)]
    if len(d) < 2:
        return math.nan
    if np.allclose(d, d[0]):
        return 1.0 if d[0] == 0 else 0.0
    return float(stats.ttest_1samp(d, 0.0).pvalue)


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p values (NaN stays NaN and does not count as a test).

    Compare each adjusted value with the family-wise level (0.05): the arms below it are the
    ones whose difference survives the number of comparisons.

    Examples
    --------
    >>> from synthaug.recipes.stats import holm
    >>> [round(p, 3) for p in holm([0.01, 0.04, 0.03, 0.2])]
    [0.04, 0.09, 0.09, 0.2]
    """
    p = np.asarray(p_values, dtype=np.float64)
    valid = np.flatnonzero(np.isfinite(p))
    m = len(valid)
    adjusted = np.full(len(p), math.nan)
    running = 0.0
    for rank, i in enumerate(valid[np.argsort(p[valid], kind="stable")]):
        running = max(running, min(1.0, (m - rank) * float(p[i])))
        adjusted[i] = running
    return adjusted.tolist()


def corrected_verdicts(
    differences: Sequence[Interval], adjusted: Sequence[float], confidence: float = 0.95
) -> list[Verdict]:
    """Verdicts from Holm-adjusted p values: ``"gain"`` / ``"harm"`` when the adjusted p value
    is below ``1 - confidence`` (the sign from the mean difference), else ``"no detectable
    gain"``.

    Examples
    --------
    >>> from synthaug.recipes.stats import Interval, corrected_verdicts
    >>> d = [Interval(0.02, 0.01, 0.03, 5, 0.95), Interval(-0.02, -0.03, -0.01, 5, 0.95)]
    >>> corrected_verdicts(d, [0.01, 0.2])
    ['gain', 'no detectable gain']
    """
    alpha = 1.0 - confidence
    out: list[Verdict] = []
    for diff, p in zip(differences, adjusted, strict=True):
        if math.isnan(p) or p >= alpha or math.isnan(diff.mean) or diff.mean == 0:
            out.append("no detectable gain")
        else:
            out.append("gain" if diff.mean > 0 else "harm")
    return out
