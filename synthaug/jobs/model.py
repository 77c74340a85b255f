"""The job's generator: a saved folder, or one fitted first from data or a recipe.

:func:`resolve_model` checks ``[model]`` before any work and says what the shards' bytes
depend on (its *identity*, part of the job's hash): the folder's SHA-256 for a saved model
(so retraining a model in place is another job), or the generator, its parameters, the data's
content hash and the seed for one the job fits.  :func:`fitted_model` fits and saves it into
the job folder (``model/``) once; a resumed job loads that folder instead of fitting again.
Workers always load the generator from a folder path, never receive it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synthaug import registry
from synthaug.config import BUILTIN_SOURCES
from synthaug.data.modality import Modality, get_modality
from synthaug.data.sources import read_source
from synthaug.exceptions import (
    InvalidDataError,
    InvalidParameterError,
    ModelFormatError,
    SynthaugError,
)
from synthaug.generators.base import BaseGenerator
from synthaug.jobs.shards import checksum
from synthaug.jobs.spec import LoadedJob
from synthaug.utils.random import derive_seed

__all__ = ["ModelSource", "fitted_model", "read_data", "resolve_model"]


@dataclass
class ModelSource:
    """What :func:`resolve_model` found.

    Attributes
    ----------
    modality : Modality
    name : str
        The generator's registry name.
    identity : dict
        What the shards depend on (see the module docstring).
    folder : Path or None
        The saved folder (``None`` until a fitted one is saved in the job folder).
    model : BaseGenerator or None
        Loaded on the CPU for the checks (a saved folder), or fitted.
    data : container or None
        The data a fitted generator learns from (also the validation's real data).
    target : str or None
        The label column of a table the job fits.
    params : dict
        Parameters of a generator the job fits.
    """

    modality: Modality
    name: str
    identity: dict[str, Any]
    folder: Path | None = None
    model: BaseGenerator | None = None
    data: Any = None
    target: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    field_name: str = "model.path"


def read_data(job: LoadedJob, source: str, field_name: str, *, modality: Modality | None = None
              ) -> tuple[Modality, Any]:
    """Read a data source of the job (a built-in name, or a path from the job's folder).

    Raises
    ------
    SpecError
        At ``field_name`` when it cannot be read or is not of ``modality``.
    """
    where: str | Path = source
    if not (source in BUILTIN_SOURCES and not Path(source).exists()):
        where = job.path(source)
        if not where.exists():
            raise job.error(field_name, f"{source!r} is neither a built-in data set "
                            f"({', '.join(BUILTIN_SOURCES)}) nor a file (looked for {where}).")
    try:
        found, data = read_source(where)
    except (InvalidParameterError, InvalidDataError, ImportError) as exc:
        raise job.error(field_name, str(exc)) from None
    if modality is not None and found.name != modality.name:
        raise job.error(field_name, f"{source!r} holds {found.name} data, but the generator "
                        f"makes {modality.name} data.")
    return found, data


def resolve_model(job: LoadedJob) -> ModelSource:
    """Check ``[model]`` and describe the generator (see the module docstring).

    Raises
    ------
    SpecError
        Naming the ``model.*`` field that cannot work.
    """
    spec = job.spec.model
    if spec.path is not None:
        return _saved(job, spec.path)
    if spec.recipe is not None:
        return _from_recipe(job, spec.recipe)
    if spec.generator is None or spec.data is None:  # JobModelSpec makes this impossible
        raise InvalidParameterError("internal: model.generator without model.data")
    cls = registry.generators.get(spec.generator)
    modality = get_modality(cls.modality)
    _, data = read_data(job, spec.data, "model.data", modality=modality)
    return _to_fit(job, modality, spec.generator, dict(spec.params), data,
                   target=spec.target, drop=spec.drop, field_name="model")


def _saved(job: LoadedJob, path: str) -> ModelSource:
    folder = job.path(path)
    try:
        model = BaseGenerator.load(folder, device="cpu")
    except SynthaugError as exc:
        raise job.error("model.path", f"{folder} cannot be loaded as a saved generator: "
                        f"{exc}") from None
    sha, _ = checksum(folder)
    return ModelSource(get_modality(model.modality), model.name,
                       {"saved": {"generator": model.name, "sha256": sha}},
                       folder=folder, model=model)


def _from_recipe(job: LoadedJob, recipe: str) -> ModelSource:
    from synthaug.recipes.loading import load_data, load_recipe

    local = job.path(recipe)
    try:
        loaded = load_recipe(local if local.is_file() else recipe)
    except SynthaugError as exc:
        raise job.error("model.recipe", str(exc)) from None
    modality = get_modality(loaded.spec.data.resolved_modality)
    try:
        data = load_data(loaded, modality)
    except SynthaugError as exc:
        raise job.error("model.recipe", f"its data: {exc}") from None
    target = loaded.spec.data.target if modality.name == "tabular" else None
    name = loaded.spec.generator.name
    if name == "auto":  # what the recipe would pick for these rows on the job's device
        from synthaug.planning import default_generator

        name = default_generator(modality.name, modality.n_records(data),
                                 job.spec.model.device)
    return _to_fit(job, modality, name, dict(loaded.spec.generator.params),
                   data, target=target, drop=loaded.spec.data.drop, field_name="model.recipe")


def _to_fit(job: LoadedJob, modality: Modality, name: str, params: dict[str, Any], data: Any,
            *, target: str | None, drop: tuple[str, ...], field_name: str) -> ModelSource:
    if modality.name == "tabular":
        missing = [c for c in (*drop, *([target] if target else [])) if c not in data.columns]
        if missing:
            raise job.error(f"{field_name}.target" if missing[0] == target else
                            f"{field_name}.drop", f"{missing[0]!r} is not a column of the data; "
                            f"its columns are {list(data.columns)[:20]}.")
        data = data.drop(columns=list(drop))
    elif target is not None or drop:
        raise job.error(f"{field_name}.target" if target else f"{field_name}.drop",
                        f"{modality.name} data carry their labels; target and drop are for "
                        "tables.")
    cls = registry.generators.get(name)
    accepted = set(cls._get_param_names())
    unknown = sorted(set(params) - accepted)
    if unknown:
        raise job.error(f"{field_name}.params" if field_name == "model" else field_name,
                        f"{name} takes no parameter {unknown[0]!r}; it takes "
                        f"{', '.join(sorted(accepted))}.")
    identity = {"fit": {"generator": name, "params": params, "data": modality.fingerprint(data),
                        "seed": derive_seed(job.spec.seed, "model"),
                        "device": job.spec.model.device}}
    return ModelSource(modality, name, identity, data=data, target=target, params=params,
                       field_name=field_name)


def fitted_model(source: ModelSource, job: LoadedJob, folder: Path, *, device: str,
                 progress: bool | None) -> BaseGenerator:
    """The job's own generator: loaded from ``folder`` when an earlier run saved it, else
    fitted on the source's data (seeded by the job) and saved there."""
    if (folder / "manifest.json").is_file():
        try:
            model = BaseGenerator.load(folder, device="cpu")
        except ModelFormatError as exc:
            raise ModelFormatError(f"the job's fitted generator {folder} is damaged ({exc}); "
                                   "delete that folder and run again to refit it.") from None
    else:
        cls = registry.generators.get(source.name)
        accepted = set(cls._get_param_names())
        owned = {"random_state": derive_seed(job.spec.seed, "model"), "device": device,
                 "progress": progress}
        params = {**source.params, **{k: v for k, v in owned.items() if k in accepted}}
        try:
            model = cls(**params).fit(source.data)
        except TypeError as exc:
            raise InvalidParameterError(f"{source.name}: {exc}") from None
        model.save(folder)
    source.folder, source.model = folder, model
    return model

