"""Shared fixtures and session set-up: small real-shaped data, one thread per worker.

The data makers themselves live in :mod:`tests.toydata` (import them from there).  The tiny
image and text generators of :mod:`tests.dummies` are registered for the whole session, before
collection, so the registry-generated contract suites are parametrised over them and every test
sees the same registry whatever the order the workers run them in.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import ExitStack

import pandas as pd
import pytest

from tests.dummies import dummies_registered
from tests.toydata import make_mixed_frame

# the fixture folders hold data and the scripts that wrote it with older synthaug versions:
# nothing to collect there (--doctest-modules would import the scripts)
collect_ignore = ["fixtures"]

_SESSION = pytest.StashKey[ExitStack]()
_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def pytest_configure(config: pytest.Config) -> None:
    # pytest -n 2 runs two workers on two cores; a second torch or OpenMP thread per worker
    # only oversubscribes them (a tiny VAE fit went from 0.7 s to 31 s on a busy 2-core
    # machine, and HistGradientBoosting's spinning OpenMP threads made validator tests 10x
    # slower).  Set before the workers start, so their libraries start with one thread; the
    # user's own setting wins.
    for variable in _THREAD_VARIABLES:
        os.environ.setdefault(variable, "1")
    stack = ExitStack()
    # registry.generators.scoped() restores the registry when the session ends; entered here,
    # before any test module is imported, because parametrize reads the registry at collection
    stack.enter_context(dummies_registered())
    config.stash[_SESSION] = stack


def pytest_collection_finish(session: pytest.Session) -> None:
    # and one thread in every pool already loaded (collection imported torch, numpy, sklearn),
    # for every item: the tests and the docstring examples of synthaug/ alike
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(1)
    session.config.stash[_SESSION].enter_context(threadpool_limits(limits=1))


def pytest_unconfigure(config: pytest.Config) -> None:
    config.stash[_SESSION].close()


@pytest.fixture(name="make_mixed_frame")
def _make_mixed_frame_fixture() -> Callable[..., pd.DataFrame]:
    """The frame maker itself, for tests that need several frames (modules may also import it
    from :mod:`tests.toydata`)."""
    return make_mixed_frame


@pytest.fixture
def mixed_frame() -> pd.DataFrame:
    return make_mixed_frame()
