"""The resumable run folder: a manifest and one atomically written JSON result per unit of work.

A long run (a recipe's arms x seeds; a job's shards) is a set of independent units.  Each
finished unit's result is written at once, completely or not at all, so an interruption loses
only the unit in progress and a rerun into the same folder does only what is missing.  Three
guards keep that safe:

* **Fingerprint.**  The manifest (``run.json``) and every result carry the fingerprint of what
  the results depend on (the spec, the data, the code).  A folder of another fingerprint is
  refused; a result of another fingerprint is redone, never mixed in.
* **Device.**  Numbers computed on different devices differ in their last bits, so a folder is
  resumed only on the device that began it.
* **Ownership.**  synthaug writes only into an empty folder or one holding its own readable
  manifest: it never writes among files it did not write, and a damaged manifest is an error
  (saying what to do), not a fresh start.

Every failure to write (a full disk, a folder that cannot be created) is a
:class:`~synthaug.exceptions.RunFolderError` naming the path.  The folder-generic part
(ownership, a manifest that fails loudly, strict atomic JSON) lives in
:mod:`synthaug.utils.store`, which batch jobs share.

Examples
--------
>>> import tempfile, pathlib
>>> from synthaug.recipes.store import RunStore
>>> store = RunStore(pathlib.Path(tempfile.mkdtemp()) / "run", fingerprint="abc", device="cpu")
>>> store.open()
>>> store.write_manifest({"status": "running"})
>>> store.write(("real", "seed-0"), {"score": 0.5})
>>> store.load(("real", "seed-0"))["score"], store.load(("real", "seed-1"))
(0.5, None)
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from synthaug.exceptions import InvalidParameterError, UnsafeOutputError
from synthaug.utils import store as _folders

__all__ = ["MANIFEST", "RunStore"]

#: the manifest's file name; a folder holding it (readable) is a run folder synthaug wrote
MANIFEST = "run.json"


class RunStore:
    """A run folder of per-unit JSON results, resumable under a fingerprint and a device.

    Parameters
    ----------
    path : path-like
        The folder (made on the first write).
    fingerprint : str
        What the results depend on; see the module docstring.
    device : str
        The device the results are computed on.
    contents : str, default="recipe, data or model"
        What a differing fingerprint means, for the refusal message.

    Examples
    --------
    See the module docstring.
    """

    def __init__(self, path: str | os.PathLike[str], *, fingerprint: str, device: str,
                 contents: str = "recipe, data or model") -> None:
        self.path = Path(path)
        self.fingerprint = fingerprint
        self.device = device
        self.contents = contents

    # -- opening -------------------------------------------------------------------------------
    def open(self) -> None:
        """Check that the folder may hold this run; call it before any work.

        Raises
        ------
        UnsafeOutputError
            When the path is a file, or a non-empty folder without a ``run.json`` (files
            synthaug did not write).
        RunFolderError
            When the folder's ``run.json`` cannot be read or is not a synthaug manifest.
        InvalidParameterError
            When the folder holds a run of another fingerprint or device.
        """
        path = self.path
        if path.exists() and not path.is_dir():
            raise UnsafeOutputError(
                f"the run folder {str(path)!r} is a file, not a folder. Choose another output "
                "folder.")
        if not path.is_dir() or not any(path.iterdir()):
            return
        manifest = path / MANIFEST
        if not manifest.is_file():
            raise UnsafeOutputError(
                f"the run folder {str(path)!r} is not empty and holds no {MANIFEST}, so "
                "synthaug did not write it and will not write into it. Choose a new or empty "
                "output folder.")
        previous = self._read_manifest(manifest)
        if previous.get("fingerprint") != self.fingerprint:
            raise InvalidParameterError(
                f"{path} holds a run of a different {self.contents} (fingerprint "
                f"{str(previous.get('fingerprint'))[:12]}..., this run {self.fingerprint[:12]}"
                "...). Choose another output folder or delete it."
            )
        if previous.get("device") != self.device:
            raise InvalidParameterError(
                f"{path} holds results computed on {previous.get('device')}, but this run is on "
                f"{self.device}; numbers from different devices must not be mixed. Choose "
                "another output folder, or rerun on the same device."
            )

    @staticmethod
    def _read_manifest(manifest: Path) -> dict[str, Any]:
        return _folders.read_manifest(
            manifest, what="run manifest",
            check=lambda data: None if isinstance(data.get("fingerprint"), str)
            else "no fingerprint")

    # -- units ---------------------------------------------------------------------------------
    def result_path(self, key: Sequence[str]) -> Path:
        """Where the result of the unit ``key`` lives: ``runs/<key[0]>/.../<key[-1]>.json``."""
        *folders, name = key
        return self.path.joinpath("runs", *folders, f"{name}.json")

    def load(self, key: Sequence[str]) -> dict[str, Any] | None:
        """The finished result of ``key``, or ``None`` when it must be (re)done.

        A result of another fingerprint, or one that cannot be read, is ``None``: results are
        written atomically, so an unreadable one was damaged from outside, and redoing it is
        the safe repair.
        """
        file = self.result_path(key)
        if not file.is_file():
            return None
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("fingerprint") != self.fingerprint:
            return None
        return data

    def write(self, key: Sequence[str], result: Mapping[str, Any]) -> None:
        """Write the result of ``key`` atomically, stamped with the fingerprint."""
        record = dict(result, fingerprint=self.fingerprint)
        self.write_json(self.result_path(key), record, indent=1)

    def write_manifest(self, record: Mapping[str, Any]) -> None:
        """Write ``run.json``, stamped with the fingerprint and the device."""
        manifest = dict(record, fingerprint=self.fingerprint, device=self.device)
        self.write_json(self.path / MANIFEST, manifest, indent=2)

    # -- writing -------------------------------------------------------------------------------
    def write_json(self, path: Path, data: Mapping[str, Any], *, indent: int) -> None:
        """Write ``data`` as strict JSON (no NaN) to ``path``, completely or not at all."""
        _folders.write_json(path, data, indent=indent)

    @contextmanager
    def writing(self, path: Path) -> Iterator[None]:
        """Turn an operating-system failure to write ``path`` into a :class:`RunFolderError`."""
        with _folders.writing(path):
            yield
