"""How the arms share out synthetic records among the classes."""

from __future__ import annotations

import numpy as np

from synthaug.recipes.arms import allocate


def test_allocation_preserves_or_balances() -> None:
    assert allocate(np.array([30, 10]), 20, "preserve", np.array([30, 10])).tolist() == [15, 5]
    assert allocate(np.array([30, 10]), 10, "balanced", np.array([30, 10])).tolist() == [0, 10]
    assert allocate(np.array([30, 10]), 30, "balanced", np.array([30, 10])).tolist() == [5, 25]
    assert allocate(np.array([30, 10]), 9, "balanced", np.zeros(2)).tolist() == [5, 4]
    assert allocate(np.array([3, 3, 3]), 10, "preserve", np.array([3, 3, 3])).sum() == 10
