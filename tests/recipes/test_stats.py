"""The recipes' statistics: intervals of means, paired differences, verdicts."""

from __future__ import annotations

import math

from synthaug.recipes.stats import Interval, mean_interval, paired_difference, verdict


def test_statistics_and_verdicts() -> None:
    iv = mean_interval([1.0, 2.0, 3.0])
    assert iv.mean == 2.0 and math.isclose(iv.high - iv.mean, 4.302653 * 1 / math.sqrt(3),
                                           rel_tol=1e-5)
    d = paired_difference([0.90, 0.92, 0.91], [0.80, 0.83, 0.81])
    assert verdict(d) == "gain"
    assert verdict(paired_difference([0.80, 0.83, 0.81], [0.90, 0.92, 0.91])) == "harm"
    assert verdict(paired_difference([0.8, 0.9], [0.85, 0.85])) == "no detectable gain"
    assert verdict(Interval(0.1, math.nan, math.nan, 1, 0.95)) == "no detectable gain"
    assert mean_interval([0.5, float("nan"), 0.7]).n == 2
