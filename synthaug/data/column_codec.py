"""Encoding one column of a table into the float64 matrix view, and decoding it back.

:meth:`TableSchema.to_matrix <synthaug.data.schema.TableSchema.to_matrix>` and
:meth:`~synthaug.data.schema.TableSchema.from_matrix` call these per column; the checks of a
saved schema (:mod:`synthaug.data.saved_schema`) decode a few values with them too, which is
why they live apart from the schema classes: both sides import them without a cycle.
Categories become integer codes, datetimes nanoseconds since the epoch, missing values NaN;
decoding clips, rounds and restores the original dtype.  The rule that makes a number column
ordinal (:func:`discrete_values`) and the snap to its values (:func:`snap_to_values`) are here
together, the two halves of one promise: samples hold only values the column has.
"""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from synthaug.data.column_kind import ColumnKind
from synthaug.exceptions import InvalidDataError

if TYPE_CHECKING:
    from synthaug.data.schema import ColumnSchema

__all__ = [
    "DISCRETE_MAX_VALUES",
    "DISCRETE_MIN_ROWS",
    "datetime_ints",
    "decode_column",
    "discrete_values",
    "encode_column",
    "snap_to_values",
]


def _as_bool(value: Any) -> Any:
    """``value`` as a bool when it plainly is one (True, 1, "false", ...), else unchanged.

    Anything else (``"banana"``, ``2.5``) stays as it is, so it is reported as never seen
    instead of being taken for ``True``.
    """
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, numbers.Real) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    try:
        if pd.isna(value):
            return value
    except (TypeError, ValueError):  # list-likes: pd.isna gives an array
        pass
    return value if isinstance(value, str) else repr(value)



def _datetime_ns(series: pd.Series, where: str) -> np.ndarray:
    """Nanoseconds since the epoch as float64, NaN where missing."""
    ints, present = datetime_ints(series, where)
    out = ints.astype(np.float64)
    out[~present] = np.nan
    return out


def datetime_ints(series: pd.Series, where: str) -> tuple[np.ndarray, np.ndarray]:
    """Exact nanoseconds since the epoch (int64), and where values are present."""
    as_ns = series.dt.tz_convert(None) if getattr(series.dt, "tz", None) else series
    try:
        as_ns = as_ns.astype("datetime64[ns]")
    except pd.errors.OutOfBoundsDatetime:
        raise InvalidDataError(
            f"{where} holds dates outside {pd.Timestamp.min:%Y-%m-%d} .. "
            f"{pd.Timestamp.max:%Y-%m-%d}, which synthaug cannot model yet (it counts time in "
            "nanoseconds). Clip the dates, or convert them to numbers, for example with .dt.year."
        ) from None
    return as_ns.to_numpy().view(np.int64), series.notna().to_numpy()



def encode_column(series: pd.Series, col: ColumnSchema, what: str) -> np.ndarray:
    kind = col.kind
    if kind in (ColumnKind.EMPTY, ColumnKind.IDENTIFIER):
        return np.full(len(series), np.nan)
    if kind.is_discrete:
        values = series
        if kind is ColumnKind.BOOLEAN:
            values = series.map(_as_bool)
        elif not isinstance(series.dtype, pd.CategoricalDtype) and all(
            isinstance(c, str) for c in col.categories or []
        ):
            values = series.astype(object).where(series.isna(), series.astype(str))
        levels = pd.Index(col.categories or [], dtype=object)
        codes = levels.get_indexer(pd.Index(np.asarray(values, dtype=object))).astype(np.float64)
        unseen = (codes < 0) & series.notna().to_numpy()
        if unseen.any():
            example = series[unseen].iloc[0]
            raise InvalidDataError(
                f"{what}[{col.name!r}] holds {int(unseen.sum())} value(s) never seen in "
                f"fitting, for example {example!r}. Known values: {list(levels[:10])}."
            )
        codes[codes < 0] = np.nan
        return codes
    if kind is ColumnKind.DATETIME:
        return _datetime_ns(series, f"{what}[{col.name!r}]")
    numbers_ = pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    if np.isinf(numbers_).any():
        raise InvalidDataError(f"{what}[{col.name!r}] holds infinite values; use NaN instead.")
    return numbers_


def decode_column(values: np.ndarray, col: ColumnSchema, rng: np.random.Generator) -> pd.Series:
    kind = col.kind
    n = len(values)
    if kind is ColumnKind.EMPTY:
        if col.dtype == "category":
            levels = pd.Index(col.categories or [],
                              dtype=_safe_dtype(col.categories_dtype or "", "object"))
            return pd.Series(pd.Categorical.from_codes(
                np.full(n, -1), categories=levels, ordered=col.ordered))
        return pd.Series(np.full(n, np.nan), dtype=_safe_dtype(col.dtype, "float64"))
    if kind is ColumnKind.IDENTIFIER:
        return _fresh_identifiers(n, col, rng)
    if kind.is_discrete:
        categories = col.categories or []
        codes = np.where(np.isnan(values), -1, np.clip(np.rint(values), 0, len(categories) - 1))
        codes = codes.astype(np.int64)
        if kind is ColumnKind.BOOLEAN:
            if col.dtype == "bool" and (codes >= 0).all():
                return pd.Series(codes.astype(bool))
            if col.dtype == "object":  # True/False held in an object column: keep it one
                return pd.Series([None if c < 0 else bool(c) for c in codes], dtype="object")
            out = pd.array(codes.astype(bool), dtype="boolean")
            out[codes < 0] = pd.NA
            return pd.Series(out)
        if col.dtype == "category":
            levels = pd.Index(categories, dtype=_safe_dtype(col.categories_dtype or "", "object"))
            cat = pd.Categorical.from_codes(codes, categories=levels, ordered=col.ordered)
            return pd.Series(cat)
        cat = pd.Categorical.from_codes(
            codes, categories=pd.Index(categories, dtype=object), ordered=col.ordered
        )
        return pd.Series(cat).astype(_safe_dtype(col.dtype, "object"))
    lo = -np.inf if col.minimum is None else col.minimum
    hi = np.inf if col.maximum is None else col.maximum
    values = np.clip(values, lo, hi)
    if kind is ColumnKind.DATETIME:
        nat = np.isnan(values)
        # stay inside int64 (its lowest value is NaT), then undo float64 round-off (up to
        # ~500 ns): back to the data's own resolution, where the fitted range's ends lie exactly
        safe = np.clip(np.rint(values), -_MAX_NS_FLOAT, _MAX_NS_FLOAT)
        ints = np.where(nat, 0, safe).astype(np.int64)
        dtype = pd.api.types.pandas_dtype(col.dtype)
        step = max(_unit_ns(dtype), col.resolution_ns or 1)
        if step > 1:
            ints = (ints + step // 2) // step * step
        if col.range_ns is not None:
            ints = np.clip(ints, *col.range_ns)
        stamps = pd.Series(ints.view("datetime64[ns]"))
        stamps[nat] = pd.NaT
        if getattr(dtype, "tz", None) is not None:
            stamps = stamps.dt.tz_localize("UTC").dt.tz_convert(dtype.tz)  # type: ignore[union-attr]
        return stamps.astype(dtype)
    if col.discrete_values:
        values = snap_to_values(values, np.asarray(col.discrete_values, dtype=np.float64))
    elif kind is ColumnKind.INTEGER:
        values = np.rint(values)
    dtype = pd.api.types.pandas_dtype(col.dtype)
    has_nan = bool(np.isnan(values).any())
    if has_nan and pd.api.types.is_integer_dtype(dtype) and not isinstance(
        dtype, pd.api.extensions.ExtensionDtype
    ):
        return pd.Series(values).astype("Int64")
    if not pd.api.types.is_numeric_dtype(dtype):  # numbers held in an object column: keep it one
        numbers_ = pd.Series(values).astype("Int64" if kind is ColumnKind.INTEGER else "float64")
        return numbers_.astype(object).where(numbers_.notna(), None)
    return pd.Series(values).astype(dtype)


#: a number column with at most this many distinct values, each held by at least
#: :data:`DISCRETE_MIN_ROWS` rows on average, is ordinal: ``ColumnSchema.discrete_values``
#: lists its values and every generator's samples hold only those (a survey year, a score
#: from 1 to 5, a 0/1 flag), where a continuous model would also invent values between them
DISCRETE_MAX_VALUES = 20
#: ... rows per distinct value on average, at least (fewer: too few rows to tell a few-valued
#: column from a continuous one that happens to repeat)
DISCRETE_MIN_ROWS = 5


def discrete_values(finite: np.ndarray, lo: float, hi: float) -> list[float] | None:
    """The sorted distinct values of a number column within ``[lo, hi]``, when it has few.

    Few means at most :data:`DISCRETE_MAX_VALUES` distinct values and at least
    :data:`DISCRETE_MIN_ROWS` rows per value on average.  Values beyond the kept bounds (held
    by fewer rows than the bounds need) are left out, as the bounds leave them out.

    Examples
    --------
    >>> import numpy as np
    >>> years = np.repeat([2004.0, 2006.0, 2008.0], 10)
    >>> discrete_values(years, 2004.0, 2008.0)
    [2004.0, 2006.0, 2008.0]
    >>> discrete_values(np.arange(100.0), 0.0, 99.0) is None
    True
    """
    n = len(finite)
    if n == 0:
        return None
    # a cheap look first: more distinct values than the rule allows among the first rows
    head = np.unique(finite[: 4 * DISCRETE_MAX_VALUES])
    if len(head) > DISCRETE_MAX_VALUES:
        return None
    uniq = np.unique(finite)
    if len(uniq) > DISCRETE_MAX_VALUES or n < DISCRETE_MIN_ROWS * len(uniq):
        return None
    return [float(v) for v in uniq if lo <= v <= hi]


def snap_to_values(values: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Each of ``values`` replaced by the nearest of ``levels`` (sorted; NaN stays NaN).

    The one place where every generator's samples of a few-valued number column
    (``ColumnSchema.discrete_values``) become values that occur in it.

    Examples
    --------
    >>> import numpy as np
    >>> snap_to_values(np.array([2003.2, 2005.1, np.nan, 2011.0]),
    ...                np.array([2004.0, 2006.0, 2008.0])).tolist()
    [2004.0, 2006.0, nan, 2008.0]
    """
    right = np.clip(np.searchsorted(levels, values), 1, len(levels) - 1) if len(levels) > 1 \
        else np.zeros(len(values), dtype=np.int64)
    left = np.maximum(right - 1, 0)
    nearer_left = np.abs(values - levels[left]) <= np.abs(levels[right] - values)
    out = np.where(nearer_left, levels[left], levels[right])
    return np.where(np.isnan(values), np.nan, out)


def _fresh_identifiers(n: int, col: ColumnSchema, rng: np.random.Generator) -> pd.Series:
    """New ids that cannot collide with training ids: ints past the max, or random hex strings."""
    if col.maximum is not None:
        start = int(col.maximum) + 1 + int(rng.integers(0, 1_000_000))
        return pd.Series(np.arange(start, start + n)).astype(pd.api.types.pandas_dtype(col.dtype))
    raw = rng.integers(0, 2**63 - 1, size=n, dtype=np.int64)
    ids = np.char.add("syn-", np.char.zfill(np.char.mod("%x", raw), 16))
    return pd.Series(ids).astype(_safe_dtype(col.dtype, "object"))


#: the float64 nearest to the int64 range's end from inside (2**63 - 1024)
_MAX_NS_FLOAT = float(2**63 - 1024)


def _unit_ns(dtype: Any) -> int:
    """Nanoseconds in one step of a datetime dtype's unit (1 for ns, 1000 for us, ...)."""
    unit = getattr(dtype, "unit", None) or np.datetime_data(dtype)[0]
    return {"s": 10**9, "ms": 10**6, "us": 10**3}.get(str(unit), 1)


def _safe_dtype(dtype: str, default: str) -> Any:
    try:
        return pd.api.types.pandas_dtype(dtype)
    except TypeError:
        return pd.api.types.pandas_dtype(default)
