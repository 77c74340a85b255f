"""Known-answer tests of ``fidelity.detection`` (shuffled columns are detected: see
``test_pairs.py``)."""

from __future__ import annotations

from synthaug.validators.fidelity import Detection
from tests.toydata import make_mixed_frame


def test_identical_data_cannot_be_detected() -> None:
    real = make_mixed_frame(200, seed=1)
    detection = Detection(n_bootstrap=50).score(real, real.copy())
    assert abs(detection.value - 0.5) < 0.1
    assert len(detection.details["fold_auc"]) == 3
    low, high = detection.interval
    assert low <= detection.value <= high
