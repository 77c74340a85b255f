"""Base of text generators: texts (and labels) in, texts in the same container out.

Subclasses implement ``_fit_texts(texts, rng)`` (a :class:`~synthaug.data.text.Texts` with
``texts``, an object array of strings, and ``labels``), ``_generate(n, classes, rng)``
returning ``n`` strings, and the model state hooks of
:class:`~synthaug.generators.base.BaseGenerator`.  Conditions, batching, the container given
back and the schema saved with the model are here.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any, ClassVar

import numpy as np

from synthaug.data.text.container import Texts, TextSchema, as_texts, container_kind, to_kind
from synthaug.exceptions import InvalidDataError
from synthaug.generators.conditional import ClassConditionalGenerator

__all__ = ["TextGenerator"]


class TextGenerator(ClassConditionalGenerator):
    """Base of text generators (see the module docstring)."""

    modality: ClassVar[str] = "text"
    batch_size_hint: ClassVar[int] = 8_192

    schema_: TextSchema

    def _fit(self, X: Any, y: Any, rng: np.random.Generator) -> None:
        texts = as_texts(X, y, what="X")
        if len(texts) < 2:
            raise InvalidDataError("X holds 1 text; a generator needs at least 2 to learn from.")
        kind, name = container_kind(X)
        self.schema_ = TextSchema.of(texts, kind, name)
        self._fit_texts(texts, rng)

    def _sample_batch(self, n: int, fixed: int | None, rng: np.random.Generator) -> Texts:
        classes = self._classes_for(n, fixed, rng)
        made = self._generate(n, classes, rng)
        texts = np.empty(n, dtype=object)
        texts[:] = list(made)
        if len(made) != n or not all(isinstance(t, str) for t in texts):
            raise InvalidDataError(  # a bug in the subclass, said plainly
                f"{type(self).__name__}._generate must return {n} strings.")
        return Texts(texts, self._label_values(classes))

    def _join(self, batches: list[Any], rng: np.random.Generator) -> Texts:
        if not batches:
            return Texts(np.empty(0, dtype=object), self._label_values(
                np.zeros(0, dtype=np.int64)) if self.schema_.labelled else None)
        if len(batches) == 1:
            return batches[0]
        labels = None if batches[0].labels is None else np.concatenate(
            [b.labels for b in batches])
        return Texts(np.concatenate([b.texts for b in batches]), labels)

    def _output(self, batch: Texts) -> Any:
        kind = self.schema_.container
        texts = to_kind(batch, kind, self.schema_.series_name)
        return texts if batch.labels is None or kind == "texts" else (texts, batch.labels)

    @abstractmethod
    def _fit_texts(self, texts: Texts, rng: np.random.Generator) -> None:
        """Learn from ``texts``; ``schema_`` and ``device_`` are already set."""
