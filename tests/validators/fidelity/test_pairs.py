"""Known-answer tests of ``fidelity.pair_trends``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthaug.data.tabular.prepare import prepare_tables
from synthaug.validators.fidelity import ColumnShapes, Detection, PairTrends
from tests.toydata import make_mixed_frame
from tests.validators.helpers import dependent_frame, shuffled


# -- known answers: identical data -------------------------------------------------------------
def test_identical_data_scores_perfect_pair_trends() -> None:
    real = make_mixed_frame(200, seed=1)
    trends = PairTrends().score(real, real.copy())
    assert trends.value == 1.0
    assert all(p["score"] in (1.0, None) for p in trends.details["pairs"])


def test_shuffled_columns_fail_detection_and_lower_pair_trends() -> None:
    real = dependent_frame(600, 1)
    fake = shuffled(real, 2)
    fresh = dependent_frame(600, 3)
    assert Detection(n_bootstrap=0).score(real, fake).value > 0.7
    broken = PairTrends().score(real, fake).value
    faithful = PairTrends().score(real, fresh).value
    assert faithful > 0.9
    assert broken < faithful - 0.15
    # the marginals survive the shuffle: column shapes cannot see it
    assert ColumnShapes().score(real, fake).value == 1.0


def test_pair_trends_matches_a_hand_computed_value() -> None:
    real = pd.DataFrame(
        {"c1": ["a", "a", "b", "b"], "c2": ["x", "y", "x", "y"], "n1": [1, 2, 3, 4],
         "n2": [1.0, 2.0, 3.0, 4.0]}
    )
    synthetic = pd.DataFrame(
        {"c1": ["a", "a", "b", "b"], "c2": ["x", "x", "y", "y"], "n1": [1, 2, 3, 4],
         "n2": [4.0, 3.0, 2.0, 1.0]}
    )
    # by hand: real bins of n1 and n2 (10 equal-width bins on [1, 4]) are 0, 3, 6, 9;
    # c1/c2: real cells a-x a-y b-x b-y 1/4 each, synthetic a-x b-y 1/2 each -> TVD 1/2;
    # c1/n1 identical -> 1; c1/n2 disjoint cells -> 0; c2/n1 and c2/n2 share half -> 1/2;
    # n1/n2: r = 1 vs r = -1 -> 1 - 2/2 = 0
    expected = {("c1", "c2"): 0.5, ("c1", "n1"): 1.0, ("c1", "n2"): 0.0, ("c2", "n1"): 0.5,
                ("c2", "n2"): 0.5, ("n1", "n2"): 0.0}
    every_pair = PairTrends(real_correlation_threshold=0, real_association_threshold=0)
    result = every_pair.score(real, synthetic)
    got = {(p["column_1"], p["column_2"]): p["score"] for p in result.details["pairs"]}
    assert got == pytest.approx(expected)
    assert result.value == pytest.approx(2.5 / 6)
    corr = next(p for p in result.details["pairs"] if p["metric"] == "correlation")
    assert (corr["real"], corr["synthetic"]) == pytest.approx((1.0, -1.0))
    # with SDMetrics' thresholds, c1/c2 (independent in the real data: Cramér's V 0) drops out;
    # every other real pair is perfectly related (V = 1, r = 1) and counts
    default = PairTrends().score(real, synthetic)
    counted = {(p["column_1"], p["column_2"]) for p in default.details["pairs"] if p["counts"]}
    assert counted == set(expected) - {("c1", "c2")}
    assert default.value == pytest.approx(2.0 / 5)


def test_pair_trends_handles_missing_unseen_levels_and_constant_columns() -> None:
    real = pd.DataFrame({"x": [1.0, 2.0, np.nan, 4.0, 5.0, 6.0], "k": [1.0] * 6,
                         "c": ["a", "b", "a", None, "b", "a"]})
    synthetic = real.copy()
    synthetic.loc[0, "c"] = "zzz"  # a level the real data never had
    result = PairTrends().score(real, synthetic)
    scores = {(p["column_1"], p["column_2"]): p["score"] for p in result.details["pairs"]}
    assert scores[("x", "k")] is None  # no correlation with a constant column
    assert scores[("x", "c")] == pytest.approx(1 - 1 / 6)  # one row moved to a new cell
    assert result.details["n_scored"] == 2
    assert result.value < 1.0
    assert prepare_tables(real, synthetic, validator="t").unseen_levels == {"c": 1}
