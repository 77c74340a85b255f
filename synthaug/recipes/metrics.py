"""Test metrics of a trained classifier: overall, and per group of the sensitive attribute.

They need only the true class codes, the predicted probabilities and (optionally) the group of
each test record, so they serve every modality.
"""

from __future__ import annotations

import numpy as np

__all__ = ["classification_metrics"]


def classification_metrics(
    y: np.ndarray,
    proba: np.ndarray,
    *,
    n_classes: int,
    groups: np.ndarray | None = None,
    group_name: str | None = None,
) -> dict[str, float]:
    """Accuracy, macro F1 and (binary targets) ROC AUC, overall and per group.

    Parameters
    ----------
    y : ndarray of int
        True class codes of the test records.
    proba : ndarray of shape (n, n_classes)
        Predicted class probabilities.
    n_classes : int
        ROC AUC is reported when it is 2.
    groups : ndarray of str, optional
        The group of each test record; each group's metrics are added as
        ``"<metric>@<group_name>=<group>"``.
    group_name : str, optional
        The attribute the groups are of (``"sex"``).

    Returns
    -------
    dict of str to float
        NaN where a metric is undefined (no records, or one class only for ROC AUC).

    Examples
    --------
    >>> import numpy as np
    >>> from synthaug.recipes.metrics import classification_metrics
    >>> proba = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    >>> m = classification_metrics(np.array([0, 1, 1, 1]), proba, n_classes=2,
    ...                            groups=np.array(["a", "a", "b", "b"]), group_name="g")
    >>> m["accuracy"], m["accuracy@g=b"], m["roc_auc@g=b"] != m["roc_auc@g=b"]
    (0.75, 0.5, True)
    """
    from sklearn.metrics import f1_score, roc_auc_score

    def score(mask: np.ndarray) -> dict[str, float]:
        yt, pt = y[mask], proba[mask]
        pred = pt.argmax(axis=1)
        out = {"accuracy": float((pred == yt).mean()) if len(yt) else float("nan"),
               "macro_f1": float(f1_score(yt, pred, average="macro", zero_division=0))
               if len(yt) else float("nan")}
        if n_classes == 2:
            out["roc_auc"] = (float(roc_auc_score(yt, pt[:, 1])) if len(np.unique(yt)) == 2
                              else float("nan"))
        return out

    metrics = score(np.ones(len(y), dtype=bool))
    if groups is not None:
        for group in sorted(set(groups.tolist())):
            for name, value in score(groups == group).items():
                metrics[f"{name}@{group_name}={group}"] = value
    return metrics
