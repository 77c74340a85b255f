"""Downstream fairness: is a model trained on synthetic data less fair than one trained on real?

The same classifier is trained on the real data and on the synthetic (or real + synthetic) data,
both predict the same real holdout, and the fairness gaps of the two sets of predictions are
compared group by group with fairlearn's definitions (Bird et al. 2020): the demographic parity
difference (the largest minus the smallest selection rate ``P(h(X)=1 | A=a)`` over groups;
Calders & Verwer 2010) and the equalised odds difference (the larger of the same spreads of the
true positive and the false positive rates; Hardt, Price & Srebro 2016).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score
from threadpoolctl import threadpool_limits

from synthaug.data.modality import Prepared
from synthaug.exceptions import InvalidDataError, InvalidParameterError
from synthaug.utils.validation import check_int
from synthaug.validators.base import BaseValidator, Score, register_validator
from synthaug.validators.bias._grouping import (
    Grouping,
    Intersections,
    Outcome,
    build_groupings,
    check_intersections,
    check_sensitive_param,
    resolve_outcome,
    resolve_sensitive,
    resolve_target,
)

__all__ = ["DownstreamFairness", "fairness_differences"]

#: HistGradientBoosting handles at most this many levels in a native categorical feature
_MAX_NATIVE_LEVELS = 255
#: the two gaps compared, by fairlearn's function names
METRICS = ("demographic_parity_difference", "equalized_odds_difference")


def fairness_differences(
    weights: np.ndarray, groups: np.ndarray, y_true: np.ndarray, y_pred: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Demographic parity and equalised odds differences for many row weightings at once.

    The same definitions as fairlearn's ``demographic_parity_difference`` and
    ``equalized_odds_difference`` (``method="between_groups"``, ``agg="worst_case"``) on the
    rows repeated as many times as their weight says, vectorised over the rows of ``weights``
    so that a bootstrap of a few hundred replicates costs a few matrix products instead of a
    few thousand fairlearn calls.  As in fairlearn, a group takes part when it has a row, and
    a group without true positives (negatives) has a true (false) positive rate of 0.

    Parameters
    ----------
    weights : ndarray of shape (n_replicates, n_rows)
        Non-negative weights (bootstrap counts) of the rows in each replicate.
    groups : ndarray of shape (n_rows,)
        Group number of each row.
    y_true, y_pred : ndarray of shape (n_rows,)
        True and predicted labels, 0 or 1.

    Returns
    -------
    dp, eo : ndarray of shape (n_replicates,)
        NaN where a replicate has no row.

    Examples
    --------
    >>> import numpy as np
    >>> groups = np.array([0, 0, 1, 1])
    >>> dp, eo = fairness_differences(np.ones((1, 4)), groups, np.array([1, 0, 1, 0]),
    ...                               np.array([1, 1, 1, 0]))
    >>> float(dp[0]), float(eo[0])
    (0.5, 1.0)
    """
    w = np.atleast_2d(np.asarray(weights, dtype=np.float64))
    onehot = np.zeros((len(groups), int(groups.max()) + 1 if len(groups) else 0))
    onehot[np.arange(len(groups)), groups] = 1.0
    t = np.asarray(y_true, dtype=np.float64)
    p = np.asarray(y_pred, dtype=np.float64)
    rows = w @ onehot
    selected = (w * p) @ onehot
    positives = (w * t) @ onehot
    true_pos = (w * (t * p)) @ onehot
    negatives = rows - positives
    false_pos = selected - true_pos
    present = rows > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        selection = selected / rows
        tpr = np.where(positives > 0, true_pos / positives, 0.0)
        fpr = np.where(negatives > 0, false_pos / negatives, 0.0)
    dp = _spread(selection, present)
    eo = np.fmax(_spread(tpr, present), _spread(fpr, present))
    eo[np.isnan(dp)] = np.nan
    return dp, eo


def _spread(values: np.ndarray, present: np.ndarray) -> np.ndarray:
    """Largest minus smallest of ``values`` over the present groups, per row (NaN if none)."""
    hi = np.where(present, values, -np.inf).max(axis=1)
    lo = np.where(present, values, np.inf).min(axis=1)
    out = hi - lo
    out[~present.any(axis=1)] = np.nan
    return out


@register_validator("bias.downstream_fairness")
class DownstreamFairness(BaseValidator):
    """Change in a model's fairness gaps when it is trained on synthetic instead of real data.

    A ``HistGradientBoostingClassifier`` (scikit-learn's defaults, categorical columns as native
    categorical features, fixed ``random_state``) is trained (a) on the real data and (b) on the
    synthetic data (or, with ``train_on="augmented"``, on real + synthetic rows); both predict
    the real holdout, rows the generator never saw.  For each sensitive column (and their
    intersection) and each gap, fairlearn's ``demographic_parity_difference`` and
    ``equalized_odds_difference`` are computed on both sets of holdout predictions.

    The value is the largest change (synthetic-trained minus real-trained) over gaps and
    groupings, in [-1, 1]: positive when some gap widened, negative when every gap narrowed.
    Each gap gets a verdict, ``"widened"``, ``"narrowed"`` or ``"unchanged"``, from a paired
    bootstrap over holdout rows (both models' predictions of the same resampled rows): the
    change is ``"unchanged"`` when its 95% percentile interval contains 0.  The interval of the
    value is that of the gap that sets it.  Accuracy and ROC AUC of both models are in the
    details, so a fairer but useless model is seen as such.

    The bootstrap covers the holdout's sampling noise, not the training data's: two models
    trained on two samples of the same population differ too.  Measured on Adult (income by sex,
    race and their intersection, 3,000 training rows against 3,000 other real rows, 3,000
    holdout rows, 8 draws), the value had a median of 0.09 and 11 of the 48 gaps got a
    verdict other than ``"unchanged"``; read single verdicts on small data with that in mind.

    The target must be binary (fairlearn's equalised odds is defined for binary labels).  A
    target with more classes is scored one-vs-rest when ``positive`` names the class of
    interest (the model then predicts ``target == positive``), and refused otherwise; a
    numerical target is refused.  Rows whose target is missing are left out.  Holdout groups
    with fewer than ``min_group_rows`` rows are left out of the gaps (their rates are noise)
    and listed in ``details["excluded_groups"]``.  The sensitive columns are features of both
    models unless ``drop_sensitive`` (a model can learn a bias from them, which is what this
    validator is for; without them it can still learn it from proxies).

    Needs fairlearn (``pip install fairlearn``).

    Parameters
    ----------
    target : str, optional
        The label column; default ``context["target"]``.
    sensitive : str or sequence of str, optional
        The sensitive columns; default ``context["sensitive"]``.
    positive : optional
        The positive class (as it appears in the real data).  Default: the real data's least
        frequent class.  Required, and used one-vs-rest, for a target with more than 2 classes.
    train_on : {"synthetic", "augmented"}, default "synthetic"
        What the second model is trained on: the synthetic rows, or real + synthetic rows.
    n_bootstrap : int, default 200
        Paired bootstrap replicates over holdout rows (0: no intervals; verdicts then follow
        the sign of the change alone).
    min_group_rows : int, default 100
        Holdout groups with fewer rows (with a target) are left out of the gaps: the
        equalised odds of a group with a handful of positives swings by 0.5 with one row.
    max_groups : int, default 50
        Refuse a sensitive column with more distinct real values (bin it first).
    intersections : {"full", "pairs", "none"}, default "full"
        Intersections to add, as in
        :class:`~synthaug.validators.bias.groups.GroupRepresentation`.
    drop_sensitive : bool, default False
        Leave the sensitive columns out of the models' features.
    random_state : int or None, default 0
        Seed of both classifiers and of the bootstrap.
    n_threads : int or None, default None
        OpenMP threads of the classifiers (None: OpenMP's default; 1 is faster on small data
        and busy machines).

    Notes
    -----
    Details (all plain JSON):

    ``fairness``
        ``{grouping: {metric: {"real", "synthetic", "change", "interval", "verdict"}}}`` with
        ``metric`` in ``demographic_parity_difference`` and ``equalized_odds_difference``;
        ``real`` and ``synthetic`` are the gaps of the models trained on real and on synthetic
        (or augmented) data, ``interval`` the bootstrap interval of ``change`` (None without a
        bootstrap).
    ``worst``
        ``{"column", "metric", "real", "synthetic", "change", "verdict"}`` of the gap that sets
        the value.
    ``verdicts``
        How many gaps ``{"widened": n, "narrowed": n, "unchanged": n}``.
    ``performance``
        ``{"real": {"accuracy", "roc_auc"}, "synthetic": {...}}`` on the holdout (``roc_auc``
        None when the holdout has one class).
    ``selection_rates``
        ``{grouping: {"real": {group: rate}, "synthetic": {group: rate}}}``: the share of
        holdout rows of each group predicted positive by each model.
    ``holdout_rows``
        ``{grouping: {group: rows}}``.
    ``excluded_groups``
        ``{grouping: [group, ...]}``, only groupings with such groups.
    ``target``, ``positive``, ``train_on``, ``n_train`` (``{"real", "synthetic"}``),
    ``n_holdout``, ``n_bootstrap``, ``features``, ``categorical_features``, ``groupings``

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> def draw(n, biased=False):
    ...     g = rng.choice(["a", "b"], n)
    ...     x = rng.normal(size=n)
    ...     y = x + (2.0 * (g == "a") if biased else 0.0) + rng.normal(scale=0.5, size=n) > 1
    ...     return pd.DataFrame({"g": g, "x": x, "y": np.where(y, "yes", "no")})
    >>> real, holdout = draw(600), draw(600)
    >>> validator = DownstreamFairness(target="y", sensitive="g", n_bootstrap=50, n_threads=1)
    >>> score = validator.score(real, draw(600, biased=True), holdout=holdout)
    >>> score.details["fairness"]["g"]["demographic_parity_difference"]["verdict"]
    'widened'
    """

    category = "bias"
    direction = "lower"

    def __init__(
        self,
        *,
        target: str | None = None,
        sensitive: str | Sequence[str] | None = None,
        positive: Any = None,
        train_on: Literal["synthetic", "augmented"] = "synthetic",
        n_bootstrap: int = 200,
        min_group_rows: int = 100,
        max_groups: int = 50,
        intersections: Intersections = "full",
        drop_sensitive: bool = False,
        random_state: int | None = 0,
        n_threads: int | None = None,
    ) -> None:
        check_sensitive_param(sensitive)
        if train_on not in ("synthetic", "augmented"):
            raise InvalidParameterError(
                f"train_on must be 'synthetic' or 'augmented' (real + synthetic), got "
                f"{train_on!r}."
            )
        check_int(n_bootstrap, "n_bootstrap", 0)
        check_int(min_group_rows, "min_group_rows", 1)
        check_int(max_groups, "max_groups", 1)
        check_intersections(intersections)
        if not isinstance(drop_sensitive, bool):
            raise InvalidParameterError(f"drop_sensitive must be True or False, got "
                                        f"{drop_sensitive!r}.")
        if random_state is not None:
            check_int(random_state, "random_state", 0)
        if n_threads is not None:
            check_int(n_threads, "n_threads", 1)
        self.target = target
        self.sensitive = sensitive
        self.positive = positive
        self.train_on = train_on
        self.n_bootstrap = n_bootstrap
        self.min_group_rows = min_group_rows
        self.max_groups = max_groups
        self.intersections = intersections
        self.drop_sensitive = drop_sensitive
        self.random_state = random_state
        self.n_threads = n_threads

    def score(
        self,
        real: Any,
        synthetic: Any,
        *,
        holdout: Any = None,
        context: Mapping[str, Any] | None = None,
    ) -> Score:
        try:
            from fairlearn.metrics import (
                demographic_parity_difference,
                equalized_odds_difference,
            )
        except ImportError as exc:
            raise ImportError(
                f"{self.name} needs fairlearn for its fairness metrics; install it with "
                "pip install fairlearn."
            ) from exc
        target = resolve_target(self.target, context, self.name)
        names = resolve_sensitive(self.sensitive, context, self.name)
        tables = self._prepare(real, synthetic, holdout, context, require_holdout=True)
        outcome = self._binary_outcome(tables, target)
        groupings = build_groupings(tables, names, max_groups=self.max_groups,
                                    intersections=self.intersections, validator=self.name,
                                    exclude=(target,))
        features = [j for j in tables.columns if tables.schema.columns[j].name != target
                    and not (self.drop_sensitive and tables.schema.columns[j].name in names)]
        if not features:
            raise InvalidDataError(
                f"{self.name}: no feature is left to train a model on once the target "
                f"{target!r}{' and the sensitive columns' if self.drop_sensitive else ''} are "
                "set aside."
            )
        y = {what: outcome.values[what] for what in ("real", "synthetic", "holdout")}
        rows = {what: np.flatnonzero(~np.isnan(v)) for what, v in y.items()}
        matrices = {"real": tables.real, "synthetic": tables.synthetic}
        if tables.holdout is None:  # _prepare enforces it; this narrows the type
            raise InvalidDataError(f"{self.name} needs a holdout.")
        matrices["holdout"] = tables.holdout
        x = {what: matrices[what][rows[what]][:, features] for what in matrices}
        labels = {what: y[what][rows[what]].astype(np.int64) for what in y}
        if len(labels["holdout"]) == 0:
            raise InvalidDataError(
                f"{self.name}: the target {target!r} is missing in every holdout row, so no "
                "prediction can be checked."
            )
        x_second, y_second = x["synthetic"], labels["synthetic"]
        if self.train_on == "augmented":
            x_second = np.vstack([x["real"], x["synthetic"]])
            y_second = np.concatenate([labels["real"], labels["synthetic"]])
        schemas = [tables.schema.columns[j] for j in features]
        categorical = np.array([c.kind.is_discrete and len(c.categories or [])
                                <= _MAX_NATIVE_LEVELS for c in schemas])
        arms = {"real": (x["real"], labels["real"]), "synthetic": (x_second, y_second)}
        predicted: dict[str, np.ndarray] = {}
        proba: dict[str, np.ndarray] = {}
        limits = (threadpool_limits(limits=self.n_threads, user_api="openmp")
                  if self.n_threads is not None else contextlib.nullcontext())
        with limits:
            for arm, (x_train, y_train) in arms.items():
                self._check_two_classes(y_train, arm, outcome)
                model = HistGradientBoostingClassifier(
                    categorical_features=categorical if categorical.any() else None,
                    random_state=self.random_state,
                )
                model.fit(x_train, y_train)
                proba[arm] = model.predict_proba(x["holdout"])[:, 1]
                predicted[arm] = (proba[arm] > 0.5).astype(np.int64)

        y_hold = labels["holdout"]
        hold_codes = {g.name: g.codes["holdout"][rows["holdout"]] for g in groupings}
        fairness: dict[str, Any] = {}
        selection: dict[str, Any] = {}
        hold_rows: dict[str, Any] = {}
        excluded: dict[str, list[str]] = {}
        kept: dict[str, np.ndarray] = {}
        for grouping in groupings:
            codes = hold_codes[grouping.name]
            counts = np.bincount(codes, minlength=grouping.n_groups)
            present = counts > 0
            keep = counts >= self.min_group_rows
            kept[grouping.name] = keep
            hold_rows[grouping.name] = grouping.by_label(counts, present)
            if (present & ~keep).any():
                excluded[grouping.name] = [grouping.labels[g]
                                           for g in np.flatnonzero(present & ~keep)]
            selection[grouping.name] = {
                arm: grouping.by_label(
                    np.bincount(codes, weights=predicted[arm], minlength=grouping.n_groups)
                    / np.maximum(counts, 1), present)
                for arm in arms
            }
            mask = keep[codes]
            groups_of_rows = np.asarray(grouping.labels, dtype=object)[codes[mask]]
            entry: dict[str, Any] = {}
            for metric, fn in zip(METRICS, (demographic_parity_difference,
                                            equalized_odds_difference), strict=True):
                values = {}
                for arm in arms:
                    values[arm] = (float(fn(y_hold[mask], predicted[arm][mask],
                                            sensitive_features=groups_of_rows))
                                   if mask.any() else float("nan"))
                entry[metric] = {"real": values["real"], "synthetic": values["synthetic"],
                                 "change": values["synthetic"] - values["real"]}
            fairness[grouping.name] = entry

        self._bootstrap(fairness, groupings, hold_codes, kept, y_hold, predicted)
        gaps = [(name, metric, e) for name, entry in fairness.items()
                for metric, e in entry.items() if not np.isnan(e["change"])]
        if not gaps:
            raise InvalidDataError(
                f"{self.name}: no holdout group has {self.min_group_rows} rows with a target, "
                "so no fairness gap can be measured; give a larger holdout or lower "
                "min_group_rows."
            )
        name, metric, top = max(gaps, key=lambda item: item[2]["change"])
        tally = {v: sum(1 for _, _, e in gaps if e["verdict"] == v)
                 for v in ("widened", "narrowed", "unchanged")}
        details: dict[str, Any] = {
            "fairness": fairness,
            "worst": {"column": name, "metric": metric, "real": top["real"],
                      "synthetic": top["synthetic"], "change": top["change"],
                      "verdict": top["verdict"]},
            "verdicts": tally,
            "performance": {arm: _performance(y_hold, predicted[arm], proba[arm])
                            for arm in arms},
            "selection_rates": selection,
            "holdout_rows": hold_rows,
            "excluded_groups": excluded,
            "target": target,
            "positive": outcome.positive,
            "train_on": self.train_on,
            "n_train": {"real": len(labels["real"]), "synthetic": len(y_second)},
            "n_holdout": len(y_hold),
            "n_bootstrap": self.n_bootstrap,
            "features": [c.name for c in schemas],
            "categorical_features": [c.name for c, is_cat in zip(schemas, categorical,
                                                                 strict=True) if is_cat],
            "groupings": [g.name for g in groupings],
        }
        interval = top["interval"]
        return self._score(top["change"],
                           interval=(interval[0], interval[1]) if interval else None,
                           details=details)

    def figures(self, score: Score) -> dict[str, Any]:
        """The models' positive rates per group, with the fairness gaps of both models."""
        # imported on use: a direct score() call never loads the report package
        from synthaug.validators.report.figures import gap_rows, group_rates_figure

        return group_rates_figure(
            score, score.details.get("selection_rates"), key="selection_rates",
            title="Predicted positive rate per group (model trained on real vs synthetic)",
            gaps=gap_rows(score.details.get("fairness")))

    # -- steps ---------------------------------------------------------------------------------
    def _binary_outcome(self, tables: Prepared, target: str) -> Outcome:
        outcome = resolve_outcome(tables, target, self.positive, self.name)
        if outcome.kind == "mean":
            raise InvalidDataError(
                f"{self.name}: the target {target!r} is numerical with {outcome.n_classes} "
                "distinct values, but demographic parity and equalised odds need a binary "
                "label. Pass positive=<value> to score 'target == value', or bin the target."
            )
        if outcome.n_classes > 2 and self.positive is None:
            raise InvalidDataError(
                f"{self.name}: the target {target!r} has {outcome.n_classes} classes, but "
                "fairlearn's equalised odds difference is defined for binary labels only. "
                "Pass positive=<class> to score that class one-vs-rest (the model then "
                "predicts target == class)."
            )
        return outcome

    def _check_two_classes(self, labels: np.ndarray, arm: str, outcome: Outcome) -> None:
        n_pos = int(labels.sum())
        if 0 < n_pos < len(labels):
            return
        which = "the real" if arm == "real" else (
            "the synthetic" if self.train_on == "synthetic" else "the real + synthetic")
        only = f"only {outcome.positive!r}" if n_pos else f"no {outcome.positive!r}"
        raise InvalidDataError(
            f"{self.name}: {which} training data has {only} in the target {outcome.name!r} "
            f"({len(labels)} rows with a target), so no classifier can be trained on it."
        )

    def _bootstrap(
        self,
        fairness: dict[str, Any],
        groupings: Sequence[Grouping],
        hold_codes: Mapping[str, np.ndarray],
        kept: Mapping[str, np.ndarray],
        y_hold: np.ndarray,
        predicted: Mapping[str, np.ndarray],
    ) -> None:
        """Add a paired-bootstrap interval and a verdict to each gap of ``fairness``."""
        if self.n_bootstrap == 0:
            for entry in fairness.values():
                for e in entry.values():
                    e["interval"] = None
                    e["verdict"] = _verdict(e["change"], e["change"], e["change"])
            return
        # Rows that agree on every group, the label and both predictions are interchangeable,
        # so a resample of rows is a multinomial draw of counts over these cells: exact, and
        # independent of the holdout size.  One draw serves every grouping (paired throughout).
        key = np.column_stack([hold_codes[g.name] for g in groupings]
                              + [y_hold, predicted["real"], predicted["synthetic"]])
        cells, inverse, cell_rows = np.unique(key, axis=0, return_inverse=True,
                                              return_counts=True)
        del inverse
        rng = np.random.default_rng(self.random_state)
        draws = rng.multinomial(len(y_hold), cell_rows / cell_rows.sum(),
                                size=self.n_bootstrap).astype(np.float64)
        n_groupings = len(groupings)
        y_cell = cells[:, n_groupings]
        for i, grouping in enumerate(groupings):
            group = cells[:, i]
            use = kept[grouping.name][group]
            if not use.any():
                for e in fairness[grouping.name].values():
                    e["interval"], e["verdict"] = None, None
                continue
            replicates = {
                arm: fairness_differences(draws[:, use], group[use], y_cell[use],
                                          cells[use, n_groupings + 1 + k])
                for k, arm in enumerate(("real", "synthetic"))
            }
            for m, metric in enumerate(METRICS):
                change = replicates["synthetic"][m] - replicates["real"][m]
                low, high = (float(v) for v in np.nanpercentile(change, [2.5, 97.5]))
                e = fairness[grouping.name][metric]
                e["interval"] = [low, high]
                e["verdict"] = _verdict(e["change"], low, high)


def _verdict(change: float, low: float, high: float) -> str | None:
    if np.isnan(change):
        return None
    if low > 0:
        return "widened"
    if high < 0:
        return "narrowed"
    return "unchanged"


def _performance(y_true: np.ndarray, y_pred: np.ndarray, proba: np.ndarray) -> dict[str, Any]:
    auc = (float(roc_auc_score(y_true, proba)) if 0 < y_true.sum() < len(y_true) else None)
    return {"accuracy": float(np.mean(y_true == y_pred)), "roc_auc": auc}
