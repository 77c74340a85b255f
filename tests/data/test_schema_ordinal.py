"""Few-valued number columns: detected, said in the schema, saved, and snapped to on decode."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthaug.data.column_codec import snap_to_values
from synthaug.data.schema import DISCRETE_MAX_VALUES, TableSchema
from synthaug.exceptions import ModelFormatError


def _frame(n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({
        "year": rng.choice([2004, 2008, 2012, 2016, 2020], n),
        "score": rng.choice([0.5, 1.5, 2.5], n),
        "age": rng.normal(45, 12, n),
        "flag": rng.integers(0, 2, n),
        "count": rng.integers(0, 300, n),
    })


def test_few_valued_numbers_are_ordinal() -> None:
    schema = TableSchema.detect(_frame())
    assert schema["year"].discrete_values == [2004.0, 2008.0, 2012.0, 2016.0, 2020.0]
    assert schema["score"].discrete_values == [0.5, 1.5, 2.5]
    assert schema["flag"].discrete_values == [0.0, 1.0]
    assert not schema["age"].ordinal and not schema["count"].ordinal


def test_too_few_rows_per_value_is_not_ordinal() -> None:
    # 20 values in 60 rows: 3 rows a value, too few to tell from a continuous column
    values = np.repeat(np.arange(DISCRETE_MAX_VALUES, dtype=float), 3)
    assert not TableSchema.detect(pd.DataFrame({"x": values}))["x"].ordinal
    more = np.repeat(np.arange(DISCRETE_MAX_VALUES + 1, dtype=float), 10)
    assert not TableSchema.detect(pd.DataFrame({"x": more}))["x"].ordinal


def test_kept_values_follow_the_shared_bounds() -> None:
    # one row holds 99: the bounds a generator keeps leave it out, so does the value list
    values = np.r_[np.repeat([1.0, 2.0, 3.0], 400), 99.0]
    col = TableSchema.detect(pd.DataFrame({"x": values}), bound_rows=10)["x"]
    assert col.discrete_values == [1.0, 2.0, 3.0] and col.maximum == 3.0


def test_decoding_snaps_to_the_values() -> None:
    schema = TableSchema.detect(_frame())
    matrix = np.array([[2005.9, 1.1, 40.0, 0.7, 12.0], [np.nan, 3.0, 41.0, 0.2, 13.0]])
    out = schema.from_matrix(matrix, np.random.default_rng(0))
    assert out["year"].tolist()[0] == 2004 and pd.isna(out["year"].tolist()[1])
    assert out["score"].tolist() == [1.5, 2.5] and out["flag"].tolist() == [1, 0]
    assert snap_to_values(np.array([7.0]), np.array([3.0])).tolist() == [3.0]


def test_saved_schema_round_trip_and_older_schemas() -> None:
    schema = TableSchema.detect(_frame())
    saved = schema.to_dict()
    assert TableSchema.from_dict(saved) == schema
    # a column without few values saves as before the field existed
    assert "discrete_values" not in saved["columns"][2]
    # a schema saved before the field existed loads, with no value list
    old = {**saved, "columns": [{k: v for k, v in c.items() if k != "discrete_values"}
                                for c in saved["columns"]]}
    assert not any(c.ordinal for c in TableSchema.from_dict(old).columns)


@pytest.mark.parametrize("values, problem", [
    ([2008.0, 2004.0], "sorted"),
    ([], "non-empty"),
    (["a"], "finite numbers"),
    ([1990.0], "within"),
])
def test_damaged_value_lists_are_refused(values: list[object], problem: str) -> None:
    saved = TableSchema.detect(_frame()).to_dict()
    saved["columns"][0]["discrete_values"] = values
    with pytest.raises(ModelFormatError, match=problem):
        TableSchema.from_dict(saved)


def test_value_lists_belong_to_number_columns() -> None:
    saved = TableSchema.detect(pd.DataFrame({"c": ["a", "b"] * 10})).to_dict()
    saved["columns"][0]["discrete_values"] = [1.0]
    with pytest.raises(ModelFormatError, match="number columns"):
        TableSchema.from_dict(saved)
