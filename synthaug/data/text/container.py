"""Texts as synthaug holds them: strings with one label each, checked once at the boundary.

:func:`as_texts` is the one place user input becomes :class:`Texts`: a list, tuple, numpy array
or pandas Series of strings, a :class:`Texts`, or a path (``.jsonl``, or a ``.csv``/``.tsv``/
``.parquet`` with a text column).  Empty or whitespace-only strings, missing values, non-strings
and strings that cannot be encoded as UTF-8 are refused with the position of the first offender;
nothing here truncates (generators say when they do).  :class:`TextSchema` is what a generator
remembers about its training texts (classes and counts, lengths, the container to give back),
never the texts.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from synthaug.data.modality import check_labels
from synthaug.exceptions import InvalidDataError

__all__ = [
    "TEXT_FILE_SUFFIXES",
    "TextSchema",
    "Texts",
    "as_texts",
    "container_kind",
    "to_kind",
]

#: files texts are read from (a table file needs a text column)
TEXT_FILE_SUFFIXES = (".jsonl", ".csv", ".tsv", ".parquet")


@dataclass(frozen=True, eq=False)
class Texts:
    """A batch of texts with optional labels: the text modality's canonical container.

    Parameters
    ----------
    texts : ndarray of object, shape (N,)
        The strings.
    labels : ndarray of shape (N,), optional
        The class of each text.

    Examples
    --------
    >>> batch = Texts.of(["a fine film", "dull"], ["fresh", "rotten"])
    >>> len(batch), batch.labels.tolist()
    (2, ['fresh', 'rotten'])
    """

    texts: np.ndarray
    labels: np.ndarray | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.texts, np.ndarray) or self.texts.ndim != 1:
            raise InvalidDataError("Texts.texts must be a 1-D object array of strings; use "
                                   "Texts.of(list_of_strings) or as_texts(...).")
        if self.labels is not None and (self.labels.ndim != 1
                                        or len(self.labels) != len(self.texts)):
            raise InvalidDataError(f"Texts has {len(self.texts)} texts but labels of shape "
                                   f"{self.labels.shape}; give one label per text.")

    @classmethod
    def of(cls, texts: Any, labels: Any = None) -> Texts:
        """Check ``texts`` and ``labels`` and build the container (see :func:`as_texts`)."""
        return as_texts(texts, labels)

    def __len__(self) -> int:
        return int(self.texts.shape[0])


def as_texts(data: Any, y: Any = None, *, what: str = "texts", **read_options: Any) -> Texts:
    """Check ``data`` (and labels ``y``) and return them as :class:`Texts`.

    Parameters
    ----------
    data : list, tuple, ndarray or Series of str, Texts, str or path
        The texts, or a file to read (``read_options`` go to
        :func:`synthaug.data.text.io.read_texts`: ``text_column``, ``label_column``).
    y : array-like, optional
        One label per text (not allowed when ``data`` already carries labels).
    what : str
        How the data is named in messages.

    Raises
    ------
    InvalidDataError
        For anything that is not a non-empty batch of non-empty strings with matching labels.

    Examples
    --------
    >>> as_texts(["good", "bad"], [1, 0]).labels.tolist()
    [1, 0]
    >>> as_texts(["good", "  "])
    Traceback (most recent call last):
    ...
    synthaug.exceptions.InvalidDataError: texts[1] is empty or only whitespace; ...
    """
    if isinstance(data, os.PathLike) or (
        isinstance(data, str) and Path(data).suffix.lower() in TEXT_FILE_SUFFIXES
    ):
        from synthaug.data.text.io import read_texts

        data = read_texts(Path(data), **read_options)
    if isinstance(data, str):
        raise InvalidDataError(
            f"{what} is one string; give a list of strings (one per text), or the path of a "
            ".jsonl / .csv file."
        )
    if isinstance(data, Texts):
        if y is not None and data.labels is not None:
            raise InvalidDataError(f"{what} already carry labels; do not also pass y.")
        if y is None:
            return data
        return Texts(data.texts, check_labels(y, len(data), what=what))
    texts = _strings(data, what)
    labels = None if y is None else check_labels(y, len(texts), what=what)
    return Texts(texts, labels)


def _strings(data: Any, what: str) -> np.ndarray:
    if isinstance(data, pd.Series):
        values = data.to_numpy(dtype=object)
    elif isinstance(data, np.ndarray):
        if data.ndim != 1:
            raise InvalidDataError(f"{what} must be 1-D (one string per text), got shape "
                                   f"{data.shape}.")
        values = data.astype(object)
    elif isinstance(data, list | tuple):
        values = np.empty(len(data), dtype=object)
        values[:] = list(data)
    else:
        raise InvalidDataError(
            f"{what} must be a list, tuple, numpy array or pandas Series of strings, "
            f"synthaug.data.Texts, or a .jsonl / .csv path; got {type(data).__name__}."
        )
    if len(values) == 0:
        raise InvalidDataError(f"{what} holds no texts; give at least one.")
    for i, text in enumerate(values):
        if not isinstance(text, str):
            kind = "missing (NaN/None)" if text is None or (
                isinstance(text, float) and np.isnan(text)) else f"a {type(text).__name__}"
            raise InvalidDataError(f"{what}[{i}] is {kind}, not a string; drop it or convert "
                                   "it with str().")
        if not text.strip():
            raise InvalidDataError(f"{what}[{i}] is empty or only whitespace; drop empty texts "
                                   "before generating (there is nothing to learn from them).")
    try:
        "\x00".join(values).encode("utf-8")
    except UnicodeEncodeError:
        bad = next(i for i, t in enumerate(values) if not _encodes(t))
        raise InvalidDataError(f"{what}[{bad}] holds characters that are not valid Unicode "
                               "(lone surrogates, often from a file decoded with the wrong "
                               "codec); decode the source as UTF-8.") from None
    return values


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@dataclass(frozen=True)
class TextSchema:
    """What a generator knows about its training texts: never the texts themselves.

    ``container`` is how they were given (``"list"``, ``"series"``, ``"ndarray"``,
    ``"texts"``), so samples come back the same way; ``series_name`` keeps a Series' name.
    """

    n_texts: int
    median_chars: float
    max_chars: int
    classes: tuple[Any, ...] = ()
    class_counts: tuple[int, ...] = ()
    container: str = "list"
    series_name: str | None = None
    labels_dtype: str | None = None
    _index: dict[Any, int] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._index.update({c: i for i, c in enumerate(self.classes)})

    @property
    def labelled(self) -> bool:
        return bool(self.classes)

    def class_index(self, label: Any) -> int | None:
        """Position of ``label`` among the classes (None when it is not one)."""
        key = label.item() if isinstance(label, np.generic) else label
        return self._index.get(key)

    def to_dict(self) -> dict[str, Any]:
        return {"n_texts": self.n_texts, "median_chars": self.median_chars,
                "max_chars": self.max_chars, "classes": list(self.classes),
                "class_counts": list(self.class_counts), "container": self.container,
                "series_name": self.series_name, "labels_dtype": self.labels_dtype}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TextSchema:
        return cls(int(data["n_texts"]), float(data["median_chars"]), int(data["max_chars"]),
                   tuple(data.get("classes", ())),
                   tuple(int(c) for c in data.get("class_counts", ())),
                   str(data.get("container", "list")), data.get("series_name"),
                   data.get("labels_dtype"))

    @classmethod
    def of(cls, texts: Texts, container: str, series_name: str | None = None) -> TextSchema:
        lengths = np.fromiter((len(t) for t in texts.texts), dtype=np.int64, count=len(texts))
        median, longest = float(np.median(lengths)), int(lengths.max())
        if texts.labels is None:
            return cls(len(texts), median, longest, container=container,
                       series_name=series_name)
        classes, counts = np.unique(texts.labels, return_counts=True)
        return cls(len(texts), median, longest, tuple(_plain(c) for c in classes),
                   tuple(int(k) for k in counts), container, series_name,
                   str(texts.labels.dtype))


def container_kind(data: Any) -> tuple[str, str | None]:
    """How the user gave texts (and a Series' name), so samples come back the same way."""
    if isinstance(data, Texts | str | os.PathLike):  # a file is read into Texts
        return "texts", None
    if isinstance(data, pd.Series):
        return "series", None if data.name is None else str(data.name)
    if isinstance(data, np.ndarray):
        return "ndarray", None
    return "list", None


def to_kind(batch: Texts, kind: str, series_name: str | None = None) -> Any:
    """The strings of ``batch`` as the container ``kind`` names (:func:`container_kind`);
    labels are not included, except in a :class:`Texts`."""
    if kind == "texts":
        return batch
    if kind == "series":
        return pd.Series(batch.texts, name=series_name, dtype=object)
    if kind == "ndarray":
        return batch.texts
    return list(batch.texts)


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value
