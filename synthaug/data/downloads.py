"""The cache folder of the built-in data sets, and the one atomic downloader they share.

:func:`get_data_dir` says where downloaded data sets are cached; :func:`download_file`
fetches the first working URL into a temporary file beside its destination, checks it, and
only then renames it into place.  :func:`fetch_url` is the only function that touches the
network, so tests replace it.  These are apart from the loaders
(:mod:`synthaug.data.datasets`) because they know nothing of any one data set.
"""

from __future__ import annotations

import hashlib
import http.client
import importlib.util
import os
import shutil
import tempfile
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO

from synthaug._version import __version__
from synthaug.exceptions import DataNotAvailableError, InvalidDataError, InvalidParameterError

__all__ = ["DATA_DIR_ENV", "download_file", "fetch_url", "file_digest", "get_data_dir",
           "package_dir"]

#: Environment variable naming the folder where data sets are cached and looked for.
DATA_DIR_ENV = "SYNTHAUG_DATA_DIR"



def get_data_dir() -> Path:
    """Return the folder where synthaug caches downloaded data sets.

    It is ``$SYNTHAUG_DATA_DIR`` when that is set, else ``$XDG_CACHE_HOME/synthaug``, which is
    ``~/.cache/synthaug`` by default.  The folder is not created here; a download creates it.

    Returns
    -------
    pathlib.Path
        The cache folder.  Each data set uses a subfolder of it (``adult``, ``fashion-mnist``,
        ``rotten_tomatoes``).

    Examples
    --------
    >>> from synthaug.data.downloads import get_data_dir
    >>> # skipped: the answer depends on $SYNTHAUG_DATA_DIR and $XDG_CACHE_HOME where it runs
    >>> get_data_dir().name  # doctest: +SKIP
    'synthaug'
    """
    configured = os.environ.get(DATA_DIR_ENV, "").strip()
    if configured:
        return Path(configured).expanduser()
    cache_home = os.environ.get("XDG_CACHE_HOME", "").strip()
    base = Path(cache_home).expanduser() if cache_home else Path.home() / ".cache"
    return base / "synthaug"


def package_dir(name: str) -> Path | None:
    """Where an installed package lives, found without importing it (``None`` if absent)."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def fetch_url(url: str, out: IO[bytes], *, timeout: float = 60.0) -> None:
    """Stream ``url`` into the open binary file ``out``.

    The only function in synthaug's data loaders that touches the network (tests replace
    it).
    """
    scheme = urllib.parse.urlsplit(url).scheme
    if scheme not in ("https", "http"):
        raise InvalidParameterError(f"Refusing to download {url!r}: only http(s) URLs are used.")
    # The scheme is checked above, so neither call can open file: or other local URLs.
    headers = {"User-Agent": f"synthaug/{__version__}"}
    request = urllib.request.Request(url, headers=headers)  # noqa: S310
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
        shutil.copyfileobj(response, out, length=1 << 20)


def file_digest(path: Path, algorithm: str) -> str:
    """The hex digest of the file at ``path`` under ``algorithm`` (``"sha256"``, ``"md5"``)."""
    digest = hashlib.new(algorithm, usedforsecurity=False)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download_file(
    urls: Sequence[str],
    dest: Path,
    *,
    checksum: tuple[str, str] | None = None,
    validate: Callable[[Path], object] | None = None,
) -> Path:
    """Fetch the first of ``urls`` that works into ``dest``, atomically.

    The bytes go to a temporary file beside ``dest``; they are checked (``checksum`` is an
    ``(algorithm, hexdigest)`` pair; ``validate`` is called with the temporary path and raises
    on bad content) and only then renamed onto ``dest``.  On any failure the temporary file is
    removed, ``dest`` is left as it was, and :class:`DataNotAvailableError` lists what failed.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    failures: list[str] = []
    for url in urls:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
        tmp = Path(tmp_name)
        try:
            try:
                with os.fdopen(fd, "wb") as out:
                    fetch_url(url, out)
            except (OSError, http.client.HTTPException) as exc:
                failures.append(f"{url}: {exc}")
                continue
            if checksum is not None:
                algorithm, expected = checksum
                actual = file_digest(tmp, algorithm)
                if actual != expected:
                    failures.append(
                        f"{url}: {algorithm} checksum {actual} does not match the expected "
                        f"{expected} (damaged or changed file)"
                    )
                    continue
            if validate is not None:
                try:
                    validate(tmp)
                except InvalidDataError as exc:
                    failures.append(f"{url}: {exc}")
                    continue
            tmp.chmod(0o644)  # mkstemp makes it private; a cached data file is not secret
            os.replace(tmp, dest)
            return dest
        finally:
            tmp.unlink(missing_ok=True)
    raise DataNotAvailableError(
        f"Could not download {dest.name} into {dest.parent}:\n  "
        + "\n  ".join(failures)
        + "\nCheck the network connection (and any proxy settings), or place the file there "
        "yourself."
    )

