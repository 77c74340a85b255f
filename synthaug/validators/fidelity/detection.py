"""Detection: how well a classifier tells synthetic rows from real ones (ROC AUC)."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from threadpoolctl import threadpool_limits

from synthaug.exceptions import InsufficientDataError, InvalidParameterError
from synthaug.validators._common import row_keys
from synthaug.validators.base import FEATURE_MODALITIES, BaseValidator, Score, register_validator

__all__ = ["Detection", "roc_auc"]

#: HistGradientBoosting handles at most this many levels in a native categorical feature
_MAX_NATIVE_LEVELS = 255
#: fewest rows per side: three folds need a few rows of each class in every fold
_MIN_ROWS = 10


def roc_auc(labels: np.ndarray, scores: np.ndarray, weights: np.ndarray | None = None) -> float:
    """ROC AUC of ``scores`` for binary ``labels``, ties counting half; optional row weights.

    The weighted form is what the bootstrap needs: a resample is a vector of row counts.

    Examples
    --------
    >>> import numpy as np
    >>> roc_auc(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8]))
    0.75
    """
    _, group = np.unique(scores, return_inverse=True)
    return _grouped_auc(group, labels == 1, np.ones(len(labels)) if weights is None else weights)


def _grouped_auc(group: np.ndarray, positive: np.ndarray, weights: np.ndarray) -> float:
    """AUC from each row's rank group of equal scores (ascending), class and weight."""
    pos = np.bincount(group, weights=weights * positive)
    neg = np.bincount(group, weights=weights * ~positive)
    total_pos, total_neg = pos.sum(), neg.sum()
    if total_pos == 0 or total_neg == 0:
        return float("nan")
    neg_below = np.cumsum(neg) - neg  # negatives with a strictly lower score
    return float((pos * (neg_below + 0.5 * neg)).sum() / (total_pos * total_neg))


def _grouped_folds(
    features: np.ndarray, labels: np.ndarray, n_folds: int, rng: np.random.Generator
) -> np.ndarray:
    """Fold number of each row; identical rows share a fold, and folds are stratified.

    A synthetic row that copies a real row must not sit in the training folds while its twin is
    tested: the classifier would memorise the copy's label and score the twin as the opposite
    class, pushing the AUC of a perfect copy far below 0.5 instead of to 0.5.  Rows are grouped
    by their exact values; groups of the same label mix are dealt to folds in turn after a
    shuffle, so each fold gets its share of real, synthetic and mixed groups.
    """
    _, group = np.unique(row_keys(features), return_inverse=True)
    n_groups = int(group.max()) + 1
    synthetic_share = np.bincount(group, weights=labels, minlength=n_groups) / np.bincount(
        group, minlength=n_groups
    )
    order = rng.permutation(n_groups)
    order = order[np.argsort(synthetic_share[order], kind="stable")]
    group_fold = np.empty(n_groups, dtype=np.int64)
    group_fold[order] = np.arange(n_groups) % n_folds
    return group_fold[group]


@register_validator("fidelity.detection")
class Detection(BaseValidator):
    """ROC AUC of a cross-validated gradient-boosted classifier telling real from synthetic.

    A balanced sample of real and synthetic rows (at most ``max_rows`` of each) is labelled
    0/1, and a ``HistGradientBoostingClassifier`` (categorical columns as native categorical
    features) predicts the label in 3-fold stratified cross-validation, identical rows kept in one
    fold.  The value is the ROC AUC of the pooled out-of-fold predictions: 0.5 when the
    classifier cannot tell the two apart (ideal), 1.0 when it always can.  This is the detection
    figure of ``BENCHMARKS.md``; it is far stricter than SDMetrics' LogisticDetection.

    The interval is a 95% percentile bootstrap of the pooled AUC (rows resampled within each
    class); details hold the per-fold AUCs.

    Parameters
    ----------
    max_rows : int, default 20_000
        Rows drawn from each side (fewer when either side has fewer).
    n_folds : int, default 3
        Cross-validation folds.
    n_bootstrap : int, default 200
        Bootstrap resamples for the interval (0: no interval).
    random_state : int or None, default 0
        Seed of the sample, the folds, the classifier and the bootstrap.
    n_threads : int or None, default None
        OpenMP threads of the classifier while it fits and predicts (None: OpenMP's default).
        1 is faster on small samples and on busy shared machines, where idle threads spinning
        at every tree split cost more than they give.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=400)
    >>> real = pd.DataFrame({"x": x, "y": x + rng.normal(scale=0.1, size=400)})
    >>> shuffled = real.apply(lambda c: rng.permutation(c.to_numpy()))
    >>> Detection(n_threads=1).score(real, shuffled).value > 0.7
    True
    """

    category = "fidelity"
    direction = "lower"
    modalities = FEATURE_MODALITIES

    def __init__(
        self,
        *,
        max_rows: int = 20_000,
        n_folds: int = 3,
        n_bootstrap: int = 200,
        random_state: int | None = 0,
        n_threads: int | None = None,
    ) -> None:
        self.max_rows = max_rows
        self.n_folds = n_folds
        self.n_bootstrap = n_bootstrap
        self.random_state = random_state
        self.n_threads = n_threads

    def score(
        self,
        real: Any,
        synthetic: Any,
        *,
        holdout: Any = None,
        context: Mapping[str, Any] | None = None,
    ) -> Score:
        self._check_params()
        tables = self._prepare(real, synthetic, context=context)
        cols = list(tables.columns)
        n = min(len(tables.real), len(tables.synthetic), self.max_rows)
        if n < _MIN_ROWS:
            raise InsufficientDataError(
                f"{self.name} needs at least {_MIN_ROWS} real and {_MIN_ROWS} synthetic rows "
                f"to cross-validate a classifier; got {len(tables.real)} and "
                f"{len(tables.synthetic)}."
            )
        rng = np.random.default_rng(self.random_state)
        real_rows = rng.choice(len(tables.real), size=n, replace=False)
        syn_rows = rng.choice(len(tables.synthetic), size=n, replace=False)
        features = np.vstack([tables.real[real_rows][:, cols], tables.synthetic[syn_rows][:, cols]])
        labels = np.repeat([0, 1], n)
        schemas = tables.column_schemas
        # native categorical splits need codes below max_bins; a column with more levels is
        # treated as ordinal codes instead (weaker, but still informative)
        categorical = np.array(
            [c.kind.is_discrete and len(c.categories or []) <= _MAX_NATIVE_LEVELS for c in schemas]
        )
        seed = int(rng.integers(0, 2**31 - 1))
        fold_of = _grouped_folds(features, labels, self.n_folds, rng)
        predicted = np.empty(2 * n)
        fold_aucs: list[float] = []
        limits = (
            threadpool_limits(limits=self.n_threads, user_api="openmp")
            if self.n_threads is not None else contextlib.nullcontext()
        )
        with limits:
            for fold in range(self.n_folds):
                train_idx = np.flatnonzero(fold_of != fold)
                test_idx = np.flatnonzero(fold_of == fold)
                model = HistGradientBoostingClassifier(
                    categorical_features=categorical if categorical.any() else None,
                    random_state=seed,
                )
                model.fit(features[train_idx], labels[train_idx])
                predicted[test_idx] = model.predict_proba(features[test_idx])[:, 1]
                fold_aucs.append(roc_auc(labels[test_idx], predicted[test_idx]))
        auc = roc_auc(labels, predicted)
        interval = self._bootstrap(labels, predicted, rng)
        details = {
            "fold_auc": fold_aucs,
            "fold_auc_std": float(np.std(fold_aucs)),
            "rows_per_side": int(n),
            "n_features": len(cols),
            "categorical_features": [c.name for c, is_cat in zip(schemas, categorical,
                                                                 strict=True) if is_cat],
        }
        return self._score(auc, interval=interval, details=details)

    def _check_params(self) -> None:
        if self.n_threads is not None and (
            not isinstance(self.n_threads, int) or isinstance(self.n_threads, bool)
            or self.n_threads < 1
        ):
            raise InvalidParameterError(
                f"n_threads must be a positive integer or None, got {self.n_threads!r}."
            )
        for name, low in (("max_rows", _MIN_ROWS), ("n_folds", 2), ("n_bootstrap", 0)):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < low:
                raise InvalidParameterError(
                    f"{name} must be an integer >= {low}, got {value!r}."
                )

    def _bootstrap(
        self, labels: np.ndarray, predicted: np.ndarray, rng: np.random.Generator
    ) -> tuple[float, float] | None:
        if self.n_bootstrap == 0:
            return None
        # resample within each class so every replicate keeps the real/synthetic balance; a
        # replicate is a vector of row counts, scored by the weighted AUC (no re-sorting)
        pos, neg = np.flatnonzero(labels == 1), np.flatnonzero(labels == 0)
        _, group = np.unique(predicted, return_inverse=True)  # rank groups: sorted once
        positive = labels == 1
        stats = np.empty(self.n_bootstrap)
        for b in range(self.n_bootstrap):
            weights = np.zeros(len(labels))
            weights[pos] = np.bincount(rng.integers(0, len(pos), len(pos)), minlength=len(pos))
            weights[neg] = np.bincount(rng.integers(0, len(neg), len(neg)), minlength=len(neg))
            stats[b] = _grouped_auc(group, positive, weights)
        low, high = np.percentile(stats, [2.5, 97.5])
        return float(low), float(high)
