"""The reference model: a strong non-deep classifier trained beside the torch model on every arm.

Balancing and augmentation often help a weak learner and not a strong one, so a gain of the
torch model is worth more when the same records also move a gradient-boosted tree ensemble,
the model a practitioner would try first on a table.  scikit-learn's
``HistGradientBoostingClassifier`` (rather than a boosting library of our own or another
dependency) is trained on the featurizer's arrays of the arm's records, with the arm's record
weights, at its default settings: tuning it per arm would turn the comparison into a
comparison of tuning budgets.

It reads what a task's featurizer gives the torch model: floating arrays are numeric features,
integer arrays category codes (the convention of
:meth:`~synthaug.recipes.training.TensorSet.from_arrays`), treated as categorical when they have
at most 255 codes (the model's own limit) and as ordered numbers otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["REFERENCE_MODELS", "fit_reference", "reference_proba"]

#: the reference models a recipe's ``model.reference`` may name, and a line about each
REFERENCE_MODELS = {
    "hist_gradient_boosting": "scikit-learn HistGradientBoostingClassifier, default settings",
}
#: the most category codes the model takes as a categorical feature
_MAX_CATEGORIES = 255


def _matrix(inputs: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The inputs side by side as one float matrix, and which of its columns are codes."""
    parts, categorical = [], []
    for name in sorted(inputs):
        array = np.asarray(inputs[name])
        array = array.reshape(len(array), -1)
        parts.append(array.astype(np.float64))
        is_code = np.issubdtype(array.dtype, np.integer)
        # a code column with too many levels is used as an ordered number
        too_many = (array.max(axis=0) >= _MAX_CATEGORIES if len(array)
                    else np.zeros(array.shape[1], dtype=bool))
        categorical.append(np.full(array.shape[1], is_code) & ~too_many)
    if not parts:
        return np.zeros((0, 0)), np.zeros(0, dtype=bool)
    return np.hstack(parts), np.concatenate(categorical)


def fit_reference(name: str, inputs: Mapping[str, np.ndarray], y: np.ndarray,
                  weights: np.ndarray | None, *, seed: int) -> Any:
    """Train the reference model ``name`` on the featurized records ``inputs`` with labels
    ``y`` (class codes) and optional per-record ``weights``.

    Examples
    --------
    >>> import numpy as np
    >>> from synthaug.recipes.reference import fit_reference, reference_proba
    >>> rng = np.random.default_rng(0)
    >>> x = {"x_num": rng.normal(size=(200, 2)), "x_cat": rng.integers(0, 3, (200, 1))}
    >>> y = (x["x_num"][:, 0] > 0).astype(int)
    >>> model = fit_reference("hist_gradient_boosting", x, y, None, seed=0)
    >>> float((reference_proba(model, x, 2).argmax(axis=1) == y).mean()) > 0.9
    True
    """
    if name not in REFERENCE_MODELS:  # pragma: no cover - the spec allows only these names
        raise ValueError(f"unknown reference model {name!r}")
    from sklearn.ensemble import HistGradientBoostingClassifier

    matrix, categorical = _matrix(inputs)
    model = HistGradientBoostingClassifier(
        categorical_features=categorical if categorical.any() else None, random_state=seed)
    model.fit(matrix, y, sample_weight=weights)
    return model


def reference_proba(model: Any, inputs: Mapping[str, np.ndarray], n_classes: int) -> np.ndarray:
    """Class probabilities ``(n, n_classes)`` of a fitted reference model; a class absent from
    its training records gets probability 0."""
    matrix, _ = _matrix(inputs)
    proba = np.zeros((len(matrix), n_classes))
    proba[:, np.asarray(model.classes_, dtype=np.int64)] = model.predict_proba(matrix)
    return proba
