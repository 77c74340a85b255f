"""The job's gate: a validation suite run on a uniform sample of the records it wrote.

The sample is read back from the shards (what is judged is what is on disk), ``sample``
records drawn without replacement from the whole job by
``default_rng(derive_seed(seed, "validation"))``, in shard order.  Only shards holding sampled
records are read, one at a time, so memory stays within a shard.  The suite, its real data
and its holdout are resolved before any work (:func:`plan_validation`), so a typo in a suite
name fails at once.  A failed gate makes the job ``failed``; its shards are kept.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from synthaug.data.modality import Modality
from synthaug.exceptions import SynthaugError
from synthaug.jobs.model import ModelSource, read_data
from synthaug.jobs.spec import LoadedJob
from synthaug.utils.random import derive_seed
from synthaug.validators.report import SuiteReport
from synthaug.validators.suite import Suite

__all__ = ["ValidationPlan", "plan_validation", "read_sample", "run_validation"]


@dataclass
class ValidationPlan:
    """A resolved ``[validation]``: the suite, its inputs, and a key of what it depends on."""

    suite: Suite
    real: Any
    holdout: Any
    target: str | None
    sensitive: tuple[str, ...]
    sample: int
    key: str


def plan_validation(job: LoadedJob, source: ModelSource) -> ValidationPlan | None:
    """Resolve the suite and read its data, or ``None`` when the job is not validated.

    Without a ``[validation]`` section a job that fits its generator is validated with the
    modality's default suite against that data; one given a saved folder is not.

    Raises
    ------
    SpecError
        At ``validation.*`` for a suite that does not load, data that cannot be read, or a
        target or sensitive column the real data does not have.
    """
    spec = job.spec.validation
    if spec is None and source.data is None:
        return None
    suite_name = (spec.suite if spec is not None else None)
    if suite_name == "":
        return None
    modality = source.modality
    name = suite_name if suite_name is not None else modality.default_suite
    local = job.path(name)
    try:
        suite = Suite.from_file(local if local.is_file() else name)
    except SynthaugError as exc:
        raise job.error("validation.suite", str(exc)) from None
    if spec is not None and spec.data is not None:
        _, real = read_data(job, spec.data, "validation.data", modality=modality)
    else:
        real = source.data
    holdout = None
    if spec is not None and spec.holdout is not None:
        _, holdout = read_data(job, spec.holdout, "validation.holdout", modality=modality)
    target = spec.target if spec is not None and spec.target is not None else source.target
    sensitive = spec.sensitive if spec is not None else ()
    try:
        modality.check_roles(real, target=target, sensitive=sensitive)
    except SynthaugError as exc:
        raise job.error("validation.target" if target and target in str(exc)
                        else "validation.sensitive", str(exc)) from None
    sample = spec.sample if spec is not None else 10_000
    key = hashlib.sha256(json.dumps({
        "suite": suite.source, "checks": suite.spec.model_dump(mode="json"),
        "real": modality.fingerprint(real),
        "holdout": None if holdout is None else modality.fingerprint(holdout),
        "target": target, "sensitive": list(sensitive), "sample": sample,
    }, sort_keys=True, default=str).encode()).hexdigest()
    return ValidationPlan(suite, real, holdout, target, tuple(sensitive), sample, key)


def read_sample(modality: Modality, shards: Sequence[tuple[Path, int]], n: int,
                seed: int) -> Any:
    """``n`` records drawn uniformly without replacement from the shards, in shard order.

    Parameters
    ----------
    modality : Modality
    shards : sequence of (path, records)
        The job's shards in index order.
    n : int
        How many records (at most all of them).
    seed : int
        The job seed.
    """
    sizes = np.array([count for _, count in shards], dtype=np.int64)
    total = int(sizes.sum())
    rng = np.random.default_rng(derive_seed(seed, "validation"))
    picked = np.sort(rng.choice(total, size=min(n, total), replace=False))
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    which = np.searchsorted(bounds, picked, side="right") - 1
    parts = []
    for i in np.unique(which):
        path, _ = shards[int(i)]
        data = modality.check(modality.read(path), what=str(path))
        parts.append(modality.take(data, picked[which == i] - bounds[i]))
    return modality.concat(parts)


def run_validation(plan: ValidationPlan, modality: Modality, shards: Sequence[tuple[Path, int]],
                   *, seed: int, device: str, generator: dict[str, Any]) -> SuiteReport:
    """Run the suite on a sample of the shards (see the module docstring)."""
    synthetic = read_sample(modality, shards, plan.sample, seed)
    return plan.suite.run(plan.real, synthetic, holdout=plan.holdout, target=plan.target,
                          sensitive=list(plan.sensitive) or None,
                          context={"device": device, "generator": generator}, figures=False)
