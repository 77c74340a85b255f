"""Known-answer tests of ``bias.downstream_fairness``: fairness gaps of a model trained on
synthetic data, against fairlearn's definitions."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from synthaug.exceptions import InvalidDataError
from synthaug.validators.bias import DownstreamFairness
from synthaug.validators.bias.downstream import fairness_differences
from tests.validators.bias.helpers import CTX, fair, people


# -- downstream fairness -----------------------------------------------------------------------
def test_fairness_differences_equal_fairlearn_on_resamples() -> None:
    metrics = pytest.importorskip("fairlearn.metrics")
    rng = np.random.default_rng(7)
    n = 300
    groups = rng.integers(0, 4, n)
    y_true, y_pred = rng.integers(0, 2, n), rng.integers(0, 2, n)
    y_true[groups == 3] = 0  # a group without positives: fairlearn gives it a TPR of 0
    weights = np.stack([np.bincount(rng.integers(0, n, n), minlength=n) for _ in range(4)])
    dp, eo = fairness_differences(weights, groups, y_true, y_pred)
    for b in range(len(weights)):
        rows = np.repeat(np.arange(n), weights[b])
        assert dp[b] == pytest.approx(metrics.demographic_parity_difference(
            y_true[rows], y_pred[rows], sensitive_features=groups[rows]), abs=1e-12)
        assert eo[b] == pytest.approx(metrics.equalized_odds_difference(
            y_true[rows], y_pred[rows], sensitive_features=groups[rows]), abs=1e-12)


def lookup_table(n: int, seed: int, *, by_sex: bool) -> pd.DataFrame:
    """A label that is an exact function of categories, so a boosted model predicts it exactly:
    of ``kind`` only (fair), or of ``sex`` only (``by_sex``)."""
    rng = np.random.default_rng(seed)
    sex = rng.choice(["F", "M"], n)
    kind = rng.choice(["k0", "k1", "k2", "k3"], n)
    label = (sex == "M") if by_sex else np.isin(kind, ["k0", "k1"])
    return pd.DataFrame({"sex": sex, "kind": kind, "y": np.where(label, "pos", "neg")})


def test_downstream_numbers_equal_fairlearn_on_known_predictions() -> None:
    metrics = pytest.importorskip("fairlearn.metrics")
    real, holdout = lookup_table(800, 10, by_sex=False), lookup_table(800, 11, by_sex=False)
    synthetic = lookup_table(800, 12, by_sex=True)  # the label follows sex instead
    score = fair().score(real, synthetic, holdout=holdout,
                         context={"target": "y", "sensitive": ("sex",)}, )
    # the real-trained model predicts the holdout's labels exactly, the synthetic-trained one
    # predicts "pos" exactly for the men
    y_hold = (holdout["y"] == "pos").to_numpy().astype(int)
    from_synth = (holdout["sex"] == "M").to_numpy().astype(int)
    assert score.details["performance"]["real"]["accuracy"] == 1.0
    sex = holdout["sex"].to_numpy()
    entry = score.details["fairness"]["sex"]
    for metric in ("demographic_parity_difference", "equalized_odds_difference"):
        fn = getattr(metrics, metric)
        expect_real = fn(y_hold, y_hold, sensitive_features=sex)
        expect_synth = fn(y_hold, from_synth, sensitive_features=sex)
        assert entry[metric]["real"] == pytest.approx(expect_real, abs=1e-12)
        assert entry[metric]["synthetic"] == pytest.approx(expect_synth, abs=1e-12)
        assert entry[metric]["synthetic"] == 1.0  # all men selected, no woman
        assert entry[metric]["verdict"] == "widened"
    assert entry["equalized_odds_difference"]["real"] == 0.0  # perfect predictions
    rates = score.details["selection_rates"]["sex"]["synthetic"]
    assert rates == {"F": 0.0, "M": 1.0} or rates == {"M": 1.0, "F": 0.0}
    assert score.value == pytest.approx(max(e["change"] for e in entry.values()))


def test_downstream_widened_by_biased_labels_and_unchanged_on_identical_data() -> None:
    pytest.importorskip("fairlearn")
    real, holdout = people(1200, 20), people(1200, 21)
    context = {"target": "y", "sensitive": ("group",)}
    biased = fair().score(real, people(1200, 22, biased=True), holdout=holdout, context=context)
    dp = biased.details["fairness"]["group"]["demographic_parity_difference"]
    assert dp["verdict"] == "widened"
    assert dp["change"] > 0.3 and dp["interval"][0] > 0
    assert biased.value >= dp["change"]
    low, high = biased.interval
    assert low <= biased.value <= high

    same = fair().score(real, real.copy(), holdout=holdout, context=context)
    assert same.value == 0.0
    assert same.interval == (0.0, 0.0)
    assert same.details["verdicts"] == {"widened": 0, "narrowed": 0, "unchanged": 2}
    assert same.details["performance"]["real"] == same.details["performance"]["synthetic"]
    assert same.details["excluded_groups"] == {}  # c has about 120 holdout rows
    json.dumps(same.details, allow_nan=False)
    json.dumps(biased.details, allow_nan=False)


def test_downstream_augmented_and_one_vs_rest() -> None:
    pytest.importorskip("fairlearn")
    real, holdout = people(600, 30), people(600, 31)
    score = DownstreamFairness(train_on="augmented", n_bootstrap=0, n_threads=1).score(
        real, real.copy(), holdout=holdout, context=CTX)
    assert score.details["n_train"] == {"real": 600, "synthetic": 1200}
    assert score.interval is None
    assert score.details["groupings"] == ["sex", "group", "sex & group"]
    three = real.assign(y=np.where(real["x"] > 1, "hi", np.where(real["x"] > 0, "mid", "lo")))
    hold3 = holdout.assign(y=np.where(holdout["x"] > 1, "hi",
                                      np.where(holdout["x"] > 0, "mid", "lo")))
    with pytest.raises(InvalidDataError, match=r"has 3 classes.*positive=<class>"):
        DownstreamFairness().score(three, three, holdout=hold3, context=CTX)
    ovr = DownstreamFairness(positive="hi", n_bootstrap=0, n_threads=1, intersections="none")
    assert ovr.score(three, three, holdout=hold3, context=CTX).details["positive"] == "hi"


def test_downstream_needs_holdout_and_a_classification_target() -> None:
    pytest.importorskip("fairlearn")
    real = people(300, 41)
    with pytest.raises(InvalidDataError, match=r"needs a holdout"):
        DownstreamFairness().score(real, real, context=CTX)
    with pytest.raises(InvalidDataError, match=r"'w' is numerical .* Pass positive="):
        DownstreamFairness().score(real, real, holdout=real,
                                   context={"target": "w", "sensitive": ("sex",)})
    with pytest.raises(InvalidDataError, match=r"synthetic training data has only 'yes'"):
        DownstreamFairness().score(real, real.assign(y="yes"), holdout=real, context=CTX)
    with pytest.raises(InvalidDataError, match=r"positive='maybe' is not a value of the target "
                                               r"column 'y'.*\['no', 'yes'\]"):
        DownstreamFairness(positive="maybe").score(real, real, holdout=real, context=CTX)
