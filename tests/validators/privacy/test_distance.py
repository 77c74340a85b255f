"""Known-answer tests of the distance validators: ``privacy.dcr`` and ``privacy.exact_copies``
(``privacy.nndr``, an attack, is tested with the attacks), and their input checks."""

from __future__ import annotations

import pandas as pd
import pytest
import torch

from synthaug.exceptions import DeviceError, InvalidDataError
from synthaug.validators.privacy import DistanceToClosestRecord, ExactCopies
from tests.validators.helpers import continuous_frame, dcr


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


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_dcr_on_gpu_matches_cpu() -> None:
    train, holdout, synthetic = (continuous_frame(3000, s) for s in (1, 2, 3))
    cpu = dcr().score(train, synthetic, holdout=holdout)
    gpu = DistanceToClosestRecord(device="cuda").score(train, synthetic, holdout=holdout)
    assert gpu.details["device"].startswith("cuda")
    assert gpu.value == pytest.approx(cpu.value, abs=1e-3)
    assert gpu.details["median_dcr_train"] == pytest.approx(cpu.details["median_dcr_train"])
