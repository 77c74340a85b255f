"""Shared plumbing of the image validators: checked inputs, shared features, class codes.

The image validators (``fidelity/image.py``, ``privacy/image.py``, ``utility/image.py``)
compute on what the feature-only validators cannot see: EfficientNet-Lite0 features
(:mod:`synthaug.data.image.embedding`) and the reference CNN
(:mod:`synthaug.data.image.classifier`).  What they share lives here:

* :func:`image_inputs` checks the three inputs once (images, one size) and refuses data of
  another modality;
* :func:`features` gives a capped, nested sample of a set's images with their features from
  the run's one feature store;
* :func:`shared` computes a value once per suite run (a k-NN pass several checks read, the
  CNN trained on the real images);
* :func:`class_codes` maps labels to the real images' classes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import torch

from synthaug.data.image.container import Images, as_images
from synthaug.data.image.embedding import ImageFeatures, nested_sample, shared_features
from synthaug.data.modality import detect_modality, run_shared
from synthaug.exceptions import InvalidDataError, NotComputableError, NotSupportedError
from synthaug.utils.validation import check_int, check_number, check_positive_int
from synthaug.validators.base import BaseValidator

__all__ = ["IMAGE", "CNNCheck", "check_rows", "class_codes", "classes_of", "embedding_details",
           "feature_store", "features", "image_inputs", "labelled", "per_class",
           "real_classifier", "shared"]

#: the modalities the image validators accept
IMAGE: frozenset[str] = frozenset({"image"})

T = TypeVar("T")


def image_inputs(validator: str, real: Any, synthetic: Any, holdout: Any = None,
                 context: Mapping[str, Any] | None = None,
                 ) -> tuple[Images, Images, Images | None]:
    """The three inputs as :class:`Images` of one size.

    Raises
    ------
    NotSupportedError
        When the data are not images.
    InvalidDataError
        When an input is not a valid batch of images, or the sizes differ.
    """
    modality = (context or {}).get("modality") or detect_modality(real, what="real").name
    if modality != "image":
        raise NotSupportedError(
            f"{validator} scores image data, not {modality} data. Use a suite made for "
            f"{modality} data, or drop this check.")
    parts = {"real": as_images(real, what="real images"),
             "synthetic": as_images(synthetic, what="synthetic images")}
    if holdout is not None:
        parts["holdout"] = as_images(holdout, what="holdout images")
    size = parts["real"].size
    for what, batch in parts.items():
        if batch.size != size:
            raise InvalidDataError(
                f"{validator}: the {what} images are {batch.size[0]}x{batch.size[1]}x"
                f"{batch.size[2]} but the real ones are {size[0]}x{size[1]}x{size[2]}; "
                "compare images of one size.")
    return parts["real"], parts["synthetic"], parts.get("holdout")


def shared(context: Mapping[str, Any] | None, inputs: tuple[Any, Any, Any], key: str,
           compute: Callable[[], T]) -> T:
    """``compute()`` once per suite run under ``key`` (every time outside a suite), typed."""
    value: T = run_shared(context, inputs, key, compute)
    return value


def feature_store(context: Mapping[str, Any] | None, inputs: tuple[Any, Any, Any],
                  device: torch.device, batch_size: int) -> ImageFeatures:
    """The run's EfficientNet-Lite0 feature store (see :func:`shared_features`)."""
    return shared_features(context, *inputs, device=device, batch_size=batch_size)


def features(store: ImageFeatures, images: Images, max_rows: int | None, seed: int
             ) -> tuple[np.ndarray, np.ndarray]:
    """``(features, positions)`` of a nested sample of at most ``max_rows`` of ``images``."""
    rows = nested_sample(len(images), max_rows, seed)
    return store.of(images.pixels[rows]), rows


def labelled(images: Images, what: str, validator: str) -> np.ndarray:
    """The labels of ``images``, or :class:`NotComputableError` when there are none."""
    if images.labels is None:
        raise NotComputableError(
            f"{validator} needs labelled {what} images (the class each one shows or was "
            "asked for); these have none. Pass labels (y=..., or a folder laid out "
            "root/<class>/*.png).")
    return images.labels


def class_codes(classes: list[str], labels: np.ndarray, what: str, validator: str
                ) -> np.ndarray:
    """Codes of ``labels`` among ``classes`` (compared as text), refusing unknown labels."""
    text = pd.Index(pd.Series(labels, dtype=object).astype(str))
    codes = pd.Index(classes).get_indexer(text)
    if (codes < 0).any():
        unknown = sorted(set(text[codes < 0]))[:5]
        raise InvalidDataError(
            f"{validator}: the {what} images hold labels the real images do not have "
            f"({unknown}); label them with the real classes ({classes[:10]}).")
    return codes.astype(np.int64)


def classes_of(labels: np.ndarray) -> list[str]:
    """The classes of the real labels, as text, sorted (the code order)."""
    return sorted(set(pd.Series(labels, dtype=object).astype(str)))


# -- the reference CNN, trained on the real images once per suite run -------------------------
def cnn_key(steps: int, batch_size: int, learning_rate: float, max_rows: int | None,
            seed: int, device: torch.device) -> str:
    """The shared-cache key of the CNN trained on the real images with this budget."""
    return f"cnn/real/{steps}/{batch_size}/{learning_rate!r}/{max_rows}/{seed}/{device}"


def real_classifier(context: Mapping[str, Any] | None, inputs: tuple[Any, Any, Any],
                    real: Images, classes: list[str], validator: str, *, steps: int,
                    batch_size: int, learning_rate: float, max_rows: int | None, seed: int,
                    device: torch.device) -> torch.nn.Module:
    """The reference CNN trained on (a nested sample of) the real images, shared by the
    checks of a suite run that ask for the same budget (label consistency and the
    classification accuracy score's real-data reference)."""
    from synthaug.data.image.classifier import train_classifier

    def compute() -> torch.nn.Module:
        rows = nested_sample(len(real), max_rows, seed)
        codes = class_codes(classes, labelled(real, "real", validator)[rows], "real", validator)
        return train_classifier(real.pixels[rows], codes, len(classes), steps=steps,
                                batch_size=batch_size, learning_rate=learning_rate, seed=seed,
                                device=device)

    return shared(context, inputs, cnn_key(steps, batch_size, learning_rate, max_rows, seed,
                                           device), compute)


def check_rows(value: Any, name: str, minimum: int = 2) -> None:
    """``value`` must be None or an integer >= ``minimum`` (a cap on images)."""
    check_int(value, name, minimum, allow_none=True)


def embedding_details(store: ImageFeatures) -> dict[str, Any]:
    """What every EfficientNet-based score says about the features it compared."""
    from synthaug.data.image.embedding import FEATURE_DIM, INPUT_SIZE

    return {"features": store.name, "input_size": INPUT_SIZE, "feature_dim": FEATURE_DIM}


class CNNCheck(BaseValidator):
    """Parameters of the checks that train the reference CNN
    (:mod:`synthaug.data.image.classifier`)."""

    modalities = IMAGE

    def __init__(self, *, steps: int = 1_000, batch_size: int = 64,
                 learning_rate: float = 1e-3, max_train_rows: int | None = 10_000,
                 max_rows: int | None = 10_000, device: str = "auto",
                 random_state: int = 0) -> None:
        self.steps = steps
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.max_train_rows = max_train_rows
        self.max_rows = max_rows
        self.device = device
        self.random_state = random_state

    def _check_params(self) -> None:
        check_positive_int(self.steps, "steps")
        check_positive_int(self.batch_size, "batch_size")
        check_number(self.learning_rate, "learning_rate", minimum=0.0, open_low=True)
        check_rows(self.max_train_rows, "max_train_rows")
        check_rows(self.max_rows, "max_rows", minimum=1)
        check_int(self.random_state, "random_state", 0)

    def _real_model(self, context: Mapping[str, Any] | None, inputs: tuple[Any, Any, Any],
                    real: Any, classes: list[str], device: torch.device) -> torch.nn.Module:
        return real_classifier(context, inputs, real, classes, self.name, steps=self.steps,
                               batch_size=self.batch_size, learning_rate=self.learning_rate,
                               max_rows=self.max_train_rows, seed=self.random_state,
                               device=device)


def per_class(codes: np.ndarray, correct: np.ndarray, classes: list[str]) -> dict[str, float]:
    """The share of ``correct`` within each class present in ``codes``."""
    out: dict[str, float] = {}
    for c, name in enumerate(classes):
        mine = codes == c
        if mine.any():
            out[name] = float(correct[mine].mean())
    return out
