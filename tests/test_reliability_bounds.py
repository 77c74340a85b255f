"""What numeric bounds a model keeps (issue 15, "Also"): by default values that at least ten
training rows reach, never one person's extreme; the exact range on request."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from safetensors.numpy import load_file

from synthaug import get_generator
from synthaug.data.schema import SHARED_BOUND_ROWS, TableSchema, shared_bounds
from synthaug.exceptions import InvalidParameterError
from synthaug.validators import get_validator

#: the extremes one person holds in the table below
LOW, HIGH = -1_234.5678, 98_765.4321


def table(n: int = 3_000) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    x = rng.normal(50.0, 10.0, n)
    x[7], x[11] = LOW, HIGH  # one row each: a unique minimum and maximum
    age = rng.integers(18, 80, n)
    age[:40] = 90  # a maximum many rows share: kept exactly
    day = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 365, n), "D")
    day = pd.Series(day)
    day.iloc[5] = pd.Timestamp("1900-01-01")  # one person's odd date
    return pd.DataFrame({"x": x, "age": age, "day": day, "c": rng.choice(["a", "b"], n)})


def test_bounds_are_values_at_least_k_rows_reach() -> None:
    values = np.arange(1000.0)
    assert shared_bounds(values, SHARED_BOUND_ROWS) == (9.0, 990.0)
    assert shared_bounds(np.r_[np.zeros(50), np.arange(950.0)], 10) == (0.0, 940.0)
    assert shared_bounds(np.arange(150.0), 10) == (0.0, 149.0)  # < 200 rows: exact
    schema = TableSchema.detect(table())  # describing data keeps the exact range
    assert (schema["x"].minimum, schema["x"].maximum) == (LOW, HIGH)


def _saved_values(folder: Path) -> tuple[str, np.ndarray]:
    state = (folder / "state.json").read_text()
    tensors = load_file(str(folder / "weights.safetensors"))
    numbers = np.concatenate([np.asarray(v, dtype=np.float64).ravel() for v in tensors.values()]
                             or [np.zeros(0)])
    return state, numbers


@pytest.mark.parametrize("name", ["tabular.copula", "tabular.gan", "tabular.vae",
                                  "tabular.transformer"])
def test_a_saved_model_holds_no_single_persons_extreme(tmp_path: Path, name: str) -> None:
    params = {} if name == "tabular.copula" else {"epochs": 1, "device": "cpu",
                                                  "progress": False}
    frame = table()
    gen = get_generator(name, random_state=0, **params).fit(frame)
    gen.save(tmp_path / "m")
    state, numbers = _saved_values(tmp_path / "m")
    for extreme in (LOW, HIGH):
        assert repr(extreme) not in state and str(extreme) not in state
        assert not np.isclose(numbers, extreme, rtol=1e-6, atol=0).any()
    cols = {c["name"]: c for c in json.loads(state)["schema"]["columns"]}
    ordered = np.sort(frame["x"].to_numpy())
    assert (cols["x"]["minimum"], cols["x"]["maximum"]) == (ordered[9], ordered[-10])
    assert cols["age"]["maximum"] == 90.0  # 40 rows share it
    assert cols["day"]["range_ns"][0] > pd.Timestamp("1900-01-02").value
    rows = gen.sample(2_000, random_state=0)
    assert rows["x"].min() > LOW and rows["x"].max() < HIGH
    # the rows stay inside the real range, so the out-of-range check sees nothing new
    assert get_validator("fidelity.out_of_range").score(frame, rows).value == 0.0


def test_exact_bounds_keep_the_exact_range_on_request(tmp_path: Path) -> None:
    gen = get_generator("tabular.copula", random_state=0, exact_bounds=True).fit(table())
    assert (gen.schema_["x"].minimum, gen.schema_["x"].maximum) == (LOW, HIGH)
    gen.save(tmp_path / "m")
    _, numbers = _saved_values(tmp_path / "m")
    assert np.isclose(numbers, HIGH).any()  # the quantile grid ends at the real maximum
    assert gen.sample(5, conditions={"x": HIGH}, random_state=0)["x"].eq(HIGH).all()


def test_a_condition_beyond_the_kept_bounds_says_how_to_keep_the_exact_ones() -> None:
    gen = get_generator("tabular.copula", random_state=0).fit(table())
    with pytest.raises(InvalidParameterError, match="exact_bounds=True"):
        gen.sample(5, conditions={"x": HIGH})


def test_exact_bounds_must_be_a_bool() -> None:
    with pytest.raises(InvalidParameterError, match="exact_bounds must be True or False"):
        get_generator("tabular.copula", exact_bounds="yes").fit(table(300))
