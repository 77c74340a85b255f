"""The recipe runner: a recipe file in, a measured gain (with its uncertainty) out.

What :func:`run` does, in order:

1. **Validate everything before any training.**  The file is parsed into a frozen
   :class:`~synthaug.config.RecipeSpec` (unknown keys, strict types, ranges, unknown generator
   or model names with a did-you-mean, a generator or model of another modality); then the
   data is loaded and every data-dependent field is checked (target, sensitive and group
   names, the scenario's labels and values, the generator's and the model's parameters).
   Errors are :class:`~synthaug.config.SpecError` naming the file and the field.  The run
   folder is checked and its ``run.json`` written before the first training step too.
2. **Split** the records into stratified train / validation / test sets with ``split.seed``,
   and apply the **scenario** to the training records only (validation and test stay
   representative); see :mod:`synthaug.recipes.splits`.
3. For each seed and each **arm** (real-only; real + synthetic at each ratio; synthetic-only;
   real + the classic augmentation at each ratio; see :mod:`synthaug.recipes.arms`) train the
   *same* downstream model with the same seed-derived initialisation, batch order and step
   budget, early-stopped on the same real validation records, and score it on the real test
   records.  The generator is fitted once per seed, on the real training records the scenario
   kept, and on nothing else.
4. Write each finished (arm, seed) result at once, atomically, into the resumable run folder
   (:mod:`synthaug.recipes.store`), so an interrupted run resumes where it stopped; then
   summarise into a :class:`~synthaug.recipes.report.GainReport` (``results.json``,
   ``report.md``, ``gain.png``) beside ``run.json``.

Step 1 is :func:`synthaug.recipes.experiment.prepare`.  Everything that depends on the kind
of data (columns, model inputs, generator input, the classic baseline) is the data's task
(:mod:`synthaug.recipes.tasks`), and records are counted, indexed and joined through the
modality seam; this module only orchestrates.

**Seeds.**  The split and the scenario's subsample are fixed by ``split.seed``; the recipe's
``seeds`` vary the generator fit, the synthetic draws, the model initialisation and the batch
order (:func:`synthaug.utils.random.derive_seed`).  Holding the data fixed lets every arm be
compared with real-only *paired by seed*, which is what makes small gains detectable; the price
is that the intervals say nothing about other draws of the split (rerun with another
``split.seed`` for that).
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch

from synthaug.config import RecipeSpec
from synthaug.exceptions import InvalidParameterError
from synthaug.generators.base import BaseGenerator
from synthaug.recipes.experiment import (
    RUN_FORMAT,
    Experiment,
    ModelFactory,
    budget,
    default_out_dir,
    describe_scenario,
    generator_class,
    make_generator,
    prepare,
    run_record,
    split_sizes,
)
from synthaug.recipes.loading import LoadedRecipe, load_recipe
from synthaug.recipes.report import GainReport
from synthaug.recipes.store import RunStore
from synthaug.recipes.trial import RealModels, run_trial
from synthaug.recipes.validation import (
    VALIDATION_FILES,
    previous_validation,
    validate_generator,
)
from synthaug.utils.progress import progress_bar
from synthaug.utils.random import derive_seed

__all__ = ["RUN_FORMAT", "check", "run"]


def _fit_generator(exp: Experiment, seed: int) -> tuple[BaseGenerator, float]:
    cls = generator_class(exp.recipe, exp.task, exp.generator_name)
    gen = make_generator(exp.recipe, cls, exp.device, derive_seed(seed, "generator"))
    rows = exp.task.generator_input(exp.train_real)
    start = time.perf_counter()
    gen.fit(rows)
    return gen, time.perf_counter() - start


# -- the public entry points -------------------------------------------------------------------
def run(
    spec_or_path: RecipeSpec | Mapping[str, Any] | str | os.PathLike[str],
    *,
    out_dir: str | os.PathLike[str] | None = None,
    device: str | torch.device = "auto",
    progress: bool | None = None,
    model_factory: ModelFactory | None = None,
    threads: int | None = None,
) -> GainReport:
    """Run a recipe and report the gain of synthetic data, with intervals over seeds.

    Parameters
    ----------
    spec_or_path : RecipeSpec, mapping, path or str
        A recipe: a spec, its mapping, a ``.toml`` file, or a built-in recipe's name
        (``"adult-lowdata"``; see :func:`list_builtin_recipes`).
    out_dir : path, optional
        The run folder: new, empty, or holding an interrupted run of the same recipe, data and
        device, which is resumed (finished (arm, seed) results are kept, not retrained).  A
        non-empty folder synthaug did not write is refused.  Default:
        ``./synthaug-runs/<name>-<fingerprint>-<device type>``.
    device : str or torch.device, default="auto"
        Where the downstream models (and generators that use one) train.
    progress : bool or None
        Show a progress bar over arms x seeds (``None``: when stderr is a terminal).
    model_factory : callable, optional
        Your own downstream model: ``model_factory(inputs, **recipe.model.params)`` returning a
        ``torch.nn.Module`` called as ``model(**inputs)`` that returns logits (for tables
        ``forward(x_num, x_cat)``; see :mod:`synthaug.recipes.tasks`).  Replaces the recipe's
        ``model.name``.
    threads : int, optional
        CPU threads torch may use during the run (restored afterwards); overrides the recipe's
        ``training.threads``.  With neither, torch's own setting is left alone.

    Returns
    -------
    GainReport
        Also written to ``out_dir`` as ``results.json``, ``report.md`` and ``gain.png``.

    Raises
    ------
    SpecError
        For any problem with the recipe or its data, before anything is trained.
    UnsafeOutputError
        When ``out_dir`` is a file, or a non-empty folder without a synthaug ``run.json``.
    RunFolderError
        When the run folder cannot be written (a full disk, no permission) or its
        ``run.json`` is damaged; an :class:`OSError` too.

    Examples
    --------
    A real run (minutes on a CPU: every arm, every seed), so not run as a doctest;
    :func:`check` validates the recipe and its data without training.

    >>> from synthaug.recipes import run
    >>> report = run("adult-lowdata", out_dir="runs/adult-lowdata")  # doctest: +SKIP
    >>> print(report)  # doctest: +SKIP
    """
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int)
                                or threads < 1):
        raise InvalidParameterError(f"threads must be None or a positive int, got {threads!r}.")
    started = time.perf_counter()
    recipe = load_recipe(spec_or_path)
    chosen = threads if threads is not None else recipe.spec.training.threads
    previous_threads = torch.get_num_threads()
    if chosen is not None:
        torch.set_num_threads(chosen)
    try:
        return _run(recipe, out_dir, device, progress, model_factory, started)
    finally:
        torch.set_num_threads(previous_threads)


def _validate(exp: Experiment, gen: BaseGenerator, seed: int, out_dir: Path) -> dict[str, Any]:
    """Run the recipe's suite on records of the first fitted generator (test records as the
    holdout)."""
    if exp.suite is None:
        raise InvalidParameterError("internal: _validate called without a suite")
    holdout = exp.task.data.take(exp.data, exp.splits.test)
    return validate_generator(
        exp.suite, gen, exp.train_real, holdout, target=exp.spec.data.target,
        sensitive=exp.spec.data.sensitive, seed=derive_seed(seed, "validate"),
        device=str(exp.device), out_dir=out_dir,
    )


def _run(
    recipe: LoadedRecipe,
    out_dir: str | os.PathLike[str] | None,
    device: str | torch.device,
    progress: bool | None,
    model_factory: ModelFactory | None,
    started: float,
) -> GainReport:
    exp = prepare(recipe, device, model_factory)
    store = RunStore(Path(out_dir) if out_dir is not None else default_out_dir(exp),
                     fingerprint=exp.fingerprint, device=str(exp.device))
    store.open()
    spec = exp.spec
    start_time = datetime.now(UTC).isoformat(timespec="seconds")
    # the first write, before any training: a full disk or an unwritable folder fails here
    store.write_manifest(run_record(exp, status="running", started=start_time))
    results: dict[tuple[str, int], dict[str, Any]] = {}
    trained = reused = 0
    validation: dict[str, Any] | None = None
    total = len(exp.arms) * len(spec.seeds)
    real_models = RealModels()
    with progress_bar(total, f"recipe {spec.name}", progress, unit="run") as bar:
        for seed in spec.seeds:
            todo = []
            for arm in exp.arms:
                done = store.load((arm.key, f"seed-{seed}"))
                if done is None:
                    todo.append(arm)
                else:
                    results[(arm.key, seed)] = done
                    reused += 1
                    bar.update(1)
            gen, gen_seconds = None, None
            if any(arm.uses_generator for arm in todo):
                bar.set_postfix_str(f"seed {seed}: fitting {exp.generator_name}")
                gen, gen_seconds = _fit_generator(exp, seed)
                if validation is None and exp.suite is not None:
                    bar.set_postfix_str(f"seed {seed}: validating {exp.generator_name}")
                    with store.writing(store.path / VALIDATION_FILES[0]):
                        validation = _validate(exp, gen, seed, store.path)
            for arm in todo:
                bar.set_postfix_str(f"seed {seed}: {arm.key}")
                result = run_trial(exp, arm, seed, gen, gen_seconds, real_models)
                # now, so an interruption loses only this arm
                store.write((arm.key, f"seed-{seed}"), result)
                results[(arm.key, seed)] = result
                trained += 1
                bar.update(1)
    wall = time.perf_counter() - started
    ordered = [results[(arm.key, seed)] for arm in exp.arms for seed in spec.seeds]
    info = {
        "description": spec.description,
        "data": {"source": spec.data.source, "rows": exp.task.data.n_records(exp.data),
                 "target": spec.data.target, "sha256": exp.sha256,
                 "sensitive": spec.data.sensitive},
        "splits": split_sizes(exp),
        "scenario": describe_scenario(spec),
        "generator": exp.generator_name,
        "model": exp.model_name,
        "reference_model": exp.reference,
        "budget": budget(spec),
        "tune_decision": spec.augmentation.tune_decision,
        "device": str(exp.device),
        "torch_threads": torch.get_num_threads(),
        "wall_seconds": round(wall, 2),
        "trained": trained,
        "reused": reused,
        "out_dir": str(store.path),
        "focus_group": (f"{spec.data.sensitive}={exp.group_value}"
                        if spec.data.sensitive and exp.group_value is not None else None),
        "notes": sorted({n for r in ordered for n in r.get("notes", [])}),
        "validation": validation or previous_validation(store.path),
    }
    report = GainReport.from_runs(spec.name, ordered, metric=spec.report.metric,
                                  seeds=list(spec.seeds), confidence=spec.report.confidence,
                                  info=info)
    with store.writing(store.path / "results.json"):
        report.save(store.path)
    store.write_manifest(run_record(
        exp, status="finished", started=start_time,
        finished=datetime.now(UTC).isoformat(timespec="seconds"), wall_seconds=round(wall, 2),
        trained=trained, reused=reused))
    return report


def check(
    spec_or_path: RecipeSpec | Mapping[str, Any] | str | os.PathLike[str],
    *,
    device: str | torch.device = "auto",
) -> dict[str, Any]:
    """Validate a recipe against its data without training anything; return its plan.

    Every check :func:`run` makes before training runs here too (the data is loaded, split
    and featurized), so a recipe that passes ``check`` fails in ``run`` only at training time
    (or at its run folder).

    Examples
    --------
    >>> from synthaug.recipes import check
    >>> plan = check("adult-lowdata", device="cpu")
    >>> plan["runs"], plan["arms"][:3], plan["generator"]
    (95, ['real', 'class-weights', 'tuned-threshold'], 'tabular.copula')
    """
    exp = prepare(load_recipe(spec_or_path), device, None)
    return {"recipe": exp.spec.name, "arms": [a.key for a in exp.arms],
            "seeds": list(exp.spec.seeds), "splits": split_sizes(exp),
            "scenario": describe_scenario(exp.spec), "device": str(exp.device),
            "generator": exp.generator_name,
            "runs": len(exp.arms) * len(exp.spec.seeds)}
