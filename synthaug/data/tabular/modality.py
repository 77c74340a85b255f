"""The tabular modality: DataFrames (and 2-D arrays) in, the same container out."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from synthaug.data.modality import LABEL, Modality, Prepared, labels_like
from synthaug.data.schema import TableSchema, as_frame
from synthaug.data.tabular.prepare import prepare_tables
from synthaug.exceptions import InvalidDataError, InvalidParameterError
from synthaug.utils.files import atomic_file

__all__ = ["TABLE_SUFFIXES", "TabularModality"]

#: file names a table is read from and written to
TABLE_SUFFIXES = (".csv", ".tsv", ".parquet")


class TabularModality(Modality):
    """Tables: a :class:`pandas.DataFrame` (a 2-D numpy array is accepted and given back).

    Labels are a column of the table, named by ``target``; labels given apart (``y``) are
    joined as a column named after ``y`` (``"label"`` when it has no name).

    Examples
    --------
    >>> import pandas as pd
    >>> tab = TabularModality()
    >>> frame = tab.check(pd.DataFrame({"x": [1.0, 2.0, 3.0]}), y=["a", "b", "a"])
    >>> list(frame.columns), tab.labels(frame, target="label").tolist()
    (['x', 'label'], ['a', 'b', 'a'])
    """

    name: ClassVar[str] = "tabular"
    record: ClassVar[str] = "row"
    default_suite: ClassVar[str] = "default"

    # -- containers ----------------------------------------------------------------------------
    def accepts(self, data: Any) -> bool:
        return isinstance(data, pd.DataFrame) or (isinstance(data, np.ndarray) and data.ndim == 2)

    def check(self, data: Any, y: Any = None, *, what: str = "data") -> pd.DataFrame:
        frame, _, _ = as_frame(data, what=what)
        if y is None:
            return frame
        return join_labels(frame, y, what=what)

    def n_records(self, data: Any) -> int:
        return len(data)

    def take(self, data: Any, index: np.ndarray) -> Any:
        if isinstance(data, np.ndarray):
            return data[index]
        return data.iloc[np.asarray(index)].reset_index(drop=True)

    def concat(self, parts: Sequence[Any]) -> Any:
        if not parts:
            raise InvalidParameterError("concat needs at least one part.")
        if isinstance(parts[0], np.ndarray):
            return np.concatenate(parts, axis=0)
        if len(parts) == 1:
            return parts[0]
        return pd.concat(parts, ignore_index=True)

    def labels(self, data: Any, *, target: str | None = None) -> np.ndarray | None:
        if target is None:
            return None
        frame, _, _ = as_frame(data, what="data")
        if target not in frame.columns:
            raise InvalidDataError(
                f"target={target!r} is not a column of the data; its columns are "
                f"{list(frame.columns)[:20]}."
            )
        return frame[target].to_numpy()

    def restore(self, data: Any, like: Any, y: Any = None) -> Any:
        """``data`` as a frame, or as an array of ``like``'s dtype when ``like`` is one; with
        ``y`` given apart, its column (see :func:`join_labels`) comes back apart."""
        frame, _, _ = as_frame(data, what="data")
        labels = None
        if y is not None:
            column = label_column_name(y)
            labels = labels_like(frame[column].to_numpy(), y)
            frame = frame.drop(columns=[column])
        records = frame.to_numpy(dtype=like.dtype) if isinstance(like, np.ndarray) else frame
        return records if labels is None else (records, labels)

    def fingerprint(self, data: Any) -> str:
        """SHA-256 of the values (row by row, with the index), the column names and dtypes.

        Examples
        --------
        >>> import pandas as pd
        >>> tab = TabularModality()
        >>> tab.fingerprint(pd.DataFrame({"a": [1, 2]})) == tab.fingerprint(
        ...     pd.DataFrame({"a": [1, 2]}))
        True
        """
        frame, _, _ = as_frame(data, what="data")
        digest = hashlib.sha256()
        digest.update(json.dumps([[str(c), str(t)] for c, t in frame.dtypes.items()]).encode())
        digest.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
        return digest.hexdigest()

    def check_roles(self, data: Any, *, target: str | None = None,
                    sensitive: Sequence[str] = ()) -> None:
        import difflib

        columns = [str(c) for c in getattr(data, "columns", [])]
        if not columns:
            if target is not None or sensitive:
                raise InvalidDataError(
                    "target and sensitive columns are named by column, so the real data must be "
                    f"a DataFrame with named columns (got {type(data).__name__}). Convert it "
                    "with pandas.DataFrame(...)."
                )
            return
        for role, name in [("target", target)] + [("sensitive", s) for s in sensitive]:
            if name is None or name in columns:
                continue
            close = difflib.get_close_matches(name, columns, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise InvalidDataError(
                f"{role} column {name!r} is not a column of the real data.{hint} Its columns "
                f"are {columns[:20]}{' ...' if len(columns) > 20 else ''}."
            )

    # -- generators ----------------------------------------------------------------------------
    def schema(self, data: Any) -> TableSchema:
        return TableSchema.detect(data)

    def schema_from_dict(self, data: Mapping[str, Any]) -> TableSchema:
        return TableSchema.from_dict(data)

    # -- validators and reports ----------------------------------------------------------------
    def prepare(self, real: Any, synthetic: Any, holdout: Any = None, *,
                validator: str = "validation") -> Prepared:
        return prepare_tables(real, synthetic, holdout, validator=validator)

    def describe(self, real: Any, synthetic: Any, holdout: Any = None, *,
                 target: str | None = None, sensitive: Sequence[str] = ()) -> dict[str, Any]:
        """Row and column counts of the inputs, and the roles given to columns.

        Examples
        --------
        >>> import pandas as pd
        >>> TabularModality().describe(pd.DataFrame({"x": [1, 2]}),
        ...                            pd.DataFrame({"x": [3]}))["synthetic"]
        {'rows': 1, 'columns': 1, 'summary': '1 rows x 1 columns'}
        """
        def shape(data: Any) -> dict[str, Any] | None:
            dims = getattr(data, "shape", None)
            if dims is None or len(dims) == 0:
                return None
            rows, cols = int(dims[0]), int(dims[1]) if len(dims) > 1 else 1
            return {"rows": rows, "columns": cols, "summary": f"{rows:,} rows x {cols} columns"}

        return {
            "modality": self.name,
            "real": shape(real),
            "synthetic": shape(synthetic),
            "holdout": shape(holdout) if holdout is not None else None,
            "target": target,
            "sensitive": list(sensitive),
        }

    def figures(self, real: Any, synthetic: Any, *, target: str | None = None,
                sensitive: Sequence[str] = (),
                from_validators: Mapping[str, Any] | None = None,
                ) -> tuple[dict[str, Any], list[str]]:
        from synthaug.data.tabular.figures import tabular_figures

        return tabular_figures(real, synthetic, target=target, sensitive=sensitive,
                               from_validators=from_validators)

    # -- files ---------------------------------------------------------------------------------
    def can_read(self, path: Path) -> bool:
        return path.suffix.lower() in TABLE_SUFFIXES or "".join(path.suffixes).lower().endswith(
            tuple(s + ".gz" for s in TABLE_SUFFIXES))

    def read(self, path: str | os.PathLike[str], **options: Any) -> pd.DataFrame:
        from synthaug.data.io import read_table

        if options:
            raise InvalidParameterError(f"tables take no read options, got {sorted(options)}.")
        return read_table(str(path))

    def write(self, data: Any, path: str | os.PathLike[str]) -> Path:
        """Write ``data`` as Parquet or CSV (by suffix), completely or not at all."""
        target = Path(path)
        suffix = target.suffix.lower()
        if suffix not in (".parquet", ".csv"):
            raise InvalidParameterError(f"{str(target)!r}: use a .parquet or .csv file name.")
        frame, _, _ = as_frame(data, what="data")
        with atomic_file(target) as tmp:
            if suffix == ".parquet":
                frame.to_parquet(tmp, index=False)
            else:
                frame.to_csv(tmp, index=False)
        return target

    def write_batches(self, batches: Iterable[pd.DataFrame], path: str | os.PathLike[str], *,
                      like: pd.DataFrame) -> Path:
        """Write frames one after another as one Parquet or CSV file, completely or not at all.

        Memory stays at one batch whatever the total: each frame becomes a Parquet row group,
        or is appended to the CSV, in the temporary file that is renamed into place at the end
        (:func:`synthaug.utils.files.atomic_file`).  The file reads back as :meth:`write` of
        the frames joined would.

        Parameters
        ----------
        batches : iterable of DataFrame
            Frames with the columns and dtypes of ``like``.
        path : str or path-like
            A ``.parquet`` or ``.csv`` file name.
        like : DataFrame
            A frame with every kind of value the batches hold (the real data): it fixes the
            Parquet schema, which a single batch may not show (a column missing in it).

        Examples
        --------
        >>> import tempfile, pathlib, pandas as pd
        >>> out = pathlib.Path(tempfile.mkdtemp()) / "t.parquet"
        >>> part = pd.DataFrame({"x": [1.0, 2.0]})
        >>> _ = TabularModality().write_batches([part, part], out, like=part)
        >>> pd.read_parquet(out)["x"].tolist()
        [1.0, 2.0, 1.0, 2.0]
        """
        target = Path(path)
        suffix = target.suffix.lower()
        if suffix not in (".parquet", ".csv"):
            raise InvalidParameterError(f"{str(target)!r}: use a .parquet or .csv file name.")
        with atomic_file(target) as tmp:
            if suffix == ".parquet":
                _write_parquet_batches(batches, tmp, like)
            else:
                with open(tmp, "w", encoding="utf-8", newline="") as fh:
                    header = True
                    for frame in batches:
                        frame.to_csv(fh, index=False, header=header)
                        header = False
                    if header:  # no rows at all: the header alone, as write() gives
                        like.iloc[:0].to_csv(fh, index=False)
        return target


def _write_parquet_batches(batches: Iterable[pd.DataFrame], tmp: Path, like: pd.DataFrame
                           ) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.Schema.from_pandas(like, preserve_index=False)
    with pq.ParquetWriter(tmp, schema) as writer:
        for frame in batches:
            writer.write_table(pa.Table.from_pandas(frame, schema=schema, preserve_index=False))


def label_column_name(y: Any) -> str:
    """The column labels given apart take in a table: the Series' name, else "label"."""
    name = getattr(y, "name", None)
    return str(name) if name is not None else LABEL


def join_labels(frame: pd.DataFrame, y: Any, *, what: str = "X") -> pd.DataFrame:
    """``frame`` with the labels ``y`` appended as a column (named after ``y``, else "label").

    Raises
    ------
    InvalidDataError
        When ``y`` is not one label per row, or its name is already a column of ``frame``.
    """
    name = label_column_name(y)
    values = y.to_numpy() if isinstance(y, (pd.Series, pd.Index)) else np.asarray(y)
    if values.ndim != 1:
        raise InvalidDataError(
            f"y must be one label per {what} row (1-D), got shape {values.shape}. Pass a list, "
            "a 1-D array or a pandas Series."
        )
    if len(values) != len(frame):
        raise InvalidDataError(
            f"y has {len(values)} labels but {what} has {len(frame)} rows; give one label per "
            "row."
        )
    if name in frame.columns:
        raise InvalidDataError(
            f"{what} already has a column named {name!r}, the name y's labels would take. "
            "Rename y (y.rename('...')) or the column."
        )
    out = frame.copy()
    out[name] = y.to_numpy() if isinstance(y, pd.Series) else values
    if isinstance(y, pd.Series) and isinstance(y.dtype, pd.CategoricalDtype):
        out[name] = pd.Categorical(values, categories=y.cat.categories, ordered=y.cat.ordered)
    return out
