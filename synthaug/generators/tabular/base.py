"""Shared machinery of tabular generators: schema, labels, conditions, batched sampling.

A tabular generator learns from the float matrix of :meth:`TableSchema.to_matrix` and samples
matrices in the same layout; this base turns frames into matrices and back, checks
``conditions``, samples in bounded batches (the template of
:class:`~synthaug.generators.base.BaseGenerator`) and stamps conditioned values exactly.

Labels given apart, ``fit(X, y)``, join the table as one more categorical column (named
``"target"``, with underscores in front until it is unique), so the generator learns the joint
distribution of the features and the class; ``conditions={"label": c}`` then asks for class
``c``, and ``sample`` returns ``(X, y)``.
"""

from __future__ import annotations

import dataclasses
from abc import abstractmethod
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from synthaug.data.modality import LABEL
from synthaug.data.schema import SHARED_BOUND_ROWS, ColumnKind, TableSchema, as_frame
from synthaug.exceptions import InvalidDataError, InvalidParameterError
from synthaug.generators.base import BaseGenerator
from synthaug.utils.validation import check_bool

__all__ = ["LABEL_COLUMN", "TabularGenerator"]

#: name of the column that holds ``y`` inside a generator fitted with ``fit(X, y)``
LABEL_COLUMN = "target"


class TabularGenerator(BaseGenerator):
    """Base of tabular generators: DataFrame (or 2-D array) in, the same container out."""

    modality = "tabular"

    def _fit(self, X: Any, y: Any, rng: np.random.Generator) -> None:
        frame, container, array_dtype = as_frame(X, what="X")
        self.label_ = None if y is None else _label_info(frame, y)
        if self.label_ is not None:
            frame = frame.copy(deep=False)
            # categorical: learnt as discrete, and a condition asks for one exact level
            frame[self.label_["column"]] = pd.Categorical(
                np.asarray(y), categories=self.label_["classes"])
        # numeric bounds that at least SHARED_BOUND_ROWS rows reach, not one person's extreme,
        # unless the generator is asked for the exact ones (see _bound_rows)
        schema = TableSchema.detect(frame, bound_rows=self._bound_rows())
        if schema.n_rows < 2:
            raise InvalidDataError("X has 1 row; a generator needs at least 2 rows to learn from.")
        # the output container is X's, whatever joining y made of it
        schema = dataclasses.replace(schema, container=container, array_dtype=array_dtype)
        # the model learns from values inside the bounds, so no part of it (a quantile grid,
        # bin edges, a mixture's support) holds a value beyond them
        matrix = schema.clip_to_bounds(schema.to_matrix(frame))
        self.schema_ = schema
        names = schema.names[:-1] if self.label_ is not None else schema.names
        self.n_features_in_ = len(names)
        if schema.container == "dataframe":
            self.feature_names_in_ = np.asarray(names, dtype=object)
        self._fit_matrix(matrix, rng)

    def _sample_batch(
        self, n: int, fixed: Mapping[int, float], rng: np.random.Generator
    ) -> pd.DataFrame:
        matrix = self._sample_matrix(n, fixed, rng)
        for j, value in fixed.items():  # exactness does not hang on float round-off
            matrix[:, j] = value
        return self.schema_.from_matrix(matrix, rng)

    def _join(self, batches: list[Any], rng: np.random.Generator) -> pd.DataFrame:
        if not batches:
            return self.schema_.from_matrix(np.empty((0, len(self.schema_.columns))), rng)
        return pd.concat(batches, ignore_index=True) if len(batches) > 1 else batches[0]

    def _output(self, batch: pd.DataFrame) -> Any:
        if self.label_ is None:
            return self.schema_.to_container(batch)
        column = self.label_["column"]
        values = batch[column].to_numpy(dtype=object)
        features = self.schema_.to_container(batch.drop(columns=[column]))
        series = self.label_.get("series")
        if series is None:  # labels were an array: the same dtype back
            return features, values.astype(self.label_["dtype"])
        # labels were a Series: its name and pandas dtype back (category levels included)
        if series.get("categories") is not None:
            return features, pd.Series(pd.Categorical(
                values, categories=series["categories"], ordered=series["ordered"]),
                name=self.label_["name"])
        return features, pd.Series(values, dtype=object, name=self.label_["name"]).astype(
            series["dtype"])

    def _parse_conditions(self, conditions: Mapping[str, Any] | None) -> dict[int, float]:
        """Map ``{column: value}`` to ``{column index: encoded value}``, or explain the error."""
        if not conditions:
            return {}
        if not isinstance(conditions, Mapping):
            raise InvalidParameterError(
                f"conditions must be a mapping of column to value, got {type(conditions).__name__}."
            )
        fixed: dict[int, float] = {}
        for key, value in conditions.items():
            # fitted with y: "label" names its classes, wherever the column sits
            name = self.label_["column"] if self.label_ is not None and key == LABEL else key
            if name not in self.schema_.names:
                known = [n for n in self.schema_.names
                         if self.label_ is None or n != self.label_["column"]]
                label = f" and {LABEL!r} (the class)" if self.label_ is not None else ""
                raise InvalidParameterError(
                    f"conditions names {key!r}, which is not in the fitted data; its columns "
                    f"are {known[:20]}{label}."
                )
            j = self.schema_.index(name)
            col = self.schema_.columns[j]
            if col.kind in (ColumnKind.IDENTIFIER, ColumnKind.EMPTY):
                raise InvalidParameterError(
                    f"column {name!r} is {col.kind.value} and cannot be conditioned on."
                )
            if _is_missing(value):
                raise InvalidParameterError(
                    f"conditions[{name!r}] is missing (NaN/None); conditioning on a missing "
                    "value is not supported. Condition on an observed value instead."
                )
            try:
                encoded = self.schema_.encode_value(name, value)
            except InvalidDataError as exc:
                if not col.kind.is_discrete:
                    raise InvalidParameterError(str(exc)) from None
                raise InvalidParameterError(
                    f"conditions[{name!r}] = {value!r} was never seen in the fitted data, so no "
                    "generator can produce it faithfully."
                ) from None
            if col.kind.is_continuous and not (col.minimum <= encoded <= col.maximum):
                shared = "" if self._bound_rows() == 1 else (
                    f" (the model keeps bounds that at least {self._bound_rows()} training rows "
                    "reach; fit with exact_bounds=True to keep the exact minimum and maximum)")
                raise InvalidParameterError(
                    f"conditions[{name!r}] = {value!r} is outside the fitted range "
                    f"[{col.minimum}, {col.maximum}]{shared}; a generator cannot extrapolate it "
                    "exactly."
                )
            if col.discrete_values and encoded not in col.discrete_values:
                shown = ", ".join(f"{v:g}" for v in col.discrete_values[:20])
                raise InvalidParameterError(
                    f"conditions[{name!r}] = {value!r} is not one of the values the column "
                    f"holds ({shown}); the schema treats {name!r} as ordinal, so samples hold "
                    "only those. Condition on one of them."
                )
            if col.kind.is_discrete and not self._level_seen(j, int(encoded)):
                raise InvalidParameterError(
                    f"conditions[{name!r}] = {value!r} was never seen in the fitted data, so no "
                    "generator can produce it faithfully."
                )
            fixed[j] = float(encoded)
        return fixed

    def _bound_rows(self) -> int:
        """How many training rows must reach a numeric bound the model keeps.

        Generators with an ``exact_bounds`` parameter keep bounds that
        :data:`~synthaug.data.schema.SHARED_BOUND_ROWS` rows reach unless it is true (then the
        exact minimum and maximum, 1); those without one (adapters of other libraries, whose
        models are never saved) keep the exact range they always had.
        """
        exact = getattr(self, "exact_bounds", None)
        if exact is not None:
            check_bool(exact, "exact_bounds")
        return 1 if exact is None or exact else SHARED_BOUND_ROWS

    def _level_seen(self, column: int, code: int) -> bool:
        """Whether category ``code`` of ``column`` occurred in the fitted data."""
        return True

    # -- hooks ---------------------------------------------------------------------------------
    @abstractmethod
    def _fit_matrix(self, matrix: np.ndarray, rng: np.random.Generator) -> None:
        """Learn from the encoded matrix (NaN = missing; discrete columns hold codes)."""

    @abstractmethod
    def _sample_matrix(
        self, n: int, fixed: Mapping[int, float], rng: np.random.Generator
    ) -> np.ndarray:
        """Return an (n, n_columns) matrix; columns in ``fixed`` must hold their given value."""

    def _is_fitted(self) -> bool:
        return hasattr(self, "schema_")

    def _check_loaded(self) -> None:
        # a few rows through the whole sampling path (model, decoding, dtypes): cheap for any
        # tabular model, and the only check that sees how its saved parts fit together
        self._output(self._sample_batch(4, {}, np.random.default_rng(0)))

    def _get_schema_extras(self) -> dict[str, Any]:
        return {"labels": self.label_} if self.label_ is not None else {}

    def _set_schema_extras(self, state: Mapping[str, Any]) -> None:
        labels = state.get("labels")
        self.label_ = dict(labels) if labels is not None else None
        names = self.schema_.names[:-1] if self.label_ is not None else self.schema_.names
        self.n_features_in_ = len(names)
        if self.schema_.container == "dataframe":
            self.feature_names_in_ = np.asarray(names, dtype=object)


def _label_info(frame: pd.DataFrame, y: Any) -> dict[str, Any]:
    """How ``y`` joins ``frame``: its column name, classes, dtype and name (for the output)."""
    values = y.to_numpy() if isinstance(y, pd.Series) else np.asarray(y)
    if values.ndim != 1 or len(values) != len(frame):
        raise InvalidDataError(
            f"y must hold one label per row of X: X has {len(frame)} rows, y has shape "
            f"{values.shape}."
        )
    if pd.isna(pd.Series(values, dtype=object)).any():
        raise InvalidDataError("y holds missing labels (NaN/None); drop those rows or give "
                               "them a class.")
    column = LABEL_COLUMN
    while column in frame.columns:
        column = f"_{column}"
    classes = np.unique(values)
    series: dict[str, Any] | None = None
    if isinstance(y, pd.Series):
        categorical = isinstance(y.dtype, pd.CategoricalDtype)
        series = {"dtype": "category" if categorical else str(y.dtype),
                  "categories": [_plain(c) for c in y.cat.categories] if categorical else None,
                  "ordered": bool(y.cat.ordered) if categorical else False}
    return {
        "column": column,
        "classes": [_plain(c) for c in classes],
        "dtype": str(values.dtype),
        "name": str(y.name) if isinstance(y, pd.Series) and y.name is not None else None,
        "series": series,
    }


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _is_missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False

