"""Training and scoring a downstream model: the same loop for every modality and every arm.

A downstream model is a ``torch.nn.Module`` whose ``forward`` takes the task's model inputs by
name (``model(**inputs)``: ``x_num`` and ``x_cat`` for tables) and returns ``(n, n_classes)``
logits.  :class:`TensorSet` holds those inputs and the labels on one device.

The loop follows the hot-path rules: the tensors are moved to the device once, batches are
indexed on the device from a local ``torch.Generator``, the loss stays on the device, and the
host synchronises only when the validation loss is checked (every ``eval_every`` steps).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from synthaug.config import TrainingSpec
from synthaug.exceptions import InvalidDataError

__all__ = [
    "EVAL_BATCH_ROWS",
    "FitInfo",
    "TensorSet",
    "fit_classifier",
    "predict_proba",
    "seeded_torch",
    "validation_loss",
]

#: records per forward pass when evaluating (bounds memory on large validation / test sets)
EVAL_BATCH_ROWS = 65_536


@dataclass(frozen=True)
class TensorSet:
    """Model inputs (by ``forward`` argument name) and labels as tensors on one device.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from synthaug.recipes.training import TensorSet
    >>> ts = TensorSet.from_arrays({"x_num": np.zeros((3, 2)), "x_cat": np.zeros((3, 1), int)},
    ...                            np.array([0, 1, 0]), torch.device("cpu"))
    >>> len(ts), ts.inputs["x_num"].dtype, ts.inputs["x_cat"].dtype
    (3, torch.float32, torch.int64)
    """

    inputs: Mapping[str, torch.Tensor]
    y: torch.Tensor
    #: per-record loss weights (``None``: every record counts the same)
    weights: torch.Tensor | None = None

    @classmethod
    def from_arrays(
        cls, inputs: Mapping[str, np.ndarray], y: np.ndarray, device: torch.device,
        weights: np.ndarray | None = None,
    ) -> TensorSet:
        """Copy the arrays to ``device`` (the only host -> device copy of the data).

        Floating arrays become float32 and integer arrays int64 (embedding indices), whatever
        width the task produced them in.  ``weights`` (one per record) weight the training
        loss: class weights, or synthetic records counting less than real ones.
        """
        tensors: dict[str, torch.Tensor] = {}
        for name, array in inputs.items():
            if np.issubdtype(array.dtype, np.floating):
                dtype = torch.float32
            elif np.issubdtype(array.dtype, np.integer):
                dtype = torch.long
            else:
                raise InvalidDataError(
                    f"model input {name!r} has dtype {array.dtype}; a task gives floating or "
                    "integer arrays.")
            tensors[name] = torch.as_tensor(array, dtype=dtype).to(device)
        w = None if weights is None else torch.as_tensor(weights, dtype=torch.float32).to(device)
        return cls(tensors, torch.as_tensor(y, dtype=torch.long).to(device), w)

    def __len__(self) -> int:
        return int(self.y.shape[0])

    def rows(self, index: torch.Tensor | slice) -> dict[str, torch.Tensor]:
        """The inputs of the records at ``index`` (positions or a slice), ready for ``**``."""
        return {name: tensor[index] for name, tensor in self.inputs.items()}


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
    >>> from synthaug.recipes.training import seeded_torch
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
        Already on the tensors' device; ``model(**inputs) -> logits``.
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
    >>> from synthaug.recipes.tasks.tabular import TabularInputs, TabularMLP
    >>> from synthaug.recipes.training import TensorSet, fit_classifier
    >>> g = torch.Generator().manual_seed(0)
    >>> x = torch.randn(64, 2, generator=g)
    >>> data = TensorSet({"x_num": x, "x_cat": torch.zeros(64, 0, dtype=torch.long)},
    ...                  (x[:, 0] > 0).long())
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
        logits = model(**train.rows(idx))
        if train.weights is None:
            loss = F.cross_entropy(logits, train.y[idx])
        else:  # the weighted mean, so a batch's loss scale does not depend on its weights
            w = train.weights[idx]
            loss = (F.cross_entropy(logits, train.y[idx], reduction="none") * w).sum() / w.sum()
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
    >>> from synthaug.recipes.tasks.tabular import TabularInputs, TabularMLP
    >>> from synthaug.recipes.training import TensorSet, validation_loss
    >>> data = TensorSet({"x_num": torch.zeros(4, 1), "x_cat": torch.zeros(4, 0, dtype=int)},
    ...                  torch.tensor([0, 1, 0, 1]))
    >>> model = TabularMLP(TabularInputs(("a",), (), (), 2), hidden=(4,))
    >>> validation_loss(model, data) > 0
    True
    """
    model.eval()
    total = torch.zeros((), device=data.y.device)
    for lo in range(0, len(data), EVAL_BATCH_ROWS):
        sl = slice(lo, lo + EVAL_BATCH_ROWS)
        logits = model(**data.rows(sl))
        total += F.cross_entropy(logits, data.y[sl], reduction="sum")
    return float(total.item()) / max(len(data), 1)


@torch.no_grad()
def predict_proba(model: nn.Module, data: TensorSet) -> np.ndarray:
    """Class probabilities ``(n, n_classes)`` of ``model`` on ``data``, as a numpy array.

    Examples
    --------
    >>> import torch
    >>> from synthaug.recipes.tasks.tabular import TabularInputs, TabularMLP
    >>> from synthaug.recipes.training import TensorSet, predict_proba
    >>> data = TensorSet({"x_num": torch.zeros(3, 1), "x_cat": torch.zeros(3, 0, dtype=int)},
    ...                  torch.tensor([0, 1, 0]))
    >>> predict_proba(TabularMLP(TabularInputs(("a",), (), (), 2), hidden=(4,)), data).shape
    (3, 2)
    """
    model.eval()
    parts = []
    for lo in range(0, len(data), EVAL_BATCH_ROWS):
        sl = slice(lo, lo + EVAL_BATCH_ROWS)
        parts.append(torch.softmax(model(**data.rows(sl)).float(), dim=1))
    return torch.cat(parts).cpu().numpy().astype(np.float64)
