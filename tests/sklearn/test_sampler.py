"""``SyntheticOverSampler``: imbalanced-learn's ``fit_resample`` backed by a generator."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import pytest
from imblearn.pipeline import Pipeline
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from synthaug import get_generator
from synthaug.exceptions import InvalidDataError
from synthaug.sklearn import SyntheticOverSampler, TabularEncoder
from tests.toydata import make_nullable_frame


def imbalanced(n: int = 80, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    frame = make_nullable_frame(n, seed)
    rng = np.random.default_rng(seed + 1)
    label = np.where(rng.random(n) < 0.2, "yes", "no")
    label[:3] = "yes"  # at least a few of the minority class whatever the seed
    return frame, pd.Series(label, name="bought", dtype="str")


# -- SyntheticOverSampler ----------------------------------------------------------------------
def test_sampler_balances_a_mixed_frame_exactly() -> None:
    X, y = imbalanced()
    X.index = X.index + 1000  # any index: the result gets a fresh one
    counts = y.value_counts()
    sampler = SyntheticOverSampler(random_state=0)
    X_res, y_res = sampler.fit_resample(X, y)
    assert isinstance(X_res, pd.DataFrame) and isinstance(y_res, pd.Series)
    assert y_res.name == "bought" and y_res.dtype == y.dtype
    assert list(X_res.columns) == list(X.columns)
    assert X_res.dtypes.equals(X.dtypes)
    assert y_res.value_counts().to_dict() == {"no": counts.max(), "yes": counts.max()}
    assert sampler.sampling_strategy_ == {"yes": counts.max() - counts.min()}
    # the original rows come first, unchanged; the new ones are valid values
    pd.testing.assert_frame_equal(X_res.iloc[: len(X)], X.reset_index(drop=True))
    new = X_res.iloc[len(X) :]
    assert set(new["work"].dropna()) <= set(X["work"].dropna())
    assert new["age"].between(X["age"].min(), X["age"].max()).all()
    assert (y_res.iloc[len(X) :] == "yes").all()
    assert sampler.target_column_ == sampler.generator_.schema_.names[-1] == "target"


def test_sampler_on_make_classification_numpy_in_numpy_out() -> None:
    X, y = make_classification(
        n_samples=300, n_features=6, n_informative=3, n_classes=3, weights=[0.6, 0.3, 0.1],
        random_state=0,
    )  # fmt: skip
    X = X.astype(np.float32)
    X_res, y_res = SyntheticOverSampler(random_state=0).fit_resample(X, y)
    assert isinstance(X_res, np.ndarray) and X_res.dtype == np.float32
    assert isinstance(y_res, np.ndarray) and y_res.dtype == y.dtype
    top = max(Counter(y).values())
    assert Counter(y_res) == {0: top, 1: top, 2: top}
    np.testing.assert_array_equal(X_res[: len(X)], X)
    # synthetic minority rows look like the minority class, not like the others
    minority = X[y == 2].mean(axis=0)
    synthetic = X_res[len(X) :][y_res[len(X) :] == 2].mean(axis=0)
    others = X[y != 2].mean(axis=0)
    assert np.linalg.norm(synthetic - minority) < np.linalg.norm(synthetic - others)


def test_sampler_respects_strategy_seed_and_generator_choice() -> None:
    X, y = imbalanced()
    X = X.rename(columns={"age": "target"})  # the class column must not clash with it
    a = SyntheticOverSampler(sampling_strategy={"yes": 40}, random_state=3)
    X_a, y_a = a.fit_resample(X, y)
    assert Counter(y_a)["yes"] == 40 and a.target_column_ == "_target"
    X_b, _ = clone(a).fit_resample(X, y)
    pd.testing.assert_frame_equal(X_a, X_b)  # same seed, same rows

    given = get_generator("tabular.copula", n_quantiles=20)
    b = SyntheticOverSampler(generator=given, generator_params={"shrinkage": 0.1})
    b.fit_resample(X, y)
    assert b.generator_ is not given and not hasattr(given, "schema_")
    assert b.generator_.get_params()["n_quantiles"] == 20
    assert b.generator_.get_params()["shrinkage"] == 0.1


def test_sampler_in_imblearn_pipeline_with_logistic_regression() -> None:
    X, y = imbalanced(120)
    model = Pipeline(
        [
            ("oversample", SyntheticOverSampler(random_state=0)),
            ("encode", TabularEncoder()),
            ("classify", LogisticRegression(max_iter=500)),
        ]
    )
    model.fit(X, y)
    pred = model.predict(X)
    assert pred.shape == (len(X),) and set(pred) <= {"yes", "no"}
    assert model.named_steps["classify"].coef_.shape[1] == len(
        model.named_steps["encode"].get_feature_names_out()
    )

    Xn, yn = make_classification(n_samples=200, weights=[0.85], random_state=1)
    numeric = Pipeline(
        [("oversample", SyntheticOverSampler(random_state=0)), ("classify", LogisticRegression())]
    )
    assert numeric.fit(Xn, yn).score(Xn, yn) > 0.7


def test_sampler_refuses_one_class() -> None:
    X, _ = imbalanced()
    with pytest.raises(InvalidDataError, match="single class"):
        SyntheticOverSampler().fit_resample(X, pd.Series(["no"] * len(X)))


def test_sampler_refuses_unknown_generator() -> None:
    X, y = imbalanced()
    with pytest.raises(KeyError, match=r"Did you mean 'tabular\.copula'"):
        SyntheticOverSampler(generator="tabular.copola").fit_resample(X, y)
