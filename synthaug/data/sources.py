"""Where data comes from: built-in data sets by name, and files by their modality.

:func:`read_source` is the one reader behind the command line, recipes and (next) batch jobs:
a name from :data:`DATASETS` loads that data set offline (each loader finds the packaged copy;
see :mod:`synthaug.data.datasets`), anything else is a path read by the modality whose files it
looks like (:func:`synthaug.data.modality.detect_path_modality`).

Examples
--------
>>> from synthaug.data.sources import DATASETS, read_source
>>> DATASETS["adult"].modality, DATASETS["digits"].modality
('tabular', 'image')
>>> modality, images = read_source("digits")
>>> modality.name, images.size
('image', (8, 8, 1))
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from synthaug.data.modality import Modality, detect_path_modality, get_modality
from synthaug.exceptions import InvalidParameterError

__all__ = ["DATASETS", "Dataset", "read_source", "source_modality"]


@dataclass(frozen=True)
class Dataset:
    """A built-in data set: its modality, how to load it, and a line about it."""

    modality: str
    load: Callable[[], Any]
    description: str


def _adult() -> Any:
    from synthaug.data.datasets import load_adult

    return load_adult()


def _fashion_mnist() -> Any:
    from synthaug.data.datasets import load_fashion_mnist
    from synthaug.data.image import Images

    images, labels = load_fashion_mnist(split="train")
    return Images(images[..., None], labels)


def _fashion_mnist_test() -> Any:
    from synthaug.data.datasets import load_fashion_mnist
    from synthaug.data.image import Images

    images, labels = load_fashion_mnist(split="test")
    return Images(images[..., None], labels)


def _rotten_tomatoes() -> Any:
    from synthaug.data.datasets import load_rotten_tomatoes
    from synthaug.data.text import as_texts

    frame = load_rotten_tomatoes()
    return as_texts(frame["text"], frame["label"])


def _digits() -> Any:
    from sklearn.datasets import load_digits

    from synthaug.data.image import Images

    digits = load_digits()  # 16 grey levels, shipped inside scikit-learn
    pixels = np.clip(digits.images * 16, 0, 255).astype(np.uint8)[..., None]
    return Images(pixels, digits.target.astype(np.int64))


def _breast_cancer() -> Any:
    import pandas as pd
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer()  # shipped inside scikit-learn
    frame = pd.DataFrame(bunch.data, columns=[str(c) for c in bunch.feature_names])
    names = np.asarray([str(n) for n in bunch.target_names], dtype=object)
    frame["diagnosis"] = pd.Categorical(names[np.asarray(bunch.target, dtype=np.int64)],
                                        categories=list(names))
    return frame


#: built-in data sets by name (all load offline from packaged copies)
DATASETS: Mapping[str, Dataset] = {
    "adult": Dataset("tabular", _adult, "UCI Adult census income, 48,842 rows, 15 columns"),
    "breast-cancer": Dataset("tabular", _breast_cancer,
                             "Wisconsin diagnostic breast cancer (scikit-learn's copy), 569 rows, "
                             "30 numeric columns + diagnosis"),
    "fashion-mnist": Dataset("image", _fashion_mnist,
                             "Fashion-MNIST training set, 60,000 28x28 grey images, 10 classes"),
    "fashion-mnist-test": Dataset("image", _fashion_mnist_test,
                                  "Fashion-MNIST test set, 10,000 28x28 grey images, 10 classes"),
    "rotten-tomatoes": Dataset("text", _rotten_tomatoes,
                               "Rotten Tomatoes snippets, 12,808 texts, fresh / rotten"),
    "digits": Dataset("image", _digits,
                      "scikit-learn's digits, 1,797 8x8 grey images, 10 classes"),
}


def source_modality(source: str | os.PathLike[str], *, text_column: str | None = None
                    ) -> Modality:
    """The modality of a built-in name or a path, without reading the data (see
    :func:`read_source`)."""
    name = str(source)
    if name in DATASETS and not Path(name).exists():
        return get_modality(DATASETS[name].modality)
    path = Path(source)
    if not path.exists():
        raise InvalidParameterError(
            f"input {name!r} is not a file or folder (nor a built-in data set: "
            f"{', '.join(DATASETS)})."
        )
    return detect_path_modality(path, text_column=text_column)


def read_source(
    source: str | os.PathLike[str],
    *,
    text_column: str | None = None,
    label_column: str | None = None,
) -> tuple[Modality, Any]:
    """Read a built-in data set or a file; return its modality and the canonical container.

    Parameters
    ----------
    source : str or path-like
        A name from :data:`DATASETS`, or a table (``.csv``, ``.tsv``, ``.parquet``), images (a
        folder ``root/<class>/*.png``, an ``.npz``) or texts (``.jsonl``, or a table whose
        text column is ``"text"`` or ``text_column``).
    text_column, label_column : str, optional
        For texts in a table: where the text and the label are.  Giving ``text_column`` makes
        a table file read as texts.

    Raises
    ------
    InvalidParameterError
        When ``source`` is neither a built-in name nor a readable file or folder.
    InvalidDataError
        When the file's content is not usable data (the message names what and where).
    DataNotAvailableError
        When a built-in data set is not on this machine (the message says how to get it).
    """
    name = str(source)
    modality = source_modality(source, text_column=text_column)
    if name in DATASETS and not Path(name).exists():
        return modality, DATASETS[name].load()
    path = Path(source)
    options = {k: v for k, v in (("text_column", text_column), ("label_column", label_column))
               if v is not None and modality.name == "text"}
    return modality, modality.check(modality.read(path, **options), what=name)
