"""Known-answer tests of ``fidelity.category_coverage`` and ``fidelity.out_of_range``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthaug.validators.fidelity import (
    CategoryCoverage,
    OutOfRange,
)
from tests.validators.fidelity.helpers import gaussian


# -- category coverage --------------------------------------------------------------------------
def category_frame(n: int = 200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "c": rng.choice(["a", "b", "c", "d"], n, p=[0.4, 0.3, 0.2, 0.1]),
        "flag": rng.random(n) < 0.5,
        "x": rng.normal(size=n),
    })


def test_coverage_identical_is_one() -> None:
    real = category_frame()
    score = CategoryCoverage().score(real, real)
    assert score.value == 1.0
    assert score.details["missing_levels"] == {}
    assert score.details["columns"] == {"c": 1.0, "flag": 1.0}


def test_dropping_a_category_lowers_coverage_exactly() -> None:
    real = category_frame()
    synthetic = real[real.c != "d"]
    score = CategoryCoverage().score(real, synthetic)
    assert score.details["columns"] == {"c": 0.75, "flag": 1.0}
    assert score.value == pytest.approx((0.75 + 1.0) / 2)
    assert score.details["missing_levels"] == {"c": ["d"]}
    assert score.details["weighted"]["c"] == pytest.approx(1 - (real.c == "d").mean())
    assert score.details["levels"]["c"] == {"real": 4, "covered": 3}


def test_missing_is_a_level_of_its_own() -> None:
    real = category_frame().astype({"c": object})
    real.loc[:9, "c"] = None
    synthetic = real.dropna()
    score = CategoryCoverage().score(real, synthetic)
    assert score.details["columns"]["c"] == pytest.approx(4 / 5)
    assert score.details["missing_levels"]["c"] == [None]


def test_coverage_without_categorical_columns_is_nan() -> None:
    real = gaussian(30, 0)
    score = CategoryCoverage().score(real, real)
    assert np.isnan(score.value)
    assert "no categorical" in score.details["note"]


# -- out of range -------------------------------------------------------------------------------
def test_out_of_range_identical_is_zero() -> None:
    real = category_frame()
    score = OutOfRange().score(real, real)
    assert score.value == 0.0
    assert score.details["n_rows_out"] == 0


def test_out_of_range_exact_shares() -> None:
    real = pd.DataFrame({"x": np.linspace(0.0, 10.0, 50), "c": ["a", "b"] * 25})
    synthetic = real.copy()
    synthetic.loc[[0, 1, 2], "x"] = 10.5  # above
    synthetic.loc[[3, 4], "x"] = -1.0  # below
    synthetic.loc[[4, 5, 6, 7], "c"] = "z"  # unseen; row 4 is out in both columns
    score = OutOfRange().score(real, synthetic)
    assert score.value == pytest.approx(8 / 50)
    assert score.details["columns"] == {"x": pytest.approx(5 / 50), "c": pytest.approx(4 / 50)}
    assert score.details["counts"]["x"]["above"] == 3
    assert score.details["counts"]["x"]["below"] == 2
    assert score.details["unseen_levels"] == {"c": ["z"]}
    assert score.details["real_range"]["x"] == [0.0, 10.0]
    assert score.details["value_share"] == pytest.approx(9 / 100)


def test_out_of_range_dates_and_unexpected_missing() -> None:
    real = pd.DataFrame({"t": pd.date_range("2020-01-01", periods=20, freq="D"),
                         "n": np.arange(20) % 7})
    synthetic = real.copy()
    synthetic.loc[0, "t"] = pd.Timestamp("2019-12-31")
    synthetic["n"] = synthetic["n"].astype(float)
    synthetic.loc[[1, 2], "n"] = np.nan
    score = OutOfRange().score(real, synthetic)
    assert score.value == pytest.approx(3 / 20)
    assert score.details["counts"]["n"]["unexpected_missing"] == 2
    assert score.details["real_range"]["t"][0].startswith("2020-01-01")
    assert OutOfRange(count_missing=False).score(real, synthetic).value == pytest.approx(1 / 20)
