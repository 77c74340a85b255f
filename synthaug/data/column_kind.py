"""Column kinds: what a table's column holds, and the datetime units its values are checked in.

The leaf of the tabular schema: :mod:`synthaug.data.schema` (the schemas), its column codec
(:mod:`synthaug.data.column_codec`) and the checks of saved schemas
(:mod:`synthaug.data.saved_schema`) all need these, so they live apart from all three and
import nothing of synthaug's.
"""

from __future__ import annotations

import enum

import numpy as np

__all__ = ["DATETIME_UNITS_NS", "ColumnKind", "datetime_resolution"]


#: units a datetime column's values are checked against, coarsest first (day .. nanosecond)
DATETIME_UNITS_NS = (86_400 * 10**9, 3_600 * 10**9, 60 * 10**9, 10**9, 10**6, 10**3, 1)


def datetime_resolution(ns: np.ndarray) -> int:
    """The coarsest unit (day .. nanosecond) that every value is a whole multiple of.

    Generators sample continuous nanoseconds; rounding back to this unit keeps daily data daily.
    """
    ints = np.asarray(ns).astype(np.int64)
    if len(ints) == 0:
        return 1
    return next(unit for unit in DATETIME_UNITS_NS if not (ints % unit).any())


class ColumnKind(enum.StrEnum):
    """What a column holds, as far as a generator is concerned."""

    NUMERICAL = "numerical"
    INTEGER = "integer"
    CATEGORICAL = "categorical"
    BOOLEAN = "boolean"
    DATETIME = "datetime"
    IDENTIFIER = "identifier"
    EMPTY = "empty"  # every value missing

    @property
    def is_discrete(self) -> bool:
        return self in (ColumnKind.CATEGORICAL, ColumnKind.BOOLEAN)

    @property
    def is_continuous(self) -> bool:
        return self in (ColumnKind.NUMERICAL, ColumnKind.INTEGER, ColumnKind.DATETIME)
