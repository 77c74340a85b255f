"""scikit-learn face: the reversible table encoding and the generator-backed over-sampler."""

from __future__ import annotations

import functools
import json
from collections import Counter
from typing import Any

import numpy as np
import pandas as pd
import pytest
from imblearn.pipeline import Pipeline
from imblearn.utils import estimator_checks as imblearn_checks
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.utils import estimator_checks as sklearn_checks

from synthaug import get_generator
from synthaug.data.encoding import Span, TableEncoder
from synthaug.exceptions import InvalidDataError, InvalidParameterError, NotFittedError
from synthaug.sklearn import SyntheticOverSampler, TabularEncoder

# -- estimator checks --------------------------------------------------------------------------
ESTIMATORS = [
    TabularEncoder(),
    TabularEncoder(numerical="quantile", max_categories=3),
    SyntheticOverSampler(random_state=0),
]


def expected_failed_checks(estimator: Any) -> dict[str, str]:
    # Every check scikit-learn 1.9 and imbalanced-learn 0.14 yield for these estimators
    # passes, so nothing is expected to fail.  A future entry must say why it cannot pass.
    return {}


@sklearn_checks.parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks)
def test_sklearn_estimator_checks(estimator: Any, check: Any) -> None:
    check(estimator)


def _check_id(value: Any) -> str:
    if isinstance(value, functools.partial):
        return str(value.func.__name__)
    return repr(value)


# imbalanced-learn's own parametrize_with_checks hands pytest a generator, which pytest
# deprecates; the same (estimator, check) pairs from its public generator, as a list.
IMBLEARN_CHECKS = list(
    imblearn_checks.estimator_checks_generator(
        SyntheticOverSampler(random_state=0),
        expected_failed_checks=expected_failed_checks(None),
        mark="xfail",
    )
)


@pytest.mark.parametrize(("estimator", "check"), IMBLEARN_CHECKS, ids=_check_id)
def test_imblearn_sampler_checks(estimator: Any, check: Any) -> None:
    check(estimator)


# scikit-learn 1.9 defines these checks but its generator no longer yields them for
# transformers; they cover set_output and get_feature_names_out, so run them by hand.
TRANSFORMER_CHECKS = [
    "check_set_output_transform",
    "check_set_output_transform_pandas",
    "check_global_output_transform_pandas",
    "check_transformer_get_feature_names_out",
    "check_transformer_get_feature_names_out_pandas",
    "check_param_validation",
]


@pytest.mark.filterwarnings("ignore:X (has|does not have) (valid )?feature names")
@pytest.mark.parametrize("check_name", TRANSFORMER_CHECKS)
@pytest.mark.parametrize("estimator", ESTIMATORS[:2], ids=repr)
def test_transformer_checks_not_yielded(estimator: TabularEncoder, check_name: str) -> None:
    getattr(sklearn_checks, check_name)(type(estimator).__name__, clone(estimator))


@pytest.mark.parametrize("module", [sklearn_checks, imblearn_checks], ids=["sklearn", "imblearn"])
def test_sampler_param_validation(module: Any) -> None:
    # not yielded by either generator; it checks every parameter has a declared constraint
    module.check_param_validation("SyntheticOverSampler", SyntheticOverSampler(random_state=0))


# -- data --------------------------------------------------------------------------------------
def mixed_frame(n: int = 60, seed: int = 0) -> pd.DataFrame:
    """Numbers, ints with NaN, strings with NaN, bools, datetimes with NaT, categories."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "age": rng.integers(18, 80, n).astype(np.int64),
            "score": rng.normal(0, 1, n),
            "visits": pd.array(rng.integers(0, 9, n), dtype="Int64"),
            "kids": rng.integers(0, 4, n).astype(np.float64),
            "work": pd.Series(rng.choice(["Private", "State", "Self"], n), dtype="str"),
            "flag": rng.random(n) < 0.3,
            "joined": pd.Timestamp("2020-01-01")
            + pd.to_timedelta(rng.integers(0, 10**7, n), unit="s"),
            "plan": pd.Categorical(rng.choice(["basic", "pro"], n)),
        }
    )
    frame.loc[rng.random(n) < 0.15, "visits"] = pd.NA
    frame.loc[rng.random(n) < 0.15, "kids"] = np.nan
    frame.loc[rng.random(n) < 0.15, "work"] = np.nan
    frame.loc[rng.random(n) < 0.15, "joined"] = pd.NaT
    return frame


def imbalanced(n: int = 80, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    frame = mixed_frame(n, seed)
    rng = np.random.default_rng(seed + 1)
    label = np.where(rng.random(n) < 0.2, "yes", "no")
    label[:3] = "yes"  # at least a few of the minority class whatever the seed
    return frame, pd.Series(label, name="bought", dtype="str")


# -- TableEncoder ------------------------------------------------------------------------------
def test_encoder_round_trip_is_exact_with_standard_scaling() -> None:
    frame = mixed_frame()
    enc = TableEncoder().fit(frame)
    array = enc.transform(frame)
    assert array.dtype == np.float64 and array.shape == (len(frame), enc.n_features_out_)
    back = enc.inverse_transform(array, rng=0)
    pd.testing.assert_frame_equal(back, frame)  # floats to rtol 1e-5, everything else exact
    np.testing.assert_allclose(back["score"], frame["score"], rtol=0, atol=1e-12)


def test_encoder_quantile_round_trip_keeps_discrete_values() -> None:
    frame = mixed_frame()
    enc = TableEncoder(numerical="quantile").fit(frame)
    array = enc.transform(frame)
    cont = [s.start for s in enc.spans_ if s.kind == "continuous"]
    assert np.abs(array[:, cont]).max() < 6  # normal scores, extremes clipped
    back = enc.inverse_transform(array, rng=0)
    for name in ["age", "visits", "kids", "work", "flag", "joined", "plan"]:
        pd.testing.assert_series_equal(back[name], frame[name])
    np.testing.assert_allclose(back["score"], frame["score"], atol=1e-6)


def test_encoder_layout_names_and_spans() -> None:
    frame = mixed_frame()
    enc = TableEncoder().fit(frame)
    names = enc.get_feature_names_out()
    assert names == [
        "age", "score", "visits", "visits__missing", "kids", "kids__missing",
        "work=Private", "work=Self", "work=State", "work__missing",
        "flag=False", "flag=True", "joined", "joined__missing", "plan=basic", "plan=pro",
    ]  # fmt: skip
    assert enc.spans_[:4] == [
        Span("age", "continuous", 0, 1),
        Span("score", "continuous", 1, 2),
        Span("visits", "continuous", 2, 3),
        Span("visits", "missing", 3, 4),
    ]
    assert Span("work", "discrete", 6, 10) in enc.spans_
    assert enc.spans_[-1].end == len(names) == enc.n_features_out_
    array = enc.transform(frame)
    for span in enc.spans_:
        block = array[:, span.start : span.end]
        if span.kind == "discrete":
            np.testing.assert_array_equal(block.sum(axis=1), 1.0)  # exactly one hot
        elif span.kind == "missing":
            np.testing.assert_array_equal(block[:, 0], frame[span.column].isna())
    assert enc.get_feature_names_out([f"c{i}" for i in range(8)])[6] == "c4=Private"


def test_encoder_drops_identifier_columns_and_regenerates_them() -> None:
    frame = mixed_frame(40)
    frame.insert(0, "id", [f"row-{i}" for i in range(len(frame))])
    enc = TableEncoder().fit(frame)
    assert "id" not in {s.column for s in enc.spans_}
    back = enc.inverse_transform(enc.transform(frame), rng=0)
    assert back["id"].is_unique and not set(back["id"]) & set(frame["id"])
    pd.testing.assert_frame_equal(back.drop(columns="id"), frame.drop(columns="id"))


def test_encoder_max_categories_groups_rare_levels_into_other() -> None:
    levels = ["a"] * 10 + ["b"] * 6 + ["c"] * 3 + ["d"] * 2 + [None] * 2
    frame = pd.DataFrame({"x": pd.Series(levels, dtype="str")})
    enc = TableEncoder(max_categories=2).fit(frame)
    assert enc.get_feature_names_out() == ["x=a", "x__other", "x__missing"]
    back = enc.inverse_transform(enc.transform(frame), rng=0)["x"]
    # "other" decodes to the most frequent of the grouped levels (b); missing stays missing
    expected = ["a"] * 10 + ["b"] * 11 + [None] * 2
    pd.testing.assert_series_equal(back, pd.Series(expected, dtype="str", name="x"))


def test_encoder_inverse_accepts_raw_generator_output() -> None:
    frame = mixed_frame()
    enc = TableEncoder(dtype="float32").fit(frame)
    array = enc.transform(frame)
    assert array.dtype == np.float32
    noisy = array + np.random.default_rng(0).normal(0, 3, array.shape).astype(np.float32)
    back = enc.inverse_transform(noisy, rng=0)
    assert list(back.dtypes) == list(frame.dtypes)
    assert back["age"].between(18, 79).all()  # clipped to the fitted range
    assert set(back["work"].dropna()) <= {"Private", "State", "Self"}
    assert back["joined"].dropna().dt.round("s").equals(back["joined"].dropna())


def test_encoder_state_is_json_and_arrays_and_rebuilds_an_equal_encoder() -> None:
    frame = mixed_frame()
    for numerical in ("standard", "quantile"):
        enc = TableEncoder(numerical=numerical, max_categories=2).fit(frame)
        state, arrays = enc.to_state()
        state = json.loads(json.dumps(state))
        assert all(isinstance(a, np.ndarray) for a in arrays.values())
        assert max(a.size for a in arrays.values()) <= 1000  # statistics, not rows
        again = TableEncoder.from_state(state, {k: a.copy() for k, a in arrays.items()})
        np.testing.assert_array_equal(again.transform(frame), enc.transform(frame))
        assert again.spans_ == enc.spans_
        pd.testing.assert_frame_equal(
            again.inverse_transform(enc.transform(frame), rng=0),
            enc.inverse_transform(enc.transform(frame), rng=0),
        )


def test_encoder_errors_are_clear() -> None:
    frame = mixed_frame()
    with pytest.raises(NotFittedError, match="fit"):
        TableEncoder().transform(frame)
    with pytest.raises(InvalidParameterError, match="numerical"):
        TableEncoder(numerical="minmax").fit(frame)
    enc = TableEncoder().fit(frame)
    unseen = frame.copy()
    unseen.loc[0, "work"] = "Army"
    with pytest.raises(InvalidDataError, match=r"never seen.*'Army'"):
        enc.transform(unseen)
    holes = frame.copy()
    holes.loc[0, "age"] = np.nan
    with pytest.raises(InvalidDataError, match="'age' has 1 missing"):
        enc.transform(holes)
    with pytest.raises(InvalidDataError, match="shape"):
        enc.inverse_transform(np.zeros((2, 3)))


# -- TabularEncoder ----------------------------------------------------------------------------
def test_tabular_encoder_dataframe_names_inverse_and_set_output() -> None:
    frame = mixed_frame()
    enc = TabularEncoder().fit(frame)
    names = enc.get_feature_names_out()
    assert names.dtype == object and names[3] == "visits__missing" and "work=State" in names
    out = enc.transform(frame)
    assert isinstance(out, np.ndarray) and out.shape == (len(frame), len(names))
    pd.testing.assert_frame_equal(enc.inverse_transform(out), frame)

    enc_pd = TabularEncoder().set_output(transform="pandas")
    out_pd = enc_pd.fit_transform(frame)
    assert isinstance(out_pd, pd.DataFrame)
    assert list(out_pd.columns) == list(names)
    np.testing.assert_array_equal(out_pd.to_numpy(), out)
    pd.testing.assert_frame_equal(enc_pd.inverse_transform(out_pd), frame)


def test_tabular_encoder_numpy_in_numpy_out() -> None:
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.normal(size=30), rng.integers(0, 5, 30)]).astype(np.float64)
    X[::7, 0] = np.nan
    enc = TabularEncoder().fit(X)
    assert enc.get_feature_names_out().tolist() == ["x0", "x0__missing", "x1"]
    back = enc.inverse_transform(enc.transform(X))
    assert isinstance(back, np.ndarray) and back.dtype == X.dtype
    np.testing.assert_allclose(back, X, equal_nan=True)

    strings = np.array([["a", "x"], ["b", "y"], ["a", "y"]], dtype=object)
    enc = TabularEncoder().fit(strings)
    assert enc.get_feature_names_out().tolist() == ["x0=a", "x0=b", "x1=x", "x1=y"]
    back = enc.inverse_transform(enc.transform(strings))
    assert back.dtype == object
    np.testing.assert_array_equal(back, strings)


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
