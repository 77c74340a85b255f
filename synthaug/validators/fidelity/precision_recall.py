"""Alpha-precision and beta-recall (Alaa et al., ICML 2022), without a trained embedding.

Alaa, van Breugel, Saveliev and van der Schaar, "How Faithful is your Synthetic Data?
Sample-level Metrics for Evaluating and Auditing Generative Models", ICML 2022, define

* the **alpha-support** of a distribution: the smallest-volume region holding a share alpha of
  its mass (its "typical" part, outliers left out as alpha shrinks);
* **alpha-precision** ``P(alpha)``: the share of synthetic rows inside the real alpha-support;
  a faithful generator gives ``P(alpha) = alpha`` for every alpha;
* **beta-recall** ``R(beta)``: the share of real rows inside the synthetic beta-support; again
  ideally ``R(beta) = beta``;
* the **integrated** scores ``1 - 2 * integral_0^1 |P(alpha) - alpha| d alpha`` (and likewise
  for R), in [0, 1], 1 for a perfect generator.

The paper maps rows with a one-class network trained so that supports become balls around a
centre.  Here no network is trained.  Rows are embedded with
:class:`~synthaug.validators._common.MixedDistanceEncoder` (numbers scaled by their robust
range, categories one-hot at distance 1), and the supports are approximated as common
re-implementations do (the authors' reference code, vanderschaarlab/evaluating-generative-models,
and synthcity's ``AlphaPrecision`` when run without the one-class embedding):

* the real alpha-support is the ball around the mean real embedding whose radius is the
  alpha-quantile of the real rows' distances to that mean;
* a real row counts towards beta-recall when (a) its nearest synthetic row lies within its own
  k-nearest-neighbour radius (distance to its k-th nearest *distinct* real row, k = 5 as in
  Naeem et al., ICML 2020), so the synthetic data reaches its neighbourhood, and (b) that
  synthetic row lies in the synthetic beta-support, the ball around the mean synthetic embedding
  whose radius is the beta-quantile of the synthetic rows' distances to it.  Using only the
  nearest synthetic row for (b) is the approximation the reference code makes (it takes the
  quantile over those matched rows; over all synthetic rows, as here, is the definition of the
  beta-support).

A ball around the mean is a sound support for unimodal data; for strongly multimodal data it
also covers the empty space between modes, so alpha-precision is lenient there.  The k-NN test
of beta-recall has no such blind spot: a generator that drops a mode loses recall.

Reading the values
------------------
Both are estimates from finite samples, and sampling noise only pulls them down (the
integrands are absolute deviations).  Copies of the real rows score 1.0 on both.  A perfect
generator, drawing fresh rows from the real distribution, scores a little below 1 on
alpha-precision (about 0.93 to 0.96 with 600 rows of each, 0.99 with 5,000) and on
beta-recall (0.94 on 400 Gaussian rows, 0.87 on 3,000 Adult rows scored against 3,000 other
Adult rows).  The neighbourhood size matters: with k = 1, as in the authors' reference code, a
real row counts as reached only when its nearest synthetic row is nearer than its nearest real
neighbour, which for exchangeable rows at equal sample sizes happens half of the time, so a
perfect generator would score about 0.5; k = 5 lifts that to the values above.  Whether a
synthetic row lands in a neighbourhood also depends on how many there are, so beta-recall is
computed on equal-size samples of both sides.  No interval is
given: a bootstrap of these bounded, downward-biased statistics yields intervals that exclude
the estimate itself near 1.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from synthaug.data.modality import Prepared
from synthaug.exceptions import InvalidParameterError
from synthaug.validators._common import (
    MixedDistanceEncoder,
    nearest_neighbours,
    resolve_validator_device,
    row_keys,
)
from synthaug.validators.base import FEATURE_MODALITIES, BaseValidator, Score, register_validator

__all__ = ["AlphaPrecision", "BetaRecall", "integrated_score"]

#: alpha (beta) grid of the integral: fine, since each point costs one comparison per row
_GRID = np.linspace(0.0, 1.0, 101)
#: grid points kept in the details for a plot (alpha = 0.05, 0.10, ..., 1.00)
_CURVE_STEP = 5
#: the non-integrated level reported alongside the curve
_LEVEL = 0.9


def integrated_score(curve: np.ndarray, grid: np.ndarray) -> float:
    """``1 - 2 * integral |curve(a) - a| da`` by the trapezoid rule; 1 when ``curve`` is ideal.

    Examples
    --------
    >>> import numpy as np
    >>> grid = np.linspace(0, 1, 101)
    >>> integrated_score(grid, grid), integrated_score(np.zeros(101), grid)
    (1.0, 0.0)
    """
    return float(1.0 - 2.0 * np.trapezoid(np.abs(curve - grid), grid))


def _check_max_rows(max_rows: int | None) -> None:
    if max_rows is not None and (
        not isinstance(max_rows, int) or isinstance(max_rows, bool) or max_rows < 2
    ):
        raise InvalidParameterError(f"max_rows must be an integer >= 2 or None, got {max_rows!r}.")


def _subsample(n: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """Sorted row numbers of a uniform sample of ``size`` of ``n`` rows (all if fewer)."""
    if size >= n:
        return np.arange(n)
    return np.sort(rng.choice(n, size=size, replace=False))


def _embed(
    tables: Prepared, n_real: int, n_synth: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Embedded uniform samples of ``n_real`` real and ``n_synth`` synthetic rows."""
    cols = list(tables.columns)
    real = tables.real[:, cols][_subsample(len(tables.real), n_real, rng)]
    synth = tables.synthetic[:, cols][_subsample(len(tables.synthetic), n_synth, rng)]
    encoder = MixedDistanceEncoder(tables.column_schemas).fit(real, synth)
    return encoder.transform(real), encoder.transform(synth)


def _cap(n: int, max_rows: int | None) -> int:
    return n if max_rows is None else min(n, max_rows)


def _to_centre(z: np.ndarray, centre: np.ndarray) -> np.ndarray:
    """Euclidean distance of each row to ``centre``, in float64, in row blocks."""
    out = np.empty(len(z))
    for start in range(0, len(z), 65536):
        block = z[start:start + 65536].astype(np.float64) - centre
        out[start:start + 65536] = np.sqrt(np.einsum("ij,ij->i", block, block))
    return out


def _levels(distances: np.ndarray, radii: np.ndarray) -> np.ndarray:
    """Index of the first grid radius each distance is within (len(radii): none)."""
    # radii are non-decreasing: the first k with distance <= radii[k]
    return np.searchsorted(radii, distances, side="left")


def _curve(levels: np.ndarray) -> np.ndarray:
    """Share of rows whose level is <= k, for every grid point k."""
    counts = np.bincount(levels, minlength=len(_GRID) + 1)[: len(_GRID)]
    return np.cumsum(counts) / len(levels)


def _summary(levels: np.ndarray, what: str, level_name: str) -> tuple[float, dict[str, Any]]:
    """The integrated score and the details behind a plot of the curve."""
    curve = _curve(levels)
    keep = np.arange(_CURVE_STEP, len(_GRID), _CURVE_STEP)
    at = round(_LEVEL * (len(_GRID) - 1))
    details = {
        "curve": {
            level_name: [round(float(a), 4) for a in _GRID[keep]],
            what: [float(v) for v in curve[keep]],
        },
        f"{what}_at_{_LEVEL}": float(curve[at]),
        f"{what}_at_1": float(curve[-1]),
        "deviation": float(np.trapezoid(curve - _GRID, _GRID)),
    }
    return integrated_score(curve, _GRID), details


@register_validator("fidelity.alpha_precision")
class AlphaPrecision(BaseValidator):
    """Integrated alpha-precision: do synthetic rows fall where real rows typically are?

    Alaa et al. (ICML 2022)'s integrated alpha-precision, with the real alpha-support
    approximated by balls around the mean real embedding (see the module docstring): for each
    alpha, ``P(alpha)`` is the share of synthetic rows whose distance to the real centre is at
    most the alpha-quantile of the real rows' distances.  The value is
    ``1 - 2 * integral |P(alpha) - alpha| d alpha``, in [0, 1]: 1.0 when synthetic rows spread
    over the real support exactly as real rows do, 0.0 when every synthetic row lies outside
    it (or all on its centre).  It is linear in the rows (no neighbour search).

    Parameters
    ----------
    max_rows : int or None, default 100_000
        Use uniform samples of at most this many real and synthetic rows (None: all).
    random_state : int or None, default 0
        Seed of the row samples.

    Notes
    -----
    Details: ``curve`` (``{"alpha": [0.05, ..., 1.0], "precision": [...]}``, 20 points; the
    ideal is the diagonal), ``precision_at_0.9`` (``P(0.9)``, ideal 0.9), ``precision_at_1``
    (share of synthetic rows inside the smallest ball holding every real row), ``deviation``
    (``integral (P(alpha) - alpha) d alpha``: above 0, synthetic rows crowd the real core;
    below 0, they sit at or beyond its edge), ``n_real``, ``n_synthetic``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> real = pd.DataFrame({"x": rng.normal(size=500), "y": rng.normal(size=500)})
    >>> same = pd.DataFrame({"x": rng.normal(size=500), "y": rng.normal(size=500)})
    >>> AlphaPrecision().score(real, same).value > 0.9
    True
    >>> AlphaPrecision().score(real, same + 10.0).value
    0.0
    """

    category = "fidelity"
    direction = "higher"
    modalities = FEATURE_MODALITIES

    def __init__(
        self,
        *,
        max_rows: int | None = 100_000,
        random_state: int | None = 0,
    ) -> None:
        self.max_rows = max_rows
        self.random_state = random_state

    def score(
        self,
        real: Any,
        synthetic: Any,
        *,
        holdout: Any = None,
        context: Mapping[str, Any] | None = None,
    ) -> Score:
        _check_max_rows(self.max_rows)
        tables = self._prepare(real, synthetic, context=context)
        rng = np.random.default_rng(self.random_state)
        z_real, z_synth = _embed(tables, _cap(len(tables.real), self.max_rows),
                                 _cap(len(tables.synthetic), self.max_rows), rng)
        centre = z_real.astype(np.float64).mean(axis=0)
        radii = np.quantile(_to_centre(z_real, centre), _GRID)
        levels = _levels(_to_centre(z_synth, centre), radii)
        value, details = _summary(levels, "precision", "alpha")
        details.update(n_real=len(z_real), n_synthetic=len(z_synth))
        return self._score(value, details=details)

    def figures(self, score: Score) -> dict[str, Any]:
        """The alpha-precision curve (``details["curve"]``) as a ``curves`` figure."""
        # imported on use: a direct score() call never loads the report package
        from synthaug.validators.report.figures import curve_figure

        curve = score.details.get("curve")
        if not isinstance(curve, Mapping):
            return {}
        return curve_figure(score, curve.get("alpha"), curve.get("precision"),
                            title="alpha-precision P(alpha) (diagonal = ideal)",
                            x_label="alpha", y_label="precision")


@register_validator("fidelity.beta_recall")
class BetaRecall(BaseValidator):
    """Integrated beta-recall: does the synthetic data reach every part of the real data?

    Alaa et al. (ICML 2022)'s integrated beta-recall with the approximations of the module
    docstring: for each beta, ``R(beta)`` is the share of real rows whose nearest synthetic row
    lies within the real row's nearest-neighbour radius and inside the synthetic beta-support
    (the ball around the mean synthetic embedding holding a share beta of the synthetic rows).
    The value is ``1 - 2 * integral |R(beta) - beta| d beta``, in [0, 1]: 1.0 when the synthetic
    data covers the real data as densely as the real data covers itself, low when it misses
    regions of it (mode collapse) or only reaches them with its outliers.

    Whether a synthetic row lands in a real row's neighbourhood depends on how many synthetic
    rows there are, so both sides are first reduced to uniform samples of the same size (the
    smaller side's, at most ``max_rows``).  Copies of the real rows score 1.0 and a perfect
    generator drawing fresh rows about 0.87 to 0.94 (see "Reading the values" in the module
    docstring), so compare generators with one another rather than with 1.

    Neighbour searches are exact, brute force in bounded-memory blocks
    (:func:`~synthaug.validators._common.nearest_neighbours`), on the GPU when ``device`` (or
    ``context["device"]``) names one; the cost grows with the square of the sample size.

    Parameters
    ----------
    k : int, default 5
        Neighbourhood size: a real row's radius is the distance to its k-th nearest distinct
        real row (1 to 15).
    max_rows : int or None, default 20_000
        Rows sampled from each side at most (None: the smaller side's row count).
    device : str, default "auto"
        "auto" (a CUDA GPU when present), "cpu", "cuda", "cuda:N".
    random_state : int or None, default 0
        Seed of the row samples.

    Notes
    -----
    Details: ``curve`` (``{"beta": [0.05, ..., 1.0], "recall": [...]}``, 20 points; the ideal
    is the diagonal), ``recall_at_0.9`` (``R(0.9)``, ideal 0.9), ``recall_at_1`` (share of
    real rows whose neighbourhood holds a synthetic row: the k-NN coverage of Naeem et al.,
    ICML 2020), ``deviation`` (``integral (R(beta) - beta) d beta``),
    ``n_real``, ``n_synthetic`` (the sample sizes, equal), ``n_distinct_real`` (distinct real
    rows, whose radii are used).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> real = pd.DataFrame({"x": rng.normal(size=400), "y": rng.normal(size=400)})
    >>> fresh = pd.DataFrame({"x": rng.normal(size=400), "y": rng.normal(size=400)})
    >>> corner = fresh.abs()  # as many rows, all in one quarter of the real support
    >>> round(BetaRecall(device="cpu").score(real, real).value, 3)  # copies
    1.0
    >>> round(BetaRecall(device="cpu").score(real, fresh).value, 2)  # a perfect generator
    0.94
    >>> BetaRecall(device="cpu").score(real, corner).value < 0.35
    True
    """

    category = "fidelity"
    direction = "higher"
    modalities = FEATURE_MODALITIES

    def __init__(
        self,
        *,
        k: int = 5,
        max_rows: int | None = 20_000,
        device: str = "auto",
        random_state: int | None = 0,
    ) -> None:
        self.k = k
        self.max_rows = max_rows
        self.device = device
        self.random_state = random_state

    def score(
        self,
        real: Any,
        synthetic: Any,
        *,
        holdout: Any = None,
        context: Mapping[str, Any] | None = None,
    ) -> Score:
        _check_max_rows(self.max_rows)
        if isinstance(self.k, bool) or not isinstance(self.k, int) or not 1 <= self.k <= 15:
            raise InvalidParameterError(f"{self.name}: k must be an int from 1 to 15 (the "
                                        f"neighbourhood size; 5 is usual), got {self.k!r}.")
        device = resolve_validator_device(self.device, context)
        tables = self._prepare(real, synthetic, context=context)
        rng = np.random.default_rng(self.random_state)
        # equal sizes: whether a synthetic row lands in a real row's neighbourhood depends on
        # how many synthetic rows there are, so the sides are made comparable first
        n = _cap(min(len(tables.real), len(tables.synthetic)), self.max_rows)
        z_real, z_synth = _embed(tables, n, n, rng)

        # radius of each real row: distance to the nearest *distinct* real row.  Duplicates
        # (common in categorical data) would otherwise give radius 0 and demand exact copies.
        _, first, which = np.unique(row_keys(z_real), return_index=True, return_inverse=True)
        distinct = z_real[first]
        d_real, _ = nearest_neighbours(distinct, distinct, k=self.k + 1, device=device)
        radius = d_real[:, -1]  # the k-th neighbour; [:, 0] is the row itself
        radius = np.where(np.isfinite(radius), radius, 0.0)[which.ravel()]

        d_near, i_near = nearest_neighbours(z_real, z_synth, k=1, device=device)
        # float32 embeddings: a tolerance of a few ulps so an exact copy at the radius counts
        reached = d_near[:, 0] <= radius * (1 + 1e-6) + 1e-9

        synth_centre = z_synth.astype(np.float64).mean(axis=0)
        synth_dist = _to_centre(z_synth, synth_centre)
        radii = np.quantile(synth_dist, _GRID)
        levels = _levels(synth_dist[i_near[:, 0]], radii)
        levels[~reached] = len(_GRID)  # never inside, whatever beta
        value, details = _summary(levels, "recall", "beta")
        details.update(n_real=len(z_real), n_synthetic=len(z_synth),
                       n_distinct_real=len(distinct))
        return self._score(value, details=details)

    def figures(self, score: Score) -> dict[str, Any]:
        """The beta-recall curve (``details["curve"]``) as a ``curves`` figure."""
        # imported on use: a direct score() call never loads the report package
        from synthaug.validators.report.figures import curve_figure

        curve = score.details.get("curve")
        if not isinstance(curve, Mapping):
            return {}
        return curve_figure(score, curve.get("beta"), curve.get("recall"),
                            title="beta-recall R(beta) (diagonal = ideal)",
                            x_label="beta", y_label="recall")
