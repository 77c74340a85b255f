"""A recipe's experiment: everything validated and prepared before the first training step.

:func:`prepare` resolves the data's task, checks the generator (name, modality, parameters),
the validation suite and the downstream model (by building it once), loads and fingerprints the
data, runs every data-dependent check, splits, fits the featurizer on the real training
records and puts the validation and test tensors on the device, so a recipe that gets past it
fails, if at all, only while training.  The :class:`Experiment` it returns is what the runner
(:mod:`synthaug.recipes.runner`) orchestrates; :func:`run_record` is what ``run.json`` records
of it.
"""

from __future__ import annotations

import hashlib
import json
import platform
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from synthaug import registry
from synthaug._version import __version__
from synthaug.config import RecipeSpec, SpecError
from synthaug.exceptions import (
    InvalidDataError,
    InvalidParameterError,
    MissingDependencyError,
    UnknownComponentError,
)
from synthaug.generators.base import BaseGenerator, list_generators
from synthaug.planning import default_generator
from synthaug.recipes.arms import Arm, arms_for
from synthaug.recipes.loading import LoadedRecipe, load_data, load_test_data
from synthaug.recipes.splits import (
    Splits,
    check_labels,
    class_codes,
    encode_labels,
    group_value,
    matches,
    split_records,
)
from synthaug.recipes.tasks import Featurizer, Task, get_task, list_tasks
from synthaug.recipes.training import TensorSet, seeded_torch
from synthaug.recipes.validation import load_suite
from synthaug.utils.device import resolve_device
from synthaug.utils.random import derive_seed
from synthaug.validators.suite import Suite

__all__ = [
    "RUN_FORMAT",
    "Experiment",
    "ModelFactory",
    "budget",
    "default_out_dir",
    "describe_scenario",
    "generator_class",
    "make_generator",
    "prepare",
    "run_record",
    "fingerprint_of",
    "split_sizes",
    "task_for",
]

#: version of the run folder's layout (run.json and the per-run result files)
RUN_FORMAT = 1

ModelFactory = Callable[..., nn.Module]


@dataclass
class Experiment:
    """Everything validated and prepared before the first training step."""

    recipe: LoadedRecipe
    task: Task
    data: Any  # the loaded data without what data.drop leaves out
    sha256: str
    splits: Splits
    classes: list[Any]
    device: torch.device
    generator_name: str
    model_factory: ModelFactory
    model_name: str
    featurizer: Featurizer
    inputs: Any
    train_real: Any
    train_codes: np.ndarray  # class code of each real training record
    train_in_group: np.ndarray | None  # which real training records are the scenario's group
    validation: TensorSet
    test: TensorSet
    test_groups: np.ndarray | None
    group_value: Any
    arms: list[Arm]
    suite: Suite | None = None
    fingerprint: str = ""
    #: the reference model trained beside the downstream one (``None``: none)
    reference: str | None = None

    @property
    def spec(self) -> RecipeSpec:
        return self.recipe.spec

    def tensors(self, records: Any, weights: np.ndarray | None = None) -> TensorSet:
        """Model inputs and class codes of ``records`` (and their loss ``weights``), on the
        run's device."""
        labels = self.task.labels(records)
        if labels is None:  # pragma: no cover - every record set here is labelled by the task
            raise InvalidDataError("records without labels reached training.")
        return TensorSet.from_arrays(self.featurizer.transform(records),
                                     encode_labels(self.classes, labels), self.device, weights)


def task_for(recipe: LoadedRecipe) -> Task:
    """The task of the recipe's data (``data.modality``, given or inferred).

    Raises
    ------
    SpecError
        At ``data.modality`` when recipes have no task for that modality (yet), or its module
        needs an extra that is not installed.
    """
    data = recipe.spec.data
    name = data.resolved_modality
    try:
        cls = get_task(name)
    except UnknownComponentError:
        how = "data.modality" if data.modality is not None else (
            f"inferred from data.source {data.source!r}")
        # the built-in modalities in the seam's order (tables first), then any others
        known = list_tasks()
        order: list[str] = [m for m in ("tabular", "image", "text") if m in known]
        order += [m for m in known if m not in order]
        raise SpecError(recipe.source, [("data.modality", (
            f"recipes do not run on {name} data yet ({how}); they run on: "
            f"{', '.join(order)}."))]) from None
    except MissingDependencyError as exc:
        raise SpecError(recipe.source, [("data.modality", str(exc))]) from None
    return cls(recipe.spec)


def generator_class(recipe: LoadedRecipe, task: Task,
                    name: str | None = None) -> type[BaseGenerator]:
    """The recipe's generator class (``name``: what ``"auto"`` resolved to), refused unless it
    serves the task's modality.

    The spec already refuses a name whose ``<modality>.`` prefix is another modality; this
    checks the class's declared ``modality``, which also covers adapters (``sdv.*``).

    Raises
    ------
    SpecError
        At ``generator.name``, naming both modalities and the generators that would do.
    """
    name = name or recipe.spec.generator.name
    cls: type[BaseGenerator] = registry.generators.get(name)
    modality = getattr(cls, "modality", "") or "modality-less"
    if modality != task.modality:
        raise SpecError(recipe.source, [(
            "generator.name",
            f"{name!r} is {_a(modality)} {modality} generator, but this recipe's data is "
            f"{task.modality}. Pick {_a(task.modality)} {task.modality} one: "
            f"{', '.join(list_generators(task.modality)) or '(none registered)'}.",
        )])
    return cls


def _a(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def make_generator(recipe: LoadedRecipe, cls: type[BaseGenerator], device: torch.device,
                   seed: int) -> BaseGenerator:
    """A new generator with the recipe's parameters and the run's seed, device and silence.

    Raises
    ------
    SpecError
        At ``generator.params`` for an unknown or bad parameter (checked now, not at fit).
    """
    params = dict(recipe.spec.generator.params)
    accepted = set(cls._get_param_names())
    owned = {"random_state": seed, "device": str(device), "progress": False}
    params.update({k: v for k, v in owned.items() if k in accepted})
    try:
        gen = cls(**params)
        # the contract's parameter check runs at fit; run it now so a bad value fails before
        # any training rather than after the first arms
        gen._check_params()
    except (TypeError, InvalidParameterError) as exc:
        raise SpecError(recipe.source, [("generator.params", str(exc))]) from None
    return gen


def prepare(recipe: LoadedRecipe, device: str | torch.device,
            model_factory: ModelFactory | None) -> Experiment:
    """Validate and prepare everything before the first training step (module docstring).

    Parameters
    ----------
    recipe : LoadedRecipe
    device : str or torch.device
        Where models train (``"auto"``: a GPU when there is one).
    model_factory : callable or None
        A user's downstream model factory instead of the recipe's ``model.name``.

    Returns
    -------
    Experiment

    Raises
    ------
    SpecError
        For any problem with the recipe or its data, naming the file and the field.
    """
    spec = recipe.spec
    dev = resolve_device(device)
    task = task_for(recipe)
    auto = spec.generator.name == "auto"
    if not auto:  # bad name or parameter, before the data is read ("auto" needs its size)
        make_generator(recipe, generator_class(recipe, task), dev, 0)
    try:
        suite = load_suite(spec.report.suite)
    except (UnknownComponentError, InvalidParameterError) as exc:
        raise SpecError(recipe.source, [("report.suite", str(exc))]) from None
    factory: ModelFactory
    if model_factory is not None:
        if not callable(model_factory):
            raise InvalidParameterError("model_factory must be a callable returning a "
                                        "torch.nn.Module.")
        factory = model_factory
        model_name = f"custom:{getattr(model_factory, '__module__', '?')}." \
                     f"{getattr(model_factory, '__qualname__', type(model_factory).__name__)}"
    else:
        model_name = spec.model.name or task.default_model
        factory = registry.downstream_models.get(model_name)

    loaded = load_data(recipe, task.data)
    fixed_test = None
    given_test = load_test_data(recipe, task.data)
    if given_test is not None:
        # one container, test records last: every step after this takes positions into it
        n_main = task.data.n_records(loaded)
        try:
            loaded = task.data.concat([loaded, given_test])
        except InvalidDataError as exc:
            raise SpecError(recipe.source, [("data.test_source", (
                f"cannot join the test records to data.source: {exc}"))]) from None
        fixed_test = np.arange(n_main, task.data.n_records(loaded))
    sha = task.data.fingerprint(loaded)
    labels = task.labels(loaded)
    sensitive = task.groups(loaded, spec.data.sensitive) if spec.data.sensitive else None
    column = spec.scenario.column
    scenario = task.groups(loaded, column) if column is not None else None
    problems = task.check_roles(loaded) + check_labels(spec, labels, sensitive=sensitive,
                                                       scenario=scenario)
    if problems or labels is None:
        raise SpecError(recipe.source, problems or [("data.target", "the data has no labels.")])
    in_group = None
    group = None
    if spec.scenario.kind == "underrepresented_group" and scenario is not None:
        in_group = matches(scenario, spec.scenario.value)
        group = group_value(scenario, spec.scenario.value)
    try:
        splits = split_records(spec, labels, in_group, test=fixed_test)
    except InvalidDataError as exc:
        raise SpecError(recipe.source, [("data.target", str(exc))]) from None
    data = task.select(loaded)
    codes, classes = class_codes(labels)
    train_real = task.data.take(data, splits.train)
    n_train = task.data.n_records(train_real)
    if n_train < 2:
        raise SpecError(recipe.source, [("scenario", f"keeps {n_train} training record(s); a "
                                         "generator needs at least 2.")])
    generator_name = spec.generator.name
    if auto:
        generator_name = default_generator(task.modality, n_train, str(dev))
        make_generator(recipe, generator_class(recipe, task, generator_name), dev, 0)
    featurizer = task.featurizer().fit(train_real)
    inputs = featurizer.inputs(len(classes))
    # build the model once now, so bad model parameters fail before any training
    with seeded_torch(0, dev):
        try:
            probe = factory(inputs, **spec.model.params)
        except (TypeError, InvalidParameterError) as exc:
            raise SpecError(recipe.source, [("model.params", str(exc))]) from None
    if not isinstance(probe, nn.Module):
        raise InvalidParameterError(
            f"the downstream model factory returned {type(probe).__name__}, not a "
            "torch.nn.Module.")
    reference: str | None = spec.model.reference
    if reference == "auto":
        reference = task.reference
    elif reference == "none":
        reference = None
    elif task.reference is None:
        raise SpecError(recipe.source, [("model.reference", (
            f"{reference!r} reads tables' model inputs; this recipe's data is "
            f"{task.modality}. Use \"auto\" or \"none\"."))])
    exp = Experiment(
        recipe=recipe, task=task, data=data, sha256=sha, splits=splits, classes=classes,
        device=dev, generator_name=generator_name, model_factory=factory,
        model_name=model_name, featurizer=featurizer, inputs=inputs, train_real=train_real,
        train_codes=codes[splits.train],
        train_in_group=None if in_group is None else in_group[splits.train],
        # validation and test go to the device once, here, for every arm and seed
        validation=TensorSet.from_arrays(
            featurizer.transform(task.data.take(data, splits.validation)),
            codes[splits.validation], dev),
        test=TensorSet.from_arrays(featurizer.transform(task.data.take(data, splits.test)),
                                   codes[splits.test], dev),
        test_groups=(None if sensitive is None
                     else pd.Series(sensitive[splits.test]).astype(str).to_numpy()),
        group_value=group, arms=arms_for(spec, task.baseline), suite=suite,
        reference=reference,
    )
    exp.fingerprint = fingerprint_of(exp)
    return exp


def fingerprint_of(exp: Experiment) -> str:
    """What a run folder's results depend on; a folder is resumed only when this matches.

    The recipe enters in its format-1 form: ``data.modality``, a left-out ``model.name`` and
    ``baseline = "classic"`` are resolved to what they mean (and the modality left out for
    tables, the only data format 1 knew), so a folder written before those fields existed still
    resumes and equivalent spellings share a folder.  The synthaug version is part of it:
    results of different code are never mixed in one report.
    """
    recipe = exp.spec.model_dump(mode="json")
    recipe["data"].pop("modality", None)
    # fields added after format 1 enter only when set, so older run folders still resume
    for section, name, unset in (("data", "test_source", None),
                                 ("augmentation", "baseline_ratios", None),
                                 ("augmentation", "combined_ratios", []),
                                 ("augmentation", "real_baselines", []),
                                 ("augmentation", "uses", ["append"]),
                                 ("augmentation", "filter_confidence", 0.5),
                                 ("augmentation", "synthetic_weight", 0.5),
                                 ("augmentation", "tune_decision", False)):
        if recipe[section].get(name) == unset:
            recipe[section].pop(name, None)
    if exp.task.modality != "tabular":
        recipe["data"]["modality"] = exp.task.modality
    recipe["model"]["name"] = exp.spec.model.name or exp.task.default_model
    recipe["model"]["reference"] = exp.reference or "none"  # what "auto" resolved to
    if recipe["model"]["reference"] == "none":
        recipe["model"].pop("reference")
    if recipe["augmentation"]["baseline"] == "classic":
        recipe["augmentation"]["baseline"] = exp.task.baseline
    blob = json.dumps({"format": RUN_FORMAT, "recipe": recipe, "data": exp.sha256,
                       "model": exp.model_name, "synthaug": __version__}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


# -- what the run folder and the report record -------------------------------------------------
def run_record(exp: Experiment, **extra: Any) -> dict[str, Any]:
    """``run.json``: the exact recipe, seeds, data hash, splits and versions of the run."""
    import imblearn
    import scipy
    import sklearn

    spec = exp.spec
    record = {
        "format": RUN_FORMAT,
        "recipe_name": spec.name,
        "recipe_source": exp.recipe.source,
        "recipe_text": exp.recipe.text,
        "recipe": spec.model_dump(mode="json"),
        "fingerprint": exp.fingerprint,
        "seeds": list(spec.seeds),
        "derived_seeds": {
            str(s): {k: derive_seed(s, k) for k in ("generator", "model", "batches")}
            for s in spec.seeds
        },
        "split_seed": spec.split.seed,
        "device": str(exp.device),
        "torch_threads": torch.get_num_threads(),
        "data": {"source": spec.data.source, "modality": exp.task.modality,
                 "sha256": exp.sha256, **exp.task.describe(exp.data)},
        "splits": split_sizes(exp),
        "arms": [a.key for a in exp.arms],
        "generator": exp.generator_name,
        "model": exp.model_name,
        "reference_model": exp.reference,
        "versions": {
            "synthaug": __version__,
            "python": platform.python_version(),
            "platform": platform.platform(),
            "torch": torch.__version__,
            "cuda": torch.version.cuda,
            "numpy": np.__version__,
            "pandas": pd.__version__,
            "scikit-learn": sklearn.__version__,
            "imbalanced-learn": imblearn.__version__,
            "scipy": scipy.__version__,
        },
    }
    record.update(extra)
    return record


def split_sizes(exp: Experiment) -> dict[str, Any]:
    """Sizes of the splits and the real training records per class (for run.json and the
    report)."""
    s = exp.splits
    labels = pd.Series(np.asarray(exp.classes, dtype=object)[exp.train_codes]).astype(str)
    counts = labels.value_counts().sort_index()
    return {"seed": exp.spec.split.seed, "train_full": len(s.train_full), "train": len(s.train),
            "validation": len(s.validation), "test": len(s.test),
            "train_class_counts": {str(k): int(v) for k, v in counts.items()}}


def default_out_dir(exp: Experiment) -> Path:
    """``./synthaug-runs/<name>-<fingerprint>-<device type>``."""
    return Path.cwd() / "synthaug-runs" / (
        f"{exp.spec.name}-{exp.fingerprint[:10]}-{exp.device.type}"
    )


def describe_scenario(spec: RecipeSpec) -> str:
    """The scenario in one line: ``low_data fraction=0.02``."""
    sc = spec.scenario
    if sc.kind == "none":
        return "none"
    used = {k: getattr(sc, k) for k in ("fraction", "per_class", "ratio", "minority", "column",
                                        "value") if getattr(sc, k) is not None}
    return f"{sc.kind} " + ", ".join(f"{k}={v}" for k, v in used.items())


def budget(spec: RecipeSpec) -> str:
    """The training budget every arm gets, in one line."""
    t = spec.training
    return (f"{t.max_steps} steps of {t.batch_size} rows, AdamW lr {t.learning_rate:g}, "
            f"validation every {t.eval_every} steps, patience {t.patience}")
