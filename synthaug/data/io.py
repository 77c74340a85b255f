"""Reading tables from files (built-in data sets by name: :mod:`synthaug.data.sources`)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from synthaug.exceptions import InvalidParameterError

__all__ = ["read_table"]


def read_table(path: str) -> pd.DataFrame:
    """Read a .csv, .tsv or .parquet file.

    Raises :class:`InvalidParameterError` naming the path when it cannot be read.
    """
    file = Path(path)
    if not file.is_file():
        from synthaug.data.sources import DATASETS

        raise InvalidParameterError(
            f"input {path!r} is not a file (nor a built-in data set: {', '.join(DATASETS)})."
        )
    suffixes = "".join(file.suffixes).lower()
    try:
        if ".parquet" in suffixes:
            return pd.read_parquet(file)
        if ".csv" in suffixes or ".tsv" in suffixes:
            return pd.read_csv(file, sep="\t" if ".tsv" in suffixes else ",")
    except (ValueError, OSError) as exc:
        raise InvalidParameterError(f"could not read {path!r}: {exc}") from None
    raise InvalidParameterError(f"input {path!r}: use a .csv, .tsv or .parquet file.")
