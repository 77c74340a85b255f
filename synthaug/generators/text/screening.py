"""What every text generator checks its drafts against: training copies and a label classifier.

Two pieces, both fitted on the training texts and both saved without them:

* :class:`SeenTexts`: salted 64-bit BLAKE2b hashes of the training texts, normalised
  (case-folded, whitespace collapsed).  A draft whose hash is among them is a copy of a
  training text and is drawn again.  The salt is random per fit (not from ``random_state``: it
  changes no sample), so the hashes of two models of the same data differ and cannot be
  matched against a public list of hashes.  They still answer "was this exact text in the
  training set?" for anyone who holds the model folder and a candidate text; that is the
  price of de-duplicating after ``load``.  Fit with ``deduplicate=False`` to keep no hashes.
* :class:`LabelFilter`: a logistic regression on hashed word 1-2-gram and character 2-4-gram
  counts (sublinear, L2-normalised; scikit-learn's ``HashingVectorizer``, so nothing about the
  vocabulary is stored, only one weight per hash slot and class).  It scores how surely a
  draft reads as the label it was asked for; LAMBADA (Anaby-Tavor et al., 2020) and Kumar et
  al. (2020) keep only drafts a classifier trained on the real texts assigns to their label.
  Trained on 400 Rotten Tomatoes snippets (200 per class, seed 0) it scores 0.61 accuracy on
  2,000 held-out ones (C = 1: 0.60, C = 100: 0.62), and the texts it gives 0.7 or more (37 %
  of them) are 0.72 right: a filter on wording, not an oracle.  Logistic regression on the
  packaged MiniLM sentence embeddings scores 0.71 on the same split, but embeds only about 40
  texts/s on the 2-core CPU, slower than the generator samples, so it is not the default.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from synthaug.exceptions import ModelFormatError

__all__ = ["LabelFilter", "SeenTexts", "normalise"]

#: hash slots per analyzer of the filter (2 x 2^17 float32 weights per class: 1 MiB)
FILTER_FEATURES = 2**17
#: inverse regularisation of the filter's logistic regression (L2-normalised rows need a weak
#: penalty; C = 1 underfit 400 Rotten Tomatoes snippets by 4 points)
FILTER_C = 10.0


def normalise(text: str) -> str:
    """The form duplicates are compared in: case-folded, runs of whitespace as one space."""
    return " ".join(text.casefold().split())


class SeenTexts:
    """Salted hashes of normalised texts: membership without keeping the texts.

    Examples
    --------
    >>> seen = SeenTexts.of(["A fine film", "dull"])
    >>> seen.contains(["a  FINE film", "fine"]).tolist()
    [True, False]
    """

    def __init__(self, salt: bytes, hashes: np.ndarray) -> None:
        self.salt = salt
        self.hashes = np.unique(np.asarray(hashes, dtype=np.int64))

    @classmethod
    def of(cls, texts: Sequence[str]) -> SeenTexts:
        salt = secrets.token_bytes(16)
        return cls(salt, _hash(texts, salt))

    def keys(self, texts: Sequence[str]) -> np.ndarray:
        """The salted hash of each text (equal normalised texts, equal keys)."""
        return _hash(texts, self.salt)

    def contains(self, texts: Sequence[str]) -> np.ndarray:
        return np.isin(self.keys(texts), self.hashes)

    def state(self) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        return {"salt": self.salt.hex()}, {"hashes": torch.from_numpy(self.hashes.copy())}

    @classmethod
    def from_state(cls, state: Mapping[str, Any], tensors: Mapping[str, torch.Tensor]
                   ) -> SeenTexts:
        return cls(bytes.fromhex(str(state["salt"])), tensors["hashes"].cpu().numpy())


def _hash(texts: Sequence[str], salt: bytes) -> np.ndarray:
    out = np.empty(len(texts), dtype=np.int64)
    for i, text in enumerate(texts):
        digest = hashlib.blake2b(normalise(text).encode("utf-8"), digest_size=8, salt=salt)
        out[i] = int.from_bytes(digest.digest(), "little", signed=True)
    return out


class LabelFilter:
    """Probability of each class for a text, from a linear model on hashed n-gram counts.

    Fitted on the real texts with :meth:`fit`; :meth:`proba` scores drafts.  Saved as its
    weights only (see the module docstring).

    Examples
    --------
    >>> texts = ["good fine great", "great good film", "bad dull film", "dull bad plot"] * 5
    >>> labels = np.array([0, 0, 1, 1] * 5)
    >>> f = LabelFilter.fit(texts, labels, n_classes=2)
    >>> f.proba(["a good great film", "so dull and bad"]).argmax(axis=1).tolist()
    [0, 1]
    """

    def __init__(self, coef: np.ndarray, intercept: np.ndarray, n_classes: int) -> None:
        self.coef = np.asarray(coef, dtype=np.float32)
        self.intercept = np.asarray(intercept, dtype=np.float32)
        self.n_classes = int(n_classes)
        if self.coef.shape != (self._rows(), 2 * FILTER_FEATURES) or self.intercept.shape != (
            self._rows(),
        ):
            raise ModelFormatError(
                f"the label filter's weights have shape {self.coef.shape} / "
                f"{self.intercept.shape}, not {(self._rows(), 2 * FILTER_FEATURES)}.")

    def _rows(self) -> int:
        return 1 if self.n_classes == 2 else self.n_classes

    @classmethod
    def fit(cls, texts: Sequence[str], labels: np.ndarray, n_classes: int) -> LabelFilter:
        """Fit on ``texts`` with class indices ``labels`` (``0 .. n_classes - 1``)."""
        from sklearn.linear_model import LogisticRegression

        labels = np.asarray(labels, dtype=np.int64)
        present = np.unique(labels)
        model = LogisticRegression(C=FILTER_C, max_iter=1000)
        model.fit(_features(texts), labels)
        coef, intercept = model.coef_, model.intercept_
        if n_classes > 2 and len(present) < n_classes:  # cannot happen for fitted labels
            raise ModelFormatError("every class needs a training text for the label filter.")
        return cls(coef, intercept, n_classes)

    def proba(self, texts: Sequence[str]) -> np.ndarray:
        """``(len(texts), n_classes)`` class probabilities."""
        scores = np.asarray(_features(texts) @ self.coef.T, dtype=np.float64) + self.intercept
        if self.n_classes == 2:
            p1 = 1.0 / (1.0 + np.exp(-scores[:, 0]))
            return np.stack([1.0 - p1, p1], axis=1)
        scores -= scores.max(axis=1, keepdims=True)
        e = np.exp(scores)
        return np.asarray(e / e.sum(axis=1, keepdims=True))

    def state(self) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        return ({"n_classes": self.n_classes, "features": FILTER_FEATURES},
                {"coef": torch.from_numpy(self.coef.copy()),
                 "intercept": torch.from_numpy(self.intercept.copy())})

    @classmethod
    def from_state(cls, state: Mapping[str, Any], tensors: Mapping[str, torch.Tensor]
                   ) -> LabelFilter:
        if int(state.get("features", -1)) != FILTER_FEATURES:
            raise ModelFormatError(f"the label filter was saved with {state.get('features')} "
                                   f"hash slots; this synthaug uses {FILTER_FEATURES}.")
        return cls(tensors["coef"].cpu().numpy(), tensors["intercept"].cpu().numpy(),
                   int(state["n_classes"]))


def _features(texts: Sequence[str]) -> Any:
    """Hashed word 1-2-grams and character 2-4-grams, log-scaled, each block L2-normalised."""
    import scipy.sparse as sp
    from sklearn.feature_extraction.text import HashingVectorizer

    blocks = []
    for analyzer, ngrams in (("word", (1, 2)), ("char_wb", (2, 4))):
        hasher = HashingVectorizer(analyzer=analyzer, ngram_range=ngrams,
                                   n_features=FILTER_FEATURES, alternate_sign=False,
                                   norm=None, dtype=np.float32)
        counts = hasher.transform(list(texts))
        counts.data = np.log1p(counts.data)
        norms = np.sqrt(np.asarray(counts.multiply(counts).sum(axis=1)).ravel())
        blocks.append(sp.diags(1.0 / np.maximum(norms, 1e-12)) @ counts)
    return sp.hstack(blocks, format="csr")
