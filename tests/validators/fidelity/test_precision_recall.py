"""Known-answer tests of alpha-precision, beta-recall, category coverage, out-of-range rates and
GX validity, and their input checks."""

from __future__ import annotations

import json
import socket
import sys
from typing import Any

import numpy as np
import pandas as pd
import pytest

from synthaug.exceptions import (
    InvalidDataError,
    InvalidParameterError,
    MissingDependencyError,
    SynthaugError,
)
from synthaug.validators import get_validator, list_validators
from synthaug.validators.fidelity import (
    AlphaPrecision,
    BetaRecall,
    CategoryCoverage,
    OutOfRange,
    Validity,
    expectation_suite,
    gx_view,
)
from synthaug.validators.fidelity.precision_recall import integrated_score
from synthaug.validators.fidelity.validity import _import_gx

MINE = {
    "fidelity.alpha_precision": "higher",
    "fidelity.beta_recall": "higher",
    "fidelity.category_coverage": "higher",
    "fidelity.out_of_range": "lower",
    "fidelity.validity": "higher",
}


def gaussian(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"x": rng.normal(size=n), "y": rng.normal(size=n)})


def recall(**kw: Any) -> BetaRecall:
    return BetaRecall(device="cpu", **kw)


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


# -- alpha-precision / beta-recall --------------------------------------------------------------
def test_integrated_score_ends() -> None:
    grid = np.linspace(0.0, 1.0, 101)
    assert integrated_score(grid, grid) == 1.0
    assert integrated_score(np.ones(101), grid) == pytest.approx(0.0, abs=1e-12)
    assert integrated_score(np.clip(2 * grid, 0, 1), grid) == pytest.approx(0.5)


def test_identical_data_scores_one() -> None:
    real = gaussian(400, 0)
    precision = AlphaPrecision().score(real, real)
    beta = recall().score(real, real)
    assert precision.value == pytest.approx(1.0, abs=0.01)
    assert beta.value == pytest.approx(1.0, abs=0.01)
    assert precision.details["precision_at_1"] == 1.0
    assert beta.details["recall_at_1"] == 1.0
    assert precision.details["precision_at_0.9"] == pytest.approx(0.9, abs=0.01)


def test_one_corner_keeps_precision_but_loses_recall() -> None:
    real = gaussian(800, 1)
    fresh = gaussian(800, 2)  # what a perfect generator would draw
    corner = fresh.abs()  # as many rows, folded into one quarter of the support: mode collapse
    precision = AlphaPrecision().score(real, corner).value
    beta = recall().score(real, corner)
    perfect = recall().score(real, fresh).value
    # folding keeps each row's distance to the centre, so precision stays high
    assert precision > 0.85
    # three quarters of the real rows have no synthetic row near them
    assert beta.details["recall_at_1"] < 0.3
    assert beta.value < 0.3
    assert beta.value < perfect - 0.2


def test_far_outside_the_support_has_no_precision() -> None:
    real = gaussian(300, 3)
    far = real + 10.0
    assert AlphaPrecision().score(real, far).value == 0.0
    assert recall().score(real, far).value == 0.0


def test_rows_crowding_the_centre_are_penalised() -> None:
    real = gaussian(300, 4)
    crowded = real * 0.05  # all inside the support, but only in its core
    score = AlphaPrecision().score(real, crowded)
    assert score.details["precision_at_1"] == 1.0
    assert score.value < 0.1
    assert score.details["deviation"] > 0.4  # the curve runs far above the diagonal


def test_recall_of_a_fresh_sample_is_near_one_with_five_neighbours_and_half_with_one() -> None:
    # documented calibration: a perfect generator drawing as many rows as the real data has
    # reaches a real row's 5-NN neighbourhood almost always (0.95 here), but its 1-NN one only
    # about half of the time, which is why k defaults to 5
    score = recall().score(gaussian(1000, 5), gaussian(1000, 6))
    assert score.details["recall_at_1"] > 0.9 and score.value > 0.9
    one = recall(k=1).score(gaussian(1000, 5), gaussian(1000, 6))
    assert 0.4 < one.details["recall_at_1"] < 0.6
    assert AlphaPrecision().score(gaussian(1000, 5), gaussian(1000, 6)).value > 0.9


def test_recall_with_duplicated_real_rows() -> None:
    # every real row twice: radii come from the nearest *distinct* row, so a synthetic row a
    # hair away from a duplicated real row still reaches it (a radius of 0 would demand copies)
    rng = np.random.default_rng(7)
    base = pd.DataFrame({"a": rng.choice(["p", "q"], 200), "x": rng.normal(size=200)})
    real = pd.concat([base, base], ignore_index=True)
    jitter = real.assign(x=real.x + rng.normal(scale=1e-4, size=len(real)))
    score = recall().score(real, jitter)
    assert score.details["n_distinct_real"] == 200
    assert score.details["recall_at_1"] > 0.95
    assert score.value > 0.95


def test_recall_compares_equal_size_samples() -> None:
    real, synthetic = gaussian(300, 10), gaussian(900, 11)
    score = recall().score(real, synthetic)
    assert score.details["n_real"] == score.details["n_synthetic"] == 300


def test_curves_details_layout_and_seeded_subsample() -> None:
    real, synthetic = gaussian(500, 8), gaussian(500, 9)
    p = AlphaPrecision(max_rows=200).score(real, synthetic)
    r = recall(max_rows=200).score(real, synthetic)
    assert p.details["n_real"] == p.details["n_synthetic"] == 200
    assert r.details["n_real"] == r.details["n_synthetic"] == 200
    for score, level, what in ((p, "alpha", "precision"), (r, "beta", "recall")):
        curve = score.details["curve"]
        assert len(curve[level]) == len(curve[what]) == 20
        assert curve[level][0] == 0.05 and curve[level][-1] == 1.0
        assert all(a <= b for a, b in zip(curve[what], curve[what][1:], strict=False))
        json.dumps(score.to_dict())
    assert recall(max_rows=200).score(real, synthetic).value == r.value


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


# -- validity (Great Expectations) --------------------------------------------------------------
class _NetworkGuard:
    """Replaces socket entry points: records every attempt and refuses it."""

    def __init__(self) -> None:
        self.attempts: list[str] = []

    def install(self, mp: pytest.MonkeyPatch) -> None:
        def refuse(name: str) -> Any:
            def blocked(*args: Any, **kwargs: Any) -> Any:
                self.attempts.append(f"{name}{args[:2]!r}")
                raise OSError(f"network blocked in tests ({name})")
            return blocked

        mp.setattr(socket, "getaddrinfo", refuse("getaddrinfo"))
        mp.setattr(socket, "create_connection", refuse("create_connection"))
        mp.setattr(socket.socket, "connect", refuse("connect"))
        mp.setattr(socket.socket, "connect_ex", refuse("connect_ex"))


@pytest.fixture(scope="module")
def gx_import_attempts() -> list[str]:
    """Import Great Expectations once, with the network blocked; the attempts it made."""
    guard = _NetworkGuard()
    with pytest.MonkeyPatch.context() as mp:
        guard.install(mp)
        _import_gx()
    return guard.attempts


def mixed_frame(n: int = 120, seed: int = 0) -> pd.DataFrame:
    """Every pandas 3 dtype the suite must type-check: str, category, Int64, tz dates, ..."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "id": [f"u{i:04d}" for i in range(n)],
        "age": rng.integers(18, 80, n),
        "hours": np.round(rng.normal(40, 8, n), 1),
        "work": rng.choice(["Private", "State", "Self"], n),
        "grade": pd.Categorical(rng.choice([1, 2, 3], n)),
        "kids": pd.array(np.where(rng.random(n) < 0.2, None, rng.integers(0, 4, n)),
                         dtype="Int64"),
        "flag": rng.random(n) < 0.3,
        "joined": pd.date_range("2021-01-01", periods=n, freq="D", tz="Europe/Berlin"),
    })


def test_validity_identical_is_one(gx_import_attempts: list[str]) -> None:
    real = mixed_frame()
    score = Validity().score(real, real)
    assert score.value == 1.0
    assert score.details["share_met"] == 1.0
    assert score.details["failed"] == [] and score.details["errors"] == []
    kinds = {(e["expectation"], e["column"]) for e in score.details["expectations"]}
    assert ("expect_column_values_to_be_unique", "id") in kinds
    assert ("expect_column_values_to_not_be_null", "age") in kinds
    assert ("expect_column_values_to_not_be_null", "kids") not in kinds  # real has missing
    assert ("expect_column_values_to_be_in_set", "work") in kinds
    assert ("expect_column_values_to_be_between", "joined") in kinds
    assert ("expect_column_values_to_be_unique", "hours") not in kinds  # continuous
    json.dumps(score.to_dict())


def test_validity_names_what_failed(gx_import_attempts: list[str]) -> None:
    real = mixed_frame()
    synthetic = real.copy()
    synthetic["hours"] = synthetic["hours"].astype(float)
    synthetic.loc[:5, "hours"] = np.nan  # 6 nulls in a column with none
    synthetic.loc[10:13, "work"] = "Pirate"  # 4 unseen levels
    synthetic.loc[20:22, "age"] = 200  # 3 out of range
    synthetic.loc[30, "id"] = synthetic.loc[31, "id"]  # a repeated key: 2 duplicated values
    score = Validity().score(real, synthetic)
    failed = {(f["expectation"], f["column"]): f for f in score.details["failed"]}
    assert set(failed) == {
        ("expect_column_values_to_not_be_null", "hours"),
        ("expect_column_values_to_be_in_set", "work"),
        ("expect_column_values_to_be_between", "age"),
        ("expect_column_values_to_be_unique", "id"),
    }
    n = len(real)
    assert failed[("expect_column_values_to_not_be_null", "hours")]["success_fraction"] == \
        pytest.approx(1 - 6 / n)
    assert failed[("expect_column_values_to_be_in_set", "work")]["unexpected_values"][0] == \
        "Pirate"
    assert failed[("expect_column_values_to_be_between", "age")]["unexpected_count"] == 3
    assert failed[("expect_column_values_to_be_unique", "id")]["unexpected_count"] == 2
    fractions = [e["success_fraction"] for e in score.details["expectations"]]
    assert score.value == pytest.approx(np.mean(fractions))
    assert score.details["n_met"] == score.details["n_expectations"] - 4
    json.dumps(score.to_dict())


def test_validity_type_drift_and_tolerance(gx_import_attempts: list[str]) -> None:
    real = mixed_frame()
    synthetic = real.copy()
    synthetic["age"] = synthetic["age"].astype(float)  # whole numbers, but floats now
    synthetic.loc[0, "hours"] = real["hours"].max() + 0.5
    score = Validity().score(real, synthetic)
    failed = {(f["expectation"], f["column"]) for f in score.details["failed"]}
    assert failed == {("expect_column_values_to_be_in_type_list", "age"),
                      ("expect_column_values_to_be_between", "hours")}
    width = real["hours"].max() - real["hours"].min()
    tolerant = Validity(range_tolerance=1.0 / width).score(real, synthetic)
    assert {(f["expectation"], f["column"]) for f in tolerant.details["failed"]} == {
        ("expect_column_values_to_be_in_type_list", "age")}


def test_suite_is_reusable_gx(gx_import_attempts: list[str]) -> None:
    gx = _import_gx()
    real = mixed_frame(60)
    suite = expectation_suite(real, name="mine", max_levels=2)
    assert isinstance(suite, gx.ExpectationSuite)
    assert suite.name == "mine"
    types = [(e.expectation_type, getattr(e, "column", None)) for e in suite.expectations]
    assert ("expect_column_values_to_be_in_set", "work") not in types  # 3 levels > max_levels
    assert ("expect_column_values_to_be_in_set", "grade") not in types
    details = Validity().score(real, real).details
    rebuilt = gx.ExpectationSuite(**details["suite"])
    assert len(rebuilt.expectations) == details["n_expectations"]
    # the pandas 3 workaround: str/category columns reach GX as object columns
    assert str(gx_view(real)["work"].dtype) == "object"
    assert str(gx_view(real)["joined"].dtype).startswith("datetime64")


def test_validity_stays_offline_writes_nothing_and_restores_context(
    gx_import_attempts: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    from great_expectations.data_context.data_context.context_factory import project_manager

    gx = _import_gx()
    users = gx.get_context(mode="ephemeral")  # a user's own current context
    guard = _NetworkGuard()
    guard.install(monkeypatch)
    monkeypatch.chdir(tmp_path)
    score = Validity().score(mixed_frame(40), mixed_frame(40, seed=1))
    assert 0.0 < score.value < 1.0
    assert gx_import_attempts == [] and guard.attempts == []
    assert list(tmp_path.iterdir()) == []
    assert project_manager.get_current_project() is users


def test_validity_without_gx_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "great_expectations", None)  # import now fails
    real = gaussian(10, 0)
    with pytest.raises(MissingDependencyError, match=r'pip install "synthaug\[gx\]"') as info:
        Validity().score(real, real)
    assert isinstance(info.value, ImportError) and isinstance(info.value, SynthaugError)


def test_validity_of_identical_data_at_the_limits_of_floats_and_timestamps() -> None:
    # found by the property tests of augment(): a range spanning the whole float or Timestamp
    # scale overflowed, and GX reads date bounds at microsecond precision
    frame = pd.DataFrame({
        "f": [0.0, 2.3e300, -1.797693e308, -2e-48],
        "d": pd.to_datetime(["1677-09-21 00:12:43.145224193", "1970-01-01 00:00:00",
                             "2262-04-11 23:47:16.854775806", "2000-01-01 00:00:00.000000999"],
                            format="ISO8601"),
    })
    score = Validity().score(frame, frame.copy())
    assert score.value == 1.0, score.details["failed"]
    nanos = frame.assign(d=pd.to_datetime(["2020-01-01 00:00:00.000000001"] * 2
                                          + ["2020-01-02 00:00:00.000000999"] * 2))
    assert Validity().score(nanos, nanos.copy()).value == 1.0
