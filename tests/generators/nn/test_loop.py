"""run_epochs and the shared transformer block: divergence, patience, the key/value cache."""

from __future__ import annotations

import math
from typing import Any

import pytest
import torch

from synthaug.exceptions import InvalidParameterError, SynthaugError, TrainingDivergedError
from synthaug.generators.nn import (
    TrainingHistory,
    TransformerBlock,
    build_module,
    run_epochs,
)


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


def test_transformer_block_cache_matches_the_full_pass() -> None:
    gen = torch.Generator().manual_seed(0)
    block = build_module(lambda: TransformerBlock(16, 4, 0.0), torch.device("cpu"), gen).eval()
    x = torch.randn(5, 7, 16, generator=gen)
    full = block(x)
    cache: list[torch.Tensor] = []
    with torch.no_grad():
        prefill = block(x[:, :3], cache)  # several positions, a chunk, then one at a time
        chunk = block(x[:, 3:5], cache)
        steps = [block(x[:, t : t + 1], cache) for t in range(5, 7)]
    torch.testing.assert_close(prefill, full[:, :3])
    torch.testing.assert_close(chunk, full[:, 3:5])
    torch.testing.assert_close(torch.cat(steps, dim=1), full[:, 5:])
    assert cache[0].shape == (5, 4, 7, 4)
    # causal: the first position ignores the others
    other = x.clone()
    other[:, 1:] = 0
    torch.testing.assert_close(block(other)[:, 0], full[:, 0])
