"""The attacks' shared statistics (``privacy._attack``) against hand-computed values:
Wilson rates, relative risks, ROC summaries."""

from __future__ import annotations

import math

import numpy as np
import pytest

from synthaug.validators.privacy._attack import relative_risk, roc_summary, wilson_rate


# -- statistics against hand-computed values ---------------------------------------------------
def test_wilson_rate_and_relative_risk_match_the_formulas() -> None:
    z = 1.959963984540054
    rate, err = wilson_rate(30, 200)
    assert rate == pytest.approx((30 + z * z / 2) / (200 + z * z))
    assert err == pytest.approx(z / (200 + z * z) * math.sqrt(30 * 170 / 200 + z * z / 4))
    est = relative_risk(120, 200, 40, 200)
    main, main_err = wilson_rate(120, 200)
    ctrl, ctrl_err = wilson_rate(40, 200)
    assert est.risk == pytest.approx((main - ctrl) / (1 - ctrl))
    expected_err = math.hypot(main_err / (1 - ctrl), ctrl_err * (main - 1) / (1 - ctrl) ** 2)
    assert est.interval == pytest.approx((est.risk - expected_err, est.risk + expected_err))
    # worse on training rows than on unseen ones: no risk, and never below 0
    worse = relative_risk(10, 200, 40, 200)
    assert worse.risk == 0.0 and worse.interval[0] == 0.0


def test_roc_summary_matches_brute_force_and_delong() -> None:
    rng = np.random.default_rng(0)
    labels = np.repeat([1, 0], [40, 60])
    scores = np.round(rng.normal(size=100) + 0.8 * labels, 1)  # rounding makes ties
    summary = roc_summary(labels, scores)
    pos, neg = scores[labels == 1], scores[labels == 0]
    kernel = (pos[:, None] > neg[None]) + 0.5 * (pos[:, None] == neg[None])
    assert summary["auc"] == pytest.approx(kernel.mean())
    # DeLong: variance of the row means over positives / m + of the column means over negatives / n
    var = kernel.mean(axis=1).var(ddof=1) / 40 + kernel.mean(axis=0).var(ddof=1) / 60
    assert summary["auc_std"] == pytest.approx(math.sqrt(var))
    # advantage is max TPR - FPR over thresholds
    thresholds = np.unique(scores)
    adv = max(((pos >= t).mean() - (neg >= t).mean()) for t in thresholds)
    assert summary["advantage"] == pytest.approx(adv)
    curve = summary["roc_curve"]
    assert len(curve["fpr"]) <= 50
    assert (curve["fpr"][0], curve["tpr"][0], curve["fpr"][-1], curve["tpr"][-1]) == (0, 0, 1, 1)
    assert np.all(np.diff(curve["fpr"]) >= 0) and np.all(np.diff(curve["tpr"]) >= 0)
    many = roc_summary(np.repeat([1, 0], 2000), rng.normal(size=4000))
    assert len(many["roc_curve"]["fpr"]) <= 50
