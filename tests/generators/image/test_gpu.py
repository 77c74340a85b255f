"""The image generators on a CUDA GPU (skipped without one): device residency, repeatability,
cross-device loading, bf16 and compile.

Host syncs and host-to-device copies are counted by *difference*, as in test_gpu.py: the
same two-epoch fit with few and with many steps per epoch must make the same number, so setup
costs cancel and any per-step sync or copy shows up.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from synthaug import get_generator
from synthaug.generators.base import BaseGenerator

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU"),
]

SMALL: dict[str, dict[str, Any]] = {
    "image.gan": {"width": 16, "critic_width": 16, "noise_dim": 16, "embedding_dim": 16},
    "image.vae": {"width": 16, "critic_width": 16, "latent_dim": 8, "embedding_dim": 16},
    "image.transformer": {"d_model": 32, "n_layers": 2, "n_heads": 2, "sampling_steps": 3},
}
NAMES = list(SMALL)


@pytest.fixture(scope="module")
def images() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (1200, 28, 28), dtype=np.uint8), np.arange(1200) % 10


def make(name: str, **params: Any) -> Any:
    return get_generator(name, **{**SMALL[name], "device": "cuda", "random_state": 0,
                                  "progress": False, "max_steps": None, **params})


def count_syncs(fn: Any) -> int:
    torch.cuda.synchronize()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.cuda.set_sync_debug_mode("warn")
        try:
            fn()
        finally:
            torch.cuda.set_sync_debug_mode("default")
    return sum("synchroniz" in str(w.message).lower() for w in caught)


def count_host_to_device_copies(fn: Any) -> int:
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        fn()
        torch.cuda.synchronize()
    return sum(1 for e in prof.events()
               if "memcpy" in e.name.lower() and "htod" in e.name.lower().replace(" ", ""))


@pytest.mark.parametrize("name", NAMES)
def test_no_host_sync_or_copy_per_step(name: str, images) -> None:
    x, y = images
    make(name, epochs=1, batch_size=600).fit(x, y)  # warm-up
    few = count_syncs(lambda: make(name, epochs=2, batch_size=600).fit(x, y))  # 2 steps/epoch
    many = count_syncs(lambda: make(name, epochs=2, batch_size=40).fit(x, y))  # 30 steps/epoch
    assert many <= few + 2, f"{many - few} extra host syncs for 56 extra steps"
    few = count_host_to_device_copies(lambda: make(name, epochs=2, batch_size=600).fit(x, y))
    many = count_host_to_device_copies(lambda: make(name, epochs=2, batch_size=40).fit(x, y))
    assert many <= few + 2, f"{many - few} extra host-to-device copies for 56 extra steps"


@pytest.mark.parametrize("name", NAMES)
def test_fit_lives_on_the_gpu_and_repeats(name: str, images) -> None:
    x, y = images
    gen = make(name, epochs=2, batch_size=200).fit(x, y)
    for module in gen.modules_.values():
        assert all(p.device.type == "cuda" for p in module.parameters())
    a = gen.sample(300, conditions={"label": 2}, random_state=3)[0]
    b = make(name, epochs=2, batch_size=200).fit(x, y).sample(
        300, conditions={"label": 2}, random_state=3)[0]
    assert np.array_equal(a, b)
    assert gen.history_.host_syncs == gen.history_.epochs_run


@pytest.mark.parametrize("name", NAMES)
def test_saved_on_gpu_loads_on_cpu(name: str, images, tmp_path: Path) -> None:
    x, y = images
    folder = make(name, epochs=1, batch_size=200).fit(x, y).save(tmp_path / "m")
    out, labels = BaseGenerator.load(folder, device="cpu").sample(
        20, conditions={"label": 7}, random_state=0)
    assert out.shape == (20, 28, 28) and (labels == 7).all()


@pytest.mark.parametrize("name", NAMES)
def test_bf16_trains_and_samples(name: str, images) -> None:
    x, y = images
    gen = make(name, epochs=2, batch_size=200, bf16=True).fit(x, y)
    assert all(np.isfinite(v) for epoch in gen.history_.losses for v in epoch.values())
    assert gen.sample(2000, random_state=0)[0].shape == (2000, 28, 28)


def test_compile_trains(images) -> None:
    x, y = images
    gen = make("image.transformer", epochs=2, batch_size=200, compile=True).fit(x, y)
    assert gen.history_.epochs_run == 2


def test_large_samples_stream_in_bounded_chunks(images) -> None:
    x, y = images
    gen = make("image.gan", epochs=1, batch_size=200).fit(x, y)
    torch.cuda.reset_peak_memory_stats()
    n = sum(len(b[0]) for b in gen.sample_batches(200_000, batch_size=50_000, random_state=0))
    assert n == 200_000
    assert torch.cuda.max_memory_allocated() < 2 * 1024**3
