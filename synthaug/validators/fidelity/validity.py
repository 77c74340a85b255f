"""Validity: does the synthetic data meet an expectation suite derived from the real data?

The suite is a Great Expectations (GX 1.x) ``ExpectationSuite`` built from the real data alone:
column types, numeric and date ranges, allowed categorical values, not-null where the real
column has no missing value, uniqueness where the real column is a key.  :class:`Validity` runs
it on the synthetic data and scores the share of values that meet it;
:func:`expectation_suite` returns the suite itself, for reuse in a GX pipeline.

Great Expectations is a core dependency (1.24 or later, which works with pandas 3 through the
view below).  It is imported only inside the functions that need it (the import takes seconds),
with its usage analytics switched off.

pandas 3 note
-------------
GX 1.24's ``expect_column_values_to_be_in_type_list`` compares a column's pandas dtype with the
types named in the expectation.  No type name matches pandas 3's default string dtype (``str``),
a ``category`` dtype, or a time-zone-aware datetime dtype, so the type check of such a column
fails whatever it holds.  :func:`gx_view` works around it: it hands GX those columns as
``object`` columns of the same values (GX then checks each value's Python type) and tz-aware
datetimes as naive UTC.  Every other expectation gives the same result on the view as on the
original frame.  Validate your own frames through :func:`gx_view` when you reuse the suite.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from synthaug.data.schema import ColumnKind, ColumnSchema, TableSchema, as_frame
from synthaug.exceptions import InvalidParameterError, MissingDependencyError
from synthaug.validators.base import BaseValidator, Score, register_validator

__all__ = ["MissingDependencyError", "Validity", "expectation_suite", "gx_view"]

#: what to install when GX is missing
_GX_HINT = 'pip install "synthaug[gx]"'
#: non-null values in a real column before an all-distinct column counts as a key
_UNIQUE_MIN_ROWS = 20

# Type names understood by GX's pandas type check.  On a typed (non-object) column GX compares
# the dtype with numpy dtypes and pandas extension dtypes of these names; on an object column it
# checks each value with isinstance against the numpy scalar types and the Python types ("int",
# "float", "bool", "str") the names stand for.
_INT_TYPES = [
    "int", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "Int8Dtype", "Int16Dtype", "Int32Dtype", "Int64Dtype",
    "UInt8Dtype", "UInt16Dtype", "UInt32Dtype", "UInt64Dtype",
]
_FLOAT_TYPES = ["float", "float16", "float32", "float64", "Float32Dtype", "Float64Dtype"]
_BOOL_TYPES = ["bool", "BooleanDtype"]
_DATETIME_TYPES = [
    "datetime64[s]", "datetime64[ms]", "datetime64[us]", "datetime64[ns]", "Timestamp",
]
_TEXT_TYPES = ["str"]


def _import_gx() -> Any:
    """Import Great Expectations with its usage analytics off; a clear error when missing."""
    # GX reads this when a context has no explicit setting; the contexts made here also set
    # analytics_enabled=False in their config, so no event is sent whatever the environment
    # says.  (GX 1.24 ships no analytics client at all; this guards other 1.x releases.)
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    try:
        import great_expectations as gx
    except ImportError as exc:
        raise MissingDependencyError(
            f"fidelity.validity needs Great Expectations 1.x, which is not installed ({exc}). "
            f"Install it with: {_GX_HINT}"
        ) from None
    major = str(getattr(gx, "__version__", "0")).split(".")[0]
    if major != "1":
        raise MissingDependencyError(
            f"fidelity.validity needs Great Expectations 1.x, found {gx.__version__}. "
            f"Install a supported release with: {_GX_HINT}"
        )
    return gx


# -- the view GX validates ---------------------------------------------------------------------
def gx_view(data: Any) -> pd.DataFrame:
    """``data`` as a DataFrame that GX 1.x type-checks correctly under pandas 3.

    String (``str``/``string``) and ``category`` columns become ``object`` columns of the same
    values, and time-zone-aware datetimes become naive UTC; other columns are passed through
    untouched (no copy of their data).  See the module notes for why.

    Parameters
    ----------
    data : DataFrame or 2-D ndarray

    Returns
    -------
    DataFrame

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"c": pd.Categorical(["a", "b"]), "x": [1.0, 2.0]})
    >>> [str(t) for t in gx_view(frame).dtypes]
    ['object', 'float64']
    """
    frame, _, _ = as_frame(data, what="data")
    columns: dict[str, pd.Series] = {}
    for name in frame.columns:
        series = frame[name]
        dtype = series.dtype
        if isinstance(dtype, pd.DatetimeTZDtype):
            series = series.dt.tz_convert(None)
        elif isinstance(dtype, (pd.CategoricalDtype, pd.StringDtype)):
            series = series.astype(object)
        columns[name] = series
    return pd.DataFrame(columns, index=frame.index)


# -- deriving the suite ------------------------------------------------------------------------
def _plain(value: Any) -> Any:
    """A JSON-friendly Python scalar: numpy -> Python, NaN -> None, dates -> ISO text."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, (pd.Timestamp, np.datetime64)):
        return pd.Timestamp(value).isoformat()
    if isinstance(value, (str, bool, int, float)):
        return value
    return str(value)


def _type_list(series: pd.Series, col: ColumnSchema) -> list[str] | None:
    """The GX type names a synthetic column may have, judged by the real column (None: skip)."""
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):  # gx_view turns it into object: check values
        inferred = pd.api.types.infer_dtype(dtype.categories, skipna=True)
        return {
            "string": _TEXT_TYPES, "integer": _INT_TYPES, "floating": _FLOAT_TYPES,
            "mixed-integer-float": _INT_TYPES + _FLOAT_TYPES, "boolean": _BOOL_TYPES,
            "datetime64": _DATETIME_TYPES, "datetime": _DATETIME_TYPES,
        }.get(inferred)
    if pd.api.types.is_bool_dtype(dtype) or col.kind is ColumnKind.BOOLEAN:
        return _BOOL_TYPES
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return _DATETIME_TYPES
    if pd.api.types.is_integer_dtype(dtype):
        return _INT_TYPES
    if pd.api.types.is_float_dtype(dtype):
        # whole numbers with gaps are float64 in pandas: an integer dtype is as valid for them
        return _INT_TYPES + _FLOAT_TYPES if col.kind is ColumnKind.INTEGER else _FLOAT_TYPES
    if col.kind in (ColumnKind.NUMERICAL, ColumnKind.INTEGER):  # numbers in an object column
        return _INT_TYPES + _FLOAT_TYPES
    if col.kind in (ColumnKind.CATEGORICAL, ColumnKind.IDENTIFIER):
        return _TEXT_TYPES
    return None


def _is_key(series: pd.Series, col: ColumnSchema) -> bool:
    """Whether a real column looks like a key: an identifier, or distinct whole numbers or text.

    Continuous numbers and timestamps are left out: their values are distinct by nature, and a
    generator that repeats one is not producing invalid data.
    """
    if col.kind is ColumnKind.IDENTIFIER:
        return True
    if col.kind not in (ColumnKind.INTEGER, ColumnKind.CATEGORICAL):
        return False
    present = series.dropna()
    return len(present) >= _UNIQUE_MIN_ROWS and bool(present.is_unique)


def _spec(kind: str, column: str | None, mostly: float, **kwargs: Any) -> dict[str, Any]:
    """One expectation as a plain dict (GX's configuration form)."""
    out: dict[str, Any] = {} if column is None else {"column": column}
    out.update(kwargs)
    if mostly < 1.0 and kind.startswith("expect_column_values_"):  # map expectations only
        out["mostly"] = mostly
    return {"type": kind, "kwargs": out}


def _derive_specs(
    real: pd.DataFrame,
    view: pd.DataFrame,
    schema: TableSchema,
    *,
    range_tolerance: float,
    max_levels: int,
    mostly: float,
    check_unique: bool,
) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """Expectations (as dicts) that the real data meets, and the checks left out, with why.

    Types are judged from the real columns as given (``real``), values from their
    :func:`gx_view` (``view``), which is what GX will see of the synthetic data.  Levels are
    read from the values, never from ``schema`` (whose category lists may hold levels seen only
    in the synthetic data).
    """
    specs = [_spec("expect_table_columns_to_match_set", None, mostly,
                   column_set=list(real.columns), exact_match=True)]
    skipped: list[dict[str, str]] = []
    for col in schema.columns:
        name = col.name
        if not isinstance(name, str) or not name.strip():
            # GX addresses columns by a non-empty text name; it refuses '' or 0 outright
            skipped.append({"column": str(name), "check": "all",
                            "why": "Great Expectations needs a non-empty text column name"})
            continue
        series = view[name]
        if col.kind is ColumnKind.EMPTY:
            specs.append(_spec("expect_column_values_to_be_null", name, mostly))
            continue
        types = _type_list(real[name], col)
        if types is None:
            skipped.append({"column": name, "check": "type", "why": f"dtype {real[name].dtype}"})
        else:
            specs.append(_spec("expect_column_values_to_be_in_type_list", name, mostly,
                               type_list=types))
        if not series.isna().any():
            specs.append(_spec("expect_column_values_to_not_be_null", name, mostly))
        if col.kind in (ColumnKind.NUMERICAL, ColumnKind.INTEGER, ColumnKind.DATETIME):
            bounds = _range_spec(series, col, range_tolerance, mostly)
            if bounds is None:
                skipped.append({"column": name, "check": "range",
                                "why": "dates span all that a Timestamp can hold"})
            else:
                specs.append(bounds)
        elif col.kind is ColumnKind.CATEGORICAL:
            levels = pd.unique(np.asarray(series.dropna(), dtype=object))
            if len(levels) > max_levels:
                skipped.append({"column": name, "check": "allowed values",
                                "why": f"{len(levels)} levels > max_levels={max_levels}"})
            else:
                value_set = sorted((_plain(v) for v in levels), key=lambda v: (str(type(v)), v))
                specs.append(_spec("expect_column_values_to_be_in_set", name, mostly,
                                   value_set=value_set))
        if check_unique and _is_key(series, col):
            specs.append(_spec("expect_column_values_to_be_unique", name, mostly))
    return specs, skipped


def _range_spec(
    series: pd.Series, col: ColumnSchema, tolerance: float, mostly: float
) -> dict[str, Any] | None:
    present = series.dropna()
    if col.kind is ColumnKind.DATETIME:
        lo_ts, hi_ts = pd.Timestamp(present.min()), pd.Timestamp(present.max())
        low: str | None = lo_ts.isoformat()
        high: str | None = hi_ts.isoformat()
        try:
            # in integer nanoseconds (a Timedelta overflows for ranges over ~292 years), rounded
            # out to whole microseconds, since GX parses the bounds at microsecond precision; an
            # end that leaves what a Timestamp holds is left open
            lo_ns, hi_ns = int(lo_ts.value), int(hi_ts.value)
            margin = int((hi_ns - lo_ns) * tolerance)
            lo_us, hi_us = (lo_ns - margin) // 1000, -((-(hi_ns + margin)) // 1000)
            low = (pd.Timestamp(lo_us * 1000).isoformat()
                   if lo_us * 1000 >= pd.Timestamp.min.value else None)
            high = (pd.Timestamp(hi_us * 1000).isoformat()
                    if hi_us * 1000 <= pd.Timestamp.max.value else None)
        except (OverflowError, ValueError):
            pass  # dates beyond nanosecond range: the observed range, without a margin
        if low is None and high is None:
            return None  # GX refuses a range open at both ends; there is nothing to check
        # ISO text keeps the suite JSON; GX compares a datetime column with it as a date
        return _spec("expect_column_values_to_be_between", col.name, mostly,
                     min_value=low, max_value=high)
    numbers = pd.to_numeric(present)
    lo, hi = _plain(numbers.min()), _plain(numbers.max())
    if tolerance > 0:
        pad = (float(hi) - float(lo)) * tolerance
        lo, hi = float(lo) - pad, float(hi) + pad
    return _spec("expect_column_values_to_be_between", col.name, mostly,
                 min_value=lo, max_value=hi)


def _check_suite_params(range_tolerance: float, max_levels: int, mostly: float) -> None:
    if not isinstance(range_tolerance, (int, float)) or isinstance(range_tolerance, bool) or \
            not 0.0 <= range_tolerance < math.inf:
        raise InvalidParameterError(
            f"range_tolerance must be a finite number >= 0 (a share of the real range added "
            f"on each side), got {range_tolerance!r}."
        )
    if not isinstance(max_levels, int) or isinstance(max_levels, bool) or max_levels < 1:
        raise InvalidParameterError(f"max_levels must be a positive integer, got {max_levels!r}.")
    if not isinstance(mostly, (int, float)) or isinstance(mostly, bool) or not 0.0 < mostly <= 1.0:
        raise InvalidParameterError(
            f"mostly must be within (0, 1] (the share of values an expectation needs to "
            f"succeed), got {mostly!r}."
        )


def expectation_suite(
    real: Any,
    *,
    name: str = "synthaug-derived",
    range_tolerance: float = 0.0,
    max_levels: int = 100,
    mostly: float = 1.0,
    check_unique: bool = True,
) -> Any:
    """A Great Expectations ``ExpectationSuite`` that the real data meets.

    Per column (in the real column order, after one table-level expectation that the column
    names match): its type; not-null when the real column has no missing value; values
    between the real minimum and maximum (numbers and dates, widened by ``range_tolerance``);
    values in the real set of levels (categorical columns with at most ``max_levels`` levels);
    unique values when the real column is a key (an identifier, or distinct whole numbers or
    text in at least 20 rows); all-null for an all-missing column.

    The suite belongs to no Data Context.  Add it to yours with ``context.suites.add(suite)``
    and validate batches of :func:`gx_view` frames (see the module notes on pandas 3).

    Parameters
    ----------
    real : DataFrame or 2-D ndarray
        The real data.
    name : str, default "synthaug-derived"
        The suite's name.
    range_tolerance : float, default 0.0
        Widen each numeric or date range by this share of its width on both sides.
    max_levels : int, default 100
        Categorical columns with more levels get no allowed-values expectation.
    mostly : float, default 1.0
        GX's ``mostly``: the share of a column's values an expectation needs to succeed.
    check_unique : bool, default True
        Add uniqueness expectations for key-like columns.

    Returns
    -------
    great_expectations.ExpectationSuite

    Raises
    ------
    MissingDependencyError
        When Great Expectations 1.x is not installed (``pip install "synthaug[gx]"``).

    Examples
    --------
    Skipped as doctests: importing Great Expectations takes seconds.

    >>> import pandas as pd
    >>> real = pd.DataFrame({"age": [30, 41, 25], "sex": ["F", "M", "F"]})
    >>> suite = expectation_suite(real)  # doctest: +SKIP
    >>> [e.expectation_type for e in suite.expectations][-4:]  # doctest: +SKIP
    ['expect_column_values_to_be_between', 'expect_column_values_to_be_in_type_list',
     'expect_column_values_to_not_be_null', 'expect_column_values_to_be_in_set']
    """
    _check_suite_params(range_tolerance, max_levels, mostly)
    if not isinstance(name, str) or not name:
        raise InvalidParameterError(f"name must be a non-empty string, got {name!r}.")
    frame, _, _ = as_frame(real, what="real")
    schema = TableSchema.detect(frame, what="real")
    specs, _ = _derive_specs(frame, gx_view(frame), schema, range_tolerance=range_tolerance,
                             max_levels=max_levels, mostly=mostly, check_unique=check_unique)
    gx = _import_gx()
    return gx.ExpectationSuite(name=name, expectations=specs)


# -- running it --------------------------------------------------------------------------------
def _validate(gx: Any, suite: Any, frame: pd.DataFrame, n_values: int) -> Any:
    """Validate ``frame`` against ``suite`` in a fresh in-memory GX context; no files written.

    GX resolves suites through a process-wide "current" context, which ``get_context`` replaces;
    the caller's current context (if any) is put back afterwards, so a user's own GX project is
    left as it was.  Not safe to run from two threads at once.
    """
    from great_expectations.data_context.data_context.context_factory import project_manager
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )
    from great_expectations.exceptions import DataContextRequiredError

    try:
        previous = project_manager.get_current_project()
    except DataContextRequiredError:
        previous = None
    config = DataContextConfig(
        # in-memory stores and no data-docs site: nothing is written to disk
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
    )
    try:
        context = gx.get_context(mode="ephemeral", project_config=config)
        batch = (
            context.data_sources.add_pandas("synthaug")
            .add_dataframe_asset("synthetic")
            .add_batch_definition_whole_dataframe("all rows")
            .get_batch(batch_parameters={"dataframe": frame})
        )
        return batch.validate(
            suite, result_format={"result_format": "BASIC", "partial_unexpected_count": n_values}
        )
    finally:
        project_manager.set_project(previous)


def _exception(info: Any) -> str | None:
    """The error message GX recorded for an expectation, or None."""
    if not isinstance(info, Mapping):
        return None
    if "raised_exception" in info:
        return str(info.get("exception_message")) if info.get("raised_exception") else None
    for value in info.values():  # keyed by metric when a metric failed
        message = _exception(value)
        if message:
            return message
    return None


def _outcome(spec: Mapping[str, Any], result: Any, n_values: int) -> dict[str, Any]:
    """One expectation's result in plain JSON types."""
    kwargs = dict(spec["kwargs"])
    column = kwargs.pop("column", None)
    out: dict[str, Any] = {"expectation": spec["type"], "column": column}
    if result is None:
        out.update(success=None, success_fraction=None, error="GX returned no result")
        return out
    error = _exception(result.exception_info)
    found = dict(result.result or {})
    percent = found.get("unexpected_percent")
    if error:
        fraction = None
    elif percent is not None and not math.isnan(float(percent)):
        fraction = 1.0 - float(percent) / 100.0
    else:  # aggregate expectations (a dtype check, the column set): all or nothing
        fraction = 1.0 if result.success else 0.0
    out.update(
        success=bool(result.success) if not error else None,
        success_fraction=fraction,
        unexpected_percent=_plain(percent),
        unexpected_count=_plain(found.get("unexpected_count")),
        element_count=_plain(found.get("element_count")),
        unexpected_values=[_plain(v) for v in found.get("partial_unexpected_list", [])][:n_values],
    )
    if "observed_value" in found:
        observed = found["observed_value"]
        out["observed_value"] = (
            [_plain(v) for v in observed] if isinstance(observed, (list, tuple)) else
            _plain(observed)
        )
    # value sets and type lists are in the suite; repeat only the short arguments here
    out["kwargs"] = {k: _plain(v) for k, v in kwargs.items() if not isinstance(v, list)}
    if error:
        out["error"] = error[:300]
    return out


@register_validator("fidelity.validity")
class Validity(BaseValidator):
    """Share of synthetic values meeting an expectation suite derived from the real data (GX).

    :func:`expectation_suite` builds a Great Expectations suite from the real data (types,
    ranges, allowed levels, not-null, uniqueness; see there), and GX 1.x validates the synthetic
    data against it in an in-memory context (no files, no project folder, analytics off).

    The value is the mean over expectations of each one's success fraction: the share of the
    values it checks that meet it (``1 - unexpected_percent / 100``, GX counting non-missing
    values except in null checks), or 1/0 for all-or-nothing expectations (a column's dtype,
    the column set).  One out-of-range value among 30,000 then costs a little, not a whole
    expectation.  The share of expectations met outright (GX's ``success``, which honours
    ``mostly``) is in the details as ``share_met``.  1.0 means every check passed on every
    value.  Expectations GX could not evaluate (an error inside GX) are listed under
    ``errors`` and left out of both figures.

    Requires the ``gx`` extra (``pip install "synthaug[gx]"``); without it, ``score`` raises
    :class:`MissingDependencyError`, an ``ImportError``, so a suite entry marked
    ``optional = true`` is skipped.  Great Expectations takes a few seconds to import.

    Parameters
    ----------
    range_tolerance : float, default 0.0
        Widen each real numeric or date range by this share of its width on both sides.
    max_levels : int, default 100
        Categorical columns with more real levels get no allowed-values expectation.
    mostly : float, default 1.0
        GX's ``mostly`` for the column-value expectations (affects ``share_met`` only).
    check_unique : bool, default True
        Expect key-like columns (identifiers, distinct integers or text) to stay unique.
    max_unexpected_values : int, default 5
        Unexpected values kept per expectation in the details.

    Notes
    -----
    Details: ``n_expectations``, ``n_met``, ``share_met``, ``failed`` (the failing
    expectations, worst first), ``expectations`` (every expectation: ``expectation``,
    ``column``, ``kwargs`` (short arguments), ``success``, ``success_fraction``,
    ``unexpected_percent``, ``unexpected_count``, ``element_count``, ``unexpected_values``,
    ``observed_value`` where GX reports one), ``skipped`` (checks left out, with why),
    ``errors``, ``suite`` (the suite as GX JSON; rebuild it with
    ``great_expectations.ExpectationSuite(**suite)``) and ``gx_version``.

    Examples
    --------
    Skipped as doctests: importing Great Expectations takes seconds.  The missing age turns
    the synthetic column into floats, so its type check fails too.

    >>> import pandas as pd
    >>> real = pd.DataFrame({"age": [30, 41, 25, 52], "sex": ["F", "M", "F", "M"]})
    >>> synthetic = pd.DataFrame({"age": [33, 140, 29, None], "sex": ["F", "M", "X", "M"]})
    >>> score = Validity().score(real, synthetic)  # doctest: +SKIP
    >>> sorted((f["expectation"], f["column"]) for f in score.details["failed"])  # doctest: +SKIP
    [('expect_column_values_to_be_between', 'age'), ('expect_column_values_to_be_in_set', 'sex'),
     ('expect_column_values_to_be_in_type_list', 'age'),
     ('expect_column_values_to_not_be_null', 'age')]
    >>> round(score.value, 4), round(score.details["share_met"], 4)  # doctest: +SKIP
    (0.7381, 0.4286)
    """

    category = "fidelity"
    direction = "higher"

    def __init__(
        self,
        *,
        range_tolerance: float = 0.0,
        max_levels: int = 100,
        mostly: float = 1.0,
        check_unique: bool = True,
        max_unexpected_values: int = 5,
    ) -> None:
        self.range_tolerance = range_tolerance
        self.max_levels = max_levels
        self.mostly = mostly
        self.check_unique = check_unique
        self.max_unexpected_values = max_unexpected_values

    def score(
        self,
        real: Any,
        synthetic: Any,
        *,
        holdout: Any = None,
        context: Mapping[str, Any] | None = None,
    ) -> Score:
        _check_suite_params(self.range_tolerance, self.max_levels, self.mostly)
        n_values = self.max_unexpected_values
        if not isinstance(n_values, int) or isinstance(n_values, bool) or n_values < 0:
            raise InvalidParameterError(
                f"max_unexpected_values must be an integer >= 0, got {n_values!r}."
            )
        # the shared checks first (same columns, no dtype drift, not empty): the same inputs
        # are refused here as by every other validator, and before the slow GX import
        tables = self._prepare(real, synthetic, context=context)
        real_frame, _, _ = as_frame(real, what="real")
        specs, skipped = _derive_specs(
            real_frame, gx_view(real_frame), tables.schema, range_tolerance=self.range_tolerance,
            max_levels=self.max_levels, mostly=self.mostly, check_unique=self.check_unique,
        )
        gx = _import_gx()
        suite = gx.ExpectationSuite(name="synthaug-derived", expectations=specs)
        result = _validate(gx, suite, gx_view(synthetic), n_values)
        by_key = {
            (r.expectation_config.type, r.expectation_config.kwargs.get("column")): r
            for r in result.results
        }
        outcomes = [
            _outcome(spec, by_key.get((spec["type"], spec["kwargs"].get("column"))), n_values)
            for spec in specs
        ]
        scored = [o for o in outcomes if o["success_fraction"] is not None]
        value = float(np.mean([o["success_fraction"] for o in scored])) if scored else math.nan
        n_met = sum(bool(o["success"]) for o in scored)
        failed = sorted((o for o in scored if not o["success"] or o["success_fraction"] < 1.0),
                        key=lambda o: o["success_fraction"])
        details = {
            "n_expectations": len(scored),
            "n_met": n_met,
            "share_met": n_met / len(scored) if scored else None,
            "failed": failed,
            "expectations": outcomes,
            "skipped": skipped,
            "errors": [{"expectation": o["expectation"], "column": o["column"],
                        "error": o.get("error")} for o in outcomes
                       if o["success_fraction"] is None],
            "suite": _suite_json(suite),
            "gx_version": str(gx.__version__),
        }
        return self._score(value, details=details)


def _suite_json(suite: Any) -> dict[str, Any]:
    """The suite as GX's JSON dict, with GX's own id and run metadata left out."""
    data = dict(suite.to_json_dict())
    data.pop("id", None)
    return {str(k): v for k, v in data.items()}
