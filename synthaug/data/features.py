"""Feature views of images and texts: the matrices their validators compute on.

A modality without columns (images, text) gives validators an embedding instead: each record
becomes a row of numerical features (``f0``, ``f1``, ...), fitted on the real data only.  Two
rules make such a view safe for privacy checks:

* **Identical records get identical rows.**  Records are keyed by content, each distinct record
  is embedded once and the rows are copied back, so an exact copy of a training record is an
  exact copy in feature space too (floating-point products of the same record in different
  batches need not agree to the last bit, and exact-copy checks compare bits).
* **The embedding sees only the real data when it is fitted**, so synthetic data cannot shape
  the space it is judged in.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from synthaug.data.modality import Prepared
from synthaug.data.schema import ColumnKind, ColumnSchema, TableSchema

__all__ = ["FeatureStore", "content_keys", "embed_once", "feature_view", "nested_sample"]


def content_keys(records: Sequence[bytes]) -> np.ndarray:
    """A 128-bit digest per record (as 16-byte strings): equal records, equal keys."""
    return np.asarray([hashlib.blake2b(r, digest_size=16).digest() for r in records],
                      dtype=object)


def embed_once(
    keys: Sequence[np.ndarray],
    fetch: Callable[[int, np.ndarray], Any],
    transform: Callable[[Any], np.ndarray],
) -> list[np.ndarray]:
    """Embed each distinct record once and give every part its rows.

    Parameters
    ----------
    keys : sequence of ndarray
        Content keys of each part's records (:func:`content_keys`).
    fetch : callable
        ``fetch(part, positions)`` returns those records of a part, in the form ``transform``
        takes.
    transform : callable
        Records -> float32 feature rows.

    Returns
    -------
    list of ndarray
        The feature matrix of each part.
    """
    joined = np.concatenate([np.asarray(k, dtype=object) for k in keys])
    codes, distinct = pd.factorize(pd.Series(joined), sort=False)
    first = np.unique(codes, return_index=True)[1]  # first[c]: first position of record c
    bounds = np.cumsum([0, *(len(k) for k in keys)])
    part_of = np.searchsorted(bounds, first, side="right") - 1
    unique: np.ndarray | None = None
    for p in range(len(keys)):
        mine = np.flatnonzero(part_of == p)  # the distinct records first seen in part p
        if not len(mine):
            continue
        rows = np.asarray(transform(fetch(p, first[mine] - bounds[p])), dtype=np.float32)
        if unique is None:
            unique = np.empty((len(distinct), rows.shape[1]), dtype=np.float32)
        unique[mine] = rows
    if unique is None:
        return [np.zeros((0, 0), dtype=np.float32) for _ in keys]
    dense = unique[codes]
    return [dense[bounds[p]:bounds[p + 1]] for p in range(len(keys))]


def feature_view(
    real: np.ndarray,
    synthetic: np.ndarray,
    holdout: np.ndarray | None,
    *,
    modality: str,
    features: str,
) -> Prepared:
    """A :class:`Prepared` of numerical feature columns ``f0..f{k-1}``."""
    k = real.shape[1]
    columns = tuple(
        ColumnSchema(f"f{j}", ColumnKind.NUMERICAL, "float32",
                     minimum=float(real[:, j].min()), maximum=float(real[:, j].max()))
        for j in range(k)
    )
    schema = TableSchema(columns, n_rows=len(real), container="ndarray", array_dtype="float32")
    return Prepared(schema=schema, real=real.astype(np.float64), synthetic=synthetic.astype(
        np.float64), holdout=None if holdout is None else holdout.astype(np.float64),
        columns=tuple(range(k)), modality=modality, features=features)


class FeatureStore:
    """Feature rows of records by content: each distinct record is embedded once, on request.

    The store keeps every row it has made, so the checks of one suite run that embed the same
    texts (a Fréchet distance, a memorisation test, a classifier) pay for each text once, and
    an exact copy of a record gets exactly that record's row (:func:`embed_once`'s rule, kept
    across calls).

    Parameters
    ----------
    extractor : callable
        A batch of records (as ``fetch`` returns them) -> float32 rows ``(n, d)``; its
        ``name`` attribute, when it has one, names the features in reports.
    key : callable
        One record -> bytes, equal for equal records (hashed with :func:`content_keys`).

    Attributes
    ----------
    n_embedded : int
        How many distinct records went through the extractor so far.

    Examples
    --------
    >>> import numpy as np
    >>> store = FeatureStore(lambda t: np.array([[len(s), 1.0] for s in t], np.float32),
    ...                      key=lambda s: s.encode("utf-8"))
    >>> texts = np.array(["ab", "abc", "ab"], dtype=object)
    >>> store.of(texts)[:, 0].tolist(), store.n_embedded
    ([2.0, 3.0, 2.0], 2)
    """

    def __init__(self, extractor: Callable[[Any], np.ndarray],
                 key: Callable[[Any], bytes]) -> None:
        self.extractor = extractor
        self.key = key
        self._rows: dict[bytes, np.ndarray] = {}
        self._dim: int | None = None

    @property
    def name(self) -> str:
        """The extractor's name."""
        return str(getattr(self.extractor, "name", type(self.extractor).__name__))

    @property
    def n_embedded(self) -> int:
        return len(self._rows)

    def of(self, records: np.ndarray) -> np.ndarray:
        """The feature rows of ``records`` (an array the extractor takes a slice of)."""
        keys = content_keys([self.key(r) for r in records])
        todo: dict[bytes, int] = {}
        for i, k in enumerate(keys):
            if k not in self._rows and k not in todo:
                todo[k] = i
        if todo:
            rows = np.asarray(self.extractor(records[list(todo.values())]), dtype=np.float32)
            for k, row in zip(todo, rows, strict=True):
                self._rows[k] = row
            self._dim = rows.shape[1]
        if not len(keys):
            return np.zeros((0, self._dim or 0), dtype=np.float32)
        return np.stack([self._rows[k] for k in keys])


    def preload(self, records: np.ndarray, rows: np.ndarray) -> None:
        """Take rows computed earlier (a benchmark's cache on disk) for ``records``."""
        if len(records) != len(rows):
            raise ValueError(f"{len(records)} records but {len(rows)} feature rows")
        keys = content_keys([self.key(r) for r in records])
        for k, row in zip(keys, np.asarray(rows, dtype=np.float32), strict=True):
            self._rows.setdefault(k, row)
        if len(rows):
            self._dim = int(np.asarray(rows).shape[1])


def nested_sample(n: int, max_rows: int | None, seed: int = 0) -> np.ndarray:
    """Sorted positions of at most ``max_rows`` of ``n`` records: a prefix of one seeded order.

    Prefixes of one permutation are nested, so a validator with a smaller cap embeds a subset
    of what one with a larger cap embedded (with the same seed), and the features are shared.

    Examples
    --------
    >>> a, b = nested_sample(10, 3), nested_sample(10, 6)
    >>> len(a), bool(set(a) <= set(b)), nested_sample(4, None).tolist()
    (3, True, [0, 1, 2, 3])
    """
    if max_rows is None or max_rows >= n:
        return np.arange(n)
    order = np.random.default_rng([seed, n]).permutation(n)
    return np.sort(order[:max_rows])
