"""Running a job: everything checked first, then the shards, the gate and the manifest.

Order (the module docstrings of :mod:`~synthaug.jobs.plan`, :mod:`~synthaug.jobs.store` and
:mod:`~synthaug.jobs.shards` say why each step is safe):

1. the spec, the model (loaded, or its data read), the format, conditions and mix, the plan,
   the suite and its data, the engine and the device, and the output folder (ownership, same
   job, versions) are all checked; nothing has been written yet;
2. a few probe records are written to a temporary folder to estimate the bytes per record, and
   the estimate for the shards still missing is compared with the free space of the output
   file system; a job that would not fit is refused before it starts;
3. the job folder is locked, temporaries of a killed run are removed, finished shards are
   verified by their SHA-256, and the manifest is written (``status = "running"``);
4. a generator the job fits is fitted and saved in the folder (once);
5. the engine writes the missing shards; each finished shard's record is written as it comes;
6. the suite runs on a sample of the shards; the final manifest says ``complete`` or
   ``failed`` (gate failed); a replacing job is then swapped into place.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import platform
import shutil
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import numpy as np

from synthaug import registry
from synthaug._version import __version__
from synthaug.data.modality import LABEL
from synthaug.exceptions import (
    InvalidDataError,
    InvalidParameterError,
    RunFolderError,
    ValidationFailedError,
)
from synthaug.generators.base import BaseGenerator
from synthaug.jobs.engines import Engine, get_engine
from synthaug.jobs.model import ModelSource, fitted_model, resolve_model
from synthaug.jobs.plan import Shard, class_totals, plan_shards
from synthaug.jobs.shards import (
    DEFAULT_SHARD_SIZE,
    check_format,
    checksum,
    class_path,
    draw_records,
)
from synthaug.jobs.spec import JOB_FORMAT_VERSION, JobSpec, LoadedJob, load_job
from synthaug.jobs.store import MANIFEST, JobStore, ShardChecksumError
from synthaug.jobs.validation import ValidationPlan, plan_validation, run_validation
from synthaug.utils.files import check_output_file
from synthaug.utils.progress import progress_bar
from synthaug.utils.random import derive_seed
from synthaug.validators.report import SuiteReport

__all__ = ["JobResult", "check", "run"]

#: records drawn to estimate the bytes per record (images are slow to draw and all alike)
_PROBE = {"tabular": 10_000, "image": 32, "text": 1_000}
#: headroom over the estimate: a probe compresses a little worse than a full shard
_DISK_MARGIN = 1.1
SEED_DERIVATION = ("shard i: numpy.random.default_rng(derive_seed(seed, 'shard', i)), "
                   "derive_seed = SeedSequence([seed, crc32(b'shard'), i]).generate_state(1, "
                   "uint64)[0] >> 1")


@dataclass(frozen=True)
class JobResult:
    """What :func:`run` did.

    Attributes
    ----------
    path : Path
        The job folder.
    status : str
        ``"complete"``, or ``"failed"`` when the validation gate failed (shards are kept).
    records, shards : int
        Records and shards of the whole job.
    written : int
        Shards this call wrote (0 when the job was already complete).
    seconds : float
        Wall time of this call.
    manifest : dict
        ``manifest.json`` as written.
    report : SuiteReport or None
        The validation report, when the job is validated.
    """

    path: Path
    status: str
    records: int
    shards: int
    written: int
    seconds: float
    manifest: dict[str, Any]
    report: SuiteReport | None

    @property
    def last_run(self) -> dict[str, Any]:
        """This call's entry of the manifest's ``runs`` (timings, engine, disk estimate)."""
        runs = self.manifest.get("runs") or [{}]
        return dict(runs[-1])

    @property
    def ok(self) -> bool:
        """Whether the job is complete and passed its gate (or has none)."""
        return self.status == "complete"

    def raise_for_gate(self) -> None:
        """Raise :class:`~synthaug.exceptions.ValidationFailedError` for a failed job."""
        if not self.ok:
            failed = ", ".join(self.report.failed) if self.report is not None else "?"
            raise ValidationFailedError(f"the job in {self.path} failed its validation gate "
                                        f"({failed}); its shards are kept.")


@dataclass
class _Prepared:
    job: LoadedJob
    source: ModelSource
    fmt: str
    suffix: str
    shard_size: int
    shards: list[Shard]
    column: str
    validation: ValidationPlan | None
    engine: Engine
    device: str
    identity: dict[str, Any]
    store: JobStore


def versions() -> dict[str, str]:
    """Versions of what the shards' bytes depend on (recorded, and compared on resume)."""
    import pandas
    import PIL
    import pyarrow
    import sklearn
    import torch

    return {"synthaug": __version__, "python": platform.python_version(),
            "numpy": np.__version__, "torch": torch.__version__, "pandas": pandas.__version__,
            "pyarrow": pyarrow.__version__, "pillow": PIL.__version__,
            "scikit-learn": sklearn.__version__}


def _hash(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _check_classes(job: LoadedJob, source: ModelSource, column: str) -> None:
    """Conditions and the mix against the model, or against the data a model will learn."""
    spec, modality = job.spec, source.modality
    if modality.name != "tabular":
        if spec.mix is not None and spec.mix.column not in (None, LABEL):
            raise job.error("mix.column", f"{modality.name} generators condition on the class "
                            f"only; leave mix.column out (it is {LABEL!r}).")
        stray = sorted(set(spec.conditions) - {LABEL})
        if stray:
            raise job.error(f"conditions.{stray[0]}", f"{modality.name} generators condition "
                            f"on the class only: use conditions.{LABEL}.")
    labels = [c.label for c in spec.mix.classes] if spec.mix is not None else []
    model = source.model
    if model is not None:
        asks = [("conditions", dict(spec.conditions))] if spec.conditions else []
        asks += [(f"mix.classes[{i}].label", {**spec.conditions, column: label})
                 for i, label in enumerate(labels)]
        for where, conditions in asks:
            try:
                model.sample(0, conditions=conditions)
            except (InvalidParameterError, InvalidDataError) as exc:
                hint = (" Name the table's label column in mix.column." if where != "conditions"
                        and column == LABEL and modality.name == "tabular" else "")
                raise job.error(where, f"{exc}{hint}") from None
        return
    data = source.data
    if modality.name == "tabular":
        for key in [*spec.conditions, *([column] if labels else [])]:
            if key not in data.columns:
                where = "mix.column" if key == column and labels else f"conditions.{key}"
                raise job.error(where, f"{key!r} is not a column of the data; its columns are "
                                f"{list(data.columns)[:20]}.")
    if labels:
        seen = modality.labels(data, target=column if modality.name == "tabular" else None)
        known = set(np.asarray(seen, dtype=object).tolist()) if seen is not None else set()
        for i, label in enumerate(labels):
            if label not in known:
                raise job.error(f"mix.classes[{i}].label", f"{label!r} is not a class of the "
                                f"data; its classes are {sorted(map(str, known))[:10]}.")


def _prepare(job: LoadedJob) -> _Prepared:
    """Step 1 of the module docstring: every check, no writes.  Starts the engine."""
    spec = job.spec
    out = job.path(spec.output.path)
    check_output_file(out / MANIFEST, what="output.path")
    source = resolve_model(job)
    modality = source.modality
    try:
        fmt, suffix = check_format(modality.name, spec.output.format)
    except InvalidParameterError as exc:
        raise job.error("output.format", str(exc)) from None
    column = LABEL if modality.name != "tabular" else spec.mix_column
    _check_classes(job, source, column)
    shard_size = spec.output.shard_size or DEFAULT_SHARD_SIZE[modality.name]
    classes = [(c.label, c.share) for c in spec.mix.classes] if spec.mix is not None else None
    shards = plan_shards(records=spec.records, shard_size=shard_size, seed=spec.seed,
                         suffix=suffix, classes=classes)
    if any(s.records == 0 for s in shards):
        raise job.error("output.shard_size", f"{shard_size} is too small for a mix of "
                        f"{len(classes or [])} classes (a shard would be empty).")
    validation = plan_validation(job, source)
    identity = {
        "job_format": JOB_FORMAT_VERSION, "model": source.identity, "records": spec.records,
        "seed": spec.seed, "shard_size": shard_size, "format": fmt,
        "conditions": dict(spec.conditions),
        "mix": None if classes is None else {"column": column,
                                             "classes": [list(c) for c in classes]},
    }
    engine = get_engine(spec.engine)
    engine.start()
    try:
        device = engine.device(spec.model.device)
        engine.check(len(shards))
        store = JobStore(out, fingerprint=_hash(identity), device=device, versions=versions())
        store.open(replace=spec.output.replace)
    except BaseException:
        engine.stop()
        raise
    return _Prepared(job, source, fmt, suffix, shard_size, shards, column, validation, engine,
                     device, identity, store)


def _bytes_per_record(p: _Prepared) -> tuple[float, int, float | None]:
    """Step 2: bytes per record of a few probe records written in the job's format, and the
    seconds per record of drawing them (``None`` before a fitted model exists)."""
    modality, model = p.source.modality, p.source.model
    k = min(p.shard_size, _PROBE.get(modality.name, 1_000), p.job.spec.records)
    per_draw = None
    if model is not None:
        started = time.perf_counter()
        data = _probe_draw(p, model, k)
        per_draw = (time.perf_counter() - started) / max(k, 1)
    else:
        k = min(k, modality.n_records(p.source.data))
        data = modality.take(p.source.data, np.arange(k))
    with tempfile.TemporaryDirectory(prefix="synthaug-probe-") as folder:
        target = Path(folder) / f"probe{p.suffix}"
        started = time.perf_counter()
        modality.write(data, target)
        per_write = (time.perf_counter() - started) / max(k, 1)
        _, size = checksum(target)
    return size / max(k, 1), k, None if per_draw is None else per_draw + per_write


def _probe_draw(p: _Prepared, model: BaseGenerator, k: int) -> Any:
    task = {"seed": derive_seed(p.job.spec.seed, "probe"), "counts": [[None, k]]}
    return draw_records(model, p.source.modality, task, p.job.spec.conditions, p.column)


def _check_disk(p: _Prepared, remaining: int, per_record: float, probe: int) -> dict[str, Any]:
    """Refuse a job whose missing shards would not fit on the output's file system."""
    needed = math.ceil(per_record * remaining * _DISK_MARGIN)
    free = shutil.disk_usage(p.store.work).free
    disk = {"estimated_bytes": needed, "free_bytes": free, "probe_records": probe,
            "bytes_per_record": round(per_record, 2)}
    if needed > free:
        raise RunFolderError(
            f"the job needs about {needed / 1e9:.2f} GB for its {remaining:,} missing records "
            f"(estimated from {probe:,} probe records as {p.fmt}), but {p.store.work} has "
            f"{free / 1e9:.2f} GB free. Free some space, choose another output.path, or write "
            "fewer records.")
    return disk


def _shard_entry(record: Mapping[str, Any]) -> dict[str, Any]:
    """The deterministic part of a shard's record, as the manifest lists it."""
    return {"index": record["index"], "name": f"shards/{record['name']}",
            "records": record["records"], "sha256": record["sha256"], "bytes": record["bytes"],
            "seed": record["seed"], "classes": record.get("classes") or []}


def _manifest(p: _Prepared, status: str, finished: Mapping[int, Mapping[str, Any]],
              **extra: Any) -> dict[str, Any]:
    spec = p.job.spec
    folder = p.source.folder
    model_path = ("model" if folder is not None and folder == p.store.model
                  else str(folder) if folder is not None else None)
    totals = None
    if spec.mix is not None:
        counts = class_totals(spec.records, [c.share for c in spec.mix.classes])
        totals = [[c.label, n] for c, n in zip(spec.mix.classes, counts, strict=True)]
    return {
        "status": status, "description": spec.description, "source": p.job.source,
        "spec_hash": p.store.fingerprint, "spec": spec.model_dump(mode="json"),
        "identity": p.identity, "modality": p.source.modality.name, "shard_format": p.fmt,
        "records": spec.records, "shard_size": p.shard_size, "n_shards": len(p.shards),
        "seed": spec.seed, "seed_derivation": SEED_DERIVATION, "classes": totals,
        "model": {"generator": p.source.name, "path": model_path},
        "shards": [_shard_entry(finished[i]) for i in sorted(finished)],
        **extra,
    }


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def run(spec: JobSpec | Mapping[str, Any] | str | Path, *, replace: bool | None = None,
        engine: str | None = None, workers: int | None = None,
        progress: bool | None = None) -> JobResult:
    """Run (or resume) a batch job: write its shards, validate them, write the manifest.

    Parameters
    ----------
    spec : JobSpec, mapping or path
        The job (see :mod:`synthaug.jobs.spec`).
    replace : bool, optional
        Overrides ``output.replace``.
    engine, workers : optional
        Override ``engine.name`` and ``engine.workers`` (they never change the bytes).
    progress : bool, optional
        Show a progress bar (records/s and ETA); default: when stderr is a terminal.

    Returns
    -------
    JobResult
        ``status`` is ``"failed"`` when the gate failed; this does not raise (see
        :meth:`JobResult.raise_for_gate`).

    Raises
    ------
    SpecError
        For a bad spec, before any work.
    JobConflictError, UnsafeOutputError
        When the output folder holds another job or files synthaug did not write.
    RunFolderError
        For a full disk or an unwritable path (finished shards are kept), a damaged manifest,
        or shards changed from outside (:class:`~synthaug.jobs.store.ShardChecksumError`).

    Examples
    --------
    >>> from synthaug.jobs import run
    >>> result = run("job.toml")  # doctest: +SKIP
    >>> result.status, result.manifest["shards"][0]["sha256"]  # doctest: +SKIP
    """
    started = time.perf_counter()
    job = load_job(spec, overrides={"engine": {"name": engine, "workers": workers},
                                    "output": {"replace": replace}})
    p = _prepare(job)
    store = p.store
    try:
        per_record, probe, per_draw = _bytes_per_record(p)
        created = not store.work.exists()
        store.lock()
        try:
            return _run_locked(p, started, (per_record, probe, per_draw), progress)
        except BaseException:
            if created:
                with contextlib.suppress(OSError):  # an empty folder this call made
                    store.unlock()
                    store.work.rmdir()
            raise
        finally:
            store.unlock()
    finally:
        p.engine.stop()


def _run_locked(p: _Prepared, started: float, probe: tuple[float, int, float | None],
                progress: bool | None) -> JobResult:
    spec, store, modality = p.job.spec, p.store, p.source.modality
    per_record, probe_records, per_draw = probe
    store.sweep(p.shards)
    finished = store.finished(p.shards)
    remaining = [s for s in p.shards if s.index not in finished]
    missing = sum(s.records for s in remaining)
    disk = _check_disk(p, missing, per_record, probe_records)
    previous = store.previous or {}
    # every attempt is listed, a killed one with what it got to write before it died
    history = [r for r in previous.get("runs") or [] if isinstance(r, Mapping)]
    run_info: dict[str, Any] = {"started": _now(), "disk": disk}
    store.write_manifest(_manifest(p, "running", finished, runs=[*history, run_info]))
    if p.source.folder is None:
        model = fitted_model(p.source, p.job, store.model, device=p.device, progress=progress)
        _check_classes(p.job, p.source, p.column)  # the fitted model now answers for itself
        k = min(p.shard_size, 2_000, spec.records)
        begun = time.perf_counter()
        _probe_draw(p, model, k)
        per_draw = (time.perf_counter() - begun) / k
    else:
        model = cast(BaseGenerator, p.source.model)
    if per_draw is not None:
        p.engine.estimate_s = per_draw * missing
        run_info["estimated_seconds_one_worker"] = round(p.engine.estimate_s, 1)
    run_info["engine"] = p.engine.describe(len(remaining))
    context = {
        "model": str(p.source.folder), "generator": p.source.name,
        "generator_class": class_path(registry.generators.get(p.source.name)),
        "modality": modality.name, "shards": str(store.shards),
        "conditions": dict(spec.conditions), "column": p.column,
    }
    with progress_bar(spec.records, "generate", progress, unit=modality.record,
                      unit_scale=True, initial=sum(r["records"] for r in finished.values())
                      ) as bar:
        def done(record: dict[str, Any]) -> None:
            old = store.recorded.get(int(record["index"]))
            if old is not None and old.get("sha256") != record["sha256"]:
                raise ShardChecksumError(
                    f"shard {record['name']} was drawn again (it had been deleted) and its "
                    f"bytes differ from those first recorded ({old.get('sha256', '')[:12]}... "
                    f"now {record['sha256'][:12]}...): the model, the libraries or the hardware "
                    "changed since the job began. Start it over with --replace.")
            store.write_record(record)
            finished[int(record["index"])] = record
            bar.update(int(record["records"]))
            now = round(time.perf_counter() - engine_began, 3)
            timing.setdefault("first_shard_seconds", now)
            written_now.append(int(record["records"]))
            # once as many shards as workers are done every worker has started: the rate
            # after this point is the engine's steady rate, whatever the number of workers
            if len(written_now) == workers:
                timing.update(steady_from_seconds=now, steady_from_records=sum(written_now))

        timing: dict[str, float] = {}
        written_now: list[int] = []
        workers = min(int(run_info["engine"]["workers"]), len(remaining))
        engine_began = time.perf_counter()
        p.engine.run(context, [s.task() for s in remaining], done)
        # worker start-up is in the time to the first shard; the rest is the steady rate
        timing["engine_seconds"] = round(time.perf_counter() - engine_began, 3)
    validation, report = _validate(p, previous, finished, model)
    status = "failed" if report is not None and not report.gate else "complete"
    seconds = time.perf_counter() - started
    written = sum(finished[s.index]["records"] for s in remaining)
    run_info.update(finished=_now(), seconds=round(seconds, 3), shards_written=len(remaining),
                    records_written=written, **timing,
                    records_per_second=round(written / seconds, 1) if seconds else None)
    manifest = store.write_manifest(_manifest(p, status, finished, validation=validation,
                                              runs=[*history, run_info]))
    store.finish()
    return JobResult(store.out, status, spec.records, len(p.shards), len(remaining), seconds,
                     manifest, report)


def _validate(p: _Prepared, previous: Mapping[str, Any], finished: Mapping[int, Any],
              model: BaseGenerator) -> tuple[dict[str, Any] | None, SuiteReport | None]:
    """The validation record: kept from an earlier run of the same suite and inputs."""
    plan = p.validation
    if plan is None:
        return None, None
    old = previous.get("validation")
    if isinstance(old, Mapping) and old.get("key") == plan.key and isinstance(
            old.get("report"), Mapping):
        return dict(old), SuiteReport.from_dict(old["report"])
    shards = [(p.store.shards / s.name, int(finished[s.index]["records"])) for s in p.shards]
    report = run_validation(plan, p.source.modality, shards, seed=p.job.spec.seed,
                            device=p.device,
                            generator={"name": model.name,
                                       "params": model.get_params(deep=False)})
    record = {"key": plan.key, "suite": report.suite, "gate": report.gate,
              "failed": report.failed, "sample": min(plan.sample, p.job.spec.records),
              "report": report.to_dict()}
    return record, report


def check(spec: JobSpec | Mapping[str, Any] | str | Path, *, replace: bool | None = None,
          engine: str | None = None, workers: int | None = None) -> dict[str, Any]:
    """Check a job completely and say what :func:`run` would do, writing nothing.

    Returns
    -------
    dict
        The hash, modality, format, shards, device, engine, what the folder holds
        (``"new"``, ``"resume"``, ``"replace"``) and the disk estimate.
    """
    job = load_job(spec, overrides={"engine": {"name": engine, "workers": workers},
                                    "output": {"replace": replace}})
    p = _prepare(job)
    try:
        per_record, _, per_draw = _bytes_per_record(p)
        if per_draw is not None:
            p.engine.estimate_s = per_draw * job.spec.records
        store = p.store
        action = ("replace" if store.replaces else
                  "resume" if store.previous is not None else "new")
        done = len((store.previous or {}).get("shards") or [])
        needed = math.ceil(per_record * job.spec.records * _DISK_MARGIN)
        return {"spec_hash": store.fingerprint, "modality": p.source.modality.name,
                "generator": p.source.name, "format": p.fmt, "records": job.spec.records,
                "shards": len(p.shards), "shard_size": p.shard_size, "device": p.device,
                "engine": p.engine.describe(len(p.shards)), "folder": str(store.out),
                "action": action, "shards_listed": done,
                "validation": None if p.validation is None else p.validation.suite.spec.name,
                "estimated_bytes": needed}
    finally:
        p.engine.stop()
