"""Known-answer tests of ``fidelity.column_shapes`` (its agreement with SDMetrics:
``test_sdmetrics_agreement.py``)."""

from __future__ import annotations

from synthaug.validators.fidelity import ColumnShapes
from tests.toydata import make_mixed_frame


def test_identical_data_scores_perfect_column_shapes() -> None:
    real = make_mixed_frame(200, seed=1)
    assert ColumnShapes().score(real, real.copy()).value == 1.0
