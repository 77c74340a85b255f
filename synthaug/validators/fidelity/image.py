"""Image fidelity on EfficientNet-Lite0 features, and label consistency with the reference CNN.

Every check here but label consistency compares images as 1,280-d EfficientNet-Lite0
features (:mod:`synthaug.data.image.embedding`: grey repeated to three channels, resized to
224x224, the last convolution averaged over space).  The names say the extractor: a Fréchet
distance on these features is not FID (which is defined on Inception-v3 features) and its
values cannot be compared with published FIDs.

* ``fidelity.frechet_efficientnet_lite0``: the Fréchet distance between Gaussians fitted to
  the real and the synthetic features (Heusel et al. 2017's formula), lower is better.  It is
  biased upwards by finite samples, so with a holdout the details give the **floor**: the
  same distance between the real images and as many holdout images (two samples of one
  distribution).
* ``fidelity.{precision,recall,density,coverage}_efficientnet_lite0``: Naeem, Oh, Uh, Choi and
  Yoo, "Reliable Fidelity and Diversity Metrics for Generative Models", ICML 2020.  Each real
  image gets a ball reaching its k-th nearest real neighbour (k = 5).  *Precision*: share of
  synthetic images inside some real ball; *recall*: share of real images inside some
  synthetic ball (balls of the synthetic images' own k-NN radii); *density*: how many real
  balls hold a synthetic image, on average, over k (1 for a fresh sample of the real
  distribution, above 1 when images crowd the dense parts, below 1 when they stray);
  *coverage*: share of real images whose ball holds a synthetic image (about
  ``1 - 2**-k = 0.97`` for a fresh sample).  Density and coverage are the pair to gate on:
  they do not reward outliers (precision and recall are computed from k-NN balls that a few
  outliers blow up) and they have known values for a perfect generator.  All four are one
  computation, done once per suite run and read by each check.  Both sides are subsampled to
  the same size (coverage depends on how many synthetic images there are).
* ``fidelity.label_consistency``: the reference CNN (:mod:`synthaug.data.image.classifier`)
  trained on the real images predicts the class of each synthetic image; the value is the
  share predicted as the class the image was asked for.  With a holdout the details give the
  same classifier's accuracy on real unseen images: a perfect conditional generator scores
  about that.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from synthaug.exceptions import InsufficientDataError
from synthaug.utils.validation import check_int, check_positive_int
from synthaug.validators._common import (
    Gaussian,
    frechet_distance,
    nearest_neighbours,
    resolve_validator_device,
)
from synthaug.validators._image import (
    IMAGE,
    CNNCheck,
    check_rows,
    class_codes,
    classes_of,
    embedding_details,
    feature_store,
    features,
    image_inputs,
    labelled,
    per_class,
    shared,
)
from synthaug.validators.base import BaseValidator, Score, register_validator

__all__ = [
    "Coverage",
    "Density",
    "FrechetDistance",
    "LabelConsistency",
    "Precision",
    "Recall",
    "frechet_distance",
    "prdc",
]

#: most neighbours of the k-NN balls (the neighbour search returns at most 16)
_MAX_K = 15


# -- the computations --------------------------------------------------------------------------
def prdc(real: np.ndarray, fake: np.ndarray, *, k: int = 5,
         device: torch.device | str = "cpu") -> dict[str, float]:
    """Precision, recall, density and coverage of ``fake`` against ``real`` (Naeem et al.).

    Radii are distances to the k-th nearest other row of the same set (a duplicate counts as
    a neighbour, as in the authors' code); the cross distances are taken in blocks on
    ``device``, so memory stays bounded.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(400, 4)).astype(np.float32)
    >>> same = prdc(x, x)
    >>> same["precision"], same["recall"], same["coverage"]
    (1.0, 1.0, 1.0)
    >>> far = prdc(x, x + 100.0)
    >>> far["precision"], far["density"], far["coverage"]
    (0.0, 0.0, 0.0)
    """
    dev = torch.device(device)
    real_radii = torch.from_numpy(
        nearest_neighbours(real, real, k=k + 1, device=dev)[0][:, k].astype(np.float32)).to(dev)
    fake_radii = torch.from_numpy(
        nearest_neighbours(fake, fake, k=k + 1, device=dev)[0][:, k].astype(np.float32)).to(dev)
    x = torch.from_numpy(np.ascontiguousarray(real, np.float32)).to(dev)
    inside_counts = torch.zeros(len(fake), dtype=torch.int64, device=dev)
    nearest_fake = torch.full((len(real),), math.inf, device=dev)
    reached = torch.zeros(len(real), dtype=torch.bool, device=dev)
    block = max(1, (1 << 24) // max(1, len(real)))  # a 64 MiB block of distances
    for lo in range(0, len(fake), block):
        y = torch.from_numpy(np.ascontiguousarray(fake[lo:lo + block], np.float32)).to(dev)
        d = torch.cdist(y, x)  # (block, n_real)
        inside_counts[lo:lo + len(y)] = (d <= real_radii.unsqueeze(0)).sum(dim=1)
        nearest_fake = torch.minimum(nearest_fake, d.min(dim=0).values)
        reached |= (d <= fake_radii[lo:lo + len(y)].unsqueeze(1)).any(dim=0)
    counts = inside_counts.double()
    return {
        "precision": float((counts > 0).double().mean()),
        "recall": float(reached.double().mean()),
        "density": float(counts.sum() / (k * len(fake))),
        "coverage": float((nearest_fake <= real_radii).double().mean()),
    }


# -- the EfficientNet-based checks -------------------------------------------------------------
class _EmbeddingCheck(BaseValidator):
    """Parameters and input handling of the checks on EfficientNet-Lite0 features."""

    category = "fidelity"
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


@register_validator("fidelity.frechet_efficientnet_lite0")
class FrechetDistance(_EmbeddingCheck):
    """Fréchet distance on EfficientNet-Lite0 features (not FID; see the module docstring).

    Lower is better; 0 only for identical feature statistics.  Its scale depends on the
    features and the sample size, so read it beside its floor: with a holdout the details
    hold ``floor``, the distance between the real images and as many holdout images as
    synthetic ones were compared, and ``over_floor`` = value / floor.

    Parameters
    ----------
    max_rows : int or None, default 2000
        Most images of each set embedded and compared (a nested sample fixed by
        ``random_state``; EfficientNet-Lite0 embeds about 25 images a second on 2 CPU cores).
    batch_size : int, default 64
        Images per forward pass of the network.
    device : str, default "auto"
        Where the network runs ("auto": a CUDA GPU when there is one).
    random_state : int, default 0
        Seed of the nested samples (the same in every check of a suite, so the features are
        shared).

    Notes
    -----
    Details: ``mean_term``, ``covariance_term``, ``n_real``, ``n_synthetic``; with a holdout
    ``floor``, ``over_floor`` and ``n_holdout``; ``features``, ``input_size``,
    ``feature_dim``.

    Examples
    --------
    >>> import numpy as np
    >>> from synthaug.data.image import Images
    >>> rng = np.random.default_rng(0)
    >>> real = Images(rng.integers(0, 256, (40, 28, 28, 1), dtype=np.uint8))
    >>> FrechetDistance(device="cpu").score(real, real).value  # doctest: +SKIP
    0.0
    """

    direction = "lower"

    def score(self, real: Any, synthetic: Any, *, holdout: Any = None,
              context: Mapping[str, Any] | None = None) -> Score:
        self._check_params()
        r, s, h = image_inputs(self.name, real, synthetic, holdout, context)
        if min(len(r), len(s)) < 2:
            raise InsufficientDataError(f"{self.name} needs at least 2 real and 2 synthetic "
                                        "images.")
        device = resolve_validator_device(self.device, context)
        store = feature_store(context, (real, synthetic, holdout), device, self.batch_size)
        real_f, _ = features(store, r, self.max_rows, self.random_state)
        synth_f, _ = features(store, s, self.max_rows, self.random_state)
        real_gauss = Gaussian.fit(real_f)  # once, for the value and its floor
        value, mean_term, cov_term = real_gauss.frechet(synth_f)
        details: dict[str, Any] = {"mean_term": mean_term, "covariance_term": cov_term,
                                   "n_real": len(real_f), "n_synthetic": len(synth_f),
                                   **embedding_details(store)}
        if h is not None and len(h) >= 2:
            hold_f, _ = features(store, h, min(len(synth_f), self.max_rows or len(h)),
                                 self.random_state)
            floor = real_gauss.frechet(hold_f)[0]
            details.update({"floor": floor, "n_holdout": len(hold_f),
                            "over_floor": value / floor if floor > 0 else None})
        return self._score(value, details=details)


class _PRDC(_EmbeddingCheck):
    """One of precision, recall, density, coverage; all four are computed once per run."""

    #: which of the four this check reports
    metric: str = ""
    direction = "higher"

    def __init__(self, *, k: int = 5, max_rows: int | None = 2_000, batch_size: int = 64,
                 device: str = "auto", random_state: int = 0) -> None:
        super().__init__(max_rows=max_rows, batch_size=batch_size, device=device,
                         random_state=random_state)
        self.k = k

    def _check_params(self) -> None:
        super()._check_params()
        check_int(self.k, "k", 1, _MAX_K)

    def score(self, real: Any, synthetic: Any, *, holdout: Any = None,
              context: Mapping[str, Any] | None = None) -> Score:
        self._check_params()
        r, s, _ = image_inputs(self.name, real, synthetic, holdout, context)
        n = min(len(r), len(s))
        if self.max_rows is not None:
            n = min(n, self.max_rows)
        if n <= self.k:
            raise InsufficientDataError(
                f"{self.name} needs more than k = {self.k} real and synthetic images, got "
                f"{len(r)} and {len(s)}.")
        device = resolve_validator_device(self.device, context)
        inputs = (real, synthetic, holdout)

        def compute() -> dict[str, Any]:
            store = feature_store(context, inputs, device, self.batch_size)
            real_f, _ = features(store, r, n, self.random_state)
            synth_f, _ = features(store, s, n, self.random_state)
            values = prdc(real_f, synth_f, k=self.k, device=device)
            return {**values, "k": self.k, "n_real": len(real_f), "n_synthetic": len(synth_f),
                    **embedding_details(store)}

        # one k-NN pass per suite run serves all four checks
        details = shared(context, inputs, f"prdc/{self.k}/{n}/{self.random_state}/{device}",
                         compute)
        return self._score(details[self.metric], details=dict(details))


_PRDC_DOC = """{title} of the synthetic images on EfficientNet-Lite0 features (Naeem et al. 2020).

    {what}  The details hold all four of precision, recall, density and coverage (one
    computation per suite run), ``k``, ``n_real`` and ``n_synthetic``.

    Parameters
    ----------
    k : int, default 5
        Neighbours of the k-NN balls (the paper's choice).
    max_rows : int or None, default 2000
        Most images of each side, both sides subsampled to the same size (a nested sample
        fixed by ``random_state``).
    batch_size, device, random_state
        As for ``fidelity.frechet_efficientnet_lite0``.
    """


@register_validator("fidelity.precision_efficientnet_lite0")
class Precision(_PRDC):
    __doc__ = _PRDC_DOC.format(
        title="Precision", what="Share of synthetic images inside the k-NN ball of some "
        "real image.  Outliers among the real images inflate their balls, so a poor "
        "generator can score well; gate on density instead.")
    metric = "precision"


@register_validator("fidelity.recall_efficientnet_lite0")
class Recall(_PRDC):
    __doc__ = _PRDC_DOC.format(
        title="Recall", what="Share of real images inside the k-NN ball of some synthetic "
        "image (balls of the synthetic images' own radii).  Synthetic outliers inflate their "
        "balls; gate on coverage instead.")
    metric = "recall"


@register_validator("fidelity.density_efficientnet_lite0")
class Density(_PRDC):
    __doc__ = _PRDC_DOC.format(
        title="Density", what="How many real k-NN balls hold each synthetic image, on "
        "average, divided by k: about 1 for a fresh sample of the real distribution, above 1 "
        "when synthetic images crowd the dense regions (or copy), below 1 when they stray.")
    metric = "density"


@register_validator("fidelity.coverage_efficientnet_lite0")
class Coverage(_PRDC):
    __doc__ = _PRDC_DOC.format(
        title="Coverage", what="Share of real images whose k-NN ball holds at least one "
        "synthetic image: how much of the real distribution the synthetic images reach "
        "(about 0.97 for a fresh sample of the same size, k = 5).")
    metric = "coverage"


# -- label consistency -------------------------------------------------------------------------
@register_validator("fidelity.label_consistency")
class LabelConsistency(CNNCheck):
    """Share of synthetic images the reference CNN, trained on the real images, assigns to
    the class they were asked for.

    A class-conditional generator whose images look like another class (or like no class)
    scores low even when its images are realistic, which the feature-distribution checks
    cannot see.  The classifier errs on real images too, so read the value beside
    ``holdout_accuracy`` (the same classifier on the holdout, when given): a perfect
    generator scores about that, and ``relative`` = value / holdout_accuracy about 1.

    Parameters
    ----------
    steps : int, default 1000
        Adam steps of the CNN (BENCHMARKS.md's reference trains 1,500 on 600 images).
    batch_size : int, default 64
    learning_rate : float, default 1e-3
    max_train_rows : int or None, default 10000
        Most real images it trains on.
    max_rows : int or None, default 10000
        Most synthetic (and holdout) images it classifies.
    device : str, default "auto"
    random_state : int, default 0
        Seeds the samples, the weights and the batch order; the same budget and seed as
        ``utility.classification_accuracy_score`` share one trained CNN per suite run.

    Notes
    -----
    Details: ``per_class`` (class -> consistency), ``confusions`` (the most frequent
    (asked, predicted) pairs that differ, with counts), ``n_synthetic``, ``n_train``,
    ``steps``; with a holdout ``holdout_accuracy`` and ``relative``.

    Examples
    --------
    >>> from synthaug.data.sources import read_source
    >>> _, digits = read_source("digits")
    >>> check = LabelConsistency(steps=20, device="cpu")
    >>> 0 <= check.score(digits, digits).value <= 1  # doctest: +SKIP
    True
    """

    category = "fidelity"
    direction = "higher"

    def score(self, real: Any, synthetic: Any, *, holdout: Any = None,
              context: Mapping[str, Any] | None = None) -> Score:
        from synthaug.data.image.classifier import accuracy_interval, predict_classes
        from synthaug.data.image.embedding import nested_sample

        self._check_params()
        r, s, h = image_inputs(self.name, real, synthetic, holdout, context)
        classes = classes_of(labelled(r, "real", self.name))
        rows = nested_sample(len(s), self.max_rows, self.random_state)
        if not len(rows):
            raise InsufficientDataError(f"{self.name}: there are no synthetic images.")
        asked = class_codes(classes, labelled(s, "synthetic", self.name)[rows], "synthetic",
                            self.name)
        device = resolve_validator_device(self.device, context)
        model = self._real_model(context, (real, synthetic, holdout), r, classes, device)
        predicted = predict_classes(model, s.pixels[rows], device)
        correct = predicted == asked
        pairs, counts = np.unique(np.stack([asked[~correct], predicted[~correct]]), axis=1,
                                  return_counts=True)
        top = np.argsort(-counts, kind="stable")[:5]
        details: dict[str, Any] = {
            "per_class": per_class(asked, correct, classes),
            "confusions": [{"asked": classes[pairs[0, i]], "predicted": classes[pairs[1, i]],
                            "count": int(counts[i])} for i in top],
            "n_synthetic": len(rows),
            "n_train": len(nested_sample(len(r), self.max_train_rows, self.random_state)),
            "steps": self.steps,
        }
        value = float(correct.mean())
        if h is not None and h.labels is not None:
            hold_rows = nested_sample(len(h), self.max_rows, self.random_state)
            truth = class_codes(classes, h.labels[hold_rows], "holdout", self.name)
            accuracy = float(np.mean(predict_classes(model, h.pixels[hold_rows], device)
                                     == truth))
            details.update({"holdout_accuracy": accuracy,
                            "relative": value / accuracy if accuracy > 0 else None})
        return self._score(value, interval=accuracy_interval(correct), details=details)
