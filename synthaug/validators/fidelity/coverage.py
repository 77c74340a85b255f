"""Category coverage and out-of-range rates: does the synthetic data span the real data, and
does it stay inside it?

Both look at each column on its own, in the shared encoding of
:meth:`~synthaug.validators.base.BaseValidator._prepare` (category codes, datetimes as nanoseconds,
NaN for missing).  Levels and ranges are those *observed* in the real data: a level a pandas
``category`` dtype declares but no real row holds is not a real level.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from synthaug.data.schema import ColumnKind, ColumnSchema
from synthaug.exceptions import InvalidParameterError
from synthaug.utils.validation import check_int
from synthaug.validators.base import BaseValidator, Score, register_validator

__all__ = ["CategoryCoverage", "OutOfRange"]

#: the level standing for "missing" in the level lists of the details (JSON null)
_MISSING = None


def _level_name(col: ColumnSchema, code: int) -> Any:
    """The JSON-friendly value of a category code (-1: missing)."""
    if code < 0:
        return _MISSING
    value = (col.categories or [])[code]
    if isinstance(value, np.generic):
        value = value.item()
    return value if isinstance(value, (str, int, float, bool)) else str(value)


def _codes(values: np.ndarray) -> np.ndarray:
    """Category codes as int64, missing as -1."""
    return np.where(np.isnan(values), -1, values).astype(np.int64)


@register_validator("fidelity.category_coverage")
class CategoryCoverage(BaseValidator):
    """Share of the real data's categories that appear in the synthetic data.

    For each categorical or boolean column, the levels observed in the real data (missing
    counting as a level when the real column has missing values) are checked against the
    synthetic column: coverage is the share of real levels the synthetic column holds at least
    once.  The value is the mean coverage over those columns, 1.0 when no real level is lost;
    NaN when the data has no categorical column.  A generator that drops rare classes (mode
    collapse) scores below 1.

    Details also hold a frequency-weighted coverage per column (the share of real *rows* whose
    level the synthetic data holds, which forgives losing very rare levels) and the lost levels,
    most frequent first.

    Parameters
    ----------
    max_listed : int, default 20
        Lost levels listed per column in the details.

    Notes
    -----
    Details: ``columns`` (column -> coverage), ``weighted`` (column -> weighted coverage),
    ``weighted_mean``, ``levels`` (column -> ``{"real": n, "covered": m}``), ``missing_levels``
    (column -> lost levels, most frequent first, at most ``max_listed``; ``None`` stands for
    "missing"), ``n_missing_levels`` (column -> how many were lost).

    Examples
    --------
    >>> import pandas as pd
    >>> real = pd.DataFrame({"c": ["a", "b", "c", "a"], "x": [1.0, 2.0, 3.0, 4.0]})
    >>> synthetic = pd.DataFrame({"c": ["a", "a", "b", "b"], "x": [1.0, 2.0, 3.0, 4.0]})
    >>> score = CategoryCoverage().score(real, synthetic)
    >>> round(score.value, 4), score.details["missing_levels"]
    (0.6667, {'c': ['c']})
    """

    category = "fidelity"
    direction = "higher"

    def __init__(self, *, max_listed: int = 20) -> None:
        self.max_listed = max_listed

    def score(
        self,
        real: Any,
        synthetic: Any,
        *,
        holdout: Any = None,
        context: Mapping[str, Any] | None = None,
    ) -> Score:
        check_int(self.max_listed, "max_listed", 0)
        tables = self._prepare(real, synthetic, context=context)
        coverage: dict[str, float] = {}
        weighted: dict[str, float] = {}
        levels: dict[str, dict[str, int]] = {}
        lost: dict[str, list[Any]] = {}
        n_lost: dict[str, int] = {}
        for j, col in zip(tables.columns, tables.column_schemas, strict=True):
            if not col.kind.is_discrete:
                continue
            real_codes = _codes(tables.real[:, j])
            synth_codes = _codes(tables.synthetic[:, j])
            found, counts = np.unique(real_codes, return_counts=True)
            held = np.isin(found, np.unique(synth_codes))
            coverage[col.name] = float(held.mean())
            weighted[col.name] = float(counts[held].sum() / counts.sum())
            levels[col.name] = {"real": len(found), "covered": int(held.sum())}
            order = np.argsort(-counts[~held], kind="stable")
            missing_codes = found[~held][order]
            n_lost[col.name] = len(missing_codes)
            lost[col.name] = [_level_name(col, int(c)) for c in missing_codes[: self.max_listed]]
        value = float(np.mean(list(coverage.values()))) if coverage else math.nan
        details: dict[str, Any] = {
            "columns": coverage,
            "weighted": weighted,
            "weighted_mean": float(np.mean(list(weighted.values()))) if weighted else None,
            "levels": levels,
            "missing_levels": {k: v for k, v in lost.items() if v},
            "n_missing_levels": n_lost,
        }
        if not coverage:
            details["note"] = "no categorical or boolean column to compare"
        return self._score(value, details=details)


@register_validator("fidelity.out_of_range")
class OutOfRange(BaseValidator):
    """Share of synthetic rows with a value outside what the real data holds.

    A synthetic value is out of range when it lies below the real minimum or above the real
    maximum (numbers, dates), when it is a level no real row holds (categories, booleans), or,
    with ``count_missing``, when it is missing in a column where no real value is.  The value
    is the share of synthetic rows with at least one out-of-range value: 0.0 (ideal) when every
    synthetic value lies inside the real data's observed ranges and levels.

    A generator can rightly produce a value a little beyond an observed extreme (the true range
    is wider than a sample's), so a small rate is expected from a good generator of continuous
    data; a large rate, or unseen categories, point to broken decoding or an unconstrained
    output.  Identifier and all-missing columns are skipped.

    Parameters
    ----------
    count_missing : bool, default True
        Count a missing synthetic value as out of range when the real column has none.
    max_listed : int, default 10
        Unseen levels listed per column in the details.

    Notes
    -----
    Details: ``columns`` (column -> share of synthetic rows out of range in that column),
    ``counts`` (column -> ``{"below", "above", "unseen_level", "unexpected_missing"}``),
    ``real_range`` (numeric and date columns -> ``[min, max]``, dates as ISO text),
    ``unseen_levels`` (column -> levels, at most ``max_listed``), ``n_rows_out``,
    ``value_share`` (share of all synthetic cells that are out of range).

    Examples
    --------
    >>> import pandas as pd
    >>> real = pd.DataFrame({"x": [0.0, 5.0, 10.0], "c": ["a", "b", "a"]})
    >>> synthetic = pd.DataFrame({"x": [1.0, 12.0, 3.0, -1.0], "c": ["a", "b", "z", "a"]})
    >>> score = OutOfRange().score(real, synthetic)
    >>> score.value, score.details["columns"]
    (0.75, {'x': 0.5, 'c': 0.25})
    """

    category = "fidelity"
    direction = "lower"

    def __init__(self, *, count_missing: bool = True, max_listed: int = 10) -> None:
        self.count_missing = count_missing
        self.max_listed = max_listed

    def score(
        self,
        real: Any,
        synthetic: Any,
        *,
        holdout: Any = None,
        context: Mapping[str, Any] | None = None,
    ) -> Score:
        if not isinstance(self.count_missing, bool):
            raise InvalidParameterError(
                f"count_missing must be True or False, got {self.count_missing!r}."
            )
        check_int(self.max_listed, "max_listed", 0)
        tables = self._prepare(real, synthetic, context=context)
        n_rows = len(tables.synthetic)
        any_out = np.zeros(n_rows, dtype=bool)
        n_cells_out = 0
        rates: dict[str, float] = {}
        counts: dict[str, dict[str, int]] = {}
        ranges: dict[str, list[Any]] = {}
        unseen: dict[str, list[Any]] = {}
        for j, col in zip(tables.columns, tables.column_schemas, strict=True):
            real_values, synth_values = tables.real[:, j], tables.synthetic[:, j]
            synth_missing = np.isnan(synth_values)
            count = {"below": 0, "above": 0, "unseen_level": 0, "unexpected_missing": 0}
            out = np.zeros(n_rows, dtype=bool)
            if col.kind.is_discrete:
                real_levels = np.unique(real_values[~np.isnan(real_values)])
                new = ~synth_missing & ~np.isin(synth_values, real_levels)
                count["unseen_level"] = int(new.sum())
                out |= new
                if new.any():
                    codes, freq = np.unique(synth_values[new].astype(np.int64),
                                            return_counts=True)
                    top = codes[np.argsort(-freq, kind="stable")][: self.max_listed]
                    unseen[col.name] = [_level_name(col, int(c)) for c in top]
            else:
                lo, hi = float(np.nanmin(real_values)), float(np.nanmax(real_values))
                # NaN compares False both ways, so missing values are neither below nor above
                below, above = synth_values < lo, synth_values > hi
                count["below"], count["above"] = int(below.sum()), int(above.sum())
                out |= below | above
                ranges[col.name] = [_range_end(lo, col), _range_end(hi, col)]
            if self.count_missing and not np.isnan(real_values).any():
                count["unexpected_missing"] = int(synth_missing.sum())
                out |= synth_missing
            rates[col.name] = float(out.mean())
            counts[col.name] = count
            any_out |= out
            n_cells_out += int(out.sum())
        n_cells = n_rows * len(tables.columns)
        details: dict[str, Any] = {
            "columns": rates,
            "counts": counts,
            "real_range": ranges,
            "unseen_levels": unseen,
            "n_rows_out": int(any_out.sum()),
            "value_share": n_cells_out / n_cells,
        }
        return self._score(float(any_out.mean()), details=details)


def _range_end(value: float, col: ColumnSchema) -> Any:
    """A real minimum or maximum for the details: dates as ISO text, whole numbers as int."""
    if col.kind is ColumnKind.DATETIME:
        # float64 rounds the latest representable nanosecond up past int64: clamp it back
        ns = min(max(int(value), -(2**63) + 1), 2**63 - 1)
        return pd.Timestamp(ns).isoformat()
    if col.kind is ColumnKind.INTEGER and abs(value) < 2**53:
        return int(value)
    return value
