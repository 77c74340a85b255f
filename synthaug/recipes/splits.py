"""Which records go where: the recipe's data checks, the stratified split and the scenarios.

Everything here works on **arrays** (one class label per record, and one group value per record
for the sensitive attribute or the scenario's column), never on a table, so the same split and
the same scenarios serve every modality.  A task (:mod:`synthaug.recipes.tasks`) turns its data
into those arrays; :func:`split_data` does that for a caller who has the data itself.

The split is :func:`synthaug.data.modality.stratified_split` (the one stratified splitter),
fed ``(test, validation)`` fractions and the generator ``default_rng([split.seed, 0])``; the
scenario then thins the training part with ``default_rng([split.seed, 1])``.  Only the labels,
the group values and ``split.seed`` decide, so the same data and recipe give the same records
on every machine.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from synthaug.config import RecipeSpec
from synthaug.data.modality import stratified_split
from synthaug.exceptions import InvalidDataError

__all__ = [
    "MAX_CLASSES",
    "MAX_GROUPS",
    "Splits",
    "check_labels",
    "class_codes",
    "encode_labels",
    "group_value",
    "matches",
    "plain",
    "split_data",
    "split_records",
]

#: a target with more distinct values than this is taken for a continuous column
MAX_CLASSES = 100

#: most groups a sensitive column may have (each gets its own metrics)
MAX_GROUPS = 50

Problems = list[tuple[str, str]]


@dataclass(frozen=True)
class Splits:
    """Record positions (into the loaded data) of each split.

    Attributes
    ----------
    train_full : ndarray
        The training split before the scenario.
    train : ndarray
        The real training records the scenario kept: what real-only trains on and the only
        records the generator ever sees.
    validation, test : ndarray
        Untouched by the scenario.

    Examples
    --------
    See :func:`split_data`.
    """

    train_full: np.ndarray
    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray


def plain(value: Any) -> Any:
    """A numpy scalar as the Python value it holds (for conditions, JSON and messages)."""
    return value.item() if isinstance(value, np.generic) else value


def matches(values: Any, value: Any) -> np.ndarray:
    """Which of ``values`` equal a recipe value; compared as text, as TOML gives text.

    Examples
    --------
    >>> import numpy as np
    >>> from synthaug.recipes.splits import matches
    >>> matches(np.array([1, 2, None], dtype=object), "1").tolist()
    [True, False, False]
    """
    series = values if isinstance(values, pd.Series) else pd.Series(values)
    return (series.notna() & (series.astype(str) == str(value))).to_numpy()


def class_codes(labels: Any) -> tuple[np.ndarray, list[Any]]:
    """The class code of each record (``-1`` when its label is missing) and the classes.

    Classes are ordered by their text, the order :func:`stratified_split` walks them in, so
    code ``c`` is the ``c``-th class there too.  Each class is given as the label value itself
    (the first one with that text).

    Examples
    --------
    >>> import numpy as np
    >>> from synthaug.recipes.splits import class_codes
    >>> codes, classes = class_codes(np.array(["b", "a", None, "b"], dtype=object))
    >>> codes.tolist(), classes
    ([1, 0, -1, 1], ['a', 'b'])
    """
    series = pd.Series(np.asarray(labels, dtype=object))
    known = series.notna().to_numpy()
    text = series[known].astype(str)
    first = pd.Series(series[known].to_numpy(), index=text.to_numpy())
    first = first[~first.index.duplicated()]
    names = sorted(first.index)
    codes = np.full(len(series), -1, dtype=np.int64)
    codes[known] = pd.Index(names).get_indexer(pd.Index(text))
    return codes, [plain(first.loc[name]) for name in names]


def encode_labels(classes: Sequence[Any], labels: Any) -> np.ndarray:
    """Codes of ``labels`` among ``classes`` (matched by text); every label must be known.

    Raises
    ------
    InvalidDataError
        When a label is missing or not one of ``classes``.
    """
    text = pd.Series(np.asarray(labels, dtype=object)).astype(str)
    codes = pd.Index([str(c) for c in classes]).get_indexer(pd.Index(text))
    if (codes < 0).any():
        raise InvalidDataError(f"labels outside the known classes {list(classes)}.")
    return codes.astype(np.int64)


def group_value(values: Any, value: Any) -> Any:
    """The scenario's group value as the data holds it (``"1"`` in a file may be the int 1)."""
    series = pd.Series(values)
    return plain(series[matches(series, value)].iloc[0])


def check_labels(
    spec: RecipeSpec,
    labels: np.ndarray | None,
    *,
    sensitive: np.ndarray | None = None,
    scenario: np.ndarray | None = None,
) -> Problems:
    """The recipe's checks of the class labels and the groups, as ``(field, message)`` pairs.

    Parameters
    ----------
    spec : RecipeSpec
    labels : ndarray or None
        The label of each record (``None`` when the data has no usable labels; the task has
        reported that already).
    sensitive, scenario : ndarray, optional
        The group of each record by ``data.sensitive`` and by ``scenario.column``, when the
        recipe names them and the data has them.

    Examples
    --------
    >>> import numpy as np
    >>> from synthaug.config import RecipeSpec
    >>> from synthaug.recipes.splits import check_labels
    >>> spec = RecipeSpec.model_validate({"name": "demo", "data": {"source": "x.csv",
    ...     "target": "y"}, "report": {"metric": "roc_auc"}})
    >>> check_labels(spec, np.array(["a", "b", "c"]))[0][0]
    'report.metric'
    """
    problems: Problems = []
    target = spec.data.target
    if labels is not None:
        # an object array of floats (a nullable column) must still look like floats here
        known = pd.Series(labels).dropna().infer_objects()
        n_classes = known.nunique()
        if n_classes < 2:
            problems.append(("data.target", f"{target!r} has {n_classes} class(es); a "
                                            "classification recipe needs at least 2."))
        elif n_classes > MAX_CLASSES or (
            pd.api.types.is_float_dtype(known) and bool((known != known.round()).any())
        ):
            problems.append(("data.target", f"{target!r} has {n_classes} distinct values; it "
                                            "looks continuous, not a class label."))
        elif spec.report.metric == "roc_auc" and n_classes != 2:
            problems.append(("report.metric", f"'roc_auc' needs a binary target; {target!r} "
                                              f"has {n_classes} classes."))
        minority = spec.scenario.minority
        if minority is not None and not matches(labels, minority).any():
            problems.append(("scenario.minority", f"{minority!r} is not a class of {target!r}; "
                             f"classes: {sorted(map(str, known.unique()))}."))
    if sensitive is not None:
        n_groups = pd.Series(sensitive).nunique(dropna=False)
        if n_groups > MAX_GROUPS:
            problems.append(("data.sensitive", f"{spec.data.sensitive!r} has {n_groups} distinct "
                             f"values; per-group metrics need at most {MAX_GROUPS} groups (bin "
                             "the column first, for example into age bands)."))
    column = spec.scenario.column
    if scenario is not None:
        if column == target:
            problems.append(("scenario.column", "use a feature column, not the target (the "
                             "imbalance scenario downsamples classes)."))
        elif not matches(scenario, spec.scenario.value).any():
            shown = sorted(map(str, pd.Series(scenario).dropna().unique()))[:20]
            problems.append(("scenario.value", f"{spec.scenario.value!r} never occurs in "
                             f"{column!r}; values: {shown}."))
    return problems


def split_records(spec: RecipeSpec, labels: Any, in_group: np.ndarray | None = None, *,
                  test: np.ndarray | None = None) -> Splits:
    """Stratified train / validation / test split by ``spec.split.seed``, then the scenario.

    Parameters
    ----------
    spec : RecipeSpec
    labels : array-like of shape (n,)
        The class label of each record; records without one are in no split.
    in_group : ndarray of bool, optional
        Which records belong to the scenario's group (``underrepresented_group`` only).
    test : ndarray of int, optional
        Positions of records given as the test split (``data.test_source``); the others are
        split into validation and training records only (``split.validation`` of each class).

    Returns
    -------
    Splits
        Positions into ``labels``.

    Raises
    ------
    InvalidDataError
        When a class has too few records to appear in all three splits.

    Examples
    --------
    >>> import numpy as np
    >>> from synthaug.config import RecipeSpec
    >>> from synthaug.recipes.splits import split_records
    >>> spec = RecipeSpec.model_validate({"name": "demo", "data": {"source": "x.csv",
    ...     "target": "y"}, "split": {"validation": 0.2, "test": 0.2}})
    >>> s = split_records(spec, np.array(["a"] * 70 + ["b"] * 30))
    >>> len(s.train), len(s.validation), len(s.test)
    (60, 20, 20)
    """
    codes, _ = class_codes(labels)
    rng = np.random.default_rng([spec.split.seed, 0])
    what = f"target {spec.data.target!r}"
    if test is None:
        test, validation, train_full = stratified_split(
            labels, (spec.split.test, spec.split.validation), rng, what=what)
    else:
        test = np.sort(np.asarray(test, dtype=np.int64))
        rest = np.asarray(labels, dtype=object).copy()
        rest[test] = None  # records without a label are in no part of the split
        validation, train_full = stratified_split(rest, (spec.split.validation,), rng,
                                                  what=what)
    kept = _apply_scenario(spec, train_full, codes, labels, in_group,
                           np.random.default_rng([spec.split.seed, 1]))
    return Splits(train_full, np.sort(kept), validation, test)


def _apply_scenario(
    spec: RecipeSpec, train: np.ndarray, codes: np.ndarray, labels: Any,
    in_group: np.ndarray | None, rng: np.random.Generator,
) -> np.ndarray:
    sc = spec.scenario
    if sc.kind == "none":
        return train
    y = codes[train]
    keep: list[np.ndarray] = []
    if sc.kind == "low_data":
        for c in np.unique(y):
            rows = rng.permutation(train[y == c])
            k = (max(1, round(sc.fraction * len(rows))) if sc.fraction is not None
                 else min(int(sc.per_class or 1), len(rows)))
            keep.append(rows[:k])
    elif sc.kind == "imbalance":
        counts = {int(c): int((y == c).sum()) for c in np.unique(y)}
        largest = max(counts, key=lambda c: (counts[c], -c))
        cap = max(1, round(float(sc.ratio or 1.0) * counts[largest]))
        values = np.asarray(labels, dtype=object)
        for c in counts:
            rows = rng.permutation(train[y == c])
            chosen = (c != largest) if sc.minority is None else bool(
                matches(values[rows[:1]], sc.minority).all())
            keep.append(rows[:cap] if chosen else rows)
    else:  # underrepresented_group: thin the group, class by class, keep everyone else
        if in_group is None:
            raise InvalidDataError("the underrepresented_group scenario needs the group of "
                                   "each record.")
        member = in_group[train]
        keep.append(train[~member])
        for c in np.unique(y[member]):
            rows = rng.permutation(train[member & (y == c)])
            keep.append(rows[:max(1, round(float(sc.fraction or 1.0) * len(rows)))])
    return np.concatenate(keep)


def split_data(spec: RecipeSpec, data: Any) -> Splits:
    """:func:`split_records` for the data itself: its labels and groups are read by its task.

    Parameters
    ----------
    spec : RecipeSpec
    data : the recipe's data (a DataFrame for tables)
        As loaded, with every column.

    Returns
    -------
    Splits
        Positions into ``data``.

    Examples
    --------
    >>> import pandas as pd
    >>> from synthaug.config import RecipeSpec
    >>> from synthaug.recipes import split_data
    >>> df = pd.DataFrame({"x": range(100), "y": ["a"] * 70 + ["b"] * 30})
    >>> spec = RecipeSpec.model_validate({"name": "demo", "data": {"source": "x.csv",
    ...     "target": "y"}, "split": {"validation": 0.2, "test": 0.2}})
    >>> s = split_data(spec, df)
    >>> len(s.train), len(s.validation), len(s.test)
    (60, 20, 20)
    """
    from synthaug.recipes.tasks import get_task  # tasks build on this module

    task = get_task(spec.data.resolved_modality)(spec)
    labels = task.labels(data)
    if labels is None:
        raise InvalidDataError(f"the data has no labels {spec.data.target!r}.")
    in_group = None
    if spec.scenario.kind == "underrepresented_group":
        groups = task.groups(data, str(spec.scenario.column))
        if groups is None:
            raise InvalidDataError(f"the data has no group {spec.scenario.column!r}.")
        in_group = matches(groups, spec.scenario.value)
    return split_records(spec, labels, in_group)
