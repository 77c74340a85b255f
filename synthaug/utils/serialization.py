"""Safe, versioned model folders: ``manifest.json`` + ``weights.safetensors`` + JSON state.

Loading a model never runs code: the manifest and state are JSON, the tensors are safetensors,
and the class is looked up by registry name, never imported from a path written in the file.
The folder is written under a temporary name, fsynced and renamed into place when complete
(:func:`synthaug.utils.files.atomic_folder`), so a crash or a bad value never leaves half a
model behind; an existing path is replaced only when it is a synthaug model folder, and the
old model stays in place until the new one is complete.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from synthaug.exceptions import InvalidParameterError, ModelFormatError
from synthaug.utils.files import atomic_folder

__all__ = [
    "FORMAT_VERSION",
    "model_folder_problem",
    "read_model_folder",
    "to_jsonable",
    "write_model_folder",
]

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
STATE = "state.json"
WEIGHTS = "weights.safetensors"
#: every file a model folder holds; a folder with anything else is not synthaug's to replace
MODEL_FILES = frozenset({MANIFEST, STATE, WEIGHTS})


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


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def model_folder_problem(path: Path) -> str | None:
    """Why ``path`` is not a synthaug model folder that a save may replace (None: it is one)."""
    foreign = sorted(p.name for p in path.iterdir() if p.name not in MODEL_FILES)
    if foreign:
        shown = ", ".join(foreign[:5]) + (" ..." if len(foreign) > 5 else "")
        return f"it holds files a synthaug model folder does not ({shown})"
    try:
        manifest = json.loads((path / MANIFEST).read_text())
    except (OSError, ValueError, RecursionError):
        return f"it has no readable {MANIFEST}, so it is not a synthaug model folder"
    if not isinstance(manifest, dict) or "generator" not in manifest:
        return f"its {MANIFEST} is not a synthaug model manifest"
    return None


def write_model_folder(
    path: str | os.PathLike[str],
    manifest: Mapping[str, Any],
    state: Mapping[str, Any],
    tensors: Mapping[str, torch.Tensor],
) -> Path:
    """Write a model folder atomically and return its path.

    Raises
    ------
    UnsafeOutputError
        When ``path`` exists and is not a synthaug model folder (or an empty folder).
    InvalidParameterError
        When the folder cannot be written (a full disk, no permission); nothing is left behind
        and a model already at ``path`` is kept.
    """
    path = Path(path)
    # JSON first: a value that cannot be stored fails before anything touches the disk
    state_text = json.dumps(to_jsonable(state), allow_nan=False)
    try:
        with atomic_folder(path, replaceable=model_folder_problem, what="model folder") as tmp:
            cpu_tensors = {k: v.detach().to("cpu").contiguous() for k, v in tensors.items()}
            save_file(cpu_tensors, str(tmp / WEIGHTS))
            (tmp / STATE).write_text(state_text)
            full = dict(manifest)
            full["format_version"] = FORMAT_VERSION
            full["files"] = {name: _sha256(tmp / name) for name in (WEIGHTS, STATE)}
            (tmp / MANIFEST).write_text(json.dumps(to_jsonable(full), indent=2,
                                                   allow_nan=False))
    except (OSError, SafetensorError) as exc:
        raise InvalidParameterError(
            f"could not save the model to {str(path)!r} ({exc}); nothing was written and any "
            "model already there is unchanged. Check free space and permissions."
        ) from None
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
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise ModelFormatError(f"{manifest_path} is not valid JSON ({_brief(exc)}).") from None
    if not isinstance(manifest, dict):
        raise ModelFormatError(f"{manifest_path} must hold a JSON object.")
    version = manifest.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ModelFormatError(
            f"{manifest_path} has format_version {version!r}; a model folder's format_version "
            "is a positive integer. The folder is damaged or not a synthaug model."
        )
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
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError, SafetensorError,
            OSError) as exc:
        raise ModelFormatError(f"{path} could not be read ({_brief(exc)}).") from None
    if not isinstance(state, dict):
        raise ModelFormatError(f"{path / STATE} must hold a JSON object; the folder is damaged.")
    return manifest, state, tensors


def _brief(exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return "nested too deeply to be a model file"
    return str(exc)
