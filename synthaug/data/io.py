"""Reading tables from files or built-in data set names, for the command line and the runners."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from synthaug.exceptions import InvalidParameterError

__all__ = ["BUILTIN_DATASETS", "read_table"]

BUILTIN_DATASETS = ("adult",)


def read_table(path: str) -> pd.DataFrame:
    """Read a .csv, .tsv or .parquet file, or a built-in data set by name (``"adult"``).

    Raises :class:`InvalidParameterError` naming the path when it cannot be read.
    """
    if path in BUILTIN_DATASETS:
        from synthaug.data.datasets import load_adult

        return load_adult()
    file = Path(path)
    if not file.is_file():
        raise InvalidParameterError(
            f"input {path!r} is not a file (nor a built-in data set: "
            f"{', '.join(BUILTIN_DATASETS)})."
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
