"""Finding the declarative files synthaug ships: built-in recipes, suites (and jobs next).

The top-level ``recipes/`` and ``validators/`` folders of the source tree hold TOML files that
are part of the product.  The wheel force-includes each as ``synthaug/builtin/<kind>``; an
editable install or a source checkout has only the top-level folder.  :func:`builtin_files`
looks in both, the packaged copy first, so an installed synthaug always reads the files it was
built with.

Examples
--------
>>> from synthaug._builtin import builtin_files
>>> "adult-lowdata" in builtin_files("recipes")
True
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

__all__ = ["builtin_dirs", "builtin_files"]


def builtin_dirs(kind: str) -> list[Path]:
    """The folders that may hold built-in files of ``kind`` (``"recipes"``, ``"validators"``).

    Parameters
    ----------
    kind : str
        The top-level folder's name, which is also its name under ``synthaug/builtin``.

    Returns
    -------
    list of Path
        The installed wheel's copy first, then a source checkout's folder; only those that
        exist.

    Examples
    --------
    >>> from synthaug._builtin import builtin_dirs
    >>> all(folder.name == "recipes" for folder in builtin_dirs("recipes"))
    True
    """
    dirs: list[Path] = []
    try:
        packaged = importlib.resources.files("synthaug") / "builtin" / kind
        if packaged.is_dir():
            # wheels are installed unpacked, so the resource is a real folder on disk
            dirs.append(Path(str(packaged)))
    except (ModuleNotFoundError, NotADirectoryError, FileNotFoundError):
        pass
    root = Path(__file__).resolve().parents[1]
    # only a source checkout (it has the pyproject); an installed package's parent folder is
    # site-packages, where a folder of that name would belong to someone else
    if (root / "pyproject.toml").is_file() and (root / kind).is_dir():
        dirs.append(root / kind)
    return dirs


def builtin_files(kind: str, suffix: str = ".toml") -> dict[str, Path]:
    """Built-in files of ``kind`` by name (the file name without ``suffix``), sorted by name.

    A name found in several folders is the packaged copy (see :func:`builtin_dirs`).

    Examples
    --------
    >>> from synthaug._builtin import builtin_files
    >>> builtin_files("recipes")["adult-lowdata"].name
    'adult-lowdata.toml'
    """
    found: dict[str, Path] = {}
    for folder in builtin_dirs(kind):
        for entry in folder.iterdir():
            if entry.name.endswith(suffix) and entry.is_file():
                found.setdefault(entry.name.removesuffix(suffix), entry)
    return dict(sorted(found.items()))
