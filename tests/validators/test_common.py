"""The validators' shared building blocks (``validators._common``): nearest neighbours, the
Gower-like distance encoding, exact row matches."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthaug.data.tabular.prepare import prepare_tables
from synthaug.exceptions import InvalidParameterError
from synthaug.validators._common import (
    MixedDistanceEncoder,
    exact_match,
    nearest_neighbours,
)


# -- the building blocks -----------------------------------------------------------------------
@pytest.mark.parametrize("k", [1, 2, 5, 16])
def test_nearest_neighbours_agree_with_brute_force(k: int) -> None:
    rng = np.random.default_rng(0)
    reference = rng.normal(size=(1500, 5)).astype(np.float32)
    reference[:10] = reference[10:20]  # duplicate rows
    query = rng.normal(size=(700, 5)).astype(np.float32)
    query[:20] = reference[:20]  # exact copies
    dist, idx = nearest_neighbours(query, reference, k=k, block_rows=512)
    full = np.sqrt(((query[:, None, :].astype(np.float64) - reference[None]) ** 2).sum(-1))
    np.testing.assert_allclose(dist, np.sort(full, axis=1)[:, :k], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.take_along_axis(full, idx, 1), dist, rtol=1e-5, atol=1e-6)
    assert (dist[:20, 0] == 0.0).all()


def test_nearest_neighbours_with_fewer_references_than_k() -> None:
    dist, idx = nearest_neighbours(np.zeros((3, 2), np.float32), np.ones((1, 2), np.float32), k=2)
    assert idx[:, 1].tolist() == [-1, -1, -1]
    assert np.isinf(dist[:, 1]).all()
    with pytest.raises(InvalidParameterError, match="k must be an int from 1 to 16"):
        nearest_neighbours(np.zeros((3, 2), np.float32), np.ones((1, 2), np.float32), k=17)


def test_distance_encoding_is_gower_like() -> None:
    real = pd.DataFrame({"x": np.arange(101.0), "c": ["a", "b"] * 50 + ["a"]})
    tables = prepare_tables(real, real, validator="t")
    encoder = MixedDistanceEncoder(tables.column_schemas).fit(tables.real)
    z = encoder.transform(np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0]]))
    assert np.linalg.norm(z[0] - z[1]) == pytest.approx(1.0)  # a different category: 1
    assert np.linalg.norm(z[0] - z[2]) == pytest.approx(1 / 98)  # 1 of a 98-wide robust range
    # an extreme value stays finite (float32 would overflow to inf, and distances to NaN)
    far = encoder.transform(np.array([[1e308, 0.0], [-1e308, 1.0]]))
    assert np.isfinite(far).all() and np.isfinite(np.linalg.norm(far[0] - far[1]))


def test_exact_match_treats_missing_as_equal() -> None:
    a = np.array([[1.0, np.nan], [2.0, -0.0], [3.0, 3.0]])
    b = np.array([[1.0, np.nan], [2.0, 0.0]])
    assert exact_match(a, b).tolist() == [True, True, False]
