"""Shared statistics of the privacy-attack validators: success rates, risks, ROC summaries.

Two families of figures live here so that every attack reports them the same way:

* **Risk relative to a control set** (the definition of anonymeter; Giomi et al., "A Unified
  Framework for Quantifying Privacy Risk in Synthetic Data", PoPETs 2023): an attack succeeds
  on a share of its targets among the training rows (main rate) and on a share of equally many
  rows the generator never saw (control rate, from the holdout).  The risk is the main rate's
  excess over the control rate, normalised by what was left to gain,
  ``(main - control) / (1 - control)``.  Rates are Wilson score estimates (Wilson 1927) and the
  risk's error is propagated from both, as in the paper.
* **Membership-inference ROC** figures: AUC with a DeLong (1988) interval, the membership
  advantage (max TPR - FPR; Yeom et al. 2018), TPR at a low FPR (Carlini et al., "Membership
  Inference Attacks From First Principles", S&P 2022) and a thinned ROC curve for plots.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import norm

from synthaug.exceptions import NotComputableError
from synthaug.validators._common import exact_match

__all__ = [
    "RiskEstimate",
    "check_holdout_overlap",
    "relative_risk",
    "roc_summary",
    "wilson_rate",
]

#: most points of the ROC curve kept in the details (the report plots them)
MAX_ROC_POINTS = 50
#: false-positive rates at which the TPR is reported
LOW_FPRS = (0.001, 0.01, 0.1)
#: standard errors of chance a holdout's copy rate may exceed the base rate by before the
#: excess counts as leaked training rows
OVERLAP_CHANCE_Z = 3.0


def check_holdout_overlap(
    holdout: np.ndarray, train: np.ndarray, max_overlap: float, validator: str
) -> float:
    """Share of holdout rows that copy a training row; raise when chance cannot explain it.

    A holdout that repeats training rows is not unseen data, so every control figure built on
    it would understate the risk.  But on a table of few distinct rows a proper holdout copies
    training rows too, as often as any fresh sample does, so the overlap is compared with that
    base rate (training rows that copy another training row; see
    :func:`~synthaug.validators.privacy._repeats.chance_excess`): the check refuses when the
    share of holdout rows that would have to be leaked training rows, beyond what chance
    explains, is above ``max_overlap``.  With no repeats in the training data that share is
    the overlap itself.
    """
    from synthaug.validators.privacy._repeats import chance_excess, loo_copy_hits

    copied = exact_match(holdout, train)
    overlap = float(copied.mean())
    if overlap <= max_overlap:
        return overlap
    leaked = chance_excess(int(copied.sum()), len(holdout), loo_copy_hits(train), len(train),
                           z=OVERLAP_CHANCE_Z)
    if leaked.beyond_chance > max_overlap:
        natural = (f"; fresh rows of these data copy a training row {leaked.base_rate:.1%} of "
                   "the time (judging by how the training rows repeat each other)"
                   if leaked.base_rate > 0 else "")
        raise NotComputableError(
            f"{validator}: holdout overlaps train: {overlap:.1%} of the holdout rows are "
            f"exact copies of training rows{natural}, so about {leaked.beyond_chance:.0%} of "
            f"them look leaked from the training data (more than {max_overlap:.0%}). Split "
            "the data before training the generator so that the holdout holds only rows it "
            "never saw, or drop duplicate rows first."
        )
    return overlap


# -- success rates and risks -------------------------------------------------------------------
def _z(confidence: float) -> float:
    return float(norm.ppf(0.5 * (1.0 + confidence)))


def wilson_rate(n_success: float, n_total: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score estimate of a success rate and its half-width at ``confidence``.

    The centre is the Wilson midpoint ``(k + z^2/2) / (n + z^2)``, not ``k / n``: it stays
    inside (0, 1) with no success or no failure, which keeps the risk's error finite.
    ``n_success`` may be fractional (a size-corrected count).

    Examples
    --------
    >>> rate, err = wilson_rate(50, 100)
    >>> round(rate, 3), round(err, 3)
    (0.5, 0.096)
    """
    z = _z(confidence)
    z2 = z * z
    k = min(max(float(n_success), 0.0), float(n_total))
    denominator = n_total + z2
    rate = (k + 0.5 * z2) / denominator
    error = z / denominator * math.sqrt(k * (n_total - k) / n_total + 0.25 * z2)
    return rate, error


@dataclass(frozen=True)
class RiskEstimate:
    """A risk relative to a control set, with its interval and the rates it came from."""

    risk: float
    interval: tuple[float, float]
    main_rate: float
    main_error: float
    control_rate: float
    control_error: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "risk": self.risk,
            "interval": list(self.interval),
            "main_rate": self.main_rate,
            "main_rate_error": self.main_error,
            "control_rate": self.control_rate,
            "control_rate_error": self.control_error,
        }


def relative_risk(
    n_main: float, n_main_total: int, n_control: float, n_control_total: int,
    confidence: float = 0.95,
) -> RiskEstimate:
    """Risk ``(main - control) / (1 - control)`` from success counts, with its interval.

    Rates are Wilson estimates; the error is propagated to first order from both rates (Giomi
    et al. 2023, the definition anonymeter implements).  The value and the interval are clipped
    to [0, 1]: an attack that does worse on training rows than on unseen rows shows no risk.

    Examples
    --------
    >>> est = relative_risk(90, 100, 10, 100)
    >>> round(est.risk, 2), est.interval[0] > 0.7
    (0.87, True)
    >>> relative_risk(10, 100, 10, 100).risk
    0.0
    """
    main, main_err = wilson_rate(n_main, n_main_total, confidence)
    control, control_err = wilson_rate(n_control, n_control_total, confidence)
    residual = (main - control) / (1.0 - control)
    d_main = 1.0 / abs(1.0 - control)
    d_control = (main - 1.0) / (1.0 - control) ** 2
    error = math.sqrt((main_err * d_main) ** 2 + (control_err * d_control) ** 2)

    def clip(v: float) -> float:
        return min(max(v, 0.0), 1.0)

    return RiskEstimate(
        risk=clip(residual),
        interval=(clip(residual - error), clip(residual + error)),
        main_rate=main,
        main_error=main_err,
        control_rate=control,
        control_error=control_err,
    )


# -- ROC ---------------------------------------------------------------------------------------
def _placements(pos: np.ndarray, neg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """DeLong's placement values: for each positive, the share of negatives it outranks (ties
    half); for each negative, the share of positives that outrank it."""
    neg_sorted, pos_sorted = np.sort(neg), np.sort(pos)
    below = np.searchsorted(neg_sorted, pos, side="left")
    at_or_below = np.searchsorted(neg_sorted, pos, side="right")
    v10 = (below + 0.5 * (at_or_below - below)) / len(neg)
    p_below = np.searchsorted(pos_sorted, neg, side="left")
    p_at_or_below = np.searchsorted(pos_sorted, neg, side="right")
    v01 = (len(pos) - p_at_or_below + 0.5 * (p_at_or_below - p_below)) / len(pos)
    return v10, v01


def _roc_points(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """FPR and TPR at every distinct threshold, from (0, 0) to (1, 1)."""
    order = np.argsort(-scores, kind="stable")
    s, y = scores[order], labels[order]
    last_of_group = np.r_[np.flatnonzero(np.diff(s) != 0), len(s) - 1]
    tp = np.cumsum(y)[last_of_group]
    fp = np.cumsum(1 - y)[last_of_group]
    tpr = np.r_[0.0, tp / max(int(y.sum()), 1)]
    fpr = np.r_[0.0, fp / max(int((1 - y).sum()), 1)]
    return fpr, tpr


def _thin(fpr: np.ndarray, tpr: np.ndarray, n: int) -> tuple[list[float], list[float]]:
    """At most ``n`` vertices of the curve: evenly spread along its length, ends kept."""
    if len(fpr) <= n:
        return fpr.tolist(), tpr.tolist()
    # spread by arc length, so both the steep start and the flat end keep points
    step = np.hypot(np.diff(fpr), np.diff(tpr))
    arc = np.r_[0.0, np.cumsum(step)]
    targets = np.linspace(0.0, arc[-1], n)
    keep = np.unique(np.r_[0, np.searchsorted(arc, targets).clip(0, len(arc) - 1), len(arc) - 1])
    if len(keep) > n:  # unique points can exceed n only by the two kept ends
        keep = np.r_[keep[0], keep[1:-1][np.linspace(0, len(keep) - 3, n - 2).astype(int)],
                     keep[-1]]
    return fpr[keep].tolist(), tpr[keep].tolist()


def roc_summary(labels: np.ndarray, scores: np.ndarray,
                confidence: float = 0.95) -> dict[str, Any]:
    """AUC, DeLong interval, advantage, TPR at low FPRs and a thinned curve of an attack.

    ``labels`` are 1 for members (training rows) and 0 for non-members; a higher score means
    "more likely a member".

    Examples
    --------
    >>> import numpy as np
    >>> s = roc_summary(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8]))
    >>> s["auc"], s["advantage"]
    (0.75, 0.5)
    """
    labels = np.asarray(labels, dtype=np.int64)
    scores = np.asarray(scores, dtype=np.float64)
    pos, neg = scores[labels == 1], scores[labels == 0]
    v10, v01 = _placements(pos, neg)
    auc = float(v10.mean())
    # DeLong et al. (1988): the AUC is a two-sample U-statistic; its variance is the sum of the
    # variances of the placement values over each sample
    var = (v10.var(ddof=1) / len(pos) if len(pos) > 1 else 0.0) + (
        v01.var(ddof=1) / len(neg) if len(neg) > 1 else 0.0
    )
    half = _z(confidence) * math.sqrt(max(var, 0.0))
    fpr, tpr = _roc_points(labels, scores)
    tpr_at = {}
    for limit in LOW_FPRS:
        ok = fpr <= limit + 1e-12
        tpr_at[str(limit)] = float(tpr[ok].max())
    curve_fpr, curve_tpr = _thin(fpr, tpr, MAX_ROC_POINTS)
    return {
        "auc": auc,
        "auc_interval": [max(0.0, auc - half), min(1.0, auc + half)],
        "auc_std": math.sqrt(max(var, 0.0)),
        "ci_method": "DeLong",
        "advantage": float((tpr - fpr).max()),
        "tpr_at_fpr": tpr_at,
        "roc_curve": {"fpr": curve_fpr, "tpr": curve_tpr},
        "n_members": len(pos),
        "n_non_members": len(neg),
    }
