"""The tabular recipe task: tables in, an MLP over standardized numerics and embeddings out.

* **The recipe's names** are columns: ``data.target`` is the label column, ``data.sensitive``
  and ``scenario.column`` are feature columns, ``data.drop`` lists columns left out.
* **Model inputs**: :class:`TabularFeaturizer` gives ``x_num`` (float32 standardized numerics
  and missing-value indicators) and ``x_cat`` (int64 category codes); the default model is
  :class:`TabularMLP`, registered as ``tabular.mlp``, whose ``forward(x_num, x_cat)`` returns
  logits.  :class:`TabularInputs` is what a model factory is given.
* **The generator** is fitted on the training rows, label column included, and drawn from
  class by class with the label (and the scenario's group) as exact conditions.
* **The classic baseline** is SMOTE: SMOTE for numeric-only tables, SMOTEN for categorical-only,
  SMOTENC for mixed ones (:func:`smote_rows`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import torch
from torch import nn

from synthaug import registry
from synthaug.data.schema import TableSchema
from synthaug.exceptions import InvalidDataError, InvalidParameterError
from synthaug.generators.base import BaseGenerator
from synthaug.recipes.splits import plain
from synthaug.recipes.tasks import Problems, Task, register_task

__all__ = [
    "MISSING_CODE",
    "UNKNOWN_CODE",
    "TabularFeaturizer",
    "TabularInputs",
    "TabularMLP",
    "TabularTask",
    "smote_rows",
]

#: category code of a missing value, and of a level never seen when the featurizer was fitted
MISSING_CODE, UNKNOWN_CODE = 0, 1


# -- model inputs ------------------------------------------------------------------------------
@dataclass(frozen=True)
class TabularInputs:
    """What a tabular downstream model is given to build itself.

    Attributes
    ----------
    numeric_features : tuple of str
        Names of the columns of ``x_num`` (standardized values and ``__missing`` indicators).
    categorical_features : tuple of str
        Names of the columns of ``x_cat``.
    cardinalities : tuple of int
        Number of codes of each categorical column (code 0 = missing, 1 = unseen level).
    n_classes : int
        Number of classes of the target.
    """

    numeric_features: tuple[str, ...]
    categorical_features: tuple[str, ...]
    cardinalities: tuple[int, ...]
    n_classes: int


class TabularFeaturizer:
    """Turn a table's feature columns into the two matrices a tabular model reads.

    Numerical, integer and datetime columns are standardized with the fitted mean and standard
    deviation (missing values become 0, with a 0/1 indicator when the fitted rows had missing
    values); categorical and boolean columns become integer codes: 0 for missing, 1 for a level
    not seen in fit (validation and test rows may hold one), 2.. for the fitted levels.  Unlike
    :class:`~synthaug.data.encoders.TableEncoder` it never fails on unseen levels, because the
    runner fits it on a few real training rows and applies it to the whole test set.

    Parameters
    ----------
    target : str
        The label column; it is never a feature.

    Examples
    --------
    >>> import pandas as pd
    >>> from synthaug.recipes.tasks.tabular import TabularFeaturizer
    >>> df = pd.DataFrame({"age": [20.0, 40.0], "job": ["a", "b"], "y": [0, 1]})
    >>> feat = TabularFeaturizer(target="y").fit(df)
    >>> x = feat.transform(pd.DataFrame({"age": [30.0], "job": ["zzz"], "y": [1]}))
    >>> x["x_num"].tolist(), x["x_cat"].tolist()
    ([[0.0]], [[1]])
    """

    def __init__(self, *, target: str) -> None:
        self.target = target

    def fit(self, frame: pd.DataFrame) -> TabularFeaturizer:
        """Learn the column kinds, the numeric statistics and the category levels of ``frame``."""
        numeric: list[str] = []
        stats: dict[str, tuple[float, float, bool]] = {}
        levels: dict[str, pd.Index] = {}
        for name in frame.columns:
            if name == self.target:
                continue
            series = frame[name]
            if _is_numeric(series):
                values = _as_float(series)
                observed = values[~np.isnan(values)]
                mean = float(observed.mean()) if len(observed) else 0.0
                std = float(observed.std()) if len(observed) > 1 else 0.0
                stats[name] = (mean, std if std > 0 else 1.0, bool(np.isnan(values).any()))
                numeric.append(name)
            else:
                present = series[series.notna()].astype(str)
                levels[name] = pd.Index(sorted(set(present)), dtype=object)
        self.numeric_ = numeric
        self.stats_ = stats
        self.levels_ = levels
        return self

    @property
    def numeric_features(self) -> tuple[str, ...]:
        """Names of the columns of ``x_num``."""
        out: list[str] = []
        for name in self.numeric_:
            out.append(name)
            if self.stats_[name][2]:
                out.append(f"{name}__missing")
        return tuple(out)

    def inputs(self, n_classes: int) -> TabularInputs:
        """The :class:`TabularInputs` of the fitted layout."""
        return TabularInputs(
            numeric_features=self.numeric_features,
            categorical_features=tuple(self.levels_),
            cardinalities=tuple(len(lv) + 2 for lv in self.levels_.values()),
            n_classes=n_classes,
        )

    def transform(self, frame: pd.DataFrame) -> dict[str, np.ndarray]:
        """Return ``{"x_num": float32 (n, n_numeric), "x_cat": int64 (n, n_categorical)}``."""
        missing = [c for c in (*self.numeric_, *self.levels_) if c not in frame.columns]
        if missing:
            raise InvalidDataError(f"the frame lacks the fitted feature column(s) {missing}.")
        n = len(frame)
        blocks: list[np.ndarray] = []
        for name in self.numeric_:
            mean, std, indicator = self.stats_[name]
            values = _as_float(frame[name])
            isna = np.isnan(values)
            blocks.append(np.where(isna, 0.0, (values - mean) / std))
            if indicator:
                blocks.append(isna.astype(np.float64))
        x_num = np.column_stack(blocks).astype(np.float32) if blocks else np.zeros((n, 0),
                                                                                  np.float32)
        codes: list[np.ndarray] = []
        for name, lv in self.levels_.items():
            series = frame[name]
            isna = series.isna().to_numpy()
            pos = lv.get_indexer(pd.Index(series.astype(str).to_numpy(dtype=object)))
            code = np.where(pos >= 0, pos + 2, UNKNOWN_CODE)
            codes.append(np.where(isna, MISSING_CODE, code))
        x_cat = np.column_stack(codes).astype(np.int64) if codes else np.zeros((n, 0), np.int64)
        return {"x_num": x_num, "x_cat": x_cat}


def _is_numeric(series: pd.Series) -> bool:
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return False
    return bool(pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_datetime64_any_dtype(dtype))


def _as_float(series: pd.Series) -> np.ndarray:
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        ns = series.astype("datetime64[ns]").to_numpy().view(np.int64).astype(np.float64)
        ns[series.isna().to_numpy()] = np.nan
        return ns
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


# -- the default model -------------------------------------------------------------------------
class TabularMLP(nn.Module):
    """MLP over standardized numerics and learned embeddings of the categorical columns.

    Registered as ``tabular.mlp`` in :data:`synthaug.registry.downstream_models`.

    Parameters
    ----------
    inputs : TabularInputs
        The layout of the features (from :meth:`TabularFeaturizer.inputs`).
    hidden : sequence of int, default=(128, 64)
        Width of each hidden layer (ReLU, then dropout).
    dropout : float, default=0.1
        Dropout after each hidden layer.
    embedding_dim : int or None, default=None
        Width of every category embedding; ``None`` picks ``min(16, round(1.6 * k**0.56))`` for
        a column of ``k`` codes (the usual rule of thumb for tabular embeddings).

    Examples
    --------
    >>> import torch
    >>> from synthaug.recipes.tasks.tabular import TabularInputs, TabularMLP
    >>> inputs = TabularInputs(("age",), ("job",), (5,), n_classes=2)
    >>> model = TabularMLP(inputs, hidden=(8,))
    >>> model(x_num=torch.zeros(3, 1), x_cat=torch.zeros(3, 1, dtype=torch.long)).shape
    torch.Size([3, 2])
    """

    def __init__(
        self,
        inputs: TabularInputs,
        *,
        hidden: Sequence[int] = (128, 64),
        dropout: float = 0.1,
        embedding_dim: int | None = None,
    ) -> None:
        super().__init__()
        widths: list[Any] = list(hidden) if isinstance(hidden, (list, tuple)) else [hidden]
        if not widths or any(isinstance(h, bool) or not isinstance(h, int) or h < 1
                             for h in widths):
            raise InvalidParameterError(
                f"hidden must be a non-empty list of positive ints, got {hidden!r}.")
        if not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
            raise InvalidParameterError(f"dropout must be in [0, 1), got {dropout!r}.")
        if embedding_dim is not None and (not isinstance(embedding_dim, int) or embedding_dim < 1):
            raise InvalidParameterError(
                f"embedding_dim must be None or a positive int, got {embedding_dim!r}.")
        dims = [embedding_dim or min(16, max(2, round(1.6 * k**0.56)))
                for k in inputs.cardinalities]
        self.embeddings = nn.ModuleList(
            nn.Embedding(k, d) for k, d in zip(inputs.cardinalities, dims, strict=True)
        )
        layers: list[nn.Module] = []
        width = len(inputs.numeric_features) + sum(dims)
        for h in widths:
            layers += [nn.Linear(width, h), nn.ReLU(), nn.Dropout(dropout)]
            width = h
        layers.append(nn.Linear(width, inputs.n_classes))
        self.body = nn.Sequential(*layers)

    def forward(self, x_num: torch.Tensor, x_cat: torch.Tensor) -> torch.Tensor:
        parts = [x_num] + [emb(x_cat[:, i]) for i, emb in enumerate(self.embeddings)]
        out: torch.Tensor = self.body(torch.cat(parts, dim=1))
        return out


registry.downstream_models.register("tabular.mlp")(TabularMLP)


# -- the classic baseline ----------------------------------------------------------------------
def smote_rows(reference: pd.DataFrame, codes: np.ndarray, plan: np.ndarray,
               classes: Sequence[Any], *, target: str, like: pd.DataFrame,
               random_state: int, notes: list[str]) -> pd.DataFrame:
    """Classic oversampling: ``plan[c]`` new rows of class ``classes[c]`` from ``reference``.

    SMOTE for numeric-only tables, SMOTEN for categorical-only, SMOTENC for mixed ones.  It runs
    on the schema's matrix view: numerics standardized (missing values imputed with the mean
    and flagged by a categorical indicator), categories as codes with missing as a code of its
    own; the new rows are decoded back through the schema (ranges, integers, dtypes).  A class
    with fewer than 2 reference rows has no neighbours and gets no rows (said in ``notes``).

    Parameters
    ----------
    reference : DataFrame
        The real rows to interpolate between (label column included).
    codes : ndarray of int
        The class code of each reference row.
    plan : ndarray of int
        New rows per class.
    classes : sequence
        The label value of each class code.
    target : str
        The label column.
    like : DataFrame
        The training rows: the new rows get their column order and label dtype.
    random_state : int
        Seeds the sampler and the decoding.
    notes : list of str
        Appended to when a class cannot be served.
    """
    from imblearn.over_sampling import SMOTE, SMOTEN, SMOTENC

    ref = reference.reset_index(drop=True)
    y = codes
    counts = np.bincount(y, minlength=len(classes))
    plan = plan.copy()
    too_small = [c for c in range(len(plan)) if plan[c] > 0 and counts[c] < 2]
    for c in too_small:
        notes.append(f"SMOTE cannot make class {classes[c]!r} rows from {counts[c]} real "
                     "row(s); it gets none.")
        plan[c] = 0
    if plan.sum() == 0:
        return like.iloc[:0].copy()
    features = ref.drop(columns=[target])
    schema = TableSchema.detect(features)
    matrix = schema.to_matrix(features)
    columns: list[np.ndarray] = []
    categorical: list[bool] = []
    layout: list[tuple[int, str, float, float]] = []  # (schema column, role, center, scale)
    for j, col in enumerate(schema.columns):
        values = matrix[:, j]
        missing = np.isnan(values)
        if col.kind.is_continuous:
            observed = values[~missing]
            center = float(observed.mean()) if len(observed) else 0.0
            scale = float(observed.std()) if len(observed) > 1 else 0.0
            scale = scale if scale > 0 else 1.0
            columns.append(np.where(missing, 0.0, (values - center) / scale))
            categorical.append(False)
            layout.append((j, "value", center, scale))
            if missing.any():
                columns.append(missing.astype(np.float64))
                categorical.append(True)
                layout.append((j, "missing", 0.0, 1.0))
        elif col.kind.is_discrete:
            n_levels = len(col.categories or [])
            columns.append(np.where(missing, n_levels, values))
            categorical.append(True)
            layout.append((j, "code", float(n_levels), 1.0))
    X = np.column_stack(columns) if columns else np.zeros((len(ref), 0))
    targeted = [c for c in range(len(plan)) if plan[c] > 0]
    k = max(1, min(5, *(int(counts[c]) - 1 for c in targeted)))
    strategy = {c: int(counts[c] + plan[c]) for c in targeted}
    rs = random_state % (2**32)
    cat_idx = [i for i, is_cat in enumerate(categorical) if is_cat]
    sampler: Any
    if not cat_idx:
        sampler = SMOTE(sampling_strategy=strategy, k_neighbors=k, random_state=rs)
    elif len(cat_idx) == X.shape[1]:
        sampler = SMOTEN(sampling_strategy=strategy, k_neighbors=k, random_state=rs)
    else:
        sampler = SMOTENC(categorical_features=cat_idx, sampling_strategy=strategy,
                          k_neighbors=k, random_state=rs)
    X_res, y_res = sampler.fit_resample(X, y)
    X_new, y_new = np.asarray(X_res)[len(X):], np.asarray(y_res)[len(X):]
    decoded = np.full((len(X_new), len(schema.columns)), np.nan)
    for i, (j, role, center, scale) in enumerate(layout):
        if role == "value":
            decoded[:, j] = X_new[:, i] * scale + center
        elif role == "missing":
            decoded[X_new[:, i] > 0.5, j] = np.nan
        else:
            codes_new = np.rint(X_new[:, i])
            decoded[:, j] = np.where(codes_new >= center, np.nan, codes_new)
    rows = schema.from_matrix(decoded, np.random.default_rng(rs))
    labels = [plain(classes[int(c)]) for c in y_new]
    rows[target] = pd.Series(labels, dtype=like[target].dtype)
    return rows[list(like.columns)]


# -- the task ----------------------------------------------------------------------------------
@register_task("tabular")
class TabularTask(Task):
    """Recipes on tables (see the module docstring).

    Examples
    --------
    >>> import pandas as pd
    >>> from synthaug.config import RecipeSpec
    >>> from synthaug.recipes.tasks.tabular import TabularTask
    >>> spec = RecipeSpec.model_validate({"name": "demo", "data": {"source": "x.csv",
    ...     "target": "y", "sensitive": "sexx"}})
    >>> TabularTask(spec).check_roles(pd.DataFrame({"sex": ["f"], "y": [1]}))[0][1][:32]
    "'sexx' is not a column of the da"
    """

    modality: ClassVar[str] = "tabular"
    default_model: ClassVar[str] = "tabular.mlp"
    baseline: ClassVar[str] = "smote"
    reference: ClassVar[str | None] = "hist_gradient_boosting"

    # -- the recipe's names --------------------------------------------------------------------
    def check_roles(self, data: pd.DataFrame) -> Problems:
        import difflib

        spec = self.spec
        columns = [str(c) for c in data.columns]

        def missing(name: str, field_path: str) -> tuple[str, str] | None:
            if name in data.columns:
                return None
            close = difflib.get_close_matches(name, columns, n=1, cutoff=0.6)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            return (field_path, f"{name!r} is not a column of the data.{hint} Columns: "
                                f"{', '.join(columns)}.")

        problems: Problems = []
        for name, path in [(spec.data.target, "data.target"),
                           (spec.data.sensitive, "data.sensitive"),
                           (spec.scenario.column, "scenario.column")]:
            if name is not None and (p := missing(name, path)):
                problems.append(p)
        for i, name in enumerate(spec.data.drop):
            if (p := missing(name, f"data.drop[{i}]")):
                problems.append(p)
        dropped = set(spec.data.drop)
        for name, path in [(spec.data.sensitive, "data.sensitive"),
                           (spec.scenario.column, "scenario.column")]:
            if name is not None and name in dropped:
                problems.append((path, f"{name!r} is listed in data.drop."))
        return problems

    def labels(self, data: pd.DataFrame) -> np.ndarray | None:
        target = self.spec.data.target
        return self.data.labels(data, target=target) if target in data.columns else None

    def groups(self, data: pd.DataFrame, name: str) -> np.ndarray | None:
        return data[name].to_numpy() if name in data.columns else None

    def select(self, data: pd.DataFrame) -> pd.DataFrame:
        return data.drop(columns=list(self.spec.data.drop))

    def describe(self, data: pd.DataFrame) -> dict[str, Any]:
        return {"rows": len(data), "columns": [str(c) for c in data.columns]}

    # -- model inputs --------------------------------------------------------------------------
    def featurizer(self) -> TabularFeaturizer:
        return TabularFeaturizer(target=self.spec.data.target)

    # -- the generator -------------------------------------------------------------------------
    def generator_input(self, train: pd.DataFrame) -> pd.DataFrame:
        rows = train.copy()
        for name in rows.columns:
            if isinstance(rows[name].dtype, pd.CategoricalDtype):
                # a category level that only validation or test rows hold must not reach the
                # generator, not even as an unused level of the dtype
                rows[name] = rows[name].cat.remove_unused_categories()
        return rows

    def synthetic(self, gen: BaseGenerator, n: int, *, label: Any,
                  group: tuple[str, Any] | None, like: pd.DataFrame,
                  random_state: int) -> pd.DataFrame:
        conditions: dict[str, Any] = {self.spec.data.target: label}
        if group is not None:
            conditions[group[0]] = group[1]
        rows = pd.DataFrame(gen.sample(n, conditions=conditions, random_state=random_state))
        rows = rows.reset_index(drop=True)
        # the row was drawn for this class (and group): that is its label, whether or not the
        # generator declares exact conditions
        for name, value in conditions.items():
            rows[name] = pd.Series([value] * len(rows), dtype=like[name].dtype)
        return rows

    # -- the classic baseline ------------------------------------------------------------------
    def classic(self, reference: pd.DataFrame, codes: np.ndarray, plan: np.ndarray,
                classes: list[Any], *, like: pd.DataFrame, random_state: int,
                notes: list[str]) -> pd.DataFrame:
        return smote_rows(reference, codes, plan, classes, target=self.spec.data.target,
                          like=like, random_state=random_state, notes=notes)
