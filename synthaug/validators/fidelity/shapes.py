"""Column shapes: how closely each synthetic column's distribution follows the real one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from synthaug.validators._common import prepare_tables
from synthaug.validators.base import BaseValidator, Score, register_validator

__all__ = ["ColumnShapes", "ks_complement", "tv_complement"]


def ks_complement(real: np.ndarray, synthetic: np.ndarray) -> float:
    """1 - two-sample Kolmogorov-Smirnov statistic of the observed (non-NaN) values.

    1.0 means identical empirical distributions.  Same definition as SDMetrics' KSComplement.
    """
    a = np.sort(real[~np.isnan(real)])
    b = np.sort(synthetic[~np.isnan(synthetic)])
    if len(a) == 0 or len(b) == 0:
        return float(len(a) == len(b))
    grid = np.concatenate([a, b])
    cdf_a = np.searchsorted(a, grid, side="right") / len(a)
    cdf_b = np.searchsorted(b, grid, side="right") / len(b)
    return float(1.0 - np.max(np.abs(cdf_a - cdf_b)))


def tv_complement(real: np.ndarray, synthetic: np.ndarray, n_levels: int) -> float:
    """1 - total variation distance between level frequencies (missing is a level).

    Same definition as SDMetrics' TVComplement.
    """
    def freq(codes: np.ndarray) -> np.ndarray:
        idx = np.where(np.isnan(codes), n_levels, codes).astype(np.int64)
        return np.bincount(idx, minlength=n_levels + 1) / max(len(codes), 1)

    return float(1.0 - 0.5 * np.abs(freq(real) - freq(synthetic)).sum())


@register_validator("fidelity.column_shapes")
class ColumnShapes(BaseValidator):
    """Mean over columns of the KS complement (continuous) or TV complement (discrete).

    Identifier and all-missing columns are skipped.  Details hold the per-column scores.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"x": [1.0, 2.0, 3.0], "c": ["a", "b", "a"]})
    >>> ColumnShapes().score(df, df).value
    1.0
    """

    category = "fidelity"
    direction = "higher"

    def score(
        self,
        real: Any,
        synthetic: Any,
        *,
        holdout: Any = None,
        context: Mapping[str, Any] | None = None,
    ) -> Score:
        tables = prepare_tables(real, synthetic, validator=self.name)
        per_column: dict[str, float] = {}
        for j, col in zip(tables.columns, tables.column_schemas, strict=True):
            if col.kind.is_discrete:
                per_column[col.name] = tv_complement(
                    tables.real[:, j], tables.synthetic[:, j], len(col.categories or [])
                )
            else:
                per_column[col.name] = ks_complement(tables.real[:, j], tables.synthetic[:, j])
        value = float(np.mean(list(per_column.values()))) if per_column else float("nan")
        return self._score(
            value, details={"columns": per_column, "unseen_levels": dict(tables.unseen_levels)}
        )
