"""Contract tests generated from the registry: every tabular generator must pass all of them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from synthaug import get_generator, list_generators
from synthaug.exceptions import InvalidParameterError, NotFittedError
from synthaug.generators.base import BaseGenerator
from tests.generators.helpers import FAST_PARAMS, fitted

# synthaug's own generators; the sdv.* adapters wrap another library, cannot save (SDV needs
# pickle) and have their own tests in test_sdv_adapters.py
TABULAR = [n for n in list_generators("tabular") if n.startswith("tabular.")]


@pytest.fixture(params=TABULAR)
def name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_reachable_by_name_and_declares_capabilities(name: str) -> None:
    gen = get_generator(name)
    assert isinstance(gen, BaseGenerator)
    assert gen.name == name
    assert gen.modality == "tabular"
    assert name == f"{gen.modality}.{gen.family}"


def test_init_stores_params_only(name: str) -> None:
    gen = get_generator(name, random_state=3)
    assert gen.get_params()["random_state"] == 3
    assert not [k for k in vars(gen) if k.endswith("_")], "no fitted state before fit"


def test_fit_returns_self_and_sample_keeps_schema(name: str, mixed_frame: pd.DataFrame) -> None:
    gen = get_generator(name, **{**FAST_PARAMS.get(name, {}), "random_state": 0})
    assert gen.fit(mixed_frame) is gen
    out = gen.sample(50, random_state=1)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == list(mixed_frame.columns)
    assert out.dtypes.to_dict() == mixed_frame.dtypes.to_dict()
    assert len(out) == 50
    assert set(out["work"].dropna()) <= set(mixed_frame["work"].dropna())
    assert out["age"].between(mixed_frame["age"].min(), mixed_frame["age"].max()).all()
    assert out["joined"].between(mixed_frame["joined"].min(), mixed_frame["joined"].max()).all()
    assert (out["gain"] == out["gain"].round()).all()
    assert gen.sample(0).shape == (0, mixed_frame.shape[1])


def test_same_seed_same_samples(name: str, mixed_frame: pd.DataFrame) -> None:
    a = fitted(name, mixed_frame, seed=5).sample(40, random_state=7)
    b = fitted(name, mixed_frame, seed=5).sample(40, random_state=7)
    pd.testing.assert_frame_equal(a, b)
    c = fitted(name, mixed_frame, seed=5).sample(40, random_state=8)
    assert not a.equals(c)


def test_save_load_round_trip(name: str, mixed_frame: pd.DataFrame, tmp_path: Path) -> None:
    gen = fitted(name, mixed_frame)
    gen.save(tmp_path / "model")
    loaded = type(gen).load(tmp_path / "model", device="cpu")
    pd.testing.assert_frame_equal(gen.sample(30, random_state=2), loaded.sample(30, random_state=2))
    assert loaded.get_params() == gen.get_params()
    via_base = BaseGenerator.load(tmp_path / "model", device="cpu")
    assert type(via_base) is type(gen)


def test_category_levels_of_time_types_survive_save(name: str, tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    days = pd.to_datetime(["2020-01-01", "2021-06-30 12:00:01.000000001"], format="ISO8601")
    days = days.tz_localize("UTC")
    frame = pd.DataFrame({
        "when": pd.Categorical(rng.choice(days, 120)),
        "month": pd.Categorical(rng.choice(pd.period_range("2020-01", periods=3, freq="M"), 120)),
        "wait": pd.Categorical(rng.choice(pd.to_timedelta([1, 2, 3], unit="h"), 120)),
        "x": rng.normal(size=120),
    })
    gen = fitted(name, frame)
    loaded = type(gen).load(gen.save(tmp_path / "model"), device="cpu")
    out = loaded.sample(40, conditions={"when": days[1]}, random_state=1)
    assert out.dtypes.to_dict() == frame.dtypes.to_dict()
    assert (out["when"] == days[1]).all()
    assert set(out["month"]) <= set(frame["month"]) and set(out["wait"]) <= set(frame["wait"])
    pd.testing.assert_frame_equal(gen.sample(30, random_state=2), loaded.sample(30, random_state=2))


def test_saved_model_holds_no_training_rows(
    name: str, mixed_frame: pd.DataFrame, tmp_path: Path
) -> None:
    frame = mixed_frame.copy()
    frame["hours"] = frame["hours"] + 0.123456789  # values unlikely to appear by chance
    fitted(name, frame).save(tmp_path / "model")
    blob = b"".join(p.read_bytes() for p in (tmp_path / "model").iterdir())
    text = "".join(p.read_text(errors="ignore") for p in (tmp_path / "model").iterdir())
    rows_found = sum(f"{v:.9f}" in text or f"{v!r}" in text for v in frame["hours"].iloc[5:25])
    assert rows_found <= 2, "saved files contain training values verbatim"
    assert b"pickle" not in blob.lower() and b"\x80\x04\x95" not in blob  # no pickle stream


def test_exact_conditions(name: str, mixed_frame: pd.DataFrame) -> None:
    gen = fitted(name, mixed_frame)
    if "exact_conditions" not in gen.tags:
        pytest.skip(f"{name} does not declare exact conditions")
    out = gen.sample(200, conditions={"income": ">50K", "work": "State"}, random_state=0)
    assert len(out) == 200
    assert (out["income"] == ">50K").all() and (out["work"] == "State").all()
    with pytest.raises(InvalidParameterError, match="never seen"):
        gen.sample(5, conditions={"work": "Astronaut"})
    with pytest.raises(Exception, match="not in the fitted data"):
        gen.sample(5, conditions={"nope": 1})


def test_numpy_in_numpy_out(name: str) -> None:
    X = np.random.default_rng(0).normal(size=(80, 3))
    gen = get_generator(name, **{**FAST_PARAMS.get(name, {}), "random_state": 0}).fit(X)
    out = gen.sample(10, random_state=0)
    assert isinstance(out, np.ndarray) and out.shape == (10, 3) and out.dtype == X.dtype


def test_not_fitted_error(name: str, tmp_path: Path) -> None:
    gen = get_generator(name)
    with pytest.raises(NotFittedError, match="fit"):
        gen.sample(3)
    with pytest.raises(NotFittedError):
        gen.save(tmp_path / "m")
    assert not (tmp_path / "m").exists()


def test_streaming_batches_bound_memory(name: str, mixed_frame: pd.DataFrame) -> None:
    gen = fitted(name, mixed_frame)
    sizes = [len(b) for b in gen.sample_batches(1000, batch_size=300, random_state=0)]
    assert sizes == [300, 300, 300, 100]
