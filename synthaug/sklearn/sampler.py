"""Over-sampling with any registered generator, in the imbalanced-learn convention."""

from __future__ import annotations

from numbers import Integral
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from imblearn.over_sampling.base import BaseOverSampler
from imblearn.utils import check_target_type
from sklearn.base import clone
from sklearn.utils import check_array, check_consistent_length
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import validate_data

from synthaug import registry
from synthaug.data.modality import LABEL
from synthaug.exceptions import InvalidDataError, InvalidParameterError
from synthaug.generators.base import BaseGenerator, get_generator
from synthaug.utils.random import spawn_seed

__all__ = ["SyntheticOverSampler"]

class SyntheticOverSampler(BaseOverSampler):
    """Over-sample minority classes with rows drawn from a synthetic-data generator.

    The generator learns the joint distribution of ``X`` and the class (``fit(X, y)``); each
    class that needs ``k`` more rows then gets ``k`` rows drawn with the exact condition
    ``conditions={"label": c}``.  Any registered tabular generator works
    (``"tabular.copula"``, ``"tabular.gan"``, ...).  Mixed-type DataFrames with strings,
    categories, booleans, datetimes and missing values are accepted as they are.

    Like every imbalanced-learn sampler it has ``fit_resample`` and no ``transform``, so in an
    ``imblearn.pipeline.Pipeline`` it adds rows while the pipeline fits and does nothing when it
    predicts.  The original rows come first, unchanged; synthetic rows follow, class by class.

    Parameters
    ----------
    generator : str or BaseGenerator, default="tabular.copula"
        Registry name of a tabular generator, or an unfitted generator (it is cloned, never
        fitted in place).
    generator_params : dict or None, default=None
        Parameters given to the generator (for example ``{"epochs": 50}``).  When they do not
        set ``random_state``, the generator's seed is drawn from this sampler's
        ``random_state``.
    sampling_strategy : float, str, dict or callable, default="auto"
        Which classes to over-sample and to how many rows, with imbalanced-learn's meaning:
        ``"auto"`` (= ``"not majority"``) brings every class up to the majority count.
    random_state : int, numpy Generator, numpy RandomState or None, default=None
        Seeds the generator's fit and the draws.  An int makes ``fit_resample`` repeatable.

    Attributes
    ----------
    generator_ : BaseGenerator
        The generator fitted on ``X`` and ``y``.
    target_column_ : str
        Name the class column has inside a tabular generator (``generator_.label_``).
    sampling_strategy_ : dict
        Rows added per class (class -> count), as imbalanced-learn computes it.
    n_features_in_ : int
        Number of columns of ``X``.
    feature_names_in_ : ndarray of str
        Column names of ``X``, when it was a DataFrame with string column names.

    Examples
    --------
    >>> import pandas as pd
    >>> from synthaug.sklearn import SyntheticOverSampler
    >>> X = pd.DataFrame({"age": [25, 32, 47, 51, 38, 29, 60, 44],
    ...                   "job": ["a", "b", "a", "c", "b", "a", "c", "b"]})
    >>> y = pd.Series([0, 0, 0, 0, 0, 0, 1, 1], name="label")
    >>> X_res, y_res = SyntheticOverSampler(random_state=0).fit_resample(X, y)
    >>> y_res.value_counts().sort_index().tolist()
    [6, 6]
    >>> X_res.dtypes.equals(X.dtypes)
    True
    """

    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "sampling_strategy": BaseOverSampler._parameter_constraints["sampling_strategy"],
        "generator": [str, BaseGenerator],
        "generator_params": [dict, None],
        "random_state": ["random_state", np.random.Generator],
    }

    generator_: BaseGenerator
    target_column_: str

    def __init__(
        self,
        *,
        generator: str | BaseGenerator = "tabular.copula",
        generator_params: dict[str, Any] | None = None,
        sampling_strategy: Any = "auto",
        random_state: int | np.random.Generator | np.random.RandomState | None = None,
    ) -> None:
        super().__init__(sampling_strategy=sampling_strategy)
        self.generator = generator
        self.generator_params = generator_params
        self.random_state = random_state

    def fit_resample(self, X: Any, y: Any, **params: Any) -> tuple[Any, Any]:
        """Return ``X`` and ``y`` with synthetic rows of the minority classes appended.

        Same as imbalanced-learn's ``fit_resample``, after checking the labels so that missing
        or continuous labels get a clear :class:`InvalidDataError`.
        """
        labels = np.asarray(y, dtype=object)
        if labels.ndim == 1 and pd.isna(labels).any():
            raise InvalidDataError(
                f"y holds {int(pd.isna(labels).sum())} missing label(s) (NaN/None); drop those "
                "rows or give them a class before over-sampling."
            )
        try:
            check_classification_targets(y)
        except ValueError as exc:
            raise InvalidDataError(
                f"y cannot be used as class labels ({exc}). Over-sampling needs discrete "
                "classes; a continuous y is a regression target."
            ) from None
        return super().fit_resample(X, y, **params)

    # -- imbalanced-learn hooks ----------------------------------------------------------------
    def _check_X_y(self, X: Any, y: Any, accept_sparse: Any = None) -> tuple[Any, Any, bool]:
        """Check ``X`` and ``y`` without forcing ``X`` to numbers (strings and NaN are data).

        scikit-learn's and pandas' own errors are turned into :class:`InvalidDataError`s that
        name the problem; their text is kept, since scikit-learn's checks look for it.
        """
        y, binarize_y = check_target_type(y, indicate_one_vs_all=True)
        if isinstance(X, pd.DataFrame):
            if X.shape[0] < 1:
                raise InvalidDataError("X has no rows; give at least 2 rows to learn from.")
            if X.columns.has_duplicates:
                dupes = sorted({str(c) for c in X.columns[X.columns.duplicated()]})
                raise InvalidDataError(
                    f"X has duplicate column names: {dupes}. Make them unique."
                )
            dense = {c: t.subtype for c, t in X.dtypes.items() if isinstance(t, pd.SparseDtype)}
            if dense:
                # generators model dense values; imbalanced-learn restores the sparse dtypes
                X = X.astype(dense)
        else:
            if isinstance(X, np.ndarray) and X.ndim != 2:
                raise InvalidDataError(
                    f"X must be 2-D (rows x columns), got an array of shape {X.shape}. "
                    "Reshape a single feature with X.reshape(-1, 1)."
                )
            try:
                # dtype=None keeps strings; "allow-nan" keeps missing values, still refuses inf
                X = check_array(X, dtype=None, ensure_all_finite="allow-nan")
            except ValueError as exc:
                raise InvalidDataError(f"X cannot be used as it is: {exc}") from None
        try:
            validate_data(self, X=X, y=y, reset=True, skip_check_array=True)
            check_consistent_length(X, y)
        except TypeError as exc:  # scikit-learn refuses mixed str/int feature names this way
            raise InvalidDataError(
                f"X has column names that are not strings ({exc}). Rename them, for "
                "example with X.columns = X.columns.astype(str)."
            ) from None
        except ValueError as exc:
            raise InvalidDataError(
                f"X has {len(X)} rows but y has {len(y)} labels ({exc}); give one label per row."
            ) from None
        classes = pd.unique(pd.Series(y))
        if len(classes) < 2:
            raise InvalidDataError(
                f"y holds a single class ({classes[0]!r} in all {len(y)} rows): 1 class leaves "
                "nothing to balance. Over-sampling needs at least two classes in y."
            )
        return X, y, binarize_y

    def _fit_resample(self, X: Any, y: np.ndarray) -> tuple[Any, np.ndarray]:
        rng = _as_generator(self.random_state)
        gen = self._make_generator(rng)
        gen.fit(_as_named_frame(X), y)
        self.generator_ = gen
        self.target_column_ = gen.label_["column"]

        new_x: list[pd.DataFrame] = []
        new_y: list[np.ndarray] = []
        for cls, count in self.sampling_strategy_.items():
            if count <= 0:
                continue
            rows, _ = gen.sample(int(count), conditions={LABEL: cls}, random_state=rng)
            new_x.append(rows)
            new_y.append(np.full(int(count), cls, dtype=y.dtype))
        y_res = np.concatenate([y, *new_y]) if new_y else y.copy()
        return _append_rows(X, new_x), y_res

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        tags.input_tags.allow_nan = True
        tags.input_tags.string = True
        tags.input_tags.categorical = True
        return tags

    # -- helpers -------------------------------------------------------------------------------
    def _make_generator(self, rng: np.random.Generator) -> BaseGenerator:
        params = dict(self.generator_params or {})
        if isinstance(self.generator, str):
            modality = getattr(registry.generators.get(self.generator), "modality", "")
            if modality != "tabular":
                raise InvalidParameterError(
                    f"generator={self.generator!r} is a {modality} generator; "
                    "SyntheticOverSampler needs a tabular one, such as 'tabular.copula'."
                )
            gen = get_generator(self.generator, **params)
        else:
            if self.generator.modality != "tabular":
                raise InvalidParameterError(
                    f"generator is a {self.generator.modality} generator; SyntheticOverSampler "
                    "needs a tabular one, such as get_generator('tabular.copula')."
                )
            gen = clone(self.generator).set_params(**params)
        gen_params = gen.get_params(deep=False)
        if "random_state" in gen_params and gen_params["random_state"] is None:
            gen.set_params(random_state=spawn_seed(rng))
        return gen


def _as_generator(random_state: Any) -> np.random.Generator:
    """A numpy Generator from what scikit-learn and synthaug accept as ``random_state``."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(0, 2**31 - 1))
    if random_state is None:
        return np.random.default_rng()
    if isinstance(random_state, Integral) and not isinstance(random_state, bool):
        return np.random.default_rng(int(random_state))
    raise InvalidParameterError(
        f"random_state must be None, an int, or a numpy Generator or RandomState, got "
        f"{random_state!r}."
    )


def _as_named_frame(X: Any) -> pd.DataFrame:
    """``X`` as a DataFrame with a fresh index and string column names (the schema needs them)."""
    if isinstance(X, pd.DataFrame):
        frame = X.reset_index(drop=True)
        if not all(isinstance(c, str) for c in frame.columns):
            frame = frame.set_axis([f"x{i}" for i in range(frame.shape[1])], axis=1)
        return frame
    return pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])


def _append_rows(X: Any, new: list[pd.DataFrame]) -> Any:
    """``X`` followed by the synthetic rows, in ``X``'s container and dtypes."""
    if isinstance(X, pd.DataFrame):
        parts = [X.reset_index(drop=True)]
        dtypes = dict(zip(X.columns, X.dtypes, strict=True))
        for rows in new:
            rows = rows.set_axis(X.columns, axis=1)
            parts.append(rows.astype(dtypes))
        return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    if not new:
        return X.copy()
    return np.concatenate([X, *(rows.to_numpy(dtype=X.dtype) for rows in new)], axis=0)
