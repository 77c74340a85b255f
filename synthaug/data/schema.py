"""Tabular schemas: what each column is, and a numeric matrix view that generators share.

``TableSchema.detect(frame)`` checks a DataFrame and records, per column, its kind, dtype,
missing-value rate, categories and range.  ``to_matrix`` turns the frame into a float64 matrix
(categories become integer codes, datetimes nanoseconds, missing values NaN), and
``from_matrix`` turns any such matrix back into a frame with the original dtypes, category sets,
integer-ness and ranges.  The schema is small JSON: category levels and min/max, never rows.
"""

from __future__ import annotations

import enum
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from synthaug.exceptions import InvalidDataError

__all__ = ["ColumnKind", "ColumnSchema", "TableSchema", "as_frame", "datetime_resolution"]

#: a column of unique strings (or a contiguous range of unique integers) with at least this many
#: rows is taken for a row identifier and regenerated, never learned or copied.
IDENTIFIER_MIN_ROWS = 20


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


@dataclass(frozen=True)
class ColumnSchema:
    """One column: kind, original dtype, missing rate, categories or range."""

    name: str
    kind: ColumnKind
    dtype: str
    missing_rate: float = 0.0
    categories: list[Any] | None = None
    ordered: bool = False
    minimum: float | None = None
    maximum: float | None = None
    #: dtype of a ``category`` column's levels (``str``, ``int64``, ...), so samples keep it
    categories_dtype: str | None = None
    #: datetimes: the coarsest of s, ms, us, ns (in ns) that every value is a whole multiple of
    resolution_ns: int | None = None
    #: datetimes: the exact range in ns (``minimum``/``maximum`` are float64, ~100 ns coarse)
    range_ns: tuple[int, int] | None = None

    @property
    def nullable(self) -> bool:
        return self.missing_rate > 0

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["kind"] = self.kind.value
        if self.categories and _time_levels(self.categories_dtype):
            out["categories"] = _time_levels_to_json(self.categories, str(self.categories_dtype))
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ColumnSchema:
        out = {**data, "kind": ColumnKind(data["kind"])}
        if out.get("range_ns") is not None:  # a JSON list
            out["range_ns"] = tuple(int(v) for v in out["range_ns"])
        if out.get("categories") and _time_levels(out.get("categories_dtype")):
            out["categories"] = _time_levels_from_json(out["categories"], out["categories_dtype"])
        return cls(**out)


# JSON has no timestamps: category levels of time types are saved as exact integers in their
# dtype's unit (datetimes and timedeltas; UTC for time-zone-aware ones) or as text (periods).
def _time_levels(dtype: str | None) -> bool:
    """Whether a category column's levels are datetimes, timedeltas or periods."""
    return bool(dtype) and str(dtype).startswith(("datetime64", "timedelta64", "period"))


def _time_levels_to_json(levels: list[Any], dtype: str) -> list[Any]:
    index = pd.Index(levels, dtype=dtype)
    if isinstance(index, pd.PeriodIndex):
        return [str(p) for p in index]
    return [int(v) for v in index.asi8]


def _time_levels_from_json(values: list[Any], dtype: str) -> list[Any]:
    kind = pd.api.types.pandas_dtype(dtype)
    if isinstance(kind, pd.PeriodDtype):
        return pd.Index(values, dtype=kind).tolist()
    ints = np.asarray(values, dtype=np.int64)
    if isinstance(kind, pd.DatetimeTZDtype):
        utc = pd.DatetimeIndex(ints.view(f"datetime64[{kind.unit}]")).tz_localize("UTC")
        return utc.tz_convert(kind.tz).tolist()
    return pd.Index(ints.view(np.dtype(str(kind)))).tolist()  # numpy datetime64 / timedelta64


@dataclass(frozen=True)
class TableSchema:
    """The schema of a table: its columns in order, and how the table was given."""

    columns: tuple[ColumnSchema, ...]
    n_rows: int = 0
    container: str = "dataframe"  # "dataframe" or "ndarray": what sample() returns
    array_dtype: str | None = None
    _index: dict[str, int] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._index.update({c.name: i for i, c in enumerate(self.columns)})

    # -- construction --------------------------------------------------------------------------
    @classmethod
    def detect(cls, data: Any, *, what: str = "X") -> TableSchema:
        """Check ``data`` (DataFrame or 2-D array) and describe each of its columns."""
        frame, container, array_dtype = as_frame(data, what=what)
        columns = tuple(_detect_column(frame[name], name, what) for name in frame.columns)
        return cls(columns, n_rows=len(frame), container=container, array_dtype=array_dtype)

    def to_dict(self) -> dict[str, Any]:
        return {
            "columns": [c.to_dict() for c in self.columns],
            "n_rows": self.n_rows,
            "container": self.container,
            "array_dtype": self.array_dtype,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TableSchema:
        return cls(
            tuple(ColumnSchema.from_dict(c) for c in data["columns"]),
            n_rows=int(data.get("n_rows", 0)),
            container=str(data.get("container", "dataframe")),
            array_dtype=data.get("array_dtype"),
        )

    # -- lookup --------------------------------------------------------------------------------
    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def index(self, name: str) -> int:
        try:
            return self._index[name]
        except KeyError:
            raise InvalidDataError(
                f"column {name!r} is not in the fitted data; its columns are {self.names}."
            ) from None

    def __getitem__(self, name: str) -> ColumnSchema:
        return self.columns[self.index(name)]

    # -- matrix view ---------------------------------------------------------------------------
    def to_matrix(self, data: Any, *, what: str = "X") -> np.ndarray:
        """Encode ``data`` (same columns as fitted) as a float64 matrix: codes, ns, NaN."""
        frame, _, _ = as_frame(data, what=what)
        if list(frame.columns) != self.names:
            raise InvalidDataError(
                f"{what} has columns {list(frame.columns)}, but the schema expects "
                f"{self.names} in that order."
            )
        out = np.empty((len(frame), len(self.columns)), dtype=np.float64)
        for j, col in enumerate(self.columns):
            out[:, j] = _encode_column(frame[col.name], col, what)
        return out

    def encode_value(self, name: str, value: Any, *, what: str = "conditions") -> float:
        """Encode one value of column ``name`` as :meth:`to_matrix` would (NaN if missing)."""
        col = self[name]
        if col.kind is ColumnKind.DATETIME:
            try:
                series = pd.Series(pd.to_datetime([value]))
            except (ValueError, TypeError, OverflowError):
                raise InvalidDataError(
                    f"{what}[{name!r}] = {value!r} is not a date; give a pandas.Timestamp or an "
                    "ISO string such as '2020-01-31'."
                ) from None
        else:
            series = pd.Series([value], dtype=object)
        encoded = float(_encode_column(series, col, what)[0])
        if col.kind in (ColumnKind.NUMERICAL, ColumnKind.INTEGER) and np.isnan(encoded):
            raise InvalidDataError(f"{what}[{name!r}] = {value!r} is not a number.")
        if col.kind is ColumnKind.INTEGER and encoded != np.rint(encoded):
            raise InvalidDataError(
                f"{what}[{name!r}] = {value!r} is not a whole number, but every fitted value of "
                f"{name!r} is; give a whole number."
            )
        return encoded

    def from_matrix(self, matrix: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
        """Decode a float matrix in the layout of :meth:`to_matrix` into a typed frame.

        Values are clipped to the fitted range and rounded where the column was integral, so any
        generator's raw output becomes valid data.  Identifier columns are filled with fresh ids.
        """
        if matrix.ndim != 2 or matrix.shape[1] != len(self.columns):
            raise InvalidDataError(
                f"expected a matrix with {len(self.columns)} columns, got shape {matrix.shape}."
            )
        data = {
            col.name: _decode_column(matrix[:, j], col, rng) for j, col in enumerate(self.columns)
        }
        return pd.DataFrame(data, columns=self.names)

    def to_container(self, frame: pd.DataFrame) -> Any:
        """Return ``frame`` as the container the schema was detected on."""
        if self.container == "ndarray":
            return frame.to_numpy(dtype=self.array_dtype)
        return frame


# -- input checks ------------------------------------------------------------------------------
def as_frame(data: Any, *, what: str = "X") -> tuple[pd.DataFrame, str, str | None]:
    """Check that ``data`` is a usable table and return it as a DataFrame.

    Returns ``(frame, container, array_dtype)`` where ``container`` names the input type so
    results can be given back in the same type.
    """
    if isinstance(data, pd.DataFrame):
        frame, container, array_dtype = data, "dataframe", None
    elif isinstance(data, np.ndarray):
        if data.ndim != 2:
            raise InvalidDataError(
                f"{what} must be 2-D (rows x columns), got an array of shape {data.shape}. "
                "Reshape a single column with X.reshape(-1, 1)."
            )
        frame = pd.DataFrame(data, columns=[f"x{i}" for i in range(data.shape[1])])
        container, array_dtype = "ndarray", str(data.dtype)
    else:
        raise InvalidDataError(
            f"{what} must be a pandas DataFrame or a 2-D numpy array, got "
            f"{type(data).__name__}. Convert it with pandas.DataFrame(...)."
        )
    if frame.shape[1] == 0:
        raise InvalidDataError(f"{what} has no columns.")
    if len(frame) == 0:
        raise InvalidDataError(f"{what} has no rows; give at least 2 rows to learn from.")
    bad = [c for c in frame.columns if not isinstance(c, str)]
    if bad:
        raise InvalidDataError(
            f"{what} has column names that are not strings: {bad[:5]!r}. "
            "Rename them, for example with df.columns = df.columns.astype(str)."
        )
    dupes = sorted({c for c in frame.columns if list(frame.columns).count(c) > 1})
    if dupes:
        raise InvalidDataError(f"{what} has duplicate column names: {dupes}. Make them unique.")
    return frame, container, array_dtype


def _non_null(series: pd.Series) -> pd.Series:
    return series[series.notna()]


def _detect_column(series: pd.Series, name: str, what: str) -> ColumnSchema:
    dtype = series.dtype
    missing = float(series.isna().mean())
    n = len(series)
    base: dict[str, Any] = {"name": name, "dtype": str(dtype), "missing_rate": missing}
    if isinstance(dtype, pd.CategoricalDtype):
        levels_dtype = str(dtype.categories.dtype)
        if not _time_levels(levels_dtype) and not all(
            isinstance(_plain(c), (str, int, float, bool)) for c in dtype.categories
        ):
            raise InvalidDataError(
                f"{what}[{name!r}] is a category column with "
                f"{pd.api.types.infer_dtype(dtype.categories)} levels ({levels_dtype}), which "
                f"a saved model cannot hold. Make the levels text, for example with "
                f"df[{name!r}] = df[{name!r}].astype(str)."
            )
        return ColumnSchema(
            # an all-missing categorical keeps its levels, so samples keep its dtype
            kind=ColumnKind.EMPTY if missing == 1.0 else ColumnKind.CATEGORICAL,
            categories=[_plain(c) for c in dtype.categories],
            ordered=bool(dtype.ordered),
            categories_dtype=str(dtype.categories.dtype),
            **base,
        )
    if missing == 1.0:
        return ColumnSchema(kind=ColumnKind.EMPTY, **base)
    if pd.api.types.is_bool_dtype(dtype):
        return ColumnSchema(kind=ColumnKind.BOOLEAN, categories=[False, True], **base)
    if pd.api.types.is_datetime64_any_dtype(dtype):
        ints, observed = _datetime_ints(series, f"{what}[{name!r}]")
        ints = ints[observed]
        resolution = datetime_resolution(ints)
        return ColumnSchema(
            kind=ColumnKind.DATETIME,
            minimum=float(ints.min()),
            maximum=float(ints.max()),
            resolution_ns=resolution,
            range_ns=(int(ints.min()), int(ints.max())),
            **base,
        )
    if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_complex_dtype(dtype):
        is_int = pd.api.types.is_integer_dtype(dtype)
        return _numeric_column(series.to_numpy(dtype=np.float64, na_value=np.nan), name, what,
                               base, allow_identifier=is_int, exact_integers=is_int)
    if pd.api.types.is_timedelta64_dtype(dtype) or pd.api.types.is_complex_dtype(dtype):
        raise InvalidDataError(
            f"{what}[{name!r}] has dtype {dtype}, which synthaug cannot model yet. "
            "Convert it to numbers first (for example with .dt.total_seconds())."
        )
    # object / string columns: look at the types actually present
    present = _non_null(series)
    # the common case, all text, is settled in C; the per-value look only runs for the rest
    # (it was most of a validator's time on 100k-row tables)
    if pd.api.types.infer_dtype(present, skipna=True) == "string":
        kinds = {"str"}
    else:
        kinds = {_value_kind(v) for v in present.to_numpy(dtype=object)}
    if kinds == {"str"}:
        text = present.astype(str)
        levels = pd.unique(text)
        if len(levels) == len(text) and n >= IDENTIFIER_MIN_ROWS and missing == 0:
            return ColumnSchema(kind=ColumnKind.IDENTIFIER, **base)
        return ColumnSchema(
            kind=ColumnKind.CATEGORICAL, categories=sorted(str(v) for v in levels), **base
        )
    if kinds == {"bool"}:
        return ColumnSchema(kind=ColumnKind.BOOLEAN, categories=[False, True], **base)
    if kinds <= {"int", "float"}:
        numbers_ = pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64)
        return _numeric_column(numbers_, name, what, base, allow_identifier=False,
                               exact_integers=True)
    shown = ", ".join(sorted(kinds))
    if len(kinds) == 1:  # one type, just not one synthaug models inside an object column
        dates = kinds & {"Timestamp", "datetime", "date", "datetime64"}
        fix = f"pd.to_datetime(df[{name!r}])" if dates else f"df[{name!r}].astype(str)"
        raise InvalidDataError(
            f"{what}[{name!r}] holds {shown} objects in an object column, which synthaug "
            f"cannot model as they are. Convert it, for example with df[{name!r}] = {fix}."
        )
    raise InvalidDataError(
        f"{what}[{name!r}] mixes values of types {shown}. Give each column one type, for "
        f"example with df[{name!r}] = df[{name!r}].astype(str) to treat it as categories."
    )


#: whole numbers at or beyond this size have no exact float64 value (the matrix view is float64)
MAX_EXACT_INTEGER = 2**53


def _numeric_column(
    values: np.ndarray,
    name: str,
    what: str,
    base: dict[str, Any],
    *,
    allow_identifier: bool,
    exact_integers: bool = False,
) -> ColumnSchema:
    finite = values[~np.isnan(values)]
    if np.isinf(finite).any():
        count = int(np.isinf(finite).sum())
        raise InvalidDataError(
            f"{what}[{name!r}] holds {count} infinite value(s). Replace them with NaN (missing) "
            "or a finite number, for example df.replace([np.inf, -np.inf], np.nan)."
        )
    lo, hi = float(finite.min()), float(finite.max())
    integral = bool(np.all(finite == np.round(finite)))
    if (
        allow_identifier
        and integral
        and len(finite) == len(values) >= IDENTIFIER_MIN_ROWS
        and hi - lo + 1 == len(values)
        and len(np.unique(finite)) == len(values)
    ):
        return ColumnSchema(kind=ColumnKind.IDENTIFIER, minimum=lo, maximum=hi, **base)
    if exact_integers and integral and max(abs(lo), abs(hi)) >= MAX_EXACT_INTEGER:
        raise InvalidDataError(
            f"{what}[{name!r}] holds whole numbers as large as {max(abs(lo), abs(hi)):.4g}, "
            "beyond 2**53, which synthaug's float64 view cannot hold exactly. Convert the "
            f"column: df[{name!r}].astype(float) to model it approximately, or "
            f".astype(str) if it holds codes or ids."
        )
    kind = ColumnKind.INTEGER if integral else ColumnKind.NUMERICAL
    return ColumnSchema(kind=kind, minimum=lo, maximum=hi, **base)


def _value_kind(value: object) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "bool"
    if isinstance(value, str):
        return "str"
    if isinstance(value, numbers.Integral):
        return "int"
    if isinstance(value, numbers.Real):
        return "float"
    return type(value).__name__


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


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _datetime_ns(series: pd.Series, where: str) -> np.ndarray:
    """Nanoseconds since the epoch as float64, NaN where missing."""
    ints, present = _datetime_ints(series, where)
    out = ints.astype(np.float64)
    out[~present] = np.nan
    return out


def _datetime_ints(series: pd.Series, where: str) -> tuple[np.ndarray, np.ndarray]:
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


# -- encode / decode one column ----------------------------------------------------------------
def _encode_column(series: pd.Series, col: ColumnSchema, what: str) -> np.ndarray:
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


def _decode_column(values: np.ndarray, col: ColumnSchema, rng: np.random.Generator) -> pd.Series:
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
    if kind is ColumnKind.INTEGER:
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


def check_same_columns(names: Sequence[str], expected: Sequence[str], what: str) -> None:
    """Raise a clear error when ``names`` are not the ``expected`` columns."""
    missing = [c for c in expected if c not in names]
    extra = [c for c in names if c not in expected]
    if missing or extra:
        raise InvalidDataError(
            f"{what} does not have the expected columns: missing {missing}, unexpected {extra}."
        )
