"""Data makers (and a suite file) shared by the validator tests of several modules."""

from __future__ import annotations

import pathlib

import numpy as np
import pandas as pd

from synthaug.validators.privacy import DistanceToClosestRecord


def dependent_frame(n: int, seed: int) -> pd.DataFrame:
    """Columns that depend strongly on one another (continuous and categorical)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    return pd.DataFrame(
        {
            "x": x,
            "y": 2.0 * x + rng.normal(scale=0.2, size=n),
            "z": np.round(np.exp(x / 2) * 10, 2),
            "c": np.where(x < -0.5, "low", np.where(x < 0.5, "mid", "high")),
            "flag": x + rng.normal(scale=0.3, size=n) > 0,
        }
    )


def continuous_frame(n: int, seed: int) -> pd.DataFrame:
    """Independent draws of one distribution; continuous, so rows never repeat by chance."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    return pd.DataFrame(
        {
            "x": x,
            "y": x + rng.normal(size=n),
            "w": rng.gamma(2.0, size=n),
            "c": rng.choice(["a", "b", "c"], size=n),
        }
    )


def shuffled(frame: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Each column permuted on its own: marginals kept, every dependency destroyed."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({c: frame[c].to_numpy()[rng.permutation(len(frame))] for c in frame})


def dcr(**kw: object) -> DistanceToClosestRecord:
    return DistanceToClosestRecord(device="cpu", **kw)  # type: ignore[arg-type]


SHAPES_ONLY = """
version = 1
name = "shapes"
[[checks]]
validator = "fidelity.column_shapes"
min = 0.8
"""


def small_frame(n: int = 200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 80, n)
    return pd.DataFrame({
        "age": age,
        "hours": np.round(rng.normal(40, 8, n), 1),
        "sex": rng.choice(["F", "M"], n),
        "race": rng.choice(["A", "B", "C"], n, p=[0.6, 0.3, 0.1]),
        "income": np.where(age + rng.normal(0, 10, n) > 50, ">50K", "<=50K"),
    })


def constant_copy(frame: pd.DataFrame) -> pd.DataFrame:
    """Clearly bad synthetic data: every column holds one value."""
    return pd.DataFrame({c: [frame[c].iloc[0]] * len(frame) for c in frame.columns})


def write(path: pathlib.Path, text: str) -> pathlib.Path:
    path.write_text(text, encoding="utf-8")
    return path
