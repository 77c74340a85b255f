"""The classification accuracy score of synthetic images (Ravuri & Vinyals, NeurIPS 2019).

Train a classifier on the synthetic images only, with the labels they were generated for, and
test it on real images it never saw (the holdout): if the generator captured what makes each
class that class, the accuracy approaches that of the same classifier trained on real images.
The classifier is the reference CNN of :mod:`synthaug.data.image.classifier` (the same
architecture, steps and optimiser on both sides); its accuracy when trained on the real
(training) images is the reference the details hold, and the gap between the two is what the
issue's quality goal reads ("within 3 points of real").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from synthaug.exceptions import InsufficientDataError, InvalidDataError
from synthaug.validators._common import resolve_validator_device
from synthaug.validators._image import (
    CNNCheck,
    class_codes,
    classes_of,
    image_inputs,
    labelled,
    per_class,
)
from synthaug.validators.base import Score, register_validator

__all__ = ["ClassificationAccuracyScore"]


@register_validator("utility.classification_accuracy_score")
class ClassificationAccuracyScore(CNNCheck):
    """Accuracy on the real holdout of the reference CNN trained on the synthetic images.

    Higher is better.  The details hold ``real_accuracy``, the same CNN trained on the real
    training images (same budget), and ``gap`` = real_accuracy - value: a generator whose
    images teach as much as real ones has a gap near 0 (it can be negative when there are
    more synthetic than real images).  The interval is a Wilson 95% interval over the holdout
    images.  Needs labelled synthetic images and a labelled holdout.

    Parameters
    ----------
    steps : int, default 1000
        Adam steps of each CNN (the same for both).
    batch_size : int, default 64
    learning_rate : float, default 1e-3
    max_train_rows : int or None, default 10000
        Most synthetic (and real) images each CNN trains on.
    max_rows : int or None, default 10000
        Most holdout images it is tested on.
    device : str, default "auto"
    random_state : int, default 0
        Seeds the samples, weights and batch order (the real-data CNN is shared with
        ``fidelity.label_consistency`` of the same budget in a suite run).

    Notes
    -----
    Details: ``real_accuracy``, ``gap``, ``per_class`` (class -> accuracy on the holdout),
    ``real_per_class``, ``n_synthetic``, ``n_real``, ``n_holdout``, ``steps``.

    Examples
    --------
    >>> from synthaug.data.sources import read_source
    >>> _, digits = read_source("digits")
    >>> train, test = digits, digits
    >>> cas = ClassificationAccuracyScore(steps=20, device="cpu")
    >>> 0 <= cas.score(train, train, holdout=test).value <= 1  # doctest: +SKIP
    True
    """

    category = "utility"
    direction = "higher"

    def score(self, real: Any, synthetic: Any, *, holdout: Any = None,
              context: Mapping[str, Any] | None = None) -> Score:
        from synthaug.data.image.classifier import (
            accuracy_interval,
            predict_classes,
            train_classifier,
        )
        from synthaug.data.image.embedding import nested_sample

        self._check_params()
        if holdout is None:
            raise InvalidDataError(
                f"{self.name} needs a holdout: labelled real images the generator never saw "
                "(command line: --holdout); the classifiers are tested on them.")
        r, s, h = image_inputs(self.name, real, synthetic, holdout, context)
        if h is None or len(h) == 0 or len(s) < 2:
            raise InsufficientDataError(f"{self.name} needs at least 2 synthetic images and "
                                        "a non-empty holdout.")
        classes = classes_of(labelled(r, "real", self.name))
        train_rows = nested_sample(len(s), self.max_train_rows, self.random_state)
        codes = class_codes(classes, labelled(s, "synthetic", self.name)[train_rows],
                            "synthetic", self.name)
        test_rows = nested_sample(len(h), self.max_rows, self.random_state)
        truth = class_codes(classes, labelled(h, "holdout", self.name)[test_rows], "holdout",
                            self.name)
        device = resolve_validator_device(self.device, context)
        model = train_classifier(s.pixels[train_rows], codes, len(classes), steps=self.steps,
                                 batch_size=self.batch_size, learning_rate=self.learning_rate,
                                 seed=self.random_state, device=device)
        test_pixels = h.pixels[test_rows]
        correct = predict_classes(model, test_pixels, device) == truth
        reference = self._real_model(context, (real, synthetic, holdout), r, classes, device)
        real_correct = predict_classes(reference, test_pixels, device) == truth
        value, real_accuracy = float(correct.mean()), float(real_correct.mean())
        details: dict[str, Any] = {
            "real_accuracy": real_accuracy,
            "gap": real_accuracy - value,
            "per_class": per_class(truth, correct, classes),
            "real_per_class": per_class(truth, real_correct, classes),
            "n_synthetic": len(train_rows),
            "n_real": len(nested_sample(len(r), self.max_train_rows, self.random_state)),
            "n_holdout": len(test_rows),
            "synthetic_classes": len(np.unique(codes)),
            "steps": self.steps,
        }
        return self._score(value, interval=accuracy_interval(correct), details=details)
