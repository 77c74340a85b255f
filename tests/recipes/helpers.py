"""The tiny table the recipe tests run on."""

from __future__ import annotations

import numpy as np
import pandas as pd


def make_table(n: int = 360, seed: int = 0) -> pd.DataFrame:
    """A label that every column moves a little (so augmentation can help), a group column."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    age = rng.integers(18, 70, n)
    grp = rng.choice(["A", "B"], n, p=[0.7, 0.3])
    color = rng.choice(["red", "green", "blue"], n)
    logit = 1.5 * x + 0.03 * (age - 40) + 0.5 * (grp == "B") + 0.8 * (color == "red")
    label = np.where(logit + 0.5 * rng.logistic(size=n) > 0.3, "yes", "no")
    return pd.DataFrame({"x": x, "age": age, "color": color, "grp": grp, "label": label})
