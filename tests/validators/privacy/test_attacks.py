"""Known-answer tests of the privacy attacks (NNDR, membership inference, attribute inference,
singling out), each on the same train, holdout and fresh tables: copies are found by every
attack, independent draws show no risk."""

from __future__ import annotations

import json
import math
from collections.abc import Callable

import pandas as pd
import pytest
import torch

from synthaug.exceptions import InvalidParameterError
from synthaug.validators.privacy import (
    AttributeInference,
    NearestNeighbourDistanceRatio,
)
from tests.validators.privacy.helpers import ALL, FRESH, HOLDOUT, TRAIN, frame, make

FrameMaker = Callable[..., pd.DataFrame]


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


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_distance_attacks_on_gpu_match_cpu() -> None:
    for name in ("privacy.nndr", "privacy.mia_distance", "privacy.attribute_inference"):
        cpu = make(name).score(TRAIN, FRESH, holdout=HOLDOUT)
        gpu = make(name, device="cuda").score(TRAIN, FRESH, holdout=HOLDOUT)
        assert gpu.details["device"].startswith("cuda")
        assert gpu.value == pytest.approx(cpu.value, abs=0.02), name
