"""Drawing and writing one shard: what every engine's worker runs.

A worker receives plain data only: a *context* (the saved generator folder's path, the
device, the modality, the format, the shards folder, conditions, threads) and one *task* per
shard (:meth:`synthaug.jobs.plan.Shard.task`: index, name, seed, class counts).  A
:class:`ShardWriter` loads the generator from its folder once (``BaseGenerator.load``, which
runs no code from the folder) and then, for each task, draws the shard's records from the
shard's own seed and hands them to the modality's writer, which writes a temporary sibling,
fsyncs it and renames it into place (:mod:`synthaug.utils.files`).  What comes back is a plain
dict: the shard's record for the manifest (records, SHA-256, bytes), or the error as text, so
nothing but paths, seeds and plain dicts ever crosses a process or a network (never a pickled
generator or a pickled exception).

Formats (``output.format``), the first of each modality being its default:

=========  ===============================  =======================================================
modality   format                           a shard is
=========  ===============================  =======================================================
tabular    ``parquet``, ``csv``             ``shard-00000.parquet``
image      ``png``                          ``shard-00000/<class>/<i>.png`` + ``labels.parquet``
text       ``jsonl``, ``csv``, ``parquet``  ``shard-00000.jsonl`` (``{"text", "label"}``)
=========  ===============================  =======================================================

Images are not offered as ``.npz``: numpy stamps the archive's members with the time of
writing, so the same images would not give the same bytes twice.
"""

from __future__ import annotations

import hashlib
import importlib
import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from synthaug import registry
from synthaug.data.modality import Modality, get_modality
from synthaug.exceptions import InvalidParameterError, ModelFormatError, SynthaugError
from synthaug.utils.store import oserror_message

__all__ = [
    "DEFAULT_SHARD_SIZE",
    "FORMATS",
    "ShardWriter",
    "check_format",
    "checksum",
    "class_path",
    "configure_threads",
    "draw_records",
]

#: output formats of each modality and their shard suffix ("" is a folder)
FORMATS: Mapping[str, Mapping[str, str]] = {
    "tabular": {"parquet": ".parquet", "csv": ".csv"},
    "image": {"png": ""},
    "text": {"jsonl": ".jsonl", "csv": ".csv", "parquet": ".parquet"},
}
#: records per shard when ``output.shard_size`` is left out (tens of MB held per worker)
DEFAULT_SHARD_SIZE: Mapping[str, int] = {"tabular": 100_000, "image": 1_000, "text": 10_000}
_CHUNK = 1 << 20


def checksum(path: Path) -> tuple[str, int]:
    """SHA-256 (hex) and size in bytes of a shard file, or of a shard folder.

    A folder's digest is the SHA-256 of its files' lines ``<relative path>\\0<sha256>\\n`` in
    sorted order, so it changes when any file's bytes, name or presence changes.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> file = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> _ = file.write_bytes(b"abc")
    >>> checksum(file)
    ('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad', 3)
    """
    if path.is_dir():
        digest, size = hashlib.sha256(), 0
        for file in sorted(p for p in path.rglob("*") if p.is_file()):
            sha, n = checksum(file)
            digest.update(f"{file.relative_to(path).as_posix()}\0{sha}\n".encode())
            size += n
        return digest.hexdigest(), size
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def class_path(cls: type) -> str:
    """``module:qualname`` of a class (how a worker finds a generator registered in tests)."""
    return f"{cls.__module__}:{cls.__qualname__}"


def _ensure_registered(name: str, path: str) -> None:
    """Register the driver's generator class under ``name`` when this process lacks it.

    The driver passes the class of the registered name it resolved (built-ins, entry points,
    and generators registered at run time, such as test doubles), so workers resolve the
    model folder's generator name exactly as the driver did.  The class comes from the
    driver's registry, never from the model folder.
    """
    if name in registry.generators:
        found = class_path(registry.generators.get(name))
        if found != path:
            raise ModelFormatError(f"generator {name!r} is {found} in this worker but {path} "
                                   "in the job's process; install the same packages on both.")
        return
    module, _, qualname = path.partition(":")
    obj: Any = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    registry.generators.register(name)(obj)


def configure_threads(threads: int) -> Any:
    """Limit torch and BLAS/OpenMP pools to ``threads`` in this process.

    Returns the ``threadpoolctl`` limiter, whose ``restore_original_limits()`` undoes the BLAS
    part (the caller restores torch's count itself).
    """
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(threads)
    return threadpool_limits(limits=threads)


def _canonical(modality: Modality, batch: Any) -> Any:
    """A generator's batch in the modality's container (labels given apart join it)."""
    if isinstance(batch, tuple) and len(batch) == 2:
        return modality.check(batch[0], batch[1], what="the generator's records")
    return modality.check(batch, what="the generator's records")


def draw_records(model: Any, modality: Modality, task: Mapping[str, Any],
                 conditions: Mapping[str, Any], column: str) -> Any:
    """The records of one shard, drawn from the shard's seed (see :mod:`synthaug.jobs.plan`).

    The classes of a mix are drawn in the order the spec lists them from one generator
    seeded for the shard, and then shuffled by it, so a shard is a mix, not class blocks.
    """
    rng = np.random.default_rng(int(task["seed"]))
    parts = []
    for label, count in task["counts"]:
        if count == 0:
            continue
        asked = dict(conditions)
        if label is not None:
            asked[column] = label
        for batch in model.sample_batches(int(count), conditions=asked or None,
                                          random_state=rng):
            parts.append(_canonical(modality, batch))
    data = modality.concat(parts)
    if sum(1 for _, count in task["counts"] if count) > 1:
        data = modality.take(data, rng.permutation(modality.n_records(data)))
    return data


class ShardWriter:
    """A worker's generator, loaded once from its folder, and the shards it writes.

    Parameters
    ----------
    context : mapping
        Plain values: ``model`` (folder path), ``generator`` (registry name),
        ``generator_class`` (``module:qualname``), ``device``, ``modality``, ``shards``
        (folder path), ``conditions``, ``column``.
    """

    def __init__(self, context: Mapping[str, Any]) -> None:
        from synthaug.generators.base import BaseGenerator

        self.context = dict(context)
        _ensure_registered(str(context["generator"]), str(context["generator_class"]))
        self.model = BaseGenerator.load(str(context["model"]), device=str(context["device"]))
        self.modality = get_modality(str(context["modality"]))
        self.folder = Path(str(context["shards"]))

    def write(self, task: Mapping[str, Any]) -> dict[str, Any]:
        """Draw and write one shard; return its record, or ``{"error": ...}`` (plain text).

        The record holds ``index``, ``name``, ``records``, ``sha256``, ``bytes``, ``seed`` and
        ``classes`` (the mix's ``[label, count]`` pairs).
        """
        target = self.folder / str(task["name"])
        try:
            data = draw_records(self.model, self.modality, task, self.context["conditions"],
                                str(self.context["column"]))
            self.folder.mkdir(parents=True, exist_ok=True)
            self.modality.write(data, target)
            sha, size = checksum(target)
        except OSError as exc:
            return _error("os", exc, oserror_message(target, exc))
        except SynthaugError as exc:
            return _error("synthaug", exc, str(exc))
        except Exception as exc:  # a bug: its traceback is all the driver will see
            return _error("bug", exc, "".join(traceback.format_exception(exc)))
        counts = [[label, int(n)] for label, n in task["counts"] if label is not None]
        return {"index": int(task["index"]), "name": str(task["name"]),
                "records": self.modality.n_records(data), "sha256": sha, "bytes": size,
                "seed": int(task["seed"]), "classes": counts}


def _error(kind: str, exc: BaseException, message: str) -> dict[str, Any]:
    return {"error": {"kind": kind, "type": type(exc).__name__, "message": message}}


def check_format(modality: str, fmt: str | None) -> tuple[str, str]:
    """The format to write (the modality's default when ``None``) and its suffix.

    Raises
    ------
    InvalidParameterError
        When the modality does not write ``fmt``.
    """
    formats = FORMATS.get(modality, {})
    if not formats:
        raise InvalidParameterError(f"batch jobs do not write {modality} data yet.")
    chosen = next(iter(formats)) if fmt is None else fmt
    if chosen not in formats:
        raise InvalidParameterError(
            f"{modality} shards are written as {', '.join(formats)}, not {fmt!r}"
            + (" (an .npz would not give the same bytes twice)." if modality == "image"
               else "."))
    return chosen, formats[chosen]

