"""The tuned-threshold baseline: move the decision of a trained model, not its training rows.

The first thing a practitioner tries on imbalanced or scarce data, before any augmentation, is
to keep the model and move its decision threshold to where the validation metric is best.
:func:`tune_offsets` finds per-class offsets ``b`` added to the log probabilities (for two
classes, one threshold on ``p(class 1)``) that maximise a metric on the validation records, and
:func:`shift` applies them, so the test metrics of the shifted probabilities are those of the
tuned decision.  For two classes the shift is monotone in ``p(class 1)``: ROC AUC is unchanged,
as it should be (it does not depend on a threshold).
"""

from __future__ import annotations

import numpy as np

__all__ = ["TUNED_FOR", "shift", "tune_offsets"]

#: the metric the threshold is tuned for, per headline metric (ROC AUC has no threshold, so a
#: recipe headlined by it tunes for macro-F1, which its report shows beside it)
TUNED_FOR = {"accuracy": "accuracy", "macro_f1": "macro_f1", "roc_auc": "macro_f1"}

#: candidate thresholds for two classes (quantiles of the validation probabilities)
_BINARY_CANDIDATES = 200
#: offsets tried per class, and the passes over the classes, for more than two classes
_GRID = np.linspace(-3.0, 3.0, 25)
_PASSES = 2


def _score(y: np.ndarray, pred: np.ndarray, metric: str, n_classes: int) -> float:
    if metric == "accuracy":
        return float((pred == y).mean())
    # macro F1 from one confusion count, without sklearn's per-call overhead (hundreds of calls)
    f1 = np.zeros(n_classes)
    for c in range(n_classes):
        tp = np.sum((pred == c) & (y == c))
        denom = np.sum(pred == c) + np.sum(y == c)
        f1[c] = 2 * tp / denom if denom else 0.0
    return float(f1.mean())


def shift(proba: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Probabilities whose argmax is the tuned decision: ``softmax(log proba + offsets)``.

    Examples
    --------
    >>> import numpy as np
    >>> from synthaug.recipes.decision import shift
    >>> shift(np.array([[0.7, 0.3]]), np.array([0.0, np.log(3.0)])).round(4).tolist()
    [[0.4375, 0.5625]]
    """
    logits = np.log(np.clip(proba, 1e-12, 1.0)) + offsets
    logits -= logits.max(axis=1, keepdims=True)
    out = np.exp(logits)
    return out / out.sum(axis=1, keepdims=True)


def tune_offsets(y: np.ndarray, proba: np.ndarray, metric: str) -> np.ndarray:
    """Per-class log-probability offsets that maximise ``metric`` on ``(y, proba)``.

    Parameters
    ----------
    y : ndarray of int
        True class codes of the validation records.
    proba : ndarray of shape (n, n_classes)
        The model's probabilities on them.
    metric : {"accuracy", "macro_f1", "roc_auc"}
        The recipe's headline metric; see :data:`TUNED_FOR`.

    Returns
    -------
    ndarray of shape (n_classes,)
        Zeros (the plain argmax) when nothing does better on validation.

    Examples
    --------
    >>> import numpy as np
    >>> from synthaug.recipes.decision import shift, tune_offsets
    >>> p1 = np.array([0.1, 0.2, 0.3, 0.35, 0.4, 0.45])   # a model that under-calls class 1
    >>> proba = np.stack([1 - p1, p1], axis=1)
    >>> y = np.array([0, 0, 0, 1, 1, 1])
    >>> b = tune_offsets(y, proba, "accuracy")
    >>> shift(proba, b).argmax(axis=1).tolist()
    [0, 0, 0, 1, 1, 1]
    """
    target = TUNED_FOR[metric]
    n_classes = proba.shape[1]
    offsets = np.zeros(n_classes)
    best = _score(y, proba.argmax(axis=1), target, n_classes)
    if n_classes == 2:
        # one threshold t on p1: predict 1 when p1 > t, i.e. log p1 - log p0 > logit(t)
        margin = np.log(np.clip(proba[:, 1], 1e-12, 1)) - np.log(np.clip(proba[:, 0], 1e-12, 1))
        cuts = np.unique(np.quantile(margin, np.linspace(0, 1, _BINARY_CANDIDATES)))
        # midpoints between neighbouring margins, so a cut never sits on a record's own value
        for cut in (cuts[:-1] + cuts[1:]) / 2:
            score = _score(y, (margin > cut).astype(np.int64), target, 2)
            if score > best:
                best, offsets = score, np.array([0.0, -float(cut)])
        return offsets
    log_p = np.log(np.clip(proba, 1e-12, 1.0))
    for _ in range(_PASSES):
        for c in range(n_classes):
            for value in _GRID:
                trial = offsets.copy()
                trial[c] = value
                score = _score(y, (log_p + trial).argmax(axis=1), target, n_classes)
                if score > best:
                    best, offsets = score, trial
    return offsets
