"""Shared base of synthaug's torch tabular generators, and the span encoding the GAN and VAE use.

:class:`TorchTabularGenerator` is the tabular glue over
:class:`~synthaug.generators.torch.TorchGeneratorMixin` (which owns the common parameters,
local seeding, the device copy, the modules, the training loop and their persistence): it
hands the schema matrix to the subclass's ``_prepare``, samples schema matrices in bounded
chunks through ``_generate`` and checks conditions.

:func:`fit_span_encoding` is the GAN's and VAE's use of
:class:`~synthaug.data.encoding.TableEncoder`: one-hot softmax blocks for levels, mixture
modes and missing flags, an "other" slot decoded by sampling, and float32 features; the
fitted encoder decodes on the device (:meth:`TableEncoder.to`).  :func:`load_span_encoding`
also reads the span-codec state of folders saved before the encodings were merged.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from synthaug.data.encoding import TableEncoder
from synthaug.data.schema import TableSchema
from synthaug.generators.tabular.base import TabularGenerator
from synthaug.generators.torch import EpochCallback, TorchGeneratorMixin
from synthaug.utils.random import spawn_seed

__all__ = [
    "EpochCallback",
    "TorchTabularGenerator",
    "fit_span_encoding",
    "load_span_encoding",
    "seeded",
    "span_encoding_state",
]

#: rows generated per forward pass when sampling; bounds device memory for any ``n``
SAMPLE_CHUNK_ROWS = 65_536


# =============================================================================================
# The base generator
# =============================================================================================
class TorchTabularGenerator(TorchGeneratorMixin, TabularGenerator):
    """Base of the torch tabular generators: the matrix glue over :class:`TorchGeneratorMixin`.

    Subclasses store their parameters in ``__init__`` (scikit-learn needs the explicit
    signature) and implement :meth:`_prepare` (fit the encoding, set ``self.arch_``, return the
    arrays to train on), ``_make_modules`` (build the networks from ``self.arch_``), ``_train``,
    :meth:`_generate` and ``_extra_state`` / ``_set_extra_state``; the common parameters, the
    loop, the modules and their persistence come from
    :class:`~synthaug.generators.torch.TorchGeneratorMixin`.

    Examples
    --------
    >>> from synthaug.generators.tabular import TVAEGenerator
    >>> from synthaug.generators.tabular.torch_base import TorchTabularGenerator
    >>> issubclass(TVAEGenerator, TorchTabularGenerator)
    True
    >>> TVAEGenerator(epochs=5).get_params()["device"]
    'auto'
    """

    # -- fit -----------------------------------------------------------------------------------
    def _fit_matrix(self, matrix: np.ndarray, rng: np.random.Generator) -> None:
        # the torch seed is drawn before the encoding's: the order that gave each seed its model
        gen = self._torch_generator(rng)
        self._fit_torch(self._prepare(matrix, rng), gen)

    def _learnable(self) -> bool:
        """Whether any column carries something to learn (not only ids or empty columns)."""
        return any(c.kind.is_discrete or c.kind.is_continuous for c in self.schema_.columns)

    # -- sample --------------------------------------------------------------------------------
    def _sample_matrix(
        self, n: int, fixed: Mapping[int, float], rng: np.random.Generator
    ) -> np.ndarray:
        self._check_conditions(fixed)
        gen = self._torch_generator(rng)
        out = np.full((n, len(self.schema_.columns)), np.nan)
        if not self.modules_:
            return out
        return self._sample_into(out, lambda k: self._generate(k, fixed, gen),
                                 chunk_rows=SAMPLE_CHUNK_ROWS)

    def _check_conditions(self, fixed: Mapping[int, float]) -> None:
        """Raise :class:`InvalidParameterError` for conditions this model cannot meet."""

    # -- hooks ---------------------------------------------------------------------------------
    @abstractmethod
    def _prepare(self, matrix: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Fit the encoding, set ``self.arch_`` (JSON-able sizes), return arrays to train on."""

    @abstractmethod
    def _generate(self, n: int, fixed: Mapping[int, float], generator: torch.Generator
                  ) -> torch.Tensor:
        """Return ``n`` rows as an ``(n, n_columns)`` float64 schema matrix on the device."""


# =============================================================================================
# The GAN's and VAE's encoding
# =============================================================================================
def fit_span_encoding(
    schema: TableSchema, matrix: np.ndarray, rng: np.random.Generator, *,
    numerical: str, max_categories: int | None,
) -> tuple[TableEncoder, np.ndarray]:
    """Fit the GAN/VAE encoding on ``matrix`` and return it with the float32 training features.

    Softmax blocks a generator can sample: levels, mixture modes and ``[observed, missing]``;
    the rare levels' "other" slot decodes to one of them by training frequency; a value with no
    slot (never the case for training rows) is imputed rather than refused.  The fit and the
    transform each get a child generator of ``rng``, so the encoding's draws never shift the
    model's seed stream.
    """
    encoder = TableEncoder(numerical=numerical, missing="onehot", other="sample",
                           handle_unknown="impute", max_categories=max_categories,
                           dtype="float32")
    encoder.fit_matrix(schema, matrix, seeded(rng))
    return encoder, encoder.transform_matrix(matrix, seeded(rng))


def span_encoding_state(encoder: TableEncoder) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """The ``extra`` state and tensors of a fitted span encoding (the schema is saved apart)."""
    state, arrays = encoder.to_state(include_schema=False)
    return {"encoder": state}, {k: torch.from_numpy(np.ascontiguousarray(v))
                                for k, v in arrays.items()}


def load_span_encoding(schema: TableSchema, extra: Mapping[str, Any],
                       tensors: Mapping[str, torch.Tensor]) -> TableEncoder:
    """Rebuild what :func:`span_encoding_state` wrote, or the span codec of older folders."""
    # folders saved before the merge hold the span codec's unversioned state under "codec"
    state = extra["encoder"] if "encoder" in extra else extra["codec"]
    return TableEncoder.from_state(state, tensors, schema=schema)


def seeded(rng: np.random.Generator) -> np.random.Generator:
    """A child numpy generator, so encoding draws do not shift the model's seed stream."""
    return np.random.default_rng(spawn_seed(rng))
