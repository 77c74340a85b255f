"""Tabular schemas: what each column is, and a numeric matrix view that generators share.

``TableSchema.detect(frame)`` checks a DataFrame and records, per column, its kind, dtype,
missing-value rate, categories and range.  ``to_matrix`` turns the frame into a float64 matrix
(categories become integer codes, datetimes nanoseconds, missing values NaN), and
``from_matrix`` turns any such matrix back into a frame with the original dtypes, category sets,
integer-ness and ranges.  A number column with few distinct values (a survey year, a 1-5
score; :data:`DISCRETE_MAX_VALUES`) is ordinal: the schema lists its values
(``ColumnSchema.discrete_values``) and decoding snaps to the nearest, so no generator's
samples hold a value the column never has.  The schema is small JSON: category levels, the
values of ordinal columns and min/max, never rows.

Column detection and the schema classes are here; the column kinds
(:mod:`synthaug.data.column_kind`), the per-column encode/decode
(:mod:`synthaug.data.column_codec`) and the checks of a saved schema
(:mod:`synthaug.data.saved_schema`) have modules of their own, and the names they give the
rest of synthaug are re-exported here.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from synthaug.data.column_codec import (
    DISCRETE_MAX_VALUES,
    DISCRETE_MIN_ROWS,
    datetime_ints,
    decode_column,
    discrete_values,
    encode_column,
)
from synthaug.data.column_kind import ColumnKind, datetime_resolution
from synthaug.data.saved_schema import (
    check_decodes,
    check_saved_column,
    damaged,
    is_int,
    time_levels,
    time_levels_from_json,
    time_levels_to_json,
)
from synthaug.exceptions import InvalidDataError, ModelFormatError

__all__ = [
    "DISCRETE_MAX_VALUES",
    "DISCRETE_MIN_ROWS",
    "SHARED_BOUND_ROWS",
    "ColumnKind",
    "ColumnSchema",
    "TableSchema",
    "as_frame",
    "check_saved_column",
    "datetime_resolution",
    "discrete_values",
    "shared_bounds",
]

#: a column of unique strings (or a contiguous range of unique integers) with at least this many
#: rows is taken for a row identifier and regenerated, never learned or copied.
IDENTIFIER_MIN_ROWS = 20


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
    #: numbers with few distinct values (see :data:`DISCRETE_MAX_VALUES`): the sorted values
    #: that occur, which is all a sample of the column may hold (decoding snaps to the nearest)
    discrete_values: list[float] | None = None

    @property
    def ordinal(self) -> bool:
        """Whether the column is numbers with few distinct values, sampled only from those."""
        return self.discrete_values is not None

    @property
    def nullable(self) -> bool:
        return self.missing_rate > 0

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["kind"] = self.kind.value
        if out["discrete_values"] is None:  # a column without it saves as before this field
            del out["discrete_values"]
        if self.categories and time_levels(self.categories_dtype):
            out["categories"] = time_levels_to_json(self.categories, str(self.categories_dtype))
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ColumnSchema:
        """Restore a column saved by :meth:`to_dict`, checking every field first.

        A saved model is read from a file that may have been edited, so nothing in it is
        trusted: each field must have its type, the dtype must be one pandas understands and
        that fits the kind, and a few rows must decode (see :func:`check_saved_column`).

        Raises
        ------
        ModelFormatError
            Naming the column and the field that is wrong.
        """
        check_saved_column(data)
        out = {**data, "kind": ColumnKind(data["kind"])}
        if out.get("range_ns") is not None:  # a JSON list
            out["range_ns"] = tuple(int(v) for v in out["range_ns"])
        if out.get("discrete_values") is not None:
            out["discrete_values"] = [float(v) for v in out["discrete_values"]]
        if out.get("categories") and time_levels(out.get("categories_dtype")):
            try:
                out["categories"] = time_levels_from_json(out["categories"],
                                                           out["categories_dtype"])
            except (TypeError, ValueError, OverflowError) as exc:
                raise damaged(data, "categories", f"cannot be read as "
                              f"{out['categories_dtype']} levels ({exc})") from None
        col = cls(**out)
        check_decodes(col)
        return col


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
    def detect(cls, data: Any, *, what: str = "X", bound_rows: int = 1) -> TableSchema:
        """Check ``data`` (DataFrame or 2-D array) and describe each of its columns.

        Parameters
        ----------
        data : DataFrame or 2-D ndarray
            The table.
        what : str
            How the table is named in messages.
        bound_rows : int, default 1
            The range of a number or date column runs from the ``k``-th smallest to the
            ``k``-th largest observed value (see :func:`shared_bounds`), so that each end is
            a value at least ``k`` rows reach.  1 keeps the exact minimum and maximum (what a
            description of the data needs); generators pass :data:`SHARED_BOUND_ROWS`, so a
            saved model never holds the one value a single person has.

        Examples
        --------
        >>> import pandas as pd
        >>> frame = pd.DataFrame({"x": [float(v) for v in range(1000)]})
        >>> col = TableSchema.detect(frame, bound_rows=10).columns[0]
        >>> col.minimum, col.maximum
        (9.0, 990.0)
        """
        frame, container, array_dtype = as_frame(data, what=what)
        columns = tuple(_detect_column(frame[name], name, what, bound_rows)
                        for name in frame.columns)
        return cls(columns, n_rows=len(frame), container=container, array_dtype=array_dtype)

    def clip_to_bounds(self, matrix: np.ndarray) -> np.ndarray:
        """``matrix`` (the layout of :meth:`to_matrix`) with number and date columns clipped to
        their ``minimum``/``maximum``: what a generator learns from, so no part of a model
        (a quantile grid, a mixture, bin edges) holds a value beyond the schema's bounds.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> frame = pd.DataFrame({"x": [float(v) for v in range(1000)]})
        >>> schema = TableSchema.detect(frame, bound_rows=10)
        >>> clipped = schema.clip_to_bounds(schema.to_matrix(frame))
        >>> float(clipped.min()), float(clipped.max())
        (9.0, 990.0)
        """
        out = matrix.copy()
        for j, col in enumerate(self.columns):
            if col.kind.is_continuous and col.minimum is not None and col.maximum is not None:
                out[:, j] = np.clip(out[:, j], col.minimum, col.maximum)  # NaN stays NaN
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "columns": [c.to_dict() for c in self.columns],
            "n_rows": self.n_rows,
            "container": self.container,
            "array_dtype": self.array_dtype,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TableSchema:
        """Restore a schema saved by :meth:`to_dict`; every column is checked on the way.

        Raises
        ------
        ModelFormatError
            When a field is missing or wrong (the message names the column and the field).

        Examples
        --------
        >>> import pandas as pd
        >>> saved = TableSchema.detect(pd.DataFrame({"x": [1.5, 2.5]})).to_dict()
        >>> TableSchema.from_dict(saved).names
        ['x']
        >>> saved["columns"][0]["dtype"] = "banana"
        >>> TableSchema.from_dict(saved)
        Traceback (most recent call last):
        ...
        synthaug.exceptions.ModelFormatError: saved schema: column 'x': dtype 'banana' ...
        """
        if not isinstance(data, Mapping) or not isinstance(data.get("columns"), list) \
                or not data["columns"]:
            raise ModelFormatError("saved schema: 'columns' must be a non-empty list of "
                                   "columns; the saved state is damaged.")
        columns = tuple(ColumnSchema.from_dict(c) for c in data["columns"])
        names = [c.name for c in columns]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ModelFormatError(f"saved schema: columns {dupes} appear twice; the saved "
                                   "state is damaged.")
        n_rows = data.get("n_rows", 0)
        container = data.get("container", "dataframe")
        array_dtype = data.get("array_dtype")
        if not is_int(n_rows) or n_rows < 0:
            raise ModelFormatError(f"saved schema: n_rows must be a whole number >= 0, got "
                                   f"{n_rows!r}; the saved state is damaged.")
        if container not in ("dataframe", "ndarray"):
            raise ModelFormatError(f"saved schema: container must be 'dataframe' or "
                                   f"'ndarray', got {container!r}; the saved state is damaged.")
        if array_dtype is not None:
            try:
                np.dtype(array_dtype)
            except TypeError:
                raise ModelFormatError(f"saved schema: array_dtype {array_dtype!r} is not a "
                                       "numpy dtype; the saved state is damaged.") from None
        return cls(columns, n_rows=int(n_rows), container=str(container),
                   array_dtype=array_dtype)

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
            out[:, j] = encode_column(frame[col.name], col, what)
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
        encoded = float(encode_column(series, col, what)[0])
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
            col.name: decode_column(matrix[:, j], col, rng) for j, col in enumerate(self.columns)
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


#: generators keep numeric bounds that at least this many training rows reach (k = 10: the
#: value of the 10th smallest and 10th largest row), never one person's extreme
SHARED_BOUND_ROWS = 10
#: ... but never pull in more than this share of the rows at either end (small tables keep
#: their exact range: under 200 rows, k is 1)
SHARED_BOUND_MAX_SHARE = 0.01


def shared_bounds(values: np.ndarray, bound_rows: int) -> tuple[float, float]:
    """The ``k``-th smallest and ``k``-th largest of ``values`` (finite, non-empty).

    ``k`` is ``bound_rows``, lowered to at most 1% of the values (at least 1).  Each end is
    then a value that at least ``k`` rows reach or pass: the exact extreme when ``k`` or more
    rows share it (Adult's ``age`` 90, ``capital_gain`` 99999), else a value further in
    (Adult's largest ``fnlwgt`` belongs to one person; the 10th largest is kept instead).

    Examples
    --------
    >>> import numpy as np
    >>> shared_bounds(np.arange(1000.0), 10)
    (9.0, 990.0)
    >>> shared_bounds(np.r_[np.zeros(500), np.full(500, 7.0)], 10)  # shared extremes stay
    (0.0, 7.0)
    >>> shared_bounds(np.arange(50.0), 10)  # a small table keeps its exact range
    (0.0, 49.0)
    """
    n = len(values)
    k = max(1, min(int(bound_rows), int(n * SHARED_BOUND_MAX_SHARE)))
    if k == 1:
        return float(values.min()), float(values.max())
    ordered = np.partition(values, (k - 1, n - k))
    return float(ordered[k - 1]), float(ordered[n - k])


def _detect_column(series: pd.Series, name: str, what: str, bound_rows: int = 1
                   ) -> ColumnSchema:
    dtype = series.dtype
    missing = float(series.isna().mean())
    n = len(series)
    base: dict[str, Any] = {"name": name, "dtype": str(dtype), "missing_rate": missing}
    if isinstance(dtype, pd.CategoricalDtype):
        levels_dtype = str(dtype.categories.dtype)
        if not time_levels(levels_dtype) and not all(
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
        ints, observed = datetime_ints(series, f"{what}[{name!r}]")
        ints = ints[observed]
        resolution = datetime_resolution(ints)
        lo_ns, hi_ns = (ints.min(), ints.max()) if bound_rows <= 1 else (
            np.int64(v) for v in _shared_int_bounds(ints, bound_rows))
        return ColumnSchema(
            kind=ColumnKind.DATETIME,
            minimum=float(lo_ns),
            maximum=float(hi_ns),
            resolution_ns=resolution,
            range_ns=(int(lo_ns), int(hi_ns)),
            **base,
        )
    if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_complex_dtype(dtype):
        is_int = pd.api.types.is_integer_dtype(dtype)
        return _numeric_column(series.to_numpy(dtype=np.float64, na_value=np.nan), name, what,
                               base, allow_identifier=is_int, exact_integers=is_int,
                               bound_rows=bound_rows)
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
                               exact_integers=True, bound_rows=bound_rows)
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
    bound_rows: int = 1,
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
    if bound_rows > 1:
        lo, hi = shared_bounds(finite, bound_rows)
    return ColumnSchema(kind=kind, minimum=lo, maximum=hi,
                        discrete_values=discrete_values(finite, lo, hi), **base)


def _shared_int_bounds(ints: np.ndarray, bound_rows: int) -> tuple[int, int]:
    """:func:`shared_bounds` of int64 nanoseconds, exactly (float64 would round them)."""
    n = len(ints)
    k = max(1, min(int(bound_rows), int(n * SHARED_BOUND_MAX_SHARE)))
    ordered = np.partition(ints, (k - 1, n - k))
    return int(ordered[k - 1]), int(ordered[n - k])


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


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value




def check_same_columns(names: Sequence[str], expected: Sequence[str], what: str) -> None:
    """Raise a clear error when ``names`` are not the ``expected`` columns."""
    missing = [c for c in expected if c not in names]
    extra = [c for c in names if c not in expected]
    if missing or extra:
        raise InvalidDataError(
            f"{what} does not have the expected columns: missing {missing}, unexpected {extra}."
        )

