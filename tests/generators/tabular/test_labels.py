"""fit(X, y) passes labels on; conditions={"label": c} asks for a class; sample gives (X, y)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthaug import get_generator
from synthaug.exceptions import InvalidDataError, InvalidParameterError
from synthaug.generators.base import BaseGenerator


def _data(n: int = 120) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(0)
    y = pd.Series(rng.choice(["no", "yes"], n, p=[0.8, 0.2]), name="bought")
    X = pd.DataFrame({"age": rng.integers(18, 70, n),
                      "spend": rng.normal(size=n) + (y == "yes") * 3.0})
    return X, y


def test_tabular_fit_with_y_samples_x_and_y_with_exact_classes(tmp_path) -> None:
    X, y = _data()
    gen = get_generator("tabular.copula", random_state=0).fit(X, y)
    X_new, y_new = gen.sample(50, conditions={"label": "yes"}, random_state=1)
    assert list(X_new.columns) == ["age", "spend"] and X_new.dtypes.equals(X.dtypes)
    assert isinstance(y_new, pd.Series) and y_new.name == "bought"
    assert (y_new == "yes").all() and len(y_new) == 50
    # the class was learnt jointly: the rare class's rows look like it
    assert X_new["spend"].mean() > X.loc[y == "no", "spend"].mean() + 1.5
    assert gen.n_features_in_ == 2 and list(gen.feature_names_in_) == ["age", "spend"]
    _, y_all = gen.sample(400, random_state=2)
    assert 0.1 < (y_all == "yes").mean() < 0.3
    # save/load keeps the label handling
    gen.save(tmp_path / "m")
    same = BaseGenerator.load(tmp_path / "m", device="cpu")
    X_b, y_b = same.sample(50, conditions={"label": "yes"}, random_state=1)
    pd.testing.assert_frame_equal(X_b, X_new)
    pd.testing.assert_series_equal(y_b, y_new)


def test_tabular_numpy_x_and_y_come_back_as_arrays() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3)).astype(np.float32)
    y = np.array([0, 1, 2, 1] * 20)
    X_new, y_new = get_generator("tabular.copula", random_state=0).fit(X, y).sample(
        9, conditions={"label": 2}, random_state=0)
    assert isinstance(X_new, np.ndarray) and X_new.dtype == np.float32 and X_new.shape == (9, 3)
    assert isinstance(y_new, np.ndarray) and y_new.dtype == y.dtype and (y_new == 2).all()


def test_tabular_labels_are_checked() -> None:
    X, y = _data()
    gen = get_generator("tabular.copula", random_state=0)
    with pytest.raises(InvalidDataError, match="one label per row"):
        gen.fit(X, y[:-1])
    with pytest.raises(InvalidDataError, match="missing labels"):
        gen.fit(X, y.where(y == "no"))
    gen.fit(X, y)
    with pytest.raises(InvalidParameterError, match="never seen"):
        gen.sample(3, conditions={"label": "maybe"})


def test_sample_batches_checks_arguments_before_the_first_batch() -> None:
    X, _ = _data()
    gen = get_generator("tabular.copula", random_state=0).fit(X)
    with pytest.raises(InvalidParameterError, match="not in the fitted data"):
        gen.sample_batches(10, conditions={"nope": 1})
    with pytest.raises(InvalidParameterError, match="batch_size"):
        gen.sample_batches(10, batch_size=0)
    # the default batches hold the records sample() gives with the same seed
    joined = pd.concat(list(gen.sample_batches(30, random_state=5)), ignore_index=True)
    pd.testing.assert_frame_equal(joined, gen.sample(30, random_state=5))


def test_cpu_only_generators_record_the_cpu() -> None:
    X, _ = _data()
    assert str(get_generator("tabular.copula", device="auto").fit(X).device_) == "cpu"


@pytest.mark.parametrize(("labels", "n"), [
    pytest.param(pd.Series(["no", "yes"] * 40, name="t", dtype="str"), 10, id="str"),
    pytest.param(pd.Series([True, False] * 40, name="t"), 10, id="bool"),
    pytest.param(pd.Series([0, 1] * 40, name="t"), 0, id="int64-empty"),
    pytest.param(pd.Series(["no", "yes"] * 40, name="t", dtype="str"), 0, id="str-empty"),
    pytest.param(pd.Series(pd.Categorical(["no", "yes"] * 40), name="t"), 10, id="category"),
    pytest.param(pd.Series(pd.array([1, 2] * 40, dtype="Int64"), name="t"), 10, id="Int64"),
])
def test_sampled_labels_keep_the_training_labels_dtype(labels: pd.Series, n: int) -> None:
    X = pd.DataFrame({"x": np.random.default_rng(0).normal(size=len(labels))})
    _, y_new = get_generator("tabular.copula", random_state=0).fit(X, labels).sample(
        n, random_state=0)
    assert isinstance(y_new, pd.Series) and y_new.name == "t" and len(y_new) == n
    assert y_new.dtype == labels.dtype
