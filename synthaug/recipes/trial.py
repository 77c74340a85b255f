"""One trial: one arm of a recipe at one seed, from its training records to its scores.

:func:`run_trial` builds the arm's training records (real, real + synthetic used as the arm's
``use`` says, real + the classic augmentation, ...), trains the downstream model on them with
the recipe's step budget, and scores it on the validation records (which the recipe chooses
among arms by) and on the test records (which it reports).  Beside it, the reference model
(:mod:`synthaug.recipes.reference`) is trained on the same records with the same weights.

Some arms reuse a model of the real records rather than training their own: the
tuned-threshold arm moves the decision of real-only's model (:mod:`synthaug.recipes.decision`),
and the filter arms keep the synthetic records that the class-weighted arm's model gives their
label with enough confidence.  :class:`RealModels` keeps those models per seed, and retrains
one (bit for bit the same: same seed, same records) when a resumed run reused its arm's result
from disk or the recipe has no such arm.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch
from torch import nn

from synthaug.generators.base import BaseGenerator
from synthaug.recipes.arms import COMBINED, Arm, plan_counts
from synthaug.recipes.decision import shift, tune_offsets
from synthaug.recipes.experiment import RUN_FORMAT, Experiment
from synthaug.recipes.reference import fit_reference, reference_proba
from synthaug.recipes.training import TensorSet, fit_classifier, predict_proba, seeded_torch
from synthaug.utils.random import derive_seed

__all__ = ["FILTER_DRAWS", "RealModels", "class_weights", "run_trial"]

#: candidates drawn per synthetic record a filter arm keeps (the rest are filtered out)
FILTER_DRAWS = 2


# -- which records, how many of each class -----------------------------------------------------
def _group_only(exp: Experiment, arm: Arm) -> bool:
    """Whether ``arm`` draws records for the scenario's group only.  Never for synthetic-only:
    train-on-synthetic replaces the whole real training set, so it is drawn like it."""
    return exp.spec.augmentation.group_only and arm.kind != "synthetic_only"


def _reference(exp: Experiment, arm: Arm) -> np.ndarray | None:
    """Positions (in the real training records) of the records the extra ones stand beside:
    ``None`` for all of them, the scenario's group with ``augmentation.group_only``."""
    if _group_only(exp, arm) and exp.train_in_group is not None:
        return np.flatnonzero(exp.train_in_group)
    return None


def _plan(exp: Experiment, arm: Arm) -> np.ndarray:
    """Extra records per class (in ``exp.classes`` order) for ``arm``."""
    index = _reference(exp, arm)
    codes = exp.train_codes if index is None else exp.train_codes[index]
    counts = np.bincount(codes, minlength=len(exp.classes))
    return plan_counts(arm, counts, exp.spec.augmentation.classes)


def class_weights(codes: np.ndarray, n_classes: int) -> np.ndarray:
    """Per-record loss weights ``n / (k * n_c)`` (scikit-learn's ``"balanced"``): every class
    weighs the same in the loss, whatever its size.

    Examples
    --------
    >>> import numpy as np
    >>> from synthaug.recipes.trial import class_weights
    >>> class_weights(np.array([0, 0, 0, 1]), 2).tolist()
    [0.6666666666666666, 0.6666666666666666, 0.6666666666666666, 2.0]
    """
    counts = np.bincount(codes, minlength=n_classes).astype(np.float64)
    present = int((counts > 0).sum())
    per_class = np.where(counts > 0, len(codes) / (present * np.maximum(counts, 1)), 0.0)
    return per_class[codes]


def _synthetic(exp: Experiment, arm: Arm, gen: BaseGenerator, seed: int,
               plan: np.ndarray) -> Any:
    group = (str(exp.spec.scenario.column), exp.group_value) if _group_only(exp, arm) else None
    parts = [
        exp.task.synthetic(gen, int(n), label=exp.classes[c], group=group, like=exp.train_real,
                           random_state=derive_seed(seed, "sample", arm.key, c))
        for c, n in enumerate(plan) if n > 0
    ]
    if not parts:
        return exp.task.data.take(exp.train_real, np.zeros(0, dtype=np.int64))
    return exp.task.data.concat(parts)


def _filtered(exp: Experiment, arm: Arm, gen: BaseGenerator, seed: int, judge: nn.Module,
              record: dict[str, Any]) -> Any:
    """Synthetic records that ``judge`` (a model of the real records) gives their label with at
    least ``filter_confidence``: :data:`FILTER_DRAWS` candidates per planned record, the most
    confident kept first, never more than planned.  ``record`` gets the counts."""
    plan = _plan(exp, arm)
    candidates = _synthetic(exp, arm, gen, seed, plan * FILTER_DRAWS)
    tensors = exp.tensors(candidates)
    codes = tensors.y.cpu().numpy()
    confidence = predict_proba(judge, tensors)[np.arange(len(codes)), codes]
    keep: list[np.ndarray] = []
    for c, n in enumerate(plan):
        mine = np.flatnonzero((codes == c) & (confidence >= exp.spec.augmentation
                                              .filter_confidence))
        keep.append(mine[np.argsort(-confidence[mine], kind="stable")][: int(n)])
    kept = np.sort(np.concatenate(keep)) if keep else np.zeros(0, dtype=np.int64)
    record["filter"] = {"planned": int(plan.sum()), "drawn": len(codes), "kept": len(kept),
                        "confidence": exp.spec.augmentation.filter_confidence}
    return exp.task.data.take(candidates, kept)


def _classic(exp: Experiment, arm: Arm, seed: int, notes: list[str]) -> Any:
    index = _reference(exp, arm)
    reference = exp.train_real if index is None else exp.task.data.take(exp.train_real, index)
    codes = exp.train_codes if index is None else exp.train_codes[index]
    # a combined arm's classic records are seeded by the baseline's name, as its own arm's are
    kind = arm.baseline if arm.kind == COMBINED and arm.baseline else arm.kind
    return exp.task.classic(reference, codes, _plan(exp, arm), exp.classes,
                            like=exp.train_real, notes=notes,
                            random_state=derive_seed(seed, kind, arm.key))


def _extra(exp: Experiment, arm: Arm, seed: int, gen: BaseGenerator | None,
           judge: nn.Module | None, notes: list[str], record: dict[str, Any]) -> Any | None:
    """The arm's records beside the real ones (``None`` for the arms of real records only)."""
    if arm.kind in ("real", "class_weights", "threshold"):
        return None
    if arm.is_baseline:
        return _classic(exp, arm, seed, notes)
    if gen is None:  # pragma: no cover - the loop fits one whenever an arm needs it
        raise RuntimeError(f"no fitted generator for arm {arm.key}")
    if arm.kind == COMBINED:
        return exp.task.data.concat([_classic(exp, arm, seed, notes),
                                     _synthetic(exp, arm, gen, seed, _plan(exp, arm))])
    if arm.use == "filter":
        if judge is None:  # pragma: no cover - run_trial passes the judge
            raise RuntimeError("no real-only model to filter with")
        return _filtered(exp, arm, gen, seed, judge, record)
    return _synthetic(exp, arm, gen, seed, _plan(exp, arm))


# -- training ----------------------------------------------------------------------------------
class RealModels:
    """Models trained on the real records alone, per seed, for the arms that reuse them
    (module docstring): real-only's own, and the class-weighted one that judges the filter arms'
    synthetic records (weighted, so that a minority class's records are judged by a model
    whose probabilities are not pulled towards the majority)."""

    def __init__(self) -> None:
        self._models: dict[tuple[int, bool], nn.Module] = {}

    def get(self, exp: Experiment, seed: int, *, weighted: bool = False) -> nn.Module:
        """The model of ``seed`` (class-weighted or not): the one trained this run, else
        trained now."""
        key = (seed, weighted)
        if key not in self._models:
            weights = class_weights(exp.train_codes, len(exp.classes)) if weighted else None
            self._models[key], _ = _train(exp, exp.tensors(exp.train_real, weights), seed)
        return self._models[key]

    def keep(self, seed: int, model: nn.Module, *, weighted: bool = False) -> None:
        # earlier seeds are done with: keep this seed's models only
        self._models = {k: m for k, m in self._models.items() if k[0] == seed}
        self._models[(seed, weighted)] = model


def _train(exp: Experiment, train: TensorSet, seed: int,
           pretrain: TensorSet | None = None) -> tuple[nn.Module, dict[str, Any]]:
    """A new model of the recipe, trained on ``train`` (after ``pretrain``, with half the
    step budget each, when given: the curriculum)."""
    spec = exp.spec
    with seeded_torch(derive_seed(seed, "model"), exp.device):
        model = exp.model_factory(exp.inputs, **spec.model.params).to(exp.device)
        budget = spec.training
        fit: dict[str, Any] = {}
        if pretrain is not None:
            first = max(budget.max_steps // 2, 1)
            info = fit_classifier(model, pretrain, exp.validation,
                                  budget.model_copy(update={"max_steps": first}),
                                  seed=derive_seed(seed, "pretrain"))
            fit["pretrain"] = {"steps": info.steps, "best_step": info.best_step,
                               "seconds": round(info.seconds, 4)}
            budget = budget.model_copy(update={"max_steps": max(budget.max_steps - first, 1)})
        info = fit_classifier(model, train, exp.validation, budget,
                              seed=derive_seed(seed, "batches"))
    fit.update({"steps": info.steps, "best_step": info.best_step,
                "best_validation_loss": info.best_validation_loss,
                "stopped_early": info.stopped_early, "seconds": round(info.seconds, 4)})
    return model, fit


def _scores(exp: Experiment, val_proba: np.ndarray, test_proba: np.ndarray,
            tune: bool) -> tuple[dict[str, float], dict[str, float]]:
    """(test metrics, validation metrics), after tuning the decision on validation if asked."""
    val_y = exp.validation.y.cpu().numpy()
    if tune:
        offsets = tune_offsets(val_y, val_proba, exp.spec.report.metric)
        val_proba, test_proba = shift(val_proba, offsets), shift(test_proba, offsets)
    k = len(exp.classes)
    return (exp.task.metrics(exp.test.y.cpu().numpy(), test_proba, n_classes=k,
                             groups=exp.test_groups),
            exp.task.metrics(val_y, val_proba, n_classes=k, groups=None))


def _host(tensors: TensorSet) -> dict[str, np.ndarray]:
    return {name: t.cpu().numpy() for name, t in tensors.inputs.items()}


def _reference_scores(exp: Experiment, name: str, train: TensorSet, seed: int,
                      tune: bool) -> dict[str, Any]:
    start = time.perf_counter()
    weights = None if train.weights is None else train.weights.cpu().numpy()
    model = fit_reference(name, _host(train), train.y.cpu().numpy(), weights,
                          seed=derive_seed(seed, "reference") % 2**32)
    k = len(exp.classes)
    test, val = _scores(exp, reference_proba(model, _host(exp.validation), k),
                        reference_proba(model, _host(exp.test), k), tune)
    return {"metrics": test, "validation_metrics": val,
            "seconds": round(time.perf_counter() - start, 4)}


def run_trial(exp: Experiment, arm: Arm, seed: int, gen: BaseGenerator | None,
              gen_seconds: float | None, real_models: RealModels) -> dict[str, Any]:
    """Train and score ``arm`` at ``seed``; the result file's dict (see the module docstring).

    Parameters
    ----------
    exp : Experiment
    arm : Arm
    seed : int
    gen : BaseGenerator or None
        The generator fitted at ``seed`` (needed by the arms that draw from it).
    gen_seconds : float or None
        Its fit time, recorded in the result of the arms that use it.
    real_models : RealModels
        The models of the real rows alone (real-only's, and the class-weighted one that judges
        the filter arms' rows), kept by their arms and reused by the threshold and filter arms.
    """
    notes: list[str] = []
    record: dict[str, Any] = {}
    start = time.perf_counter()
    judge = (real_models.get(exp, seed, weighted=True)
             if arm.kind == "augmented" and arm.use == "filter" else None)
    extra = _extra(exp, arm, seed, gen, judge, notes, record)
    n_extra = 0 if extra is None else exp.task.data.n_records(extra)
    n_real = exp.task.data.n_records(exp.train_real)
    aug = exp.spec.augmentation
    pretrain = None
    if arm.kind == "synthetic_only":
        train = exp.tensors(extra)
    elif extra is None or (arm.kind == "augmented" and arm.use == "curriculum"):
        weights = (class_weights(exp.train_codes, len(exp.classes))
                   if arm.kind == "class_weights" else None)
        train = exp.tensors(exp.train_real, weights)
        if extra is not None:
            pretrain = exp.tensors(extra)
    else:
        records = exp.task.data.concat([exp.train_real, extra])
        weights = None
        if arm.kind == "augmented" and arm.use == "weight":
            weights = np.concatenate([np.ones(n_real), np.full(n_extra, aug.synthetic_weight)])
        train = exp.tensors(records, weights)
    rows_seconds = time.perf_counter() - start
    if arm.kind == "threshold":
        model, fit = real_models.get(exp, seed), {"reused": "real"}
    else:
        model, fit = _train(exp, train, seed, pretrain)
        if arm.kind in ("real", "class_weights"):
            real_models.keep(seed, model, weighted=arm.kind == "class_weights")
    # the threshold baseline tunes its decision; with tune_decision every arm does
    tune = arm.kind == "threshold" or aug.tune_decision
    metrics, val_metrics = _scores(exp, predict_proba(model, exp.validation),
                                   predict_proba(model, exp.test), tune)
    counts = np.bincount(train.y.cpu().numpy(), minlength=len(exp.classes))
    result = {
        "format": RUN_FORMAT,
        "fingerprint": exp.fingerprint,
        "arm": arm.key,
        "kind": arm.kind,
        "ratio": arm.ratio,
        "use": arm.use if arm.kind == "augmented" else None,
        "seed": seed,
        "device": str(exp.device),
        "torch_threads": torch.get_num_threads(),
        "n_real": 0 if arm.kind == "synthetic_only" else n_real,
        "n_synthetic": n_extra,
        "train_class_counts": {str(c): int(n) for c, n in zip(exp.classes, counts, strict=True)},
        "metrics": metrics,
        "validation_metrics": val_metrics,
        "fit": fit,
        "rows_seconds": round(rows_seconds, 4),
        "generator_fit_seconds": None if gen_seconds is None or not arm.uses_generator
        else round(gen_seconds, 4),
        "notes": notes,
        **record,
    }
    # the reference model cannot pretrain and fine-tune; a curriculum arm has no reference
    if exp.reference is not None and pretrain is None:
        result["reference"] = _reference_scores(exp, exp.reference, train, seed, tune)
    return result
