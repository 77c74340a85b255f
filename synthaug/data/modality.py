"""The modality seam: one registered object per kind of data (tables, images, text).

Everything between a user's data and a component goes through a :class:`Modality`, so no entry
point (``augment``, suites, reports, recipes, samplers, jobs) turns data into a DataFrame
itself.  A modality is a small stateless object, registered by name like any other component
(``registry.modalities``), that knows how to

* recognise and check a container (:meth:`~Modality.accepts`, :meth:`~Modality.check`): a
  clear :class:`~synthaug.exceptions.InvalidDataError` for the wrong type, shape, dtype,
  mismatched labels or an empty class;
* count, index, concatenate, label and fingerprint records (:meth:`~Modality.n_records`,
  :meth:`~Modality.take`, :meth:`~Modality.concat`, :meth:`~Modality.labels`,
  :meth:`~Modality.fingerprint`), and split them stratified (:func:`stratified_split`);
* describe a fitted data set so a generator can persist it (:meth:`~Modality.schema`);
* compute the features validators work on, once per suite run (:meth:`~Modality.prepare`,
  returning :class:`Prepared`: real, synthetic and holdout as matrices in one encoding);
* summarise inputs and draw the figures a report shows (:meth:`~Modality.describe`,
  :meth:`~Modality.figures`);
* read and write its files (:meth:`~Modality.read`, :meth:`~Modality.write`).

Canonical containers: a :class:`pandas.DataFrame` for tables (a 2-D array is accepted and
given back), :class:`synthaug.data.image.Images` for images and
:class:`synthaug.data.text.Texts` for text.  Labels of a table are one of its columns (named by
``target``); labels of images and texts travel in their container.

Examples
--------
>>> import numpy as np, pandas as pd
>>> from synthaug.data.modality import detect_modality, get_modality
>>> detect_modality(pd.DataFrame({"x": [1.0, 2.0]})).name
'tabular'
>>> detect_modality(np.zeros((4, 8, 8), dtype=np.uint8)).name
'image'
>>> detect_modality(["a good film", "a bad one"]).name
'text'
>>> get_modality("text").record
'text'
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from synthaug import registry
from synthaug.exceptions import InvalidDataError, InvalidParameterError, UnknownComponentError

if TYPE_CHECKING:
    from synthaug.data.schema import ColumnSchema, TableSchema

__all__ = [
    "LABEL",
    "Modality",
    "Prepared",
    "PreparedCache",
    "check_labels",
    "detect_modality",
    "run_shared",
    "get_modality",
    "labels_like",
    "list_modalities",
    "register_modality",
    "stratified_split",
]

#: the condition key that asks for a class, for every modality: ``conditions={"label": 3}``
LABEL = "label"


@dataclass(frozen=True)
class Prepared:
    """Real, synthetic and (optionally) holdout data as float matrices in one shared encoding.

    This is what validators compute on.  For a table the matrix is the schema matrix of
    :meth:`TableSchema.to_matrix` (codes, nanoseconds, NaN for missing); for images and text it
    is a feature embedding whose columns are numerical (``f0``, ``f1``, ...).  ``schema`` names
    and types the columns either way, so a validator that only needs feature vectors runs
    unchanged on any modality.

    ``schema`` is the real data's schema with category lists widened by levels first seen in the
    synthetic or holdout data (appended after the real levels, so real codes do not move).
    ``columns`` are the indices of the columns worth comparing (identifier and all-missing columns
    of a table are left out).
    """

    schema: TableSchema
    real: np.ndarray
    synthetic: np.ndarray
    holdout: np.ndarray | None
    columns: tuple[int, ...]
    unseen_levels: Mapping[str, int] = field(default_factory=dict)
    #: which modality made the matrices, and (images and text) the embedding's name
    modality: str = "tabular"
    features: str | None = None

    @property
    def column_schemas(self) -> list[ColumnSchema]:
        """The schemas of the compared columns, in matrix order."""
        return [self.schema.columns[j] for j in self.columns]

    @property
    def names(self) -> list[str]:
        """The names of the compared columns."""
        return [c.name for c in self.column_schemas]


@dataclass
class PreparedCache:
    """The prepared view of one suite run's inputs, computed at most once per variant.

    A suite puts this in the validators' ``context["prepared"]``; a validator asks it for the
    view with or without the holdout (the holdout can add category levels, so both variants
    exist and each is computed once).  It only serves the exact objects it was made for.
    """

    modality: Modality
    real: Any
    synthetic: Any
    holdout: Any = None
    _views: dict[bool, Prepared] = field(default_factory=dict, repr=False)
    _extra: dict[str, Any] = field(default_factory=dict, repr=False)

    def serves(self, real: Any, synthetic: Any, holdout: Any) -> bool:
        """Whether these inputs are the ones the cache was made for (by identity)."""
        return real is self.real and synthetic is self.synthetic and (
            holdout is None or holdout is self.holdout
        )

    def get(self, *, with_holdout: bool, validator: str) -> Prepared:
        """The prepared view, computing it on first use."""
        if with_holdout not in self._views:
            self._views[with_holdout] = self.modality.prepare(
                self.real, self.synthetic, self.holdout if with_holdout else None,
                validator=validator)
        return self._views[with_holdout]

    def shared(self, key: str, compute: Callable[[], Any]) -> Any:
        """A value computed once per suite run and shared by the checks that ask for ``key``.

        For other feature views than the modality's own, for example a pretrained network's
        embedding of the images that several validators use.
        """
        if key not in self._extra:
            self._extra[key] = compute()
        return self._extra[key]


def run_shared(context: Mapping[str, Any] | None, inputs: tuple[Any, Any, Any], key: str,
               compute: Callable[[], Any]) -> Any:
    """``compute()`` once per suite run under ``key`` (the run's :class:`PreparedCache` in
    ``context["prepared"]``, when it serves ``inputs`` = (real, synthetic, holdout)); every
    time outside a suite."""
    cache = (context or {}).get("prepared")
    if isinstance(cache, PreparedCache) and cache.serves(*inputs):
        return cache.shared(key, compute)
    return compute()


class Modality(ABC):
    """What synthaug knows about one kind of data (see the module docstring).

    Subclasses are stateless; one instance of each is registered with
    :func:`register_modality`.  Methods that take data expect the canonical container that
    :meth:`check` returns, unless they say otherwise.
    """

    #: registry name: "tabular", "image", "text"
    name: ClassVar[str] = ""
    #: what one record is called in messages ("row", "image", "text")
    record: ClassVar[str] = "record"
    #: the built-in validation suite for this modality
    default_suite: ClassVar[str] = "default"

    # -- containers ----------------------------------------------------------------------------
    @abstractmethod
    def accepts(self, data: Any) -> bool:
        """Whether ``data`` looks like a container of this modality (cheap, no full check)."""

    @abstractmethod
    def check(self, data: Any, y: Any = None, *, what: str = "data") -> Any:
        """Validate ``data`` (and labels ``y``) once, at the boundary; return the canonical
        container.  Raise :class:`InvalidDataError` naming what is wrong and how to fix it."""

    @abstractmethod
    def n_records(self, data: Any) -> int:
        """How many records ``data`` holds."""

    @abstractmethod
    def take(self, data: Any, index: np.ndarray) -> Any:
        """The records at positions ``index``, in that order, in the same container."""

    @abstractmethod
    def concat(self, parts: Sequence[Any]) -> Any:
        """The records of ``parts`` one after another (at least one part)."""

    @abstractmethod
    def labels(self, data: Any, *, target: str | None = None) -> np.ndarray | None:
        """The class label of each record, or ``None`` when the data has none.

        ``target`` names the label column of a table; images and texts carry their labels.
        """

    @abstractmethod
    def fingerprint(self, data: Any) -> str:
        """A content hash (hex SHA-256) of the records and their labels: resume keys."""

    @abstractmethod
    def restore(self, data: Any, like: Any, y: Any = None) -> Any:
        """Canonical ``data`` in the container the user gave (``like``, the original input).

        When the user gave labels apart (``y`` is the original labels argument), they come back
        apart too: ``(records, labels)``, labels as a Series when ``y`` was one.
        """

    # -- generators ----------------------------------------------------------------------------
    @abstractmethod
    def schema(self, data: Any) -> Any:
        """What a generator records about its training data (shapes, types, classes), never
        the records; it has ``to_dict()`` and :meth:`schema_from_dict` restores it."""

    @abstractmethod
    def schema_from_dict(self, data: Mapping[str, Any]) -> Any:
        """Restore what ``schema(...).to_dict()`` returned."""

    # -- validators and reports ----------------------------------------------------------------
    @abstractmethod
    def prepare(self, real: Any, synthetic: Any, holdout: Any = None, *,
                validator: str = "validation") -> Prepared:
        """Check the three inputs against the real data and encode them in one layout."""

    @abstractmethod
    def describe(self, real: Any, synthetic: Any, holdout: Any = None, *,
                 target: str | None = None, sensitive: Sequence[str] = ()) -> dict[str, Any]:
        """A short JSON-able summary of the inputs for a report (sizes, shapes, classes)."""

    @abstractmethod
    def figures(self, real: Any, synthetic: Any, *, target: str | None = None,
                sensitive: Sequence[str] = (),
                from_validators: Mapping[str, Any] | None = None,
                ) -> tuple[dict[str, Any], list[str]]:
        """Figure data a report shows for this modality, and notes on what was left out.

        ``from_validators`` holds the figure data validators already contributed (their
        ``figures`` hook), so a modality can reuse it instead of recomputing.
        """

    def check_roles(self, data: Any, *, target: str | None = None,
                    sensitive: Sequence[str] = ()) -> None:
        """Refuse a ``target`` or ``sensitive`` name this data cannot resolve."""
        if sensitive:
            raise InvalidDataError(
                f"sensitive groups are columns of a table; {self.name} data has none "
                f"(sensitive={list(sensitive)}). Leave --sensitive out."
            )

    # -- files ---------------------------------------------------------------------------------
    @abstractmethod
    def can_read(self, path: Path) -> bool:
        """Whether ``path`` is a file or folder of this modality (by its name and layout)."""

    @abstractmethod
    def read(self, path: str | os.PathLike[str], **options: Any) -> Any:
        """Read a file or folder into the canonical container (options are modality's own)."""

    @abstractmethod
    def write(self, data: Any, path: str | os.PathLike[str]) -> Path:
        """Write ``data`` completely or not at all (see :mod:`synthaug.utils.files`)."""


def check_labels(y: Any, n: int, *, what: str = "images") -> np.ndarray:
    """``y`` as a 1-D array of ``n`` labels with none missing, or a clear error.

    Examples
    --------
    >>> check_labels(["a", "b"], 2).tolist()
    ['a', 'b']
    """
    import pandas as pd

    values = y.to_numpy() if isinstance(y, pd.Series | pd.Index) else np.asarray(y)
    if values.ndim != 1:
        raise InvalidDataError(
            f"labels must be one class per record (1-D), got shape {values.shape}. Pass a list, "
            "a 1-D array or a pandas Series."
        )
    if len(values) != n:
        raise InvalidDataError(
            f"there are {len(values)} labels for {n} {what}; give exactly one label per record."
        )
    missing = pd.isna(pd.Series(values, dtype=object)).to_numpy()
    if missing.any():
        first = np.flatnonzero(missing)[:5].tolist()
        raise InvalidDataError(
            f"{int(missing.sum())} label(s) are missing (NaN/None), first at positions {first}; "
            "drop those records or give them a class."
        )
    if values.dtype.kind == "O" and not all(isinstance(v, str | int | np.integer)
                                            for v in values):
        kinds = sorted({type(v).__name__ for v in values})
        raise InvalidDataError(f"labels must be integers or strings; got values of types {kinds}.")
    return values


def labels_like(values: np.ndarray, y: Any) -> Any:
    """``values`` in the type of the user's labels ``y`` (a named Series stays a Series)."""
    import pandas as pd

    if isinstance(y, pd.Series):
        return pd.Series(values, name=y.name).astype(y.dtype)
    return np.asarray(values).astype(np.asarray(y).dtype)


def register_modality(modality: Modality) -> Modality:
    """Register an instance under its ``name`` (a second use of a name is an error)."""
    registry.modalities.register(modality.name)(modality)
    return modality


def get_modality(name: str) -> Modality:
    """The modality registered as ``name`` ("tabular", "image", "text")."""
    return registry.modalities.get(name)


def list_modalities() -> list[str]:
    """Registered modality names."""
    return registry.modalities.names()


def detect_modality(data: Any, *, what: str = "data") -> Modality:
    """The modality whose containers ``data`` looks like; a clear error when none does.

    Raises
    ------
    InvalidDataError
        When no registered modality accepts ``data``; the message lists what each takes.
    """
    for name in ("tabular", "image", "text"):  # fixed order: cheap checks first
        try:
            modality = get_modality(name)
        except UnknownComponentError:
            continue
        if modality.accepts(data):
            return modality
    for name in list_modalities():  # third-party modalities after the built-ins
        modality = get_modality(name)
        if name not in ("tabular", "image", "text") and modality.accepts(data):
            return modality
    if isinstance(data, np.ndarray):
        raise InvalidDataError(
            f"{what} must be 2-D (rows x columns) for a table, got an array of shape "
            f"{data.shape} ({data.dtype}). Reshape a single column with X.reshape(-1, 1). "
            "Images are uint8 arrays of shape (N, H, W) or (N, H, W, C) (scale floats in "
            "[0, 1] with (x * 255).round().astype(np.uint8)); texts are a 1-D array of strings."
        )
    raise InvalidDataError(
        f"{what} must be images (a uint8 array (N, H, W[, C]), a list of PIL images or "
        "synthaug.data.Images), texts (a list or pandas Series of strings, or "
        "synthaug.data.Texts), or a table: a pandas DataFrame or a 2-D numpy array, got "
        f"{type(data).__name__}. Convert a table with pandas.DataFrame(...)."
    )


def detect_path_modality(path: str | os.PathLike[str], *, text_column: str | None = None
                         ) -> Modality:
    """The modality that reads ``path`` (a folder of PNGs, an ``.npz``, ``.jsonl``, ...).

    A table file counts as texts when ``text_column`` names one of its columns, or when it has
    a ``text`` column and at most one other column.
    """
    file = Path(path)
    if text_column is not None:
        from synthaug.data.text.io import is_text_path

        if is_text_path(file, text_column):
            return get_modality("text")
    for name in ("image", "text", "tabular"):  # images and text by layout, tables last
        try:
            modality = get_modality(name)
        except UnknownComponentError:
            continue
        if modality.can_read(file):
            return modality
    raise InvalidParameterError(
        f"{str(file)!r} is neither a table (.csv, .tsv, .parquet), images (a folder laid out "
        "root/<class>/*.png, or an .npz with 'images' and 'labels') nor texts (.jsonl)."
    )


def stratified_split(
    labels: Any,
    fractions: Sequence[float],
    rng: np.random.Generator,
    *,
    what: str = "label",
) -> list[np.ndarray]:
    """Positions of a stratified split into ``len(fractions) + 1`` parts, the rest last.

    Within each class (in sorted order of the labels' text), the records are permuted by
    ``rng`` and the first ``max(1, round(n * f))`` go to each part in turn; what is left forms
    the last part.  Records whose label is missing are in no part.  Only the labels and ``rng``
    decide, so the same labels and seed give the same split for every modality.

    Parameters
    ----------
    labels : array-like of shape (n,)
        Class of each record (``np.zeros(n)`` for data without classes).
    fractions : sequence of float
        Share of each class for each leading part (for example ``(test, validation)``).
    rng : numpy Generator
    what : str
        How the labels are named in messages.

    Returns
    -------
    list of ndarray
        Sorted positions, one array per part.

    Raises
    ------
    InvalidDataError
        When a class is too small to give every part at least one record.

    Examples
    --------
    >>> import numpy as np
    >>> test, train = stratified_split(np.array(["a"] * 4 + ["b"] * 2), [0.5],
    ...                                np.random.default_rng(0))
    >>> len(test), len(train), sorted(np.r_[test, train].tolist())
    (3, 3, [0, 1, 2, 3, 4, 5])
    """
    import pandas as pd  # pandas' missing-value rules, for any label dtype

    series = pd.Series(np.asarray(labels, dtype=object))
    known = series.notna().to_numpy()
    text = series[known].astype(str)
    classes = sorted(set(text))
    codes = np.full(len(series), -1, dtype=np.int64)
    codes[known] = pd.Index(classes).get_indexer(pd.Index(text))
    parts: list[list[np.ndarray]] = [[] for _ in range(len(fractions) + 1)]
    for c, label in enumerate(classes):
        rows = rng.permutation(np.flatnonzero(codes == c))
        sizes = [max(1, round(len(rows) * f)) for f in fractions]
        if len(rows) - sum(sizes) < 1:
            raise InvalidDataError(
                f"class {label!r} of the {what} has {len(rows)} record(s); stratified splitting "
                f"needs at least one record of every class in each of the {len(parts)} parts."
            )
        start = 0
        for i, size in enumerate(sizes):
            parts[i].append(rows[start:start + size])
            start += size
        parts[-1].append(rows[start:])
    return [np.sort(np.concatenate(p)) if p else np.zeros(0, dtype=np.int64) for p in parts]
