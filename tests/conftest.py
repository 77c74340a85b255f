"""Shared fixtures: small real-shaped tables that every generator test can afford."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import pandas as pd
import pytest


def make_mixed_frame(n: int = 120, seed: int = 0) -> pd.DataFrame:
    """A small table with every column kind synthaug handles, and missing values."""
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 80, n)
    income = np.where(age + rng.normal(0, 10, n) > 50, ">50K", "<=50K")
    frame = pd.DataFrame(
        {
            "age": age.astype(np.int64),
            "hours": np.round(rng.normal(40, 8, n), 1),
            "gain": np.where(rng.random(n) < 0.8, 0, rng.integers(100, 5000, n)).astype(np.int64),
            "work": rng.choice(["Private", "State", "Self"], n, p=[0.6, 0.3, 0.1]),
            "flag": rng.random(n) < 0.3,
            "joined": pd.Timestamp("2020-01-01")
            + pd.to_timedelta(rng.integers(0, 1000, n), unit="D"),
            "score": np.where(rng.random(n) < 0.1, np.nan, rng.normal(0, 1, n)),
            "income": income,
        }
    )
    frame["work"] = frame["work"].astype("str")
    frame["income"] = frame["income"].astype("str")
    frame.loc[rng.random(n) < 0.1, "work"] = np.nan
    return frame


@pytest.fixture(autouse=True, scope="session")
def _one_thread_per_worker() -> Iterator[None]:
    # pytest -n 2 runs two workers on two cores; a second torch or OpenMP thread per worker
    # only oversubscribes them (a tiny VAE fit went from 0.7 s to 31 s on a busy 2-core
    # machine, and HistGradientBoosting's spinning OpenMP threads made validator tests 10x
    # slower), so torch and every OpenMP/BLAS pool get one thread for the session.
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(1)
    with threadpool_limits(limits=1):
        yield


@pytest.fixture(name="make_mixed_frame")
def _make_mixed_frame_fixture() -> Callable[..., pd.DataFrame]:
    """The frame maker itself, for tests that need several frames (imported as a fixture, not
    with `from tests.conftest import ...`, which breaks when another package named `tests` is
    installed)."""
    return make_mixed_frame


@pytest.fixture
def mixed_frame() -> pd.DataFrame:
    return make_mixed_frame()
