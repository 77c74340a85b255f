"""Reading tables from files (built-in data sets by name: :mod:`synthaug.data.sources`)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from synthaug.exceptions import InvalidDataError, InvalidParameterError

__all__ = ["read_parquet", "read_table"]


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
            return read_parquet(file)
        if ".csv" in suffixes or ".tsv" in suffixes:
            sep = "\t" if ".tsv" in suffixes else ","
            _check_unique_header(file, sep, path)
            return pd.read_csv(file, sep=sep)
    except InvalidDataError:
        raise
    except UnicodeDecodeError as exc:
        raise InvalidParameterError(
            f"could not read {path!r}: it is not UTF-8 text (byte {exc.object[exc.start]:#04x} "
            f"at position {exc.start}). Save it as UTF-8, then read it again."
        ) from None
    except (ValueError, OSError) as exc:
        raise InvalidParameterError(f"could not read {path!r}: {str(exc).strip()}") from None
    raise InvalidParameterError(f"input {path!r}: use a .csv, .tsv or .parquet file.")


def _check_unique_header(file: Path, sep: str, path: str) -> None:
    """Refuse a header that names a column twice.

    pandas renames the second ``x`` to ``x.1``, so a model would learn, and write back, a
    column the file never had; the header row is read as plain text to see the names as given.
    """
    header = pd.read_csv(file, sep=sep, header=None, nrows=1, dtype=str, keep_default_na=False)
    names = [str(v) for v in header.iloc[0].tolist()] if len(header) else []
    seen: dict[str, int] = {}
    for name in names:
        if name != "":  # blank names are numbered "Unnamed: N" by pandas, never merged
            seen[name] = seen.get(name, 0) + 1
    dupes = {name: count for name, count in seen.items() if count > 1}
    if dupes:
        shown = ", ".join(f"{name!r} ({count} times)" for name, count in dupes.items())
        raise InvalidDataError(
            f"{path!r} names columns more than once in its header: {shown}. Give every column "
            "its own name in the header row, then read the file again."
        )


def read_parquet(file: Path) -> pd.DataFrame:
    """A Parquet file as pandas reads it, refused when a string holds invalid UTF-8.

    Arrow does not check string bytes when it reads a file, so a damaged one would surface as a
    ``UnicodeDecodeError`` deep inside the first use of the column; a full validation of the
    table (one pass over its buffers, no second read) turns it into the reader's clear error.
    ``pyarrow.parquet.read_table(...).to_pandas()`` is what ``pandas.read_parquet`` does with
    the pyarrow engine (same dtypes, pandas 2 and 3).
    """
    import pyarrow.parquet as pq

    table = pq.read_table(file)
    table.validate(full=True)  # pyarrow.ArrowInvalid (a ValueError) for invalid UTF-8
    return table.to_pandas()
