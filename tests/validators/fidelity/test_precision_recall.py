"""Known-answer tests of ``fidelity.alpha_precision`` and ``fidelity.beta_recall``."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest

from synthaug.validators.fidelity import (
    AlphaPrecision,
    BetaRecall,
)
from synthaug.validators.fidelity.precision_recall import integrated_score
from tests.validators.fidelity.helpers import gaussian


def recall(**kw: Any) -> BetaRecall:
    return BetaRecall(device="cpu", **kw)


# -- alpha-precision / beta-recall --------------------------------------------------------------
def test_integrated_score_ends() -> None:
    grid = np.linspace(0.0, 1.0, 101)
    assert integrated_score(grid, grid) == 1.0
    assert integrated_score(np.ones(101), grid) == pytest.approx(0.0, abs=1e-12)
    assert integrated_score(np.clip(2 * grid, 0, 1), grid) == pytest.approx(0.5)


def test_identical_data_scores_one() -> None:
    real = gaussian(400, 0)
    precision = AlphaPrecision().score(real, real)
    beta = recall().score(real, real)
    assert precision.value == pytest.approx(1.0, abs=0.01)
    assert beta.value == pytest.approx(1.0, abs=0.01)
    assert precision.details["precision_at_1"] == 1.0
    assert beta.details["recall_at_1"] == 1.0
    assert precision.details["precision_at_0.9"] == pytest.approx(0.9, abs=0.01)


def test_one_corner_keeps_precision_but_loses_recall() -> None:
    real = gaussian(800, 1)
    fresh = gaussian(800, 2)  # what a perfect generator would draw
    corner = fresh.abs()  # as many rows, folded into one quarter of the support: mode collapse
    precision = AlphaPrecision().score(real, corner).value
    beta = recall().score(real, corner)
    perfect = recall().score(real, fresh).value
    # folding keeps each row's distance to the centre, so precision stays high
    assert precision > 0.85
    # three quarters of the real rows have no synthetic row near them
    assert beta.details["recall_at_1"] < 0.3
    assert beta.value < 0.3
    assert beta.value < perfect - 0.2


def test_far_outside_the_support_has_no_precision() -> None:
    real = gaussian(300, 3)
    far = real + 10.0
    assert AlphaPrecision().score(real, far).value == 0.0
    assert recall().score(real, far).value == 0.0


def test_rows_crowding_the_centre_are_penalised() -> None:
    real = gaussian(300, 4)
    crowded = real * 0.05  # all inside the support, but only in its core
    score = AlphaPrecision().score(real, crowded)
    assert score.details["precision_at_1"] == 1.0
    assert score.value < 0.1
    assert score.details["deviation"] > 0.4  # the curve runs far above the diagonal


def test_recall_of_a_fresh_sample_is_near_one_with_five_neighbours_and_half_with_one() -> None:
    # documented calibration: a perfect generator drawing as many rows as the real data has
    # reaches a real row's 5-NN neighbourhood almost always (0.95 here), but its 1-NN one only
    # about half of the time, which is why k defaults to 5
    score = recall().score(gaussian(1000, 5), gaussian(1000, 6))
    assert score.details["recall_at_1"] > 0.9 and score.value > 0.9
    one = recall(k=1).score(gaussian(1000, 5), gaussian(1000, 6))
    assert 0.4 < one.details["recall_at_1"] < 0.6
    assert AlphaPrecision().score(gaussian(1000, 5), gaussian(1000, 6)).value > 0.9


def test_recall_with_duplicated_real_rows() -> None:
    # every real row twice: radii come from the nearest *distinct* row, so a synthetic row a
    # hair away from a duplicated real row still reaches it (a radius of 0 would demand copies)
    rng = np.random.default_rng(7)
    base = pd.DataFrame({"a": rng.choice(["p", "q"], 200), "x": rng.normal(size=200)})
    real = pd.concat([base, base], ignore_index=True)
    jitter = real.assign(x=real.x + rng.normal(scale=1e-4, size=len(real)))
    score = recall().score(real, jitter)
    assert score.details["n_distinct_real"] == 200
    assert score.details["recall_at_1"] > 0.95
    assert score.value > 0.95


def test_recall_compares_equal_size_samples() -> None:
    real, synthetic = gaussian(300, 10), gaussian(900, 11)
    score = recall().score(real, synthetic)
    assert score.details["n_real"] == score.details["n_synthetic"] == 300


def test_curves_details_layout_and_seeded_subsample() -> None:
    real, synthetic = gaussian(500, 8), gaussian(500, 9)
    p = AlphaPrecision(max_rows=200).score(real, synthetic)
    r = recall(max_rows=200).score(real, synthetic)
    assert p.details["n_real"] == p.details["n_synthetic"] == 200
    assert r.details["n_real"] == r.details["n_synthetic"] == 200
    for score, level, what in ((p, "alpha", "precision"), (r, "beta", "recall")):
        curve = score.details["curve"]
        assert len(curve[level]) == len(curve[what]) == 20
        assert curve[level][0] == 0.05 and curve[level][-1] == 1.0
        assert all(a <= b for a, b in zip(curve[what], curve[what][1:], strict=False))
        json.dumps(score.to_dict())
    assert recall(max_rows=200).score(real, synthetic).value == r.value
