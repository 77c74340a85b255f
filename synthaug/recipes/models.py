"""Downstream models the recipe runner trains, and the loop that trains them.

A downstream model is a ``torch.nn.Module`` made by a factory registered in
:data:`synthaug.registry.downstream_models`: ``factory(inputs, **params)`` where ``inputs`` is a
:class:`TabularInputs`.  Its ``forward(x_num, x_cat)`` takes a float32 ``(n, n_numeric)`` matrix
and an int64 ``(n, n_categorical)`` matrix of category codes and returns ``(n, n_classes)``
logits.  A user's own factory with that signature can be passed to
:func:`synthaug.recipes.run` as ``model_factory``.

The training loop follows the hot-path rules: the tensors are moved to the device once, batches
are indexed on the device from a local ``torch.Generator``, the loss stays on the device, and the
host synchronises only when the validation loss is checked (every ``eval_every`` steps).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from synthaug import registry
from synthaug.config import TrainingSpec
from synthaug.exceptions import InvalidDataError, InvalidParameterError

__all__ = [
    "FitInfo",
    "TabularFeaturizer",
    "TabularInputs",
    "TabularMLP",
    "TensorSet",
    "fit_classifier",
    "predict_proba",
    "seeded_torch",
]

#: category code of a missing value, and of a level never seen when the featurizer was fitted
MISSING_CODE, UNKNOWN_CODE = 0, 1

#: rows per forward pass when evaluating (bounds memory on large validation / test sets)
EVAL_BATCH_ROWS = 65_536


@dataclass(frozen=True)
class TabularInputs:
    """What a tabular downstream model is given to build itself.

    Attributes
    ----------
    numeric_features : tuple of str
        Names of the columns of ``x_num`` (standardized values and ``__missing`` indicators).
    categorical_features : tuple of str
        Names of the columns of ``x_cat``.
    cardinalities : tuple of int
        Number of codes of each categorical column (code 0 = missing, 1 = unseen level).
    n_classes : int
        Number of classes of the target.
    """

    numeric_features: tuple[str, ...]
    categorical_features: tuple[str, ...]
    cardinalities: tuple[int, ...]
    n_classes: int


class TabularFeaturizer:
    """Turn a table's feature columns into the two matrices a tabular model reads.

    Numerical, integer and datetime columns are standardized with the fitted mean and standard
    deviation (missing values become 0, with a 0/1 indicator when the fitted rows had missing
    values); categorical and boolean columns become integer codes: 0 for missing, 1 for a level
    not seen in fit (validation and test rows may hold one), 2.. for the fitted levels.  Unlike
    :class:`~synthaug.data.encoders.TableEncoder` it never fails on unseen levels, because the
    runner fits it on a few real training rows and applies it to the whole test set.

    Parameters
    ----------
    target : str
        The label column; it is never a feature.

    Examples
    --------
    >>> import pandas as pd
    >>> from synthaug.recipes.models import TabularFeaturizer
    >>> df = pd.DataFrame({"age": [20.0, 40.0], "job": ["a", "b"], "y": [0, 1]})
    >>> feat = TabularFeaturizer(target="y").fit(df)
    >>> x_num, x_cat = feat.transform(pd.DataFrame({"age": [30.0], "job": ["zzz"], "y": [1]}))
    >>> x_num.tolist(), x_cat.tolist()
    ([[0.0]], [[1]])
    """

    def __init__(self, *, target: str) -> None:
        self.target = target

    def fit(self, frame: pd.DataFrame) -> TabularFeaturizer:
        """Learn the column kinds, the numeric statistics and the category levels of ``frame``."""
        numeric: list[str] = []
        stats: dict[str, tuple[float, float, bool]] = {}
        levels: dict[str, pd.Index] = {}
        for name in frame.columns:
            if name == self.target:
                continue
            series = frame[name]
            if _is_numeric(series):
                values = _as_float(series)
                observed = values[~np.isnan(values)]
                mean = float(observed.mean()) if len(observed) else 0.0
                std = float(observed.std()) if len(observed) > 1 else 0.0
                stats[name] = (mean, std if std > 0 else 1.0, bool(np.isnan(values).any()))
                numeric.append(name)
            else:
                present = series[series.notna()].astype(str)
                levels[name] = pd.Index(sorted(set(present)), dtype=object)
        self.numeric_ = numeric
        self.stats_ = stats
        self.levels_ = levels
        return self

    @property
    def numeric_features(self) -> tuple[str, ...]:
        out: list[str] = []
        for name in self.numeric_:
            out.append(name)
            if self.stats_[name][2]:
                out.append(f"{name}__missing")
        return tuple(out)

    def inputs(self, n_classes: int) -> TabularInputs:
        """The :class:`TabularInputs` of the fitted layout."""
        return TabularInputs(
            numeric_features=self.numeric_features,
            categorical_features=tuple(self.levels_),
            cardinalities=tuple(len(lv) + 2 for lv in self.levels_.values()),
            n_classes=n_classes,
        )

    def transform(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(x_num float32 (n, n_numeric), x_cat int64 (n, n_categorical))``."""
        missing = [c for c in (*self.numeric_, *self.levels_) if c not in frame.columns]
        if missing:
            raise InvalidDataError(f"the frame lacks the fitted feature column(s) {missing}.")
        n = len(frame)
        blocks: list[np.ndarray] = []
        for name in self.numeric_:
            mean, std, indicator = self.stats_[name]
            values = _as_float(frame[name])
            isna = np.isnan(values)
            blocks.append(np.where(isna, 0.0, (values - mean) / std))
            if indicator:
                blocks.append(isna.astype(np.float64))
        x_num = np.column_stack(blocks).astype(np.float32) if blocks else np.zeros((n, 0),
                                                                                  np.float32)
        codes: list[np.ndarray] = []
        for name, lv in self.levels_.items():
            series = frame[name]
            isna = series.isna().to_numpy()
            pos = lv.get_indexer(pd.Index(series.astype(str).to_numpy(dtype=object)))
            code = np.where(pos >= 0, pos + 2, UNKNOWN_CODE)
            codes.append(np.where(isna, MISSING_CODE, code))
        x_cat = np.column_stack(codes).astype(np.int64) if codes else np.zeros((n, 0), np.int64)
        return x_num, x_cat


def _is_numeric(series: pd.Series) -> bool:
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return False
    return bool(pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_datetime64_any_dtype(dtype))


def _as_float(series: pd.Series) -> np.ndarray:
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        ns = series.astype("datetime64[ns]").to_numpy().view(np.int64).astype(np.float64)
        ns[series.isna().to_numpy()] = np.nan
        return ns
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


class TabularMLP(nn.Module):
    """MLP over standardized numerics and learned embeddings of the categorical columns.

    Registered as ``tabular.mlp`` in :data:`synthaug.registry.downstream_models`.

    Parameters
    ----------
    inputs : TabularInputs
        The layout of the features (from :meth:`TabularFeaturizer.inputs`).
    hidden : sequence of int, default=(128, 64)
        Width of each hidden layer (ReLU, then dropout).
    dropout : float, default=0.1
        Dropout after each hidden layer.
    embedding_dim : int or None, default=None
        Width of every category embedding; ``None`` picks ``min(16, round(1.6 * k**0.56))`` for
        a column of ``k`` codes (the usual rule of thumb for tabular embeddings).

    Examples
    --------
    >>> import torch
    >>> from synthaug.recipes.models import TabularInputs, TabularMLP
    >>> inputs = TabularInputs(("age",), ("job",), (5,), n_classes=2)
    >>> model = TabularMLP(inputs, hidden=(8,))
    >>> model(torch.zeros(3, 1), torch.zeros(3, 1, dtype=torch.long)).shape
    torch.Size([3, 2])
    """

    def __init__(
        self,
        inputs: TabularInputs,
        *,
        hidden: Sequence[int] = (128, 64),
        dropout: float = 0.1,
        embedding_dim: int | None = None,
    ) -> None:
        super().__init__()
        widths: list[Any] = list(hidden) if isinstance(hidden, (list, tuple)) else [hidden]
        if not widths or any(isinstance(h, bool) or not isinstance(h, int) or h < 1
                             for h in widths):
            raise InvalidParameterError(
                f"hidden must be a non-empty list of positive ints, got {hidden!r}.")
        if not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
            raise InvalidParameterError(f"dropout must be in [0, 1), got {dropout!r}.")
        if embedding_dim is not None and (not isinstance(embedding_dim, int) or embedding_dim < 1):
            raise InvalidParameterError(
                f"embedding_dim must be None or a positive int, got {embedding_dim!r}.")
        dims = [embedding_dim or min(16, max(2, round(1.6 * k**0.56)))
                for k in inputs.cardinalities]
        self.embeddings = nn.ModuleList(
            nn.Embedding(k, d) for k, d in zip(inputs.cardinalities, dims, strict=True)
        )
        layers: list[nn.Module] = []
        width = len(inputs.numeric_features) + sum(dims)
        for h in widths:
            layers += [nn.Linear(width, h), nn.ReLU(), nn.Dropout(dropout)]
            width = h
        layers.append(nn.Linear(width, inputs.n_classes))
        self.body = nn.Sequential(*layers)

    def forward(self, x_num: torch.Tensor, x_cat: torch.Tensor) -> torch.Tensor:
        parts = [x_num] + [emb(x_cat[:, i]) for i, emb in enumerate(self.embeddings)]
        out: torch.Tensor = self.body(torch.cat(parts, dim=1))
        return out


registry.downstream_models.register("tabular.mlp")(TabularMLP)


# -- training ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class TensorSet:
    """Features and labels as tensors on one device (moved there once).

    Examples
    --------
    >>> import numpy as np, torch
    >>> from synthaug.recipes.models import TensorSet
    >>> ts = TensorSet.from_arrays(np.zeros((3, 2)), np.zeros((3, 1)), np.array([0, 1, 0]),
    ...                            torch.device("cpu"))
    >>> len(ts), ts.x_cat.dtype
    (3, torch.int64)
    """

    x_num: torch.Tensor
    x_cat: torch.Tensor
    y: torch.Tensor

    @classmethod
    def from_arrays(
        cls, x_num: np.ndarray, x_cat: np.ndarray, y: np.ndarray, device: torch.device
    ) -> TensorSet:
        """Copy the arrays to ``device`` (the only host -> device copy of the data)."""
        return cls(
            torch.as_tensor(x_num, dtype=torch.float32).to(device),
            torch.as_tensor(x_cat, dtype=torch.long).to(device),
            torch.as_tensor(y, dtype=torch.long).to(device),
        )

    def __len__(self) -> int:
        return int(self.y.shape[0])


@dataclass(frozen=True)
class FitInfo:
    """How a training run ended: steps taken, best step, its validation loss, seconds.

    Examples
    --------
    See :func:`fit_classifier`.
    """

    steps: int
    best_step: int
    best_validation_loss: float
    stopped_early: bool
    seconds: float


@contextmanager
def seeded_torch(seed: int, device: torch.device) -> Iterator[None]:
    """Run the block with torch's global RNG seeded to ``seed``, then restore the caller's state.

    Parameter initialisation and dropout draw from torch's global generator and take no
    ``generator`` argument, so an arbitrary user module can only be made repeatable by seeding
    it.  Forking first means the caller's global RNG state is exactly as it was afterwards.

    Examples
    --------
    >>> import torch
    >>> from synthaug.recipes.models import seeded_torch
    >>> with seeded_torch(0, torch.device("cpu")):
    ...     a = torch.rand(2)
    >>> with seeded_torch(0, torch.device("cpu")):
    ...     b = torch.rand(2)
    >>> torch.equal(a, b)
    True
    """
    accelerated = device.type != "cpu"
    devices = [device.index or 0] if accelerated else []
    with torch.random.fork_rng(devices=devices, device_type=device.type if accelerated else "cuda"):
        torch.manual_seed(seed)
        yield


def fit_classifier(
    model: nn.Module,
    train: TensorSet,
    validation: TensorSet,
    training: TrainingSpec,
    *,
    seed: int,
) -> FitInfo:
    """Train ``model`` with AdamW and early stopping on the validation loss.

    Parameters
    ----------
    model : torch.nn.Module
        Already on the tensors' device; ``forward(x_num, x_cat) -> logits``.
    train, validation : TensorSet
        On the same device.
    training : TrainingSpec
        The budget (``max_steps``, ``batch_size``, ``eval_every``, ``patience``) and the
        optimizer settings.
    seed : int
        Seeds the local generator that orders the batches.

    Returns
    -------
    FitInfo
        The model ends holding the weights of its best validation loss.

    Examples
    --------
    >>> import torch
    >>> from synthaug.config import TrainingSpec
    >>> from synthaug.recipes.models import TabularInputs, TabularMLP, TensorSet, fit_classifier
    >>> g = torch.Generator().manual_seed(0)
    >>> x = torch.randn(64, 2, generator=g)
    >>> data = TensorSet(x, torch.zeros(64, 0, dtype=torch.long), (x[:, 0] > 0).long())
    >>> model = TabularMLP(TabularInputs(("a", "b"), (), (), 2), hidden=(8,))
    >>> info = fit_classifier(model, data, data, TrainingSpec(max_steps=20, eval_every=5), seed=0)
    >>> info.steps <= 20
    True
    """
    if len(train) == 0:
        raise InvalidDataError("there are no training rows.")
    device = train.y.device
    start = time.perf_counter()
    gen = torch.Generator(device=device)
    gen.manual_seed(seed)
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=training.learning_rate, weight_decay=training.weight_decay
    )
    n = len(train)
    batch = min(training.batch_size, n)
    # drop the incomplete tail of each pass so every step sees a full batch (a batch of one
    # would break batch-norm layers in user models)
    per_pass = n // batch
    order = torch.randperm(n, generator=gen, device=device)
    position = 0
    best_loss = math.inf
    best_step = 0
    best_state = _copy_state(model)
    bad_evals = 0
    step = 0
    stopped = False
    model.train()
    while step < training.max_steps:
        if position >= per_pass:
            order = torch.randperm(n, generator=gen, device=device)
            position = 0
        idx = order[position * batch : (position + 1) * batch]
        position += 1
        loss = F.cross_entropy(model(train.x_num[idx], train.x_cat[idx]), train.y[idx])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        step += 1
        if step % training.eval_every == 0 or step == training.max_steps:
            current = validation_loss(model, validation)  # the one host sync per evaluation
            model.train()
            if current < best_loss:
                best_loss, best_step, bad_evals = current, step, 0
                best_state = _copy_state(model)
            else:
                bad_evals += 1
                if bad_evals >= training.patience:
                    stopped = True
                    break
    model.load_state_dict(best_state)
    model.eval()
    return FitInfo(step, best_step, best_loss, stopped, time.perf_counter() - start)


def _copy_state(model: nn.Module) -> dict[str, Any]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


@torch.no_grad()
def validation_loss(model: nn.Module, data: TensorSet) -> float:
    """Mean cross-entropy of ``model`` on ``data`` (evaluation mode).

    Examples
    --------
    >>> import torch
    >>> from synthaug.recipes.models import TabularInputs, TabularMLP, TensorSet, validation_loss
    >>> data = TensorSet(torch.zeros(4, 1), torch.zeros(4, 0, dtype=torch.long),
    ...                  torch.tensor([0, 1, 0, 1]))
    >>> model = TabularMLP(TabularInputs(("a",), (), (), 2), hidden=(4,))
    >>> validation_loss(model, data) > 0
    True
    """
    model.eval()
    total = torch.zeros((), device=data.y.device)
    for lo in range(0, len(data), EVAL_BATCH_ROWS):
        sl = slice(lo, lo + EVAL_BATCH_ROWS)
        logits = model(data.x_num[sl], data.x_cat[sl])
        total += F.cross_entropy(logits, data.y[sl], reduction="sum")
    return float(total.item()) / max(len(data), 1)


@torch.no_grad()
def predict_proba(model: nn.Module, data: TensorSet) -> np.ndarray:
    """Class probabilities ``(n, n_classes)`` of ``model`` on ``data``, as a numpy array.

    Examples
    --------
    >>> import torch
    >>> from synthaug.recipes.models import TabularInputs, TabularMLP, TensorSet, predict_proba
    >>> data = TensorSet(torch.zeros(3, 1), torch.zeros(3, 0, dtype=torch.long),
    ...                  torch.tensor([0, 1, 0]))
    >>> predict_proba(TabularMLP(TabularInputs(("a",), (), (), 2), hidden=(4,)), data).shape
    (3, 2)
    """
    model.eval()
    parts = []
    for lo in range(0, len(data), EVAL_BATCH_ROWS):
        sl = slice(lo, lo + EVAL_BATCH_ROWS)
        parts.append(torch.softmax(model(data.x_num[sl], data.x_cat[sl]).float(), dim=1))
    return torch.cat(parts).cpu().numpy().astype(np.float64)
