"""Choosing on validation, reporting on test, and verdicts corrected for the number of arms.

A recipe trains many arms; the question a practitioner asks is narrower: *does the best way of
using synthetic records beat the best thing I would have done without a generator?*  Answering
it on the test records after picking the best arms on those same records would flatter both
picks, so :func:`choose` picks by the **mean validation metric over seeds** (the validation
records are carved from the training data, never the test split), and the picks are then
compared on **test**, paired by seed:

* the best *baseline*: real only, real only with class weights, with the tuned threshold, or
  the classic augmentation at any ratio (the arms a practitioner tries first);
* the best *synthetic* configuration: any arm that draws from the generator except
  synthetic-only (every ratio and every use);
* per use of the synthetic records (append, filter, weight, curriculum), its best ratio.

:func:`headline_tests` puts every arm's paired comparison with real-only and the picked
synthetic configuration's comparison with the picked baseline in one family, and Holm-adjusts
their p values (:mod:`synthaug.recipes.stats`); each gets the Bonferroni interval beside its
corrected verdict.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from synthaug.recipes.stats import (
    Interval,
    Verdict,
    corrected_verdicts,
    holm,
    paired_difference,
    paired_p_value,
)

__all__ = ["Choice", "Test", "choose", "headline_tests"]

#: arm kinds that are baselines (no generator); the classic augmentation's kinds are added
_BASELINE_KINDS = ("real", "class_weights", "threshold")
_GENERATOR_KINDS = ("augmented", "combined")


@dataclass(frozen=True)
class Choice:
    """The arm picked for ``role`` by its mean validation metric, and that mean."""

    role: str
    arm: str
    validation: float

    def to_dict(self) -> dict[str, Any]:
        return {"role": self.role, "arm": self.arm,
                "validation": None if math.isnan(self.validation) else self.validation}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Choice:
        value = data.get("validation")
        return cls(str(data["role"]), str(data["arm"]),
                   math.nan if value is None else float(value))


@dataclass(frozen=True)
class Test:
    """One comparison of the family: ``treated`` against ``control`` on test, paired by seed."""

    treated: str
    control: str
    difference: Interval
    p_value: float
    adjusted_p: float
    corrected: Interval  # the Bonferroni interval for the family's size
    verdict: Verdict  # from the Holm-adjusted p value

    def to_dict(self) -> dict[str, Any]:
        def num(x: float) -> float | None:
            return None if math.isnan(x) else x

        return {"treated": self.treated, "control": self.control,
                "difference": self.difference.to_dict(), "p_value": num(self.p_value),
                "adjusted_p": num(self.adjusted_p), "corrected": self.corrected.to_dict(),
                "verdict": self.verdict}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Test:
        def num(key: str) -> float:
            value = data.get(key)
            return math.nan if value is None else float(value)

        return cls(str(data["treated"]), str(data["control"]),
                   Interval.from_dict(data["difference"]), num("p_value"), num("adjusted_p"),
                   Interval.from_dict(data["corrected"]), data["verdict"])


def _mean(values: Sequence[float]) -> float:
    arr = np.asarray(values, dtype=np.float64)
    arr = arr[np.isfinite(arr)]
    return float(arr.mean()) if len(arr) else math.nan


def choose(arms: Sequence[tuple[str, str, str | None]],
           validation: Mapping[str, Sequence[float]], classic: Sequence[str]) -> list[Choice]:
    """Pick the baseline, the synthetic configuration and each use's ratio on validation.

    Parameters
    ----------
    arms : sequence of (name, kind, use)
        Every arm in the report's order (``use`` is ``None`` but for augmented arms).
    validation : mapping of arm name to per-seed validation metric
        Arms without validation metrics (results written before synthaug measured them) are
        never picked.
    classic : sequence of str
        The kinds of the classic augmentation's arms (``"smote"``), which are baselines.

    Returns
    -------
    list of Choice
        ``"baseline"``, ``"synthetic"`` and ``"use:<use>"`` picks; a role none of whose arms
        has a validation metric is left out.  Ties go to the earlier arm.

    Examples
    --------
    >>> from synthaug.recipes.selection import choose
    >>> arms = [("real", "real", None), ("smote-x1", "smote", None),
    ...         ("synthetic-x1", "augmented", "append"), ("synthetic-x2", "augmented", "append")]
    >>> val = {"real": [0.7, 0.72], "smote-x1": [0.74, 0.74], "synthetic-x1": [0.73, 0.75],
    ...        "synthetic-x2": [0.71, 0.7]}
    >>> [(c.role, c.arm) for c in choose(arms, val, ["smote"])]
    [('baseline', 'smote-x1'), ('synthetic', 'synthetic-x1'), ('use:append', 'synthetic-x1')]
    """
    roles: dict[str, list[str]] = {"baseline": [], "synthetic": []}
    for name, kind, use in arms:
        if kind in _BASELINE_KINDS or kind in classic:
            roles["baseline"].append(name)
        elif kind in _GENERATOR_KINDS:
            roles["synthetic"].append(name)
            if kind == "augmented" and use:
                roles.setdefault(f"use:{use}", []).append(name)
    picks = []
    for role, names in roles.items():
        scored = [(n, _mean(validation.get(n, ()))) for n in names]
        scored = [(n, v) for n, v in scored if not math.isnan(v)]
        if scored:
            best = max(scored, key=lambda item: item[1])  # max keeps the first of equals
            picks.append(Choice(role, best[0], best[1]))
    return picks


def headline_tests(pairs: Sequence[tuple[str, str]], test: Mapping[str, Sequence[float]],
                   confidence: float) -> list[Test]:
    """Paired test comparisons ``(treated, control)``, Holm-adjusted as one family.

    Examples
    --------
    >>> from synthaug.recipes.selection import headline_tests
    >>> test = {"real": [0.80, 0.81, 0.79, 0.80], "a": [0.84, 0.85, 0.83, 0.84],
    ...         "b": [0.80, 0.82, 0.79, 0.79]}
    >>> [(t.treated, t.verdict) for t in headline_tests([("a", "real"), ("b", "real")],
    ...                                                  test, 0.95)]
    [('a', 'gain'), ('b', 'no detectable gain')]
    """
    differences = [paired_difference(test[a], test[b], confidence) for a, b in pairs]
    p_values = [paired_p_value(test[a], test[b]) for a, b in pairs]
    adjusted = holm(p_values)
    m = max(sum(1 for p in p_values if not math.isnan(p)), 1)
    bonferroni = 1.0 - (1.0 - confidence) / m
    verdicts = corrected_verdicts(differences, adjusted, confidence)
    return [Test(a, b, d, p, q, paired_difference(test[a], test[b], bonferroni), v)
            for (a, b), d, p, q, v in zip(pairs, differences, p_values, adjusted, verdicts,
                                          strict=True)]
