"""The tables and validators the privacy attacks' tests share: train, holdout and fresh
draws of one distribution, and each attack with fast parameters."""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthaug.validators import get_validator
from synthaug.validators.base import BaseValidator

ATTACKS = ["privacy.mia_distance", "privacy.mia_density", "privacy.attribute_inference",
           "privacy.singling_out"]
ALL = ["privacy.nndr", *ATTACKS]


def frame(n: int, seed: int) -> pd.DataFrame:
    """Independent draws of one distribution: continuous (rows never repeat by chance), a
    categorical secret that depends on x, and a coarse integer column."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    return pd.DataFrame(
        {
            "x": x,
            "y": x + rng.normal(size=n),
            "w": rng.gamma(2.0, size=n),
            "k": rng.integers(0, 40, n),
            "c": np.where(x + rng.normal(scale=1.0, size=n) > 0, "hi", "lo"),
        }
    )


def make(name: str, **kw: object) -> BaseValidator:
    """The validator with small-data, fast, CPU-only parameters."""
    defaults: dict[str, dict[str, object]] = {
        "privacy.nndr": {"device": "cpu", "n_bootstrap": 50},
        "privacy.mia_distance": {"device": "cpu"},
        "privacy.mia_density": {"n_threads": 1, "max_iter": 100},
        "privacy.attribute_inference": {"device": "cpu", "secrets": ["c", "w"]},
        "privacy.singling_out": {"max_attempts": 10_000},
    }
    return get_validator(name, **{**defaults[name], **kw})


TRAIN, HOLDOUT, FRESH = frame(500, 1), frame(500, 2), frame(500, 3)
