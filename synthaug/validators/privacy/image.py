"""Memorisation of training images, on EfficientNet-Lite0 features: data copying and near copies.

Both compare three samples: the training images (``real``, what the generator saw), the
synthetic images, and held-out real images of the same distribution that it never saw (the
holdout, required).  Held-out images say what "close to a training image" looks like for an
image that cannot have been copied, so each figure comes beside the same figure for them.
Features are those of :mod:`synthaug.data.image.embedding` (shared with the fidelity checks of
the same suite run).

* ``privacy.data_copying_efficientnet_lite0``: the three-sample test of Meehan, Chaudhuri and
  Dasgupta, "A Non-Parametric Test to Detect Data-Copying in Generative Models", AISTATS 2020.
  The training images are cut into cells by k-means; in each cell the distances of synthetic
  images to their nearest training image are compared with those of held-out images by a
  Mann-Whitney U test, as a z-score (negative: the synthetic images sit closer to training
  images than unseen real images do); the value ``C_T`` is the average z-score over the cells
  that hold enough synthetic images, weighted by the cells' share of held-out images.  About
  0 for a generator that learned the distribution (two real samples: a standard normal at
  most), strongly negative when it copies (a verbatim copy of 1,000 Fashion-MNIST images:
  -13 with 10 cells), positive when it underfits (images farther from the training set than
  real ones are).
  Cells compare like with like: a generator that copies one region and underfits another
  cannot average out to 0.
* ``privacy.near_copies_efficientnet_lite0``: a synthetic image is a *near copy* when it is
  much closer to its nearest training image than to the second nearest: distance ratio
  below 1/3 (the criterion of Yoon et al. 2023 and Gu et al. 2023 for memorised diffusion
  samples; scale-free, so no threshold is tuned to the features).  The value is the excess
  near-copy rate: synthetic rate minus the rate of held-out images, both against the same
  training images, so 0 means "no more near copies than unseen real images are" (real data
  sets hold near-duplicates; Fashion-MNIST's test images have some in its training set).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from synthaug.exceptions import InsufficientDataError, InvalidDataError
from synthaug.utils.validation import check_fraction, check_int, check_positive_int
from synthaug.validators._common import nearest_neighbours, resolve_validator_device
from synthaug.validators._image import (
    IMAGE,
    check_rows,
    embedding_details,
    feature_store,
    features,
    image_inputs,
)
from synthaug.validators.base import BaseValidator, Score, register_validator

__all__ = ["DataCopying", "NearCopies", "data_copying_statistic", "mann_whitney_z"]


def mann_whitney_z(x: np.ndarray, y: np.ndarray) -> float:
    """z-score of the Mann-Whitney U statistic of ``y`` against ``x`` (tie-corrected).

    Negative when ``y`` tends to be smaller than ``x``.

    Examples
    --------
    >>> import numpy as np
    >>> round(mann_whitney_z(np.arange(50.0), np.arange(50.0) + 0.5), 3)
    0.172
    >>> mann_whitney_z(np.arange(1.0, 51.0), np.zeros(50)) < -8
    True
    """
    from scipy.stats import rankdata

    m, n = len(y), len(x)
    ranks = rankdata(np.concatenate([y, x]))
    u = ranks[:m].sum() - m * (m + 1) / 2.0  # pairs (y, x) with y > x, ties half
    _, ties = np.unique(ranks, return_counts=True)
    total = m + n
    variance = m * n / 12.0 * ((total + 1) - float((ties**3 - ties).sum()) / (total * (total - 1)))
    if variance <= 0:
        return 0.0
    return float((u - m * n / 2.0) / math.sqrt(variance))


def data_copying_statistic(train: np.ndarray, test: np.ndarray, generated: np.ndarray, *,
                           n_cells: int = 10, min_per_cell: int = 20, device: Any = "cpu",
                           random_state: int = 0) -> dict[str, Any]:
    """Meehan et al.'s ``C_T`` with its per-cell z-scores (see the module docstring).

    Parameters
    ----------
    train, test, generated : ndarray of shape (n, d)
        Features of the training, held-out and generated images.
    n_cells : int
        k-means cells over the training features.
    min_per_cell : int
        Cells with fewer generated (or held-out) images are left out (the paper's tau: 20).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> train, test, fresh = (rng.normal(size=(600, 4)) for _ in range(3))
    >>> abs(data_copying_statistic(train, test, fresh, n_cells=3)["c_t"]) < 3
    True
    >>> data_copying_statistic(train, test, train, n_cells=3)["c_t"] < -10
    True
    """
    from sklearn.cluster import KMeans

    km = KMeans(n_clusters=n_cells, n_init=3, random_state=random_state).fit(train)
    cell_test = km.predict(np.asarray(test, dtype=train.dtype))
    cell_gen = km.predict(np.asarray(generated, dtype=train.dtype))
    d_test = nearest_neighbours(test, train, k=1, device=device)[0][:, 0]
    d_gen = nearest_neighbours(generated, train, k=1, device=device)[0][:, 0]
    cells: list[dict[str, Any]] = []
    for c in range(n_cells):
        in_test, in_gen = cell_test == c, cell_gen == c
        used = int(in_gen.sum()) >= min_per_cell and int(in_test.sum()) >= min_per_cell
        z = mann_whitney_z(d_test[in_test], d_gen[in_gen]) if used else None
        cells.append({"cell": c, "test_share": float(in_test.mean()),
                      "generated_share": float(in_gen.mean()), "z": z})
    kept = [cell for cell in cells if cell["z"] is not None]
    weight = sum(cell["test_share"] for cell in kept)
    c_t = (sum(cell["test_share"] * cell["z"] for cell in kept) / weight) if weight > 0 \
        else math.nan
    return {
        "c_t": c_t,
        "cells": cells,
        "n_cells_used": len(kept),
        "generated_share_used": float(sum(cell["generated_share"] for cell in kept)),
        "median_distance_generated": float(np.median(d_gen)),
        "median_distance_test": float(np.median(d_test)),
    }


class _MemorisationCheck(BaseValidator):
    """Parameters and the three feature sets of the memorisation checks."""

    category = "privacy"
    modalities = IMAGE

    def __init__(self, *, max_rows: int | None = 2_000, batch_size: int = 64,
                 device: str = "auto", random_state: int = 0) -> None:
        self.max_rows = max_rows
        self.batch_size = batch_size
        self.device = device
        self.random_state = random_state

    def _check_params(self) -> None:
        check_rows(self.max_rows, "max_rows", minimum=10)
        check_positive_int(self.batch_size, "batch_size")
        check_int(self.random_state, "random_state", 0)

    def _features(self, real: Any, synthetic: Any, holdout: Any,
                  context: Mapping[str, Any] | None
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, Any], Any,
                             np.ndarray, np.ndarray]:
        """Training, synthetic and holdout features, what they are, the device, and the
        positions of the compared training and synthetic images."""
        self._check_params()
        if holdout is None:
            raise InvalidDataError(
                f"{self.name} needs a holdout: real images the generator never saw (command "
                "line: --holdout). Their distances to the training images are the yardstick.")
        r, s, h = image_inputs(self.name, real, synthetic, holdout, context)
        if h is None or min(len(r), len(s), len(h)) < 3:
            raise InsufficientDataError(f"{self.name} needs at least 3 training, synthetic and "
                                        "holdout images.")
        device = resolve_validator_device(self.device, context)
        store = feature_store(context, (real, synthetic, holdout), device, self.batch_size)
        train_f, train_rows = features(store, r, self.max_rows, self.random_state)
        synth_f, synth_rows = features(store, s, self.max_rows, self.random_state)
        hold_f, _ = features(store, h, self.max_rows, self.random_state)
        return (train_f, synth_f, hold_f, embedding_details(store), device, train_rows,
                synth_rows)


@register_validator("privacy.data_copying_efficientnet_lite0")
class DataCopying(_MemorisationCheck):
    """Meehan et al.'s three-sample data-copying test ``C_T`` on EfficientNet-Lite0 features.

    Higher is safer: about 0 (at most a standard normal) when synthetic images are as far
    from the training images as unseen real images are, strongly negative when they copy;
    positive values mean the images are farther from the training set than real ones (an
    underfit generator: a fidelity problem, not a privacy one).  A gate of ``min = -3``
    passes two real samples and fails copying (see the module docstring).

    Parameters
    ----------
    n_cells : int, default 10
        k-means cells over the training features (fewer cells for fewer images: each used
        cell needs ``min_per_cell`` held-out and synthetic images).
    min_per_cell : int, default 20
        Cells holding fewer synthetic or held-out images are left out (the paper's tau).
    max_rows : int or None, default 2000
        Most images of each set (nested samples fixed by ``random_state``).
    batch_size, device, random_state
        As for ``fidelity.frechet_efficientnet_lite0``.

    Notes
    -----
    Details: ``cells`` (per cell: ``test_share``, ``generated_share``, ``z``; ``z`` is None in
    cells left out), ``n_cells_used``, ``generated_share_used``, ``median_distance_generated``
    and ``median_distance_test`` (to the nearest training image), ``share_closer_to_train``
    (synthetic images nearer a training image than any holdout image, reference sets of equal
    size: 0.5 = no signal), ``n_train``, ``n_synthetic``, ``n_holdout``.
    """

    direction = "higher"

    def __init__(self, *, n_cells: int = 10, min_per_cell: int = 20,
                 max_rows: int | None = 2_000, batch_size: int = 64, device: str = "auto",
                 random_state: int = 0) -> None:
        super().__init__(max_rows=max_rows, batch_size=batch_size, device=device,
                         random_state=random_state)
        self.n_cells = n_cells
        self.min_per_cell = min_per_cell

    def _check_params(self) -> None:
        super()._check_params()
        check_int(self.n_cells, "n_cells", 1, 1000)
        check_int(self.min_per_cell, "min_per_cell", 2)

    def score(self, real: Any, synthetic: Any, *, holdout: Any = None,
              context: Mapping[str, Any] | None = None) -> Score:
        train_f, synth_f, hold_f, about, device, _, _ = self._features(
            real, synthetic, holdout, context)
        if len(train_f) < self.n_cells:
            raise InsufficientDataError(f"{self.name}: {len(train_f)} training images cannot "
                                        f"make {self.n_cells} cells; lower n_cells.")
        result = data_copying_statistic(train_f, hold_f, synth_f, n_cells=self.n_cells,
                                        min_per_cell=self.min_per_cell, device=device,
                                        random_state=self.random_state)
        if result["n_cells_used"] == 0:
            raise InsufficientDataError(
                f"{self.name}: no cell holds {self.min_per_cell} synthetic and held-out "
                f"images; lower n_cells (now {self.n_cells}) or give more images.")
        # the DCR share on these features, reference sets of equal size
        n_ref = min(len(train_f), len(hold_f))
        rng = np.random.default_rng(self.random_state)
        to_train = nearest_neighbours(synth_f, train_f[np.sort(rng.permutation(
            len(train_f))[:n_ref])], k=1, device=device)[0][:, 0]
        to_hold = nearest_neighbours(synth_f, hold_f[np.sort(rng.permutation(
            len(hold_f))[:n_ref])], k=1, device=device)[0][:, 0]
        tie = np.isclose(to_train, to_hold, rtol=1e-6, atol=1e-9)
        share = float(((to_train < to_hold) & ~tie).mean() + 0.5 * tie.mean())
        details = {**result, "share_closer_to_train": share, "n_train": len(train_f),
                   "n_synthetic": len(synth_f), "n_holdout": len(hold_f), **about}
        return self._score(result["c_t"], details=details)


@register_validator("privacy.near_copies_efficientnet_lite0")
class NearCopies(_MemorisationCheck):
    """Excess near-copy rate: synthetic images that sit on one training image, beyond what
    unseen real images do.

    A near copy's nearest training image is closer than a third of the distance to the
    second nearest (``threshold = 1/3``; module docstring).  The value is the synthetic
    near-copy rate minus the holdout's, both against the same (sample of) training images,
    with a 95% interval of the difference of two proportions: 0 when the generator copies no
    more than chance, about 1 for a verbatim copy.  Lower is safer.

    Parameters
    ----------
    threshold : float, default 1/3
        Largest nearest/second-nearest distance ratio of a near copy.
    max_rows : int or None, default 2000
        Most images of each set (nested samples fixed by ``random_state``).
    n_listed : int, default 10
        Near copies listed in the details (positions in the synthetic images, the training
        image they copy, the ratio), the closest first: look at them.
    batch_size, device, random_state
        As for ``fidelity.frechet_efficientnet_lite0``.

    Notes
    -----
    Details: ``synthetic_rate``, ``holdout_rate``, ``threshold``, ``median_ratio`` and
    ``holdout_median_ratio``, ``listed`` (``synthetic`` and ``train``: positions in the given
    images; ``ratio``), ``n_train``, ``n_synthetic``, ``n_holdout``.
    """

    direction = "lower"

    def __init__(self, *, threshold: float = 1.0 / 3.0, max_rows: int | None = 2_000,
                 n_listed: int = 10, batch_size: int = 64, device: str = "auto",
                 random_state: int = 0) -> None:
        super().__init__(max_rows=max_rows, batch_size=batch_size, device=device,
                         random_state=random_state)
        self.threshold = threshold
        self.n_listed = n_listed

    def _check_params(self) -> None:
        super()._check_params()
        check_fraction(self.threshold, "threshold", open_low=True)
        check_int(self.n_listed, "n_listed", 0)

    def score(self, real: Any, synthetic: Any, *, holdout: Any = None,
              context: Mapping[str, Any] | None = None) -> Score:
        train_f, synth_f, hold_f, about, device, train_rows, synth_rows = self._features(
            real, synthetic, holdout, context)
        d_synth, i_synth = nearest_neighbours(synth_f, train_f, k=2, device=device)
        d_hold, _ = nearest_neighbours(hold_f, train_f, k=2, device=device)
        r_synth, r_hold = _ratio(d_synth), _ratio(d_hold)
        near_s, near_h = r_synth < self.threshold, r_hold < self.threshold
        p, q = float(near_s.mean()), float(near_h.mean())
        half = 1.96 * math.sqrt(p * (1 - p) / len(near_s) + q * (1 - q) / len(near_h))
        order = np.argsort(r_synth, kind="stable")[:self.n_listed]
        listed = [{"synthetic": int(synth_rows[j]), "train": int(train_rows[i_synth[j, 0]]),
                   "ratio": float(r_synth[j])} for j in order if near_s[j]]
        details = {"synthetic_rate": p, "holdout_rate": q, "threshold": float(self.threshold),
                   "median_ratio": float(np.median(r_synth)),
                   "holdout_median_ratio": float(np.median(r_hold)), "listed": listed,
                   "n_train": len(train_f), "n_synthetic": len(synth_f),
                   "n_holdout": len(hold_f), **about}
        return self._score(p - q, interval=(p - q - half, p - q + half), details=details)


def _ratio(distances: np.ndarray) -> np.ndarray:
    """Nearest over second-nearest distance; 0 when both are 0 (a copy of a duplicate)."""
    first, second = distances[:, 0], distances[:, 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(second > 0, first / second, 0.0)
