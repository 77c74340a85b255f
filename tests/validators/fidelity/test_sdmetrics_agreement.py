"""synthaug's column shapes and pair trends against SDMetrics' QualityReport on Adult.

The issue asks for agreement within 0.02 on Adult.  SDMetrics needs pandas < 3, so this module
runs only in an environment that has it (CI's second venv, ``pytest -m sdv``); elsewhere it is
skipped:

    pip install torch==2.13.0 && pip install -e ".[dev]" "pandas<3" "sdmetrics>=0.32"
    python -m pytest tests/validators/fidelity/test_sdmetrics_agreement.py

Synthetic tables of different quality are made from a 6,000-row Adult sample in seconds: a
Gaussian copula (good), one-epoch GAN and VAE (poor, with squeezed numeric ranges: the case
where cutting the synthetic column on the real bin edges used to score up to 0.04 above
SDMetrics), numeric columns clipped to their 5-95 % quantiles (a range change with no
training noise) and every column shuffled on its own (marginals kept, all trends gone).
"""

from __future__ import annotations

import warnings
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("sdmetrics")
pytestmark = pytest.mark.sdv

# the unified report: SDMetrics 0.32 deprecates the single-table one (same numbers)
from sdmetrics.reports import QualityReport  # noqa: E402

from synthaug import get_generator  # noqa: E402
from synthaug.data import load_adult  # noqa: E402
from synthaug.validators import get_validator  # noqa: E402

N_ROWS = 6_000
TOLERANCE = 0.02  # the requirement
EXACT = 1e-6  # where the definitions coincide, only float rounding separates the two

TABLES = ["copula", "gan_1_epoch", "vae_1_epoch", "clipped", "shuffled"]


@cache
def _real() -> pd.DataFrame:
    return load_adult().sample(N_ROWS, random_state=0).reset_index(drop=True)


@cache
def _synthetic(name: str) -> pd.DataFrame:
    real = _real()
    numeric = [c for c in real.columns if pd.api.types.is_numeric_dtype(real[c])]
    if name == "copula":
        model = get_generator("tabular.copula", random_state=0)
    elif name in ("gan_1_epoch", "vae_1_epoch"):
        model = get_generator(f"tabular.{name[:3]}", epochs=1, random_state=0, device="cpu")
    elif name == "clipped":
        lo, hi = real[numeric].quantile(0.05), real[numeric].quantile(0.95)
        return real.assign(**{c: real[c].clip(lo[c], hi[c]) for c in numeric})
    else:  # shuffled
        rng = np.random.default_rng(0)
        return pd.DataFrame({c: real[c].to_numpy()[rng.permutation(len(real))]
                             for c in real.columns})
    return model.fit(real).sample(N_ROWS, random_state=1)


@cache
def _sdmetrics(name: str) -> dict[str, float]:
    real, synthetic = _real(), _synthetic(name)
    columns = {c: {"sdtype": "numerical" if pd.api.types.is_numeric_dtype(real[c])
                   else "categorical"} for c in real.columns}
    metadata: dict[str, Any] = {"tables": {"adult": {"columns": columns}}}
    report = QualityReport()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report.generate({"adult": real}, {"adult": synthetic}, metadata, verbose=False)
    scores = report.get_properties().set_index("Property")["Score"]
    return {"shapes": float(scores["Column Shapes"]), "pairs": float(scores["Column Pair Trends"])}


@pytest.mark.parametrize("name", TABLES)
def test_column_shapes_agree(name: str) -> None:
    real, synthetic = _real(), _synthetic(name)
    expected = _sdmetrics(name)["shapes"]
    ours = get_validator("fidelity.column_shapes").score(real, synthetic).value
    assert abs(ours - expected) <= TOLERANCE, (name, ours, expected)
    # missing values left out, as TVComplement does: the same definition, so the same number
    same = get_validator("fidelity.column_shapes", missing="ignore").score(real, synthetic)
    assert same.value == pytest.approx(expected, abs=EXACT), name


@pytest.mark.parametrize("name", TABLES)
def test_pair_trends_agree(name: str) -> None:
    real, synthetic = _real(), _synthetic(name)
    expected = _sdmetrics(name)["pairs"]
    ours = get_validator("fidelity.pair_trends").score(real, synthetic).value
    # Adult's numeric columns have no missing values and 6,000 rows are below SDMetrics'
    # 50,000-row subsample, so nothing separates the two definitions here
    assert ours == pytest.approx(expected, abs=EXACT), (name, ours, expected)
    assert abs(ours - expected) <= TOLERANCE


def test_tables_span_quality() -> None:
    """The cases are not all alike: good, poor and trend-free tables score far apart."""
    pairs = {name: _sdmetrics(name)["pairs"] for name in TABLES}
    assert pairs["copula"] > pairs["shuffled"] > max(pairs["gan_1_epoch"], pairs["vae_1_epoch"])
    assert max(pairs.values()) - min(pairs.values()) > 0.3


def test_real_edges_differ_where_ranges_differ() -> None:
    """Cutting both tables on the real edges is a different definition, not a rounding change:
    it scores the clipped table higher than SDMetrics, and agrees where ranges match."""
    real = _real()
    clipped = get_validator("fidelity.pair_trends", bin_edges="real").score(
        real, _synthetic("clipped")).value
    assert clipped > _sdmetrics("clipped")["pairs"] + 0.02
    itself = get_validator("fidelity.pair_trends", bin_edges="real").score(real, real).value
    assert itself == pytest.approx(1.0)
