"""Shared base of synthaug's torch tabular generators, and the span encoding they learn from.

:class:`TorchTabularGenerator` owns what every deep tabular generator does the same way: the
common parameters, local seeding (one :class:`torch.Generator` per fit or sample call, drawn
from ``random_state``), moving the encoded table to the device once, the training loop of
:func:`synthaug.generators.nn.run_epochs` (one host sync per epoch, progress bar, early
stopping that keeps the best weights), sampling in bounded chunks, and saving modules and
fitted statistics as safetensors + JSON.

:class:`SpanCodec` is the encoding the VAE and the GAN learn from.  It works on the matrix
layout of :meth:`~synthaug.data.schema.TableSchema.to_matrix` (the one the tabular base hands
over) and decodes *on the device*, so sampling ships only the final ``(n, n_columns)`` matrix
to the host.  It follows the span layout of :class:`synthaug.data.encoders.TableEncoder` but is
a separate, private implementation, because that encoder (a) works on frames, not on the
schema matrix, and has no public matrix-level fit/transform/inverse, (b) decodes in numpy on
the host, (c) maps a grouped "other" level back to one fixed level, and (d) has no
mode-specific (Gaussian-mixture) normalisation for CTGAN.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

import numpy as np
import torch
from scipy import special
from torch import nn

from synthaug.data.schema import ColumnKind, TableSchema, datetime_resolution
from synthaug.exceptions import InvalidParameterError
from synthaug.generators.nn import (
    TrainingHistory,
    build_module,
    iter_slices,
    maybe_compile,
    run_epochs,
    sample_categorical,
    set_generator,
)
from synthaug.generators.tabular.base import TabularGenerator
from synthaug.utils.random import spawn_seed, torch_generator

__all__ = ["CodecSpan", "SpanCodec", "TorchTabularGenerator"]

#: rows generated per forward pass when sampling; bounds device memory for any ``n``
SAMPLE_CHUNK_ROWS = 65_536

#: ``epoch_callback(generator, epoch, losses)``: called after every epoch; truthy stops the fit
EpochCallback = Callable[["TorchTabularGenerator", int, dict[str, float]], object]

#: marks the grouped "other" slot of a capped categorical in ``pos_to_code``
_OTHER = -2.0

#: normal scores are clipped to these probabilities so extreme rows stay finite (about 5.2 sd)
_QUANTILE_EPS = 1e-7

#: values used to fit each column's Gaussian mixture (a random subsample beyond this)
GMM_FIT_ROWS = 20_000



# =============================================================================================
# The span codec
# =============================================================================================
@dataclass(frozen=True)
class CodecSpan:
    """Features ``start:end`` of the encoding hold ``role`` of schema column ``column``.

    Roles: ``"value"`` (one continuous feature), ``"mode"`` (one-hot mixture component of a
    continuous column), ``"levels"`` (one-hot level of a discrete column; missing is its last
    level when the column had missing values) and ``"missing"`` (two-way one-hot
    ``[observed, missing]`` of a continuous column).  Every role but ``"value"`` is a softmax
    block.

    Examples
    --------
    >>> from synthaug.generators.tabular.torch_base import CodecSpan
    >>> span = CodecSpan(column=1, role="levels", start=3, end=6)
    >>> span.width, span.discrete
    (3, True)
    """

    column: int
    role: str
    start: int
    end: int

    @property
    def width(self) -> int:
        return self.end - self.start

    @property
    def discrete(self) -> bool:
        return self.role != "value"


class SpanCodec:
    """Reversible span encoding of a schema matrix, decoded on the device.

    Parameters
    ----------
    numerical : {"quantile", "standard", "gmm"}
        ``"quantile"``: normal scores through a quantile grid (skewed and spiky columns look
        Gaussian); ``"standard"``: z-scores; ``"gmm"``: CTGAN's mode-specific normalisation, a
        one-hot mixture component plus the value scaled by that component
        (``(x - mean_k) / (4 sd_k)``), with a 1-D Gaussian mixture fitted by EM.
    max_categories : int or None
        Most one-hot slots per discrete column (missing not counted): the ``max_categories - 1``
        most frequent levels keep a slot, the rest share an "other" slot, which decodes to one
        of its levels drawn by training frequency.  ``None`` keeps every level.
    n_quantiles : int
        Points of each quantile grid.
    n_modes : int
        Most mixture components per column for ``"gmm"``.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from synthaug.data.schema import TableSchema
    >>> from synthaug.generators.tabular.torch_base import SpanCodec
    >>> df = pd.DataFrame({"x": [1.0, 2.0, None, 4.0], "c": ["a", "b", "a", "a"]})
    >>> schema = TableSchema.detect(df)
    >>> rng = np.random.default_rng(0)
    >>> codec = SpanCodec(numerical="standard").fit(schema, schema.to_matrix(df), rng)
    >>> [(s.role, s.start, s.end) for s in codec.spans]
    [('value', 0, 1), ('missing', 1, 3), ('levels', 3, 5)]
    >>> codec.transform(schema.to_matrix(df), rng).shape
    (4, 5)
    """

    def __init__(
        self,
        *,
        numerical: str = "quantile",
        max_categories: int | None = 100,
        n_quantiles: int = 1000,
        n_modes: int = 10,
    ) -> None:
        self.numerical = numerical
        self.max_categories = max_categories
        self.n_quantiles = n_quantiles
        self.n_modes = n_modes

    # -- fit -----------------------------------------------------------------------------------
    def fit(self, schema: TableSchema, matrix: np.ndarray, rng: np.random.Generator) -> SpanCodec:
        """Learn the layout and statistics of ``matrix`` (the layout of ``schema``)."""
        self.schema = schema
        self.spans: list[CodecSpan] = []
        self.arrays: dict[str, np.ndarray] = {}
        start = 0
        for j, col in enumerate(schema.columns):
            values = matrix[:, j]
            missing = np.isnan(values)
            if col.kind.is_discrete:
                n_levels = len(col.categories or [])
                codes = np.where(missing, n_levels, values).astype(np.int64)
                counts = np.bincount(codes, minlength=n_levels + 1)
                to_pos, to_code, pos_counts, grouped, grouped_cum = self._discrete_layout(
                    counts, col.nullable
                )
                self.arrays |= {f"code_to_pos.{j}": to_pos, f"pos_to_code.{j}": to_code,
                                f"counts.{j}": pos_counts.astype(np.float64)}
                if len(grouped):
                    self.arrays |= {f"grouped.{j}": grouped.astype(np.float64),
                                    f"grouped_cum.{j}": grouped_cum}
                self.spans.append(CodecSpan(j, "levels", start, start + len(to_code)))
                start += len(to_code)
            elif col.kind.is_continuous:
                observed = values[~missing]
                self.spans.append(CodecSpan(j, "value", start, start + 1))
                start += 1
                if self.numerical == "quantile":
                    k = int(min(self.n_quantiles, max(2, len(observed))))
                    self.arrays[f"grid.{j}"] = np.quantile(observed, np.linspace(0.0, 1.0, k))
                elif self.numerical == "standard":
                    std = float(observed.std())
                    self.arrays[f"center.{j}"] = np.array([float(observed.mean())])
                    self.arrays[f"scale.{j}"] = np.array([std if std > 0 else 1.0])
                else:
                    means, stds, weights = _fit_gmm_1d(observed, self.n_modes, rng)
                    self.arrays |= {f"means.{j}": means, f"stds.{j}": stds,
                                    f"weights.{j}": weights}
                    self.spans.append(CodecSpan(j, "mode", start, start + len(means)))
                    start += len(means)
                if col.kind is ColumnKind.DATETIME:
                    resolution = float(datetime_resolution(observed))
                    self.arrays[f"resolution.{j}"] = np.array([resolution])
                if col.nullable:
                    self.spans.append(CodecSpan(j, "missing", start, start + 2))
                    start += 2
            # identifier and empty columns carry nothing to learn; the schema regenerates them
        self.width = start
        return self

    def _discrete_layout(
        self, counts: np.ndarray, nullable: bool
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        n_levels = len(counts) - 1
        level_counts = counts[:n_levels]
        if self.max_categories is not None and n_levels > self.max_categories:
            by_freq = np.argsort(-level_counts, kind="stable")
            kept = np.sort(by_freq[: self.max_categories - 1])
            grouped = by_freq[self.max_categories - 1 :]
            grouped = grouped[level_counts[grouped] > 0]  # never draw an unseen level
        else:
            kept = np.arange(n_levels)
            grouped = np.empty(0, dtype=np.int64)
        width = len(kept) + (1 if len(grouped) else 0) + (1 if nullable else 0)
        to_pos = np.full(n_levels + 1, -1, dtype=np.int64)
        to_code = np.full(width, np.nan)
        pos_counts = np.zeros(width)
        to_pos[kept] = np.arange(len(kept))
        to_code[: len(kept)] = kept
        pos_counts[: len(kept)] = level_counts[kept]
        pos = len(kept)
        grouped_cum = np.empty(0)
        if len(grouped):
            to_pos[grouped] = pos
            to_code[pos] = _OTHER
            pos_counts[pos] = level_counts[grouped].sum()
            grouped_cum = np.cumsum(level_counts[grouped]) / level_counts[grouped].sum()
            pos += 1
        if nullable:
            to_pos[n_levels] = pos
            pos_counts[pos] = counts[n_levels]
        return to_pos, to_code, pos_counts, grouped, grouped_cum

    # -- layout queries ------------------------------------------------------------------------
    def column_spans(self, j: int) -> list[CodecSpan]:
        return [s for s in self.spans if s.column == j]

    def level_span(self, j: int) -> CodecSpan | None:
        """The one-hot span of discrete column ``j`` (``None`` for other columns)."""
        for s in self.spans:
            if s.column == j and s.role == "levels":
                return s
        return None

    def level_counts(self, j: int) -> np.ndarray:
        """Training rows per slot of discrete column ``j`` (missing and "other" included)."""
        return self.arrays[f"counts.{j}"]

    def position(self, j: int, code: int) -> int:
        """Slot of category ``code`` of discrete column ``j``."""
        return int(self.arrays[f"code_to_pos.{j}"][code])

    def level_seen(self, j: int, code: int) -> bool:
        counts = self.arrays.get(f"counts.{j}")
        if counts is None:
            return True
        pos = self.position(j, code)
        if pos < 0:
            return False
        if self.arrays[f"pos_to_code.{j}"][pos] == _OTHER:
            return bool(np.isin(code, self.arrays[f"grouped.{j}"]))
        return bool(counts[pos] > 0)

    # -- encode (host, numpy: done once per fit) -----------------------------------------------
    def transform(self, matrix: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Encode ``matrix`` as a float32 ``(n, width)`` array."""
        out = np.zeros((len(matrix), self.width), dtype=np.float32)
        for j in sorted({s.column for s in self.spans}):
            block = self.encode_column(j, matrix[:, j], rng)
            spans = self.column_spans(j)
            out[:, spans[0].start : spans[-1].end] = block
        return out

    def encode_column(self, j: int, values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """The features of column ``j`` for ``values`` (its schema-matrix column)."""
        spans = self.column_spans(j)
        n = len(values)
        block = np.zeros((n, spans[-1].end - spans[0].start), dtype=np.float32)
        rows = np.arange(n)
        missing = np.isnan(values)
        if spans[0].role == "levels":
            to_pos = self.arrays[f"code_to_pos.{j}"]
            codes = np.where(missing, len(to_pos) - 1, np.nan_to_num(values)).astype(np.int64)
            pos = to_pos[codes]
            # a missing value in a column that had none in fit: no slot; use the commonest level
            pos = np.where(pos < 0, int(np.argmax(self.level_counts(j))), pos)
            block[rows, pos] = 1.0
            return block
        filled = np.where(missing, np.nanmean(values) if (~missing).any() else 0.0, values)
        if self.numerical == "quantile":
            block[:, 0] = _quantile_scores(filled, self.arrays[f"grid.{j}"])
        elif self.numerical == "standard":
            block[:, 0] = (filled - self.arrays[f"center.{j}"][0]) / self.arrays[f"scale.{j}"][0]
        else:
            means, stds = self.arrays[f"means.{j}"], self.arrays[f"stds.{j}"]
            weights = self.arrays[f"weights.{j}"]
            z = (filled[:, None] - means[None, :]) / stds[None, :]
            logp = np.log(weights)[None, :] - np.log(stds)[None, :] - 0.5 * z**2
            prob = np.exp(logp - logp.max(axis=1, keepdims=True))
            prob /= prob.sum(axis=1, keepdims=True)
            # CTGAN draws each value's component from its posterior rather than the argmax,
            # so neighbouring modes overlap smoothly
            cum = np.cumsum(prob, axis=1)
            mode = np.minimum((cum < rng.random(n)[:, None]).sum(axis=1), len(means) - 1)
            block[:, 0] = np.clip((filled - means[mode]) / (4 * stds[mode]), -0.99, 0.99)
            block[rows, 1 + mode] = 1.0
        if spans[-1].role == "missing":
            block[rows, block.shape[1] - 2 + missing.astype(np.int64)] = 1.0
        return block

    # -- decode (device, torch) ----------------------------------------------------------------
    def to(self, device: torch.device) -> SpanCodec:
        """Keep device copies of the decoding statistics (float64: datetimes need it)."""
        self.device = device
        self.tensors = {k: torch.as_tensor(v, dtype=torch.float64, device=device)
                        for k, v in self.arrays.items()}
        return self

    def decode(
        self,
        features: torch.Tensor,
        generator: torch.Generator,
        *,
        given: Mapping[int, torch.Tensor] | None = None,
    ) -> torch.Tensor:
        """Turn generator output into an ``(n, n_columns)`` float64 schema matrix (on device).

        ``features`` holds final values in ``"value"`` spans and logits in the softmax spans;
        each softmax span is sampled (Gumbel-max with ``generator``).  ``given`` maps columns
        to slot indices already decided (conditions), which replace sampling for them.
        """
        n = features.shape[0]
        t = self.tensors
        out = torch.full((n, len(self.schema.columns)), math.nan, dtype=torch.float64,
                         device=features.device)
        given = given or {}
        for j in sorted({s.column for s in self.spans}):
            spans = self.column_spans(j)
            first = spans[0]
            if first.role == "levels":
                pos = given.get(j)
                if pos is None:
                    pos = sample_categorical(features[:, first.start : first.end], generator)
                code = t[f"pos_to_code.{j}"][pos]
                if f"grouped.{j}" in t:
                    u = torch.rand(n, generator=generator, device=features.device,
                                   dtype=torch.float64)
                    cum = t[f"grouped_cum.{j}"]
                    idx = torch.searchsorted(cum, u).clamp_(max=len(cum) - 1)
                    code = torch.where(code == _OTHER, t[f"grouped.{j}"][idx], code)
                out[:, j] = code
                continue
            z = features[:, first.start].double()
            if self.numerical == "quantile":
                x = _interp_quantile(torch.special.ndtr(z), t[f"grid.{j}"])
            elif self.numerical == "standard":
                x = z * t[f"scale.{j}"][0] + t[f"center.{j}"][0]
            else:
                mode_span = spans[1]
                mode = sample_categorical(features[:, mode_span.start : mode_span.end], generator)
                x = z.clamp(-1.0, 1.0) * 4 * t[f"stds.{j}"][mode] + t[f"means.{j}"][mode]
            if f"resolution.{j}" in t:
                # snap datetimes to the fitted data's unit; also removes float round-off near 1e18
                unit = t[f"resolution.{j}"][0]
                x = torch.round(x / unit) * unit
            if spans[-1].role == "missing":
                last = spans[-1]
                is_missing = sample_categorical(features[:, last.start : last.end], generator)
                x = torch.where(is_missing == 1, torch.full_like(x, math.nan), x)
            out[:, j] = x
        return out

    # -- persistence ---------------------------------------------------------------------------
    def state(self) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        meta = {
            "numerical": self.numerical,
            "max_categories": self.max_categories,
            "n_quantiles": self.n_quantiles,
            "n_modes": self.n_modes,
            "spans": [asdict(s) for s in self.spans],
            "width": self.width,
        }
        tensors = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in self.arrays.items()}
        return meta, tensors

    @classmethod
    def from_state(
        cls, schema: TableSchema, meta: Mapping[str, Any], tensors: Mapping[str, torch.Tensor]
    ) -> SpanCodec:
        codec = cls(numerical=meta["numerical"], max_categories=meta["max_categories"],
                    n_quantiles=meta["n_quantiles"], n_modes=meta["n_modes"])
        codec.schema = schema
        codec.spans = [CodecSpan(**s) for s in meta["spans"]]
        codec.width = int(meta["width"])
        codec.arrays = {}
        for k, v in tensors.items():
            arr = v.detach().cpu().numpy()
            codec.arrays[k] = arr.astype(np.int64) if k.startswith("code_to_pos.") else arr
        for s in codec.spans:
            if s.role == "levels" and f"pos_to_code.{s.column}" not in codec.arrays:
                raise KeyError(f"codec statistics of column {s.column} are missing")
        return codec


def _quantile_scores(values: np.ndarray, grid: np.ndarray) -> np.ndarray:
    probs = np.linspace(0.0, 1.0, len(grid))
    # average of the forward and backward interpolation: a value repeated over many grid points
    # (a spike such as zero) maps to the middle of its probability band, not its edge
    u = 0.5 * (np.interp(values, grid, probs) - np.interp(-values, -grid[::-1], -probs[::-1]))
    return np.asarray(special.ndtri(np.clip(u, _QUANTILE_EPS, 1 - _QUANTILE_EPS)))


def _interp_quantile(u: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
    """Piecewise-linear inverse CDF through an evenly spaced probability grid."""
    k = grid.shape[0]
    pos = u.clamp(0.0, 1.0) * (k - 1)
    lo = pos.floor().long().clamp_(0, k - 2)
    frac = pos - lo
    return grid[lo] + frac * (grid[lo + 1] - grid[lo])


def _fit_gmm_1d(
    values: np.ndarray, n_modes: int, rng: np.random.Generator, iterations: int = 100
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """1-D Gaussian mixture by EM; components under 0.5 % weight are dropped (as CTGAN's
    Bayesian mixture prunes them).  Plain EM on at most ``GMM_FIT_ROWS`` values takes
    milliseconds where scikit-learn's variational mixture takes ~30 s per column on Adult."""
    if len(values) > GMM_FIT_ROWS:
        values = rng.choice(values, GMM_FIT_ROWS, replace=False)
    spread = float(values.std()) if len(values) > 1 else 0.0
    # a tiny floor lets a spike (capital_gain == 0) keep a near-zero width and decode exactly
    floor = max(spread * 1e-6, 1e-12)
    # start half the components at quantiles of the values and half at quantiles of the
    # distinct values: a column that is 95 % zeros (capital_loss) would otherwise start with
    # every component on the spike and never model its tail
    by_mass = n_modes - n_modes // 2
    means = np.unique(np.concatenate([
        np.quantile(values, (np.arange(by_mass) + 0.5) / by_mass),
        np.quantile(np.unique(values), (np.arange(n_modes // 2) + 0.5) / max(1, n_modes // 2)),
    ]))
    k = len(means)
    stds = np.full(k, max(spread / k, floor))
    weights = np.full(k, 1.0 / k)
    for _ in range(iterations):
        z = (values[:, None] - means[None, :]) / stds[None, :]
        logp = np.log(weights)[None, :] - np.log(stds)[None, :] - 0.5 * z**2
        resp = np.exp(logp - logp.max(axis=1, keepdims=True))
        resp /= resp.sum(axis=1, keepdims=True)
        nk = resp.sum(axis=0) + 1e-10
        previous = means
        weights = nk / nk.sum()
        means = resp.T @ values / nk
        var = resp.T @ values**2 / nk - means**2
        stds = np.sqrt(np.maximum(var, floor**2))
        if np.max(np.abs(means - previous)) < 1e-6 * max(spread, 1e-12):
            break  # converged
    keep = weights > 0.005
    if not keep.any():
        keep = weights == weights.max()
    weights = weights[keep] / weights[keep].sum()
    return means[keep], stds[keep], weights


# =============================================================================================
# The base generator
# =============================================================================================
class TorchTabularGenerator(TabularGenerator):
    """Base of the torch tabular generators (see the module docstring).

    Subclasses store their parameters in ``__init__`` (scikit-learn needs the explicit
    signature) and implement :meth:`_prepare` (fit the encoding, return the arrays to train
    on), :meth:`_make_modules` (build the networks from ``self.arch_``), :meth:`_train` and
    :meth:`_generate`.

    Common parameters: ``epochs``, ``batch_size``, ``learning_rate``, ``device="auto"``,
    ``random_state``, ``progress=None``, ``early_stopping_patience``, ``compile=False``,
    ``bf16=False`` and ``epoch_callback=None``.  Fitted state: ``modules_`` (name ->
    ``nn.Module`` on ``device_``), ``arch_`` (the sizes that rebuild them), ``history_``
    (:class:`TrainingHistory`).

    Examples
    --------
    >>> from synthaug.generators.tabular import TVAEGenerator
    >>> from synthaug.generators.tabular.torch_base import TorchTabularGenerator
    >>> issubclass(TVAEGenerator, TorchTabularGenerator)
    True
    >>> TVAEGenerator(epochs=5).get_params()["device"]
    'auto'
    """

    tags: ClassVar[frozenset[str]] = frozenset({"gpu"})

    #: whether early stopping restores the weights of the best epoch
    _restore_best: ClassVar[bool] = True
    _unsaved_params: ClassVar[tuple[str, ...]] = ("epoch_callback",)

    epochs: int
    batch_size: int
    learning_rate: float
    early_stopping_patience: int | None
    compile: bool
    bf16: bool
    progress: bool | None
    epoch_callback: EpochCallback | None

    # -- parameters ----------------------------------------------------------------------------
    def _check_params(self) -> None:
        _check_int("epochs", self.epochs, 1)
        _check_int("batch_size", self.batch_size, 1)
        if (
            isinstance(self.learning_rate, bool)
            or not isinstance(self.learning_rate, (int, float))
            or not self.learning_rate > 0
        ):
            raise InvalidParameterError(
                f"learning_rate must be a positive number, got {self.learning_rate!r}."
            )
        if self.early_stopping_patience is not None:
            _check_int("early_stopping_patience", self.early_stopping_patience, 1)
        for flag in ("compile", "bf16"):
            if not isinstance(getattr(self, flag), bool):
                raise InvalidParameterError(
                    f"{flag} must be True or False, got {getattr(self, flag)!r}."
                )
        if self.epoch_callback is not None and not callable(self.epoch_callback):
            raise InvalidParameterError(
                f"epoch_callback must be None or a callable (generator, epoch, losses) -> bool, "
                f"got {self.epoch_callback!r}."
            )
        if self.progress is not None and not isinstance(self.progress, bool):
            raise InvalidParameterError(f"progress must be None, True or False, got "
                                        f"{self.progress!r}.")

    # -- fit -----------------------------------------------------------------------------------
    def _fit_matrix(self, matrix: np.ndarray, rng: np.random.Generator) -> None:
        gen = torch_generator(rng, self.device_)
        arrays = self._prepare(matrix, rng)
        # the one host -> device copy of the training data
        data = {k: torch.from_numpy(np.ascontiguousarray(v)).to(self.device_)
                for k, v in arrays.items()}
        self.modules_ = self._build_modules(gen)
        self._compiled_cache: dict[str, nn.Module] = {}
        if not self.modules_:  # identifier and empty columns only: the schema makes them
            self.history_ = TrainingHistory()
            return
        for module in self.modules_.values():
            module.train()
            set_generator(module, gen)
        try:
            self.history_ = self._train(data, gen)
        finally:
            for module in self.modules_.values():
                set_generator(module, None)
                module.eval()

    def _learnable(self) -> bool:
        """Whether any column carries something to learn (not only ids or empty columns)."""
        return any(c.kind.is_discrete or c.kind.is_continuous for c in self.schema_.columns)

    def _build_modules(self, generator: torch.Generator) -> dict[str, nn.Module]:
        if not self._learnable():
            return {}
        factories = self._make_modules()
        return {name: build_module(f, self.device_, generator) for name, f in factories.items()}

    def _compiled(self, name: str) -> nn.Module:
        """The module ``name``, compiled when ``compile=True`` (cached until the next fit)."""
        cache: dict[str, nn.Module] = self.__dict__.setdefault("_compiled_cache", {})
        if name not in cache:
            cache[name] = maybe_compile(self.modules_[name], self.compile)
        return cache[name]

    def _loop(
        self,
        step: Callable[[int, int], Mapping[str, torch.Tensor]],
        *,
        steps_per_epoch: int,
        rows_per_step: int,
        monitor: str = "loss",
        evaluate: Callable[[], Mapping[str, torch.Tensor]] | None = None,
        on_epoch_start: Callable[[int], object] | None = None,
    ) -> TrainingHistory:
        """Run the shared loop with this generator's epochs, patience and progress settings."""
        best: dict[str, dict[str, torch.Tensor]] = {}

        def keep_best() -> None:
            # device-side copies: no host transfer, and only when early stopping is on
            for name, module in self.modules_.items():
                best[name] = {k: v.detach().clone() for k, v in module.state_dict().items()}

        def epoch_end(epoch: int, losses: Mapping[str, float]) -> bool:
            if self.epoch_callback is None:
                return False
            stop = bool(self.epoch_callback(self, epoch, dict(losses)))
            for module in self.modules_.values():  # the callback may have sampled (eval mode)
                module.train()
            return stop

        patience = self.early_stopping_patience
        history = run_epochs(
            step,
            epochs=self.epochs,
            steps_per_epoch=steps_per_epoch,
            rows_per_step=rows_per_step,
            monitor=monitor,
            patience=patience,
            evaluate=evaluate,
            on_improve=keep_best if patience is not None and self._restore_best else None,
            on_epoch_start=on_epoch_start,
            on_epoch_end=epoch_end if self.epoch_callback is not None else None,
            progress=self.progress,
            desc=self.name or type(self).__name__,
        )
        if best and history.best_epoch < history.epochs_run - 1 and (
            history.stop_reason != "callback"
        ):
            # the last epoch was not the best one: go back to the best weights
            for name, module in self.modules_.items():
                module.load_state_dict(best[name])
        return history

    # -- sample --------------------------------------------------------------------------------
    def _sample_matrix(
        self, n: int, fixed: Mapping[int, float], rng: np.random.Generator
    ) -> np.ndarray:
        self._check_conditions(fixed)
        gen = torch_generator(rng, self.device_)
        out = np.full((n, len(self.schema_.columns)), np.nan)
        if not self.modules_:
            return out
        for module in self.modules_.values():
            module.eval()
        with torch.inference_mode():
            for start, stop in iter_slices(n, SAMPLE_CHUNK_ROWS):
                block = self._generate(stop - start, fixed, gen)
                out[start:stop] = block.cpu().numpy()  # one device -> host copy per chunk
        return out

    def _check_conditions(self, fixed: Mapping[int, float]) -> None:
        """Raise :class:`InvalidParameterError` for conditions this model cannot meet."""

    # -- persistence ---------------------------------------------------------------------------
    def _is_fitted(self) -> bool:
        return hasattr(self, "schema_") and hasattr(self, "modules_")

    def _get_model_state(self) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        extra_state, extra_tensors = self._extra_state()
        state = {"arch": self.arch_, "history": self.history_.to_dict(), "extra": extra_state}
        tensors = {f"extra.{k}": v for k, v in extra_tensors.items()}
        for name, module in self.modules_.items():
            tensors |= {f"module.{name}.{k}": v for k, v in module.state_dict().items()}
        return state, tensors

    def _set_model_state(
        self, state: Mapping[str, Any], tensors: Mapping[str, torch.Tensor]
    ) -> None:
        self.arch_ = dict(state["arch"])
        extra = {k[len("extra."):]: v for k, v in tensors.items() if k.startswith("extra.")}
        self._set_extra_state(state["extra"], extra)
        history = dict(state.get("history") or {})
        best = history.get("best_value")
        self.history_ = TrainingHistory(
            losses=list(history.get("losses", [])),
            epochs_run=int(history.get("epochs_run", 0)),
            stopped_early=bool(history.get("stopped_early", False)),
            stop_reason=history.get("stop_reason"),
            best_epoch=int(history.get("best_epoch", -1)),
            best_value=math.inf if best is None else float(best),
            seconds=float(history.get("seconds", 0.0)),
        )
        # weights come from the file; the seed only fills buffers that load_state_dict replaces
        filler = torch.Generator(device=self.device_)
        filler.manual_seed(0)
        self.modules_ = self._build_modules(filler)
        self._compiled_cache = {}
        for name, module in self.modules_.items():
            prefix = f"module.{name}."
            sub = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
            module.load_state_dict(sub, strict=True)
            module.eval()

    def __getstate__(self) -> dict[str, Any]:
        # compiled wrappers cannot be deep-copied or pickled; they are rebuilt on demand
        state: dict[str, Any] = dict(super().__getstate__())
        state.pop("_compiled_cache", None)
        return state

    # -- hooks ---------------------------------------------------------------------------------
    @abstractmethod
    def _prepare(self, matrix: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Fit the encoding, set ``self.arch_`` (JSON-able sizes), return arrays to train on."""

    @abstractmethod
    def _make_modules(self) -> dict[str, Callable[[], nn.Module]]:
        """Factories of the networks, built from ``self.arch_`` only (load uses them too)."""

    @abstractmethod
    def _train(self, data: Mapping[str, torch.Tensor], generator: torch.Generator
               ) -> TrainingHistory:
        """Train ``self.modules_`` on ``data`` (already on the device)."""

    @abstractmethod
    def _generate(self, n: int, fixed: Mapping[int, float], generator: torch.Generator
                  ) -> torch.Tensor:
        """Return ``n`` rows as an ``(n, n_columns)`` float64 schema matrix on the device."""

    @abstractmethod
    def _extra_state(self) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        """Fitted statistics besides the modules (the encoding): JSON and tensors."""

    @abstractmethod
    def _set_extra_state(self, state: Mapping[str, Any], tensors: Mapping[str, torch.Tensor]
                         ) -> None:
        """Restore what :meth:`_extra_state` returned."""


def _check_int(name: str, value: Any, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise InvalidParameterError(f"{name} must be an int >= {minimum}, got {value!r}.")


def check_choice(name: str, value: Any, choices: tuple[str, ...]) -> None:
    """Raise :class:`InvalidParameterError` unless ``value`` is one of ``choices``."""
    if value not in choices:
        raise InvalidParameterError(
            f"{name} must be one of {', '.join(repr(c) for c in choices)}, got {value!r}."
        )


def check_positive_int(name: str, value: Any, minimum: int = 1) -> None:
    """Raise :class:`InvalidParameterError` unless ``value`` is an int >= ``minimum``."""
    _check_int(name, value, minimum)


def seeded(rng: np.random.Generator) -> np.random.Generator:
    """A child numpy generator, so encoding draws do not shift the model's seed stream."""
    return np.random.default_rng(spawn_seed(rng))

