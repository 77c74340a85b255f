"""Tabular inputs of validators: checked against the real data's schema, encoded once.

:func:`prepare_tables` checks ``real``, ``synthetic`` and ``holdout`` against the real data's
schema (same columns, no dtype drift, not empty) and returns float matrices in the layout of
:meth:`TableSchema.to_matrix` (categorical codes, datetimes as nanoseconds, NaN for missing):
the :class:`~synthaug.data.modality.Prepared` view every tabular validator computes on.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from synthaug.data.modality import Prepared
from synthaug.data.schema import ColumnKind, ColumnSchema, TableSchema, as_frame, check_same_columns
from synthaug.exceptions import InvalidDataError

__all__ = ["IGNORED_KINDS", "has_comparable_columns", "prepare_tables"]

#: kinds whose encoded values carry no information about the data (ids are regenerated; an empty
#: column is all NaN), so no validator compares them.
IGNORED_KINDS = (ColumnKind.IDENTIFIER, ColumnKind.EMPTY)


def has_comparable_columns(real: pd.DataFrame) -> bool:
    """Whether ``real`` has a column validators compare (not only ids or all-missing ones)."""
    schema = TableSchema.detect(real, what="real")
    return any(c.kind not in IGNORED_KINDS for c in schema.columns)


def prepare_tables(
    real: Any,
    synthetic: Any,
    holdout: Any = None,
    *,
    validator: str,
    require_holdout: bool = False,
) -> Prepared:
    """Check the inputs of a tabular validator and encode them in one layout.

    Parameters
    ----------
    real, synthetic : DataFrame or 2-D ndarray
        The real (training) data and the synthetic data to score.
    holdout : DataFrame or 2-D ndarray, optional
        Real rows the generator never saw.
    validator : str
        The validator's name, used in error messages.
    require_holdout : bool
        Raise when ``holdout`` is missing.

    Returns
    -------
    Prepared

    Raises
    ------
    InvalidDataError
        When the synthetic data is empty, a table's columns differ from the real data's, a
        column's type drifted (numbers in the real data, text in the synthetic, ...), the holdout
        is missing but required, or no column is left to compare.

    Examples
    --------
    >>> import pandas as pd
    >>> real = pd.DataFrame({"x": [1.0, 2.0], "c": ["a", "b"]})
    >>> tables = prepare_tables(real, real, validator="demo")
    >>> tables.synthetic.tolist()
    [[1.0, 0.0], [2.0, 1.0]]
    """
    if holdout is None and require_holdout:
        raise InvalidDataError(
            f"{validator} needs a holdout: real rows from the same source that the generator "
            "never saw, with the real data's columns. Pass it as score(real, synthetic, "
            "holdout=...); keep it out of the generator's training data."
        )
    _check_not_empty(synthetic, "synthetic", validator)
    if holdout is not None:
        _check_not_empty(holdout, "holdout", validator)
    real_frame, _, _ = as_frame(real, what="real")
    schema = TableSchema.detect(real_frame, what="real")
    others: dict[str, pd.DataFrame] = {"synthetic": _aligned(synthetic, schema, "synthetic",
                                                              validator)}
    if holdout is not None:
        others["holdout"] = _aligned(holdout, schema, "holdout", validator)
    columns = tuple(j for j, c in enumerate(schema.columns) if c.kind not in IGNORED_KINDS)
    if not columns:
        raise InvalidDataError(
            f"{validator}: the real data has no column to compare (only identifier or "
            f"all-missing columns: {schema.names})."
        )
    schema, unseen = _widen_categories(schema, others)
    matrices: dict[str, np.ndarray] = {"real": schema.to_matrix(real_frame, what="real")}
    for what, frame in others.items():
        try:
            matrices[what] = schema.to_matrix(frame, what=what)
        except InvalidDataError as exc:  # keep the cause, say which validator tripped
            raise InvalidDataError(f"{validator}: {exc}") from None
    return Prepared(
        schema=schema,
        real=matrices["real"],
        synthetic=matrices["synthetic"],
        holdout=matrices.get("holdout"),
        columns=columns,
        unseen_levels=unseen,
    )


def _check_not_empty(data: Any, what: str, validator: str) -> None:
    shape = getattr(data, "shape", None)
    if shape is not None and len(shape) >= 1 and shape[0] == 0:
        raise InvalidDataError(
            f"{validator}: the {what} data is empty (0 rows), so there is nothing to score. "
            f"Check how the {what} rows were made (for example sample(n) with n > 0)."
        )


def _aligned(data: Any, schema: TableSchema, what: str, validator: str) -> pd.DataFrame:
    """``data`` as a frame with the real columns, in the real order, and the same column types."""
    frame, _, _ = as_frame(data, what=what)
    try:
        check_same_columns(list(frame.columns), schema.names, what)
    except InvalidDataError as exc:
        raise InvalidDataError(
            f"{validator}: {exc} The {what} data must have the real data's columns "
            f"({len(schema.names)}: {schema.names[:10]}{' ...' if len(schema.names) > 10 else ''})."
        ) from None
    frame = frame[schema.names]
    # Types are compared by family rather than raw dtype: int64 vs float64, object vs category
    # or bool vs boolean are harmless, but numbers that became text are not (to_matrix would
    # quietly turn them into NaN).  pandas' C type inference keeps this check cheap.
    for col in schema.columns:
        if col.kind in IGNORED_KINDS:
            continue
        expected, found = _family(col), _series_family(frame[col.name])
        if expected is None or found is None or expected == found:
            continue
        if {expected, found} <= {"categorical", "numeric", "text"} and "categorical" in (
            expected, found
        ):
            continue  # a pandas Categorical of numbers or text: the codes are checked later
        raise InvalidDataError(
            f"{validator}: {what}[{col.name!r}] holds {found} values (dtype "
            f"{frame[col.name].dtype}) but the real column holds {expected} values (dtype "
            f"{col.dtype}): the column's type drifted. Convert it back, for example "
            f"{what}[{col.name!r}] = {what}[{col.name!r}].astype({col.dtype!r})."
        )
    return frame


def _series_family(series: pd.Series) -> str | None:
    """The coarse type of a column's values, like :func:`_family`; None when all missing."""
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        inferred = pd.api.types.infer_dtype(dtype.categories, skipna=True)
        return "text" if inferred == "string" else "categorical"
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if pd.api.types.is_numeric_dtype(dtype):
        return "numeric" if series.notna().any() else None
    inferred = pd.api.types.infer_dtype(series, skipna=True)
    return _INFERRED.get(inferred, inferred)


#: pandas' inferred value types -> the families of :func:`_family`; others ("mixed", ...) are
#: reported as they are
_INFERRED: dict[str, str | None] = {
    "empty": None,
    "string": "text",
    "integer": "numeric",
    "floating": "numeric",
    "mixed-integer-float": "numeric",
    "decimal": "numeric",
    "boolean": "boolean",
    "datetime": "datetime",
    "datetime64": "datetime",
    "date": "datetime",
}


def _family(col: ColumnSchema) -> str | None:
    """A coarse type of a column's values, for dtype-drift checks; None when all missing."""
    kind = col.kind
    if kind is ColumnKind.EMPTY:
        return None
    if kind is ColumnKind.DATETIME:
        return "datetime"
    if kind is ColumnKind.BOOLEAN:
        return "boolean"
    if kind in (ColumnKind.NUMERICAL, ColumnKind.INTEGER):
        return "numeric"
    if kind is ColumnKind.IDENTIFIER:
        return "numeric" if col.minimum is not None else "text"
    if all(isinstance(c, str) for c in col.categories or []):
        return "text"
    return "categorical"


def _widen_categories(
    schema: TableSchema, others: Mapping[str, pd.DataFrame]
) -> tuple[TableSchema, dict[str, int]]:
    """Append categorical levels seen only in the synthetic or holdout data to the schema.

    A level the real data lacks is a fidelity finding (or, in a holdout, a rare real level), not
    an input error: it gets its own code, after the real codes, so every validator can count it.
    """
    columns = list(schema.columns)
    unseen: dict[str, int] = {}
    changed = False
    for j, col in enumerate(schema.columns):
        if col.kind is not ColumnKind.CATEGORICAL:
            continue
        known = list(col.categories or [])
        seen = set(known)
        as_text = all(isinstance(c, str) for c in known)
        new: list[Any] = []
        for what, frame in others.items():
            series = frame[col.name]
            present = series[series.notna()]
            if as_text and not isinstance(series.dtype, pd.CategoricalDtype):
                present = present.astype(str)
            fresh = [v for v in pd.unique(np.asarray(present, dtype=object)) if v not in seen]
            if what == "synthetic" and fresh:
                unseen[col.name] = int(present.isin(fresh).sum())
            seen.update(fresh)
            new.extend(fresh)
        if new:
            columns[j] = dataclasses.replace(col, categories=known + sorted(new, key=str))
            changed = True
    if not changed:
        return schema, unseen
    widened = TableSchema(
        tuple(columns),
        n_rows=schema.n_rows,
        container=schema.container,
        array_dtype=schema.array_dtype,
    )
    return widened, unseen
