"""Data and validators shared by the bias validators' tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

from synthaug.validators.bias import DownstreamFairness, GroupRepresentation, OutcomeParity

BIAS = {"bias.group_representation": GroupRepresentation,
        "bias.outcome_parity": OutcomeParity,
        "bias.downstream_fairness": DownstreamFairness}


CTX = {"target": "y", "sensitive": ("sex", "group")}


def people(n: int, seed: int, *, biased: bool = False) -> pd.DataFrame:
    """sex (50/50), group (a 60% / b 30% / c 10%), two features, and a yes/no label.

    The label depends on ``x`` only, unless ``biased``: then group "a" gets +2 (a model trained
    on these rows learns to favour "a").
    """
    rng = np.random.default_rng(seed)
    group = rng.choice(["a", "b", "c"], n, p=[0.6, 0.3, 0.1])
    x = rng.normal(size=n)
    score = x + rng.normal(scale=0.5, size=n) + (2.0 * (group == "a") if biased else 0.0)
    return pd.DataFrame({
        "sex": rng.choice(["F", "M"], n),
        "group": group,
        "x": x,
        "w": rng.gamma(2.0, size=n),
        "y": np.where(score > 1.0, "yes", "no"),
    })


def fair() -> DownstreamFairness:
    return DownstreamFairness(n_bootstrap=100, n_threads=1)
