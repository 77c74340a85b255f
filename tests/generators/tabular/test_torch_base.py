"""Deep tabular generators (VAE, GAN, transformer): what the registry contract does not cover.

Models are kept tiny (one or two small layers, a few epochs) so the module runs in well under
a minute and a half on two CPU cores.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch

from synthaug import get_generator
from synthaug.exceptions import InvalidParameterError, NotFittedError, TrainingDivergedError
from synthaug.generators.tabular.torch_base import SAMPLE_CHUNK_ROWS
from tests.toydata import make_mixed_frame

SMALL: dict[str, dict[str, Any]] = {
    "tabular.vae": {"hidden_dim": 32, "latent_dim": 16, "batch_size": 100},
    "tabular.gan": {"embedding_dim": 16, "generator_dim": 32, "discriminator_dim": 32,
                    "batch_size": 100},
    "tabular.transformer": {"d_model": 32, "n_layers": 1, "n_heads": 2, "batch_size": 100},
}
DEEP = list(SMALL)


def small(name: str, **params: Any) -> Any:
    return get_generator(name, **{**SMALL[name], "device": "cpu", "random_state": 0,
                                  "progress": False, **params})


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return make_mixed_frame(600, seed=1)


# -- training --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "key", "epochs"),
    [("tabular.vae", "loss", 6), ("tabular.transformer", "loss", 6), ("tabular.gan", "cond", 6)],
)
def test_training_loss_decreases(name: str, key: str, epochs: int, frame: pd.DataFrame) -> None:
    # the GAN's adversarial losses do not fall monotonically; its conditional loss does
    gen = small(name, epochs=epochs, learning_rate=3e-3 if name != "tabular.gan" else 1e-3)
    gen.fit(frame)
    losses = [epoch[key] for epoch in gen.history_.losses]
    assert len(losses) == epochs
    assert losses[-1] < losses[0]
    assert gen.history_.host_syncs == epochs  # one host sync per epoch


@pytest.mark.parametrize("name", DEEP)
def test_early_stopping_stops(name: str, frame: pd.DataFrame) -> None:
    # a learning rate this small cannot improve the monitored loss by the relative tolerance
    gen = small(name, epochs=40, learning_rate=1e-12, early_stopping_patience=2)
    gen.fit(frame)
    assert gen.history_.stopped_early
    # batch noise (and the GAN's noisy Wasserstein estimate) can "improve" by chance
    assert gen.history_.epochs_run <= 10


@pytest.mark.parametrize("name", DEEP)
def test_epoch_callback_samples_midway_and_stops(name: str, frame: pd.DataFrame,
                                                 tmp_path: Path) -> None:
    seen: list[tuple[int, int, list[str]]] = []

    def checkpoint(gen: Any, epoch: int, losses: dict[str, float]) -> bool:
        # a user scoring quality on the way: sampling must not disturb the fit
        rows = gen.sample(50, random_state=epoch)
        seen.append((epoch, len(rows), sorted(losses)))
        return epoch == 2

    gen = small(name, epochs=10, epoch_callback=checkpoint).fit(frame)
    assert [s[:2] for s in seen] == [(0, 50), (1, 50), (2, 50)]
    assert seen[0][2] == sorted(gen.history_.losses[0])
    assert gen.history_.epochs_run == 3 and gen.history_.stop_reason == "callback"
    # sampling on the way changed nothing: the same stop without it gives the same model
    quiet = small(name, epochs=10, epoch_callback=lambda g, e, losses: e == 2).fit(frame)
    pd.testing.assert_frame_equal(gen.sample(200, random_state=5),
                                  quiet.sample(200, random_state=5))
    if name != "tabular.transformer":  # its learning-rate schedule spans all ``epochs``
        # so a quality checkpoint at epoch 3 tells a user what ``epochs=3`` will give
        plain = small(name, epochs=3).fit(frame)
        pd.testing.assert_frame_equal(gen.sample(200, random_state=5),
                                      plain.sample(200, random_state=5))
    # the hook is not part of the saved model
    loaded = type(gen).load(gen.save(tmp_path / "m"), device="cpu")
    assert loaded.epoch_callback is None and loaded.history_.stop_reason == "callback"


@pytest.mark.parametrize("name", DEEP)
def test_divergence_stops_the_fit_with_a_clear_error(name: str, frame: pd.DataFrame) -> None:
    # an absurd step size turns the weights, then the monitored loss, into NaN in an epoch
    gen = small(name, epochs=20, learning_rate=1e8, epoch_callback=lambda g, e, losses: False)
    with pytest.raises(TrainingDivergedError, match=r"training diverged") as caught:
        gen.fit(frame)
    message = str(caught.value)
    assert name in message and "lower learning_rate (it is 1e+08" in message
    assert caught.value.loss in message and caught.value.epoch < 20
    with pytest.raises(NotFittedError):  # no half-trained model that looks fitted
        gen.sample(5)
    bf16 = small(name, epochs=20, learning_rate=1e8, bf16=True)
    with pytest.raises(TrainingDivergedError, match="bf16=False"):
        bf16.fit(frame)


def test_epoch_callback_must_be_callable(frame: pd.DataFrame) -> None:
    with pytest.raises(InvalidParameterError, match="epoch_callback"):
        small("tabular.vae", epochs=1, epoch_callback="stop").fit(frame)


def test_progress_bar_shows_loss_and_rate(frame: pd.DataFrame,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    small("tabular.vae", epochs=2, progress=True).fit(frame)
    err = capsys.readouterr().err
    assert "tabular.vae" in err and "loss=" in err and "row/s" in err


@pytest.mark.parametrize("name", DEEP)
def test_no_host_sync_per_step(name: str, frame: pd.DataFrame,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Host-sync calls made from synthaug code during fit do not grow with the step count.

    On a CPU every tensor is on the host, so this counts the calls that would synchronise a
    GPU (``item``, ``tolist``, ``cpu``, ``numpy``, ``bool``/``float``/``int``) when made by
    synthaug's own code; ``tests/test_gpu.py`` measures real syncs on a GPU.
    """
    counts = {"n": 0}
    package = str(Path(__import__("synthaug").__file__).parent)

    def counting(method_name: str) -> Any:
        original = getattr(torch.Tensor, method_name)

        def wrapper(self: torch.Tensor, *args: Any, **kwargs: Any) -> Any:
            if sys._getframe(1).f_code.co_filename.startswith(package):
                counts["n"] += 1
            return original(self, *args, **kwargs)

        return wrapper

    for method in ("item", "tolist", "cpu", "numpy", "__bool__", "__float__", "__int__"):
        monkeypatch.setattr(torch.Tensor, method, counting(method))

    def syncs(batch_size: int) -> int:
        counts["n"] = 0
        small(name, epochs=2, batch_size=batch_size).fit(frame)
        return counts["n"]

    few_steps, many_steps = syncs(300), syncs(20)  # 2 vs 30 steps per epoch
    assert many_steps == few_steps
    # the missing-share calibration after training syncs a fixed number of times a pass: one
    # copy of its probabilities, and one per sampled chunk of rows
    cls = type(small(name))
    calibration = cls._CALIBRATION_ROUNDS * (2 + -(-cls._CALIBRATION_ROWS // SAMPLE_CHUNK_ROWS))
    monkeypatch.setattr(cls, "_calibrate_missing", lambda self, rng: None)
    training = syncs(20)
    assert training <= 2 * 2 + 4  # two per epoch (the loss copy) plus setup
    assert many_steps - training <= calibration


@pytest.mark.parametrize("name", DEEP)
def test_global_rng_untouched(name: str, frame: pd.DataFrame) -> None:
    before = torch.random.get_rng_state().clone()
    np_before = np.random.get_state()[1].copy()  # type: ignore[index]
    gen = small(name, epochs=1).fit(frame)
    gen.sample(20, random_state=0)
    assert torch.equal(before, torch.random.get_rng_state())
    assert np.array_equal(np_before, np.random.get_state()[1])  # type: ignore[index]


# -- conditions ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def linked() -> pd.DataFrame:
    """``b`` copies ``a`` (and ``x`` follows it), so a conditional model must move them."""
    rng = np.random.default_rng(3)
    a = rng.choice(["p", "q", "r"], 900, p=[0.6, 0.3, 0.1])
    return pd.DataFrame({
        "a": a,
        "b": np.where(rng.random(900) < 0.95, a, "q"),
        "x": np.where(a == "r", 100.0, 0.0) + rng.normal(0, 1, 900),
    })


@pytest.mark.parametrize("name", DEEP)
def test_conditions_are_exact_and_conditional(name: str, linked: pd.DataFrame) -> None:
    epochs = {"tabular.vae": 100, "tabular.gan": 25, "tabular.transformer": 25}[name]
    gen = small(name, epochs=epochs, learning_rate=3e-3 if name != "tabular.gan" else 2e-3)
    gen.fit(linked)
    out = gen.sample(300, conditions={"a": "r"}, random_state=0)
    assert len(out) == 300 and (out["a"] == "r").all()
    # the rest is drawn from the conditional, not the marginal (where "r" is 10 %)
    assert (out["b"] == "r").mean() > 0.5
    both = gen.sample(100, conditions={"a": "q", "b": "q"}, random_state=1)
    assert (both["a"] == "q").all() and (both["b"] == "q").all()
    with pytest.raises(InvalidParameterError, match="never seen"):
        gen.sample(3, conditions={"a": "zzz"})


def test_transformer_conditions_on_numeric_columns(linked: pd.DataFrame) -> None:
    gen = small("tabular.transformer", epochs=25, learning_rate=3e-3).fit(linked)
    out = gen.sample(200, conditions={"x": 100.5}, random_state=0)
    assert (out["x"] == 100.5).all()
    assert (out["a"] == "r").mean() > 0.5
    with pytest.raises(InvalidParameterError, match="outside the fitted range"):
        gen.sample(3, conditions={"x": 1e6})


def test_gan_rejects_continuous_conditions(linked: pd.DataFrame) -> None:
    gen = small("tabular.gan", epochs=1).fit(linked)
    with pytest.raises(InvalidParameterError, match="categorical and boolean columns only"):
        gen.sample(3, conditions={"x": 0.5})


def test_vae_condition_columns(linked: pd.DataFrame) -> None:
    gen = small("tabular.vae", epochs=1, condition_columns=["a", "x"]).fit(linked)
    assert gen.condition_columns_ == ["a", "x"]
    assert (gen.sample(20, conditions={"x": 1.5, "a": "p"}, random_state=0)["x"] == 1.5).all()
    with pytest.raises(InvalidParameterError, match=r"cannot condition on \['b'\]"):
        gen.sample(3, conditions={"b": "p"})
    with pytest.raises(Exception, match="not in the fitted data"):
        small("tabular.vae", epochs=1, condition_columns=["nope"]).fit(linked)


# -- data shapes -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def many_levels() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    n = 3000
    # 2,500 distinct levels with a long tail: most occur once or twice
    ids = np.minimum(rng.zipf(1.3, n), 2500)
    return pd.DataFrame({"city": [f"c{i:04d}" for i in ids], "v": rng.normal(0, 1, n)})


@pytest.mark.parametrize("name", DEEP)
def test_thousands_of_levels_without_one_hot_blow_up(name: str,
                                                     many_levels: pd.DataFrame) -> None:
    assert many_levels["city"].nunique() > 300
    gen = small(name, epochs=1, max_categories=50).fit(many_levels)
    if name == "tabular.transformer":
        assert gen.codec_.vocab_size < 50 + 110  # capped levels + the numeric column's bins
    else:
        assert gen.codec_.width < 50 + 15  # capped levels + the numeric column's features
    out = gen.sample(2000, random_state=0)
    assert set(out["city"]) <= set(many_levels["city"])
    # the shared "other" slot decodes to many tail levels, not to one
    tail = set(many_levels["city"].value_counts().index[60:])
    assert len(set(out["city"]) & tail) > 20
    rare = many_levels["city"].value_counts().index[-1]
    assert (gen.sample(5, conditions={"city": rare}, random_state=0)["city"] == rare).all()


@pytest.mark.parametrize("name", DEEP)
def test_missing_integer_datetime_round_trip(name: str, frame: pd.DataFrame) -> None:
    gen = small(name, epochs=4).fit(frame)
    out = gen.sample(600, random_state=0)
    assert out.dtypes.to_dict() == frame.dtypes.to_dict()
    assert out["score"].isna().any() and out["work"].isna().any()
    assert (out["joined"].dt.normalize() == out["joined"]).all()  # days stay days


@pytest.mark.parametrize(
    ("name", "params"),
    [("tabular.vae", {"numerical": "gmm"}), ("tabular.gan", {"numerical": "quantile"})],
)
def test_alternative_numerical_encodings(name: str, params: dict[str, Any],
                                         frame: pd.DataFrame) -> None:
    out = small(name, epochs=1, **params).fit(frame).sample(50, random_state=0)
    assert out["hours"].between(frame["hours"].min(), frame["hours"].max()).all()


@pytest.mark.parametrize(
    ("name", "params"),
    [("tabular.vae", {"batch_size": 0}), ("tabular.gan", {"batch_size": 55}),
     ("tabular.transformer", {"n_heads": 3}), ("tabular.vae", {"numerical": "nope"}),
     ("tabular.gan", {"learning_rate": -1.0}), ("tabular.transformer", {"epochs": 0})],
)
def test_bad_params_are_clear_errors(name: str, params: dict[str, Any],
                                     frame: pd.DataFrame) -> None:
    with pytest.raises(InvalidParameterError):
        small(name, **params).fit(frame)


def test_saved_state_is_loadable_and_small(frame: pd.DataFrame, tmp_path: Path) -> None:
    gen = small("tabular.transformer", epochs=1).fit(frame)
    folder = gen.save(tmp_path / "m")
    loaded = type(gen).load(folder, device="cpu")
    assert loaded.history_.epochs_run == 1
    pd.testing.assert_frame_equal(gen.sample(20, conditions={"work": "Self"}, random_state=4),
                                  loaded.sample(20, conditions={"work": "Self"}, random_state=4))


@pytest.mark.parametrize("name", DEEP)
def test_bf16_trains_and_samples_on_the_cpu(name: str, frame: pd.DataFrame) -> None:
    # bf16 autocast exists on the CPU too; tests/test_gpu.py covers CUDA
    gen = small(name, epochs=1, bf16=True).fit(frame)
    assert all(np.isfinite(v) for epoch in gen.history_.losses for v in epoch.values())
    out = gen.sample(300, random_state=0)
    assert len(out) == 300 and out.dtypes.to_dict() == frame.dtypes.to_dict()
