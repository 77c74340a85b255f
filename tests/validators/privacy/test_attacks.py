"""Known-answer tests of the privacy attacks: NNDR, membership inference, attribute inference
and singling out; their statistics; and their input checks."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch

from synthaug import get_generator, registry
from synthaug.exceptions import InvalidDataError, InvalidParameterError
from synthaug.generators.base import register_generator
from synthaug.generators.tabular.base import TabularGenerator
from synthaug.validators import get_validator, list_validators
from synthaug.validators.base import BaseValidator
from synthaug.validators.privacy import (
    AttributeInference,
    DensityRatioMembershipInference,
    DistanceMembershipInference,
    NearestNeighbourDistanceRatio,
    SinglingOut,
)
from synthaug.validators.privacy._attack import relative_risk, roc_summary, wilson_rate
from synthaug.validators.privacy.singling_out import (
    EQ,
    GE,
    ISNA,
    LE,
    NE,
    count_matches,
    univariate_predicates,
)

FrameMaker = Callable[..., pd.DataFrame]

ATTACKS = ["privacy.mia_distance", "privacy.mia_density", "privacy.attribute_inference",
           "privacy.singling_out"]
ALL = ["privacy.nndr", *ATTACKS]


def frame(n: int, seed: int) -> pd.DataFrame:
    """Independent draws of one distribution: continuous (rows never repeat by chance), a
    categorical secret that depends on x, and a coarse integer column."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    return pd.DataFrame(
        {
            "x": x,
            "y": x + rng.normal(size=n),
            "w": rng.gamma(2.0, size=n),
            "k": rng.integers(0, 40, n),
            "c": np.where(x + rng.normal(scale=1.0, size=n) > 0, "hi", "lo"),
        }
    )


def make(name: str, **kw: object) -> BaseValidator:
    """The validator with small-data, fast, CPU-only parameters."""
    defaults: dict[str, dict[str, object]] = {
        "privacy.nndr": {"device": "cpu", "n_bootstrap": 50},
        "privacy.mia_distance": {"device": "cpu"},
        "privacy.mia_density": {"n_threads": 1, "max_iter": 100},
        "privacy.attribute_inference": {"device": "cpu", "secrets": ["c", "w"]},
        "privacy.singling_out": {"max_attempts": 10_000},
    }
    return get_validator(name, **{**defaults[name], **kw})


TRAIN, HOLDOUT, FRESH = frame(500, 1), frame(500, 2), frame(500, 3)


# -- registry ----------------------------------------------------------------------------------
def test_attacks_are_registered_with_their_directions() -> None:
    names = list_validators()
    for name in ALL:
        assert name in names
    assert isinstance(make("privacy.mia_distance"), DistanceMembershipInference)
    assert isinstance(make("privacy.mia_density"), DensityRatioMembershipInference)
    assert isinstance(make("privacy.attribute_inference"), AttributeInference)
    assert isinstance(make("privacy.singling_out"), SinglingOut)
    assert isinstance(make("privacy.nndr"), NearestNeighbourDistanceRatio)
    assert get_validator("privacy.nndr").direction == "higher"
    assert all(get_validator(n).direction == "lower" for n in ATTACKS)
    assert all(get_validator(n).category == "privacy" for n in ALL)


# -- statistics against hand-computed values ---------------------------------------------------
def test_wilson_rate_and_relative_risk_match_the_formulas() -> None:
    z = 1.959963984540054
    rate, err = wilson_rate(30, 200)
    assert rate == pytest.approx((30 + z * z / 2) / (200 + z * z))
    assert err == pytest.approx(z / (200 + z * z) * math.sqrt(30 * 170 / 200 + z * z / 4))
    est = relative_risk(120, 200, 40, 200)
    main, main_err = wilson_rate(120, 200)
    ctrl, ctrl_err = wilson_rate(40, 200)
    assert est.risk == pytest.approx((main - ctrl) / (1 - ctrl))
    expected_err = math.hypot(main_err / (1 - ctrl), ctrl_err * (main - 1) / (1 - ctrl) ** 2)
    assert est.interval == pytest.approx((est.risk - expected_err, est.risk + expected_err))
    # worse on training rows than on unseen ones: no risk, and never below 0
    worse = relative_risk(10, 200, 40, 200)
    assert worse.risk == 0.0 and worse.interval[0] == 0.0


def test_roc_summary_matches_brute_force_and_delong() -> None:
    rng = np.random.default_rng(0)
    labels = np.repeat([1, 0], [40, 60])
    scores = np.round(rng.normal(size=100) + 0.8 * labels, 1)  # rounding makes ties
    summary = roc_summary(labels, scores)
    pos, neg = scores[labels == 1], scores[labels == 0]
    kernel = (pos[:, None] > neg[None]) + 0.5 * (pos[:, None] == neg[None])
    assert summary["auc"] == pytest.approx(kernel.mean())
    # DeLong: variance of the row means over positives / m + of the column means over negatives / n
    var = kernel.mean(axis=1).var(ddof=1) / 40 + kernel.mean(axis=0).var(ddof=1) / 60
    assert summary["auc_std"] == pytest.approx(math.sqrt(var))
    # advantage is max TPR - FPR over thresholds
    thresholds = np.unique(scores)
    adv = max(((pos >= t).mean() - (neg >= t).mean()) for t in thresholds)
    assert summary["advantage"] == pytest.approx(adv)
    curve = summary["roc_curve"]
    assert len(curve["fpr"]) <= 50
    assert (curve["fpr"][0], curve["tpr"][0], curve["fpr"][-1], curve["tpr"][-1]) == (0, 0, 1, 1)
    assert np.all(np.diff(curve["fpr"]) >= 0) and np.all(np.diff(curve["tpr"]) >= 0)
    many = roc_summary(np.repeat([1, 0], 2000), rng.normal(size=4000))
    assert len(many["roc_curve"]["fpr"]) <= 50


def test_predicates_count_rows_by_hand() -> None:
    m = np.array([[1.0, 0.0], [2.0, 1.0], [3.0, np.nan], [3.0, 1.0]])
    cols = np.array([[0, 1], [0, 1], [1, 1], [0, 0]])
    ops = np.array([[GE, EQ], [LE, NE], [ISNA, ISNA], [EQ, EQ]])
    values = np.array([[2.0, 1.0], [2.0, 1.0], [0.0, 0.0], [3.0, 3.0]])
    # x >= 2 & c == 1: rows 1, 3;  x <= 2 & c != 1: row 0 (missing is not "!= 1");
    # c missing: row 2;  x == 3 twice: rows 2, 3
    assert count_matches(m, cols, ops, values).tolist() == [2, 1, 1, 2]
    # univariate: min/max of numbers and values seen once; each isolates one row
    found = univariate_predicates(m, np.array([True, False]), 10, np.random.default_rng(0))
    got = {(int(c[0]), int(o[0]), float(v[0])) for c, o, v in zip(*found.arrays(), strict=True)}
    assert got == {(0, LE, 1.0), (0, EQ, 1.0), (0, EQ, 2.0), (1, EQ, 0.0), (1, ISNA, 0.0)}


# -- known answers: synthetic rows that copy the training rows ---------------------------------
def test_copies_of_training_rows_are_found_by_every_attack() -> None:
    mia = make("privacy.mia_distance").score(TRAIN, TRAIN.copy(), holdout=HOLDOUT)
    assert mia.value > 0.9 and mia.interval[0] > 0.9
    assert mia.details["tpr_at_fpr"]["0.01"] > 0.9
    assert mia.details["median_distance_members"] == 0.0
    density = make("privacy.mia_density").score(TRAIN, TRAIN.copy(), holdout=HOLDOUT)
    assert density.value > 0.6 and density.interval[0] > 0.5  # weaker by design: a model
    inference = make("privacy.attribute_inference").score(TRAIN, TRAIN.copy(), holdout=HOLDOUT)
    assert inference.value > 0.9
    assert inference.details["secrets"]["c"]["main_rate"] > 0.95
    assert inference.details["secrets"]["w"]["kind"] == "numeric"
    for mode in ("univariate", "multivariate"):
        so = make("privacy.singling_out", mode=mode, n_attacks=200).score(
            TRAIN, TRAIN.copy(), holdout=HOLDOUT)
        assert so.value > 0.5 and so.interval[0] > 0.3, mode
    nndr = make("privacy.nndr").score(TRAIN, TRAIN.copy(), holdout=HOLDOUT)
    assert nndr.value == 0.0 and nndr.details["share_below_threshold"] == 1.0
    assert nndr.details["holdout"]["nndr_quantile"] > 0.1


def test_half_copies_give_a_membership_auc_of_three_quarters() -> None:
    # half the training rows copied: those members sit at distance 0 (ranked first), the other
    # half look like non-members, so AUC = 1/2 * 1 + 1/2 * 1/2
    synthetic = pd.concat([TRAIN.iloc[::2], FRESH.iloc[::2]], ignore_index=True)
    mia = make("privacy.mia_distance").score(TRAIN, synthetic, holdout=HOLDOUT)
    assert mia.value == pytest.approx(0.75, abs=0.05)
    assert mia.details["advantage"] == pytest.approx(0.5, abs=0.08)


# -- known answers: synthetic rows drawn independently -----------------------------------------
def test_independent_synthetic_data_shows_no_risk() -> None:
    for name in ("privacy.mia_distance", "privacy.mia_density"):
        result = make(name).score(TRAIN, FRESH, holdout=HOLDOUT)
        low, high = result.interval
        assert low < 0.5 < high, name
        assert abs(result.value - 0.5) < 0.08, name
    inference = make("privacy.attribute_inference").score(TRAIN, FRESH, holdout=HOLDOUT)
    assert inference.value < 0.1 and inference.interval[0] == 0.0
    # the secret c is learnable from x: both sides are guessed well above the baseline
    c = inference.details["secrets"]["c"]
    assert c["main_rate"] > 0.6 and c["control_rate"] > 0.6
    for mode in ("univariate", "multivariate"):
        so = make("privacy.singling_out", mode=mode, n_attacks=200).score(
            TRAIN, FRESH, holdout=HOLDOUT)
        assert so.value < 0.1 and so.interval[0] == 0.0, mode
    nndr = make("privacy.nndr").score(TRAIN, FRESH, holdout=HOLDOUT)
    assert nndr.value == pytest.approx(nndr.details["holdout"]["nndr_quantile"], abs=0.1)
    assert nndr.interval[0] <= nndr.value <= nndr.interval[1]


def test_smaller_holdout_is_compared_at_equal_size_and_shows_no_risk() -> None:
    # fewer rows make a predicate more likely to match exactly one: comparing a large train
    # with a small holdout as they are would put fresh data at risk
    holdout = frame(250, 2)
    so = make("privacy.singling_out", n_attacks=200).score(TRAIN, FRESH, holdout=holdout)
    assert so.details["n_compared"] <= 250
    assert so.interval[0] == 0.0 and so.value < 0.1


# -- parameters and context --------------------------------------------------------------------
def test_secrets_come_from_the_parameter_or_the_sensitive_columns() -> None:
    attack = AttributeInference(device="cpu", n_attacks=200)
    result = attack.score(TRAIN, FRESH, holdout=HOLDOUT, context={"sensitive": ("c",)})
    assert list(result.details["secrets"]) == ["c"]
    assert result.details["worst_secret"] == "c"
    with pytest.raises(InvalidParameterError, match=r"secrets=\[\.\.\.\]"):
        attack.score(TRAIN, FRESH, holdout=HOLDOUT)
    # the attacker knows only y: x, which predicts c, is hidden, so the guesses get worse
    narrow = AttributeInference(device="cpu", secrets="c", aux_columns=["y"], n_attacks=200)
    details = narrow.score(TRAIN, FRESH, holdout=HOLDOUT).details["secrets"]["c"]
    assert details["n_aux_columns"] == 1
    assert details["control_rate"] < result.details["secrets"]["c"]["control_rate"]


def test_nndr_runs_without_a_holdout_and_honours_the_context_device() -> None:
    result = NearestNeighbourDistanceRatio(device="cuda", n_bootstrap=0).score(
        TRAIN, FRESH, context={"device": "cpu"})
    assert result.details["device"] == "cpu"
    assert "holdout" not in result.details and result.interval is None
    assert result.details["n_reference"] == len(TRAIN)
    assert 0.0 < result.value < result.details["median_nndr"] < 1.0
    assert sum(result.details["histogram"]["train"]) == len(FRESH)


def test_mixed_types_and_json_details(make_mixed_frame: FrameMaker) -> None:
    train, holdout = make_mixed_frame(200, seed=1), make_mixed_frame(200, seed=2)
    synthetic = make_mixed_frame(200, seed=3)
    synthetic = synthetic[list(reversed(synthetic.columns))]
    for name in ALL:
        kw = {"secrets": ["income", "hours", "work", "joined"]} \
            if name == "privacy.attribute_inference" else {}
        result = make(name, **kw).score(train, synthetic, holdout=holdout)
        assert math.isfinite(result.value), name
        json.dumps(result.to_dict(), allow_nan=False)
    so = make("privacy.singling_out", mode="univariate").score(train, train, holdout=holdout)
    assert so.value > 0.5  # missing values and datetimes make predicates too


# -- bad inputs --------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ATTACKS)
def test_attacks_without_holdout_are_a_clear_error(name: str) -> None:
    with pytest.raises(InvalidDataError, match="needs a holdout"):
        make(name).score(TRAIN, FRESH)


@pytest.mark.parametrize("name", ALL)
def test_holdout_overlapping_train_is_a_clear_error(name: str) -> None:
    holdout = pd.concat([frame(450, 2), TRAIN.iloc[:50]], ignore_index=True)
    with pytest.raises(InvalidDataError, match=r"holdout overlaps train: 10\.0%"):
        make(name).score(TRAIN, FRESH, holdout=holdout)
    tolerant = make(name, max_holdout_overlap=0.2)
    result = tolerant.score(TRAIN, FRESH, holdout=holdout)
    assert result.details["holdout_overlap"] == pytest.approx(0.1)


@pytest.mark.parametrize("name", ALL)
def test_mismatched_columns_are_a_clear_error(name: str) -> None:
    with pytest.raises(InvalidDataError, match=r"missing \['y'\]"):
        make(name).score(TRAIN, FRESH.drop(columns="y"), holdout=HOLDOUT)


def test_missing_secret_column_is_a_clear_error() -> None:
    with pytest.raises(InvalidDataError, match=r"secret column\(s\) \['salary'\] not found"):
        AttributeInference(secrets=["salary"], device="cpu").score(TRAIN, FRESH, holdout=HOLDOUT)
    with pytest.raises(InvalidDataError, match=r"auxiliary column\(s\) \['zip'\] not found"):
        AttributeInference(secrets="c", aux_columns=["zip"], device="cpu").score(
            TRAIN, FRESH, holdout=HOLDOUT)
    with pytest.raises(InvalidDataError, match="no auxiliary column is left"):
        AttributeInference(secrets="c", aux_columns=["c"], device="cpu").score(
            TRAIN, FRESH, holdout=HOLDOUT)


def test_too_small_holdout_and_bad_parameters_are_clear_errors() -> None:
    with pytest.raises(InvalidDataError, match="at least 10 reference rows and 10 candidates"):
        make("privacy.mia_density").score(TRAIN, FRESH, holdout=HOLDOUT.iloc[:15])
    with pytest.raises(InvalidParameterError, match="n_cols=9 is more than the 5"):
        SinglingOut(n_cols=9).score(TRAIN, FRESH, holdout=HOLDOUT)
    bad: list[tuple[str, dict[str, object], str]] = [
        ("privacy.singling_out", {"mode": "bivariate"}, "mode"),
        ("privacy.singling_out", {"n_attacks": 0}, "n_attacks"),
        ("privacy.mia_distance", {"max_candidates": 3}, "max_candidates"),
        ("privacy.mia_density", {"reference_share": 1.0}, "reference_share"),
        ("privacy.attribute_inference", {"numeric_tolerance": -1}, "numeric_tolerance"),
        ("privacy.attribute_inference", {"confidence": 1.5}, "confidence"),
        ("privacy.nndr", {"quantile": 2}, "quantile"),
    ]
    for name, params, word in bad:
        with pytest.raises(InvalidParameterError, match=word):
            make(name, **params).score(TRAIN, FRESH, holdout=HOLDOUT)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_distance_attacks_on_gpu_match_cpu() -> None:
    for name in ("privacy.nndr", "privacy.mia_distance", "privacy.attribute_inference"):
        cpu = make(name).score(TRAIN, FRESH, holdout=HOLDOUT)
        gpu = make(name, device="cuda").score(TRAIN, FRESH, holdout=HOLDOUT)
        assert gpu.details["device"].startswith("cuda")
        assert gpu.value == pytest.approx(cpu.value, abs=0.02), name


# -- the shadow-model attack -------------------------------------------------------------------
class _Copier(TabularGenerator):
    """A generator that memorises: it samples its training rows back (a leaking model)."""

    family = "copier"

    def __init__(self, *, random_state: object = None, device: str = "cpu") -> None:
        self.random_state = random_state
        self.device = device

    def _fit_matrix(self, matrix: np.ndarray, rng: np.random.Generator) -> None:
        self.rows_ = matrix.copy()

    def _sample_matrix(self, n: int, fixed: Mapping[int, float],
                       rng: np.random.Generator) -> np.ndarray:
        return self.rows_[rng.integers(0, len(self.rows_), n)]

    def _get_model_state(self) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        raise NotImplementedError

    def _set_model_state(self, state: Mapping[str, Any],
                         tensors: Mapping[str, torch.Tensor]) -> None:
        raise NotImplementedError


@pytest.fixture
def copier() -> str:
    # registered at run time, so collection-time generator lists elsewhere never see it
    if "test.copier" not in registry.generators:
        register_generator("test.copier")(_Copier)
    return "test.copier"


def test_shadow_attack_learns_the_targets_leak_from_its_own_algorithm(copier: str) -> None:
    leaked = get_generator(copier, random_state=0).fit(TRAIN).sample(500, random_state=1)
    attack = get_validator("privacy.mia_shadow", device="cpu")
    result = attack.score(TRAIN, leaked, holdout=HOLDOUT,
                          context={"generator": {"name": copier, "params": {}}})
    # the shadow (a copier trained on the attacker's rows) shows that members sit at distance
    # 0, and the attack model carries that over to the target's rows
    assert result.details["shadow_auc"] > 0.8
    assert result.value > 0.8 and result.interval[0] > 0.7
    assert result.details["shadow_generator"] == copier


def test_shadow_attack_on_a_generator_that_does_not_leak_shows_no_risk() -> None:
    rows = get_generator("tabular.copula", random_state=0).fit(TRAIN).sample(500, random_state=1)
    result = get_validator("privacy.mia_shadow", shadow_generator="tabular.copula",
                           device="cpu").score(TRAIN, rows, holdout=HOLDOUT)
    low, high = result.interval
    assert low < 0.5 < high


def test_shadow_attack_needs_to_know_the_generator() -> None:
    with pytest.raises(InvalidParameterError, match="shadow_generator="):
        get_validator("privacy.mia_shadow").score(TRAIN, FRESH, holdout=HOLDOUT)
