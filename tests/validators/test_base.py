"""Known-answer tests of the fidelity and privacy validators, and their input checks."""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
import torch

from synthaug.data.tabular.prepare import prepare_tables
from synthaug.exceptions import DeviceError, InvalidDataError, InvalidParameterError
from synthaug.validators import get_validator, list_validators
from synthaug.validators._common import (
    MixedDistanceEncoder,
    exact_match,
    nearest_neighbours,
)
from synthaug.validators.fidelity import ColumnShapes, Detection, PairTrends
from synthaug.validators.privacy import DistanceToClosestRecord, ExactCopies

FrameMaker = Callable[..., pd.DataFrame]

MINE = ["fidelity.pair_trends", "fidelity.detection", "privacy.dcr", "privacy.exact_copies"]


def dependent_frame(n: int, seed: int) -> pd.DataFrame:
    """Columns that depend strongly on one another (continuous and categorical)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    return pd.DataFrame(
        {
            "x": x,
            "y": 2.0 * x + rng.normal(scale=0.2, size=n),
            "z": np.round(np.exp(x / 2) * 10, 2),
            "c": np.where(x < -0.5, "low", np.where(x < 0.5, "mid", "high")),
            "flag": x + rng.normal(scale=0.3, size=n) > 0,
        }
    )


def continuous_frame(n: int, seed: int) -> pd.DataFrame:
    """Independent draws of one distribution; continuous, so rows never repeat by chance."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    return pd.DataFrame(
        {
            "x": x,
            "y": x + rng.normal(size=n),
            "w": rng.gamma(2.0, size=n),
            "c": rng.choice(["a", "b", "c"], size=n),
        }
    )


def shuffled(frame: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Each column permuted on its own: marginals kept, every dependency destroyed."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({c: frame[c].to_numpy()[rng.permutation(len(frame))] for c in frame})


def dcr(**kw: object) -> DistanceToClosestRecord:
    return DistanceToClosestRecord(device="cpu", **kw)  # type: ignore[arg-type]


# -- registry ----------------------------------------------------------------------------------
def test_validators_are_registered() -> None:
    names = list_validators()
    for name in MINE:
        assert name in names
    assert isinstance(get_validator("privacy.dcr", device="cpu"), DistanceToClosestRecord)
    assert get_validator("fidelity.detection").direction == "lower"
    assert get_validator("fidelity.pair_trends").direction == "higher"


# -- known answers: identical data -------------------------------------------------------------
def test_identical_data_scores_perfect_fidelity(make_mixed_frame: FrameMaker) -> None:
    real = make_mixed_frame(200, seed=1)
    assert ColumnShapes().score(real, real.copy()).value == 1.0
    trends = PairTrends().score(real, real.copy())
    assert trends.value == 1.0
    assert all(p["score"] in (1.0, None) for p in trends.details["pairs"])
    detection = Detection(n_bootstrap=50).score(real, real.copy())
    assert abs(detection.value - 0.5) < 0.1
    assert len(detection.details["fold_auc"]) == 3
    low, high = detection.interval
    assert low <= detection.value <= high


def test_copies_of_training_rows_score_maximal_privacy_risk() -> None:
    train, holdout = continuous_frame(400, 1), continuous_frame(400, 2)
    result = dcr().score(train, train.copy(), holdout=holdout)
    assert result.value > 0.9
    assert result.details["exact_match_rate"] == 1.0
    assert result.details["median_dcr_train"] == 0.0
    assert result.details["median_nndr"] == 0.0
    assert result.details["median_dcr_holdout"] > 0
    assert ExactCopies().score(train, train.copy()).value == 1.0


def test_half_copies_give_half_exact_copies() -> None:
    train, fresh = continuous_frame(100, 1), continuous_frame(100, 3)
    synthetic = pd.concat([train.iloc[:50], fresh.iloc[:50]], ignore_index=True)
    result = ExactCopies().score(train, synthetic, holdout=continuous_frame(80, 4))
    assert result.value == 0.5
    assert result.details["n_copies"] == 50
    assert result.details["train_rows_copied"] == 50
    assert result.details["holdout_copy_rate"] == 0.0
    # an exact copy stays a copy through dtype changes that keep the values (int vs float)
    ints = pd.DataFrame({"a": [1, 2, 3], "c": ["x", "y", "x"]})
    floats = pd.DataFrame({"a": [1.0, 2.0, 4.0], "c": ["x", "y", "x"]})
    assert ExactCopies().score(ints, floats).value == pytest.approx(2 / 3)


# -- known answers: independent samples and shuffled columns -----------------------------------
def test_independent_samples_give_no_dcr_signal() -> None:
    train, holdout, synthetic = (continuous_frame(500, s) for s in (1, 2, 3))
    result = dcr().score(train, synthetic, holdout=holdout)
    assert abs(result.value - 0.5) < 0.1
    assert result.interval[0] < result.value < result.interval[1]
    assert result.details["exact_match_rate"] == 0.0
    assert 0.7 < result.details["median_ratio"] < 1.3
    assert 0.0 < result.details["median_nndr"] < 1.0
    assert ExactCopies().score(train, synthetic).value == 0.0


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


# -- bad inputs --------------------------------------------------------------------------------
@pytest.mark.parametrize("name", MINE)
def test_mismatched_columns_are_a_clear_error(name: str) -> None:
    real = continuous_frame(60, 1)
    validator = get_validator(name)
    with pytest.raises(InvalidDataError, match=r"missing \['w'\]"):
        validator.score(real, real.drop(columns="w"), holdout=continuous_frame(60, 2))
    with pytest.raises(InvalidDataError, match=r"unexpected \['extra'\]"):
        validator.score(real, real.assign(extra=1.0), holdout=continuous_frame(60, 2))


@pytest.mark.parametrize("name", MINE)
def test_dtype_drift_is_a_clear_error(name: str) -> None:
    real = continuous_frame(60, 1)
    drifted = real.assign(x=real["x"].astype(str))
    with pytest.raises(InvalidDataError, match=r"synthetic\['x'\].*drifted"):
        get_validator(name).score(real, drifted, holdout=continuous_frame(60, 2))
    if name.startswith("privacy."):  # the fidelity validators do not read a holdout
        holdout = continuous_frame(60, 2).assign(c=np.arange(60.0))
        with pytest.raises(InvalidDataError, match=r"holdout\['c'\].*drifted"):
            get_validator(name).score(real, real, holdout=holdout)


@pytest.mark.parametrize("name", MINE)
def test_empty_synthetic_data_is_a_clear_error(name: str) -> None:
    real = continuous_frame(60, 1)
    with pytest.raises(InvalidDataError, match="synthetic data is empty"):
        get_validator(name).score(real, real.iloc[:0], holdout=continuous_frame(60, 2))


def test_dcr_without_holdout_is_a_clear_error() -> None:
    real = continuous_frame(60, 1)
    with pytest.raises(InvalidDataError, match="needs a holdout"):
        dcr().score(real, real)


def test_holdout_overlapping_train_is_a_clear_error() -> None:
    train = continuous_frame(200, 1)
    holdout = pd.concat([continuous_frame(180, 2), train.iloc[:20]], ignore_index=True)
    with pytest.raises(InvalidDataError, match=r"holdout overlaps train: 10\.0%"):
        dcr().score(train, continuous_frame(200, 3), holdout=holdout)
    # a tolerated overlap goes through and is reported
    result = dcr(max_holdout_overlap=0.2).score(train, continuous_frame(200, 3), holdout=holdout)
    assert result.details["holdout_overlap"] == pytest.approx(0.1)


def test_bad_parameters_are_clear_errors() -> None:
    real = continuous_frame(60, 1)
    with pytest.raises(InvalidParameterError, match="n_folds"):
        Detection(n_folds=1).score(real, real)
    with pytest.raises(InvalidParameterError, match="binning"):
        PairTrends(binning="kmeans").score(real, real)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="real_association_threshold"):
        PairTrends(real_association_threshold=2).score(real, real)
    with pytest.raises(InvalidParameterError, match="max_reference_rows"):
        dcr(max_reference_rows=0).score(real, real, holdout=continuous_frame(60, 2))


# -- mixed types, order, serialisation ---------------------------------------------------------
def test_mixed_types_reordered_columns_and_json_details(make_mixed_frame: FrameMaker) -> None:
    train, holdout = make_mixed_frame(150, seed=1), make_mixed_frame(150, seed=2)
    synthetic = make_mixed_frame(150, seed=3)
    synthetic = synthetic[list(reversed(synthetic.columns))]  # order does not matter
    for validator in (PairTrends(), Detection(n_bootstrap=20), dcr(), ExactCopies()):
        result = validator.score(train, synthetic, holdout=holdout)
        assert np.isfinite(result.value), validator.name
        json.dumps(result.to_dict(), allow_nan=False)
    hist = dcr().score(train, synthetic, holdout=holdout).details["histogram"]
    assert sum(hist["train"]) == sum(hist["holdout"]) == 150


def test_dcr_subsamples_to_equal_reference_sizes() -> None:
    train, holdout = continuous_frame(300, 1), continuous_frame(120, 2)
    result = dcr(max_synthetic_rows=50).score(train, continuous_frame(200, 3), holdout=holdout)
    assert result.details["n_reference"] == 120
    assert result.details["n_synthetic"] == 50


def test_context_device_overrides_the_parameter() -> None:
    train, holdout, synthetic = (continuous_frame(100, s) for s in (1, 2, 3))
    result = DistanceToClosestRecord(device="cuda").score(
        train, synthetic, holdout=holdout, context={"device": "cpu"}
    )
    assert result.details["device"] == "cpu"
    if not torch.cuda.is_available():
        with pytest.raises(DeviceError, match="no usable CUDA GPU"):
            DistanceToClosestRecord(device="cuda").score(train, synthetic, holdout=holdout)


# -- the building blocks -----------------------------------------------------------------------
@pytest.mark.parametrize("k", [1, 2, 5, 16])
def test_nearest_neighbours_agree_with_brute_force(k: int) -> None:
    rng = np.random.default_rng(0)
    reference = rng.normal(size=(1500, 5)).astype(np.float32)
    reference[:10] = reference[10:20]  # duplicate rows
    query = rng.normal(size=(700, 5)).astype(np.float32)
    query[:20] = reference[:20]  # exact copies
    dist, idx = nearest_neighbours(query, reference, k=k, block_rows=512)
    full = np.sqrt(((query[:, None, :].astype(np.float64) - reference[None]) ** 2).sum(-1))
    np.testing.assert_allclose(dist, np.sort(full, axis=1)[:, :k], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.take_along_axis(full, idx, 1), dist, rtol=1e-5, atol=1e-6)
    assert (dist[:20, 0] == 0.0).all()


def test_nearest_neighbours_with_fewer_references_than_k() -> None:
    dist, idx = nearest_neighbours(np.zeros((3, 2), np.float32), np.ones((1, 2), np.float32), k=2)
    assert idx[:, 1].tolist() == [-1, -1, -1]
    assert np.isinf(dist[:, 1]).all()
    with pytest.raises(InvalidParameterError, match="k must be an int from 1 to 16"):
        nearest_neighbours(np.zeros((3, 2), np.float32), np.ones((1, 2), np.float32), k=17)


def test_distance_encoding_is_gower_like() -> None:
    real = pd.DataFrame({"x": np.arange(101.0), "c": ["a", "b"] * 50 + ["a"]})
    tables = prepare_tables(real, real, validator="t")
    encoder = MixedDistanceEncoder(tables.column_schemas).fit(tables.real)
    z = encoder.transform(np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0]]))
    assert np.linalg.norm(z[0] - z[1]) == pytest.approx(1.0)  # a different category: 1
    assert np.linalg.norm(z[0] - z[2]) == pytest.approx(1 / 98)  # 1 of a 98-wide robust range


def test_exact_match_treats_missing_as_equal() -> None:
    a = np.array([[1.0, np.nan], [2.0, -0.0], [3.0, 3.0]])
    b = np.array([[1.0, np.nan], [2.0, 0.0]])
    assert exact_match(a, b).tolist() == [True, True, False]


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_dcr_on_gpu_matches_cpu() -> None:
    train, holdout, synthetic = (continuous_frame(3000, s) for s in (1, 2, 3))
    cpu = dcr().score(train, synthetic, holdout=holdout)
    gpu = DistanceToClosestRecord(device="cuda").score(train, synthetic, holdout=holdout)
    assert gpu.details["device"].startswith("cuda")
    assert gpu.value == pytest.approx(cpu.value, abs=1e-3)
    assert gpu.details["median_dcr_train"] == pytest.approx(cpu.details["median_dcr_train"])


@pytest.mark.parametrize(("name", "params", "match"), [
    ("fidelity.pair_trends", {"bin_edges": "mine"}, "bin_edges"),
    ("fidelity.column_shapes", {"missing": "drop"}, "missing"),
])
def test_sdmetrics_compatibility_options_are_checked(name: str, params: dict[str, str],
                                                     match: str) -> None:
    real = pd.DataFrame({"x": [1.0, 2.0, 3.0], "c": ["a", "b", "a"]})
    with pytest.raises(InvalidParameterError, match=match):
        get_validator(name, **params).score(real, real)
