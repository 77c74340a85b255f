"""TorchGeneratorMixin knows nothing about tables: a toy modality's generator gets the plumbing.

The toy learns vectors (a 2-D float array, no schema, no columns) with one learned centre and
scale.  Everything but its few hooks comes from the mixin: parameter checks, seeding, the
device copy, the loop (patience, callback, divergence), chunked sampling and the module state.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pytest
import torch
from torch import nn

from synthaug.exceptions import InvalidParameterError, NotFittedError, TrainingDivergedError
from synthaug.generators.nn import EpochBatcher, TrainingHistory
from synthaug.generators.torch import EpochCallback, TorchGeneratorMixin
from synthaug.utils.random import RandomState


class _Gauss(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.center = nn.Parameter(torch.empty(dim))
        self.log_scale = nn.Parameter(torch.empty(dim))  # starts at 0: scale 1


class _VectorSchema:
    def __init__(self, dim: int) -> None:
        self.dim = dim

    def to_dict(self) -> dict[str, Any]:
        return {"dim": self.dim}


class ToyVectorGenerator(TorchGeneratorMixin):
    """A diagonal Gaussian fitted by gradient descent: the smallest torch generator."""

    modality = "vectors"

    def __init__(self, *, epochs: int = 5, batch_size: int = 64, learning_rate: float = 0.1,
                 early_stopping_patience: int | None = None, device: str = "cpu",
                 compile: bool = False, bf16: bool = False, random_state: RandomState = None,
                 progress: bool | None = False, epoch_callback: EpochCallback | None = None
                 ) -> None:
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.early_stopping_patience = early_stopping_patience
        self.device = device
        self.compile = compile
        self.bf16 = bf16
        self.random_state = random_state
        self.progress = progress
        self.epoch_callback = epoch_callback

    # the modality's own glue: arrays in, arrays out
    def _fit(self, X: Any, y: Any, rng: np.random.Generator) -> None:
        x = np.asarray(X, dtype=np.float32)
        self.arch_ = {"dim": int(x.shape[1])}
        self.schema_ = _VectorSchema(self.arch_["dim"])
        self._fit_torch({"x": x}, self._torch_generator(rng))

    def _parse_conditions(self, conditions: Mapping[str, Any] | None) -> None:
        if conditions:
            raise InvalidParameterError("the toy takes no conditions")

    def _sample_batch(self, n: int, fixed: None, rng: np.random.Generator) -> np.ndarray:
        gen = self._torch_generator(rng)
        net = self.modules_["gauss"]

        def draw(k: int) -> torch.Tensor:
            z = torch.randn((k, self.arch_["dim"]), generator=gen, device=self.device_)
            return net.center + z * net.log_scale.exp()

        out = np.empty((n, self.arch_["dim"]), dtype=np.float32)
        return self._sample_into(out, draw, chunk_rows=7)

    def _join(self, batches: list[Any], rng: np.random.Generator) -> np.ndarray:
        if not batches:
            return np.empty((0, self.arch_["dim"]), dtype=np.float32)
        return np.concatenate(batches)

    def _output(self, batch: np.ndarray) -> np.ndarray:
        return batch

    def _get_state(self) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        return self._get_model_state()

    def _set_state(self, state: Mapping[str, Any], tensors: Mapping[str, torch.Tensor]) -> None:
        self._set_model_state(state, tensors)
        self.schema_ = _VectorSchema(self.arch_["dim"])

    # the family's hooks
    def _make_modules(self) -> dict[str, Callable[[], nn.Module]]:
        return {"gauss": lambda: _Gauss(self.arch_["dim"])}

    def _train(self, data: Mapping[str, torch.Tensor], generator: torch.Generator
               ) -> TrainingHistory:
        x = data["x"]
        net = self._compiled("gauss")
        opt = torch.optim.Adam(net.parameters(), lr=self.learning_rate)
        batcher = EpochBatcher(len(x), self.batch_size, x.device, generator)

        def step(epoch: int, s: int) -> dict[str, torch.Tensor]:
            b = x[batcher.batch(s)]
            z = (b - net.center) / net.log_scale.exp()
            loss = (0.5 * z.pow(2) + net.log_scale).sum(dim=1).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            return {"loss": loss.detach()}

        return self._loop(step, steps_per_epoch=batcher.steps, rows_per_step=batcher.batch_size,
                          on_epoch_start=lambda epoch: batcher.new_epoch())

    def _extra_state(self) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        return {"note": "toy"}, {"marker": torch.ones(1)}

    def _set_extra_state(self, state: Mapping[str, Any], tensors: Mapping[str, torch.Tensor]
                         ) -> None:
        self.note_ = state["note"]


@pytest.fixture(scope="module")
def vectors() -> np.ndarray:
    rng = np.random.default_rng(0)
    return (rng.normal(0, 1, (500, 3)) * [1.0, 2.0, 0.5] + [5.0, -1.0, 0.0]).astype(np.float32)


def test_the_toy_learns_with_nothing_but_the_hooks(vectors: np.ndarray) -> None:
    gen = ToyVectorGenerator(epochs=30, random_state=0).fit(vectors)
    assert gen.history_.epochs_run == 30 and gen.history_.host_syncs == 30
    out = gen.sample(4000, random_state=1)
    assert out.shape == (4000, 3) and out.dtype == np.float32
    np.testing.assert_allclose(out.mean(axis=0), [5.0, -1.0, 0.0], atol=0.2)
    np.testing.assert_allclose(out.std(axis=0), [1.0, 2.0, 0.5], rtol=0.2)


def test_seeds_decide_everything_and_global_rngs_stay_put(vectors: np.ndarray) -> None:
    torch_before = torch.random.get_rng_state().clone()
    np_before = np.random.get_state()[1].copy()  # type: ignore[index]
    one = ToyVectorGenerator(random_state=3).fit(vectors).sample(50, random_state=2)
    two = ToyVectorGenerator(random_state=3).fit(vectors).sample(50, random_state=2)
    other = ToyVectorGenerator(random_state=4).fit(vectors).sample(50, random_state=2)
    np.testing.assert_array_equal(one, two)
    assert not np.array_equal(one, other)
    assert torch.equal(torch_before, torch.random.get_rng_state())
    assert np.array_equal(np_before, np.random.get_state()[1])  # type: ignore[index]


def test_module_state_round_trips(vectors: np.ndarray) -> None:
    gen = ToyVectorGenerator(random_state=0).fit(vectors)
    state, tensors = gen._get_state()
    assert set(state) == {"arch", "history", "extra"}
    assert set(tensors) == {"extra.marker", "module.gauss.center", "module.gauss.log_scale"}
    again = ToyVectorGenerator()
    again.device_ = torch.device("cpu")
    again._set_state(state, tensors)
    assert again.note_ == "toy" and again.history_.epochs_run == gen.history_.epochs_run
    np.testing.assert_array_equal(again.sample(20, random_state=5), gen.sample(20, random_state=5))


def test_patience_and_callback_come_from_the_mixin(vectors: np.ndarray) -> None:
    seen: list[int] = []

    def stop_at_two(gen: Any, epoch: int, losses: dict[str, float]) -> bool:
        seen.append(len(gen.sample(3, random_state=epoch)))  # sampling mid-fit works
        return epoch == 2

    gen = ToyVectorGenerator(epochs=50, epoch_callback=stop_at_two, random_state=0).fit(vectors)
    assert seen == [3, 3, 3] and gen.history_.stop_reason == "callback"
    slow = ToyVectorGenerator(epochs=50, learning_rate=1e-9, early_stopping_patience=2,
                              random_state=0).fit(vectors)
    assert slow.history_.stop_reason == "patience" and slow.history_.epochs_run < 10


def test_divergence_stops_the_fit_and_leaves_it_unfitted(vectors: np.ndarray) -> None:
    gen = ToyVectorGenerator(epochs=20, learning_rate=1e30, random_state=0)
    with pytest.raises(TrainingDivergedError, match=r"'loss'.*learning_rate \(it is 1e\+30"):
        gen.fit(vectors * 1e6)
    with pytest.raises(NotFittedError):
        gen.sample(3)


@pytest.mark.parametrize(
    ("params", "match"),
    [({"epochs": 0}, r"epochs must be an integer >= 1, got 0"),
     ({"batch_size": 2.5}, "batch_size must be an integer"),
     ({"learning_rate": 0}, r"learning_rate must be a number > 0"),
     ({"learning_rate": float("nan")}, "learning_rate"),
     ({"early_stopping_patience": 0}, r"early_stopping_patience must be an integer >= 1 or None"),
     ({"bf16": 1}, "bf16 must be True or False"),
     ({"progress": "yes"}, "progress must be None, True or False"),
     ({"epoch_callback": "stop"}, r"epoch_callback must be None or a callable \(generator")],
)
def test_common_parameters_are_checked_at_fit(params: dict[str, Any], match: str,
                                              vectors: np.ndarray) -> None:
    gen = ToyVectorGenerator(**params)  # __init__ only stores
    with pytest.raises(InvalidParameterError, match=match):
        gen.fit(vectors)
