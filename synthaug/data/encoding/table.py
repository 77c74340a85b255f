"""The reversible tabular encoding: a schema matrix (or a frame) in, dense floats out, and back.

:class:`TableEncoder` is the one implementation behind ``sklearn.TabularEncoder`` and the
GAN's and VAE's encodings; what they need differently is an option:

=================  ==========================================================================
``numerical``      ``"standard"`` z-scores, ``"quantile"`` normal scores, ``"gmm"`` CTGAN's
                   mode-specific normalisation (a one-hot mixture component plus a scaled value)
``missing``        a continuous column's missing values as one 0/1 ``"indicator"`` (value 0)
                   or a two-way ``"onehot"`` softmax (value: the column mean's encoding)
``discrete``       ``"onehot"`` slots, or the slot number as one feature (``"codes"``)
``other``          the grouped "other" slot decodes to the ``"most_frequent"`` grouped level,
                   or to one drawn by training frequency (``"sample"``)
``handle_unknown`` a missing value in a column fitted without any: ``"error"``, or
                   ``"impute"`` it (the commonest slot; a continuous value as ``missing`` says)
=================  ==========================================================================

The layout is data (:attr:`TableEncoder.layout_`); decoding runs in torch
(:class:`~synthaug.data.encoding.torch.DeviceDecoder`), on the CPU for
:meth:`TableEncoder.inverse_matrix` and on the generator's device for sampling.  The fitted
state is small JSON plus a few arrays per column, never training rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator

from synthaug.data.encoding.columns import (
    EpsPolicy,
    discrete_layout,
    fit_gmm_1d,
    gmm_encode,
    quantile_grid,
    quantile_scores,
    standard_stats,
)
from synthaug.data.encoding.layout import Span, SpanLayout
from synthaug.data.encoding.state import STATE_FORMAT, read_state
from synthaug.data.encoding.torch import DeviceDecoder
from synthaug.data.schema import ColumnKind, TableSchema, datetime_resolution
from synthaug.exceptions import (
    InvalidDataError,
    InvalidParameterError,
    ModelFormatError,
    NotFittedError,
)
from synthaug.utils.random import RandomState, check_random_state, torch_generator
from synthaug.utils.validation import check_choice, check_int

__all__ = ["TableEncoder"]

_CPU = torch.device("cpu")


class TableEncoder(BaseEstimator):
    """Reversible encoding of a table into a dense float matrix, and back.

    Parameters
    ----------
    numerical : {"standard", "quantile", "gmm"}, default="standard"
        Numerical, integer and datetime columns: ``"standard"`` subtracts the mean and divides
        by the standard deviation (exactly reversible up to float round-off); ``"quantile"``
        maps values through a stored quantile grid to normal scores, which makes skewed and
        spiky columns look Gaussian (reversible up to the grid's resolution); ``"gmm"`` fits a
        1-D Gaussian mixture and encodes a one-hot component (drawn from the value's
        posterior) plus the value scaled by it, ``(x - mean_k) / (4 sd_k)``.
    missing : {"indicator", "onehot"}, default="indicator"
        Missing values of a continuous column that had some in fit: one 0/1 feature (the value
        feature is 0) or a two-way one-hot ``[observed, missing]`` block (the value feature
        holds the column mean's encoding), which a generator samples as a softmax.
    discrete : {"onehot", "codes"}, default="onehot"
        Categorical and boolean columns: one-hot slots, or one feature holding the slot number.
    other : {"most_frequent", "sample"}, default="most_frequent"
        With ``max_categories``, the slot the rarest levels share decodes to the most frequent
        of them, or to one drawn by training frequency (levels never seen in fit are then left
        out of the group).
    handle_unknown : {"error", "impute"}, default="error"
        A missing value in a column that had none in fit raises :class:`InvalidDataError`, or
        is imputed: the commonest slot of a discrete column; a continuous column's value as
        ``missing`` encodes any missing row (there is no flag to set).
    max_categories : int or None, default=None
        Most slots per categorical column, not counting the missing level: the
        ``max_categories - 1`` most frequent levels keep their own and the rest share "other".
        ``None`` keeps every level.
    n_quantiles : int, default=1000
        Points of each quantile grid (fewer when a column has fewer observed values).
    n_modes : int, default=10
        Most mixture components per column for ``numerical="gmm"``.
    dtype : {"float64", "float32"}, default="float64"
        Dtype of the arrays :meth:`transform` returns.

    Attributes
    ----------
    schema_ : TableSchema
        The schema of the fitted table.
    layout_ : SpanLayout
        The output layout; ``spans_`` is its list of :class:`Span`.
    n_features_out_ : int
        Number of output features.
    arrays_ : dict of str to ndarray
        The fitted statistics, keyed ``<name>.<column index>`` (``grid.3``, ``code_to_pos.5``).
    quantile_eps_ : {"squeeze", "clip"}
        How quantile probabilities are kept off 0 and 1 (``"clip"`` only for states read from
        model folders saved before synthaug 0.2).

    Examples
    --------
    >>> import pandas as pd
    >>> from synthaug.data.encoding import TableEncoder
    >>> df = pd.DataFrame({"age": [23.0, 35.0, None, 51.0],
    ...                    "work": ["Private", "State", "Private", None]})
    >>> enc = TableEncoder().fit(df)
    >>> enc.get_feature_names_out()
    ['age', 'age__missing', 'work=Private', 'work=State', 'work__missing']
    >>> [(s.column, s.kind, s.start, s.end) for s in enc.spans_]
    [('age', 'continuous', 0, 1), ('age', 'missing', 1, 2), ('work', 'discrete', 2, 5)]
    >>> enc.inverse_transform(enc.transform(df), rng=0).equals(df)
    True
    """

    def __init__(
        self,
        *,
        numerical: str = "standard",
        missing: str = "indicator",
        discrete: str = "onehot",
        other: str = "most_frequent",
        handle_unknown: str = "error",
        max_categories: int | None = None,
        n_quantiles: int = 1000,
        n_modes: int = 10,
        dtype: str = "float64",
    ) -> None:
        self.numerical = numerical
        self.missing = missing
        self.discrete = discrete
        self.other = other
        self.handle_unknown = handle_unknown
        self.max_categories = max_categories
        self.n_quantiles = n_quantiles
        self.n_modes = n_modes
        self.dtype = dtype

    def _check_params(self) -> None:
        check_choice(self.numerical, "numerical", ("standard", "quantile", "gmm"))
        check_choice(self.missing, "missing", ("indicator", "onehot"))
        check_choice(self.discrete, "discrete", ("onehot", "codes"))
        check_choice(self.other, "other", ("most_frequent", "sample"))
        check_choice(self.handle_unknown, "handle_unknown", ("error", "impute"))
        check_int(self.max_categories, "max_categories", 1, allow_none=True)
        check_int(self.n_quantiles, "n_quantiles", 2)
        check_int(self.n_modes, "n_modes", 1)
        check_choice(self.dtype, "dtype", ("float64", "float32"))

    # -- frames --------------------------------------------------------------------------------
    def fit(self, frame: Any, y: Any = None, *, rng: RandomState = None) -> TableEncoder:
        """Learn the layout and the per-column statistics of ``frame`` (``y`` is ignored).

        Parameters
        ----------
        frame : DataFrame or 2-D ndarray
            The table to learn from (an array's columns are named ``x0``, ``x1``, ...).
        rng : int, numpy Generator or None
            Randomness of ``numerical="gmm"`` (a subsample of large columns); nothing else
            draws.

        Returns
        -------
        self
        """
        self._check_params()
        schema = TableSchema.detect(frame)
        return self.fit_matrix(schema, schema.to_matrix(frame), rng)

    def fit_transform(self, frame: Any, y: Any = None, *, rng: RandomState = None
                      ) -> np.ndarray:
        """Fit on ``frame`` and return its encoding (the table is converted once)."""
        self._check_params()
        generator = check_random_state(rng)
        schema = TableSchema.detect(frame)
        matrix = schema.to_matrix(frame)
        return self.fit_matrix(schema, matrix, generator).transform_matrix(matrix, generator)

    def transform(self, frame: Any, *, rng: RandomState = None) -> np.ndarray:
        """Encode ``frame`` (the fitted columns, in order) as an ``(n, n_features_out_)`` array.

        ``rng`` draws the mixture components of ``numerical="gmm"``; nothing else is random.

        Raises
        ------
        InvalidDataError
            For a category never seen in fit, or (``handle_unknown="error"``) missing values
            where fit saw none (there is then no feature to encode them).
        """
        self._check_fitted()
        return self.transform_matrix(self.schema_.to_matrix(frame), rng)

    def inverse_transform(self, array: np.ndarray, rng: RandomState = None) -> pd.DataFrame:
        """Decode an array in the layout of :attr:`spans_` into a typed DataFrame.

        Any real-valued array of the right width works (raw generator output, say): one-hot
        blocks decode by argmax, slot numbers by rounding, missing indicators as missing when
        above 0.5, and the schema then restores dtypes, clips to the fitted ranges, rounds
        integer columns and snaps few-valued number columns to their values
        (``ColumnSchema.discrete_values``).

        Parameters
        ----------
        array : ndarray of shape (n, n_features_out_)
            The encoded rows.
        rng : int, numpy Generator or None
            Randomness for regenerated identifier columns and ``other="sample"``.

        Returns
        -------
        DataFrame
            With the fitted columns and dtypes (array input gives columns ``x0``, ``x1``, ...;
            see :meth:`TableSchema.to_container` to get the original container back).
        """
        self._check_fitted()
        generator = check_random_state(rng)
        return self.schema_.from_matrix(self.inverse_matrix(array, generator), generator)

    # -- schema matrices -----------------------------------------------------------------------
    def fit_matrix(self, schema: TableSchema, matrix: np.ndarray, rng: RandomState = None
                   ) -> TableEncoder:
        """Fit on ``matrix``, a table in the layout of ``schema`` (:meth:`TableSchema.to_matrix`).

        Returns
        -------
        self
        """
        self._check_params()
        generator = check_random_state(rng)
        arrays: dict[str, np.ndarray] = {}
        spans: list[Span] = []
        start = 0
        for j, col in enumerate(schema.columns):
            values = matrix[:, j]
            missing = np.isnan(values)
            name = col.name
            if col.kind.is_discrete:
                n_levels = len(col.categories or [])
                codes = np.where(missing, n_levels, values).astype(np.int64)
                layout = discrete_layout(np.bincount(codes, minlength=n_levels + 1),
                                         col.nullable, self.max_categories,
                                         sample_other=self.other == "sample")
                arrays |= {f"code_to_pos.{j}": layout.code_to_pos,
                           f"pos_to_code.{j}": layout.pos_to_code, f"counts.{j}": layout.counts}
                if len(layout.grouped):
                    arrays |= {f"grouped.{j}": layout.grouped.astype(np.float64),
                               f"grouped_cum.{j}": layout.grouped_cum}
                width = layout.width if self.discrete == "onehot" else 1
                spans.append(Span(name, "discrete" if self.discrete == "onehot" else "code",
                                  start, start + width))
                start += width
            elif col.kind.is_continuous:
                observed = values[~missing]
                spans.append(Span(name, "continuous", start, start + 1))
                start += 1
                if self.numerical == "quantile":
                    arrays[f"grid.{j}"] = quantile_grid(observed, self.n_quantiles)
                elif self.numerical == "standard":
                    center, scale = standard_stats(observed)
                    arrays |= {f"center.{j}": np.array([center]), f"scale.{j}": np.array([scale])}
                else:
                    means, stds, weights = fit_gmm_1d(observed, self.n_modes, generator)
                    arrays |= {f"means.{j}": means, f"stds.{j}": stds, f"weights.{j}": weights}
                    spans.append(Span(name, "mode", start, start + len(means)))
                    start += len(means)
                if col.kind is ColumnKind.DATETIME:
                    arrays[f"resolution.{j}"] = np.array([float(datetime_resolution(observed))])
                if col.nullable:
                    width = 2 if self.missing == "onehot" else 1
                    spans.append(Span(name, "missing", start, start + width))
                    start += width
            # identifier and empty columns carry nothing to learn; the schema regenerates them
        self.schema_ = schema
        self.layout_ = SpanLayout(spans, schema.names)
        self.spans_ = self.layout_.spans
        self.n_features_out_ = self.layout_.width
        self.arrays_ = arrays
        self.quantile_eps_: EpsPolicy = "squeeze"
        return self

    def transform_matrix(self, matrix: np.ndarray, rng: RandomState = None) -> np.ndarray:
        """Encode a schema matrix as an ``(n, n_features_out_)`` array of ``dtype``."""
        self._check_fitted()
        generator = check_random_state(rng)
        out = np.zeros((len(matrix), self.n_features_out_), dtype=np.dtype(self.dtype))
        for j, spans in self.layout_.groups():
            out[:, spans[0].start : spans[-1].end] = self.encode_column(j, matrix[:, j],
                                                                        generator)
        return out

    def encode_column(self, j: int, values: np.ndarray, rng: RandomState = None) -> np.ndarray:
        """The features of schema column ``j`` for ``values`` (that column of a schema matrix)."""
        self._check_fitted()
        spans = self.layout_.column_spans(j)
        col = self.schema_.columns[j]
        n = len(values)
        block = np.zeros((n, spans[-1].end - spans[0].start), dtype=np.dtype(self.dtype))
        rows = np.arange(n)
        missing = np.isnan(values)
        if self.handle_unknown == "error" and not col.nullable and missing.any():
            raise InvalidDataError(
                f"column {col.name!r} has {int(missing.sum())} missing value(s), but had "
                "none when the encoder was fitted, so the encoding has no feature for them. "
                "Fit on data that includes missing values in this column, or fill them in "
                "first."
            )
        first = spans[0]
        if first.kind in ("discrete", "code"):
            to_pos = self.arrays_[f"code_to_pos.{j}"]
            codes = np.where(missing, len(to_pos) - 1, np.nan_to_num(values)).astype(np.int64)
            pos = to_pos[codes]
            if (pos < 0).any():  # no slot (missing where fit saw none): the commonest slot
                pos = np.where(pos < 0, int(np.argmax(self.level_counts(j))), pos)
            if first.kind == "code":
                block[:, 0] = pos
            else:
                block[rows, pos] = 1.0
            return block
        if self.missing == "onehot":
            filled = np.where(missing, np.nanmean(values) if (~missing).any() else 0.0, values)
        else:
            filled = values  # missing rows get 0 below
        if self.numerical == "quantile":
            block[:, 0] = quantile_scores(filled, self.arrays_[f"grid.{j}"], self.quantile_eps_)
        elif self.numerical == "standard":
            block[:, 0] = (filled - self.arrays_[f"center.{j}"][0]) / self.arrays_[f"scale.{j}"][0]
        else:
            means, stds = self.arrays_[f"means.{j}"], self.arrays_[f"stds.{j}"]
            mode, scaled = gmm_encode(np.nan_to_num(filled, nan=float(means[0])), means, stds,
                                      self.arrays_[f"weights.{j}"], check_random_state(rng))
            block[:, 0] = scaled
            block[rows, 1 + mode] = 1.0
        last = spans[-1]
        if self.missing == "indicator":
            block[:, 0] = np.where(missing, 0.0, block[:, 0])
            if last.kind == "missing":
                block[:, -1] = missing
        elif last.kind == "missing":
            block[rows, block.shape[1] - 2 + missing.astype(np.int64)] = 1.0
        return block

    def inverse_matrix(self, array: np.ndarray, rng: RandomState = None) -> np.ndarray:
        """Decode ``(n, n_features_out_)`` features into an ``(n, n_columns)`` schema matrix.

        Softmax blocks decode by argmax (see :meth:`inverse_transform`); ``rng`` draws the
        "other" levels of ``other="sample"``.  The same code as sampling on a device
        (:meth:`to`), run on the CPU.
        """
        self._check_fitted()
        array = np.asarray(array)
        if array.ndim != 2 or array.shape[1] != self.n_features_out_:
            raise InvalidDataError(
                f"expected an array of shape (n, {self.n_features_out_}) in the encoder's "
                f"layout, got shape {array.shape}."
            )
        decoder = self.to(_CPU)
        # only draw a seed when something is drawn: the caller's stream is otherwise untouched
        gen = torch_generator(check_random_state(rng), _CPU) if decoder.draws_other else None
        features = np.ascontiguousarray(array, dtype=np.float64)
        if not features.flags.writeable:  # torch wants memory it may write to
            features = features.copy()
        return decoder.decode(torch.from_numpy(features), gen, argmax=True).numpy()

    def to(self, device: torch.device) -> DeviceDecoder:
        """The decoder of this encoding with its statistics on ``device``."""
        self._check_fitted()
        return DeviceDecoder(self, device)

    # -- layout queries ------------------------------------------------------------------------
    def level_counts(self, j: int) -> np.ndarray:
        """Training rows per slot of discrete column ``j`` (missing and "other" included)."""
        return self.arrays_[f"counts.{j}"]

    def position(self, j: int, code: int) -> int:
        """Slot of category ``code`` of discrete column ``j`` (-1: none)."""
        return int(self.arrays_[f"code_to_pos.{j}"][code])

    def level_seen(self, j: int, code: int) -> bool:
        """Whether category ``code`` of discrete column ``j`` occurred in the fitted data."""
        pos = self.position(j, code)
        if pos < 0:
            return False
        if pos == self._other_pos(j):
            # a grouped level: seen when it adds to the group's cumulative frequency
            where = np.flatnonzero(self.arrays_[f"grouped.{j}"] == code)
            cum = np.concatenate([[0.0], self.arrays_[f"grouped_cum.{j}"]])
            return bool(len(where) and cum[where[0] + 1] > cum[where[0]])
        return bool(self.level_counts(j)[pos] > 0)

    def _other_pos(self, j: int) -> int | None:
        """The slot of the "other" group of column ``j`` (``None``: no group)."""
        grouped = self.arrays_.get(f"grouped.{j}")
        return None if grouped is None else self.position(j, int(grouped[0]))

    def get_feature_names_out(self, input_names: Sequence[str] | None = None) -> list[str]:
        """Names of the output features, such as ``age``, ``age__missing``, ``work=Private``.

        Parameters
        ----------
        input_names : sequence of str, optional
            Names to use for the input columns instead of the fitted ones (same length).
        """
        self._check_fitted()
        names = self.schema_.names
        if input_names is not None:
            names = [str(n) for n in input_names]
            if len(names) != len(self.schema_.columns):
                raise InvalidParameterError(
                    f"input_names has {len(names)} names, but the encoder was fitted on "
                    f"{len(self.schema_.columns)} columns."
                )
        out: list[str] = []
        for j, spans in self.layout_.groups():
            name = names[j]
            for span in spans:
                if span.kind == "discrete":
                    levels = self.schema_.columns[j].categories or []
                    other = self._other_pos(j)
                    for pos, code in enumerate(self.arrays_[f"pos_to_code.{j}"]):
                        if np.isnan(code):
                            out.append(f"{name}__missing")
                        elif pos == other:
                            out.append(f"{name}__other")
                        else:
                            level = levels[int(code)]
                            out.append(f"{name}={_plain(level)}")
                elif span.kind == "mode":
                    out.extend(f"{name}__mode{k}" for k in range(span.width))
                elif span.kind == "missing":
                    out.extend([f"{name}__observed", f"{name}__missing"][-span.width :])
                else:
                    out.append(name)
        return out

    # -- persistence ---------------------------------------------------------------------------
    def to_state(self, *, include_schema: bool = True
                 ) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """Fitted state as (JSON-able dict, named numpy arrays); no training rows.

        :meth:`from_state` rebuilds an equal encoder.  A generator that saves the schema
        itself passes ``include_schema=False`` and hands the schema back to :meth:`from_state`.
        """
        self._check_fitted()
        state: dict[str, Any] = {
            "format": STATE_FORMAT,
            "params": self.get_params(deep=False),
            "spans": self.layout_.to_state(),
            "quantile_eps": self.quantile_eps_,
        }
        if include_schema:
            state["schema"] = self.schema_.to_dict()
        return state, {k: v.copy() for k, v in self.arrays_.items()}

    @classmethod
    def from_state(cls, state: Mapping[str, Any], arrays: Mapping[str, Any], *,
                   schema: TableSchema | None = None) -> TableEncoder:
        """Rebuild an encoder from :meth:`to_state`'s output (any format this synthaug reads:
        format 1 of synthaug 0.1's ``TableEncoder``, and the unversioned span-codec state of
        GAN and VAE folders saved before 0.2).

        Raises
        ------
        ModelFormatError
            When the state is from a newer format or does not fit together.
        """
        params, schema, spans, plain, eps = read_state(state, arrays, schema)
        try:
            encoder = cls(**params)
            encoder._check_params()
            encoder.schema_ = schema
            encoder.layout_ = SpanLayout.from_state(spans, schema.names)
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, ModelFormatError):
                raise
            raise ModelFormatError(
                f"encoder state is damaged or incomplete ({exc!r}); refit the encoder."
            ) from None
        encoder.spans_ = encoder.layout_.spans
        encoder.n_features_out_ = encoder.layout_.width
        encoder.arrays_ = plain
        encoder.quantile_eps_ = eps
        encoder._validate_state()
        return encoder

    def _validate_state(self) -> None:
        for j, spans in self.layout_.groups():
            first = spans[0]
            need = {"quantile": ["grid"], "standard": ["center", "scale"],
                    "gmm": ["means", "stds", "weights"]}[self.numerical]
            if first.kind in ("discrete", "code"):
                need = ["code_to_pos", "pos_to_code"]
            missing = [f"{k}.{j}" for k in need if f"{k}.{j}" not in self.arrays_]
            if missing:
                raise ModelFormatError(f"encoder state: column {first.column!r} lacks {missing}.")
            if first.kind == "discrete" and len(self.arrays_[f"pos_to_code.{j}"]) != first.width:
                raise ModelFormatError(f"encoder state: column {first.column!r} is damaged.")

    def _check_fitted(self) -> None:
        if not hasattr(self, "layout_"):
            raise NotFittedError(
                "This TableEncoder is not fitted yet. Call fit(frame) first, or rebuild a "
                "fitted one with TableEncoder.from_state(...)."
            )


def _plain(level: Any) -> Any:
    return level.item() if isinstance(level, np.generic) else level
