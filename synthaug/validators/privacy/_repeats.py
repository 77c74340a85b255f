"""Privacy figures that hold on data whose rows repeat: base rates and closeness with ties.

Many real tables of people (coded survey, health and justice records) have few distinct rows,
so most rows recur naturally: a fresh sample from the true distribution copies training rows
almost as often as a verbatim copy does, and sits at distance 0 from them.  Figures that count
copies or compare distances against zero then cannot tell a copy from a good generator.  What
lives here measures against the base rate the data itself sets:

* :func:`duplicate_counts` counts, for each row, the exact copies of it in a reference set
  (rows compared byte for byte in a canonical encoding: no hash collision can count).
* :func:`chance_excess` compares a copy rate with the rate a fresh sample shows (a holdout, or
  training rows against the rest of the training data) and keeps only what chance cannot
  explain.  (Counting copies instead of rows that have one would keep some power where nearly
  every row repeats, but one common value then drowns the rest: on a skewed table the spread
  of such a count was ten times its signal.)
* :func:`closeness` is the three-sample comparison of ``privacy.dcr`` and
  ``privacy.memorisation``: for each query row, is it closer to the training sample or to an
  equally large holdout sample?  Its tie rule is the one discrete data need: at distance 0 the
  side with more exact copies of the row is closer (the row is where training rows pile up,
  beyond what the holdout shows), and only an exact draw counts as a tie.  When the query rows
  are independent of both samples, the two sides are exchangeable, so the comparison is a fair
  coin whatever the data: repeats change how often it is decided, never its balance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from scipy.stats import norm

from synthaug.validators._common import nearest_neighbours

__all__ = [
    "Excess",
    "chance_excess",
    "closeness",
    "duplicate_counts",
    "loo_copy_hits",
    "sides",
]

#: relative tolerance under which two nearest distances count as equal (float32 rounding)
_DIST_RTOL = 1e-6
_DIST_ATOL = 1e-9


def _byte_rows(matrix: np.ndarray) -> np.ndarray:
    """Each row as one opaque byte string, equal exactly when the rows' values are.

    -0.0 becomes 0.0 and every NaN one NaN pattern (as in ``_common.row_keys``), so missing
    equals missing.
    """
    canon = np.asarray(matrix, dtype=np.float64) + 0.0
    canon[np.isnan(canon)] = -np.inf  # encoded matrices hold no infinities: a safe stand-in
    canon = np.ascontiguousarray(canon)
    width = canon.shape[1] * canon.itemsize
    return canon.view(np.dtype((np.void, width))).ravel()


def duplicate_counts(query: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """How many rows of ``reference`` equal each row of ``query`` exactly.

    Examples
    --------
    >>> import numpy as np
    >>> ref = np.array([[1.0, 2.0], [1.0, 2.0], [3.0, np.nan]])
    >>> duplicate_counts(np.array([[1.0, 2.0], [3.0, np.nan], [0.0, 0.0]]), ref).tolist()
    [2, 1, 0]
    """
    if len(query) == 0:
        return np.zeros(0, dtype=np.int64)
    if len(reference) == 0:
        return np.zeros(len(query), dtype=np.int64)
    keys, counts = np.unique(_byte_rows(reference), return_counts=True)
    wanted = _byte_rows(query)
    pos = np.searchsorted(keys, wanted)
    pos_clipped = np.minimum(pos, len(keys) - 1)
    found = (pos < len(keys)) & (keys[pos_clipped] == wanted)
    return np.where(found, counts[pos_clipped], 0).astype(np.int64)


def loo_copy_hits(train: np.ndarray) -> int:
    """Training rows that equal another training row: how many fresh rows would copy one.

    Leaving each row out in turn, a row "copies the rest of the training data" exactly when it
    has a duplicate there, so the share of such rows is an unbiased estimate of how often a
    fresh row from the same distribution copies one of ``n - 1`` training rows.

    Examples
    --------
    >>> import numpy as np
    >>> loo_copy_hits(np.array([[1.0], [1.0], [2.0]]))
    2
    """
    return int((duplicate_counts(train, train) >= 2).sum())


@dataclass(frozen=True)
class Excess:
    """A rate against the base rate chance gives, with the part chance cannot explain.

    ``estimate`` is ``(rate - base) / (1 - base)``: the share of rows that would have to be
    copies, rather than fresh draws that happen to coincide, to raise the base rate to the rate
    seen (the normalisation of anonymeter's risks).  ``beyond_chance`` first takes ``z``
    standard errors of the no-difference hypothesis off the excess, so a difference that
    sampling noise explains counts 0; with a base rate of 0 (no row repeats) there is no noise
    to take off and it equals the estimate.
    """

    rate: float
    base_rate: float
    estimate: float
    beyond_chance: float
    std_error: float
    z: float

    def to_dict(self) -> dict[str, float]:
        return {"rate": self.rate, "base_rate": self.base_rate, "estimate": self.estimate,
                "beyond_chance": self.beyond_chance, "std_error": self.std_error,
                "z": self.z}


def chance_excess(hits: int, n: int, base_hits: int, n_base: int, z: float) -> Excess:
    """The rate ``hits / n`` against the base rate ``base_hits / n_base`` (see :class:`Excess`).

    The standard error is that of two independent rates under the hypothesis that they are
    equal (the pooled two-proportion test).

    Examples
    --------
    >>> chance_excess(50, 100, 0, 100, z=3.0).beyond_chance  # nothing repeats by chance
    0.5
    >>> chance_excess(991, 1000, 992, 1000, z=3.0).beyond_chance  # repeats explain it all
    0.0
    """
    rate = hits / n if n else 0.0
    base = base_hits / n_base if n_base else 0.0
    if base >= 1.0:  # every fresh row copies a training row: copying cannot be told apart
        return Excess(rate, base, 0.0, 0.0, 0.0, z)
    pooled = (hits + base_hits) / (n + n_base) if n + n_base else 0.0
    se = math.sqrt(pooled * (1.0 - pooled) * ((1.0 / n if n else 0.0)
                                              + (1.0 / n_base if n_base else 0.0)))
    if base == 0.0:
        se = 0.0  # no fresh row coincides with a training row: every copy is a copy
    excess = rate - base
    estimate = excess / (1.0 - base)
    beyond = max(0.0, excess - z * se) / (1.0 - base)
    return Excess(rate, base, float(estimate), float(min(beyond, 1.0)), float(se), z)


def closeness(
    query: np.ndarray,
    z_query: np.ndarray,
    train: np.ndarray,
    z_train: np.ndarray,
    holdout: np.ndarray,
    z_holdout: np.ndarray,
    *,
    device: torch.device | str = "cpu",
) -> dict[str, np.ndarray]:
    """Which of two equally large reference samples each query row is closer to.

    Parameters
    ----------
    query, train, holdout : ndarray
        Encoded rows (``Prepared`` matrices), for the exact-copy counts.
    z_query, z_train, z_holdout : ndarray
        The same rows embedded for distances
        (:class:`~synthaug.validators._common.MixedDistanceEncoder`).
    device : torch.device or str
        Where the nearest-neighbour search runs.

    Returns
    -------
    dict
        ``side`` (+1: closer to ``train``, -1: closer to ``holdout``, 0: an exact draw),
        ``to_train`` and ``to_holdout`` (nearest distances), ``copies_train`` and
        ``copies_holdout`` (exact copies of the row in each sample).

    Examples
    --------
    >>> import numpy as np
    >>> t = np.array([[0.0], [0.0], [5.0]]); h = np.array([[0.0], [9.0], [7.0]])
    >>> q = np.array([[0.0], [5.5], [8.0]])
    >>> closeness(q, q, t, t, h, h)["side"].tolist()  # two copies beat one; then distances
    [1, 1, -1]
    """
    to_train = nearest_neighbours(z_query, z_train, k=1, device=device)[0][:, 0]
    to_holdout = nearest_neighbours(z_query, z_holdout, k=1, device=device)[0][:, 0]
    copies_train = duplicate_counts(query, train)
    copies_holdout = duplicate_counts(query, holdout)
    return {"side": sides(to_train, to_holdout, copies_train, copies_holdout),
            "to_train": to_train, "to_holdout": to_holdout,
            "copies_train": copies_train, "copies_holdout": copies_holdout}


def sides(to_train: np.ndarray, to_holdout: np.ndarray, copies_train: np.ndarray,
          copies_holdout: np.ndarray) -> np.ndarray:
    """+1 where the train side is closer, -1 where the holdout side is, 0 for an exact draw.

    Nearer by distance wins; at equal distances, the side with more exact copies of the row
    wins (at distance 0 that is where training rows pile up beyond what the holdout shows);
    equal distances with equally many copies are a draw.
    """
    # distances are recomputed from coordinate differences (an exact copy is exactly 0); the
    # tolerance only absorbs the last bits of float32 rounding
    tie = np.isclose(to_train, to_holdout, rtol=_DIST_RTOL, atol=_DIST_ATOL)
    by_distance = np.sign(to_holdout - to_train)
    by_copies = np.sign(copies_train - copies_holdout)
    return np.where(tie, by_copies, by_distance).astype(np.int64)


def one_sided_p(z_score: float) -> float:
    """P(a standard normal >= ``z_score``)."""
    return float(norm.sf(z_score)) if math.isfinite(z_score) else (0.0 if z_score > 0 else 1.0)


def as_float_dict(values: dict[str, Any]) -> dict[str, Any]:
    """Plain floats for the JSON details."""
    return {k: float(v) if isinstance(v, np.floating | float) else v for k, v in values.items()}
