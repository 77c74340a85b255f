"""``privacy.singling_out``'s predicates, counted by hand."""

from __future__ import annotations

import numpy as np

from synthaug.validators.privacy.singling_out import (
    EQ,
    GE,
    ISNA,
    LE,
    NE,
    count_matches,
    univariate_predicates,
)


def test_predicates_count_rows_by_hand() -> None:
    m = np.array([[1.0, 0.0], [2.0, 1.0], [3.0, np.nan], [3.0, 1.0]])
    cols = np.array([[0, 1], [0, 1], [1, 1], [0, 0]])
    ops = np.array([[GE, EQ], [LE, NE], [ISNA, ISNA], [EQ, EQ]])
    values = np.array([[2.0, 1.0], [2.0, 1.0], [0.0, 0.0], [3.0, 3.0]])
    # x >= 2 & c == 1: rows 1, 3;  x <= 2 & c != 1: row 0 (missing is not "!= 1");
    # c missing: row 2;  x == 3 twice: rows 2, 3
    assert count_matches(m, cols, ops, values).tolist() == [2, 1, 1, 2]
    # univariate: min/max of numbers and values seen once; each isolates one row
    found = univariate_predicates(m, np.array([True, False]), 10, np.random.default_rng(0))
    got = {(int(c[0]), int(o[0]), float(v[0])) for c, o, v in zip(*found.arrays(), strict=True)}
    assert got == {(0, LE, 1.0), (0, EQ, 1.0), (0, EQ, 2.0), (1, EQ, 0.0), (1, ISNA, 0.0)}
