"""Memorisation of training texts: word-for-word copies and MiniLM near copies.

Both compare three samples: the training texts (``real``, what the generator saw), the
synthetic texts, and held-out real texts of the same source that it never saw (the holdout,
required).  Held-out texts say how much real text overlaps the training texts by chance (film
reviews share phrases; a corpus holds near-duplicates), so each rate comes beside the same
rate for them and the value is the **excess**: synthetic rate minus holdout rate, with a 95%
interval of the difference of two proportions.  0 means "copies no more than unseen real text
does"; a verbatim copy of the training texts scores about 1.

* ``privacy.ngram_copies``: a synthetic text is a *copy* when its longest run of words found
  word for word in some training text (its longest common n-gram with the training set, words
  as :func:`synthaug.validators._text.words` cuts them) covers at least ``min_share`` (0.8) of
  its words and is at least ``min_words`` (4) long, or is ``max_words`` (30) words long
  whatever its share (a long text that embeds a training paragraph).  Found with hashed n-gram
  sets of the training texts and a two-pointer sweep, linear in the words.
* ``privacy.near_copies_minilm``: a synthetic text is a *near copy* when the cosine
  similarity of its MiniLM embedding to the nearest training text's is at least ``threshold``
  (0.95: paraphrases that keep the wording, or one word changed; on Rotten Tomatoes 0 and 1
  of 1,000 held-out snippets have such a twin among 1,000 training snippets, and 51-53% of
  training snippets with one word replaced do).  Catches copies that change a word, which
  n-gram overlap misses when the change falls mid-text (it finds 33-35% of those).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from synthaug.data.features import nested_sample
from synthaug.data.text.container import Texts
from synthaug.exceptions import InsufficientDataError, InvalidDataError
from synthaug.utils.validation import check_fraction, check_int, check_positive_int
from synthaug.validators._common import nearest_neighbours, two_proportion_interval
from synthaug.validators._text import (
    TEXT,
    EmbeddingCheck,
    embedding_details,
    minilm_rows,
    text_inputs,
    words,
)
from synthaug.validators.base import BaseValidator, Score, register_validator

__all__ = ["NearCopiesMiniLM", "NgramCopies", "NgramIndex"]


def _require_holdout(validator: str, holdout: Any) -> None:
    if holdout is None:
        raise InvalidDataError(
            f"{validator} needs a holdout: real texts the generator never saw (command line: "
            "--holdout). How often they overlap the training texts is the yardstick.")


def _three(validator: str, real: Any, synthetic: Any, holdout: Any,
           context: Mapping[str, Any] | None) -> tuple[Texts, Texts, Texts]:
    _require_holdout(validator, holdout)
    r, s, h = text_inputs(validator, real, synthetic, holdout, context)
    if h is None or min(len(r), len(s), len(h)) < 2:
        raise InsufficientDataError(f"{validator} needs at least 2 training, synthetic and "
                                    "holdout texts.")
    return r, s, h


class NgramIndex:
    """Every word n-gram (n up to ``max_n``) of a set of texts, for longest-match queries.

    Examples
    --------
    >>> index = NgramIndex(["the film is warm and funny", "a dull plot"], max_n=8)
    >>> index.longest(["so", "the", "film", "is", "warm", "!"])
    (4, 1)
    """

    def __init__(self, texts: Sequence[str] | Sequence[list[str]], max_n: int) -> None:
        self.max_n = max_n
        self._ids: dict[str, int] = {}
        self._grams: list[set[int]] = [set() for _ in range(max_n + 1)]
        for text in texts:
            ids = self._encode(text if isinstance(text, list) else words(text), add=True)
            for n in range(1, min(max_n, len(ids)) + 1):
                grams = self._grams[n]
                for i in range(len(ids) - n + 1):
                    grams.add(hash(tuple(ids[i:i + n])))

    def _encode(self, tokens: list[str], *, add: bool) -> list[int]:
        if add:
            return [self._ids.setdefault(t, len(self._ids)) for t in tokens]
        return [self._ids.get(t, -1) for t in tokens]

    def longest(self, tokens: list[str]) -> tuple[int, int]:
        """``(length, start)`` of the longest run of ``tokens`` found in some indexed text.

        Two pointers: if the run ``[i, i + k)`` is found, so is every run inside it, so the
        best length only grows and each start is tried once for one more word.
        """
        ids = self._encode(tokens, add=False)
        best, start = 0, 0
        for i in range(len(ids)):
            while (best < self.max_n and i + best < len(ids)
                   and ids[i + best] >= 0
                   and hash(tuple(ids[i:i + best + 1])) in self._grams[best + 1]):
                best += 1
                start = i
        return best, start


@register_validator("privacy.ngram_copies")
class NgramCopies(BaseValidator):
    """Excess rate of synthetic texts copied word for word from training texts (module
    docstring); lower is safer.

    Parameters
    ----------
    min_share : float, default 0.8
        Share of a text's words its longest common n-gram with the training texts must cover
        for the text to count as a copy.
    min_words : int, default 4
        Shortest common run that counts (a two-word text shares its words with anything).
    max_words : int, default 30
        A common run this long is a copy whatever its share (and the longest searched).
    max_rows : int or None, default 5000
        Most texts of each set (nested samples fixed by ``random_state``).
    n_listed : int, default 10
        Copies listed in the details, the largest share first: look at them.
    random_state : int, default 0

    Notes
    -----
    Details: ``synthetic_rate``, ``holdout_rate``, ``median_share`` and
    ``holdout_median_share`` (the longest common run over the text's length),
    ``longest_run`` (the longest common run of any synthetic text, in words), ``listed``
    (``synthetic``: position in the given texts, ``run``: words, ``share``, ``text``),
    ``n_train``, ``n_synthetic``, ``n_holdout``.
    """

    category = "privacy"
    direction = "lower"
    modalities = TEXT

    def __init__(self, *, min_share: float = 0.8, min_words: int = 4, max_words: int = 30,
                 max_rows: int | None = 5_000, n_listed: int = 10,
                 random_state: int = 0) -> None:
        self.min_share = min_share
        self.min_words = min_words
        self.max_words = max_words
        self.max_rows = max_rows
        self.n_listed = n_listed
        self.random_state = random_state

    def _check_params(self) -> None:
        check_fraction(self.min_share, "min_share", open_low=True)
        check_positive_int(self.min_words, "min_words")
        check_int(self.max_words, "max_words", max(1, self.min_words) if isinstance(
            self.min_words, int) else 1, 512)
        check_int(self.max_rows, "max_rows", 2, allow_none=True)
        check_int(self.n_listed, "n_listed", 0)
        check_int(self.random_state, "random_state", 0)

    def score(self, real: Any, synthetic: Any, *, holdout: Any = None,
              context: Mapping[str, Any] | None = None) -> Score:
        self._check_params()
        r, s, h = _three(self.name, real, synthetic, holdout, context)
        pick = {name: nested_sample(len(t), self.max_rows, self.random_state)
                for name, t in (("r", r), ("s", s), ("h", h))}
        index = NgramIndex([str(t) for t in r.texts[pick["r"]]], self.max_words)

        def runs(texts: Texts, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            run = np.zeros(len(rows), dtype=np.int64)
            length = np.zeros(len(rows), dtype=np.int64)
            for j, i in enumerate(rows):
                tokens = words(str(texts.texts[i]))
                run[j], length[j] = index.longest(tokens)[0], len(tokens)
            return run, length

        def copies(run: np.ndarray, length: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            share = run / np.maximum(length, 1)
            is_copy = ((share >= self.min_share) & (run >= self.min_words)) | (
                run >= self.max_words)
            return is_copy, share

        run_s, len_s = runs(s, pick["s"])
        run_h, len_h = runs(h, pick["h"])
        copy_s, share_s = copies(run_s, len_s)
        copy_h, share_h = copies(run_h, len_h)
        p, q = float(copy_s.mean()), float(copy_h.mean())
        order = np.lexsort((-run_s, -share_s))[:self.n_listed]
        from synthaug.data.text.modality import cut_text

        listed = [{"synthetic": int(pick["s"][j]), "run": int(run_s[j]),
                   "share": float(share_s[j]), "text": cut_text(str(s.texts[pick["s"][j]]))}
                  for j in order if copy_s[j]]
        details = {"synthetic_rate": p, "holdout_rate": q,
                   "median_share": float(np.median(share_s)),
                   "holdout_median_share": float(np.median(share_h)),
                   "longest_run": int(run_s.max()), "listed": listed,
                   "min_share": float(self.min_share), "min_words": self.min_words,
                   "max_words": self.max_words, "n_train": len(pick["r"]),
                   "n_synthetic": len(pick["s"]), "n_holdout": len(pick["h"])}
        return self._score(p - q, interval=two_proportion_interval(p, len(copy_s), q,
                                                                   len(copy_h)),
                           details=details)


@register_validator("privacy.near_copies_minilm")
class NearCopiesMiniLM(EmbeddingCheck):
    """Excess rate of synthetic texts whose MiniLM embedding nearly equals a training text's
    (module docstring); lower is safer.

    Parameters
    ----------
    threshold : float, default 0.95
        Least cosine similarity to the nearest training text of a near copy.
    max_rows : int or None, default 2000
        Most texts of each set (nested samples fixed by ``random_state``).
    n_listed : int, default 10
        Near copies listed in the details, the most similar first.
    batch_size, device, random_state
        As for ``fidelity.frechet_minilm``.

    Notes
    -----
    Details: ``synthetic_rate``, ``holdout_rate``, ``threshold``, ``median_similarity`` and
    ``holdout_median_similarity`` (to the nearest training text), ``share_closer_to_train``
    (synthetic texts nearer a training text than any holdout text, reference sets of equal
    size: 0.5 = no signal), ``listed`` (``synthetic`` and ``train``: positions in the given
    texts; ``similarity``), ``n_train``, ``n_synthetic``, ``n_holdout``; ``features``.
    """

    category = "privacy"
    direction = "lower"

    def __init__(self, *, threshold: float = 0.95, max_rows: int | None = 2_000,
                 n_listed: int = 10, batch_size: int = 128, device: str = "auto",
                 random_state: int = 0) -> None:
        super().__init__(max_rows=max_rows, batch_size=batch_size, device=device,
                         random_state=random_state)
        self.threshold = threshold
        self.n_listed = n_listed

    def _check_params(self) -> None:
        super()._check_params()
        check_fraction(self.threshold, "threshold", open_low=True)
        check_int(self.n_listed, "n_listed", 0)

    def score(self, real: Any, synthetic: Any, *, holdout: Any = None,
              context: Mapping[str, Any] | None = None) -> Score:
        self._check_params()
        r, s, h = _three(self.name, real, synthetic, holdout, context)
        store, device = self._store(context, (real, synthetic, holdout))
        train_f, train_rows = minilm_rows(store, r, self.max_rows, self.random_state)
        synth_f, synth_rows = minilm_rows(store, s, self.max_rows, self.random_state)
        hold_f, _ = minilm_rows(store, h, self.max_rows, self.random_state)
        d_s, i_s = nearest_neighbours(synth_f, train_f, k=1, device=device)
        d_h, _ = nearest_neighbours(hold_f, train_f, k=1, device=device)
        # unit vectors: cosine = 1 - |a - b|^2 / 2
        sim_s, sim_h = 1.0 - d_s[:, 0] ** 2 / 2.0, 1.0 - d_h[:, 0] ** 2 / 2.0
        near_s, near_h = sim_s >= self.threshold, sim_h >= self.threshold
        p, q = float(near_s.mean()), float(near_h.mean())
        # the DCR share on these features, reference sets of equal size
        n_ref = min(len(train_f), len(hold_f))
        to_train = nearest_neighbours(synth_f, train_f[:n_ref], k=1, device=device)[0][:, 0]
        to_hold = nearest_neighbours(synth_f, hold_f[:n_ref], k=1, device=device)[0][:, 0]
        tie = np.isclose(to_train, to_hold, rtol=1e-6, atol=1e-9)
        share = float(((to_train < to_hold) & ~tie).mean() + 0.5 * tie.mean())
        order = np.argsort(-sim_s, kind="stable")[:self.n_listed]
        listed = [{"synthetic": int(synth_rows[j]), "train": int(train_rows[i_s[j, 0]]),
                   "similarity": float(sim_s[j])} for j in order if near_s[j]]
        details = {"synthetic_rate": p, "holdout_rate": q, "threshold": float(self.threshold),
                   "median_similarity": float(np.median(sim_s)),
                   "holdout_median_similarity": float(np.median(sim_h)),
                   "share_closer_to_train": share, "listed": listed,
                   "n_train": len(train_f), "n_synthetic": len(synth_f),
                   "n_holdout": len(hold_f), **embedding_details(store)}
        return self._score(p - q, interval=two_proportion_interval(p, len(near_s), q,
                                                                   len(near_h)),
                           details=details)
