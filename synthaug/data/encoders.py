"""Reversible tabular encoding: a frame in, a dense float matrix out, and back.

:class:`TableEncoder` builds on :class:`~synthaug.data.schema.TableSchema`.  Each column becomes
a block of output features:

* numerical, integer and datetime columns: one continuous feature, either standardized
  (``numerical="standard"``) or a normal score through a stored quantile grid
  (``numerical="quantile"``), plus a 0/1 missing indicator when the column had missing values
  in fit;
* categorical and boolean columns: a one-hot block over the fitted levels, plus a missing level
  when the column had missing values in fit; ``max_categories`` groups the rarest levels into
  one "other" feature;
* identifier and empty columns: no features (the inverse regenerates them).

The layout is data (:attr:`TableEncoder.spans_`), so a generator can put a softmax on each
``"discrete"`` span, a sigmoid on each ``"missing"`` span and nothing on ``"continuous"`` ones.
Everything runs column by column over whole numpy arrays; no Python loop visits rows.  The
fitted state is small JSON plus a few numpy arrays; no training rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import special

from synthaug.data.schema import ColumnKind, ColumnSchema, TableSchema, datetime_resolution
from synthaug.exceptions import (
    InvalidDataError,
    InvalidParameterError,
    ModelFormatError,
    NotFittedError,
)
from synthaug.utils.random import RandomState, check_random_state

__all__ = ["Span", "TableEncoder"]

#: version of the dict written by :meth:`TableEncoder.to_state`
STATE_FORMAT = 1

#: quantile probabilities are squeezed into [eps, 1 - eps] so that the extreme rows map to
#: finite normal scores (about +-5.2)
_QUANTILE_EPS = 1e-7


_DEFAULTS: dict[str, Any] = {
    "numerical": "standard",
    "max_categories": None,
    "n_quantiles": 1000,
    "dtype": "float64",
}

SpanKind = Literal["continuous", "discrete", "missing"]


@dataclass(frozen=True)
class Span:
    """One block of output features: ``array[:, start:end]`` encodes column ``column``.

    ``kind`` says which activation fits the block: ``"continuous"`` (one unbounded value),
    ``"discrete"`` (a one-hot block: softmax, decoded by argmax) or ``"missing"`` (one 0/1
    indicator: sigmoid, decoded as missing when above 0.5).
    """

    column: str
    kind: SpanKind
    start: int
    end: int

    @property
    def width(self) -> int:
        return self.end - self.start


class TableEncoder:
    """Reversible encoding of a table into a dense float matrix, and back.

    Parameters
    ----------
    numerical : {"standard", "quantile"}, default="standard"
        How numerical, integer and datetime columns are encoded: ``"standard"`` subtracts the
        mean and divides by the standard deviation (exactly reversible up to float round-off);
        ``"quantile"`` maps values through a stored grid of quantiles to normal scores, which
        makes skewed and multi-modal columns look Gaussian (reversible up to the grid's
        resolution).
    max_categories : int or None, default=None
        Most one-hot features per categorical column, not counting the missing level.  When a
        column has more levels, the ``max_categories - 1`` most frequent ones keep their own
        feature and the rest share one "other" feature; :meth:`inverse_transform` maps "other"
        back to the most frequent of the grouped levels.  ``None`` keeps every level.
    n_quantiles : int, default=1000
        Points of each column's quantile grid when ``numerical="quantile"`` (fewer when a
        column has fewer observed values).
    dtype : {"float64", "float32"}, default="float64"
        Dtype of the arrays :meth:`transform` returns.

    Attributes
    ----------
    schema_ : TableSchema
        The detected schema of the fitted table.
    spans_ : list of Span
        The output layout, in order; ``spans_[-1].end`` is the number of output features.
    n_features_out_ : int
        Number of output features.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from synthaug.data.encoders import TableEncoder
    >>> df = pd.DataFrame({"age": [23.0, 35.0, None, 51.0],
    ...                    "work": ["Private", "State", "Private", None]})
    >>> enc = TableEncoder().fit(df)
    >>> enc.get_feature_names_out()
    ['age', 'age__missing', 'work=Private', 'work=State', 'work__missing']
    >>> [(s.column, s.kind, s.start, s.end) for s in enc.spans_]
    [('age', 'continuous', 0, 1), ('age', 'missing', 1, 2), ('work', 'discrete', 2, 5)]
    >>> enc.transform(df).shape
    (4, 5)
    >>> enc.inverse_transform(enc.transform(df), rng=0).equals(df)
    True
    """

    def __init__(
        self,
        *,
        numerical: str = "standard",
        max_categories: int | None = None,
        n_quantiles: int = 1000,
        dtype: str = "float64",
    ) -> None:
        self.numerical = numerical
        self.max_categories = max_categories
        self.n_quantiles = n_quantiles
        self.dtype = dtype

    # -- parameters ----------------------------------------------------------------------------
    def _check_params(self) -> None:
        if self.numerical not in ("standard", "quantile"):
            raise InvalidParameterError(
                f"numerical must be 'standard' or 'quantile', got {self.numerical!r}."
            )
        if self.max_categories is not None and (
            isinstance(self.max_categories, bool)
            or not isinstance(self.max_categories, (int, np.integer))
            or self.max_categories < 1
        ):
            raise InvalidParameterError(
                f"max_categories must be None or an int >= 1, got {self.max_categories!r}."
            )
        if (
            isinstance(self.n_quantiles, bool)
            or not isinstance(self.n_quantiles, (int, np.integer))
            or self.n_quantiles < 2
        ):
            raise InvalidParameterError(
                f"n_quantiles must be an int >= 2, got {self.n_quantiles!r}."
            )
        if self.dtype not in ("float64", "float32"):
            raise InvalidParameterError(
                f"dtype must be 'float64' or 'float32', got {self.dtype!r}."
            )

    def get_params(self) -> dict[str, Any]:
        """The constructor parameters, as given."""
        return {
            "numerical": self.numerical,
            "max_categories": self.max_categories,
            "n_quantiles": self.n_quantiles,
            "dtype": self.dtype,
        }

    # -- fit -----------------------------------------------------------------------------------
    def fit(self, frame: Any) -> TableEncoder:
        """Learn the layout and the per-column statistics of ``frame``.

        Parameters
        ----------
        frame : DataFrame or 2-D ndarray
            The table to learn from (an array's columns are named ``x0``, ``x1``, ...).

        Returns
        -------
        self
        """
        self._check_params()
        schema = TableSchema.detect(frame)
        matrix = schema.to_matrix(frame)
        self._fit_matrix(schema, matrix)
        return self

    def fit_transform(self, frame: Any) -> np.ndarray:
        """Fit on ``frame`` and return its encoding (the table is encoded once)."""
        self._check_params()
        schema = TableSchema.detect(frame)
        matrix = schema.to_matrix(frame)
        self._fit_matrix(schema, matrix)
        return self._transform_matrix(matrix)

    def _fit_matrix(self, schema: TableSchema, matrix: np.ndarray) -> None:
        n_cols = len(schema.columns)
        # per-column statistics as flat arrays (NaN where they do not apply), so the state is
        # a handful of arrays whatever the number of columns
        center = np.full(n_cols, np.nan)
        scale = np.full(n_cols, np.nan)
        resolution = np.full(n_cols, np.nan)
        grids: dict[int, np.ndarray] = {}
        code_to_pos: dict[int, np.ndarray] = {}
        pos_to_code: dict[int, np.ndarray] = {}
        spans: list[Span] = []
        names: list[str] = []
        start = 0
        for j, col in enumerate(schema.columns):
            values = matrix[:, j]
            missing = np.isnan(values)
            if col.kind.is_continuous:
                observed = values[~missing]
                if self.numerical == "standard":
                    center[j] = float(observed.mean())
                    std = float(observed.std())
                    # a constant column encodes as zeros; any scale > 0 inverts it exactly
                    scale[j] = std if std > 0 and np.isfinite(std) else 1.0
                else:
                    k = int(min(self.n_quantiles, max(2, len(observed))))
                    grids[j] = np.quantile(observed, np.linspace(0.0, 1.0, k))
                if col.kind is ColumnKind.DATETIME:
                    resolution[j] = float(datetime_resolution(observed))
                spans.append(Span(col.name, "continuous", start, start + 1))
                start += 1
                if col.nullable:
                    spans.append(Span(col.name, "missing", start, start + 1))
                    start += 1
            elif col.kind.is_discrete:
                to_pos, to_code, level_names = self._discrete_layout(col, values, missing)
                code_to_pos[j] = to_pos
                pos_to_code[j] = to_code
                spans.append(Span(col.name, "discrete", start, start + len(to_code)))
                start += len(to_code)
                names.extend(level_names)
                continue
            else:  # identifiers and empty columns carry no information worth encoding
                continue
            names.append(col.name)
            if col.nullable:
                names.append(f"{col.name}__missing")
        self.schema_ = schema
        self.spans_ = spans
        self.n_features_out_ = start
        self._center = center
        self._scale = scale
        self._resolution = resolution
        self._grids = grids
        self._code_to_pos = code_to_pos
        self._pos_to_code = pos_to_code
        self._feature_names = names

    def _discrete_layout(
        self, col: ColumnSchema, codes: np.ndarray, missing: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """One-hot layout of a discrete column.

        Returns ``code_to_pos`` (length ``n_levels + 1``: position of each level code, the last
        entry for "missing"), ``pos_to_code`` (code each position decodes to, NaN for
        missing) and the feature names.
        """
        levels = list(col.categories or [])
        n_levels = len(levels)
        counts = np.bincount(codes[~missing].astype(np.int64), minlength=n_levels)
        if self.max_categories is not None and n_levels > self.max_categories:
            # stable sort: among equally frequent levels the first in level order wins
            by_freq = np.argsort(-counts, kind="stable")
            kept = np.sort(by_freq[: self.max_categories - 1])
            grouped = by_freq[self.max_categories - 1 :]
        else:
            kept = np.arange(n_levels)
            grouped = np.empty(0, dtype=np.int64)
        width = len(kept) + (1 if len(grouped) else 0) + (1 if col.nullable else 0)
        code_to_pos = np.full(n_levels + 1, -1, dtype=np.int64)
        pos_to_code = np.full(width, np.nan)
        code_to_pos[kept] = np.arange(len(kept))
        pos_to_code[: len(kept)] = kept
        names = [f"{col.name}={_level_name(levels[c])}" for c in kept]
        pos = len(kept)
        if len(grouped):
            code_to_pos[grouped] = pos
            # grouped is in decreasing frequency, so its head is the most frequent of them
            pos_to_code[pos] = grouped[0]
            names.append(f"{col.name}__other")
            pos += 1
        if col.nullable:
            code_to_pos[n_levels] = pos
            names.append(f"{col.name}__missing")
        return code_to_pos, pos_to_code, names

    # -- transform -----------------------------------------------------------------------------
    def transform(self, frame: Any) -> np.ndarray:
        """Encode ``frame`` (the fitted columns, in order) as an ``(n, n_features_out_)`` array.

        Raises
        ------
        InvalidDataError
            When a column holds a category never seen in fit, or missing values where fit saw
            none (there is then no feature to encode them).
        """
        self._check_fitted()
        return self._transform_matrix(self.schema_.to_matrix(frame))

    def _transform_matrix(self, matrix: np.ndarray) -> np.ndarray:
        n = len(matrix)
        out = np.zeros((n, self.n_features_out_), dtype=np.dtype(self.dtype))
        rows = np.arange(n)
        for span_group in self._spans_by_column():
            col_index, spans = span_group
            col = self.schema_.columns[col_index]
            values = matrix[:, col_index]
            missing = np.isnan(values)
            if missing.any() and not col.nullable:
                raise InvalidDataError(
                    f"column {col.name!r} has {int(missing.sum())} missing value(s), but had "
                    "none when the encoder was fitted, so the encoding has no feature for them. "
                    "Fit on data that includes missing values in this column, or fill them in "
                    "first."
                )
            main = spans[0]
            if main.kind == "discrete":
                n_levels = len(self._code_to_pos[col_index]) - 1
                codes = np.where(missing, n_levels, np.nan_to_num(values)).astype(np.int64)
                out[rows, main.start + self._code_to_pos[col_index][codes]] = 1.0
                continue
            out[:, main.start] = np.where(missing, 0.0, self._encode_continuous(col_index, values))
            if len(spans) > 1:
                out[:, spans[1].start] = missing
        return out

    def _encode_continuous(self, j: int, values: np.ndarray) -> np.ndarray:
        if self.numerical == "standard":
            return (values - self._center[j]) / self._scale[j]
        grid = self._grids[j]
        probs = np.linspace(0.0, 1.0, len(grid))
        # average of the forward and backward interpolation, so a value repeated across many
        # grid points (a spike such as zero) maps to the middle of its probability band
        u = 0.5 * (np.interp(values, grid, probs) - np.interp(-values, -grid[::-1], -probs[::-1]))
        # squeeze [0, 1] affinely into [eps, 1 - eps] rather than clipping: the extremes get
        # finite scores and the map stays invertible, so the max comes back as the max
        return special.ndtri(_QUANTILE_EPS + u * (1 - 2 * _QUANTILE_EPS))

    # -- inverse -------------------------------------------------------------------------------
    def inverse_transform(self, array: np.ndarray, rng: RandomState = None) -> pd.DataFrame:
        """Decode an array in the layout of :attr:`spans_` into a typed DataFrame.

        Any real-valued array of the right width works (raw generator output, say): one-hot
        blocks decode by argmax, missing indicators as missing when above 0.5, and the schema
        then restores dtypes, clips to the fitted ranges and rounds integer columns.

        Parameters
        ----------
        array : ndarray of shape (n, n_features_out_)
            The encoded rows.
        rng : int, numpy Generator or None
            Randomness for regenerated identifier columns (nothing else is random).

        Returns
        -------
        DataFrame
            With the fitted columns and dtypes (array input gives columns ``x0``, ``x1``, ...;
            see :meth:`TableSchema.to_container` to get the original container back).
        """
        self._check_fitted()
        array = np.asarray(array)
        if array.ndim != 2 or array.shape[1] != self.n_features_out_:
            raise InvalidDataError(
                f"expected an array of shape (n, {self.n_features_out_}) in the encoder's "
                f"layout, got shape {array.shape}."
            )
        generator = check_random_state(rng)
        matrix = np.full((len(array), len(self.schema_.columns)), np.nan)
        for col_index, spans in self._spans_by_column():
            main = spans[0]
            if main.kind == "discrete":
                pos = np.argmax(array[:, main.start : main.end], axis=1)
                matrix[:, col_index] = self._pos_to_code[col_index][pos]
                continue
            values = self._decode_continuous(col_index, array[:, main.start].astype(np.float64))
            if not np.isnan(self._resolution[col_index]):
                # snap datetimes to the fitted data's unit, which also removes the float
                # round-off of nanosecond counts near 1e18
                unit = self._resolution[col_index]
                values = np.rint(values / unit) * unit
            if len(spans) > 1:
                values[array[:, spans[1].start] > 0.5] = np.nan
            matrix[:, col_index] = values
        return self.schema_.from_matrix(matrix, generator)

    def _decode_continuous(self, j: int, z: np.ndarray) -> np.ndarray:
        if self.numerical == "standard":
            return z * self._scale[j] + self._center[j]
        grid = self._grids[j]
        u = np.clip((special.ndtr(z) - _QUANTILE_EPS) / (1 - 2 * _QUANTILE_EPS), 0.0, 1.0)
        return np.interp(u, np.linspace(0.0, 1.0, len(grid)), grid)

    # -- layout --------------------------------------------------------------------------------
    def get_feature_names_out(self, input_names: Sequence[str] | None = None) -> list[str]:
        """Names of the output features, such as ``age``, ``age__missing``, ``work=Private``.

        Parameters
        ----------
        input_names : sequence of str, optional
            Names to use for the input columns instead of the fitted ones (same length).
        """
        self._check_fitted()
        if input_names is None:
            return list(self._feature_names)
        input_names = [str(n) for n in input_names]
        if len(input_names) != len(self.schema_.columns):
            raise InvalidParameterError(
                f"input_names has {len(input_names)} names, but the encoder was fitted on "
                f"{len(self.schema_.columns)} columns."
            )
        rename = dict(zip(self.schema_.names, input_names, strict=True))
        out: list[str] = []
        for col_index, spans in self._spans_by_column():
            old = self.schema_.columns[col_index].name
            new = rename[old]
            for span in spans:
                for name in self._feature_names[span.start : span.end]:
                    # every fitted feature name starts with its column name
                    out.append(new + name[len(old) :])
        return out

    def _spans_by_column(self) -> list[tuple[int, list[Span]]]:
        """Spans grouped by column index, in output order."""
        groups: list[tuple[int, list[Span]]] = []
        for span in self.spans_:
            j = self.schema_.index(span.column)
            if groups and groups[-1][0] == j:
                groups[-1][1].append(span)
            else:
                groups.append((j, [span]))
        return groups

    # -- persistence ---------------------------------------------------------------------------
    def to_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """Fitted state as (JSON-able dict, named numpy arrays); no training rows.

        :meth:`from_state` rebuilds an equal encoder.  The arrays are what a generator saves
        with its weights (for example as safetensors).
        """
        self._check_fitted()
        state = {
            "format": STATE_FORMAT,
            "params": self.get_params(),
            "schema": self.schema_.to_dict(),
            "spans": [asdict(s) for s in self.spans_],
            "feature_names": list(self._feature_names),
        }
        arrays: dict[str, np.ndarray] = {
            "center": self._center.copy(),
            "scale": self._scale.copy(),
            "resolution": self._resolution.copy(),
        }
        arrays |= {f"grid.{j}": g.copy() for j, g in self._grids.items()}
        arrays |= {f"code_to_pos.{j}": a.copy() for j, a in self._code_to_pos.items()}
        arrays |= {f"pos_to_code.{j}": a.copy() for j, a in self._pos_to_code.items()}
        return state, arrays

    @classmethod
    def from_state(cls, state: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> TableEncoder:
        """Rebuild an encoder from what :meth:`to_state` returned.

        Raises
        ------
        ModelFormatError
            When the state is from a newer format or does not fit together.
        """
        fmt = state.get("format")
        if fmt != STATE_FORMAT:
            raise ModelFormatError(
                f"encoder state has format {fmt!r}; this synthaug reads format {STATE_FORMAT}. "
                "Upgrade synthaug or refit the encoder."
            )
        try:
            encoder = cls(**state["params"])
            encoder._check_params()
            schema = TableSchema.from_dict(state["schema"])
            spans = [Span(**s) for s in state["spans"]]
            plain = {k: np.asarray(v) for k, v in arrays.items()}
            encoder.schema_ = schema
            encoder.spans_ = spans
            encoder.n_features_out_ = spans[-1].end if spans else 0
            encoder._center = plain["center"].astype(np.float64)
            encoder._scale = plain["scale"].astype(np.float64)
            encoder._resolution = plain["resolution"].astype(np.float64)
            encoder._grids = _indexed(plain, "grid.", np.float64)
            encoder._code_to_pos = _indexed(plain, "code_to_pos.", np.int64)
            encoder._pos_to_code = _indexed(plain, "pos_to_code.", np.float64)
            encoder._feature_names = [str(n) for n in state["feature_names"]]
            encoder._validate_state()
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            if isinstance(exc, ModelFormatError):
                raise
            raise ModelFormatError(
                f"encoder state is damaged or incomplete ({exc!r}); refit the encoder."
            ) from None
        return encoder

    def _validate_state(self) -> None:
        n_cols = len(self.schema_.columns)
        if len(self._feature_names) != self.n_features_out_:
            raise ModelFormatError("encoder state: feature names do not match the spans.")
        for arr in (self._center, self._scale, self._resolution):
            if arr.shape != (n_cols,):
                raise ModelFormatError("encoder state: per-column arrays have the wrong length.")
        for j, spans in self._spans_by_column():
            main = spans[0]
            if main.kind == "discrete":
                if len(self._pos_to_code[j]) != main.width:
                    raise ModelFormatError(f"encoder state: column {main.column!r} is damaged.")
            elif self.numerical == "quantile" and j not in self._grids:
                raise ModelFormatError(f"encoder state: no quantile grid for {main.column!r}.")

    # -- helpers -------------------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not hasattr(self, "spans_"):
            raise NotFittedError(
                "This TableEncoder is not fitted yet. Call fit(frame) first, or rebuild a "
                "fitted one with TableEncoder.from_state(...)."
            )

    def __repr__(self) -> str:
        changed = {k: v for k, v in self.get_params().items() if v != _DEFAULTS[k]}
        return f"TableEncoder({', '.join(f'{k}={v!r}' for k, v in changed.items())})"


def _level_name(level: Any) -> str:
    return str(level.item() if isinstance(level, np.generic) else level)


def _indexed(arrays: Mapping[str, np.ndarray], prefix: str, dtype: Any) -> dict[int, np.ndarray]:
    return {
        int(k[len(prefix) :]): v.astype(dtype) for k, v in arrays.items() if k.startswith(prefix)
    }
