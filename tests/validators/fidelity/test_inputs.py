"""The fidelity validators of the later wave (alpha-precision, beta-recall, category coverage,
out-of-range, validity): registered with their direction, bad inputs and parameters refused."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from synthaug.exceptions import (
    InvalidDataError,
    InvalidParameterError,
)
from synthaug.validators import get_validator, list_validators
from synthaug.validators.fidelity import (
    AlphaPrecision,
    BetaRecall,
    CategoryCoverage,
    OutOfRange,
    Validity,
)
from tests.validators.fidelity.helpers import gaussian

MINE = {
    "fidelity.alpha_precision": "higher",
    "fidelity.beta_recall": "higher",
    "fidelity.category_coverage": "higher",
    "fidelity.out_of_range": "lower",
    "fidelity.validity": "higher",
}


# -- registry and input checks ------------------------------------------------------------------
def test_registered_with_direction() -> None:
    names = set(list_validators())
    for name, direction in MINE.items():
        assert name in names
        assert get_validator(name).direction == direction


@pytest.mark.parametrize("name", sorted(MINE))
def test_bad_inputs_raise_invalid_data(name: str) -> None:
    real = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "c": ["a", "b", "a", "b"]})
    validator = get_validator(name, device="cpu") if name == "fidelity.beta_recall" \
        else get_validator(name)
    with pytest.raises(InvalidDataError, match="columns"):
        validator.score(real, real.rename(columns={"c": "d"}))
    with pytest.raises(InvalidDataError, match="empty"):
        validator.score(real, real.iloc[:0])


@pytest.mark.parametrize(
    ("cls", "params"),
    [
        (AlphaPrecision, {"max_rows": 1}),
        (BetaRecall, {"max_rows": "many"}),
        (CategoryCoverage, {"max_listed": -1}),
        (OutOfRange, {"count_missing": "yes"}),
        (Validity, {"mostly": 0.0}),
        (Validity, {"range_tolerance": -0.1}),
        (Validity, {"max_levels": 0}),
    ],
)
def test_bad_parameters(cls: type, params: dict[str, Any]) -> None:
    real = gaussian(20, 0)
    with pytest.raises(InvalidParameterError, match=next(iter(params))):
        cls(**params).score(real, real)
