"""What every validator does at its boundary (the base's ``_prepare`` and ``_check_params``),
through validators of every category: bad inputs and parameters are clear errors,
mixed types and column order are fine, details are JSON."""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from synthaug.exceptions import InvalidDataError, InvalidParameterError
from synthaug.validators import get_validator, list_validators
from synthaug.validators.fidelity import Detection, PairTrends
from synthaug.validators.privacy import DistanceToClosestRecord, ExactCopies
from tests.validators.helpers import continuous_frame, dcr

FrameMaker = Callable[..., pd.DataFrame]

MINE = ["fidelity.pair_trends", "fidelity.detection", "privacy.dcr", "privacy.exact_copies"]


# -- registry ----------------------------------------------------------------------------------
def test_validators_are_registered() -> None:
    names = list_validators()
    for name in MINE:
        assert name in names
    assert isinstance(get_validator("privacy.dcr", device="cpu"), DistanceToClosestRecord)
    assert get_validator("fidelity.detection").direction == "lower"
    assert get_validator("fidelity.pair_trends").direction == "higher"


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


@pytest.mark.parametrize(("name", "params", "match"), [
    ("fidelity.pair_trends", {"bin_edges": "mine"}, "bin_edges"),
    ("fidelity.column_shapes", {"missing": "drop"}, "missing"),
])
def test_sdmetrics_compatibility_options_are_checked(name: str, params: dict[str, str],
                                                     match: str) -> None:
    real = pd.DataFrame({"x": [1.0, 2.0, 3.0], "c": ["a", "b", "a"]})
    with pytest.raises(InvalidParameterError, match=match):
        get_validator(name, **params).score(real, real)
