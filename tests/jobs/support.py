"""What the batch-job tests share: tiny saved generators, job specs, and folder digests.

Workers (spawned processes, Ray actors, the subprocesses of the kill tests) import generator
classes by their module path (``tests.jobs.support.UnpicklableCopula``,
``tests.dummies.MeanImageGenerator``), so those classes live in importable modules, not in test
files, and every worker needs the repository root on its path: spawned processes inherit this
process's ``sys.path`` (pytest puts the root there, the tests folder being a package), and the
tests hand :func:`importable_path` to subprocesses and Ray actors as ``PYTHONPATH``.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from synthaug import registry
from synthaug.generators.base import register_generator
from synthaug.generators.tabular.copula import GaussianCopulaGenerator

__all__ = ["NO_PICKLE", "ROOT", "UnpicklableCopula", "assert_not_picklable", "digest",
           "importable_path", "job", "make_table", "nopickle_registered", "save_copula",
           "shard_digests"]

#: the repository root: ``tests.*`` (the test generators) and this checkout's ``synthaug``
ROOT = Path(__file__).resolve().parents[2]

NO_PICKLE = "tabular.nopickle"


class UnpicklableCopula(GaussianCopulaGenerator):
    """A copula that refuses to be pickled: a job that ships a generator object fails."""

    def __reduce_ex__(self, protocol: Any) -> Any:
        raise TypeError("UnpicklableCopula must never be pickled: send its folder's path")


@contextmanager
def nopickle_registered() -> Iterator[None]:
    """Register :class:`UnpicklableCopula` as ``tabular.nopickle`` for a ``with`` block."""
    with registry.generators.scoped():
        register_generator(NO_PICKLE)(UnpicklableCopula)
        yield


def importable_path() -> str:
    """``PYTHONPATH`` for a subprocess or Ray actor that must import what this process does:
    the repository root first, then this process's own path."""
    return os.pathsep.join([str(ROOT), *sys.path])


def make_table(n: int = 400, seed: int = 0) -> pd.DataFrame:
    """A small table: two numbers, a category and a label column ``income``."""
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 80, n)
    return pd.DataFrame({
        "age": age.astype(np.int64),
        "hours": np.round(rng.normal(40, 8, n), 1),
        "work": rng.choice(["Private", "State", "Self"], n, p=[0.6, 0.3, 0.1]),
        "income": np.where(age + rng.normal(0, 10, n) > 50, ">50K", "<=50K"),
    })


def save_copula(folder: Path, name: str = "tabular.copula") -> Path:
    """Fit a copula (or the registered ``name``) on :func:`make_table` and save it."""
    cls = registry.generators.get(name)
    cls(random_state=0, device="cpu").fit(make_table()).save(folder)
    return folder


def job(model: Path, out: Path, **sections: Any) -> dict[str, Any]:
    """A job spec for ``model`` writing into ``out``: 2,500 records in shards of 1,000."""
    spec: dict[str, Any] = {"records": 2_500, "seed": 7, "model": {"path": str(model)},
                            "output": {"path": str(out), "shard_size": 1_000},
                            "engine": {"workers": 1}}
    for key, value in sections.items():
        if isinstance(value, dict) and isinstance(spec.get(key), dict):
            spec[key] = {**spec[key], **value}
        else:
            spec[key] = value
    return spec


def digest(path: Path) -> str:
    """SHA-256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def shard_digests(out: Path) -> dict[str, str]:
    """Every file under ``shards/`` and ``records/`` (relative path -> SHA-256): what a
    resumed job must reproduce exactly.  Temporaries would show up here too."""
    return {p.relative_to(out).as_posix(): digest(p)
            for sub in ("shards", "records") if (out / sub).is_dir()
            for p in sorted((out / sub).rglob("*")) if p.is_file()}


def assert_not_picklable(obj: Any) -> None:
    """Check the refusal itself works (so a passing job test means something)."""
    try:
        pickle.dump(obj, io.BytesIO())
    except TypeError:
        return
    raise AssertionError("expected the generator to refuse pickling")
