"""Gaussian-copula tabular generator: the fast CPU baseline.

Every column is mapped to a standard-normal latent through its own marginal:

* numerical, integer and datetime columns through their empirical CDF (a grid of quantiles,
  ties broken at random so heavily repeated values such as zero keep their mass), plus a binary
  latent for "is missing" when the column has missing values;
* categorical and boolean columns through frequency intervals: level ``k`` owns the interval
  ``[F(k-1), F(k))`` of the unit line (missing is a level of its own).

The latents' correlation is the model.  Sampling draws correlated normals and maps each back
through its marginal.  Conditioning is exact and has no rejection loop: a categorical condition
truncates its latent to the level's interval, a numerical condition fixes it, the conditioned
latents are drawn from their truncated joint normal (exactly for one, by a fixed number of Gibbs
sweeps for several) and the others from the Gaussian conditional given them.

The saved model holds the quantile grid and level frequencies of each column and the latent
correlation matrix; no training rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from scipy import special, stats

from synthaug.exceptions import InvalidParameterError
from synthaug.generators.base import register_generator
from synthaug.generators.tabular.base import TabularGenerator
from synthaug.utils.random import RandomState

__all__ = ["GaussianCopulaGenerator"]

_EPS = 1e-9
GIBBS_SWEEPS = 24


@dataclass
class _Latent:
    """Where column ``column`` lives in the latent vector."""

    column: int
    value_dim: int | None  # continuous value, or discrete level interval
    missing_dim: int | None  # continuous columns with missing values
    missing_rate: float = 0.0


@register_generator("tabular.copula")
class GaussianCopulaGenerator(TabularGenerator):
    """Gaussian copula over empirical marginals, with exact conditional sampling.

    Parameters
    ----------
    n_quantiles : int, default=1000
        Points of each numerical column's quantile grid (fewer when the column has fewer values).
        More points follow the marginal more closely.
    shrinkage : float, default=1e-3
        Weight of the identity blended into the latent correlation so it stays positive definite
        (needed with constant or perfectly dependent columns).
    exact_bounds : bool, default=False
        Keep each number and date column's exact minimum and maximum.  By default the model
        keeps the values that at least 10 training rows reach at each end (the 10th smallest
        and largest; at most 1% of the rows), so a saved model never holds the extreme value
        of a single person, and it learns from the training rows clipped to those bounds.
        Samples stay within the bounds either way (``fidelity.out_of_range`` does not change:
        they lie inside the real range); rows beyond them are not reproduced.
    device : str, default="auto"
        Accepted for the common interface; the copula computes with numpy on the CPU.
    random_state : int, numpy Generator or None
        Seeds ``fit`` (tie breaking, interval draws).  ``sample`` takes its own ``random_state``.
    progress : bool or None
        Accepted for the common interface; fitting takes well under a second per 100k rows.

    Examples
    --------
    >>> import pandas as pd
    >>> from synthaug.generators.tabular import GaussianCopulaGenerator
    >>> df = pd.DataFrame({"age": [23, 35, 47, 51, 62, 29],
    ...                    "income": ["<=50K", ">50K", ">50K", "<=50K", ">50K", "<=50K"]})
    >>> gen = GaussianCopulaGenerator(random_state=0).fit(df)
    >>> rows = gen.sample(4, conditions={"income": ">50K"}, random_state=0)
    >>> rows["income"].tolist()
    ['>50K', '>50K', '>50K', '>50K']
    """

    family = "copula"
    tags = frozenset({"exact_conditions", "cpu", "default"})

    def __init__(
        self,
        *,
        n_quantiles: int = 1000,
        shrinkage: float = 1e-3,
        exact_bounds: bool = False,
        device: str = "auto",
        random_state: RandomState = None,
        progress: bool | None = None,
    ) -> None:
        self.n_quantiles = n_quantiles
        self.shrinkage = shrinkage
        self.exact_bounds = exact_bounds
        self.device = device
        self.random_state = random_state
        self.progress = progress

    def _check_params(self) -> None:
        q = self.n_quantiles
        if isinstance(q, bool) or not isinstance(q, (int, np.integer)) or q < 2:
            raise InvalidParameterError(f"n_quantiles must be an int >= 2, got {q!r}.")
        if not isinstance(self.shrinkage, (int, float)) or not 0 <= self.shrinkage < 1:
            raise InvalidParameterError(f"shrinkage must be in [0, 1), got {self.shrinkage!r}.")

    # -- fit -----------------------------------------------------------------------------------
    def _fit_matrix(self, matrix: np.ndarray, rng: np.random.Generator) -> None:
        n = len(matrix)
        latents: list[_Latent] = []
        grids: dict[int, np.ndarray] = {}
        cumfreqs: dict[int, np.ndarray] = {}
        blocks: list[np.ndarray] = []
        dim = 0
        for j, col in enumerate(self.schema_.columns):
            values = matrix[:, j]
            missing = np.isnan(values)
            if col.kind.is_discrete:
                n_levels = len(col.categories or [])
                codes = np.where(missing, n_levels, values).astype(np.int64)  # missing: last level
                counts = np.bincount(codes, minlength=n_levels + 1).astype(np.float64)
                cum = np.concatenate([[0.0], np.cumsum(counts) / n])
                cum[-1] = 1.0
                u = cum[codes] + rng.random(n) * (cum[codes + 1] - cum[codes])
                cumfreqs[j] = cum
                blocks.append(u)
                latents.append(_Latent(j, dim, None))
                dim += 1
            elif col.kind.is_continuous:
                observed = values[~missing]
                k = int(min(self.n_quantiles, max(2, len(observed))))
                probs = np.linspace(0.0, 1.0, k)
                grids[j] = np.quantile(observed, probs)
                # random tie-breaking ranks -> uniform scores; missing rows get an independent draw
                order = np.lexsort((rng.random(len(observed)), observed))
                ranks = np.empty(len(observed))
                ranks[order] = np.arange(1, len(observed) + 1)
                u = rng.random(n)
                u[~missing] = ranks / (len(observed) + 1)
                blocks.append(u)
                value_dim = dim
                dim += 1
                missing_dim = None
                rate = float(missing.mean())
                if missing.any():
                    # latent below the rate's quantile means "missing"
                    r = rng.random(n)
                    blocks.append(np.where(missing, r * rate, rate + r * (1 - rate)))
                    missing_dim = dim
                    dim += 1
                latents.append(_Latent(j, value_dim, missing_dim, rate))
            else:  # identifiers and empty columns are regenerated, not learned
                latents.append(_Latent(j, None, None))
        if blocks:
            z = special.ndtri(np.clip(np.column_stack(blocks), _EPS, 1 - _EPS))
            corr = np.atleast_2d(np.corrcoef(z, rowvar=False)) if n > 1 else np.eye(dim)
            corr = np.nan_to_num(corr, nan=0.0)
            np.fill_diagonal(corr, 1.0)
            corr = (1 - self.shrinkage) * corr + self.shrinkage * np.eye(dim)
        else:
            corr = np.zeros((0, 0))
        self.latents_ = latents
        self.grids_ = grids
        self.cumfreqs_ = cumfreqs
        self.correlation_ = corr
        self._prepare()

    def _prepare(self) -> None:
        dim = len(self.correlation_)
        self._cholesky = np.linalg.cholesky(self.correlation_) if dim else np.zeros((0, 0))

    def _level_seen(self, column: int, code: int) -> bool:
        cum = self.cumfreqs_[column]
        return bool(cum[code + 1] > cum[code])

    # -- sample --------------------------------------------------------------------------------
    def _sample_matrix(
        self, n: int, fixed: Mapping[int, float], rng: np.random.Generator
    ) -> np.ndarray:
        dim = len(self.correlation_)
        z = self._draw_latents(n, self._latent_constraints(fixed), rng) if dim else None
        out = np.full((n, len(self.schema_.columns)), np.nan)
        for lat in self.latents_:
            if lat.value_dim is None or z is None:
                continue
            u = special.ndtr(z[:, lat.value_dim])
            j = lat.column
            if j in self.cumfreqs_:
                cum = self.cumfreqs_[j]
                codes = np.clip(np.searchsorted(cum, u, side="right") - 1, 0, len(cum) - 2)
                n_levels = len(cum) - 2  # last interval is "missing"
                out[:, j] = np.where(codes >= n_levels, np.nan, codes)
            else:
                grid = self.grids_[j]
                values = np.interp(u, np.linspace(0.0, 1.0, len(grid)), grid)
                if lat.missing_dim is not None:
                    values[special.ndtr(z[:, lat.missing_dim]) < lat.missing_rate] = np.nan
                out[:, j] = values
        return out

    def _latent_constraints(self, fixed: Mapping[int, float]) -> dict[int, tuple[float, float]]:
        """Latent box ``{dim: (low, high)}`` (low == high: a point) for the conditions."""
        box: dict[int, tuple[float, float]] = {}
        by_column = {lat.column: lat for lat in self.latents_}
        for j, value in fixed.items():
            lat = by_column[j]
            if lat.value_dim is None:
                continue
            if j in self.cumfreqs_:
                cum = self.cumfreqs_[j]
                code = int(value)
                lo, hi = special.ndtri(np.clip([cum[code], cum[code + 1]], _EPS, 1 - _EPS))
                box[lat.value_dim] = (float(lo), float(hi))
            else:
                grid = self.grids_[j]
                probs = np.linspace(0.0, 1.0, len(grid))
                # the probability band that maps to this value: a band when the value is on
                # the grid (repeated values such as 0 own a wide one), else a single point
                left = int(np.searchsorted(grid, value, side="left"))
                right = int(np.searchsorted(grid, value, side="right"))
                if right > left:
                    lo_u, hi_u = float(probs[left]), float(probs[right - 1])
                else:
                    lo_u = hi_u = float(np.interp(value, grid, probs))
                lo, hi = special.ndtri(np.clip([lo_u, hi_u], _EPS, 1 - _EPS))
                box[lat.value_dim] = (float(lo), float(hi))
                if lat.missing_dim is not None:  # a value was asked for: not missing
                    box[lat.missing_dim] = (float(special.ndtri(lat.missing_rate)), np.inf)
        return box

    def _draw_latents(
        self, n: int, box: Mapping[int, tuple[float, float]], rng: np.random.Generator
    ) -> np.ndarray:
        dim = len(self.correlation_)
        if not box:
            return rng.standard_normal((n, dim)) @ self._cholesky.T
        cov = self.correlation_
        cond = sorted(box)
        free = [d for d in range(dim) if d not in box]
        lows = np.array([box[d][0] for d in cond])
        highs = np.array([box[d][1] for d in cond])
        zc = _gibbs_truncated(cov[np.ix_(cond, cond)], lows, highs, n, rng)
        z = np.empty((n, dim))
        z[:, cond] = zc
        if free:
            s_cc = cov[np.ix_(cond, cond)]
            s_fc = cov[np.ix_(free, cond)]
            gain = np.linalg.solve(s_cc, s_fc.T).T  # Sigma_fc Sigma_cc^-1
            cond_cov = cov[np.ix_(free, free)] - gain @ s_fc.T
            chol = np.linalg.cholesky(cond_cov + 1e-10 * np.eye(len(free)))
            z[:, free] = zc @ gain.T + rng.standard_normal((n, len(free))) @ chol.T
        return z

    # -- persistence ---------------------------------------------------------------------------
    def _get_model_state(self) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        state = {"latents": [asdict(lat) for lat in self.latents_]}
        tensors = {"correlation": torch.from_numpy(np.ascontiguousarray(self.correlation_))}
        tensors |= {f"grid.{j}": torch.from_numpy(g) for j, g in self.grids_.items()}
        tensors |= {f"cumfreq.{j}": torch.from_numpy(c) for j, c in self.cumfreqs_.items()}
        return state, tensors

    def _set_model_state(
        self, state: Mapping[str, Any], tensors: Mapping[str, torch.Tensor]
    ) -> None:
        self.latents_ = [_Latent(**lat) for lat in state["latents"]]
        arrays = {k: v.cpu().numpy().astype(np.float64) for k, v in tensors.items()}
        self.correlation_ = arrays["correlation"]
        self.grids_ = {int(k.split(".")[1]): v for k, v in arrays.items() if k.startswith("grid.")}
        self.cumfreqs_ = {
            int(k.split(".")[1]): v for k, v in arrays.items() if k.startswith("cumfreq.")
        }
        for lat in self.latents_:
            if lat.value_dim is not None and lat.column not in self.grids_ \
                    and lat.column not in self.cumfreqs_:
                raise KeyError(f"no marginal saved for column {lat.column}")
        self._prepare()


def _gibbs_truncated(
    cov: np.ndarray, lows: np.ndarray, highs: np.ndarray, n: int, rng: np.random.Generator
) -> np.ndarray:
    """Draw ``n`` vectors from N(0, cov) truncated to the box [lows, highs].

    Points (low == high) are exact.  One interval is drawn exactly; several by a fixed number
    of Gibbs sweeps, each of which keeps every draw inside the box (no rejection).
    """
    k = len(lows)
    points = lows == highs
    z = np.where(points, lows, 0.0)[None, :].repeat(n, axis=0)
    free = np.flatnonzero(~points)
    if len(free) == 0:
        return z
    # start each interval dim at a draw from its own (marginal) truncated normal
    for i in free:
        z[:, i] = _truncnorm(np.zeros(n), 1.0, lows[i], highs[i], rng)
    sweeps = 1 if len(free) == 1 else GIBBS_SWEEPS
    precision = np.linalg.inv(cov)
    for _ in range(sweeps):
        for i in free:
            # conditional of z_i given the rest, from the precision matrix
            var = 1.0 / precision[i, i]
            others = [m for m in range(k) if m != i]
            mean = -var * (z[:, others] @ precision[i, others])
            z[:, i] = _truncnorm(mean, np.sqrt(var), lows[i], highs[i], rng)
    return z


def _truncnorm(
    mean: np.ndarray, std: float, low: float, high: float, rng: np.random.Generator
) -> np.ndarray:
    a = (low - mean) / std
    b = (high - mean) / std
    return np.asarray(stats.truncnorm.rvs(a, b, loc=mean, scale=std, random_state=rng))
