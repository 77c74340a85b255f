"""Known-answer tests of the bias validators, and their input checks."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from synthaug.exceptions import InvalidDataError, InvalidParameterError
from synthaug.validators import get_validator, list_validators
from synthaug.validators.bias import DownstreamFairness, GroupRepresentation, OutcomeParity
from synthaug.validators.bias.downstream import fairness_differences
from synthaug.validators.suite import Suite

BIAS = {"bias.group_representation": GroupRepresentation,
        "bias.outcome_parity": OutcomeParity,
        "bias.downstream_fairness": DownstreamFairness}
CTX = {"target": "y", "sensitive": ("sex", "group")}


def people(n: int, seed: int, *, biased: bool = False) -> pd.DataFrame:
    """sex (50/50), group (a 60% / b 30% / c 10%), two features, and a yes/no label.

    The label depends on ``x`` only, unless ``biased``: then group "a" gets +2 (a model trained
    on these rows learns to favour "a").
    """
    rng = np.random.default_rng(seed)
    group = rng.choice(["a", "b", "c"], n, p=[0.6, 0.3, 0.1])
    x = rng.normal(size=n)
    score = x + rng.normal(scale=0.5, size=n) + (2.0 * (group == "a") if biased else 0.0)
    return pd.DataFrame({
        "sex": rng.choice(["F", "M"], n),
        "group": group,
        "x": x,
        "w": rng.gamma(2.0, size=n),
        "y": np.where(score > 1.0, "yes", "no"),
    })


def fair() -> DownstreamFairness:
    return DownstreamFairness(n_bootstrap=100, n_threads=1)


# -- registry ----------------------------------------------------------------------------------
def test_registered_with_direction_and_category() -> None:
    for name, cls in BIAS.items():
        assert name in list_validators()
        validator = get_validator(name)
        assert isinstance(validator, cls)
        assert (validator.category, validator.direction) == ("bias", "lower")


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


# -- bad inputs --------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(BIAS))
def test_bad_columns_name_the_column(name: str) -> None:
    pytest.importorskip("fairlearn")
    real = people(300, 40)
    validator = get_validator(name)
    kw = {"holdout": real}
    with pytest.raises(InvalidDataError, match=r"sensitive column 'sx' is not a column of the "
                                               r"real data. Did you mean 'sex'\?"):
        validator.score(real, real, context={"target": "y", "sensitive": ("sx",)}, **kw)
    with pytest.raises(InvalidDataError, match=r"needs at least one sensitive column"):
        validator.score(real, real, context={"target": "y", "sensitive": ()}, **kw)
    with pytest.raises(InvalidDataError, match=r"'x' has \d+ distinct values .* max_groups=50"):
        validator.score(real, real, context={"target": "y", "sensitive": ("x",)}, **kw)
    ids = real.assign(person=[f"p{i}" for i in range(len(real))])
    with pytest.raises(InvalidDataError, match=r"'person' looks like a row identifier"):
        validator.score(ids, ids, holdout=ids, context={"target": "y", "sensitive": ("person",)})
    if name != "bias.group_representation":
        with pytest.raises(InvalidDataError, match=r"target column 'yy' is not a column.*'y'"):
            validator.score(real, real, context={"target": "yy", "sensitive": ("sex",)}, **kw)
        with pytest.raises(InvalidDataError, match=r"needs a target"):
            validator.score(real, real, context={"sensitive": ("sex",)}, **kw)
        with pytest.raises(InvalidDataError, match=r"both as the target and as a sensitive"):
            validator.score(real, real, context={"target": "sex", "sensitive": ("sex",)}, **kw)


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


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("bias.group_representation", {"max_groups": 0}, r"max_groups must be an integer >= 1"),
        ("bias.group_representation", {"intersections": "all"}, r"'full', 'pairs' or 'none'"),
        ("bias.group_representation", {"sensitive": 3}, r"sensitive must be a column name"),
        ("bias.outcome_parity", {"min_group_rows": 0.5}, r"min_group_rows must be an integer"),
        ("bias.downstream_fairness", {"train_on": "real"}, r"'synthetic' or 'augmented'"),
        ("bias.downstream_fairness", {"n_bootstrap": -1}, r"n_bootstrap must be an integer"),
    ],
)
def test_bad_parameters(name: str, params: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidParameterError, match=message):
        get_validator(name, **params)


# -- suites ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def adult() -> pd.DataFrame:
    datasets = pytest.importorskip("synthaug.data.datasets")
    return datasets.load_adult().iloc[:3000].reset_index(drop=True)


def test_fairness_suite_on_adult(adult: pd.DataFrame) -> None:
    suite = Suite.from_file("fairness")
    good = suite.run(adult, adult.copy(), target="income", sensitive=["sex", "race"])
    for name in ("bias.group_representation", "bias.outcome_parity"):
        assert good[name].status == "pass", str(good)
        assert good[name].value == 0.0
    assert good.gate
    plotted = {table["validator"] for table in good.figures["group_rates"]}
    assert plotted == {"bias.group_representation", "bias.outcome_parity"}
    json.loads(good.to_json())

    no_women = adult[adult["sex"] != "Female"].reset_index(drop=True)
    bad = suite.run(adult, no_women, target="income", sensitive=["sex", "race"], figures=False)
    assert {"bias.group_representation", "bias.outcome_parity"} <= set(bad.failed)
    assert bad["bias.group_representation"].details["missing_groups"]["sex"] == ["Female"]
    assert bad["bias.outcome_parity"].value == 1.0
    assert not bad.gate
