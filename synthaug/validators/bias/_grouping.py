"""Shared plumbing of the bias validators: sensitive groups, the outcome, parameter checks.

Every bias validator reads its inputs the same way:

* :func:`resolve_sensitive` takes the sensitive column names from the validator's ``sensitive``
  parameter or, when that is not set, from ``context["sensitive"]`` (what a suite passes).
* :func:`build_groupings` turns each sensitive column, and their intersections, into integer
  group codes per row of the real, synthetic and holdout tables, with one shared list of readable
  group labels.  Groups are read from the encoded matrices of
  :meth:`~synthaug.validators.base.BaseValidator._prepare`, so ``1`` in one table and ``1.0`` in
  another are the same group, and a missing value is a group of its own, labelled
  :data:`MISSING`.
* :func:`resolve_outcome` reads the target column as a per-row outcome: the indicator of a
  positive class (binary or categorical targets) or the value itself (numerical targets).
"""

from __future__ import annotations

import difflib
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from synthaug.data.modality import Prepared
from synthaug.data.schema import ColumnKind, ColumnSchema
from synthaug.exceptions import InvalidDataError, InvalidParameterError

__all__ = [
    "MISSING",
    "Grouping",
    "Outcome",
    "build_groupings",
    "check_intersections",
    "check_sensitive_param",
    "normal_interval",
    "resolve_outcome",
    "resolve_sensitive",
    "resolve_target",
]

#: the label of the group of rows whose sensitive value is missing
MISSING = "(missing)"
#: separates the levels of an intersection group ("Female & Black") and the column names of an
#: intersection ("sex & race")
AND = " & "
#: two-sided 95% normal quantile, for the approximate intervals
Z95 = 1.959963984540054

Intersections = Literal["full", "pairs", "none"]
_TABLES = ("real", "synthetic", "holdout")


# -- parameter checks --------------------------------------------------------------------------
def check_intersections(value: Any) -> None:
    """Raise unless ``value`` is one of "full", "pairs", "none"."""
    if value not in ("full", "pairs", "none"):
        raise InvalidParameterError(
            f"intersections must be 'full', 'pairs' or 'none', got {value!r}."
        )


def check_sensitive_param(value: Any) -> None:
    """Raise unless ``value`` is None, a string (``"sex,race"``) or a sequence of strings."""
    if value is None or isinstance(value, str):
        return
    if isinstance(value, Sequence) and all(isinstance(v, str) for v in value):
        return
    raise InvalidParameterError(
        f"sensitive must be a column name, a comma-separated string of names or a list of "
        f"names, got {value!r}."
    )


# -- sensitive columns -------------------------------------------------------------------------
def resolve_sensitive(
    param: str | Sequence[str] | None, context: Mapping[str, Any] | None, validator: str
) -> tuple[str, ...]:
    """The sensitive column names: ``param`` when set, else ``context["sensitive"]``.

    Raises
    ------
    InvalidDataError
        When no sensitive column is given either way.

    Examples
    --------
    >>> resolve_sensitive(None, {"sensitive": ("sex", "race")}, "demo")
    ('sex', 'race')
    >>> resolve_sensitive("sex, race", {"sensitive": ("age",)}, "demo")
    ('sex', 'race')
    """
    raw: Any = param if param is not None else (context or {}).get("sensitive")
    if raw is None:
        raw = ()
    items = raw.split(",") if isinstance(raw, str) else list(raw)
    names = tuple(dict.fromkeys(str(c).strip() for c in items if str(c).strip()))
    if not names:
        raise InvalidDataError(
            f"{validator} needs at least one sensitive column (sex, race, age group, ...) and "
            "none was given. Pass sensitive=[...] to Suite.run (--sensitive on the command "
            "line), or the validator's sensitive= parameter."
        )
    return names


def resolve_target(
    param: str | None, context: Mapping[str, Any] | None, validator: str
) -> str:
    """The target column name: ``param`` when set, else ``context["target"]``."""
    target = param if param is not None else (context or {}).get("target")
    if target is None or (isinstance(target, str) and not target.strip()):
        raise InvalidDataError(
            f"{validator} needs a target (outcome) column and none was given. Pass target=... "
            "to Suite.run (--target on the command line), or the validator's target= parameter."
        )
    return str(target)


def _column_index(tables: Prepared, name: str, role: str, validator: str) -> int:
    names = tables.schema.names
    if name in names:
        return names.index(name)
    close = difflib.get_close_matches(name, names, n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise InvalidDataError(
        f"{validator}: {role} column {name!r} is not a column of the real data.{hint} Its "
        f"columns are {names[:20]}{' ...' if len(names) > 20 else ''}."
    )


# -- groups ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Grouping:
    """One way of splitting rows into groups: a sensitive column, or an intersection of several.

    ``codes[what]`` holds each row's group number (an index into ``labels``) for ``what`` in
    "real", "synthetic" and, when given, "holdout".  Groups are numbered by decreasing real
    count, so reports list the largest groups first.
    """

    name: str
    columns: tuple[str, ...]
    labels: tuple[str, ...]
    codes: Mapping[str, np.ndarray]

    @property
    def n_groups(self) -> int:
        """How many groups appear in any of the tables."""
        return len(self.labels)

    def counts(self, what: str, mask: np.ndarray | None = None) -> np.ndarray:
        """Rows per group in table ``what`` (only rows where ``mask`` is true, when given)."""
        codes = self.codes[what] if mask is None else self.codes[what][mask]
        return np.bincount(codes, minlength=self.n_groups)

    def by_label(self, values: np.ndarray, keep: np.ndarray) -> dict[str, Any]:
        """``{label: value}`` for the groups where ``keep`` is true, as plain Python numbers."""
        return {self.labels[g]: _plain(values[g]) for g in np.flatnonzero(keep)}


def _plain(value: Any) -> Any:
    if isinstance(value, (np.integer, int)) and not isinstance(value, bool):
        return int(value)
    return float(value)


def build_groupings(
    tables: Prepared,
    sensitive: Sequence[str],
    *,
    max_groups: int,
    intersections: Intersections,
    validator: str,
    exclude: Sequence[str] = (),
) -> list[Grouping]:
    """One :class:`Grouping` per sensitive column, then their intersections.

    With two or more columns, ``intersections="full"`` adds the intersection of all of them,
    ``"pairs"`` adds every pair as well (when there are three or more columns), ``"none"`` adds
    nothing.  ``max_groups`` caps the distinct values (missing included) of each sensitive column
    in the real data; intersections are not capped.

    Raises
    ------
    InvalidDataError
        When a column is not in the data, is in ``exclude`` (the target), is an identifier or
        all missing, or has more than ``max_groups`` distinct values in the real data.
    """
    singles = []
    for name in sensitive:
        if name in exclude:
            raise InvalidDataError(
                f"{validator}: {name!r} is given both as the target and as a sensitive column. "
                "Outcome rates are compared across sensitive groups, so the two must differ."
            )
        j = _column_index(tables, name, "sensitive", validator)
        singles.append(_single(tables, j, max_groups, validator))
    out = list(singles)
    if len(singles) >= 2 and intersections != "none":
        combos: list[tuple[int, ...]] = []
        if intersections == "pairs" and len(singles) >= 3:
            combos.extend(itertools.combinations(range(len(singles)), 2))
        combos.append(tuple(range(len(singles))))
        out.extend(_intersect([singles[i] for i in combo]) for combo in combos)
    return out


def _tables_of(tables: Prepared) -> dict[str, np.ndarray]:
    found = {"real": tables.real, "synthetic": tables.synthetic}
    if tables.holdout is not None:
        found["holdout"] = tables.holdout
    return found


def _single(tables: Prepared, j: int, max_groups: int, validator: str) -> Grouping:
    col = tables.schema.columns[j]
    if col.kind is ColumnKind.IDENTIFIER:
        raise InvalidDataError(
            f"{validator}: sensitive column {col.name!r} looks like a row identifier (every "
            "real value is distinct), so it defines no groups. Pass a column whose values "
            "repeat, such as sex or an age band."
        )
    if col.kind is ColumnKind.EMPTY:
        raise InvalidDataError(
            f"{validator}: sensitive column {col.name!r} is missing in every real row, so it "
            "defines no groups. Pass a column that has values."
        )
    matrices = _tables_of(tables)
    values = {what: m[:, j] for what, m in matrices.items()}
    n_real = int(np.unique(values["real"]).size)  # NaNs count once (equal_nan)
    if n_real > max_groups:
        raise InvalidDataError(
            f"{validator}: sensitive column {col.name!r} has {n_real} distinct values in the "
            f"real data, more than max_groups={max_groups}: it looks continuous (or like an "
            "identifier) rather than a group label. Bin it into a few groups first, with the "
            "same bins in every table (for example pandas.cut(df[col], bins=[...]).astype(str)), "
            "or raise max_groups."
        )
    stacked = np.concatenate(list(values.values()))
    uniq, inverse = np.unique(stacked, return_inverse=True)
    labels = [_label(col, v) for v in uniq]
    codes: dict[str, np.ndarray] = {}
    start = 0
    for what, v in values.items():
        codes[what] = inverse[start:start + len(v)].astype(np.int64)
        start += len(v)
    return _ordered(Grouping(col.name, (col.name,), tuple(labels), codes))


def _label(col: ColumnSchema, value: float) -> str:
    """A readable label of one encoded value of ``col``."""
    if math.isnan(value):
        return MISSING
    if col.kind.is_discrete:
        return str((col.categories or [])[int(value)])
    if col.kind is ColumnKind.DATETIME:
        return pd.Timestamp(int(value)).isoformat()
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _intersect(parts: Sequence[Grouping]) -> Grouping:
    """The intersection of ``parts``: one group per combination seen in any table."""
    whats = list(parts[0].codes)
    stacked = np.concatenate(
        [np.column_stack([p.codes[what] for p in parts]) for what in whats]
    )
    uniq, inverse = np.unique(stacked, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    labels = [AND.join(p.labels[c] for p, c in zip(parts, row, strict=True)) for row in uniq]
    codes: dict[str, np.ndarray] = {}
    start = 0
    for what in whats:
        n = len(parts[0].codes[what])
        codes[what] = inverse[start:start + n].astype(np.int64)
        start += n
    name = AND.join(p.name for p in parts)
    columns = tuple(c for p in parts for c in p.columns)
    return _ordered(Grouping(name, columns, tuple(labels), codes))


def _ordered(grouping: Grouping) -> Grouping:
    """Renumber groups by decreasing real count, then synthetic count, then label."""
    real = grouping.counts("real")
    synth = grouping.counts("synthetic")
    order = sorted(range(grouping.n_groups),
                   key=lambda g: (-real[g], -synth[g], grouping.labels[g]))
    new_of_old = np.empty(grouping.n_groups, dtype=np.int64)
    new_of_old[order] = np.arange(grouping.n_groups)
    return Grouping(
        grouping.name,
        grouping.columns,
        tuple(grouping.labels[g] for g in order),
        {what: new_of_old[c] for what, c in grouping.codes.items()},
    )


# -- the outcome -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Outcome:
    """The target column read as one number per row.

    ``kind`` is "rate" when ``values`` are 0/1 indicators of the ``positive`` class, "mean"
    when they are the target's own values (numerical targets).  ``values[what]`` is NaN where
    the target is missing.  ``scale`` divides differences of means (the real target's standard
    deviation) and is 1 for rates.  ``n_classes`` counts the real target's distinct values.
    """

    name: str
    kind: Literal["rate", "mean"]
    positive: str | None
    values: Mapping[str, np.ndarray]
    scale: float
    n_classes: int


def resolve_outcome(
    tables: Prepared, target: str, positive: Any, validator: str
) -> Outcome:
    """Read ``target`` as a per-row outcome.

    A categorical or boolean target, or a numerical one with at most two distinct real values,
    is read as the indicator of ``positive``; when ``positive`` is None that is the real data's
    least frequent value (ties: the later value in sort order, so a balanced 0/1 target gives 1).
    A numerical target with more values is read as it is ("mean"), unless ``positive`` names one
    of its values.

    Raises
    ------
    InvalidDataError
        When the target is not a column, is an identifier or all missing, or ``positive`` is not
        one of its real values.
    """
    j = _column_index(tables, target, "target", validator)
    col = tables.schema.columns[j]
    if col.kind in (ColumnKind.IDENTIFIER, ColumnKind.EMPTY):
        why = ("every real value is distinct (an identifier)" if col.kind is ColumnKind.IDENTIFIER
               else "every real value is missing")
        raise InvalidDataError(
            f"{validator}: target column {target!r} cannot be an outcome: {why}."
        )
    raw = {what: m[:, j] for what, m in _tables_of(tables).items()}
    real = raw["real"][~np.isnan(raw["real"])]
    levels, counts = np.unique(real, return_counts=True)
    n_classes = len(levels)
    if col.kind.is_discrete or n_classes <= 2 or positive is not None:
        if positive is None:
            # least frequent; ties -> the later level (np.unique sorts, argmin takes the first)
            code = float(levels[len(counts) - 1 - int(np.argmin(counts[::-1]))])
        else:
            code = _positive_code(tables, col, positive, levels, validator)
        values = {what: np.where(np.isnan(v), np.nan, (v == code).astype(np.float64))
                  for what, v in raw.items()}
        return Outcome(target, "rate", _label(col, code), values, 1.0, n_classes)
    std = float(np.std(real))
    # a constant target has no spread to scale by: differences are then in its own units
    return Outcome(target, "mean", None, raw, std if std > 0 else 1.0, n_classes)


def _positive_code(
    tables: Prepared, col: ColumnSchema, positive: Any, levels: np.ndarray, validator: str
) -> float:
    shown = [_label(col, v) for v in levels[:20]]
    try:
        code = tables.schema.encode_value(col.name, positive, what=f"{validator} positive")
    except InvalidDataError:
        code = float("nan")
    if math.isnan(code) or code not in levels:
        raise InvalidDataError(
            f"{validator}: positive={positive!r} is not a value of the target column "
            f"{col.name!r} in the real data; its values are {shown}"
            f"{' ...' if len(levels) > 20 else ''}."
        )
    return float(code)


# -- shared statistics -------------------------------------------------------------------------
def group_means(
    codes: np.ndarray, values: np.ndarray, n_groups: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows, mean and variance of ``values`` per group (NaN mean and variance where empty)."""
    n = np.bincount(codes, minlength=n_groups).astype(np.float64)
    total = np.bincount(codes, weights=values, minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / n
        sq = np.bincount(codes, weights=values * values, minlength=n_groups) / n
    var = np.maximum(sq - mean * mean, 0.0)
    return n, mean, var


def normal_interval(value: float, se: float, low: float = 0.0, high: float = 1.0) -> \
        tuple[float, float]:
    """``value +- 1.96 se``, clipped to ``[low, high]``."""
    return (max(low, value - Z95 * se), min(high, value + Z95 * se))
