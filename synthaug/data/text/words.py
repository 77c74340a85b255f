"""Words of texts: the one word tokenizer of the word-level text checks and the text CNN.

:func:`words` cuts a text into lower-case runs of letters and digits and single punctuation
marks, so distinct-n, self-BLEU, lengths, n-gram copies and the recipes' text CNN all count
the same units.  :class:`Vocabulary` maps words to ids, fitted on real training texts only
(words it never saw are id 1, padding 0).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

import numpy as np

__all__ = ["PAD", "UNKNOWN", "Vocabulary", "words"]

_WORD = re.compile(r"\w+|[^\w\s]", re.UNICODE)
#: the ids of padding and of a word the vocabulary does not hold
PAD, UNKNOWN = 0, 1


def words(text: str) -> list[str]:
    """The word-level tokens of ``text`` (module docstring).

    Examples
    --------
    >>> words("A fine, FINE film!")
    ['a', 'fine', ',', 'fine', 'film', '!']
    """
    return _WORD.findall(text.lower())


class Vocabulary:
    """Word ids of the ``max_words`` most frequent words of some texts (ties: first seen).

    Examples
    --------
    >>> vocab = Vocabulary.fit(["a fine film", "a dull film"], max_words=10)
    >>> vocab.encode(["a new film"], max_length=4).tolist()
    [[2, 1, 3, 0]]
    """

    def __init__(self, index: dict[str, int]) -> None:
        self.index = index

    @classmethod
    def fit(cls, texts: Iterable[str], *, max_words: int = 20_000, min_count: int = 1
            ) -> Vocabulary:
        counts: Counter[str] = Counter()
        for text in texts:
            counts.update(words(text))
        kept = [w for w, c in counts.most_common(max_words) if c >= min_count]
        return cls({w: i + 2 for i, w in enumerate(kept)})

    def __len__(self) -> int:
        """Ids in use, padding and unknown included."""
        return len(self.index) + 2

    def encode(self, texts: Iterable[str], *, max_length: int) -> np.ndarray:
        """int64 ``(N, max_length)`` ids, cut after ``max_length`` words, padded with 0."""
        rows = []
        for text in texts:
            ids = [self.index.get(w, UNKNOWN) for w in words(text)[:max_length]]
            rows.append(ids + [PAD] * (max_length - len(ids)))
        return np.asarray(rows, dtype=np.int64).reshape(-1, max_length)
