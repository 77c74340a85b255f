"""Figure data of tables for reports: marginals real vs synthetic, the pair-trend matrix.

What the tabular modality adds to a suite report (:meth:`TabularModality.figures
<synthaug.data.tabular.modality.TabularModality.figures>`), as the figure kinds of
:mod:`synthaug.validators.report.figures`:

* ``marginals``: for each column (the target first, then the sensitive columns, at most
  :data:`MAX_PLOT_COLUMNS`), the share of real and of synthetic rows per bin (numbers, dates)
  or per level (the :data:`MAX_LEVELS` most frequent real levels, the rest as "(other)");
* ``pair_trends``: how differently each pair of those columns relates in the two tables.  When
  ``fidelity.pair_trends`` ran, its matrix (handed over in ``from_validators``) is re-ordered
  to the plotted columns, so the plot shows what the gate judged; otherwise it is computed
  here.

Identifier and all-missing columns, and columns absent from the synthetic data, are left out,
and a note says so.  Only aggregate numbers leave this module, never rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from synthaug.data.schema import ColumnKind, TableSchema, as_frame

__all__ = ["MAX_LEVELS", "MAX_PLOT_COLUMNS", "tabular_figures"]

#: marginal plots and the pair-trend heatmap cover at most this many columns (the first ones)
MAX_PLOT_COLUMNS = 24
#: categorical marginals show this many most frequent real levels, the rest as "(other)"
MAX_LEVELS = 12


def tabular_figures(
    real: Any,
    synthetic: Any,
    *,
    target: str | None = None,
    sensitive: Sequence[str] = (),
    from_validators: Mapping[str, Any] | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """Marginals and pair trends of ``real`` vs ``synthetic``, and notes on what was left out.

    Parameters
    ----------
    real, synthetic : DataFrame or 2-D ndarray
        The data the suite judged.
    target : str, optional
        The label column (shown first).
    sensitive : sequence of str
        Sensitive columns (shown right after the target).
    from_validators : mapping, optional
        What the suite's validators returned from ``figures()``, merged; its ``pair_trends``
        (``{"columns", "matrix", "definition"}``) is used instead of computing the matrix.

    Returns
    -------
    figures : dict
        ``marginals`` (one entry per column) and ``pair_trends`` (the plotted columns and a
        difference matrix; None with fewer than two columns).
    notes : list of str

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "c": ["a", "b", "a", "a"]})
    >>> figures, notes = tabular_figures(df, df)
    >>> [m["column"] for m in figures["marginals"]], figures["pair_trends"]["matrix"][0][1]
    (['x', 'c'], 0.0)
    """
    notes: list[str] = []
    real_frame, _, _ = as_frame(real, what="real")
    synth_frame, _, _ = as_frame(synthetic, what="synthetic")
    schema = TableSchema.detect(real_frame, what="real")
    usable = [c for c in schema.columns
              if c.kind not in (ColumnKind.IDENTIFIER, ColumnKind.EMPTY)
              and c.name in synth_frame.columns]
    left_out = [c.name for c in schema.columns if c not in usable]
    if left_out:
        notes.append(f"Not plotted (identifier, all-missing or absent from the synthetic data): "
                     f"{', '.join(left_out)}.")
    first = [n for n in [target, *sensitive] if n is not None]
    usable.sort(key=lambda c: (first.index(c.name) if c.name in first else len(first)))
    if len(usable) > MAX_PLOT_COLUMNS:
        notes.append(f"Plots show the first {MAX_PLOT_COLUMNS} of {len(usable)} columns.")
        usable = usable[:MAX_PLOT_COLUMNS]
    columns = [_Column.build(real_frame[c.name], synth_frame[c.name], c.kind) for c in usable]
    given = (from_validators or {}).get("pair_trends")
    figures: dict[str, Any] = {
        "marginals": [col.marginal() for col in columns],
        "pair_trends": _pair_trends(columns, given) if len(columns) >= 2 else None,
    }
    if figures["pair_trends"] is None:
        notes.append("Pair-trend heatmap skipped: it needs at least two comparable columns.")
    return figures, notes


@dataclass
class _Column:
    """One column of real and synthetic data, prepared for marginal and pair plots."""

    name: str
    kind: ColumnKind
    continuous: bool
    real_values: np.ndarray  # float; continuous columns only (NaN = missing)
    synth_values: np.ndarray
    real_codes: np.ndarray  # int codes for contingency tables (last code = missing)
    synth_codes: np.ndarray
    labels: list[str]  # code -> label

    @classmethod
    def build(cls, real: pd.Series, synth: pd.Series, kind: ColumnKind) -> _Column:
        if kind.is_continuous:
            r, s = _as_float(real, kind), _as_float(synth, kind)
            finite = r[np.isfinite(r)]
            edges = np.unique(np.quantile(finite, np.linspace(0, 1, 11))) if len(finite) else \
                np.array([0.0])
            inner = edges[1:-1]
            n_bins = len(inner) + 1

            def codes(v: np.ndarray) -> np.ndarray:
                out = np.searchsorted(inner, v, side="right")
                out[~np.isfinite(v)] = n_bins
                return out

            labels = [f"bin {i}" for i in range(n_bins)] + ["(missing)"]
            return cls(str(real.name), kind, True, r, s, codes(r), codes(s), labels)
        r_text, s_text = _as_text(real), _as_text(synth)
        freq = r_text.value_counts(dropna=True)
        top = [str(v) for v in freq.index[:MAX_LEVELS]]
        lookup = {v: i for i, v in enumerate(top)}
        other, missing = len(top), len(top) + 1

        def level_codes(t: pd.Series) -> np.ndarray:
            out = t.map(lookup).to_numpy(dtype=np.float64, na_value=np.nan)
            out = np.where(np.isnan(out), other, out).astype(np.int64)
            out[t.isna().to_numpy()] = missing
            return out

        labels = [*top, "(other)", "(missing)"]
        empty = np.empty(0)
        return cls(str(real.name), kind, False, empty, empty, level_codes(r_text),
                   level_codes(s_text), labels)

    def marginal(self) -> dict[str, Any]:
        n_r, n_s = max(len(self.real_codes), 1), max(len(self.synth_codes), 1)
        missing = {
            "real": float(np.mean(self.real_codes == len(self.labels) - 1)),
            "synthetic": float(np.mean(self.synth_codes == len(self.labels) - 1)),
        }
        if not self.continuous:
            k = len(self.labels)
            r = np.bincount(self.real_codes, minlength=k) / n_r
            s = np.bincount(self.synth_codes, minlength=k) / n_s
            keep = [i for i in range(k) if r[i] > 0 or s[i] > 0]
            return {
                "column": self.name, "kind": self.kind.value, "type": "bars",
                "labels": [self.labels[i] for i in keep],
                "real": [float(r[i]) for i in keep], "synthetic": [float(s[i]) for i in keep],
                "missing": missing,
            }
        r_fin = self.real_values[np.isfinite(self.real_values)]
        s_fin = self.synth_values[np.isfinite(self.synth_values)]
        both = np.concatenate([r_fin, s_fin])
        if len(both) == 0:
            edges = np.array([0.0, 1.0])
        else:
            lo, hi = float(both.min()), float(both.max())
            if hi - lo <= 0:
                edges = np.array([lo - 0.5, hi + 0.5])
            elif self.kind is ColumnKind.INTEGER and hi - lo <= 40:
                edges = np.arange(lo - 0.5, hi + 1.5)
            else:
                n_bins = int(np.clip(np.sqrt(max(len(r_fin), 1)), 10, 40))
                # a weighted mean of the ends, not lo + t * (hi - lo): hi - lo overflows for
                # values near the float limits, and NaN edges would break the histogram
                t = np.linspace(0.0, 1.0, n_bins + 1)
                edges = np.unique((1.0 - t) * lo + t * hi)
        r_counts = np.histogram(r_fin, bins=edges)[0] / n_r
        s_counts = np.histogram(s_fin, bins=edges)[0] / n_s
        return {
            "column": self.name, "kind": self.kind.value, "type": "histogram",
            "edges": [float(e) for e in edges],
            "real": [float(x) for x in r_counts], "synthetic": [float(x) for x in s_counts],
            "missing": missing,
        }


def _as_float(series: pd.Series, kind: ColumnKind) -> np.ndarray:
    if kind is ColumnKind.DATETIME:
        stamps = pd.to_datetime(series, errors="coerce")
        ns = stamps.to_numpy(dtype="datetime64[ns]").astype(np.int64).astype(np.float64)
        ns[stamps.isna().to_numpy()] = np.nan
        return ns
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


def _as_text(series: pd.Series) -> pd.Series:
    values = series.astype(object)
    return values.where(values.notna(), None).map(lambda v: None if v is None else str(v))



def _pair_trends(columns: Sequence[_Column], given: Any) -> dict[str, Any]:
    """1 - pair-trend similarity for each pair of the plotted columns.

    ``given`` is the matrix ``fidelity.pair_trends`` reported (over its own columns); it is
    re-ordered to ``columns``, a pair it did not score left None.  Without it the matrix is
    computed with SDMetrics' definitions: two continuous columns: ``|r_real - r_synthetic| /
    2`` (Pearson, over rows where both are present; an undefined correlation counts as 0).
    Otherwise: the total variation distance between the joint distributions (continuous
    columns binned at real deciles, missing a level).
    """
    reordered = _reordered(columns, given)
    if reordered is not None:
        return reordered
    k = len(columns)
    matrix = np.zeros((k, k))
    for i in range(k):
        for j in range(i + 1, k):
            a, b = columns[i], columns[j]
            if a.continuous and b.continuous:
                diff = abs(_corr(a.real_values, b.real_values)
                           - _corr(a.synth_values, b.synth_values)) / 2
            else:
                diff = _joint_tvd(a, b)
            matrix[i, j] = matrix[j, i] = diff
    return {
        "columns": [c.name for c in columns],
        "matrix": [[float(round(v, 6)) for v in row] for row in matrix],
        "definition": "|delta correlation| / 2 for two continuous columns, total variation "
                      "distance of the joint distribution otherwise",
    }


def _reordered(columns: Sequence[_Column], given: Any) -> dict[str, Any] | None:
    """``given``'s matrix on ``columns`` (None where it has no value), or None without one."""
    if not isinstance(given, Mapping):
        return None
    names, matrix = given.get("columns"), given.get("matrix")
    if not (isinstance(names, Sequence) and isinstance(matrix, Sequence) and names
            and len(matrix) == len(names)
            and all(isinstance(row, Sequence) and len(row) == len(names) for row in matrix)):
        return None
    index = {str(name): i for i, name in enumerate(names)}
    at = [index.get(c.name) for c in columns]
    return {
        "columns": [c.name for c in columns],
        "matrix": [[0.0 if i == j else (None if a is None or b is None else matrix[a][b])
                    for j, b in enumerate(at)] for i, a in enumerate(at)],
        "definition": str(given.get("definition", "")),
    }


def _corr(x: np.ndarray, y: np.ndarray) -> float:
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() < 2:
        return 0.0
    xs, ys = x[ok], y[ok]
    if xs.std() == 0 or ys.std() == 0:
        return 0.0
    return float(np.corrcoef(xs, ys)[0, 1])


def _joint_tvd(a: _Column, b: _Column) -> float:
    kb = len(b.labels)
    size = len(a.labels) * kb
    real = np.bincount(a.real_codes * kb + b.real_codes, minlength=size)
    synth = np.bincount(a.synth_codes * kb + b.synth_codes, minlength=size)
    return float(0.5 * np.abs(real / max(real.sum(), 1) - synth / max(synth.sum(), 1)).sum())
