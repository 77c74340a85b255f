"""Shared base of synthaug's torch text generators: the glue between texts and the torch mixin.

:class:`TorchTextGenerator` joins :class:`~synthaug.generators.torch.TorchGeneratorMixin`
(common parameters, seeding, modules, the loop, persistence) and
:class:`~synthaug.generators.text.base.TextGenerator` (texts in and out, labels, screening).
A subclass implements :meth:`_prepare` (fit its codec, set ``arch_``, return the arrays to
train on), ``_make_modules``, ``_train``, :meth:`_decode` (``k`` texts of the given class
indices, on the device) and :meth:`_codec_state` / :meth:`_set_codec_state`; the screening
state (training-text hashes, the label filter) is saved beside the codec here.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from synthaug.data.text.container import Texts
from synthaug.generators.nn import iter_slices
from synthaug.generators.text.base import TextGenerator
from synthaug.generators.torch import EpochCallback, TorchGeneratorMixin
from synthaug.utils.random import torch_generator

__all__ = ["EpochCallback", "TorchTextGenerator"]


class TorchTextGenerator(TorchGeneratorMixin, TextGenerator):
    """Base of the torch text generators (see the module docstring).

    Examples
    --------
    >>> from synthaug.generators.text import TransformerTextGenerator
    >>> from synthaug.generators.text.torch_base import TorchTextGenerator
    >>> issubclass(TransformerTextGenerator, TorchTextGenerator)
    True
    """

    tags = frozenset({"gpu", "exact_conditions"})

    #: texts decoded per forward pass on a CPU (4x that on a GPU); bounds the key/value cache
    sample_chunk: int = 512

    # -- fit -----------------------------------------------------------------------------------
    def _fit_texts(self, texts: Texts, rng: np.random.Generator) -> None:
        gen = self._torch_generator(rng)
        self._fit_torch(self._prepare(texts, rng), gen)

    def _class_ids(self, texts: Texts) -> np.ndarray:
        """The class index of every text (all 0 when the texts have no labels)."""
        if texts.labels is None:
            return np.zeros(len(texts), dtype=np.int64)
        return np.array([self.schema_.class_index(v) for v in texts.labels], dtype=np.int64)

    # -- sample --------------------------------------------------------------------------------
    def _generate(self, n: int, classes: np.ndarray | None, rng: np.random.Generator
                  ) -> list[str]:
        gen = torch_generator(rng, self.device_)
        ids = np.zeros(n, dtype=np.int64) if classes is None else np.asarray(classes)
        chunk = self.sample_chunk * (4 if self.device_.type == "cuda" else 1)
        out: list[str] = []
        for module in self.modules_.values():
            module.eval()
        with torch.inference_mode():
            for start, stop in iter_slices(n, chunk):
                cls = torch.as_tensor(ids[start:stop], device=self.device_)
                out.extend(self._decode(cls, gen))
        return out

    # -- persistence ---------------------------------------------------------------------------
    def _extra_state(self) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        codec, codec_tensors = self._codec_state()
        screening, screening_tensors = self._screening_state()
        tensors = {f"codec.{k}": v for k, v in codec_tensors.items()}
        tensors |= {f"screening.{k}": v for k, v in screening_tensors.items()}
        return {"codec": codec, "screening": screening}, tensors

    def _set_extra_state(self, state: Mapping[str, Any], tensors: Mapping[str, torch.Tensor]
                         ) -> None:
        def part(name: str) -> dict[str, torch.Tensor]:
            return {k[len(name) + 1:]: v for k, v in tensors.items()
                    if k.startswith(f"{name}.")}

        self._set_codec_state(state["codec"], part("codec"))
        self._set_screening_state(state.get("screening", {}), part("screening"))

    # -- hooks ---------------------------------------------------------------------------------
    @abstractmethod
    def _prepare(self, texts: Texts, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Fit the codec, set ``self.arch_`` (JSON-able sizes), return arrays to train on."""

    @abstractmethod
    def _decode(self, classes: torch.Tensor, generator: torch.Generator) -> list[str]:
        """One text per class index in ``classes`` (on the device), drawn with ``generator``."""

    @abstractmethod
    def _codec_state(self) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        """The codec (tokenizer, vocabulary) as JSON and tensors."""

    @abstractmethod
    def _set_codec_state(self, state: Mapping[str, Any], tensors: Mapping[str, torch.Tensor]
                         ) -> None:
        """Restore what :meth:`_codec_state` returned."""
