"""Checks of a saved tabular schema, field by field, before a model uses it.

A saved model's schema is read from a JSON file that may have been edited or written by
something else, so :meth:`ColumnSchema.from_dict <synthaug.data.schema.ColumnSchema.from_dict>`
trusts none of it: :func:`check_saved_column` checks every field's type, range and dtype, and
:func:`check_decodes` decodes a few values as sampling would.  They are apart from the schema
classes because they are only needed at load, and are long.
"""

from __future__ import annotations

import itertools
import numbers
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from synthaug.data.column_codec import decode_column
from synthaug.data.column_kind import DATETIME_UNITS_NS, ColumnKind
from synthaug.exceptions import ModelFormatError

if TYPE_CHECKING:
    from synthaug.data.schema import ColumnSchema

__all__ = [
    "check_decodes",
    "check_saved_column",
    "damaged",
    "is_int",
    "time_levels",
    "time_levels_from_json",
    "time_levels_to_json",
]


#: the fields of a saved column, and whether each is required
_SAVED_FIELDS = {"name": True, "kind": True, "dtype": True, "missing_rate": False,
                 "categories": False, "ordered": False, "minimum": False, "maximum": False,
                 "categories_dtype": False, "resolution_ns": False, "range_ns": False,
                 "discrete_values": False}


def is_int(value: Any) -> bool:
    """Whether ``value`` is a whole number (a JSON integer; ``True`` and ``False`` are not)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and bool(
        np.isfinite(float(value)))


def damaged(data: Mapping[str, Any], field_name: str, problem: str) -> ModelFormatError:
    """The error for a saved column whose ``field_name`` is wrong, naming the column."""
    name = data.get("name") if isinstance(data, Mapping) else None
    return ModelFormatError(f"saved schema: column {name!r}: {field_name} {problem}; the file "
                            "was edited or written by something else. Save the model again "
                            "from its training data.")


def _dtype_fits(kind: ColumnKind, dtype: Any) -> bool:
    """Whether a column of ``kind`` can be given back in ``dtype`` (what detection records)."""
    if isinstance(dtype, pd.CategoricalDtype):
        return kind in (ColumnKind.CATEGORICAL, ColumnKind.EMPTY)
    is_object = pd.api.types.is_object_dtype(dtype)
    is_text = is_object or pd.api.types.is_string_dtype(dtype)
    is_bool = pd.api.types.is_bool_dtype(dtype)
    is_int = pd.api.types.is_integer_dtype(dtype) and not is_bool
    is_float = pd.api.types.is_float_dtype(dtype)
    is_time = pd.api.types.is_datetime64_any_dtype(dtype)
    if kind is ColumnKind.NUMERICAL:
        return is_float or is_object
    if kind is ColumnKind.INTEGER:
        return is_int or is_float or is_object
    if kind is ColumnKind.CATEGORICAL:
        return is_text
    if kind is ColumnKind.BOOLEAN:
        return is_bool or is_object
    if kind is ColumnKind.DATETIME:
        return is_time
    if kind is ColumnKind.IDENTIFIER:
        return is_text or is_int
    return not pd.api.types.is_complex_dtype(dtype)  # an all-missing column of any kind


def check_saved_column(data: Any) -> None:
    """Check one saved column (a dict from :meth:`ColumnSchema.to_dict`) before it is used.

    Every field is checked for its type and range, the dtype must be one pandas understands
    and fit the kind (a ``numerical`` column is given back as floats, never as dates), and
    discrete columns need their levels, continuous ones a finite range.

    Raises
    ------
    ModelFormatError
        Naming the column and the field that is wrong.

    Examples
    --------
    >>> check_saved_column({"name": "x", "kind": "numerical", "dtype": "float64",
    ...                     "minimum": 0.0, "maximum": 1.0})
    >>> check_saved_column({"name": "x", "kind": "numerical", "dtype": "datetime64[ns]",
    ...                     "minimum": 0.0, "maximum": 1.0})
    Traceback (most recent call last):
    ...
    synthaug.exceptions.ModelFormatError: saved schema: column 'x': dtype 'datetime64[ns]' ...
    """
    if not isinstance(data, Mapping):
        raise ModelFormatError(f"saved schema: a column must be a JSON object, got "
                               f"{type(data).__name__}; the saved state is damaged.")
    unknown = sorted(str(k) for k in data if k not in _SAVED_FIELDS)
    if unknown:
        raise damaged(data, "fields", f"{unknown} are not fields of a saved column")
    for key, required in _SAVED_FIELDS.items():
        if required and key not in data:
            raise damaged(data, key, "is missing")
    if not isinstance(data["name"], str):
        raise damaged(data, "name", f"must be text, got {data['name']!r}")
    try:
        kind = ColumnKind(data["kind"])
    except ValueError:
        raise damaged(data, "kind", f"{data['kind']!r} is not one of "
                      f"{[k.value for k in ColumnKind]}") from None
    raw_dtype = data["dtype"]
    if not isinstance(raw_dtype, str):
        raise damaged(data, "dtype", f"must be text, got {raw_dtype!r}")
    try:
        dtype = pd.api.types.pandas_dtype(raw_dtype)
    except (TypeError, ValueError):
        raise damaged(data, "dtype", f"{raw_dtype!r} is not a dtype pandas knows") from None
    if not _dtype_fits(kind, dtype):
        raise damaged(data, "dtype", f"{raw_dtype!r} cannot hold a {kind.value} column")
    missing = data.get("missing_rate", 0.0)
    if not _is_number(missing) or not 0.0 <= float(missing) <= 1.0:
        raise damaged(data, "missing_rate", f"must be a number within [0, 1], got {missing!r}")
    if not isinstance(data.get("ordered", False), bool):
        raise damaged(data, "ordered", f"must be true or false, got {data['ordered']!r}")
    levels_dtype = data.get("categories_dtype")
    if levels_dtype is not None:
        try:
            pd.api.types.pandas_dtype(levels_dtype)
        except (TypeError, ValueError):
            raise damaged(data, "categories_dtype", f"{levels_dtype!r} is not a dtype pandas "
                          "knows") from None
    categories = data.get("categories")
    if categories is not None:
        if not isinstance(categories, list) or not all(
                isinstance(c, (str, int, float, bool)) for c in categories):
            raise damaged(data, "categories", "must be a list of text, numbers or booleans")
        if len({(type(c), c) for c in categories}) != len(categories):
            raise damaged(data, "categories", "lists a level twice")
    if kind.is_discrete and not categories:
        raise damaged(data, "categories", f"must list the levels of a {kind.value} column")
    if kind is ColumnKind.BOOLEAN and categories != [False, True]:
        raise damaged(data, "categories", "of a boolean column must be [false, true]")
    low, high = data.get("minimum"), data.get("maximum")
    for key, value in (("minimum", low), ("maximum", high)):
        if value is not None and not _is_number(value):
            raise damaged(data, key, f"must be a finite number, got {value!r}")
    if kind.is_continuous and (low is None or high is None):
        raise damaged(data, "minimum/maximum", f"are needed for a {kind.value} column")
    if low is not None and high is not None and float(low) > float(high):
        raise damaged(data, "minimum", f"{low!r} is above the maximum {high!r}")
    levels = data.get("discrete_values")
    if levels is not None:
        if kind not in (ColumnKind.NUMERICAL, ColumnKind.INTEGER):
            raise damaged(data, "discrete_values", f"belong to number columns, not to a "
                          f"{kind.value} column")
        if not isinstance(levels, list) or not levels or not all(_is_number(v) for v in levels):
            raise damaged(data, "discrete_values", "must be a non-empty list of finite numbers")
        if any(float(a) >= float(b) for a, b in itertools.pairwise(levels)):
            raise damaged(data, "discrete_values", "must be sorted, each value once")
        if low is not None and high is not None and not (
                float(low) <= float(levels[0]) and float(levels[-1]) <= float(high)):
            raise damaged(data, "discrete_values", f"must lie within [{low!r}, {high!r}]")
    resolution = data.get("resolution_ns")
    if resolution is not None and resolution not in DATETIME_UNITS_NS:
        raise damaged(data, "resolution_ns", f"must be one of {list(DATETIME_UNITS_NS)}, got "
                      f"{resolution!r}")
    span = data.get("range_ns")
    if span is not None and not (isinstance(span, (list, tuple)) and len(span) == 2
                                 and all(is_int(v) for v in span) and span[0] <= span[1]):
        raise damaged(data, "range_ns", f"must be [low, high] whole nanoseconds, got {span!r}")


def check_decodes(col: ColumnSchema) -> None:
    """Decode a few values of ``col`` as sampling would: the ends of its range, a level, a
    missing value; whatever would fail later inside pandas fails here, by name."""
    if col.kind.is_discrete:
        values = np.array([0.0, float(len(col.categories or []) - 1), np.nan])
    elif col.kind.is_continuous:
        values = np.array([col.minimum, col.maximum, np.nan], dtype=np.float64)
    else:
        values = np.array([np.nan, np.nan, np.nan])
    if not col.nullable:
        values = values[:2]
    try:
        decode_column(values, col, np.random.default_rng(0))
    except (TypeError, ValueError, OverflowError, KeyError, IndexError) as exc:
        raise damaged(col.to_dict(), "dtype", f"{col.dtype!r} cannot give back its values "
                      f"({type(exc).__name__}: {exc})") from None


# JSON has no timestamps: category levels of time types are saved as exact integers in their
# dtype's unit (datetimes and timedeltas; UTC for time-zone-aware ones) or as text (periods).
def time_levels(dtype: str | None) -> bool:
    """Whether a category column's levels are datetimes, timedeltas or periods."""
    return bool(dtype) and str(dtype).startswith(("datetime64", "timedelta64", "period"))


def time_levels_to_json(levels: list[Any], dtype: str) -> list[Any]:
    """The JSON form of time-typed category levels (exact integers, or text for periods)."""
    index = pd.Index(levels, dtype=dtype)
    if isinstance(index, pd.PeriodIndex):
        return [str(p) for p in index]
    return [int(v) for v in index.asi8]


def time_levels_from_json(values: list[Any], dtype: str) -> list[Any]:
    """The levels :func:`time_levels_to_json` saved, back in their dtype."""
    kind = pd.api.types.pandas_dtype(dtype)
    if isinstance(kind, pd.PeriodDtype):
        return pd.Index(values, dtype=kind).tolist()
    ints = np.asarray(values, dtype=np.int64)
    if isinstance(kind, pd.DatetimeTZDtype):
        utc = pd.DatetimeIndex(ints.view(f"datetime64[{kind.unit}]")).tz_localize("UTC")
        return utc.tz_convert(kind.tz).tolist()
    return pd.Index(ints.view(np.dtype(str(kind)))).tolist()  # numpy datetime64 / timedelta64
