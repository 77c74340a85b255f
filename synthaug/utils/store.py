"""Folders synthaug owns: a readable manifest says so, and every write is complete or absent.

The generic part of a resumable output folder, shared by the recipe runner's run folder
(:class:`synthaug.recipes.store.RunStore`) and batch jobs (:class:`synthaug.jobs.store.JobStore`):

* :func:`folder_state` tells an absent or empty folder, one holding synthaug's manifest, and a
  foreign one apart, so a caller never writes among files it did not write;
* :func:`read_manifest` reads that manifest and fails loudly, naming the file and the fix,
  when it is damaged: a damaged manifest is never taken for a fresh start;
* :func:`write_json` writes strict JSON (no NaN) completely or not at all, and
  :func:`writing` turns an operating-system failure (a full disk, a folder that cannot be
  made) into a :class:`RunFolderError` naming the path.

Examples
--------
>>> import tempfile, pathlib
>>> from synthaug.utils.store import folder_state, write_json
>>> folder = pathlib.Path(tempfile.mkdtemp()) / "run"
>>> folder_state(folder, "run.json").kind
'absent'
>>> write_json(folder / "run.json", {"fingerprint": "abc"})
>>> folder_state(folder, "run.json").kind
'owned'
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from synthaug.exceptions import RunFolderError, SynthaugError
from synthaug.utils.files import atomic_file
from synthaug.utils.serialization import to_jsonable

__all__ = [
    "TEMPORARY",
    "FolderState",
    "folder_state",
    "oserror_message",
    "read_manifest",
    "write_json",
    "writing",
]

#: the names :mod:`synthaug.utils.files` gives its temporary siblings (``.<target>.<12 hex>.tmp``
#: while writing, ``.old`` for a folder being replaced); group 1 is the target's name
TEMPORARY = re.compile(r"^\.(.+)\.[0-9a-f]{12}\.(?:tmp|old)$")


@dataclass(frozen=True)
class FolderState:
    """What a would-be output folder holds.

    ``kind`` is ``"absent"``, ``"empty"`` (nothing in it but what ``ignore`` accepts),
    ``"owned"`` (it holds the manifest; ``manifest`` is its path) or ``"foreign"``
    (anything else: a file, or a folder of files synthaug did not write).
    """

    kind: Literal["absent", "empty", "owned", "foreign"]
    path: Path
    manifest: Path | None = None


def folder_state(path: Path, manifest: str,
                 ignore: Callable[[str], bool] | None = None) -> FolderState:
    """Classify ``path`` (see :class:`FolderState`) without reading the manifest.

    Parameters
    ----------
    path : Path
        The folder.
    manifest : str
        The file name whose presence marks a folder synthaug wrote.
    ignore : callable, optional
        Names (at the top of the folder) that do not make it non-empty, for example the
        temporary files a killed process left behind before it wrote its manifest.
    """
    if not path.exists() and not path.is_symlink():
        return FolderState("absent", path)
    if path.is_symlink() or not path.is_dir():
        return FolderState("foreign", path)
    names = [entry.name for entry in path.iterdir()]
    if all(ignore is not None and ignore(name) for name in names):
        return FolderState("empty", path)
    if (path / manifest).is_file():
        return FolderState("owned", path, path / manifest)
    return FolderState("foreign", path)


def read_manifest(file: Path, *, check: Callable[[Mapping[str, Any]], str | None],
                  what: str = "manifest") -> dict[str, Any]:
    """Read a JSON manifest; a damaged one is a :class:`RunFolderError`, never a fresh start.

    Parameters
    ----------
    file : Path
        The manifest.
    check : callable
        Returns ``None`` when the parsed object is the right kind of manifest, else the reason
        it is not (put in the message).
    what : str
        How the manifest is named in messages.
    """
    fix = ("Restore it, or move the folder away (its finished results cannot be trusted "
           "without it) and run again.")
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise RunFolderError(f"{file} cannot be read ({exc}). {fix}") from None
    problem = check(data) if isinstance(data, dict) else "it is not a JSON object"
    if problem is not None:
        raise RunFolderError(f"{file} is not a synthaug {what} ({problem}). {fix}")
    return dict(data)


def write_json(path: Path, data: Mapping[str, Any], *, indent: int = 2) -> None:
    """Write ``data`` as strict JSON (no NaN) to ``path``, completely or not at all.

    Raises
    ------
    RunFolderError
        When the operating system refuses the write (see :func:`writing`).
    """
    text = json.dumps(to_jsonable(data), indent=indent, allow_nan=False)
    with writing(path), atomic_file(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


@contextmanager
def writing(path: Path, fix: str = "") -> Iterator[None]:
    """Turn an operating-system failure to write ``path`` into a :class:`RunFolderError`.

    ``fix`` replaces the default advice (free space, fix permissions, rerun to resume).
    """
    try:
        yield
    except SynthaugError:
        raise
    except OSError as exc:
        raise RunFolderError(oserror_message(path, exc, fix)) from exc


def oserror_message(path: Path | str, exc: OSError, fix: str = "") -> str:
    """The message of a failed write: the path, the system's reason, and what to do."""
    reason = exc.strerror or str(exc)
    advice = fix or ("Free some space or fix the folder's permissions, or choose another "
                     "output folder (--out); a rerun resumes what is finished.")
    return f"could not write {os.fspath(path)}: {reason}. {advice}"
