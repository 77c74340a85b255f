"""Shared base of synthaug's torch tabular generators, and the span encoding they learn from.

:class:`TorchTabularGenerator` is the tabular glue over
:class:`~synthaug.generators.torch.TorchGeneratorMixin` (which owns the common parameters,
local seeding, the device copy, the modules, the training loop and their persistence): it
hands the schema matrix to the subclass's ``_prepare``, samples schema matrices in bounded
chunks through ``_generate`` and checks conditions.

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
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from scipy import special

from synthaug.data.schema import ColumnKind, TableSchema, datetime_resolution
from synthaug.generators.nn import sample_categorical
from synthaug.generators.tabular.base import TabularGenerator
from synthaug.generators.torch import EpochCallback, TorchGeneratorMixin
from synthaug.utils.random import spawn_seed

__all__ = ["CodecSpan", "EpochCallback", "SpanCodec", "TorchTabularGenerator", "seeded"]

#: rows generated per forward pass when sampling; bounds device memory for any ``n``
SAMPLE_CHUNK_ROWS = 65_536

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
        # the torch generator is drawn before the encoding's seeds: keeps a seed's model
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


def seeded(rng: np.random.Generator) -> np.random.Generator:
    """A child numpy generator, so encoding draws do not shift the model's seed stream."""
    return np.random.default_rng(spawn_seed(rng))
