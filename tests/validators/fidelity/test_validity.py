"""``fidelity.validity``: Great Expectations suites derived from the real data, run offline."""

from __future__ import annotations

import json
import socket
import sys
from typing import Any

import numpy as np
import pandas as pd
import pytest

from synthaug.exceptions import (
    MissingDependencyError,
    SynthaugError,
)
from synthaug.validators.fidelity import (
    Validity,
    expectation_suite,
    gx_view,
)
from synthaug.validators.fidelity.validity import _import_gx
from tests.validators.fidelity.helpers import gaussian


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
