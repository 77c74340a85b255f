"""The arms of a recipe, and how many synthetic records each class gets in each arm.

An arm is one way of building the training records: real only; the baselines a practitioner
tries before any augmentation (real only with class weights, real only with the decision
threshold tuned on validation); real + synthetic at a ratio, used in one of :data:`USES`;
synthetic only; real + the modality's classic augmentation at a ratio.  Every arm trains the
same model with the same step budget, so the arms differ only in their records (and, for the
weighted ones, in how much each record counts).  Per-arm seeds come from
:func:`synthaug.utils.random.derive_seed`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synthaug.config import RecipeSpec

__all__ = [
    "COMBINED",
    "GENERATOR_KINDS",
    "REAL_BASELINES",
    "USES",
    "Arm",
    "allocate",
    "arms_for",
    "plan_counts",
]

#: the kind of the arms whose extra records are classic ones *and* synthetic ones
COMBINED = "combined"
#: arm kinds whose extra records come from the recipe's generator
GENERATOR_KINDS = ("augmented", "synthetic_only", COMBINED)
#: arm kinds trained on the real records only, with what a practitioner tries first:
#: ``class_weights`` (each class's loss weighted by its inverse frequency) and ``threshold``
#: (real-only's model with its decision tuned on the validation records)
REAL_BASELINES = ("class_weights", "threshold")
#: how an augmented arm uses its synthetic records: ``append`` them to the real ones;
#: ``filter`` them (keep those a class-weighted model of the real records gives their label
#: with enough confidence); ``weight`` them (a loss weight below 1); ``curriculum`` (train on
#: them, then fine-tune on the real records)
USES = ("append", "filter", "weight", "curriculum")


@dataclass(frozen=True)
class Arm:
    """One way of building the training records.

    ``kind`` is ``"real"``, one of :data:`REAL_BASELINES`, ``"augmented"`` (real +
    synthetic, used as ``use`` says: one of :data:`USES`), ``"synthetic_only"``, the name of the
    modality's classic augmentation (``"smote"`` for tables: real + SMOTE rows), or
    ``"combined"`` (real + the classic augmentation named by ``baseline`` + synthetic, each at
    ``ratio``); ``ratio`` is extra records (of each kind) per real training record.

    Examples
    --------
    >>> from synthaug.recipes import Arm
    >>> Arm("augmented", 0.5).key, Arm("synthetic_only", 1.0).key, Arm("smote", 2.0).key
    ('synthetic-x0.5', 'synthetic-only', 'smote-x2')
    >>> Arm("combined", 1.0, baseline="albumentations").key
    'albumentations+synthetic-x1'
    >>> Arm("augmented", 1.0, use="filter").key, Arm("class_weights").key
    ('synthetic-filter-x1', 'class-weights')
    """

    kind: str
    ratio: float | None = None
    #: the classic augmentation of a combined arm
    baseline: str | None = None
    #: how an augmented arm uses its synthetic records (:data:`USES`)
    use: str = "append"

    @property
    def key(self) -> str:
        """File-safe name: ``real``, ``class-weights``, ``tuned-threshold``,
        ``synthetic-x0.5``, ``synthetic-filter-x1``, ``synthetic-only``, ``smote-x2``,
        ``albumentations+synthetic-x1``."""
        if self.kind == "real":
            return "real"
        if self.kind == "class_weights":
            return "class-weights"
        if self.kind == "threshold":
            return "tuned-threshold"
        if self.kind == "synthetic_only":
            return "synthetic-only"
        if self.kind == COMBINED:
            return f"{self.baseline}+synthetic-x{self.ratio:g}"
        prefix = self.kind
        if self.kind == "augmented":
            prefix = "synthetic" if self.use == "append" else f"synthetic-{self.use}"
        return f"{prefix}-x{self.ratio:g}"

    @property
    def uses_generator(self) -> bool:
        """Whether the arm's extra records are drawn from the generator."""
        return self.kind in GENERATOR_KINDS

    @property
    def is_baseline(self) -> bool:
        """Whether the arm's extra records come from the classic augmentation (only)."""
        return self.kind not in ("real", *REAL_BASELINES) and not self.uses_generator

    @property
    def is_practitioner_baseline(self) -> bool:
        """Whether the arm is one a practitioner tries before any generator: real only (plain,
        class-weighted or with a tuned threshold) or the classic augmentation."""
        return self.kind in ("real", *REAL_BASELINES) or self.is_baseline

    @property
    def uses_baseline(self) -> bool:
        """Whether some of the arm's extra records come from the classic augmentation."""
        return self.is_baseline or self.kind == COMBINED


def arms_for(spec: RecipeSpec, baseline: str) -> list[Arm]:
    """The arms a recipe trains, real-only first.

    Parameters
    ----------
    spec : RecipeSpec
    baseline : str
        The name of the data's classic augmentation (the task's ``baseline``): the kind of the
        baseline arms when ``augmentation.baseline`` asks for them.

    Examples
    --------
    >>> from synthaug.recipes import load_recipe
    >>> from synthaug.recipes.arms import arms_for
    >>> [a.key for a in arms_for(load_recipe("adult-lowdata").spec, "smote")][:4]
    ['real', 'class-weights', 'tuned-threshold', 'synthetic-x0.5']
    """
    aug = spec.augmentation
    arms = [Arm("real")]
    arms += [Arm(kind) for kind in aug.real_baselines]
    arms += [Arm("augmented", r, use=use) for use in aug.uses for r in aug.ratios]
    if aug.synthetic_only:
        arms.append(Arm("synthetic_only", 1.0))
    if aug.baseline != "none":  # "smote" is the tables' "classic"; the spec refuses it elsewhere
        ratios = aug.ratios if aug.baseline_ratios is None else aug.baseline_ratios
        arms += [Arm(baseline, r) for r in ratios]
        arms += [Arm(COMBINED, r, baseline=baseline) for r in aug.combined_ratios]
    return arms


def allocate(counts: np.ndarray, total: int, mode: str, base: np.ndarray) -> np.ndarray:
    """Split ``total`` synthetic records over classes.

    ``"preserve"``: in proportion to ``counts`` (the real class sizes).  ``"balanced"``: fill
    the classes with the lowest ``base`` level first (water-filling), so ``base + result`` is
    as even as ``total`` allows.  Integer counts summing to ``total`` (largest remainders).

    Examples
    --------
    >>> import numpy as np
    >>> from synthaug.recipes.arms import allocate
    >>> allocate(np.array([80, 20]), 50, "preserve", np.array([80, 20])).tolist()
    [40, 10]
    >>> allocate(np.array([80, 20]), 70, "balanced", np.array([80, 20])).tolist()
    [5, 65]
    """
    k = len(counts)
    if total <= 0 or k == 0:
        return np.zeros(k, dtype=np.int64)
    if mode == "preserve":
        share = counts / max(counts.sum(), 1) * total
    else:
        levels = np.sort(base.astype(np.float64))
        level = 0.0
        for j in range(1, k + 1):
            level = (total + levels[:j].sum()) / j
            if j == k or level <= levels[j]:
                break
        share = np.maximum(level - base, 0.0)
    floor = np.floor(share).astype(np.int64)
    rest = total - int(floor.sum())
    if rest > 0:
        order = np.argsort(-(share - floor), kind="stable")
        floor[order[:rest]] += 1
    return floor


def plan_counts(arm: Arm, counts: np.ndarray, mode: str) -> np.ndarray:
    """Extra records per class for ``arm``, beside reference records with class ``counts``.

    The total is ``ratio`` times the reference records; synthetic-only replaces the real
    records, so it balances from zero rather than on top of them.

    Examples
    --------
    >>> import numpy as np
    >>> from synthaug.recipes.arms import Arm, plan_counts
    >>> plan_counts(Arm("augmented", 1.0), np.array([30, 10]), "balanced").tolist()
    [10, 30]
    >>> plan_counts(Arm("synthetic_only", 1.0), np.array([30, 10]), "balanced").tolist()
    [20, 20]
    """
    total = round(float(arm.ratio or 0.0) * int(counts.sum()))
    base = counts if arm.kind != "synthetic_only" else np.zeros_like(counts)
    return allocate(counts, total, mode, base)
