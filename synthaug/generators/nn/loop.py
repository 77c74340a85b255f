"""The device-resident training loop: batches, epochs, one host sync per epoch, divergence.

:func:`run_epochs` owns what every deep generator's fit does the same way: it calls the
generator's ``step`` (one optimisation step, losses as device tensors), adds the losses up on
the device, copies them to the host once per epoch, shows the progress bar, stops early on
patience or on the caller's say-so, and stops with
:class:`~synthaug.exceptions.TrainingDivergedError` as soon as the monitored loss is no longer a
finite number (a diverged model would otherwise train, and be saved, silently).
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch

from synthaug.exceptions import InvalidParameterError, TrainingDivergedError
from synthaug.utils.progress import progress_bar

__all__ = [
    "IMPROVEMENT_TOLERANCE",
    "EpochBatcher",
    "TrainingHistory",
    "autocast",
    "iter_slices",
    "run_epochs",
]

#: relative improvement of the monitored loss that counts as progress for early stopping
IMPROVEMENT_TOLERANCE = 1e-4


def autocast(device: torch.device, enabled: bool) -> contextlib.AbstractContextManager[Any]:
    """bfloat16 autocast on ``device`` when ``enabled``; a no-op context otherwise."""
    if not enabled:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16)


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


def iter_slices(n: int, size: int) -> Iterator[tuple[int, int]]:
    """``(start, stop)`` pairs covering ``range(n)`` in chunks of at most ``size``."""
    for start in range(0, n, size):
        yield start, min(n, start + size)


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

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> TrainingHistory:
        """Rebuild what :meth:`to_dict` wrote (missing keys take their defaults)."""
        data = dict(data or {})
        best = data.get("best_value")
        return cls(
            losses=list(data.get("losses", [])),
            epochs_run=int(data.get("epochs_run", 0)),
            stopped_early=bool(data.get("stopped_early", False)),
            stop_reason=data.get("stop_reason"),
            best_epoch=int(data.get("best_epoch", -1)),
            best_value=math.inf if best is None else float(best),
            seconds=float(data.get("seconds", 0.0)),
        )


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
    divergence_hint: str = "Try a lower learning rate, or bf16=False.",
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
        Name of the loss (from ``step`` or ``evaluate``) that early stopping and the divergence
        check watch; lower is better.
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
        a truthy return stops training (``stopped_early`` is then set).  Not called for an
        epoch whose monitored loss diverged.
    progress : bool or None
        Show a tqdm bar with the losses, rows/s and ETA (see
        :func:`synthaug.utils.progress.progress_enabled` for ``None``).
    desc : str
        Label of the progress bar and of error messages (the generator's name).
    divergence_hint : str
        What to try, appended to the :class:`TrainingDivergedError` message.

    Returns
    -------
    TrainingHistory

    Raises
    ------
    TrainingDivergedError
        When ``monitor`` is NaN or infinite after an epoch.  Nothing after that epoch runs.
    InvalidParameterError
        For loop sizes below 1, or a ``monitor`` that no loss is called.
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
            if monitor not in record:
                raise InvalidParameterError(
                    f"{desc}: the monitored loss {monitor!r} is not among the epoch's losses "
                    f"{sorted(record)}."
                )
            current = record[monitor]
            if not math.isfinite(current):
                # a diverged model is neither better nor merely stale: its weights are lost
                raise TrainingDivergedError(
                    f"{desc}: training diverged: the monitored loss {monitor!r} became "
                    f"{current} in epoch {epoch + 1} of {epochs} (losses: "
                    f"{', '.join(f'{k}={v:.4g}' for k, v in record.items())}). {divergence_hint}",
                    loss=monitor, epoch=epoch, value=current,
                )
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
