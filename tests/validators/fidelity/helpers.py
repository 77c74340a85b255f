"""Data makers shared by the fidelity validators' tests."""

from __future__ import annotations

import numpy as np
import pandas as pd


def gaussian(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"x": rng.normal(size=n), "y": rng.normal(size=n)})
