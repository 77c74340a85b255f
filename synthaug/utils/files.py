"""Writing files without losing data: the one place synthaug writes outputs.

Three rules, for every file and folder synthaug writes (tables, reports, plots, model folders,
recipe results):

* **Complete or absent.**  Output goes to a temporary sibling name, is flushed to disk
  (``fsync`` of the file, then of its folder) and renamed onto the target only when complete,
  so a crash, a full disk or ``kill -9`` never leaves half a file that a later run trusts.
* **Never replace what synthaug did not write.**  A file output refuses a path that is an
  existing directory; a folder output (a model folder) replaces an existing folder only when a
  caller-supplied check says synthaug wrote it.  Nothing is ever deleted to make room.
* **Replacing keeps the old copy until the new one is in place.**  The old folder is moved
  aside, the new one renamed in, and only then is the old one removed; if the second rename
  fails the old folder is put back.

:func:`check_output_file` runs the file checks without writing, so entry points can refuse a bad
path before minutes of work.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from synthaug.exceptions import InvalidParameterError, UnsafeOutputError

__all__ = [
    "atomic_file",
    "atomic_folder",
    "check_distinct_outputs",
    "check_output_file",
    "write_bytes",
    "write_text",
]


def _read_umask() -> int:
    # os.umask is the only portable way to read it; done once, at import (single-threaded)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


#: the permissions a file created with open() gets here; temporary files made by libraries
#: (safetensors writes through mkstemp, which means 0600) are given these before the rename
FILE_MODE = 0o666 & ~_read_umask()


def _temporary_sibling(target: Path, suffix: str) -> Path:
    # a random name in the target's folder: the final rename stays on one file system
    return target.parent / f".{target.name}.{secrets.token_hex(6)}{suffix}"


def _fsync(path: Path) -> None:
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) if path.is_dir() else os.O_RDONLY
    try:
        fd = os.open(path, flags)
    except OSError:  # some file systems do not open folders; durability is best effort there
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _fsync_tree(folder: Path) -> None:
    for root, _, files in os.walk(folder):
        for name in files:
            _fsync(Path(root) / name)
        _fsync(Path(root))


def check_output_file(path: str | os.PathLike[str], *, what: str = "output") -> Path:
    """Refuse, before any work, a path a file cannot be written to; return it as a Path.

    Parameters
    ----------
    path : str or path-like
        Where a file will be written.
    what : str
        How the path is named in messages (``"--out"``, ``"--report"``, ...).

    Raises
    ------
    UnsafeOutputError
        When ``path`` is an existing directory (replacing it would delete what is inside).
    InvalidParameterError
        When a parent of ``path`` is a file, or its folder cannot be created or written to.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> check_output_file(folder / "out.csv").name
    'out.csv'
    >>> check_output_file(folder)
    Traceback (most recent call last):
    ...
    synthaug.exceptions.UnsafeOutputError: ...
    """
    target = Path(path)
    if target.is_dir():
        raise UnsafeOutputError(
            f"{what} {str(target)!r} is an existing directory; synthaug writes a file there only "
            "by replacing it, which would delete what it holds. Name a file that is not "
            "a directory."
        )
    parent = target.parent
    for folder in (parent, *parent.parents):
        if folder.exists():
            if not folder.is_dir():
                raise InvalidParameterError(
                    f"could not write {what} {str(target)!r}: {str(folder)!r} is a file, not a "
                    "folder."
                )
            if not os.access(folder, os.W_OK | os.X_OK):
                raise InvalidParameterError(
                    f"could not write {what} {str(target)!r}: the folder {str(folder)!r} is not "
                    "writable. Choose a folder you can write to."
                )
            break
    return target


def check_distinct_outputs(paths: Iterable[tuple[str, str | os.PathLike[str] | None]]) -> None:
    """Refuse two outputs that name the same file (one would silently replace the other).

    Parameters
    ----------
    paths : iterable of (label, path or None)
        Each output's option name and path; ``None`` entries are ignored.

    Examples
    --------
    >>> check_distinct_outputs([("--out", "a.csv"), ("--report", "./a.csv")])
    Traceback (most recent call last):
    ...
    synthaug.exceptions.InvalidParameterError: --out and --report both name ...
    """
    seen: dict[Path, str] = {}
    for label, path in paths:
        if path is None:
            continue
        key = Path(path).expanduser().resolve()
        if key in seen:
            raise InvalidParameterError(
                f"{seen[key]} and {label} both name {str(path)!r}; one would overwrite the "
                "other. Give each its own file."
            )
        seen[key] = label


@contextmanager
def atomic_file(path: str | os.PathLike[str], *, what: str = "output") -> Iterator[Path]:
    """Yield a temporary sibling path to write; on success it is fsynced and renamed onto ``path``.

    On error the temporary file is removed and ``path`` is left as it was.  The writer creates
    the temporary file itself (any library that writes to a path will do).

    Raises
    ------
    UnsafeOutputError
        When ``path`` is an existing directory (see :func:`check_output_file`).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> with atomic_file(out) as tmp:
    ...     _ = tmp.write_text("done")
    >>> out.read_text()
    'done'
    """
    target = check_output_file(path, what=what)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temporary_sibling(target, ".tmp")
    try:
        yield tmp
        if not tmp.is_file():
            raise InvalidParameterError(f"nothing was written for {what} {str(target)!r}.")
        os.chmod(tmp, FILE_MODE)
        _fsync(tmp)
        if target.is_dir():  # made while we worked: still never replace a directory
            check_output_file(target, what=what)
        os.replace(tmp, target)
        _fsync(target.parent)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text(path: str | os.PathLike[str], text: str, *, what: str = "output") -> Path:
    """Write ``text`` as UTF-8 to ``path`` atomically (see :func:`atomic_file`)."""
    with atomic_file(path, what=what) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_bytes(path: str | os.PathLike[str], data: bytes, *, what: str = "output") -> Path:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_file`)."""
    with atomic_file(path, what=what) as tmp:
        tmp.write_bytes(data)
    return Path(path)


@contextmanager
def atomic_folder(
    path: str | os.PathLike[str],
    *,
    replaceable: Callable[[Path], str | None],
    what: str = "folder",
) -> Iterator[Path]:
    """Yield a new temporary folder; on success it replaces ``path`` (see the module docstring).

    Parameters
    ----------
    path : str or path-like
        The folder to write.
    replaceable : callable
        Called with ``path`` when it exists; returns ``None`` when synthaug may replace it, or
        the reason it may not (put in the error message).  An empty folder is always
        replaceable: nothing in it can be lost.
    what : str
        How the folder is named in messages.

    Raises
    ------
    UnsafeOutputError
        When ``path`` exists and is not replaceable.
    """
    target = Path(path)
    if target.exists() or target.is_symlink():
        if target.is_symlink() or not target.is_dir():
            reason: str | None = "it is a file, not a folder"
        elif not any(target.iterdir()):
            reason = None
        else:
            reason = replaceable(target)
        if reason is not None:
            raise UnsafeOutputError(
                f"{what} {str(target)!r} already exists and synthaug will not replace it: "
                f"{reason}. Choose a new path, or move it away first."
            )
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temporary_sibling(target, ".tmp")
    tmp.mkdir()
    try:
        yield tmp
        for file in tmp.rglob("*"):
            if file.is_file():
                os.chmod(file, FILE_MODE)
        _fsync_tree(tmp)
        if target.exists():
            backup = _temporary_sibling(target, ".old")
            os.replace(target, backup)
            try:
                os.replace(tmp, target)
            except BaseException:
                os.replace(backup, target)  # the old folder goes back where it was
                raise
            _fsync(target.parent)
            shutil.rmtree(backup, ignore_errors=True)  # only now: the new one is in place
        else:
            os.replace(tmp, target)
            _fsync(target.parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)  # the temporary folder is ours alone
        raise
