"""SDV's synthesizers through synthaug's API (``sdv.*``).

Without SDV (the default install) the adapters are listed and fail with a clear error; with SDV
(CI's second environment, pandas < 3) they are really fitted for an epoch.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from synthaug import get_generator, list_generators
from synthaug.exceptions import InvalidParameterError, MissingDependencyError, NotSupportedError

pytestmark = pytest.mark.sdv
HAVE_SDV = importlib.util.find_spec("sdv") is not None
NAMES = ["sdv.gaussian_copula", "sdv.ctgan", "sdv.tvae"]
FAST = {"sdv.gaussian_copula": {}, "sdv.ctgan": {"epochs": 1, "batch_size": 100},
        "sdv.tvae": {"epochs": 1, "batch_size": 100}}


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    from synthaug.data import load_adult

    return load_adult().sample(600, random_state=0).reset_index(drop=True)


def test_listed_everywhere() -> None:
    assert set(NAMES) <= set(list_generators("tabular"))


@pytest.mark.skipif(HAVE_SDV, reason="SDV is installed here")
def test_missing_sdv_names_the_extra(frame: pd.DataFrame) -> None:
    with pytest.raises(MissingDependencyError, match=r"synthaug\[sdv\]"):
        get_generator("sdv.gaussian_copula").fit(frame)


def test_ctgan_batch_size_checked_before_sdv_runs(frame: pd.DataFrame) -> None:
    with pytest.raises(InvalidParameterError, match="multiple of 10"):
        get_generator("sdv.ctgan", batch_size=64).fit(frame)


@pytest.mark.skipif(not HAVE_SDV, reason="needs the sdv extra")
@pytest.mark.parametrize("name", NAMES)
def test_fit_sample_seeded_conditioned_and_never_pickled(
    name: str, frame: pd.DataFrame, tmp_path: Path
) -> None:
    gen = get_generator(name, random_state=0, device="cpu", **FAST[name]).fit(frame)
    out = gen.sample(200, random_state=1)
    assert list(out.columns) == list(frame.columns)
    assert (out.dtypes == frame.dtypes).all()
    assert out.equals(gen.sample(200, random_state=1))
    again = get_generator(name, random_state=0, device="cpu", **FAST[name]).fit(frame)
    assert out.equals(again.sample(200, random_state=1))
    women = gen.sample(40, conditions={"sex": "Female"}, random_state=0)
    assert len(women) == 40 and (women["sex"] == "Female").all()
    with pytest.raises(NotSupportedError, match="pickle"):
        gen.save(tmp_path / "model")
    assert not (tmp_path / "model").exists()


@pytest.mark.skipif(not HAVE_SDV, reason="needs the sdv extra")
def test_missing_values_come_from_the_seed_too() -> None:
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"x": np.where(rng.random(200) < 0.3, np.nan, rng.normal(size=200)),
                          "c": rng.choice(["a", "b"], 200)})
    gen = get_generator("sdv.gaussian_copula", random_state=0).fit(table)
    first, second = gen.sample(100, random_state=1), gen.sample(100, random_state=1)
    assert first["x"].isna().any()
    pd.testing.assert_frame_equal(first, second)


@pytest.mark.skipif(not HAVE_SDV, reason="needs the sdv extra")
def test_integer_class_labels_are_fitted() -> None:
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(60, 3)), np.array([0, 1, 2] * 20)
    X_new, y_new = get_generator("sdv.gaussian_copula", random_state=0).fit(X, y).sample(
        10, random_state=0)
    assert X_new.shape == (10, 3) and set(y_new) <= {0, 1, 2}
