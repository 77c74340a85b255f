"""Safe, versioned model folders: ``manifest.json`` + ``weights.safetensors`` + JSON state.

Loading a model never runs code: the manifest and state are JSON, the tensors are safetensors,
and the class is looked up by registry name, never imported from a path written in the file.
The folder is written under a temporary name and renamed into place when complete, so a
crash or a bad value never leaves half a model behind.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from synthaug.exceptions import ModelFormatError

__all__ = [
    "FORMAT_VERSION",
    "atomic_path",
    "read_model_folder",
    "to_jsonable",
    "write_model_folder",
]

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
STATE = "state.json"
WEIGHTS = "weights.safetensors"


def to_jsonable(value: Any) -> Any:
    """Convert numpy scalars/arrays and tuples into plain JSON types; NaN becomes ``None``."""
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, np.generic):
        return to_jsonable(value.item())
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


@contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary sibling path; on success move it onto ``target`` (file or folder).

    On error the temporary path is removed and ``target`` is left as it was.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp_dir = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    tmp = tmp_dir / target.name
    try:
        yield tmp
        if target.is_dir() and not target.is_symlink():
            backup = tmp_dir / (target.name + ".old")
            os.replace(target, backup)
            os.replace(tmp, target)
        else:
            os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_model_folder(
    path: str | os.PathLike[str],
    manifest: Mapping[str, Any],
    state: Mapping[str, Any],
    tensors: Mapping[str, torch.Tensor],
) -> Path:
    """Write a model folder atomically and return its path."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.mkdir()
        cpu_tensors = {k: v.detach().to("cpu").contiguous() for k, v in tensors.items()}
        save_file(cpu_tensors, str(tmp / WEIGHTS))
        (tmp / STATE).write_text(json.dumps(to_jsonable(state), allow_nan=False))
        full = dict(manifest)
        full["format_version"] = FORMAT_VERSION
        full["files"] = {name: _sha256(tmp / name) for name in (WEIGHTS, STATE)}
        (tmp / MANIFEST).write_text(json.dumps(to_jsonable(full), indent=2, allow_nan=False))
    return path


def read_model_folder(
    path: str | os.PathLike[str], device: torch.device
) -> tuple[dict[str, Any], dict[str, Any], dict[str, torch.Tensor]]:
    """Read and check a model folder; return ``(manifest, state, tensors on device)``."""
    path = Path(path)
    if not path.is_dir():
        raise ModelFormatError(f"{path} is not a synthaug model folder (no such directory).")
    manifest_path = path / MANIFEST
    if not manifest_path.is_file():
        raise ModelFormatError(f"{path} has no {MANIFEST}; it is not a synthaug model folder.")
    try:
        manifest = json.loads(manifest_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelFormatError(f"{manifest_path} is not valid JSON ({exc}).") from None
    if not isinstance(manifest, dict):
        raise ModelFormatError(f"{manifest_path} must hold a JSON object.")
    version = manifest.get("format_version")
    if not isinstance(version, int):
        raise ModelFormatError(f"{manifest_path} has no integer 'format_version'.")
    if version > FORMAT_VERSION:
        raise ModelFormatError(
            f"{path} was saved in model format {version}, newer than this synthaug reads "
            f"({FORMAT_VERSION}). Upgrade synthaug to load it."
        )
    files = manifest.get("files")
    if not isinstance(files, dict):
        raise ModelFormatError(f"{manifest_path} does not list its files; it is damaged.")
    for name in (WEIGHTS, STATE):
        file = path / name
        if not file.is_file():
            raise ModelFormatError(f"{path} is missing {name}; the model folder is incomplete.")
        if files.get(name) != _sha256(file):
            raise ModelFormatError(
                f"{file} does not match the checksum in {MANIFEST}: the file was changed or "
                "truncated after saving. Save the model again."
            )
    try:
        state = json.loads((path / STATE).read_text())
        tensors = load_file(str(path / WEIGHTS), device=str(device))
    except (json.JSONDecodeError, SafetensorError, OSError) as exc:
        raise ModelFormatError(f"{path} could not be read ({exc}).") from None
    return manifest, state, tensors
