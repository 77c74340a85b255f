"""Shared machinery of tabular generators: schema, conditions, batched sampling.

A tabular generator learns from the float matrix of :meth:`TableSchema.to_matrix` and samples
matrices in the same layout; this base turns frames into matrices and back, checks
``conditions``, samples in bounded batches and stamps conditioned values exactly.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import pandas as pd
import torch

from synthaug.data.schema import ColumnKind, TableSchema
from synthaug.exceptions import InvalidDataError, InvalidParameterError
from synthaug.generators.base import BaseGenerator
from synthaug.utils.random import RandomState, check_random_state

__all__ = ["TabularGenerator"]

#: rows decoded at a time when sampling; bounds memory whatever n is asked for
SAMPLE_BATCH_ROWS = 262_144


class TabularGenerator(BaseGenerator):
    """Base of tabular generators: DataFrame (or 2-D array) in, the same container out."""

    modality = "tabular"

    def _fit(self, X: Any, rng: np.random.Generator) -> None:
        schema = TableSchema.detect(X)
        if schema.n_rows < 2:
            raise InvalidDataError("X has 1 row; a generator needs at least 2 rows to learn from.")
        matrix = schema.to_matrix(X)
        self.schema_ = schema
        self.n_features_in_ = len(schema.columns)
        if schema.container == "dataframe":
            self.feature_names_in_ = np.asarray(schema.names, dtype=object)
        self._fit_matrix(matrix, rng)

    def _sample(
        self, n: int, conditions: Mapping[str, Any] | None, rng: np.random.Generator
    ) -> Any:
        batches = list(self._iter_frames(n, conditions, rng, SAMPLE_BATCH_ROWS))
        if not batches:
            frame = self.schema_.from_matrix(np.empty((0, len(self.schema_.columns))), rng)
        else:
            frame = pd.concat(batches, ignore_index=True) if len(batches) > 1 else batches[0]
        return self.schema_.to_container(frame)

    def sample_batches(
        self,
        n: int,
        *,
        batch_rows: int = SAMPLE_BATCH_ROWS,
        conditions: Mapping[str, Any] | None = None,
        random_state: RandomState = None,
    ) -> Iterator[Any]:
        """Yield ``n`` records in batches of at most ``batch_rows``: flat memory for any ``n``."""
        self._check_fitted()
        if batch_rows < 1:
            raise InvalidParameterError(f"batch_rows must be >= 1, got {batch_rows}.")
        rng = check_random_state(random_state)
        for frame in self._iter_frames(n, conditions, rng, batch_rows):
            yield self.schema_.to_container(frame)

    def _iter_frames(
        self,
        n: int,
        conditions: Mapping[str, Any] | None,
        rng: np.random.Generator,
        batch_rows: int,
    ) -> Iterator[pd.DataFrame]:
        fixed = self._parse_conditions(conditions)
        for start in range(0, n, batch_rows):
            rows = min(batch_rows, n - start)
            matrix = self._sample_matrix(rows, fixed, rng)
            for j, value in fixed.items():  # exactness does not hang on float round-off
                matrix[:, j] = value
            yield self.schema_.from_matrix(matrix, rng)

    def _parse_conditions(self, conditions: Mapping[str, Any] | None) -> dict[int, float]:
        """Map ``{column: value}`` to ``{column index: encoded value}``, or explain the error."""
        if not conditions:
            return {}
        if not isinstance(conditions, Mapping):
            raise InvalidParameterError(
                f"conditions must be a mapping of column to value, got {type(conditions).__name__}."
            )
        fixed: dict[int, float] = {}
        for name, value in conditions.items():
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
            if col.kind.is_continuous and not (col.minimum <= encoded <= col.maximum):  # type: ignore[operator]
                raise InvalidParameterError(
                    f"conditions[{name!r}] = {value!r} is outside the fitted range "
                    f"[{col.minimum}, {col.maximum}]; a generator cannot extrapolate it exactly."
                )
            if col.kind.is_discrete and not self._level_seen(j, int(encoded)):
                raise InvalidParameterError(
                    f"conditions[{name!r}] = {value!r} was never seen in the fitted data, so no "
                    "generator can produce it faithfully."
                )
            fixed[j] = float(encoded)
        return fixed

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

    def _get_state(self) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        state, tensors = self._get_model_state()
        return {"schema": self.schema_.to_dict(), "model": state}, tensors

    def _set_state(self, state: Mapping[str, Any], tensors: Mapping[str, torch.Tensor]) -> None:
        self.schema_ = TableSchema.from_dict(state["schema"])
        self.n_features_in_ = len(self.schema_.columns)
        if self.schema_.container == "dataframe":
            self.feature_names_in_ = np.asarray(self.schema_.names, dtype=object)
        self._set_model_state(state["model"], tensors)

    @abstractmethod
    def _get_model_state(self) -> tuple[dict[str, Any], dict[str, torch.Tensor]]: ...

    @abstractmethod
    def _set_model_state(
        self, state: Mapping[str, Any], tensors: Mapping[str, torch.Tensor]
    ) -> None: ...


def _is_missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False

