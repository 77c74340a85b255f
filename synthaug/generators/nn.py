"""Shared torch building blocks and the device-resident training loop of synthaug's generators.

Three rules shape everything here:

* **Local randomness only.**  Modules are built on the ``meta`` device and initialised with an
  explicit :class:`torch.Generator` (:func:`build_module`), dropout and Gumbel noise take a
  generator too, so a fit never reads or advances torch's global RNG and ``random_state`` alone
  decides the result.
* **No host sync per step.**  :func:`run_epochs` adds each step's losses into device tensors and
  copies them to the host once per epoch (the logging cadence), where the progress bar and early
  stopping read them.  Batch indices and noise are drawn on the device.
* **Plain tensors in, plain tensors out.**  Blocks are small ``nn.Module`` classes whose
  ``state_dict`` is all there is to save (as safetensors).
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from synthaug.exceptions import InvalidParameterError
from synthaug.utils.progress import progress_bar

__all__ = [
    "MLP",
    "EpochBatcher",
    "ResidualBlock",
    "SeededDropout",
    "TrainingHistory",
    "autocast",
    "build_module",
    "gumbel_softmax",
    "init_parameters_",
    "maybe_compile",
    "run_epochs",
    "sample_categorical",
    "set_generator",
]

#: relative improvement of the monitored loss that counts as progress for early stopping
IMPROVEMENT_TOLERANCE = 1e-4


# -- construction and initialisation ---------------------------------------------------------
def build_module(
    factory: Callable[[], nn.Module], device: torch.device, generator: torch.Generator
) -> nn.Module:
    """Build ``factory()`` on ``device`` with parameters drawn from ``generator``.

    The module is first built on the ``meta`` device, where construction allocates nothing and
    draws nothing from torch's global RNG, then materialised on ``device`` and initialised by
    :func:`init_parameters_`.
    """
    with torch.device("meta"):
        module = factory()
    module = module.to_empty(device=device)
    init_parameters_(module, generator)
    return module


def init_parameters_(module: nn.Module, generator: torch.Generator) -> None:
    """(Re)initialise every parameter and buffer of ``module`` from ``generator``.

    Linear layers get torch's default (Kaiming-uniform weight, uniform bias in
    ``+-1/sqrt(fan_in)``), embeddings ``N(0, 1)`` scaled by ``init_std`` when the embedding has
    one, norms ones/zeros; batch-norm running statistics are reset.
    """
    with torch.no_grad():
        for sub in module.modules():
            if isinstance(sub, nn.Linear):
                bound = 1.0 / math.sqrt(max(1, sub.in_features))
                sub.weight.uniform_(-bound, bound, generator=generator)
                if sub.bias is not None:
                    sub.bias.uniform_(-bound, bound, generator=generator)
            elif isinstance(sub, nn.Embedding):
                std = float(getattr(sub, "init_std", 1.0))
                sub.weight.normal_(0.0, std, generator=generator)
            elif isinstance(sub, (nn.LayerNorm, nn.BatchNorm1d)):
                if sub.weight is not None:
                    sub.weight.fill_(1.0)
                if sub.bias is not None:
                    sub.bias.zero_()
                if isinstance(sub, nn.BatchNorm1d):
                    sub.reset_running_stats()
            else:
                for name, param in sub.named_parameters(recurse=False):
                    # free-standing parameters (learned scales, start tokens) start small
                    if name.startswith("log_"):
                        param.zero_()
                    else:
                        param.normal_(0.0, 0.02, generator=generator)


def set_generator(module: nn.Module, generator: torch.Generator | None) -> None:
    """Give every :class:`SeededDropout` in ``module`` the generator it draws masks from."""
    for sub in module.modules():
        if isinstance(sub, SeededDropout):
            sub.generator = generator


def maybe_compile(module: nn.Module, enabled: bool) -> nn.Module:
    """``torch.compile(module)`` when ``enabled``; the original module otherwise.

    The compiled wrapper shares parameters with ``module``, so saving ``module.state_dict()``
    stays the same either way.
    """
    if not enabled:
        return module
    compiled: nn.Module = torch.compile(module)  # type: ignore[assignment]
    return compiled


def autocast(device: torch.device, enabled: bool) -> contextlib.AbstractContextManager[Any]:
    """bfloat16 autocast on ``device`` when ``enabled``; a no-op context otherwise."""
    if not enabled:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16)


# -- blocks ----------------------------------------------------------------------------------
class SeededDropout(nn.Module):
    """Dropout whose mask comes from a local :class:`torch.Generator` (see :func:`set_generator`).

    ``nn.Dropout`` draws from torch's global RNG, which would make a seeded fit depend on
    whatever else the process did with it.

    Examples
    --------
    >>> import torch
    >>> from synthaug.generators.nn import SeededDropout
    >>> drop = SeededDropout(0.5)
    >>> drop.generator = torch.Generator().manual_seed(0)
    >>> set(drop(torch.ones(2, 4)).flatten().tolist()) <= {0.0, 2.0}
    True
    """

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = float(p)
        self.generator: torch.Generator | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        keep = torch.empty_like(x).bernoulli_(1.0 - self.p, generator=self.generator)
        return x * keep / (1.0 - self.p)


class MLP(nn.Module):
    """``Linear -> activation [-> dropout]`` per hidden layer, then a linear output layer.

    Examples
    --------
    >>> import torch
    >>> from synthaug.generators.nn import MLP, build_module
    >>> net = build_module(lambda: MLP(4, (8,), 2), torch.device("cpu"),
    ...                    torch.Generator().manual_seed(0))
    >>> net(torch.zeros(3, 4)).shape
    torch.Size([3, 2])
    """

    def __init__(
        self,
        in_features: int,
        hidden: tuple[int, ...],
        out_features: int,
        *,
        activation: str = "relu",
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = in_features
        for h in hidden:
            layers.append(nn.Linear(width, h))
            layers.append(nn.LeakyReLU(0.2) if activation == "leaky_relu" else nn.ReLU())
            if dropout > 0:
                layers.append(SeededDropout(dropout))
            width = h
        layers.append(nn.Linear(width, out_features))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.net(x)
        return out


class ResidualBlock(nn.Module):
    """CTGAN's generator block: ``concat(relu(bn(linear(x))), x)`` (the width grows by ``out``).

    Examples
    --------
    >>> import torch
    >>> from synthaug.generators.nn import ResidualBlock, build_module
    >>> block = build_module(lambda: ResidualBlock(4, 8), torch.device("cpu"),
    ...                      torch.Generator().manual_seed(0))
    >>> block(torch.randn(5, 4, generator=torch.Generator().manual_seed(1))).shape
    torch.Size([5, 12])
    """

    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__()
        self.fc = nn.Linear(in_features, out_features)
        self.bn = nn.BatchNorm1d(out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([F.relu(self.bn(self.fc(x))), x], dim=1)


# -- sampling helpers ------------------------------------------------------------------------
def _gumbel(
    shape: torch.Size, like: torch.Tensor, generator: torch.Generator | None
) -> torch.Tensor:
    u = torch.rand(shape, device=like.device, dtype=torch.float32, generator=generator)
    # clamp keeps log(log()) finite at u in {0, 1}
    return -torch.log(-torch.log(u.clamp_(1e-10, 1.0 - 1e-7)))


def gumbel_softmax(
    logits: torch.Tensor, tau: float, generator: torch.Generator | None
) -> torch.Tensor:
    """Soft Gumbel-softmax sample along the last axis, with noise from ``generator``.

    ``torch.nn.functional.gumbel_softmax`` draws from the global RNG, hence this version.
    """
    noise = _gumbel(logits.shape, logits, generator).to(logits.dtype)
    return torch.softmax((logits + noise) / tau, dim=-1)


def sample_categorical(logits: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """Indices drawn from ``softmax(logits)`` along the last axis (no host sync).

    Inverse CDF: one uniform number per row against the cumulative probabilities.  Gumbel-max
    needs a uniform and two logarithms per *level*, which made it the slowest part of decoding
    on a CPU.

    Examples
    --------
    >>> import torch
    >>> from synthaug.generators.nn import sample_categorical
    >>> logits = torch.tensor([[0.0, -torch.inf, 0.0]]).expand(1000, 3)
    >>> picks = sample_categorical(logits, torch.Generator().manual_seed(0))
    >>> sorted(set(picks.tolist()))
    [0, 2]
    """
    cum = torch.softmax(logits.float(), dim=-1).cumsum_(dim=-1)
    u = torch.rand((*cum.shape[:-1], 1), device=cum.device, dtype=cum.dtype, generator=generator)
    # scaling by the total absorbs float round-off that leaves the last cumulative value < 1
    return (cum < u * cum[..., -1:]).sum(dim=-1).clamp_(max=cum.shape[-1] - 1)


# -- batches ---------------------------------------------------------------------------------
class EpochBatcher:
    """Row indices for ``steps`` batches of ``batch_size`` per epoch, drawn on the device.

    Each epoch is one device permutation of the rows; batch ``s`` is a slice of it (a view, no
    copy, no sync).  Rows past ``steps * batch_size`` are skipped that epoch (they are in other
    epochs' batches), so every batch has the same size, which batch norm and PacGAN want.

    Examples
    --------
    >>> import torch
    >>> from synthaug.generators.nn import EpochBatcher
    >>> batcher = EpochBatcher(10, 4, torch.device("cpu"), torch.Generator().manual_seed(0))
    >>> batcher.steps, batcher.new_epoch().shape, batcher.batch(1).shape
    (2, torch.Size([10]), torch.Size([4]))
    """

    def __init__(
        self, n_rows: int, batch_size: int, device: torch.device, generator: torch.Generator
    ) -> None:
        self.n_rows = n_rows
        self.batch_size = min(batch_size, n_rows)
        self.steps = max(1, n_rows // self.batch_size)
        self.device = device
        self.generator = generator
        self._perm: torch.Tensor | None = None

    def new_epoch(self) -> torch.Tensor:
        """Draw the next epoch's permutation (on the device) and return it."""
        self._perm = torch.randperm(self.n_rows, device=self.device, generator=self.generator)
        return self._perm

    def batch(self, step: int) -> torch.Tensor:
        perm = self._perm if self._perm is not None else self.new_epoch()
        start = step * self.batch_size
        return perm[start : start + self.batch_size]


# -- the training loop -----------------------------------------------------------------------
@dataclass
class TrainingHistory:
    """What :func:`run_epochs` saw: per-epoch mean losses and why it stopped.

    ``host_syncs`` counts the loop's device-to-host copies (one per epoch).

    Examples
    --------
    >>> import torch
    >>> from synthaug.generators.nn import run_epochs
    >>> history = run_epochs(lambda epoch, step: {"loss": torch.tensor(1.0 / (epoch + 1))},
    ...                      epochs=3, steps_per_epoch=2, rows_per_step=8, progress=False)
    >>> [round(h["loss"], 3) for h in history.losses], history.host_syncs
    ([1.0, 0.5, 0.333], 3)
    """

    losses: list[dict[str, float]] = field(default_factory=list)
    epochs_run: int = 0
    stopped_early: bool = False
    #: why training stopped before ``epochs``: ``"patience"``, ``"callback"`` or ``None``
    stop_reason: str | None = None
    best_epoch: int = -1
    best_value: float = math.inf
    seconds: float = 0.0
    host_syncs: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "losses": self.losses,
            "epochs_run": self.epochs_run,
            "stopped_early": self.stopped_early,
            "stop_reason": self.stop_reason,
            "best_epoch": self.best_epoch,
            "best_value": None if math.isinf(self.best_value) else self.best_value,
            "seconds": self.seconds,
        }


def run_epochs(
    step: Callable[[int, int], Mapping[str, torch.Tensor]],
    *,
    epochs: int,
    steps_per_epoch: int,
    rows_per_step: int,
    monitor: str = "loss",
    patience: int | None = None,
    evaluate: Callable[[], Mapping[str, torch.Tensor]] | None = None,
    on_improve: Callable[[], None] | None = None,
    on_epoch_start: Callable[[int], object] | None = None,
    on_epoch_end: Callable[[int, Mapping[str, float]], object] | None = None,
    progress: bool | None = None,
    desc: str = "fit",
) -> TrainingHistory:
    """Call ``step(epoch, step_index)`` ``epochs * steps_per_epoch`` times, syncing once an epoch.

    Parameters
    ----------
    step : callable
        Does one optimisation step and returns its losses as 0-d device tensors (detached).  It
        must not synchronise with the host; this loop sums the losses on the device.
    epochs, steps_per_epoch, rows_per_step : int
        Loop sizes; ``rows_per_step`` feeds the rows/s shown in the progress bar.
    monitor : str
        Name of the loss (from ``step`` or ``evaluate``) that early stopping watches; lower is
        better.
    patience : int or None
        Stop after this many epochs without a relative improvement of at least
        ``IMPROVEMENT_TOLERANCE`` in ``monitor``.  ``None`` trains every epoch.
    evaluate : callable, optional
        Called after each epoch's steps, returns more 0-d device tensors (a validation loss,
        say); they are copied to the host together with the epoch's losses.
    on_improve : callable, optional
        Called when ``monitor`` improves (to keep the best weights, say).
    on_epoch_start : callable, optional
        Called with the epoch number before its first step (to draw a new permutation, say).
    on_epoch_end : callable, optional
        Called with the epoch number and its host-side loss record after the epoch's one sync;
        a truthy return stops training (``stopped_early`` is then set).
    progress : bool or None
        Show a tqdm bar with the losses, rows/s and ETA (see
        :func:`synthaug.utils.progress.progress_enabled` for ``None``).

    Returns
    -------
    TrainingHistory
    """
    if epochs < 1 or steps_per_epoch < 1:
        raise InvalidParameterError(
            f"epochs and steps per epoch must be >= 1, got {epochs} and {steps_per_epoch}."
        )
    history = TrainingHistory()
    stale = 0
    started = time.perf_counter()
    total_rows = epochs * steps_per_epoch * rows_per_step
    with progress_bar(total_rows, desc, progress, unit="row", unit_scale=True) as bar:
        for epoch in range(epochs):
            if on_epoch_start is not None:
                on_epoch_start(epoch)
            sums: dict[str, torch.Tensor] = {}
            for s in range(steps_per_epoch):
                losses = step(epoch, s)
                for key, value in losses.items():
                    value = value.detach().float()
                    if key in sums:
                        sums[key].add_(value)  # stays on the device: no sync
                    else:
                        sums[key] = value.clone()
                bar.update(rows_per_step)
            extra = dict(evaluate()) if evaluate is not None else {}
            keys = list(sums) + list(extra)
            stacked = torch.stack(
                [sums[k] / steps_per_epoch for k in sums] + [v.detach().float() for v in
                                                             extra.values()]
            )
            # the one host sync of the epoch: every loss comes over in one copy
            values = stacked.cpu().tolist()
            history.host_syncs += 1
            record = dict(zip(keys, (float(v) for v in values), strict=True))
            history.losses.append(record)
            history.epochs_run = epoch + 1
            bar.set_postfix({k: f"{v:.4g}" for k, v in record.items()}, refresh=False)
            current = record.get(monitor, math.nan)
            if math.isfinite(current):
                best = history.best_value
                margin = IMPROVEMENT_TOLERANCE * max(1.0, abs(best) if math.isfinite(best) else 1.0)
                if current < best - margin:
                    history.best_value, history.best_epoch, stale = current, epoch, 0
                    if on_improve is not None:
                        on_improve()
                else:
                    stale += 1
            if on_epoch_end is not None and on_epoch_end(epoch, record):
                # the caller wants these weights: no going back to the best epoch's
                history.stopped_early, history.stop_reason = True, "callback"
                break
            if patience is not None and stale >= patience:
                history.stopped_early, history.stop_reason = True, "patience"
                break
    history.seconds = time.perf_counter() - started
    return history


def iter_slices(n: int, size: int) -> Iterator[tuple[int, int]]:
    """``(start, stop)`` pairs covering ``range(n)`` in chunks of at most ``size``."""
    for start in range(0, n, size):
        yield start, min(n, start + size)
