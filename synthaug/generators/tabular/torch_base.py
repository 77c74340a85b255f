"""Shared base of synthaug's torch tabular generators, and the span encoding the GAN and VAE use.

:class:`TorchTabularGenerator` is the tabular glue over
:class:`~synthaug.generators.torch.TorchGeneratorMixin` (which owns the common parameters,
local seeding, the device copy, the modules, the training loop and their persistence): it
hands the schema matrix to the subclass's ``_prepare``, samples schema matrices in bounded
chunks through ``_generate`` and checks conditions.  Two things every family gets from it:

* **the default budget** (``epochs=None``): the family's reference number of epochs, but at
  least ``_MIN_STEPS`` and at most ``_MAX_STEPS`` optimiser steps (:func:`budget_epochs`), so
  an 800-row table is not trained for a few hundred steps nor a large one for tens of
  thousands;
* **missing shares as in the data**: after training, each nullable column's missing logit is
  shifted so that the model's mean probability of missing equals the training share
  (:meth:`TorchTabularGenerator._calibrate_missing`; saved as ``missing_shift_``).

:func:`fit_span_encoding` is the GAN's and VAE's use of
:class:`~synthaug.data.encoding.TableEncoder`: one-hot softmax blocks for levels, mixture
modes and missing flags, an "other" slot decoded by sampling, and float32 features; the
fitted encoder decodes on the device (:meth:`TableEncoder.to`).  :func:`load_span_encoding`
also reads the span-codec state of folders saved before the encodings were merged.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import torch
from scipy import special

from synthaug.data.encoding import TableEncoder
from synthaug.data.schema import TableSchema
from synthaug.exceptions import ModelFormatError
from synthaug.generators.nn import iter_slices
from synthaug.generators.tabular.base import TabularGenerator
from synthaug.generators.torch import EpochCallback, TorchGeneratorMixin
from synthaug.utils.random import spawn_seed, torch_generator

__all__ = [
    "CALIBRATION_ROWS",
    "EpochCallback",
    "TorchTabularGenerator",
    "budget_epochs",
    "fit_span_encoding",
    "load_span_encoding",
    "logit_shift",
    "seeded",
    "span_encoding_state",
]

#: rows generated per forward pass when sampling; bounds device memory for any ``n``
SAMPLE_CHUNK_ROWS = 65_536

#: rows drawn after training to calibrate the missing-value shares (the error of a share
#: measured on them is at most 0.5 / sqrt(16384) = 0.004, and far less in practice: it is the
#: mean of per-row probabilities, not of draws)
CALIBRATION_ROWS = 16_384


def budget_epochs(steps_per_epoch: int, default_epochs: int, min_steps: int, max_steps: int
                  ) -> int:
    """Epochs of the data-scaled default budget: ``default_epochs`` passes, stretched to at
    least ``min_steps`` optimiser steps and cut to at most ``max_steps`` (never under one
    epoch).

    Small tables have few steps per epoch, so a fixed number of epochs trains them for a few
    hundred steps (too few); large tables have many, so it trains them for tens of thousands
    (more than they need, at hours of CPU time).

    Examples
    --------
    >>> budget_epochs(2, 300, 3000, 6000)       # 800 rows, batches of 500: 2 steps an epoch
    1500
    >>> budget_epochs(40, 300, 3000, 6000)      # 20,000 rows: 12,000 steps cut to 6,000
    150
    >>> budget_epochs(10_000, 300, 3000, 6000)  # 5 million rows: one epoch
    1
    """
    spe = max(1, int(steps_per_epoch))
    steps = min(max(default_epochs * spe, min_steps), max_steps)
    return max(1, round(steps / spe))


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

    _auto_epochs = True
    # None: the data-scaled budget (the mixin's other families always take a whole number)
    epochs: int | None  # type: ignore[assignment]
    #: ``epochs=None``: this many passes over the rows (the family's reference default) ...
    _DEFAULT_EPOCHS: ClassVar[int] = 300
    #: ... but at least this many optimiser steps in all ...
    _MIN_STEPS: ClassVar[int] = 1500
    #: ... and at most this many (see :func:`budget_epochs`)
    _MAX_STEPS: ClassVar[int] = 3000
    #: calibration passes: one is exact when a column's missing draw depends on nothing else
    #: sampled (one forward pass per row); an autoregressive model needs more
    _CALIBRATION_ROUNDS: ClassVar[int] = 1
    #: rows drawn per calibration pass
    _CALIBRATION_ROWS: ClassVar[int] = CALIBRATION_ROWS

    # -- fit -----------------------------------------------------------------------------------
    def _fit_matrix(self, matrix: np.ndarray, rng: np.random.Generator) -> None:
        # the torch seed is drawn before the encoding's: the order that gave each seed its model
        gen = self._torch_generator(rng)
        self.missing_shift_ = np.zeros(len(self.schema_.columns))
        self._fit_torch(self._prepare(matrix, rng), gen)
        # drawn after everything the model's seed stream gave before this existed
        self._calibrate_missing(np.random.default_rng(spawn_seed(rng)))

    def _epochs_for(self, steps_per_epoch: int) -> int:
        """Epochs to train: ``epochs`` when given, else the data-scaled default budget."""
        if self.epochs is not None:
            return int(self.epochs)
        return budget_epochs(steps_per_epoch, self._DEFAULT_EPOCHS, self._MIN_STEPS,
                             self._MAX_STEPS)

    def _calibrate_missing(self, rng: np.random.Generator) -> None:
        """Shift each nullable column's missing logit so the model's share matches the data's.

        A deep generator's share of missing values drifts from the data's (39 % real came
        back as 20 % from the GAN and 46 % from the VAE at short budgets): the share is one
        output among many and nothing in the loss holds it to the data.  After training,
        :data:`CALIBRATION_ROWS` unconditional rows are drawn (fewer for the transformer,
        whose sampling is slower); for each column the mean of the
        per-row probabilities of missing is set to the training share by one additive shift of
        the missing logit (found by bisection; shifting a softmax logit shifts that slot's
        log-odds exactly).  The model's dependence of missingness on the other columns is kept;
        only its overall level moves.  The shifts are saved with the model
        (``missing_shift_``, zero for columns without missing values).
        """
        targets = {j: c.missing_rate for j, c in enumerate(self.schema_.columns)
                   if c.nullable and (c.kind.is_discrete or c.kind.is_continuous)}
        if not targets or not self.modules_:
            return
        gen = torch_generator(rng, self.device_)
        for module in self.modules_.values():
            module.eval()
        for _ in range(self._CALIBRATION_ROUNDS):
            probe: dict[int, list[torch.Tensor]] = {}
            self._probe: dict[int, list[torch.Tensor]] | None = probe
            try:
                with torch.inference_mode():
                    for start, stop in iter_slices(self._CALIBRATION_ROWS,
                                                   SAMPLE_CHUNK_ROWS):
                        self._generate(stop - start, {}, gen)  # only the probe is kept
            finally:
                self._probe = None
            columns = [j for j in targets if j in probe]
            if not columns:
                return
            # one device -> host copy for all columns
            probs = torch.stack([torch.cat(probe[j]) for j in columns]).double().cpu().numpy()
            for j, p in zip(columns, probs, strict=True):
                self.missing_shift_[j] += logit_shift(p, targets[j])

    def _missing_options(self) -> dict[str, Any]:
        """The decoder's ``missing_shift`` and ``probe`` (see :meth:`_calibrate_missing`)."""
        shift = getattr(self, "missing_shift_", None)
        shifts = {} if shift is None else {int(j): float(shift[j]) for j in np.flatnonzero(shift)}
        return {"missing_shift": shifts, "probe": getattr(self, "_probe", None)}

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

    # -- persistence ---------------------------------------------------------------------------
    def _get_model_state(self) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        state, tensors = super()._get_model_state()
        shift = getattr(self, "missing_shift_", None)
        if shift is not None and shift.any():  # folders without it load with no shift
            tensors["calibration.missing_shift"] = torch.from_numpy(shift.copy())
        return state, tensors

    def _set_model_state(
        self, state: Mapping[str, Any], tensors: Mapping[str, torch.Tensor]
    ) -> None:
        super()._set_model_state(state, tensors)
        n_columns = len(self.schema_.columns)
        saved = tensors.get("calibration.missing_shift")
        if saved is None:
            self.missing_shift_ = np.zeros(n_columns)
            return
        shift = saved.detach().cpu().numpy().astype(np.float64)
        if shift.shape != (n_columns,) or not np.isfinite(shift).all():
            raise ModelFormatError(
                f"saved model: calibration.missing_shift must be {n_columns} finite numbers, "
                f"got shape {tuple(shift.shape)}; the folder is damaged. Fit and save it again."
            )
        self.missing_shift_ = shift

    # -- hooks ---------------------------------------------------------------------------------
    @abstractmethod
    def _prepare(self, matrix: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Fit the encoding, set ``self.arch_`` (JSON-able sizes), return arrays to train on."""

    @abstractmethod
    def _generate(self, n: int, fixed: Mapping[int, float], generator: torch.Generator
                  ) -> torch.Tensor:
        """Return ``n`` rows as an ``(n, n_columns)`` float64 schema matrix on the device."""


def logit_shift(p: np.ndarray, rate: float) -> float:
    """The ``d`` with ``mean(expit(logit(p) + d)) == rate`` (bisection; ``p`` clipped off 0, 1).

    Examples
    --------
    >>> import numpy as np
    >>> p = np.array([0.1, 0.2, 0.3])
    >>> d = logit_shift(p, 0.39)
    >>> round(float(np.mean(1 / (1 + np.exp(-(np.log(p / (1 - p)) + d))))), 6)
    0.39
    """
    logits = special.logit(np.clip(p, 1e-9, 1 - 1e-9))
    lo, hi = -40.0, 40.0
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        if float(special.expit(logits + mid).mean()) < rate:
            lo = mid
        else:
            hi = mid
    shift = 0.5 * (lo + hi)
    return shift if math.isfinite(shift) else 0.0


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
