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

import warnings
from abc import abstractmethod
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from synthaug.data.text.container import Texts
from synthaug.exceptions import SynthaugWarning
from synthaug.generators.nn import iter_slices
from synthaug.generators.text.base import TextGenerator
from synthaug.generators.text.tokens import BPETokenizer
from synthaug.generators.torch import EpochCallback, TorchGeneratorMixin
from synthaug.utils.random import torch_generator

__all__ = ["BPETextGenerator", "EpochCallback", "TorchTextGenerator"]


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


class BPETextGenerator(TorchTextGenerator):
    """A torch text generator over a byte-level BPE tokenizer fitted on its texts.

    :meth:`_tokenize` fits ``tokenizer_`` (``vocab_size`` tokens at most) and lays the texts
    out as ``seq`` ``(N, w + 2)``: the class's prefix token (``n_tokens + class``), the text's
    ids, the end token and end-token padding; and ``target`` ``(N, w + 1)``: what position
    ``j`` of ``seq`` predicts (``-100`` where nothing is).  A text longer than
    ``max_length`` tokens is cut to its first ``max_length`` and loses its end token (the
    model never learns to stop where a cut fell); ``n_truncated_`` counts them and a
    :class:`~synthaug.exceptions.SynthaugWarning` says so.  The tokenizer is saved as its
    JSON (the codec state).
    """

    vocab_size: int
    max_length: int

    def _tokenize(self, texts: Texts) -> tuple[np.ndarray, np.ndarray]:
        limit = int(self.max_length)
        # long texts are cut in characters first, so no megabyte reaches the BPE trainer
        self.tokenizer_ = BPETokenizer.fit([t[: 16 * (limit + 1)] for t in texts.texts],
                                           int(self.vocab_size))
        encoded = self.tokenizer_.encode(list(texts.texts), limit)
        lengths = np.array([len(e) for e in encoded], dtype=np.int64)
        self.n_truncated_ = int((lengths > limit).sum())
        if self.n_truncated_:
            warnings.warn(
                f"{self.name}: {self.n_truncated_} of {len(texts)} training texts are longer "
                f"than max_length={limit} tokens and were cut to their first {limit} (the model "
                "learns no ending for them); raise max_length to keep them whole.",
                SynthaugWarning, stacklevel=7)
        classes = self._class_ids(texts)
        n_tok, end = self.tokenizer_.n_tokens, self.tokenizer_.end_id
        width = min(limit, int(lengths.max())) + 2  # prefix, tokens, end
        seq = np.full((len(texts), width), end, dtype=np.int64)
        target = np.full((len(texts), width - 1), -100, dtype=np.int64)
        for i, ids in enumerate(encoded):
            ids = ids[:limit]
            seq[i, 0] = n_tok + classes[i]
            seq[i, 1:1 + len(ids)] = ids
            target[i, :len(ids)] = ids
            if lengths[i] <= limit:  # a whole text learns to end; a cut one does not
                target[i, len(ids)] = end
        return seq, target

    def _texts_of(self, rows: np.ndarray) -> list[str]:
        """Drawn id rows ``(k, steps)`` as texts, each cut at its first end token."""
        end = self.tokenizer_.end_id
        stops = np.where((rows == end).any(axis=1), (rows == end).argmax(axis=1), rows.shape[1])
        return self.tokenizer_.decode([r[:e] for r, e in zip(rows, stops, strict=True)])

    def _codec_state(self) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        return {"tokenizer": self.tokenizer_.to_str(),
                "n_truncated": int(self.n_truncated_)}, {}

    def _set_codec_state(self, state: Mapping[str, Any], tensors: Mapping[str, torch.Tensor]
                         ) -> None:
        self.tokenizer_ = BPETokenizer.from_str(str(state["tokenizer"]))
        self.n_truncated_ = int(state.get("n_truncated", 0))
