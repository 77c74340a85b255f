"""Known-answer tests of ``bias.group_representation`` and ``bias.outcome_parity``."""

from __future__ import annotations

import json

import numpy as np
import pytest

from synthaug.validators.bias import GroupRepresentation, OutcomeParity
from tests.validators.bias.helpers import CTX, people


# -- group representation ----------------------------------------------------------------------
def test_identical_data_scores_zero() -> None:
    real = people(1000, 0)
    rep = GroupRepresentation().score(real, real.copy(), context=CTX)
    assert rep.value == 0.0
    assert rep.details["missing_groups"] == {} and rep.details["unseen_groups"] == {}
    assert rep.details["groupings"] == ["sex", "group", "sex & group"]
    shares = rep.details["representation"]["group"]
    assert shares["real"] == shares["synthetic"]
    assert sum(shares["real"].values()) == pytest.approx(1.0)
    assert list(shares["real"]) == ["a", "b", "c"]  # largest real group first
    assert "F & a" in rep.details["representation"]["sex & group"]["real"]
    low, high = rep.interval
    assert low == 0.0 <= high < 0.05
    parity = OutcomeParity().score(real, real.copy(), context=CTX)
    assert parity.value == 0.0
    assert parity.details["positive"] == "yes"  # the minority class
    verdicts = {k: p["verdict"] for k, p in parity.details["parity_gap"].items()}
    assert verdicts["sex"] == verdicts["group"] == "unchanged"
    assert set(verdicts.values()) <= {"unchanged", None}  # None: under two groups of 300 rows
    for score in (rep, parity):
        json.dumps(score.details, allow_nan=False)


def test_removed_group_fails_representation() -> None:
    real = people(1000, 1)
    synthetic = real[real["group"] != "b"].reset_index(drop=True)
    score = GroupRepresentation().score(real, synthetic, context=CTX)
    share_b = float((real["group"] == "b").mean())  # about 0.3, the largest of the gaps
    assert score.value == pytest.approx(share_b)
    assert score.value > 0.05  # the fairness suite's threshold
    assert score.details["worst"]["group"] == "b"
    assert score.details["missing_groups"] == {"group": ["b"], "sex & group": ["F & b", "M & b"]}
    assert "b" not in score.details["representation"]["group"]["synthetic"]
    assert score.details["max_gap"]["group"] == pytest.approx(share_b)


def test_missing_values_are_a_group_and_pairs_of_columns() -> None:
    real = people(600, 2)
    real.loc[real.index[:60], "group"] = np.nan  # 10% missing
    real["region"] = np.random.default_rng(2).choice(["n", "s"], len(real))
    synthetic = real.dropna().reset_index(drop=True)
    score = GroupRepresentation(sensitive=["sex", "group", "region"],
                                intersections="pairs").score(real, synthetic)
    assert score.details["missing_groups"]["group"] == ["(missing)"]
    assert score.details["representation"]["group"]["real"]["(missing)"] == pytest.approx(0.1)
    assert score.details["groupings"] == ["sex", "group", "region", "sex & group",
                                          "sex & region", "group & region",
                                          "sex & group & region"]
    assert score.value >= 0.1


# -- outcome parity ----------------------------------------------------------------------------
def test_flipped_outcome_of_one_group_fails_outcome_parity() -> None:
    real = people(2000, 3)
    synthetic = real.copy()
    in_b = synthetic["group"] == "b"
    synthetic.loc[in_b, "y"] = np.where(synthetic.loc[in_b, "y"] == "yes", "no", "yes")
    rate_b = float((real.loc[in_b, "y"] == "yes").mean())
    score = OutcomeParity(sensitive="group").score(real, synthetic, context=CTX)
    assert score.value == pytest.approx(abs(1.0 - 2.0 * rate_b))  # rate r became 1 - r
    assert score.value > 0.05
    assert score.details["worst"]["group"] == "b"
    assert score.details["gaps"]["group"]["a"] == 0.0
    rates = score.details["outcome_rates"]["group"]
    assert rates["synthetic"]["b"] == pytest.approx(1.0 - rates["real"]["b"])
    # group c (about 200 rows) is below the default 300 rows: reported, not scored
    assert score.details["excluded_groups"] == {"group": ["c"]}
    assert score.details["group_rows"]["group"]["real"]["c"] == int((real["group"] == "c").sum())
    low, high = score.interval
    assert low < score.value < high
    # b's rate (about 0.2) became about 0.8: the spread of rates between groups widened
    assert score.details["parity_gap"]["group"]["verdict"] == "widened"


def test_outcome_parity_positive_small_groups_and_missing_groups() -> None:
    real = people(2000, 4)
    synthetic = real.copy()
    in_c = synthetic["group"] == "c"
    synthetic.loc[in_c, "y"] = "yes"
    quiet = OutcomeParity(sensitive="group").score(real, synthetic, context=CTX)
    assert quiet.value == 0.0  # c is below min_group_rows, so its flip is reported only
    assert quiet.details["outcome_rates"]["group"]["synthetic"]["c"] == 1.0
    loud = OutcomeParity(sensitive="group", min_group_rows=50).score(real, synthetic,
                                                                       context=CTX)
    assert loud.value == pytest.approx(float((real.loc[in_c, "y"] == "no").mean()))
    # the other class as positive: rates are 1 - rates, gaps are the same
    other = OutcomeParity(sensitive="group", positive="no", min_group_rows=50).score(
        real, synthetic, context=CTX)
    assert other.details["positive"] == "no"
    assert other.value == pytest.approx(loud.value)
    # a group with enough real rows but none in the synthetic data is a full gap
    dropped = OutcomeParity(sensitive="group").score(
        real, real[real["group"] != "b"].reset_index(drop=True), context=CTX)
    assert dropped.value == 1.0
    assert dropped.details["missing_groups"] == {"group": ["b"]}
    assert dropped.interval == (1.0, 1.0)


def test_numerical_target_compares_standardised_means() -> None:
    real = people(2000, 5)
    std = float(real["w"].std(ddof=0))
    synthetic = real.copy()
    synthetic.loc[synthetic["group"] == "b", "w"] += 0.5 * std
    score = OutcomeParity(target="w", sensitive="group").score(real, synthetic)
    assert score.details["outcome"] == "mean"
    assert score.details["scale"] == pytest.approx(std)
    assert score.value == pytest.approx(0.5)
    assert score.details["worst"]["group"] == "b"


def test_outcome_parity_without_large_groups_is_nan_with_a_note() -> None:
    real = people(200, 6)
    score = OutcomeParity().score(real, real.copy(), context=CTX)
    assert np.isnan(score.value)
    assert "min_group_rows" in score.details["note"]
