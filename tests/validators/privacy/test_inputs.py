"""The privacy attacks: registered with their directions; bad inputs and parameters refused."""

from __future__ import annotations

import pandas as pd
import pytest

from synthaug.exceptions import InvalidDataError, InvalidParameterError
from synthaug.validators import get_validator, list_validators
from synthaug.validators.privacy import (
    AttributeInference,
    DensityRatioMembershipInference,
    DistanceMembershipInference,
    NearestNeighbourDistanceRatio,
    SinglingOut,
)
from tests.validators.privacy.helpers import ALL, ATTACKS, FRESH, HOLDOUT, TRAIN, frame, make


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
