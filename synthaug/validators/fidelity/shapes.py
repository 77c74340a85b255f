"""Column shapes: how closely each synthetic column's distribution follows the real one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np

from synthaug.exceptions import InvalidParameterError
from synthaug.validators.base import BaseValidator, Score, register_validator

__all__ = ["ColumnShapes", "ks_complement", "tv_complement"]


def ks_complement(real: np.ndarray, synthetic: np.ndarray) -> float:
    """1 - two-sample Kolmogorov-Smirnov statistic of the observed (non-NaN) values.

    1.0 means identical empirical distributions.  Same definition as SDMetrics' KSComplement
    (which also leaves missing values out).  When a side has no observed value: 1.0 if
    neither has, else 0.0.

    Examples
    --------
    >>> import numpy as np
    >>> ks_complement(np.array([1.0, 2.0, 3.0, 4.0]), np.array([3.0, 4.0, 5.0, 6.0]))
    0.5
    """
    a = np.sort(real[~np.isnan(real)])
    b = np.sort(synthetic[~np.isnan(synthetic)])
    if len(a) == 0 or len(b) == 0:
        return float(len(a) == len(b))
    grid = np.concatenate([a, b])
    cdf_a = np.searchsorted(a, grid, side="right") / len(a)
    cdf_b = np.searchsorted(b, grid, side="right") / len(b)
    return float(1.0 - np.max(np.abs(cdf_a - cdf_b)))


def tv_complement(
    real: np.ndarray, synthetic: np.ndarray, n_levels: int, *, missing_as_level: bool = True
) -> float:
    """1 - total variation distance between the level frequencies of two code columns.

    Codes are integers in ``[0, n_levels)``, NaN for missing.  With ``missing_as_level`` (the
    default) missing is one more level, so a wrong missing rate costs; without it the
    frequencies are over the observed values only, as SDMetrics' TVComplement computes them.
    When a side has nothing to count: 1.0 if neither has, else 0.0.

    Examples
    --------
    >>> import numpy as np
    >>> real, syn = np.array([0.0, 0.0, 1.0, np.nan]), np.array([0.0, 1.0, 1.0, 1.0])
    >>> tv_complement(real, syn, 2), round(tv_complement(real, syn, 2, missing_as_level=False), 4)
    (0.5, 0.5833)
    """
    def freq(codes: np.ndarray) -> np.ndarray | None:
        if not missing_as_level:
            codes = codes[~np.isnan(codes)]
        if len(codes) == 0:
            return None
        idx = np.where(np.isnan(codes), n_levels, codes).astype(np.int64)
        return np.bincount(idx, minlength=n_levels + 1) / len(codes)

    p, q = freq(real), freq(synthetic)
    if p is None or q is None:
        return float(p is None and q is None)
    return float(1.0 - 0.5 * np.abs(p - q).sum())


@register_validator("fidelity.column_shapes")
class ColumnShapes(BaseValidator):
    """Mean over columns of the KS complement (continuous) or TV complement (discrete).

    The Column Shapes property of SDMetrics' QualityReport (docs.sdv.dev/sdmetrics, "Quality
    Report > What's included", "KSComplement", "TVComplement"): numbers and datetimes are
    scored by ``1 -`` the Kolmogorov-Smirnov statistic of their observed values, categories and
    booleans by ``1 -`` the total variation distance of their level frequencies, and the value
    is the mean over columns.  Identifier and all-missing columns are skipped.

    One deliberate difference: by default a missing value is a level of a discrete column, so a
    generator that gets the missing rate wrong loses points there; SDMetrics' TVComplement drops
    missing values first.  The two differ by about the change in missing rate of each such
    column divided by the number of columns (0.001-0.002 on Adult, whose three columns with
    missing values are discrete); ``missing="ignore"`` reproduces SDMetrics exactly.  Details
    hold the per-column scores and the count of synthetic values of levels the real data lacks.

    Parameters
    ----------
    missing : {"level", "ignore"}, default "level"
        Count missing values of a discrete column as a level of their own, or leave them out
        (SDMetrics).  Continuous columns always leave them out, as the KS statistic needs values.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"x": [1.0, 2.0, 3.0], "c": ["a", "b", "a"]})
    >>> ColumnShapes().score(df, df).value
    1.0
    """

    category = "fidelity"
    direction = "higher"

    def __init__(self, *, missing: Literal["level", "ignore"] = "level") -> None:
        self.missing = missing

    def score(
        self,
        real: Any,
        synthetic: Any,
        *,
        holdout: Any = None,
        context: Mapping[str, Any] | None = None,
    ) -> Score:
        if self.missing not in ("level", "ignore"):
            raise InvalidParameterError(
                f"missing must be 'level' (missing values count as a level of a discrete "
                f"column) or 'ignore' (left out, as SDMetrics), got {self.missing!r}."
            )
        tables = self._prepare(real, synthetic, context=context)
        per_column: dict[str, float] = {}
        for j, col in zip(tables.columns, tables.column_schemas, strict=True):
            if col.kind.is_discrete:
                per_column[col.name] = tv_complement(
                    tables.real[:, j], tables.synthetic[:, j], len(col.categories or []),
                    missing_as_level=self.missing == "level",
                )
            else:
                per_column[col.name] = ks_complement(tables.real[:, j], tables.synthetic[:, j])
        value = float(np.mean(list(per_column.values()))) if per_column else float("nan")
        return self._score(
            value, details={"columns": per_column, "unseen_levels": dict(tables.unseen_levels)}
        )
