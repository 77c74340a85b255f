"""Tiny image and text generators that prove the generator contract holds for every modality,
and a tabular generator that leaks (it samples its training rows back).

The image and text generators are real (they learn per-class statistics and sample from them)
but small enough to fit in milliseconds; ``tests/conftest.py`` registers them for the whole
session, in a scoped registry.  The copier cannot be saved, so it is no contract case: tests
that need a leaking generator register it for their own length with :func:`copier_registered`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch

from synthaug import registry
from synthaug.data.image import Images
from synthaug.data.text import Texts
from synthaug.generators.base import register_generator
from synthaug.generators.image import ImageGenerator
from synthaug.generators.tabular.base import TabularGenerator
from synthaug.generators.text import TextGenerator

IMAGE_DUMMY = "image.dummy"
TEXT_DUMMY = "text.dummy"
COPIER = "test.copier"


class MeanImageGenerator(ImageGenerator):
    """Per-class mean image plus per-pixel Gaussian noise of the class's spread."""

    family = "dummy"

    def __init__(self, *, noise: float = 1.0, random_state: Any = None, device: str = "cpu"
                 ) -> None:
        self.noise = noise
        self.random_state = random_state
        self.device = device

    def _fit_images(self, images: Images, rng: np.random.Generator) -> None:
        px = images.pixels.astype(np.float64)
        groups = ([images.labels == c for c in self.schema_.classes]
                  if images.labels is not None else [np.ones(len(px), dtype=bool)])
        self.means_ = np.stack([px[g].mean(axis=0) for g in groups])
        self.stds_ = np.stack([px[g].std(axis=0) for g in groups])

    def _generate(self, n: int, classes: np.ndarray | None, rng: np.random.Generator
                  ) -> np.ndarray:
        idx = classes if classes is not None else np.zeros(n, dtype=np.int64)
        draw = self.means_[idx] + self.noise * self.stds_[idx] * rng.standard_normal(
            (n, *self.means_.shape[1:]))
        return np.clip(np.rint(draw), 0, 255).astype(np.uint8)

    def _get_model_state(self) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        return {}, {"means": torch.from_numpy(self.means_), "stds": torch.from_numpy(self.stds_)}

    def _set_model_state(self, state: Mapping[str, Any], tensors: Mapping[str, torch.Tensor]
                         ) -> None:
        self.means_ = tensors["means"].cpu().numpy()
        self.stds_ = tensors["stds"].cpu().numpy()


class UnigramTextGenerator(TextGenerator):
    """Per-class word frequencies and text lengths; texts are words drawn independently."""

    family = "dummy"

    def __init__(self, *, random_state: Any = None, device: str = "cpu") -> None:
        self.random_state = random_state
        self.device = device

    def _fit_texts(self, texts: Texts, rng: np.random.Generator) -> None:
        words = sorted({w for t in texts.texts for w in t.split()})
        index = {w: i for i, w in enumerate(words)}
        k = max(1, len(self.schema_.classes))
        counts = np.ones((k, len(words)))  # add-one smoothing
        lengths = np.zeros((k, 2))
        for i, text in enumerate(texts.texts):
            c = 0 if texts.labels is None else self.schema_.class_index(texts.labels[i])
            tokens = text.split()
            for w in tokens:
                counts[c, index[w]] += 1
            lengths[c] += (len(tokens), 1)
        self.vocabulary_ = words
        self.frequencies_ = counts / counts.sum(axis=1, keepdims=True)
        self.mean_length_ = lengths[:, 0] / np.maximum(lengths[:, 1], 1)

    def _generate(self, n: int, classes: np.ndarray | None, rng: np.random.Generator
                  ) -> list[str]:
        idx = classes if classes is not None else np.zeros(n, dtype=np.int64)
        out = []
        for c in idx:
            length = max(1, rng.poisson(self.mean_length_[c]))
            words = rng.choice(len(self.vocabulary_), size=length, p=self.frequencies_[c])
            out.append(" ".join(self.vocabulary_[w] for w in words))
        return out

    def _get_model_state(self) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        return ({"vocabulary": self.vocabulary_},
                {"frequencies": torch.from_numpy(self.frequencies_),
                 "mean_length": torch.from_numpy(self.mean_length_)})

    def _set_model_state(self, state: Mapping[str, Any], tensors: Mapping[str, torch.Tensor]
                         ) -> None:
        self.vocabulary_ = list(state["vocabulary"])
        self.frequencies_ = tensors["frequencies"].cpu().numpy()
        self.mean_length_ = tensors["mean_length"].cpu().numpy()


@contextmanager
def dummies_registered() -> Iterator[None]:
    """Register the dummy generators for the length of a ``with`` block."""
    with registry.generators.scoped():
        register_generator(IMAGE_DUMMY)(MeanImageGenerator)
        register_generator(TEXT_DUMMY)(UnigramTextGenerator)
        yield


class CopyingTabularGenerator(TabularGenerator):
    """A generator that memorises: it samples its training rows back (a leaking model)."""

    family = "copier"

    def __init__(self, *, random_state: object = None, device: str = "cpu") -> None:
        self.random_state = random_state
        self.device = device

    def _fit_matrix(self, matrix: np.ndarray, rng: np.random.Generator) -> None:
        self.rows_ = matrix.copy()

    def _sample_matrix(self, n: int, fixed: Mapping[int, float],
                       rng: np.random.Generator) -> np.ndarray:
        return self.rows_[rng.integers(0, len(self.rows_), n)]

    def _get_model_state(self) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        raise NotImplementedError

    def _set_model_state(self, state: Mapping[str, Any],
                         tensors: Mapping[str, torch.Tensor]) -> None:
        raise NotImplementedError


@contextmanager
def copier_registered() -> Iterator[None]:
    """Register the copying generator (as :data:`COPIER`) for the length of a ``with`` block."""
    with registry.generators.scoped():
        register_generator(COPIER)(CopyingTabularGenerator)
        yield
