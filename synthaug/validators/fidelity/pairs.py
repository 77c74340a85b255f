"""Column pair trends: do pairs of synthetic columns move together the way real ones do?"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np

from synthaug.data.schema import ColumnSchema
from synthaug.exceptions import InvalidParameterError
from synthaug.validators.base import BaseValidator, Score, register_validator

__all__ = ["PairTrends", "contingency_similarity", "correlation_similarity", "cramers_v"]


def correlation_similarity(
    real_x: np.ndarray, real_y: np.ndarray, syn_x: np.ndarray, syn_y: np.ndarray
) -> tuple[float, float, float]:
    """``1 - |r_real - r_synthetic| / 2`` with Pearson's r, and both r.

    Rows where either value is missing are left out (pairwise-complete).  Returns NaN for the
    score when a column is constant (r is undefined), as SDMetrics' CorrelationSimilarity does.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([1.0, 2.0, 3.0, 4.0])
    >>> correlation_similarity(x, x, x, x[::-1])
    (0.0, 1.0, -1.0)
    """
    r_real = _pearson(real_x, real_y)
    r_syn = _pearson(syn_x, syn_y)
    if np.isnan(r_real) or np.isnan(r_syn):
        return float("nan"), r_real, r_syn
    return float(1.0 - abs(r_real - r_syn) / 2.0), r_real, r_syn


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    keep = ~(np.isnan(x) | np.isnan(y))
    x, y = x[keep], y[keep]
    if len(x) < 2:
        return float("nan")
    # centre first: datetimes in nanoseconds (~1e18) would lose all precision otherwise
    dx, dy = x - x.mean(), y - y.mean()
    # and scale: squares of values near 1e154 and beyond overflow; r does not change
    sx, sy = np.abs(dx).max(), np.abs(dy).max()
    if not (np.isfinite(sx) and np.isfinite(sy)) or sx == 0.0 or sy == 0.0:
        return float("nan")
    dx, dy = dx / sx, dy / sy
    # multiply-and-sum rather than a BLAS dot: on a busy machine a threaded dot of 50k values
    # took 20 ms against 0.3 ms, and it was most of this validator's time
    sxx, syy = float((dx * dx).sum()), float((dy * dy).sum())
    if sxx == 0.0 or syy == 0.0:
        return float("nan")
    return float(np.clip((dx * dy).sum() / np.sqrt(sxx * syy), -1.0, 1.0))


def contingency_similarity(
    real_a: np.ndarray,
    real_b: np.ndarray,
    syn_a: np.ndarray,
    syn_b: np.ndarray,
    n_a: int,
    n_b: int,
) -> float:
    """``1 -`` total variation distance between the joint frequency tables of two code columns.

    Codes are integers in ``[0, n_a)`` and ``[0, n_b)`` (missing already a code of its own).  The
    joint cell of a row is ``a * n_b + b``, counted with one ``bincount``; when the table would
    be much larger than the data, the occupied cells are found with ``unique`` instead.

    Examples
    --------
    >>> import numpy as np
    >>> a, b = np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1])
    >>> contingency_similarity(a, b, a, np.array([0, 0, 1, 1]), 2, 2)
    0.5
    """
    cells = n_a * n_b
    real_cells = real_a * n_b + real_b
    syn_cells = syn_a * n_b + syn_b
    if cells > 4 * (len(real_cells) + len(syn_cells)):
        _, inverse = np.unique(np.concatenate([real_cells, syn_cells]), return_inverse=True)
        cells = int(inverse.max()) + 1
        real_cells, syn_cells = inverse[: len(real_cells)], inverse[len(real_cells):]
    p = np.bincount(real_cells, minlength=cells) / len(real_cells)
    q = np.bincount(syn_cells, minlength=cells) / len(syn_cells)
    return float(1.0 - 0.5 * np.abs(p - q).sum())


def cramers_v(a: np.ndarray, b: np.ndarray, n_a: int, n_b: int) -> float:
    """Cramér's V of two code columns (no continuity correction), NaN when undefined.

    Uses ``chi2 = n * (sum O^2 / (R C) - 1)`` over the occupied cells only, so it never builds
    the full table; levels that never occur do not count (as in a table of observed levels).

    Examples
    --------
    >>> import numpy as np
    >>> a = np.array([0, 0, 1, 1])
    >>> cramers_v(a, a, 2, 2), cramers_v(a, np.array([0, 1, 0, 1]), 2, 2)
    (1.0, 0.0)
    """
    n = len(a)
    cells, counts = np.unique(a * n_b + b, return_counts=True)
    rows = np.bincount(a, minlength=n_a)
    cols = np.bincount(b, minlength=n_b)
    k = min(int((rows > 0).sum()), int((cols > 0).sum()))
    if n == 0 or k < 2:
        return float("nan")
    expected = rows[cells // n_b].astype(np.float64) * cols[cells % n_b]
    chi2 = n * (float((counts.astype(np.float64) ** 2 / expected).sum()) - 1.0)
    return float(np.sqrt(max(chi2, 0.0) / (n * (k - 1))))


@register_validator("fidelity.pair_trends")
class PairTrends(BaseValidator):
    """Mean over column pairs of SDMetrics' correlation or contingency similarity.

    The definitions are those of the Column Pair Trends property of SDMetrics' QualityReport
    (SDMetrics 0.32; docs.sdv.dev/sdmetrics, "Quality Report > What's included",
    "CorrelationSimilarity", "ContingencySimilarity"), so the two agree to rounding on tables
    of up to 50,000 rows (see below):

    * two continuous columns (numbers, datetimes as nanoseconds): ``1 - |r_real - r_synthetic|
      / 2`` with Pearson's r over the rows where both are present (CorrelationSimilarity);
    * two discrete columns (categories, booleans): ``1 - TVD`` of the joint frequency tables,
      missing being a level of its own (ContingencySimilarity);
    * one of each: the continuous column is discretised into ``n_bins`` bins, then compared by
      contingency similarity.

    Binning (``bin_edges="own"``, the default).  As the QualityReport does, each table's column
    is cut on its *own* observed range: ``n_bins`` equal-width intervals ``[e_k, e_k+1)`` from
    ``numpy.histogram_bin_edges`` of that table's values, half-open as ``numpy.digitize`` cuts
    them, so the observed maximum gets a code of its own.  A bin therefore means "the k-th
    tenth of this table's range", and a synthetic column whose range is narrower or wider than
    the real one is compared on different intervals and pays for it (a two-epoch VAE on Adult
    that squeezed ``education_num`` from 1-16 into 7-14 scored 0.21 on the pair
    (education_num, income), against 0.59 on the real edges).  ``bin_edges="real"`` cuts both
    tables on the real edges instead, the end bins open-ended (as SDMetrics' standalone
    ContingencySimilarity does with ``continuous_column_names``): the same intervals in both
    tables, a softer score for a generator that gets the range wrong.  ``binning="quantile"``
    uses quantiles (of each table or of the real table) instead of equal widths.

    Which pairs count.  As in the QualityReport, only pairs with a real relationship count
    towards the value: continuous pairs whose real ``|r|`` exceeds ``real_correlation_threshold``
    (0.5) and contingency pairs whose real Cramér's V (no continuity correction, observed levels
    only) exceeds ``real_association_threshold`` (0.3); pairs of unrelated columns would score
    high whatever the generator does and dilute the mean.  Set both thresholds to 0 to average
    every pair.  A pair with a constant continuous column (in either table) has no correlation:
    its score is undefined (NaN) and it is left out of the mean, as in SDMetrics.  When no pair
    qualifies, every scored pair counts (SDMetrics gives NaN then).

    Known differences from SDMetrics, none of which arise on complete data of <= 50,000 rows:
    missing values of a continuous column get a bin of their own (SDMetrics' ``digitize`` puts
    them with the observed maximum); every row is used (the QualityReport scores contingency
    pairs on a random 50,000-row subsample of larger tables, so its value varies from run to
    run there).  Details list every pair with its score, the real relationship and whether it
    counted.

    Parameters
    ----------
    n_bins : int, default 10
        Bins of a continuous column paired with a discrete one.
    binning : {"uniform", "quantile"}, default "uniform"
        Equal-width bins (SDMetrics) or equal-count bins.
    bin_edges : {"own", "real"}, default "own"
        Cut each table on its own range (SDMetrics' QualityReport) or both on the real edges.
    real_correlation_threshold : float, default 0.5
        A continuous pair counts when the real ``|r|`` is above this.
    real_association_threshold : float, default 0.3
        A contingency pair counts when the real Cramér's V is above this.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"x": [1.0, 2.0, 3.0, 5.0], "y": [2.0, 1.0, 4.0, 3.0],
    ...                    "c": ["a", "b", "a", "b"]})
    >>> PairTrends().score(df, df).value
    1.0

    A synthetic ``x`` halved keeps its shape relative to its own range, so the default
    (SDMetrics' reading) sees no change; on the real intervals the (x, c) pair scores 0.25:

    >>> syn = df.assign(x=df["x"] / 2)
    >>> PairTrends(real_association_threshold=0).score(df, syn).value
    1.0
    >>> PairTrends(real_association_threshold=0, bin_edges="real").score(df, syn).value
    0.75
    """

    category = "fidelity"
    direction = "higher"

    def __init__(
        self,
        *,
        n_bins: int = 10,
        binning: Literal["uniform", "quantile"] = "uniform",
        bin_edges: Literal["own", "real"] = "own",
        real_correlation_threshold: float = 0.5,
        real_association_threshold: float = 0.3,
    ) -> None:
        self.n_bins = n_bins
        self.binning = binning
        self.bin_edges = bin_edges
        self.real_correlation_threshold = real_correlation_threshold
        self.real_association_threshold = real_association_threshold

    def score(
        self,
        real: Any,
        synthetic: Any,
        *,
        holdout: Any = None,
        context: Mapping[str, Any] | None = None,
    ) -> Score:
        if not isinstance(self.n_bins, int) or isinstance(self.n_bins, bool) or self.n_bins < 2:
            raise InvalidParameterError(f"n_bins must be an integer >= 2, got {self.n_bins!r}.")
        if self.binning not in ("uniform", "quantile"):
            raise InvalidParameterError(
                f"binning must be 'uniform' or 'quantile', got {self.binning!r}."
            )
        if self.bin_edges not in ("own", "real"):
            raise InvalidParameterError(
                f"bin_edges must be 'own' (each table binned on its own range, as SDMetrics' "
                f"QualityReport) or 'real' (both on the real edges), got {self.bin_edges!r}."
            )
        for name in ("real_correlation_threshold", "real_association_threshold"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
                raise InvalidParameterError(f"{name} must be within [0, 1], got {value!r}.")
        tables = self._prepare(real, synthetic, context=context)
        schemas = tables.column_schemas
        real_m = tables.real[:, list(tables.columns)]
        syn_m = tables.synthetic[:, list(tables.columns)]
        # integer codes per column, computed once and shared by every pair: categories keep
        # their codes, continuous columns are binned (see bin_edges); missing is the last code
        codes: list[tuple[np.ndarray, np.ndarray, int]] = [
            self._codes(col, real_m[:, j], syn_m[:, j]) for j, col in enumerate(schemas)
        ]
        pairs: list[dict[str, Any]] = []
        for i, j in itertools.combinations(range(len(schemas)), 2):
            a, b = schemas[i], schemas[j]
            entry: dict[str, Any] = {"column_1": a.name, "column_2": b.name}
            if a.kind.is_continuous and b.kind.is_continuous:
                score, r_real, r_syn = correlation_similarity(
                    real_m[:, i], real_m[:, j], syn_m[:, i], syn_m[:, j]
                )
                entry.update(metric="correlation", real=_finite_or_none(r_real),
                             synthetic=_finite_or_none(r_syn))
                threshold, strength = self.real_correlation_threshold, abs(r_real)
            else:
                (ra, sa, na), (rb, sb, nb) = codes[i], codes[j]
                score = contingency_similarity(ra, rb, sa, sb, na, nb)
                threshold = self.real_association_threshold
                strength = cramers_v(ra, rb, na, nb) if threshold > 0 else float("nan")
                entry.update(metric="contingency", real_association=_finite_or_none(strength))
            entry["score"] = _finite_or_none(score)
            # strictly above, as SDMetrics compares; NaN (undefined) never qualifies
            entry["counts"] = bool(threshold <= 0 or strength > threshold)
            pairs.append(entry)
        scored = [p for p in pairs if p["score"] is not None]
        counted = [p["score"] for p in scored if p["counts"]]
        if not counted:  # nothing related in the real data: fall back to every pair
            counted = [p["score"] for p in scored]
            for p in scored:
                p["counts"] = True
        value = float(np.mean(counted)) if counted else float("nan")
        details = {
            "pairs": pairs,
            "n_pairs": len(pairs),
            "n_scored": len(scored),
            "n_counted": len(counted),
            "binning": f"{self.binning}, {self.n_bins} bins, {self.bin_edges} edges",
        }
        return self._score(value, details=details)

    def figures(self, score: Score) -> dict[str, Any]:
        """The ``pair_trends`` figure: 1 - each pair's score, over the columns compared.

        The matrix is in the order the columns were compared; a pair without a score (a
        constant column) is None.  Reports re-order it to the columns they plot.
        """
        # imported on use: a direct score() call never loads the report package
        from synthaug.validators.report.figures import finite

        pairs = score.details.get("pairs")
        if not pairs or not all(isinstance(p, Mapping) for p in pairs):
            return {}
        names = list(dict.fromkeys(str(p.get(k)) for p in pairs for k in ("column_1", "column_2")))
        index = {name: i for i, name in enumerate(names)}
        matrix = np.full((len(names), len(names)), np.nan)
        np.fill_diagonal(matrix, 0.0)
        for p in pairs:
            value = finite(p.get("score"))
            if value is not None:
                i, j = index[str(p.get("column_1"))], index[str(p.get("column_2"))]
                matrix[i, j] = matrix[j, i] = 1.0 - value
        return {"pair_trends": {
            "columns": names,
            "matrix": [[None if np.isnan(v) else float(round(v, 6)) for v in row]
                       for row in matrix],
            "definition": "1 - the per-pair score of fidelity.pair_trends (correlation "
                          "similarity for two numeric columns, contingency similarity "
                          "otherwise); blank where the validator scored no pair",
        }}

    def _codes(
        self, col: ColumnSchema, real: np.ndarray, synthetic: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, int]:
        if col.kind.is_discrete:
            levels = len(col.categories or [])
            return _with_missing(real, levels), _with_missing(synthetic, levels), levels + 1
        real_edges = self._edges(real)
        if self.bin_edges == "real":
            # one set of intervals for both tables, the end bins open-ended so synthetic values
            # beyond the real range are counted, not dropped
            return (_cut(real, real_edges, open_ends=True),
                    _cut(synthetic, real_edges, open_ends=True), len(real_edges))
        syn_edges = self._edges(synthetic)
        # each table on its own range: bin k means "the k-th tenth of this table's range"; one
        # code beyond the last bin holds the observed maximum and one more holds missing values
        n_codes = max(len(real_edges), len(syn_edges)) + 1
        return (_cut(real, real_edges, open_ends=False, missing=n_codes - 1),
                _cut(synthetic, syn_edges, open_ends=False, missing=n_codes - 1), n_codes)

    def _edges(self, values: np.ndarray) -> np.ndarray:
        finite = values[~np.isnan(values)]
        if len(finite) == 0:
            return np.array([0.0, 1.0])
        if self.binning == "quantile":
            return np.unique(np.quantile(finite, np.linspace(0.0, 1.0, self.n_bins + 1)))
        lo, hi = float(finite.min()), float(finite.max())
        try:
            return np.histogram_bin_edges(finite, bins=self.n_bins)
        except ValueError:
            # a range too narrow for n_bins distinct float edges (a constant column, or dates
            # as nanoseconds differing in the last bits): one bin, plus the maximum's own code
            return np.array([lo, hi])


def _cut(values: np.ndarray, edges: np.ndarray, *, open_ends: bool,
         missing: int | None = None) -> np.ndarray:
    """Bin codes of ``values``; missing values get code ``missing`` (default: after the bins).

    ``open_ends``: ``len(edges) - 1`` bins, the first and last extended to -inf / +inf (the
    last closed, as in ``numpy.histogram``).  Otherwise the bins are half-open
    ``[e_k, e_k+1)`` as ``numpy.digitize`` cuts them, so values equal to the last edge (the
    observed maximum) get code ``len(edges) - 1`` of their own.  The range is the table's own,
    so nothing falls below the first edge.
    """
    if open_ends:
        out = np.searchsorted(edges[1:-1], values, side="right")
        n_codes = len(edges) - 1
    else:
        out = np.maximum(np.searchsorted(edges, values, side="right") - 1, 0)
        n_codes = len(edges)
    missing = n_codes if missing is None else missing
    return np.where(np.isnan(values), missing, out).astype(np.int64)


def _with_missing(codes: np.ndarray, levels: int) -> np.ndarray:
    return np.where(np.isnan(codes), levels, codes).astype(np.int64)


def _finite_or_none(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None
