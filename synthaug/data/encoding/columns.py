"""Per-column pieces of the tabular encoding: fitted once, pure numpy, each tested once.

Each function takes one column of the schema matrix (:meth:`TableSchema.to_matrix`: codes for
discrete columns, floats or nanoseconds for continuous ones, NaN for missing) and returns the
fitted statistics as plain arrays, or applies them.  :class:`~synthaug.data.encoding.TableEncoder`
strings them together; the copula and the transformer's token codec may use the quantile grid
and the discrete layout on their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import special

__all__ = [
    "GMM_FIT_ROWS",
    "OTHER",
    "QUANTILE_EPS",
    "DiscreteLayout",
    "EpsPolicy",
    "discrete_layout",
    "fit_gmm_1d",
    "gmm_encode",
    "quantile_grid",
    "quantile_scores",
    "standard_stats",
]

#: quantile probabilities are kept within [eps, 1 - eps], so the extreme rows map to finite
#: normal scores (about +-5.2)
QUANTILE_EPS = 1e-7

#: how probabilities are kept off 0 and 1: ``"squeeze"`` maps [0, 1] affinely into
#: [eps, 1 - eps] (invertible: the maximum comes back as the maximum), ``"clip"`` clips to it
#: (what the generators' encoding did before synthaug 0.2; only read from old model folders)
EpsPolicy = Literal["squeeze", "clip"]

#: marks the grouped "other" slot in ``pos_to_code`` when "other" decodes by sampling
OTHER = -2.0

#: values used to fit each column's Gaussian mixture (a random subsample beyond this)
GMM_FIT_ROWS = 20_000


# -- continuous columns ----------------------------------------------------------------------
def standard_stats(observed: np.ndarray) -> tuple[float, float]:
    """Mean and standard deviation of ``observed``; the scale is 1 for a constant column (any
    positive scale inverts a column of zeros exactly)."""
    std = float(observed.std())
    return float(observed.mean()), std if std > 0 and np.isfinite(std) else 1.0


def quantile_grid(observed: np.ndarray, n_quantiles: int) -> np.ndarray:
    """``min(n_quantiles, n)`` evenly spaced quantiles of ``observed`` (at least 2 points).

    Examples
    --------
    >>> import numpy as np
    >>> quantile_grid(np.array([1.0, 2.0, 3.0, 4.0, 5.0]), 3).tolist()
    [1.0, 3.0, 5.0]
    """
    k = int(min(n_quantiles, max(2, len(observed))))
    return np.asarray(np.quantile(observed, np.linspace(0.0, 1.0, k)))


def quantile_scores(values: np.ndarray, grid: np.ndarray, policy: EpsPolicy = "squeeze"
                    ) -> np.ndarray:
    """Normal scores of ``values`` through the quantile ``grid`` (the inverse is
    :func:`synthaug.data.encoding.torch.quantile_values`).

    Examples
    --------
    >>> import numpy as np
    >>> quantile_scores(np.array([1.0, 3.0, 5.0]), np.array([1.0, 3.0, 5.0])).round(3).tolist()
    [-5.199, 0.0, 5.199]
    """
    probs = np.linspace(0.0, 1.0, len(grid))
    # average of the forward and backward interpolation: a value repeated over many grid points
    # (a spike such as zero) maps to the middle of its probability band, not its edge
    u = 0.5 * (np.interp(values, grid, probs) - np.interp(-values, -grid[::-1], -probs[::-1]))
    if policy == "squeeze":
        u = QUANTILE_EPS + u * (1 - 2 * QUANTILE_EPS)
    else:
        u = np.clip(u, QUANTILE_EPS, 1 - QUANTILE_EPS)
    return np.asarray(special.ndtri(u))


def fit_gmm_1d(
    values: np.ndarray, n_modes: int, rng: np.random.Generator, iterations: int = 100
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Means, standard deviations and weights of a 1-D Gaussian mixture fitted by EM.

    Components under 0.5 % weight are dropped (as CTGAN's Bayesian mixture prunes them).  Plain
    EM on at most ``GMM_FIT_ROWS`` values (a subsample drawn with ``rng``) takes milliseconds
    where scikit-learn's variational mixture takes ~30 s per column on Adult.
    """
    if len(values) > GMM_FIT_ROWS:
        values = rng.choice(values, GMM_FIT_ROWS, replace=False)
    spread = float(values.std()) if len(values) > 1 else 0.0
    # a tiny floor lets a spike (capital_gain == 0) keep a near-zero width and decode exactly
    floor = max(spread * 1e-6, 1e-12)
    # start half the components at quantiles of the values and half at quantiles of the
    # distinct values: a column that is 95 % zeros (capital_loss) would otherwise start with
    # every component on the spike and never model its tail
    by_mass = n_modes - n_modes // 2
    means = np.unique(np.concatenate([
        np.quantile(values, (np.arange(by_mass) + 0.5) / by_mass),
        np.quantile(np.unique(values), (np.arange(n_modes // 2) + 0.5) / max(1, n_modes // 2)),
    ]))
    k = len(means)
    stds = np.full(k, max(spread / k, floor))
    weights = np.full(k, 1.0 / k)
    for _ in range(iterations):
        z = (values[:, None] - means[None, :]) / stds[None, :]
        logp = np.log(weights)[None, :] - np.log(stds)[None, :] - 0.5 * z**2
        resp = np.exp(logp - logp.max(axis=1, keepdims=True))
        resp /= resp.sum(axis=1, keepdims=True)
        nk = resp.sum(axis=0) + 1e-10
        previous = means
        weights = nk / nk.sum()
        means = resp.T @ values / nk
        var = resp.T @ values**2 / nk - means**2
        stds = np.sqrt(np.maximum(var, floor**2))
        if np.max(np.abs(means - previous)) < 1e-6 * max(spread, 1e-12):
            break  # converged
    keep = weights > 0.005
    if not keep.any():
        keep = weights == weights.max()
    weights = weights[keep] / weights[keep].sum()
    return means[keep], stds[keep], weights


def gmm_encode(values: np.ndarray, means: np.ndarray, stds: np.ndarray, weights: np.ndarray,
               rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """CTGAN's mode-specific normalisation: each value's component and its scaled offset.

    The component is drawn from the value's posterior (not its argmax), so neighbouring modes
    overlap smoothly; the offset is ``(x - mean_k) / (4 sd_k)``, clipped to [-0.99, 0.99].
    """
    z = (values[:, None] - means[None, :]) / stds[None, :]
    logp = np.log(weights)[None, :] - np.log(stds)[None, :] - 0.5 * z**2
    prob = np.exp(logp - logp.max(axis=1, keepdims=True))
    prob /= prob.sum(axis=1, keepdims=True)
    cum = np.cumsum(prob, axis=1)
    mode = np.minimum((cum < rng.random(len(values))[:, None]).sum(axis=1), len(means) - 1)
    return mode, np.clip((values - means[mode]) / (4 * stds[mode]), -0.99, 0.99)


# -- discrete columns ------------------------------------------------------------------------
@dataclass(frozen=True)
class DiscreteLayout:
    """The slots of a discrete column: kept levels by code, then "other", then missing.

    Attributes
    ----------
    code_to_pos : ndarray of int64, length ``n_levels + 1``
        Slot of each level code (the last entry: missing); -1 for a level with no slot.
    pos_to_code : ndarray of float64, one per slot
        Code each slot decodes to: the level, NaN for missing, and for "other" the most
        frequent grouped level or :data:`OTHER` (decoded by sampling ``grouped``).
    counts : ndarray of float64, one per slot
        Training rows per slot.
    grouped : ndarray of int64
        Level codes sharing the "other" slot, most frequent first.
    grouped_cum : ndarray of float64
        Their cumulative training frequencies (1 at the end); empty without a group.
    """

    code_to_pos: np.ndarray
    pos_to_code: np.ndarray
    counts: np.ndarray
    grouped: np.ndarray
    grouped_cum: np.ndarray

    @property
    def width(self) -> int:
        return len(self.pos_to_code)


def discrete_layout(
    counts: np.ndarray,
    nullable: bool,
    max_categories: int | None,
    *,
    sample_other: bool,
) -> DiscreteLayout:
    """Slots for a discrete column with ``counts`` rows per level code (last entry: missing).

    With more than ``max_categories`` levels the ``max_categories - 1`` most frequent keep a
    slot (ties: the first in level order) and the rest share an "other" slot.  With
    ``sample_other`` "other" decodes to a grouped level drawn by training frequency, and levels
    never seen in fit are left out of the group (they cannot be drawn, and have no slot);
    otherwise it decodes to the most frequent grouped level and every level has a slot.

    Examples
    --------
    >>> import numpy as np
    >>> layout = discrete_layout(np.array([10, 6, 3, 2, 0, 2]), True, 2, sample_other=False)
    >>> layout.code_to_pos.tolist(), layout.pos_to_code.tolist()
    ([0, 1, 1, 1, 1, 2], [0.0, 1.0, nan])
    """
    n_levels = len(counts) - 1
    level_counts = counts[:n_levels]
    if max_categories is not None and n_levels > max_categories:
        by_freq = np.argsort(-level_counts, kind="stable")
        kept = np.sort(by_freq[: max_categories - 1])
        grouped = by_freq[max_categories - 1 :]
        if sample_other:
            grouped = grouped[level_counts[grouped] > 0]  # never draw an unseen level
    else:
        kept = np.arange(n_levels)
        grouped = np.empty(0, dtype=np.int64)
    width = len(kept) + (1 if len(grouped) else 0) + (1 if nullable else 0)
    to_pos = np.full(n_levels + 1, -1, dtype=np.int64)
    to_code = np.full(width, np.nan)
    pos_counts = np.zeros(width)
    to_pos[kept] = np.arange(len(kept))
    to_code[: len(kept)] = kept
    pos_counts[: len(kept)] = level_counts[kept]
    pos = len(kept)
    grouped_cum = np.empty(0)
    if len(grouped):
        to_pos[grouped] = pos
        # grouped is in decreasing frequency, so its head is the most frequent of them
        to_code[pos] = OTHER if sample_other else grouped[0]
        total = level_counts[grouped].sum()
        pos_counts[pos] = total
        grouped_cum = np.cumsum(level_counts[grouped]) / max(total, 1)
        pos += 1
    if nullable:
        to_pos[n_levels] = pos
        pos_counts[pos] = counts[n_levels]
    return DiscreteLayout(to_pos, to_code, pos_counts, grouped.astype(np.int64), grouped_cum)
