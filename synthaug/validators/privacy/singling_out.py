"""Singling out: do predicates that isolate one synthetic row also isolate one training row?

The definition is anonymeter's ``SinglingOutEvaluator`` (Giomi et al., "A Unified Framework for
Quantifying Privacy Risk in Synthetic Data", PoPETs 2023, after Cohen and Nissim, "Towards
formalizing the GDPR's notion of singling out", PNAS 2020), implemented afresh as vectorised
predicates over synthaug's encoded matrices.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np

from synthaug.data.schema import ColumnSchema
from synthaug.exceptions import InvalidDataError, InvalidParameterError
from synthaug.utils.validation import check_fraction, check_positive_int
from synthaug.validators._common import row_keys
from synthaug.validators.base import BaseValidator, Score, register_validator
from synthaug.validators.privacy._attack import (
    check_holdout_overlap,
    relative_risk,
)

__all__ = ["SinglingOut"]

# predicate operators, as small integer codes so a batch of predicates is three arrays
ISNA, EQ, LE, GE, NE, LT, GT, NOTNA = range(8)
#: predicates generated and checked per batch
_BATCH = 1000
#: rows per block when counting matches (bounds the (rows x predicates) boolean block)
_ROW_BLOCK = 2048


def _dedupe(matrix: np.ndarray) -> np.ndarray:
    """Distinct rows, first occurrence kept, in order (anonymeter counts distinct records)."""
    _, first = np.unique(row_keys(matrix), return_index=True)
    return matrix[np.sort(first)]


def count_matches(matrix: np.ndarray, cols: np.ndarray, ops: np.ndarray,
                  values: np.ndarray, *, cap: int | None = None) -> np.ndarray:
    """How many rows of ``matrix`` satisfy each predicate (a conjunction of conditions).

    ``cols``, ``ops`` and ``values`` have shape (n_predicates, n_conditions): condition ``j`` of
    predicate ``i`` is ``matrix[:, cols[i, j]] <ops[i, j]> values[i, j]``.  A missing value
    satisfies ``ISNA`` and no other condition (comparisons with a missing value are false, as in
    SQL).  With ``cap``, a predicate stops being counted once it matched more than ``cap``
    rows (its count is then some number above ``cap``): every attack here only asks "exactly
    one?", and most candidate predicates match many rows within the first block.

    Examples
    --------
    >>> import numpy as np
    >>> m = np.array([[1.0, 0.0], [2.0, 1.0], [3.0, np.nan]])
    >>> count_matches(m, np.array([[0, 1], [1, 1]]), np.array([[GE, EQ], [ISNA, ISNA]]),
    ...               np.array([[2.0, 1.0], [0.0, 0.0]])).tolist()
    [1, 1]
    """
    counts = np.zeros(cols.shape[0], dtype=np.int64)
    active = np.arange(cols.shape[0])
    for r0 in range(0, matrix.shape[0], _ROW_BLOCK):
        if len(active) == 0:
            break
        ok = _block_hits(matrix[r0:r0 + _ROW_BLOCK], cols[active], ops[active], values[active])
        counts[active] += ok.sum(axis=0)
        if cap is not None:
            active = active[counts[active] <= cap]
    return counts


def match_pairs(matrix: np.ndarray, cols: np.ndarray, ops: np.ndarray,
                values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every (predicate, row) pair where the row of ``matrix`` satisfies the predicate.

    Counting the matches in many subsets of the rows is then a ``bincount`` over the pairs
    whose row is in the subset, with no predicate evaluated twice.
    """
    preds: list[np.ndarray] = []
    rows: list[np.ndarray] = []
    for r0 in range(0, matrix.shape[0], _ROW_BLOCK):
        row, pred = np.nonzero(_block_hits(matrix[r0:r0 + _ROW_BLOCK], cols, ops, values))
        preds.append(pred)
        rows.append(row + r0)
    return np.concatenate(preds), np.concatenate(rows)


def _block_hits(block: np.ndarray, cols: np.ndarray, ops: np.ndarray,
                values: np.ndarray) -> np.ndarray:
    """Boolean (rows x predicates): which rows of ``block`` satisfy which predicate."""
    ok = np.ones((block.shape[0], cols.shape[0]), dtype=bool)
    for j in range(cols.shape[1]):
        x = block[:, cols[:, j]]
        hit = np.empty_like(ok)
        for op in np.unique(ops[:, j]):
            sel = np.flatnonzero(ops[:, j] == op)
            hit[:, sel] = _apply(int(op), x[:, sel], values[sel, j])
        ok &= hit
    return ok


def _apply(op: int, x: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``x <op> v`` elementwise (``v`` broadcast over rows); missing ``x`` is false."""
    if op == ISNA:
        return np.isnan(x)
    if op == NOTNA:
        return ~np.isnan(x)
    with np.errstate(invalid="ignore"):
        if op == EQ:
            return x == v
        if op == NE:
            return (x != v) & ~np.isnan(x)
        if op == LE:
            return x <= v
        if op == GE:
            return x >= v
        if op == LT:
            return x < v
        return x > v


# -- predicates --------------------------------------------------------------------------------
class _Predicates:
    """A growing set of distinct predicates with the same number of conditions."""

    def __init__(self, n_conditions: int) -> None:
        self.n_conditions = n_conditions
        self._seen: set[bytes] = set()
        self._cols: list[np.ndarray] = []
        self._ops: list[np.ndarray] = []
        self._values: list[np.ndarray] = []

    def __len__(self) -> int:
        return len(self._cols)

    def add(self, cols: np.ndarray, ops: np.ndarray, values: np.ndarray) -> bool:
        key = cols.tobytes() + ops.tobytes() + values.tobytes()
        if key in self._seen:
            return False
        self._seen.add(key)
        self._cols.append(cols)
        self._ops.append(ops)
        self._values.append(values)
        return True

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        k = self.n_conditions
        if not self._cols:
            return (np.empty((0, k), np.int64), np.empty((0, k), np.int64),
                    np.empty((0, k), np.float64))
        return np.stack(self._cols), np.stack(self._ops), np.stack(self._values)


def _batched_counts(matrix: np.ndarray, cols: np.ndarray, ops: np.ndarray,
                    values: np.ndarray) -> np.ndarray:
    """:func:`count_matches` capped at 1 (exactly 1 or more is all that is asked), over
    predicates in batches (bounds the boolean block)."""
    out = [count_matches(matrix, cols[i:i + _BATCH], ops[i:i + _BATCH], values[i:i + _BATCH],
                         cap=1)
           for i in range(0, len(cols), _BATCH)]
    return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)


def univariate_predicates(synthetic: np.ndarray, continuous: np.ndarray, n: int,
                          rng: np.random.Generator) -> _Predicates:
    """One-condition predicates that single out exactly one synthetic row (anonymeter's
    univariate attack): ``col <= min`` and ``col >= max`` of numbers, ``col == v`` for every
    value seen once, ``col is missing`` when one value is missing; shuffled, at most ``n``."""
    cols: list[int] = []
    ops: list[int] = []
    values: list[float] = []
    for j in range(synthetic.shape[1]):
        column = synthetic[:, j]
        missing = np.isnan(column)
        if missing.sum() == 1:
            cols.append(j)
            ops.append(ISNA)
            values.append(0.0)
        present = column[~missing]
        if continuous[j] and len(present):
            cols += [j, j]
            ops += [LE, GE]
            values += [float(present.min()), float(present.max())]
        levels, counts = np.unique(present, return_counts=True)
        rare = levels[counts == 1]
        cols += [j] * len(rare)
        ops += [EQ] * len(rare)
        values += rare.tolist()
    order = rng.permutation(len(cols))
    c = np.asarray(cols, dtype=np.int64)[order][:, None]
    o = np.asarray(ops, dtype=np.int64)[order][:, None]
    v = np.asarray(values, dtype=np.float64)[order][:, None]
    found = _Predicates(1)
    single = _batched_counts(synthetic, c, o, v) == 1
    for i in np.flatnonzero(single):
        found.add(c[i], o[i], v[i])
        if len(found) >= n:
            break
    return found


def _conditions_from_rows(
    synthetic: np.ndarray, rows: np.ndarray, cols: np.ndarray, continuous: np.ndarray,
    medians: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Operators and values describing each chosen row on its chosen columns: ``==`` for
    categories, ``>=`` above the synthetic median and ``<=`` otherwise for numbers, ``is
    missing`` for a missing value (anonymeter's ``_query_from_record``)."""
    values = synthetic[rows[:, None], cols]
    missing = np.isnan(values)
    with np.errstate(invalid="ignore"):
        numeric_op = np.where(values > medians[cols], GE, LE)
    ops = np.where(missing, ISNA, np.where(continuous[cols], numeric_op, EQ))
    return ops.astype(np.int64), np.where(missing, 0.0, values)


def multivariate_predicates(
    synthetic: np.ndarray, continuous: np.ndarray, medians: np.ndarray, n: int, n_cols: int,
    max_attempts: int | None, rng: np.random.Generator,
) -> tuple[_Predicates, int]:
    """Predicates on ``n_cols`` random columns of random synthetic rows that single out exactly
    one synthetic row (anonymeter's multivariate attack); at most ``n``, distinct.  Returns the
    predicates and the number of attempts."""
    found = _Predicates(n_cols)
    attempts = 0
    n_rows, n_columns = synthetic.shape
    while len(found) < n and (max_attempts is None or attempts < max_attempts):
        size = _BATCH if max_attempts is None else min(_BATCH, max_attempts - attempts)
        rows = rng.integers(0, n_rows, size)
        # n_cols distinct random columns per predicate, sorted so equal predicates look equal
        cols = np.sort(np.argsort(rng.random((size, n_columns)), axis=1)[:, :n_cols], axis=1)
        ops, values = _conditions_from_rows(synthetic, rows, cols, continuous, medians)
        attempts += size
        for i in np.flatnonzero(count_matches(synthetic, cols, ops, values, cap=1) == 1):
            found.add(cols[i], ops[i], values[i])
            if len(found) >= n:
                break
    return found, attempts


def random_predicates(synthetic: np.ndarray, continuous: np.ndarray, n: int, n_cols: int,
                      rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The baseline attacker's guesses: random columns, a random synthetic value of each, a
    random operator (``==``/``!=`` for categories; also ``<``, ``>``, ``<=``, ``>=`` for
    numbers; a missing value gives ``is missing`` or ``is not missing``)."""
    n_columns = synthetic.shape[1]
    levels = [np.unique(synthetic[:, j]) for j in range(n_columns)]
    cols = np.sort(np.argsort(rng.random((n, n_columns)), axis=1)[:, :n_cols], axis=1)
    values = np.empty(cols.shape)
    ops = np.empty(cols.shape, dtype=np.int64)
    numeric_ops = np.array([EQ, NE, LT, GT, LE, GE])
    discrete_ops = np.array([EQ, NE])
    for (i, k), j in np.ndenumerate(cols):
        value = levels[j][rng.integers(0, len(levels[j]))]
        op = rng.choice(numeric_ops if continuous[j] else discrete_ops)
        if np.isnan(value):
            op, value = (ISNA if op == EQ else NOTNA), 0.0
        values[i, k], ops[i, k] = value, op
    return cols, ops, values


# -- the validator -----------------------------------------------------------------------------
@register_validator("privacy.singling_out")
class SinglingOut(BaseValidator):
    """Singling-out risk: predicates built on the synthetic data that isolate one training row.

    The attacker builds predicates from the synthetic data that single out exactly one synthetic
    row, for example ``age >= 71 and workclass == 'State-gov' and hours_per_week <= 20``,
    betting that each also isolates one real person.  A predicate *succeeds* on a table when
    exactly one of its distinct rows satisfies it.  The share of predicates that succeed on the
    training rows (main) is compared with the share that succeed on the holdout (control; rows
    the generator never saw)::

        risk = (main rate - control rate) / (1 - control rate)

    This is anonymeter's ``SinglingOutEvaluator`` (Giomi et al., PoPETs 2023; Cohen and Nissim,
    PNAS 2020): Wilson rates, a propagated-error interval, risk and interval clipped to [0, 1],
    tables deduplicated first, and, when the holdout and the training data differ in size, the
    control count rescaled to the training size by anonymeter's fitted model of how the chance
    to single out depends on the table size.

    Modes: ``"univariate"`` predicates use one column (``col <= min``, ``col >= max``, a value
    seen once, or the one missing value of a column); ``"multivariate"`` predicates describe a
    random synthetic row on ``n_cols`` random columns (``==`` for categories, ``>=`` for a
    number above the synthetic median and ``<=`` otherwise, ``is missing``).  Predicates are
    generated in batches and checked on the synthetic data until ``n_attacks`` distinct ones are
    found or ``max_attempts`` were tried.

    Parameters
    ----------
    mode : {"multivariate", "univariate"}, default "multivariate"
    n_attacks : int, default 500
        Predicates wanted (anonymeter's default).
    n_cols : int, default 3
        Columns per multivariate predicate (anonymeter's default).
    max_attempts : int or None, default 100_000
        Most multivariate predicates tried (None: no cap).  anonymeter's default is 10 million;
        fewer found predicates widen the interval and are reported in the details.
    max_holdout_overlap : float, default 0.05
        Raise when a larger share of holdout rows copy training rows (as ``privacy.dcr``).
    confidence : float, default 0.95
        Level of the interval.
    random_state : int or None, default 0
        Seed of the predicates.

    Notes
    -----
    Rates are over the predicates actually found (anonymeter divides by ``n_attacks`` even when
    it found fewer, which lowers both rates).  Details: ``risk``, ``interval``, ``main_rate``,
    ``main_rate_error``, ``control_rate``, ``control_rate_error``, ``baseline_rate`` (random
    predicates of the baseline attacker that single out a training row), ``n_queries``,
    ``n_requested``, ``n_attempts``, ``n_main_success``, ``n_control_success``,
    ``n_compared`` (distinct training and holdout rows are each subsampled to this common
    size, so the two counts are comparable), ``n_train_distinct``, ``n_holdout_distinct``,
    ``n_synthetic_distinct``, ``mode``,
    ``n_cols``, ``holdout_overlap``.  No predicate is reported: they describe real people.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> def draw(n):
    ...     return pd.DataFrame({"x": rng.normal(size=n).round(2), "y": rng.integers(0, 50, n),
    ...                          "c": rng.choice(["a", "b", "c"], size=n)})
    >>> train, holdout = draw(400), draw(400)
    >>> attack = SinglingOut(n_attacks=200)
    >>> attack.score(train, train, holdout=holdout).value > 0.5  # copies single people out
    True
    >>> attack.score(train, draw(400), holdout=holdout).value < 0.15
    True
    """

    category = "privacy"
    direction = "lower"

    def __init__(
        self,
        *,
        mode: Literal["multivariate", "univariate"] = "multivariate",
        n_attacks: int = 500,
        n_cols: int = 3,
        max_attempts: int | None = 100_000,
        max_holdout_overlap: float = 0.05,
        confidence: float = 0.95,
        random_state: int | None = 0,
    ) -> None:
        self.mode = mode
        self.n_attacks = n_attacks
        self.n_cols = n_cols
        self.max_attempts = max_attempts
        self.max_holdout_overlap = max_holdout_overlap
        self.confidence = confidence
        self.random_state = random_state

    def _check_params(self) -> None:
        if self.mode not in ("multivariate", "univariate"):
            raise InvalidParameterError(
                f"mode must be 'multivariate' or 'univariate', got {self.mode!r}."
            )
        check_positive_int(self.n_attacks, "n_attacks")
        check_positive_int(self.n_cols, "n_cols")
        check_positive_int(self.max_attempts, "max_attempts", allow_none=True)
        check_fraction(self.max_holdout_overlap, "max_holdout_overlap")
        check_fraction(self.confidence, "confidence", open_low=True, open_high=True)

    def score(
        self,
        real: Any,
        synthetic: Any,
        *,
        holdout: Any = None,
        context: Mapping[str, Any] | None = None,
    ) -> Score:
        self._check_params()
        tables = self._prepare(real, synthetic, holdout, context, require_holdout=True)
        if tables.holdout is None:  # _prepare enforces it; this narrows the type for mypy
            raise InvalidDataError(f"{self.name} needs a holdout.")
        cols = list(tables.columns)
        train, synth = tables.real[:, cols], tables.synthetic[:, cols]
        hold = tables.holdout[:, cols]
        n_cols = 1 if self.mode == "univariate" else self.n_cols
        if n_cols > len(cols):
            raise InvalidParameterError(
                f"{self.name}: n_cols={self.n_cols} is more than the {len(cols)} compared "
                f"columns {tables.names}; lower n_cols."
            )
        overlap = check_holdout_overlap(hold, train, self.max_holdout_overlap, self.name)
        train, synth, hold = _dedupe(train), _dedupe(synth), _dedupe(hold)
        continuous = np.array([c.kind.is_continuous for c in tables.column_schemas])
        rng = np.random.default_rng(self.random_state)
        # A predicate isolates one row more easily in a smaller table, so the training and
        # control tables are compared at equal size: the larger is subsampled to the smaller.
        # (anonymeter instead extrapolates the control count with a fitted curve; with a
        # holdout half the size of train that fit put a second real sample at risk 0.17.)
        n_compared = min(len(train), len(hold))
        train = train[np.sort(rng.choice(len(train), n_compared, replace=False))]
        hold = hold[np.sort(rng.choice(len(hold), n_compared, replace=False))]

        if self.mode == "univariate":
            found, attempts = univariate_predicates(synth, continuous, self.n_attacks, rng), 0
        else:
            medians = _medians(synth, tables.column_schemas)
            found, attempts = multivariate_predicates(synth, continuous, medians,
                                                      self.n_attacks, n_cols,
                                                      self.max_attempts, rng)
        p_cols, p_ops, p_values = found.arrays()
        base_cols, base_ops, base_values = random_predicates(synth, continuous, self.n_attacks,
                                                             n_cols, rng)
        n_baseline = int((_batched_counts(train, base_cols, base_ops, base_values) == 1).sum())
        details: dict[str, Any] = {
            "mode": self.mode,
            "n_cols": n_cols,
            "n_requested": int(self.n_attacks),
            "n_queries": len(found),
            "n_attempts": int(attempts),
            "baseline_rate": n_baseline / self.n_attacks,
            "n_train_distinct": len(train),
            "n_holdout_distinct": len(hold),
            "n_synthetic_distinct": len(synth),
            "holdout_overlap": overlap,
        }
        if len(found) == 0:
            # nothing in the synthetic data is unique on these columns: the attack has no
            # predicate to try, so it cannot single anyone out; there is no rate to bound
            details["note"] = ("no predicate singles out exactly one synthetic row; the attack "
                               "found nothing to try")
            return self._score(0.0, interval=None, details=details)
        n_main = int((_batched_counts(train, p_cols, p_ops, p_values) == 1).sum())
        n_control = int((_batched_counts(hold, p_cols, p_ops, p_values) == 1).sum())
        estimate = relative_risk(n_main, len(found), n_control, len(found), self.confidence)
        details.update(estimate.to_dict())
        details.update({
            "n_main_success": n_main,
            "n_control_success": n_control,
            "n_compared": n_compared,
        })
        return self._score(estimate.risk, interval=estimate.interval, details=details)


def _medians(synthetic: np.ndarray, schemas: list[ColumnSchema]) -> np.ndarray:
    """Median of each continuous synthetic column (NaN for others or all-missing columns)."""
    out = np.full(synthetic.shape[1], np.nan)
    for j, col in enumerate(schemas):
        present = synthetic[:, j][~np.isnan(synthetic[:, j])]
        if col.kind.is_continuous and len(present):
            out[j] = float(np.median(present))
    return out
