"""The job file: a typed, strict, frozen spec of a batch job (TOML), checked before any work.

A job file names a generator (a saved folder, or what to fit one from), how many records to
write, the seed, the output folder and its shards, exact conditions or a class mix, the
validation suite and the engine::

    version = 1
    records = 1_000_000
    seed = 0

    [model]
    path = "models/adult-copula"          # a saved generator folder (BaseGenerator.save)
    # or fit one first:  generator = "tabular.copula", data = "adult", target = "income"
    # or from a recipe:  recipe = "adult-lowdata"  (its data and generator)

    [output]
    path = "synthetic/adult"              # the job folder
    format = "parquet"                    # tables: parquet, csv; images: png; texts: jsonl, ...
    shard_size = 100_000                  # records per shard (the unit of work and of resume)

    [mix]                                 # optional: a class mix (or [conditions])
    column = "income"
    classes = [{ label = ">50K", share = 0.5 }, { label = "<=50K", share = 0.5 }]

    [validation]                          # optional: the suite on a sample of the output
    suite = "default"
    data = "adult"
    target = "income"

    [engine]
    name = "local"                        # or "ray" (pip install 'synthaug[ray]')
    workers = 2

Relative paths are read from the job file's folder (from the working directory for a spec
given from Python).  Every key is checked by the models below; a wrong one is a
:class:`~synthaug.config.SpecError` naming the file and the field (``mix.classes[1].share``).
Checks that need the model (a format the modality cannot write, a class the generator never
saw) run in :func:`synthaug.jobs.run` before any record is drawn, with the same error.

Only what decides the bytes of the shards (the model, ``records``, ``seed``, ``output.format``,
``output.shard_size``, ``conditions`` and ``mix``) goes into the job's hash; the engine, its
workers, the output path and ``validation`` do not, so one job can be finished by another
engine, on more workers, after the folder was moved.
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, Strict, field_validator, model_validator

from synthaug import registry
from synthaug.config.base import SpecError, _registry_name, _StrictSpec, parse_spec
from synthaug.exceptions import InvalidParameterError

__all__ = [
    "JOB_FORMAT_VERSION",
    "ClassShare",
    "EngineSpec",
    "JobModelSpec",
    "JobSpec",
    "LoadedJob",
    "MixSpec",
    "OutputSpec",
    "ValidationSpec",
    "load_job",
]

#: the ``version`` a job file declares; bumped when the format changes incompatibly
JOB_FORMAT_VERSION: Literal[1] = 1

Scalar = Annotated[str, Strict()] | Annotated[bool, Strict()] | Annotated[int, Strict()] | \
    Annotated[float, Strict()]
_OWNED_PARAMS = ("random_state", "device", "progress")


class JobModelSpec(_StrictSpec):
    """``[model]``: the generator whose records the job writes; exactly one of

    * ``path``: a folder written by :meth:`BaseGenerator.save` (loading runs no code);
    * ``generator`` with ``data`` (and optionally ``params``, ``target``, ``drop``): fit that
      registered generator on the data first, seeded by the job, and save it as ``model/`` in
      the job folder; a table keeps ``target`` as a column, images and texts carry labels;
    * ``recipe``: the data and the generator (name and parameters) a recipe names, fitted on
      all of the recipe's data (its split and scenario are for experiments, not jobs).

    ``device`` is where the records are drawn (and the model fitted): ``"auto"``, ``"cpu"``,
    ``"cuda"`` or ``"cuda:N"``.  The same job on another device gives other bytes, so a job
    folder is resumed only on the device kind that began it.

    Examples
    --------
    >>> JobModelSpec(path="models/adult").device
    'auto'
    """

    path: str | None = Field(default=None, min_length=1)
    generator: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    data: str | None = Field(default=None, min_length=1)
    target: str | None = Field(default=None, min_length=1)
    drop: tuple[Annotated[str, Strict()], ...] = Field(default=(), strict=False)
    recipe: str | None = Field(default=None, min_length=1)
    device: str = Field(default="auto", pattern=r"^(auto|cpu|cuda(:\d+)?)$")

    @field_validator("generator")
    @classmethod
    def _registered(cls, name: str | None) -> str | None:
        return None if name is None else _registry_name(registry.generators, name)

    @field_validator("params")
    @classmethod
    def _not_job_owned(cls, params: dict[str, Any]) -> dict[str, Any]:
        owned = sorted(set(_OWNED_PARAMS) & set(params))
        if owned:
            raise ValueError(f"{owned[0]!r} is set by the job (seed and model.device); remove "
                             "it from model.params.")
        return params

    @model_validator(mode="after")
    def _one_source(self) -> JobModelSpec:
        given = [k for k in ("path", "generator", "recipe") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of model.path (a saved generator folder), model.generator "
                "(with model.data: fit one first) or model.recipe"
                + (f"; got {' and '.join(given)}." if given else ".")
            )
        if self.generator is not None and self.data is None:
            raise ValueError("model.generator needs model.data: the data set name or file it "
                             "is fitted on.")
        if self.generator is None:
            stray = [k for k in ("data", "target") if getattr(self, k) is not None]
            stray += [k for k in ("params", "drop") if getattr(self, k)]
            if stray:
                raise ValueError(f"model.{stray[0]} applies only with model.generator (fitting "
                                 "a generator first).")
        return self

    @property
    def fits(self) -> bool:
        """Whether the job fits its own generator (``generator`` or ``recipe``)."""
        return self.path is None


class OutputSpec(_StrictSpec):
    """``[output]``: the job folder, the shards' file format and size, and replacement.

    ``format`` left out is the modality's first one (tables ``parquet``, images ``png``, texts
    ``jsonl``); ``shard_size`` left out is 100,000 rows, 1,000 images or 10,000 texts.  A
    shard is held in memory while it is written, so memory grows with ``shard_size``, never
    with ``records``.  ``replace = true`` lets the job replace a folder holding another job's
    output; the old job's shards stay until the new job is complete.

    Examples
    --------
    >>> OutputSpec(path="out").replace
    False
    """

    path: str = Field(min_length=1)
    format: Literal["parquet", "csv", "png", "jsonl"] | None = None
    shard_size: int | None = Field(default=None, ge=1)
    replace: bool = False


class ClassShare(_StrictSpec):
    """One class of a mix: its label (typed as the generator's labels are) and its share."""

    label: Scalar
    share: float = Field(gt=0, le=1, allow_inf_nan=False)


class MixSpec(_StrictSpec):
    """``[mix]``: the share of each class in the output.

    ``column`` is what the class is conditioned on: ``"label"`` (the default: images, texts
    and generators fitted with ``fit(X, y)``) or a table's label column (the default is
    ``model.target`` when the job fits a table).  Class totals are exact (largest remainder of
    ``records * share``); every shard holds each class in proportion, shuffled.

    Examples
    --------
    >>> mix = MixSpec(classes=[{"label": 0, "share": 0.25}, {"label": 1, "share": 0.75}])
    >>> [c.label for c in mix.classes]
    [0, 1]
    """

    column: str | None = Field(default=None, min_length=1)
    classes: tuple[ClassShare, ...] = Field(strict=False, min_length=1)

    @field_validator("classes")
    @classmethod
    def _distinct_and_whole(cls, classes: tuple[ClassShare, ...]) -> tuple[ClassShare, ...]:
        labels = [(type(c.label).__name__, c.label) for c in classes]
        if len(set(labels)) != len(labels):
            raise ValueError(f"labels must be distinct, got {[c.label for c in classes]}.")
        total = math.fsum(c.share for c in classes)
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"the shares must add up to 1, they add up to {total:g}.")
        return classes


class ValidationSpec(_StrictSpec):
    """``[validation]``: the suite run on a sample of the written records.

    ``suite`` is a built-in suite name or a TOML file (left out: the modality's default suite;
    ``""``: no validation).  ``data`` is the real data to compare with (left out when the job
    fits its generator: that data); ``holdout`` feeds the privacy checks; ``target`` and
    ``sensitive`` name a table's columns.  ``sample`` records are drawn uniformly from the
    shards (seeded by the job).  A failed gate marks the job ``failed`` in its manifest and
    in the exit status; the shards stay.

    Examples
    --------
    >>> ValidationSpec(data="adult").sample
    10000
    """

    suite: str | None = None
    data: str | None = Field(default=None, min_length=1)
    holdout: str | None = Field(default=None, min_length=1)
    target: str | None = Field(default=None, min_length=1)
    sensitive: tuple[Annotated[str, Strict()], ...] = Field(default=(), strict=False)
    sample: int = Field(default=10_000, ge=10)


class EngineSpec(_StrictSpec):
    """``[engine]``: who draws and writes the shards.

    ``name`` is a registered engine (``local``: worker processes on this machine; ``ray``:
    Ray actors, on a local instance or an existing cluster).  ``workers`` left out: the local
    engine draws in the job's own process, adding a process per idle core only for jobs of a
    minute or more (measured; see :mod:`synthaug.jobs.engines.local`), or one per GPU; Ray
    two actors.  ``threads`` is the torch
    and BLAS threads per worker.  ``address`` (Ray: a cluster to join; left out, ``RAY_ADDRESS``
    or a Ray already initialised in this process, else a local instance) and ``gpus`` (Ray:
    GPUs per actor; left out, one when the job runs on CUDA) belong to the ``ray`` engine.

    Examples
    --------
    >>> EngineSpec().name, EngineSpec().threads
    ('local', 1)
    """

    name: str = "local"
    workers: int | None = Field(default=None, ge=1)
    threads: int = Field(default=1, ge=1)
    address: str | None = Field(default=None, min_length=1)
    gpus: float | None = Field(default=None, ge=0, allow_inf_nan=False)

    @field_validator("name")
    @classmethod
    def _registered(cls, name: str) -> str:
        return _registry_name(registry.engines, name)

    @model_validator(mode="after")
    def _ray_options(self) -> EngineSpec:
        if self.name != "ray":
            stray = [k for k in ("address", "gpus") if getattr(self, k) is not None]
            if stray:
                raise ValueError(f"engine.{stray[0]} is an option of the ray engine, not of "
                                 f"{self.name!r}.")
        return self


class JobSpec(_StrictSpec):
    """A batch job (see the module docstring for the file).

    Examples
    --------
    >>> spec = JobSpec.model_validate({
    ...     "records": 1000, "model": {"path": "models/adult"},
    ...     "output": {"path": "out", "shard_size": 250}})
    >>> spec.seed, spec.engine.name, spec.output.shard_size
    (0, 'local', 250)
    """

    version: Literal[1] = JOB_FORMAT_VERSION
    description: str = ""
    records: int = Field(ge=1)
    seed: int = Field(default=0, ge=0)
    model: JobModelSpec
    output: OutputSpec
    conditions: dict[str, Scalar] = Field(default_factory=dict)
    mix: MixSpec | None = None
    validation: ValidationSpec | None = None
    engine: EngineSpec = Field(default_factory=EngineSpec)

    @model_validator(mode="after")
    def _consistent(self) -> JobSpec:
        if self.mix is not None and self.mix_column in self.conditions:
            raise ValueError(f"conditions.{self.mix_column} is the class the mix sets; give "
                             "it in [mix] or in [conditions], not both.")
        if any(isinstance(v, float) and not math.isfinite(v) for v in self.conditions.values()):
            raise ValueError("conditions must be finite values.")
        if (self.validation is not None and self.validation.suite != ""
                and self.validation.data is None and not self.model.fits):
            raise ValueError(
                "validation.data is needed to compare the records with (the real data set "
                "name or file), because model.path gives no data; or set validation.suite = "
                "\"\" to write without validating.")
        return self

    @property
    def mix_column(self) -> str:
        """What a class of the mix is conditioned on (see :class:`MixSpec`)."""
        if self.mix is not None and self.mix.column is not None:
            return self.mix.column
        return self.model.target if self.model.target is not None else "label"


@dataclass(frozen=True)
class LoadedJob:
    """A validated job and where it came from.

    Attributes
    ----------
    spec : JobSpec
    source : str
        The file (``"<job>"`` for a spec given from Python): named in error messages.
    base_dir : Path
        Relative paths of the spec are read from here.
    """

    spec: JobSpec
    source: str
    base_dir: Path

    def path(self, value: str) -> Path:
        """``value`` as a path, relative ones from :attr:`base_dir`."""
        path = Path(value).expanduser()
        return path if path.is_absolute() else self.base_dir / path

    def error(self, field: str, message: str) -> SpecError:
        """A :class:`SpecError` at ``field`` of this job."""
        return SpecError(self.source, [(field, message)])


def load_job(spec: JobSpec | Mapping[str, Any] | str | os.PathLike[str], *,
             overrides: Mapping[str, Mapping[str, Any]] | None = None) -> LoadedJob:
    """Validate a job given as a spec, a mapping or a TOML file.

    Parameters
    ----------
    spec : JobSpec, mapping, or path
        The job.
    overrides : mapping of section to mapping, optional
        Keys replaced before validation (the command line's ``--engine``, ``--workers`` and
        ``--replace``), for example ``{"engine": {"workers": 2}}``.

    Raises
    ------
    SpecError
        When the file is missing or not TOML, or a field is bad (naming the file and field).

    Examples
    --------
    >>> job = load_job({"records": 10, "model": {"path": "m"}, "output": {"path": "o"}},
    ...                overrides={"engine": {"workers": 1}})
    >>> job.spec.engine.workers, job.source
    (1, '<job>')
    """
    if isinstance(spec, JobSpec):
        if not overrides:
            return LoadedJob(spec, "<job>", Path.cwd())
        spec = spec.model_dump(exclude_unset=True)
    if isinstance(spec, Mapping):
        data, source, base = dict(spec), "<job>", Path.cwd()
    elif isinstance(spec, (str, os.PathLike)):
        file = Path(spec)
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise SpecError(str(file), [("", f"cannot be read ({exc}).")]) from None
        except tomllib.TOMLDecodeError as exc:
            raise SpecError(str(file), [("", f"is not valid TOML: {exc}")]) from None
        source, base = str(file), file.resolve().parent
    else:
        raise InvalidParameterError(f"a job is a JobSpec, a mapping or a .toml path, got "
                                    f"{type(spec).__name__}.")
    for section, values in (overrides or {}).items():
        current = data.get(section, {})
        if not isinstance(current, Mapping):
            raise SpecError(source, [(section, "must be a table.")])
        data[section] = {**current, **{k: v for k, v in values.items() if v is not None}}
    return LoadedJob(parse_spec(data, JobSpec, source=source), source, base)
