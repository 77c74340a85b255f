"""Diversity of synthetic texts beside real text's: distinct-n, self-BLEU, length distribution.

A generator that repeats itself (mode collapse, a low temperature, a memorised favourite) can
score well on embedding distances; these word-level checks see it.  Each figure is compared
with the same figure on real text: the **reference** is the holdout when one is given (real
texts the generator never saw), else the real texts themselves, always subsampled to as many
texts as the synthetic side (distinct-n and self-BLEU depend on how many texts are pooled).
Words are :func:`synthaug.validators._text.words` (lower case; words and single punctuation
marks).

* ``fidelity.distinct_ngrams``: distinct-n (Li et al. 2016): unique n-grams over all n-grams
  of the pooled texts.  The value is the relative gap ``|synthetic / reference - 1|``: 0 for
  the same diversity as real text, 0.1 for 10% more or less.
* ``fidelity.self_bleu``: self-BLEU (Zhu et al. 2018, Texygen): the mean BLEU-4 of each text
  against all the other texts of its side as references (clipped n-gram precisions up to 4,
  uniform weights, the brevity penalty of the closest reference length, Chen & Cherry's
  smoothing 1 for empty orders, as NLTK's ``sentence_bleu`` with ``method1``).  Higher means
  more repetitive.  The value is the absolute gap from the reference's self-BLEU.
* ``fidelity.length_distance``: the Kolmogorov-Smirnov distance between the synthetic and the
  real texts' lengths in words (0 for the same distribution); with a holdout the details give
  the floor (the holdout's distance to the real texts).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from synthaug.data.features import nested_sample
from synthaug.exceptions import InsufficientDataError
from synthaug.utils.validation import check_int
from synthaug.validators._text import TEXT, text_inputs, words
from synthaug.validators.base import BaseValidator, Score, register_validator

__all__ = ["DistinctNgrams", "LengthDistance", "SelfBleu", "distinct_n", "self_bleu"]


def _ngrams(tokens: Sequence[str], n: int) -> list[tuple[str, ...]]:
    return [tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)]


def distinct_n(texts: Sequence[str], n: int) -> float:
    """Unique n-grams over all n-grams of ``texts`` pooled (0 when there are none).

    Examples
    --------
    >>> round(distinct_n(["a b a b", "a b"], 1), 3), distinct_n(["a b a b", "a b"], 2)
    (0.333, 0.5)
    """
    grams: Counter[tuple[str, ...]] = Counter()
    for text in texts:
        grams.update(_ngrams(words(text), n))
    total = sum(grams.values())
    return len(grams) / total if total else 0.0


def self_bleu(texts: Sequence[str], max_order: int = 4) -> float:
    """Mean BLEU of each text against all the others as references (module docstring).

    The references of text ``i`` are the other texts; an n-gram's clipped count is its count
    in ``i`` capped by its largest count in any other text, found from the two largest counts
    of each n-gram over all texts, so the whole is linear in the number of n-grams.

    Examples
    --------
    >>> self_bleu(["the film is fine", "the film is fine", "the film is fine"])
    1.0
    >>> self_bleu(["a b c d", "e f g h", "i j k l"]) < 0.05  # smoothing leaves 0.035
    True
    """
    tokenised = [words(t) for t in texts]
    if len(tokenised) < 2:
        raise InsufficientDataError("self-BLEU needs at least 2 texts.")
    counts = [[Counter(_ngrams(tokens, n)) for n in range(1, max_order + 1)]
              for tokens in tokenised]
    # the two largest counts of each n-gram over the texts, and which text holds the largest
    top: list[dict[tuple[str, ...], list[int]]] = [{} for _ in range(max_order)]
    for i, per_order in enumerate(counts):
        for order, grams in enumerate(per_order):
            table = top[order]
            for gram, c in grams.items():
                best = table.get(gram)
                if best is None:
                    table[gram] = [c, 0, i]
                elif c > best[0]:
                    table[gram] = [c, best[0], i]
                elif c > best[1]:
                    best[1] = c
    lengths = np.sort(np.array([len(t) for t in tokenised]))
    scores = []
    for i, (tokens, per_order) in enumerate(zip(tokenised, counts, strict=True)):
        c_len = len(tokens)
        if c_len == 0:
            scores.append(0.0)
            continue
        log_p = 0.0
        for order, grams in enumerate(per_order):
            total = max(0, c_len - order)
            matched = 0
            for gram, c in grams.items():
                first, second, holder = top[order][gram]
                matched += min(c, second if holder == i else first)
            # Chen & Cherry's smoothing 1: an empty order counts 0.1 matches
            p = (matched if matched > 0 else 0.1) / total if total > 0 else 0.1
            log_p += math.log(p) / max_order
        r_len = _closest_other_length(lengths, c_len)
        brevity = 1.0 if c_len > r_len else math.exp(1 - r_len / c_len)
        scores.append(brevity * math.exp(log_p))
    return float(np.mean(scores))


def _closest_other_length(sorted_lengths: np.ndarray, own: int) -> int:
    """The reference length closest to ``own`` (the shorter on a tie), one copy of ``own``
    removed from ``sorted_lengths``."""
    i = int(np.searchsorted(sorted_lengths, own))
    others = np.delete(sorted_lengths, i) if i < len(sorted_lengths) else sorted_lengths
    j = int(np.searchsorted(others, own))
    candidates = [int(others[k]) for k in (j - 1, j) if 0 <= k < len(others)]
    return min(candidates, key=lambda x: (abs(x - own), x))


class _DiversityCheck(BaseValidator):
    """Parameters, and the synthetic and reference samples of equal size."""

    category = "fidelity"
    direction = "lower"
    modalities = TEXT

    def __init__(self, *, max_rows: int | None = 2_000, random_state: int = 0) -> None:
        self.max_rows = max_rows
        self.random_state = random_state

    def _check_params(self) -> None:
        check_int(self.max_rows, "max_rows", 2, allow_none=True)
        check_int(self.random_state, "random_state", 0)

    def _samples(self, real: Any, synthetic: Any, holdout: Any,
                 context: Mapping[str, Any] | None) -> tuple[list[str], list[str], str]:
        self._check_params()
        r, s, h = text_inputs(self.name, real, synthetic, holdout, context)
        ref, kind = (h, "holdout") if h is not None and len(h) >= 2 else (r, "real")
        n = min(len(s), len(ref), self.max_rows or len(s))
        if n < 2:
            raise InsufficientDataError(f"{self.name} needs at least 2 synthetic and 2 "
                                        "reference texts.")
        pick_s = nested_sample(len(s), n, self.random_state)
        pick_r = nested_sample(len(ref), n, self.random_state)
        return ([str(t) for t in s.texts[pick_s]], [str(t) for t in ref.texts[pick_r]], kind)


@register_validator("fidelity.distinct_ngrams")
class DistinctNgrams(_DiversityCheck):
    """Relative gap of distinct-n between the synthetic texts and real text (0 = the same).

    Parameters
    ----------
    n : int, default 2
        The n-gram order (distinct-1: words, distinct-2: word pairs).
    max_rows : int or None, default 2000
        Most texts of each side; both sides are subsampled to the same number.
    random_state : int, default 0
        Seed of the subsamples.

    Notes
    -----
    Details: ``synthetic`` and ``reference`` (their distinct-n), ``ratio`` (synthetic over
    reference: below 1, more repetitive than real text), ``reference_kind`` ("holdout" or
    "real"), ``n``, ``n_texts``.

    Examples
    --------
    >>> from synthaug.data.text import Texts
    >>> real = Texts.of(["a fine film", "a dull film", "warm", "long and flat"])
    >>> DistinctNgrams(n=1).score(real, real).value
    0.0
    """

    def __init__(self, *, n: int = 2, max_rows: int | None = 2_000,
                 random_state: int = 0) -> None:
        super().__init__(max_rows=max_rows, random_state=random_state)
        self.n = n

    def _check_params(self) -> None:
        super()._check_params()
        check_int(self.n, "n", 1, 8)

    def score(self, real: Any, synthetic: Any, *, holdout: Any = None,
              context: Mapping[str, Any] | None = None) -> Score:
        synth, ref, kind = self._samples(real, synthetic, holdout, context)
        d_s, d_r = distinct_n(synth, self.n), distinct_n(ref, self.n)
        if d_r == 0:
            raise InsufficientDataError(f"{self.name}: the reference texts hold no "
                                        f"{self.n}-grams (texts shorter than {self.n} words).")
        ratio = d_s / d_r
        return self._score(abs(ratio - 1.0), details={
            "synthetic": d_s, "reference": d_r, "ratio": ratio, "reference_kind": kind,
            "n": self.n, "n_texts": len(synth)})


@register_validator("fidelity.self_bleu")
class SelfBleu(_DiversityCheck):
    """Absolute gap of self-BLEU between the synthetic texts and real text (0 = the same).

    Self-BLEU is quadratic in nothing (see :func:`self_bleu`), but each text is scored against
    the whole side, so ``max_rows`` (default 1000) caps the sides.

    Parameters
    ----------
    max_order : int, default 4
        Longest n-gram of the BLEU precisions.
    max_rows : int or None, default 1000
        Most texts of each side (the same number on both).
    random_state : int, default 0
        Seed of the subsamples.

    Notes
    -----
    Details: ``synthetic`` and ``reference`` (their self-BLEU), ``difference`` (synthetic -
    reference: positive, more repetitive than real text), ``reference_kind``, ``n_texts``.
    """

    def __init__(self, *, max_order: int = 4, max_rows: int | None = 1_000,
                 random_state: int = 0) -> None:
        super().__init__(max_rows=max_rows, random_state=random_state)
        self.max_order = max_order

    def _check_params(self) -> None:
        super()._check_params()
        check_int(self.max_order, "max_order", 1, 8)

    def score(self, real: Any, synthetic: Any, *, holdout: Any = None,
              context: Mapping[str, Any] | None = None) -> Score:
        synth, ref, kind = self._samples(real, synthetic, holdout, context)
        b_s, b_r = self_bleu(synth, self.max_order), self_bleu(ref, self.max_order)
        return self._score(abs(b_s - b_r), details={
            "synthetic": b_s, "reference": b_r, "difference": b_s - b_r,
            "reference_kind": kind, "max_order": self.max_order, "n_texts": len(synth)})


@register_validator("fidelity.length_distance")
class LengthDistance(BaseValidator):
    """Kolmogorov-Smirnov distance between synthetic and real text lengths, in words.

    0 for the same length distribution, 1 when every synthetic text is shorter (or longer)
    than every real one.  A generator that stops early or rambles shows here first.

    Notes
    -----
    Details: ``synthetic``, ``real`` (and ``holdout``) length quantiles (5%, 50%, 95%) and
    means; with a holdout ``floor``, the holdout's distance to the real texts.

    Examples
    --------
    >>> from synthaug.data.text import Texts
    >>> real = Texts.of(["a fine film", "a dull film here", "warm"])
    >>> LengthDistance().score(real, real).value
    0.0
    """

    category = "fidelity"
    direction = "lower"
    modalities = TEXT

    def score(self, real: Any, synthetic: Any, *, holdout: Any = None,
              context: Mapping[str, Any] | None = None) -> Score:
        from scipy.stats import ks_2samp

        r, s, h = text_inputs(self.name, real, synthetic, holdout, context)
        if not len(s) or not len(r):
            raise InsufficientDataError(f"{self.name} needs real and synthetic texts.")

        def lengths(texts: np.ndarray) -> np.ndarray:
            return np.array([len(words(str(t))) for t in texts], dtype=np.float64)

        def summary(x: np.ndarray) -> dict[str, float]:
            q5, q50, q95 = np.quantile(x, [0.05, 0.5, 0.95])
            return {"mean": float(x.mean()), "q05": float(q5), "median": float(q50),
                    "q95": float(q95)}

        lr, ls = lengths(r.texts), lengths(s.texts)
        value = float(ks_2samp(ls, lr).statistic)
        details: dict[str, Any] = {"synthetic": summary(ls), "real": summary(lr)}
        if h is not None and len(h):
            lh = lengths(h.texts)
            details.update({"holdout": summary(lh), "floor": float(ks_2samp(lh, lr).statistic)})
        return self._score(value, details=details)
