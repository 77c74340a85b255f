"""Shared plumbing of the validators: row keys, exact copies, distances, devices.

The inputs themselves are checked and encoded by the data's modality
(:meth:`synthaug.data.modality.Modality.prepare`, once per suite run); what lives here works on
the matrices it returns, whatever the modality:

* :func:`row_keys` and :func:`exact_match` find rows that are exact copies of one another.
* :func:`frechet_distance` (and :class:`Gaussian`, one side fitted once and compared with
  several) is the Fréchet distance of feature embeddings, whatever network made them.
* :class:`MixedDistanceEncoder` and :func:`nearest_neighbours` give a mixed-type Euclidean
  distance and a chunked, bounded-memory nearest-neighbour search in torch (on the GPU when one is
  asked for), exact up to float32 rounding.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch

from synthaug.data.schema import ColumnSchema
from synthaug.exceptions import InvalidParameterError
from synthaug.utils.device import resolve_device

__all__ = [
    "Gaussian",
    "MixedDistanceEncoder",
    "exact_match",
    "frechet_distance",
    "nearest_neighbours",
    "resolve_validator_device",
    "row_keys",
    "two_proportion_interval",
]


# -- exact copies ------------------------------------------------------------------------------
def _canonical(matrix: np.ndarray) -> np.ndarray:
    """Rows as float64 with one bit pattern per value: -0.0 -> 0.0 and every NaN -> -inf.

    Encoded matrices never hold infinities (the schema refuses them), so -inf is a safe stand-in
    for missing that compares equal to itself.
    """
    out = np.asarray(matrix, dtype=np.float64) + 0.0  # adding +0.0 turns -0.0 into +0.0
    out[np.isnan(out)] = -np.inf
    return np.ascontiguousarray(out)


def row_keys(matrix: np.ndarray) -> np.ndarray:
    """A 64-bit hash per row of an encoded matrix (NaN equal to NaN, -0.0 equal to 0.0).

    Examples
    --------
    >>> import numpy as np
    >>> keys = row_keys(np.array([[1.0, np.nan], [1.0, np.nan], [-0.0, 2.0]]))
    >>> bool(keys[0] == keys[1]), bool(keys[0] == keys[2])
    (True, False)
    """
    canon = _canonical(matrix)
    return pd.util.hash_pandas_object(pd.DataFrame(canon), index=False).to_numpy(np.uint64)


def exact_match(query: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Boolean mask: which rows of ``query`` equal some row of ``reference`` exactly.

    Rows are hashed, then every hash hit is confirmed by comparing the rows themselves, so a hash
    collision cannot count as a copy.

    Examples
    --------
    >>> import numpy as np
    >>> exact_match(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[3.0, 4.0]])).tolist()
    [False, True]
    """
    q_canon, r_canon = _canonical(query), _canonical(reference)
    q_keys = row_keys(q_canon)
    r_keys = row_keys(r_canon)
    order = np.argsort(r_keys, kind="stable")
    sorted_keys = r_keys[order]
    pos = np.searchsorted(sorted_keys, q_keys)
    pos_clipped = np.minimum(pos, len(sorted_keys) - 1)
    hit = (pos < len(sorted_keys)) & (sorted_keys[pos_clipped] == q_keys)
    candidates = np.flatnonzero(hit)
    if len(candidates):
        partner = order[pos_clipped[candidates]]
        same = np.all(q_canon[candidates] == r_canon[partner], axis=1)
        hit[candidates[~same]] = False
    return hit


# -- mixed-type distances ----------------------------------------------------------------------
#: robust ranges past which a number counts as infinitely far (float32 squares stay finite)
_FAR = 1e6


class MixedDistanceEncoder:
    """Embed mixed-type rows so that Euclidean distance is a Gower-like mixed distance.

    Continuous columns (numbers, datetimes) are centred on the reference median and divided by
    their robust range (1st to 99th percentile; the full range, then 1, when that is zero), so a
    difference across the bulk of a column counts about 1.  Categorical and boolean columns are
    one-hot encoded with weight ``1/sqrt(2)``, so two different levels are at distance exactly 1,
    the same as a full robust range of a number.  A missing number is put at the median and
    flagged in an extra 0/1 column; a missing category is a level of its own.

    Parameters
    ----------
    columns : sequence of ColumnSchema
        The schemas of the matrix columns, in order.

    Examples
    --------
    >>> import numpy as np
    >>> from synthaug.data.schema import ColumnKind, ColumnSchema
    >>> cols = [ColumnSchema("x", ColumnKind.NUMERICAL, "float64"),
    ...         ColumnSchema("c", ColumnKind.CATEGORICAL, "object", categories=["a", "b"])]
    >>> ref = np.array([[0.0, 0.0], [10.0, 1.0], [5.0, 0.0]])
    >>> enc = MixedDistanceEncoder(cols).fit(ref)
    >>> z = enc.transform(np.array([[0.0, 0.0], [0.0, 1.0]]))
    >>> round(float(np.linalg.norm(z[0] - z[1])), 6)  # one category apart
    1.0
    """

    def __init__(self, columns: Sequence[ColumnSchema]) -> None:
        self.columns = list(columns)

    def fit(self, reference: np.ndarray, *others: np.ndarray) -> MixedDistanceEncoder:
        """Learn scales from ``reference``; ``others`` decide only where a missing flag goes."""
        self.center_: list[float] = []
        self.scale_: list[float] = []
        self.missing_: list[bool] = []
        self.levels_: list[int] = []
        for j, col in enumerate(self.columns):
            values = reference[:, j]
            anywhere_missing = bool(np.isnan(values).any()) or any(
                bool(np.isnan(m[:, j]).any()) for m in others
            )
            self.missing_.append(anywhere_missing)
            finite = values[~np.isnan(values)]
            if col.kind.is_discrete:
                self.center_.append(0.0)
                self.scale_.append(1.0)
                top = max(
                    [len(col.categories or [])]
                    + [int(np.nanmax(m[:, j])) + 1 for m in (reference, *others)
                       if not np.isnan(m[:, j]).all()]
                )
                self.levels_.append(top)
                continue
            self.levels_.append(0)
            if len(finite) == 0:
                self.center_.append(0.0)
                self.scale_.append(1.0)
                continue
            lo, med, hi = np.percentile(finite, [1.0, 50.0, 99.0])
            scale = float(hi - lo) or float(finite.max() - finite.min()) or 1.0
            self.center_.append(float(med))
            self.scale_.append(scale)
        widths = [
            (lv + int(miss)) if col.kind.is_discrete else 1 + int(miss)
            for col, lv, miss in zip(self.columns, self.levels_, self.missing_, strict=True)
        ]
        self.n_features_out_ = int(sum(widths))
        return self

    def transform(self, matrix: np.ndarray) -> np.ndarray:
        """Embed ``matrix`` (same columns as fitted) as float32 rows."""
        n = matrix.shape[0]
        out = np.zeros((n, self.n_features_out_), dtype=np.float32)
        pos = 0
        one_hot = np.float32(math.sqrt(0.5))
        rows = np.arange(n)
        for j, col in enumerate(self.columns):
            values = matrix[:, j]
            missing = np.isnan(values)
            if col.kind.is_discrete:
                width = self.levels_[j] + int(self.missing_[j])
                codes = np.where(missing, self.levels_[j], values)
                codes = np.clip(codes, 0, width - 1).astype(np.int64)
                out[rows, pos + codes] = one_hot
                pos += width
                continue
            # a value millions of robust ranges out is as far as one can be: capped, so that
            # extremes (1e308) stay finite in float32 and distances to them do not turn NaN
            scaled = np.clip((values - self.center_[j]) / self.scale_[j], -_FAR, _FAR)
            out[:, pos] = np.where(missing, 0.0, scaled)
            pos += 1
            if self.missing_[j]:
                out[:, pos] = missing
                pos += 1
        return out


def resolve_validator_device(device: str, context: Mapping[str, Any] | None) -> torch.device:
    """The device a validator computes on: ``context["device"]`` when given, else ``device``."""
    chosen = (context or {}).get("device", device)
    return resolve_device(chosen)


#: reference rows are grouped in sub-blocks of this many rows; the search first finds the best
#: sub-blocks of each query with cheap min-reductions, then resolves rows only inside them.
#: 512 keeps the reduction as fast as a whole-row min on CPU (smaller groups were 2x slower).
_SUB = 512
#: most neighbours one search returns
_MAX_K = 16


def nearest_neighbours(
    query: np.ndarray,
    reference: np.ndarray,
    *,
    k: int = 1,
    device: torch.device | str = "cpu",
    block_rows: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Distances to and indices of the ``k`` nearest ``reference`` rows of each ``query`` row.

    Brute force in blocks, so memory stays bounded whatever the sizes: a ``block_rows`` x
    ``block_rows`` float32 block of squared distances (from one matrix product, as
    ``torch.cdist`` does for large inputs) is reduced to minima over groups of 512 reference rows,
    and a running top-``k`` of those minima is kept per query.  The winning groups are then
    searched row by row, and the final distances are recomputed from coordinate differences, so
    an exact copy is at distance exactly 0.

    Parameters
    ----------
    query, reference : ndarray of shape (n, d) and (m, d)
        Embedded rows (for example from :class:`MixedDistanceEncoder`); no NaN.
    k : int, 1 to 16
        How many neighbours (k-NN balls, distance ratios; more would crowd the row search).
    device : torch.device or str
        Where to compute.
    block_rows : int, optional
        Rows per block side; default 4096 on the CPU (a 64 MiB block), 16384 on a GPU.

    Returns
    -------
    distances : ndarray of shape (n, k), float64
        Euclidean distances, nearest first (``inf`` where fewer than ``k`` references exist).
    indices : ndarray of shape (n, k), int64
        Row numbers in ``reference`` (-1 where fewer than ``k`` exist).

    Examples
    --------
    >>> import numpy as np
    >>> ref = np.array([[0.0, 0.0], [3.0, 4.0], [1.0, 0.0]], dtype=np.float32)
    >>> d, i = nearest_neighbours(np.array([[0.0, 0.0]], dtype=np.float32), ref, k=2)
    >>> d.tolist(), i.tolist()
    ([[0.0, 1.0]], [[0, 2]])
    """
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= _MAX_K:
        raise InvalidParameterError(f"nearest_neighbours: k must be an int from 1 to {_MAX_K}, "
                                    f"got {k!r}.")
    dev = torch.device(device)
    n_query, n_ref = query.shape[0], reference.shape[0]
    if n_query == 0 or n_ref == 0:
        return np.full((n_query, k), np.inf), np.full((n_query, k), -1, dtype=np.int64)
    if block_rows is None:
        block_rows = 16384 if dev.type == "cuda" else 4096
    ref, ref_sq = _padded_reference(reference, dev)
    width = max(_SUB, min(block_rows // _SUB * _SUB, ref.shape[0]))
    buffer = torch.empty(block_rows * width, dtype=torch.float32, device=dev)
    found = torch.empty((n_query, k), dtype=torch.int64)
    for q0 in range(0, n_query, block_rows):
        q = torch.from_numpy(np.ascontiguousarray(query[q0:q0 + block_rows], np.float32)).to(dev)
        m = q.shape[0]
        best_val = torch.full((m, k), math.inf, device=dev)
        best_idx = torch.full((m, k), -1, dtype=torch.int64, device=dev)
        for r0 in range(0, ref.shape[0], width):
            r1 = min(r0 + width, ref.shape[0])
            # a flat buffer viewed to the block's shape stays contiguous for the grouped view
            out = buffer[: m * (r1 - r0)].view(m, (r1 - r0) // _SUB, _SUB)
            # |r|^2 - 2 q.r: the |q|^2 term is the same for every reference row of a query, so
            # it cannot change which row is nearest and is left out of the hot loop
            torch.addmm(ref_sq[r0:r1].unsqueeze(0), q, ref[r0:r1].T, beta=1, alpha=-2,
                        out=out.view(m, r1 - r0))
            # the k nearest rows of the block lie in the k groups with the smallest minima
            kk = min(k, out.shape[1])
            group_val, groups = torch.topk(out.amin(dim=2), kk, dim=1, largest=False)
            # only queries whose k-th best can improve look inside those groups; after the first
            # blocks that is a small share of the rows, which keeps the row-level search cheap
            better = torch.nonzero(group_val[:, 0] < best_val[:, k - 1]).squeeze(1)
            if better.numel() == 0:
                continue
            groups = groups[better]
            inside = out[better.unsqueeze(1), groups].reshape(better.numel(), kk * _SUB)
            vals, pos = torch.topk(inside, k, dim=1, largest=False)
            idx = r0 + torch.gather(groups, 1, pos // _SUB) * _SUB + pos % _SUB
            cand_val = torch.cat([best_val[better], vals], dim=1)
            cand_idx = torch.cat([best_idx[better], idx], dim=1)
            merged_val, pick = torch.topk(cand_val, k, dim=1, largest=False)
            best_val[better] = merged_val
            best_idx[better] = torch.gather(cand_idx, 1, pick)
        best_idx[~torch.isfinite(best_val)] = -1
        found[q0:q0 + m] = best_idx.cpu()
    del buffer
    return _exact_topk(query, ref, found, k, n_ref, dev)


def _padded_reference(
    reference: np.ndarray, dev: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """Reference rows on ``dev``, padded to whole groups; padding rows get |r|^2 = inf."""
    n_ref = reference.shape[0]
    n_pad = -(-n_ref // _SUB) * _SUB
    ref = torch.zeros((n_pad, reference.shape[1]), dtype=torch.float32, device=dev)
    ref[:n_ref] = torch.from_numpy(np.ascontiguousarray(reference, np.float32)).to(dev)
    ref_sq = (ref * ref).sum(dim=1)
    ref_sq[n_ref:] = math.inf  # inf + finite stays inf, so padding is never anyone's neighbour
    return ref, ref_sq


def _exact_topk(
    query: np.ndarray,
    ref: torch.Tensor,
    candidates: torch.Tensor,
    k: int,
    n_ref: int,
    dev: torch.device,
) -> tuple[np.ndarray, np.ndarray]:
    """Distances to the candidate rows from coordinate differences (no cancellation), top k."""
    n_query, n_cand = candidates.shape
    d = ref.shape[1]
    chunk = max(256, (1 << 22) // max(1, n_cand * d))
    dist_out = np.empty((n_query, k))
    idx_out = np.empty((n_query, k), dtype=np.int64)
    for q0 in range(0, n_query, chunk):
        cand = candidates[q0:q0 + chunk]
        valid = (cand >= 0) & (cand < n_ref)
        rows = ref[cand.clamp(min=0).to(dev)]
        q = torch.from_numpy(np.ascontiguousarray(query[q0:q0 + chunk], np.float32)).to(dev)
        sq = ((rows - q.unsqueeze(1)) ** 2).sum(dim=2).cpu().double()
        sq[~valid] = math.inf
        # the same row can be a candidate twice (found from two groups): drop repeats
        dup = torch.zeros_like(valid)
        for a in range(1, n_cand):
            dup[:, a] = (cand[:, :a] == cand[:, a:a + 1]).any(dim=1)
        sq[dup] = math.inf
        vals, pick = torch.topk(sq, k, dim=1, largest=False)
        chosen = torch.gather(cand, 1, pick)
        chosen[~torch.isfinite(vals)] = -1
        dist_out[q0:q0 + chunk] = vals.sqrt().numpy()
        idx_out[q0:q0 + chunk] = chosen.numpy()
    return dist_out, idx_out


# -- Fréchet distance between Gaussians fitted to two sets of features --------------------------
class Gaussian:
    """Mean, covariance and covariance square root of one side (reused against several)."""

    def __init__(self, mean: np.ndarray, cov: np.ndarray, root: np.ndarray) -> None:
        self.mean, self.cov, self.root = mean, cov, root

    @classmethod
    def fit(cls, rows: np.ndarray) -> Gaussian:
        x = np.asarray(rows, np.float64)
        cov = np.atleast_2d(np.cov(x, rowvar=False))
        w, v = np.linalg.eigh(cov)
        return cls(x.mean(axis=0), cov, (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T)

    def frechet(self, b: np.ndarray) -> tuple[float, float, float]:
        """``(distance, mean_term, covariance_term)`` to the rows ``b`` (see
        :func:`frechet_distance`)."""
        b64 = np.asarray(b, np.float64)
        mean_term = float(np.sum((self.mean - b64.mean(axis=0)) ** 2))
        s_b = np.atleast_2d(np.cov(b64, rowvar=False))
        middle = self.root @ s_b @ self.root
        tr_sqrt = float(np.sqrt(np.clip(np.linalg.eigvalsh((middle + middle.T) / 2), 0.0,
                                        None)).sum())
        cov_term = float(np.trace(self.cov) + np.trace(s_b) - 2.0 * tr_sqrt)
        return max(0.0, mean_term + cov_term), mean_term, cov_term


def frechet_distance(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    """Fréchet distance between Gaussians fitted to the rows of ``a`` and ``b``.

    ``|mu_a - mu_b|^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2))`` (Heusel et al. 2017's formula);
    the trace of the square root is computed from the symmetric ``S_a^(1/2) S_b S_a^(1/2)``,
    whose eigenvalues are those of ``S_a S_b`` and real (no complex round-off to discard, as
    ``scipy.linalg.sqrtm`` leaves).

    Returns
    -------
    distance, mean_term, covariance_term : float

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(500, 3))
    >>> round(frechet_distance(x, x)[0], 9), round(frechet_distance(x, x + 1.0)[1], 6)
    (0.0, 3.0)
    """
    return Gaussian.fit(a).frechet(b)


def two_proportion_interval(p: float, n_p: int, q: float, n_q: int,
                            z: float = 1.96) -> tuple[float, float]:
    """The normal-approximation interval of ``p - q``, two independent proportions.

    Examples
    --------
    >>> lo, hi = two_proportion_interval(0.5, 100, 0.5, 100)
    >>> round(lo, 3), round(hi, 3)
    (-0.139, 0.139)
    """
    half = z * math.sqrt(p * (1 - p) / max(1, n_p) + q * (1 - q) / max(1, n_q))
    return p - q - half, p - q + half
