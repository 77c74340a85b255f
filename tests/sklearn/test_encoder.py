"""``TabularEncoder``: the reversible table encoding as a scikit-learn transformer."""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthaug.sklearn import TabularEncoder
from tests.toydata import make_nullable_frame


# -- TabularEncoder ----------------------------------------------------------------------------
def test_tabular_encoder_dataframe_names_inverse_and_set_output() -> None:
    frame = make_nullable_frame()
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
