"""The text modality: strings with labels in, the same container out.

Validators compute on **hashed character n-gram features**: counts of character 2- to 4-grams
within word boundaries (scikit-learn's ``HashingVectorizer(analyzer="char_wb")``), sublinear
(``log1p``) and L2-normalised, then a seeded sparse random projection to 128 dimensions.  Nothing
in it is fitted to the data: an embedding fitted on the real texts (TF-IDF + SVD was tried)
puts the real texts in-sample and every other sample out of it, so two samples of one corpus
looked different (detection AUC 0.80, DCR 0.16 on Rotten Tomatoes).  It needs no download, is
fast on a CPU and sees spelling, wording and length; it does not see meaning.  The text
validators that need meaning use MiniLM sentence embeddings of a packaged model
(:mod:`synthaug.data.text.embedding`) instead.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from synthaug.data.features import content_keys, embed_once, feature_view
from synthaug.data.modality import Modality, Prepared, labels_like
from synthaug.data.text.container import Texts, TextSchema, as_texts, container_kind, to_kind
from synthaug.data.text.io import is_text_path, read_texts, write_texts
from synthaug.exceptions import InvalidDataError, InvalidParameterError

__all__ = ["TextModality", "cut_text", "ngram_features"]

#: hashed n-gram slots, and the dimensions of the random projection the validators see
HASH_FEATURES = 2**18
COMPONENTS = 128
#: the report shows this many texts per label and side, each cut to this many characters
SAMPLES_PER_LABEL = 3
SAMPLE_CHARS = 240
SAMPLE_LABELS = 10


class TextModality(Modality):
    """Texts: :class:`~synthaug.data.text.Texts`, lists / arrays / Series of str, JSONL, CSV.

    Examples
    --------
    >>> from synthaug.data.modality import get_modality
    >>> text = get_modality("text")
    >>> batch = text.check(["a fine film", "dull"], y=["fresh", "rotten"])
    >>> text.n_records(batch), text.labels(batch).tolist()
    (2, ['fresh', 'rotten'])
    """

    name: ClassVar[str] = "text"
    record: ClassVar[str] = "text"
    default_suite: ClassVar[str] = "text-default"

    # -- containers ----------------------------------------------------------------------------
    def accepts(self, data: Any) -> bool:
        import pandas as pd

        if isinstance(data, Texts):
            return True
        if isinstance(data, pd.Series):
            return data.dtype == object or pd.api.types.is_string_dtype(data.dtype)
        if isinstance(data, np.ndarray):
            return data.ndim == 1 and data.dtype.kind in "OUS"
        if isinstance(data, list | tuple) and data:
            return isinstance(data[0], str)
        return False

    def check(self, data: Any, y: Any = None, *, what: str = "texts") -> Texts:
        return as_texts(data, y, what=what)

    def n_records(self, data: Any) -> int:
        return len(as_texts(data))

    def take(self, data: Any, index: np.ndarray) -> Texts:
        batch = as_texts(data)
        index = np.asarray(index)
        return Texts(batch.texts[index], None if batch.labels is None else batch.labels[index])

    def concat(self, parts: Sequence[Any]) -> Texts:
        batches = [as_texts(p) for p in parts]
        if not batches:
            raise InvalidParameterError("concat needs at least one part.")
        labelled = {b.labels is not None for b in batches}
        if len(labelled) > 1:
            raise InvalidDataError("cannot join labelled and unlabelled texts.")
        labels = (np.concatenate([b.labels for b in batches if b.labels is not None])
                  if labelled == {True} else None)
        return Texts(np.concatenate([b.texts for b in batches]), labels)

    def labels(self, data: Any, *, target: str | None = None) -> np.ndarray | None:
        return as_texts(data).labels

    def restore(self, data: Any, like: Any, y: Any = None) -> Any:
        batch = as_texts(data)
        kind, name = container_kind(like)
        records = to_kind(batch, kind, name)
        if kind == "texts" or batch.labels is None:
            return records
        return records, labels_like(batch.labels, y) if y is not None else batch.labels

    def fingerprint(self, data: Any) -> str:
        batch = as_texts(data)
        digest = hashlib.sha256()
        for text in batch.texts:
            digest.update(text.encode("utf-8") + b"\x1e")
        if batch.labels is not None:
            digest.update("\x1f".join(map(str, batch.labels)).encode())
        return digest.hexdigest()

    def check_roles(self, data: Any, *, target: str | None = None,
                    sensitive: Sequence[str] = ()) -> None:
        super().check_roles(data, target=target, sensitive=sensitive)
        if target is not None and as_texts(data).labels is None:
            raise InvalidDataError("target was given but the texts have no labels; pass "
                                   "labels (y=...) or a file with a label column.")

    # -- generators ----------------------------------------------------------------------------
    def schema(self, data: Any) -> TextSchema:
        kind, name = container_kind(data)
        return TextSchema.of(as_texts(data), kind, name)

    def schema_from_dict(self, data: Mapping[str, Any]) -> TextSchema:
        return TextSchema.from_dict(data)

    # -- validators and reports ----------------------------------------------------------------
    def prepare(self, real: Any, synthetic: Any, holdout: Any = None, *,
                validator: str = "validation") -> Prepared:
        parts = [as_texts(real, what="real texts"), as_texts(synthetic, what="synthetic texts")]
        if holdout is not None:
            parts.append(as_texts(holdout, what="holdout texts"))
        feats = ngram_features([p.texts for p in parts])
        return feature_view(feats[0], feats[1], feats[2] if holdout is not None else None,
                            modality=self.name, features="char-ngram-hash")

    def describe(self, real: Any, synthetic: Any, holdout: Any = None, *,
                 target: str | None = None, sensitive: Sequence[str] = ()) -> dict[str, Any]:
        def one(data: Any) -> dict[str, Any]:
            batch = as_texts(data)
            median = float(np.median([len(t) for t in batch.texts]))
            classes = 0 if batch.labels is None else len(np.unique(batch.labels))
            return {"texts": len(batch), "median_chars": median, "classes": classes,
                    "summary": f"{len(batch):,} texts (median {median:,.0f} characters)"
                               + (f", {classes} classes" if classes else "")}

        return {"modality": self.name, "real": one(real), "synthetic": one(synthetic),
                "holdout": one(holdout) if holdout is not None else None,
                "target": target, "sensitive": list(sensitive)}

    def figures(self, real: Any, synthetic: Any, *, target: str | None = None,
                sensitive: Sequence[str] = (),
                from_validators: Mapping[str, Any] | None = None,
                ) -> tuple[dict[str, Any], list[str]]:
        """A few real and synthetic texts per label (the first ones of each, cut short).

        A validator's ``text_samples`` (label consistency's: random texts, the synthetic ones
        the real-text classifier reads as another label marked) are shown instead when a
        check of the suite gave them.
        """
        given = (from_validators or {}).get("text_samples")
        if isinstance(given, Mapping) and given.get("samples"):
            return {"text_samples": dict(given)}, []
        r, s = as_texts(real), as_texts(synthetic)
        notes: list[str] = []
        if r.labels is None:
            groups: list[tuple[str, np.ndarray, np.ndarray]] = [
                ("(all)", r.texts, s.texts)]
        else:
            labels = sorted(np.unique(r.labels).tolist(), key=str)
            if len(labels) > SAMPLE_LABELS:
                notes.append(f"Sample texts are shown for the first {SAMPLE_LABELS} of "
                             f"{len(labels)} labels.")
                labels = labels[:SAMPLE_LABELS]
            s_labels = s.labels if s.labels is not None else np.full(len(s), None)
            groups = [(str(lab), r.texts[r.labels.astype(str) == str(lab)],
                       s.texts[s_labels.astype(str) == str(lab)]) for lab in labels]
        samples = [{"label": label, "real": [cut_text(t) for t in rt[:SAMPLES_PER_LABEL]],
                    "synthetic": [cut_text(t) for t in st[:SAMPLES_PER_LABEL]]}
                   for label, rt, st in groups]
        return {"text_samples": {"title": "sample texts per label", "samples": samples}}, notes

    # -- files ---------------------------------------------------------------------------------
    def can_read(self, path: Path) -> bool:
        return is_text_path(path)

    def read(self, path: str | os.PathLike[str], **options: Any) -> Texts:
        unknown = set(options) - {"text_column", "label_column"}
        if unknown:
            raise InvalidParameterError(f"texts take the read options text_column and "
                                        f"label_column, not {sorted(unknown)}.")
        return read_texts(Path(path), **options)

    def write(self, data: Any, path: str | os.PathLike[str]) -> Path:
        return write_texts(as_texts(data), path)


def cut_text(text: str) -> str:
    """``text`` cut to the report's length, an ellipsis saying so."""
    return text if len(text) <= SAMPLE_CHARS else text[:SAMPLE_CHARS - 1] + "…"


def ngram_features(batches: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Hashed character n-gram features (module docstring) of each batch.

    Examples
    --------
    >>> import numpy as np
    >>> real = np.array(["a good film", "a bad film", "great acting", "dull plot"],
    ...                 dtype=object)
    >>> feats = ngram_features([real, real[:2]])
    >>> feats[0].shape, bool(np.array_equal(feats[0][:2], feats[1]))
    ((4, 128), True)
    """
    from sklearn.feature_extraction.text import HashingVectorizer
    from sklearn.random_projection import SparseRandomProjection

    hasher = HashingVectorizer(analyzer="char_wb", ngram_range=(2, 4), n_features=HASH_FEATURES,
                               alternate_sign=False, norm=None, dtype=np.float32)
    # the projection depends on the dimensions only, never on the data
    projection = SparseRandomProjection(n_components=COMPONENTS, dense_output=True,
                                        random_state=0).fit(
        np.zeros((1, HASH_FEATURES), dtype=np.float32))

    def embed(texts: np.ndarray) -> np.ndarray:
        counts = hasher.transform(texts)
        counts.data = np.log1p(counts.data)  # sublinear term frequency
        norms = np.sqrt(np.asarray(counts.multiply(counts).sum(axis=1)).ravel())
        counts = counts.multiply(1.0 / np.maximum(norms, 1e-12)[:, None]).tocsr()
        return np.asarray(projection.transform(counts), dtype=np.float32)

    keys = [content_keys([t.encode("utf-8") for t in b]) for b in batches]
    return embed_once(keys, lambda p, idx: batches[p][idx], embed)
