"""run_epochs: divergence, patience, the history, one host sync per epoch."""

from __future__ import annotations

import math
from typing import Any

import pytest
import torch

from synthaug.exceptions import InvalidParameterError, SynthaugError, TrainingDivergedError
from synthaug.generators.nn import TrainingHistory, run_epochs


def _losses(values: list[float]) -> Any:
    def step(epoch: int, s: int) -> dict[str, torch.Tensor]:
        return {"loss": torch.tensor(values[epoch]), "other": torch.tensor(1.0)}

    return step


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_a_non_finite_monitored_loss_stops_training(bad: float) -> None:
    seen: list[int] = []
    with pytest.raises(TrainingDivergedError) as caught:
        run_epochs(_losses([3.0, 2.0, bad, 1.0, 0.5]), epochs=5, steps_per_epoch=2,
                   rows_per_step=4, progress=False, desc="demo", patience=10,
                   on_epoch_end=lambda epoch, losses: seen.append(epoch),
                   divergence_hint="Try X.")
    err = caught.value
    assert isinstance(err, SynthaugError)
    assert (err.loss, err.epoch) == ("loss", 2) and not math.isfinite(err.value)
    message = str(err)
    assert message.startswith("demo: training diverged")
    assert "'loss'" in message and "epoch 3 of 5" in message and message.endswith("Try X.")
    assert seen == [0, 1]  # nothing ran after the diverged epoch, not even the callback


def test_a_non_finite_unmonitored_loss_does_not_stop() -> None:
    def step(epoch: int, s: int) -> dict[str, torch.Tensor]:
        return {"loss": torch.tensor(1.0), "aux": torch.tensor(math.inf)}

    history = run_epochs(step, epochs=2, steps_per_epoch=1, rows_per_step=1, progress=False)
    assert history.epochs_run == 2


def test_a_monitor_no_loss_is_called_is_an_error() -> None:
    with pytest.raises(InvalidParameterError, match="'val_loss' is not among"):
        run_epochs(_losses([1.0]), epochs=1, steps_per_epoch=1, rows_per_step=1,
                   monitor="val_loss", progress=False)


def test_patience_still_counts_epochs_without_improvement() -> None:
    history = run_epochs(_losses([3.0, 2.0, 2.0, 2.0, 2.0, 1.0]), epochs=6, steps_per_epoch=1,
                         rows_per_step=1, patience=2, progress=False)
    assert history.stop_reason == "patience" and history.epochs_run == 4
    assert history.best_epoch == 1 and history.best_value == 2.0


def test_history_round_trips_through_its_dict() -> None:
    history = run_epochs(_losses([3.0, 2.0]), epochs=2, steps_per_epoch=1, rows_per_step=1,
                         progress=False)
    again = TrainingHistory.from_dict(history.to_dict())
    assert again.losses == history.losses and again.best_epoch == history.best_epoch
    assert TrainingHistory.from_dict(None).best_value == math.inf


def test_run_epochs_syncs_once_per_epoch() -> None:
    calls = []

    def step(epoch: int, s: int) -> dict[str, torch.Tensor]:
        calls.append((epoch, s))
        return {"loss": torch.tensor(10.0 - epoch)}

    history = run_epochs(step, epochs=3, steps_per_epoch=5, rows_per_step=8, progress=False)
    assert len(calls) == 15 and history.host_syncs == 3
    assert [h["loss"] for h in history.losses] == [10.0, 9.0, 8.0]
    with pytest.raises(InvalidParameterError):
        run_epochs(step, epochs=0, steps_per_epoch=1, rows_per_step=1)
