"""Base of image generators: images (and labels) in, images in the same container out.

Subclasses implement ``_fit_images(images, rng)`` (an :class:`~synthaug.data.image.Images`
with ``pixels`` uint8 ``(N, H, W, C)`` and ``labels``), ``_generate(n, classes, rng)``
returning uint8 pixels ``(n, H, W, C)``, and the model state hooks of
:class:`~synthaug.generators.base.BaseGenerator`.  Everything else, conditions, batching, the
container given back, and the schema saved with the model, is here.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any, ClassVar

import numpy as np

from synthaug.data.image.container import Images, ImageSchema, as_images, container_kind, to_kind
from synthaug.exceptions import InvalidDataError
from synthaug.generators.conditional import ClassConditionalGenerator

__all__ = ["ImageGenerator"]


class ImageGenerator(ClassConditionalGenerator):
    """Base of image generators (see the module docstring)."""

    modality: ClassVar[str] = "image"
    batch_size_hint: ClassVar[int] = 1_024

    schema_: ImageSchema

    def _fit(self, X: Any, y: Any, rng: np.random.Generator) -> None:
        images = as_images(X, y, what="X")
        if len(images) < 2:
            raise InvalidDataError("X holds 1 image; a generator needs at least 2 to learn from.")
        self.schema_ = ImageSchema.of(images, container_kind(X))
        self._fit_images(images, rng)

    def _sample_batch(self, n: int, fixed: int | None, rng: np.random.Generator) -> Images:
        classes = self._classes_for(n, fixed, rng)
        pixels = np.asarray(self._generate(n, classes, rng))
        s = self.schema_
        if pixels.dtype != np.uint8 or pixels.shape != (n, s.height, s.width, s.channels):
            raise InvalidDataError(  # a bug in the subclass, said plainly
                f"{type(self).__name__}._generate returned {pixels.dtype} {pixels.shape}, "
                f"expected uint8 {(n, s.height, s.width, s.channels)}."
            )
        return Images(pixels, self._label_values(classes))

    def _join(self, batches: list[Any], rng: np.random.Generator) -> Images:
        if not batches:
            s = self.schema_
            empty = np.zeros((0, s.height, s.width, s.channels), dtype=np.uint8)
            return Images(empty, self._label_values(np.zeros(0, dtype=np.int64))
                          if s.labelled else None)
        if len(batches) == 1:
            return batches[0]
        labels = None if batches[0].labels is None else np.concatenate(
            [b.labels for b in batches])
        return Images(np.concatenate([b.pixels for b in batches]), labels)

    def _output(self, batch: Images) -> Any:
        kind = self.schema_.container
        images = to_kind(batch, kind)
        return images if batch.labels is None or kind == "images" else (images, batch.labels)

    @abstractmethod
    def _fit_images(self, images: Images, rng: np.random.Generator) -> None:
        """Learn from ``images``; ``schema_`` and ``device_`` are already set."""
