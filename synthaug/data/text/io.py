"""Text files: JSON Lines and tables with a text column, read with checks, written atomically.

* ``.jsonl``: one JSON object per line with the text under ``"text"`` (``text_column``) and,
  optionally, the label under ``"label"`` (``label_column``); blank lines are skipped.
* ``.csv`` / ``.tsv`` / ``.parquet``: a table with a text column (``"text"`` unless
  ``text_column`` says otherwise) and, optionally, a label column.  Such a table counts as
  texts (not as a table) when it has the text column and at most one other column, or when
  ``text_column`` is given.

Bytes that are not UTF-8 and lines that are not JSON are refused with their line number.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from synthaug.data.io import read_parquet
from synthaug.data.text.container import Texts, as_texts
from synthaug.exceptions import InvalidDataError, InvalidParameterError
from synthaug.utils.files import atomic_file

__all__ = ["TEXT_COLUMN", "is_text_path", "read_texts", "write_texts"]

TEXT_COLUMN = "text"
LABEL_COLUMN = "label"
_TABLES = (".csv", ".tsv", ".parquet")


def _table_columns(path: Path) -> list[str]:
    try:
        if path.suffix.lower() == ".parquet":
            import pyarrow.parquet as pq

            return [str(c) for c in pq.read_schema(path).names]
        sep = "\t" if path.suffix.lower() == ".tsv" else ","
        return [str(c) for c in pd.read_csv(path, nrows=0, sep=sep).columns]
    except (OSError, ValueError, UnicodeDecodeError):
        return []


def is_text_path(path: Path, text_column: str | None = None) -> bool:
    """Whether ``path`` holds texts (the rules of the module docstring)."""
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        return True
    if suffix not in _TABLES or not path.is_file():
        return False
    columns = _table_columns(path)
    if text_column is not None:
        return text_column in columns
    return TEXT_COLUMN in columns and len(columns) <= 2


def read_texts(path: Path, *, text_column: str | None = None,
               label_column: str | None = None) -> Texts:
    """Read texts (and labels) from ``path``; see the module docstring.

    Parameters
    ----------
    path : Path
    text_column : str, optional
        Where the text is (default ``"text"``).
    label_column : str, optional
        Where the label is.  Default: ``"label"`` when present; in a two-column table, the
        other column.

    Raises
    ------
    InvalidParameterError
        When the file does not exist or has an unsupported suffix.
    InvalidDataError
        For bytes that are not UTF-8, a line that is not a JSON object, a missing text field or
        column, or texts the container refuses; the message names the line or column.
    """
    if not path.is_file():
        raise InvalidParameterError(f"{str(path)!r} is not a file.")
    text_key = text_column or TEXT_COLUMN
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        texts, labels = _read_jsonl(path, text_key, label_column)
        return as_texts(texts, labels, what=str(path))
    if suffix not in _TABLES:
        raise InvalidParameterError(f"{str(path)!r}: texts are read from .jsonl, .csv, .tsv or "
                                    ".parquet files.")
    try:
        if suffix == ".parquet":
            frame = read_parquet(path)
        else:
            frame = pd.read_csv(path, sep="\t" if suffix == ".tsv" else ",", dtype=object,
                                keep_default_na=False, encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidDataError(f"{str(path)!r} is not UTF-8 text ({exc}); re-save it as UTF-8."
                               ) from None
    except (OSError, ValueError) as exc:
        raise InvalidDataError(f"cannot read {str(path)!r}: {exc}") from None
    if text_key not in frame.columns:
        raise InvalidDataError(f"{str(path)!r} has no {text_key!r} column (columns: "
                               f"{list(frame.columns)[:10]}); name the text column with "
                               "text_column= (command line: --text-column).")
    label_key = label_column
    if label_key is None:
        others = [c for c in frame.columns if c != text_key]
        label_key = LABEL_COLUMN if LABEL_COLUMN in others else (
            others[0] if len(others) == 1 else None)
    if label_key is not None and label_key not in frame.columns:
        raise InvalidDataError(f"{str(path)!r} has no {label_key!r} column for the labels.")
    column = None if label_key is None else frame[label_key].reset_index(drop=True)
    return as_texts(frame[text_key].reset_index(drop=True), column, what=str(path))


def _read_jsonl(path: Path, text_key: str, label_key: str | None
                ) -> tuple[list[str], list[Any] | None]:
    texts: list[str] = []
    labels: list[Any] = []
    has_labels: bool | None = None
    try:
        with open(path, encoding="utf-8") as fh:
            for number, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except (json.JSONDecodeError, RecursionError) as exc:
                    raise InvalidDataError(f"{str(path)!r} line {number} is not JSON ({exc}).") \
                        from None
                if not isinstance(record, dict) or text_key not in record:
                    raise InvalidDataError(f"{str(path)!r} line {number} needs an object with "
                                           f"a {text_key!r} field.")
                key = label_key or LABEL_COLUMN
                here = key in record
                if has_labels is None:
                    has_labels = here
                elif here != has_labels:
                    raise InvalidDataError(f"{str(path)!r} line {number}: some lines have a "
                                           f"{key!r} field and some do not; label all or none.")
                texts.append(record[text_key])
                if here:
                    labels.append(record[key])
    except UnicodeDecodeError as exc:
        raise InvalidDataError(f"{str(path)!r} is not UTF-8 text ({exc}); re-save it as UTF-8."
                               ) from None
    if label_key is not None and not has_labels:
        raise InvalidDataError(f"{str(path)!r} has no {label_key!r} field for the labels.")
    return texts, labels if has_labels else None


def write_texts(data: Texts, path: str | os.PathLike[str]) -> Path:
    """Write ``data`` as JSON Lines (``{"text": ..., "label": ...}``), or a CSV/Parquet table."""
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in (".jsonl", ".csv", ".parquet"):
        raise InvalidParameterError(f"{str(target)!r}: write texts to .jsonl, .csv or .parquet.")
    frame = pd.DataFrame({TEXT_COLUMN: data.texts})
    if data.labels is not None:
        frame[LABEL_COLUMN] = data.labels
    with atomic_file(target) as tmp:
        if suffix == ".jsonl":
            lines = (json.dumps(_plain_record(r), ensure_ascii=False)
                     for r in frame.to_dict(orient="records"))
            tmp.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        elif suffix == ".csv":
            frame.to_csv(tmp, index=False)
        else:
            frame.to_parquet(tmp, index=False)
    return target


def _plain_record(record: Mapping[Any, Any]) -> dict[str, Any]:
    return {str(k): v.item() if hasattr(v, "item") else v for k, v in record.items()}
