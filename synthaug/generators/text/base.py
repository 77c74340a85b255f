"""Base of text generators: texts (and labels) in, texts in the same container out.

Subclasses implement ``_fit_texts(texts, rng)`` (a :class:`~synthaug.data.text.Texts` with
``texts``, an object array of strings, and ``labels``), ``_generate(n, classes, rng)``
returning ``n`` strings, and the model state hooks of
:class:`~synthaug.generators.base.BaseGenerator`.  Conditions, batching, the container given
back and the schema saved with the model are here.

**Screening** (shared by every text generator that declares the parameters; see
:mod:`synthaug.generators.text.screening`).  A generator with ``deduplicate=True`` re-draws a
draft that copies a training text (compared normalised: case-folded, whitespace collapsed) or
an earlier text of the same batch; with ``filter_confidence=p`` it re-draws a draft that a
classifier fitted on the real texts does not give its asked label with probability at least
``p``.  Every text is asked for a bounded number of times (``max_draws`` drafts per text on
average, the budget of the whole batch): when the budget runs out, the best remaining drafts
(not copies first, then by confidence) fill the batch, a :class:`SynthaugWarning` says how
many, and exact class counts hold either way.  Empty drafts are always re-drawn.  What
happened is in ``screening_report_`` (drafts drawn, kept, and why drafts were dropped, per
label), reset by each ``sample`` / ``sample_batches`` call.
"""

from __future__ import annotations

import math
import warnings
from abc import abstractmethod
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

import numpy as np
import torch

from synthaug.data.text.container import Texts, TextSchema, as_texts, container_kind, to_kind
from synthaug.exceptions import InvalidDataError, InvalidParameterError, SynthaugWarning
from synthaug.generators.conditional import ClassConditionalGenerator
from synthaug.generators.text.screening import LabelFilter, SeenTexts, normalise
from synthaug.utils.random import RandomState
from synthaug.utils.validation import check_bool, check_number

__all__ = ["TextGenerator"]

#: most drafts asked per missing text in one round (a round costs a whole decode)
_MAX_OVERDRAW = 8


class TextGenerator(ClassConditionalGenerator):
    """Base of text generators (see the module docstring)."""

    modality: ClassVar[str] = "text"
    batch_size_hint: ClassVar[int] = 8_192

    schema_: TextSchema

    # -- parameters of screening (a generator without them screens nothing) --------------------
    def _screen_params(self) -> tuple[bool, float | None, float]:
        return (bool(getattr(self, "deduplicate", False)),
                getattr(self, "filter_confidence", None),
                float(getattr(self, "max_draws", 10.0)))

    def _check_params(self) -> None:
        super()._check_params()
        if hasattr(self, "deduplicate"):
            check_bool(self.deduplicate, "deduplicate")
        if hasattr(self, "filter_confidence"):
            check_number(self.filter_confidence, "filter_confidence", minimum=0, maximum=1,
                         open_high=True, allow_none=True)
        if hasattr(self, "max_draws"):
            check_number(self.max_draws, "max_draws", minimum=1)

    # -- fit -----------------------------------------------------------------------------------
    def _fit(self, X: Any, y: Any, rng: np.random.Generator) -> None:
        texts = as_texts(X, y, what="X")
        if len(texts) < 2:
            raise InvalidDataError("X holds 1 text; a generator needs at least 2 to learn from.")
        kind, name = container_kind(X)
        self.schema_ = TextSchema.of(texts, kind, name)
        deduplicate, confidence, _ = self._screen_params()
        if confidence is not None and texts.labels is None:
            raise InvalidParameterError(
                "filter_confidence keeps texts a classifier assigns to their label, so it needs "
                "labels: fit(texts, y), or set filter_confidence=None.")
        self.seen_ = SeenTexts.of(list(texts.texts)) if deduplicate else None
        self.label_filter_ = None
        if confidence is not None and texts.labels is not None:
            classes = np.array([self.schema_.class_index(v) for v in texts.labels])
            if len(self.schema_.classes) < 2:
                raise InvalidParameterError(
                    "filter_confidence needs at least two classes to tell apart; the texts "
                    f"have one ({self.schema_.classes[0]!r}). Set filter_confidence=None.")
            self.label_filter_ = LabelFilter.fit(list(texts.texts), classes,
                                                 len(self.schema_.classes))
        self._fit_texts(texts, rng)

    # -- sample --------------------------------------------------------------------------------
    def sample(self, n: int, *, conditions: Mapping[str, Any] | None = None,
               random_state: RandomState = None) -> Any:
        self._reset_report()
        return super().sample(n, conditions=conditions, random_state=random_state)

    def sample_batches(self, n: int, *, batch_size: int | None = None,
                       conditions: Mapping[str, Any] | None = None,
                       random_state: RandomState = None) -> Iterator[Any]:
        self._reset_report()
        return super().sample_batches(n, batch_size=batch_size, conditions=conditions,
                                      random_state=random_state)

    def _reset_report(self) -> None:
        self.screening_report_: dict[str, Any] = {
            "drawn": 0, "kept": 0, "dropped_copy_of_training": 0, "dropped_repeat": 0,
            "dropped_below_confidence": 0, "dropped_empty": 0, "kept_below_confidence": 0,
            "kept_repeats": 0, "per_label": {}}

    def _sample_batch(self, n: int, fixed: int | None, rng: np.random.Generator) -> Texts:
        classes = self._classes_for(n, fixed, rng)
        texts = self._screened(n, classes, rng)
        return Texts(texts, self._label_values(classes))

    def _drafts(self, n: int, classes: np.ndarray | None, rng: np.random.Generator
                ) -> np.ndarray:
        made = self._generate(n, classes, rng)
        texts = np.empty(n, dtype=object)
        texts[:] = list(made)
        if len(made) != n or not all(isinstance(t, str) for t in texts):
            raise InvalidDataError(  # a bug in the subclass, said plainly
                f"{type(self).__name__}._generate must return {n} strings.")
        return texts

    def _screened(self, n: int, classes: np.ndarray | None, rng: np.random.Generator
                  ) -> np.ndarray:
        """``n`` texts of ``classes``, re-drawn within the budget (module docstring)."""
        deduplicate, confidence, max_draws = self._screen_params()
        seen = getattr(self, "seen_", None) if deduplicate else None
        label_filter = getattr(self, "label_filter_", None)
        if confidence is not None and label_filter is None and n:
            raise InvalidParameterError(
                "filter_confidence is set but this model was fitted without it, so it has no "
                "classifier of the real texts; fit again with filter_confidence set.")
        report = self.__dict__.get("screening_report_")
        if report is None:
            self._reset_report()
            report = self.screening_report_
        cls_of = np.zeros(n, dtype=np.int64) if classes is None else classes
        out = np.empty(n, dtype=object)
        if n == 0:
            return out
        pending = np.arange(n)
        taken: set[str] = set()  # normalised texts kept in this batch
        # rejected drafts per class as (rank, order, text): rank favours drafts that copy
        # nothing, then confidence, so a budget that runs out keeps the most acceptable ones
        fallback: dict[int, list[tuple[float, int, str]]] = {}
        budget = math.ceil(max_draws * n)
        drawn = 0
        rate = 1.0
        per_label: dict[str, list[int]] = {}
        while len(pending) and drawn < budget:
            per = min(_MAX_OVERDRAW, max(1, math.ceil(1.0 / rate)))
            # interleaved, so a budget cut keeps a draft for as many open texts as it can
            want = np.tile(pending, per)[: budget - drawn]
            drafts = self._drafts(len(want), None if classes is None else cls_of[want], rng)
            drawn += len(want)
            keep = np.array([bool(t.strip()) for t in drafts], dtype=bool)
            report["dropped_empty"] += int((~keep).sum())
            copy = (seen.contains(list(drafts)) if seen is not None
                    else np.zeros(len(want), dtype=bool))
            score = np.ones(len(want))
            if confidence is not None and label_filter is not None:
                probs = label_filter.proba([t if k else " " for t, k in zip(drafts, keep,
                                                                            strict=True)])
                score = probs[np.arange(len(want)), cls_of[want]]
            # accepted drafts fill the open texts of their class, in order
            open_by_class: dict[int, list[int]] = {}
            for pos in pending:
                open_by_class.setdefault(int(cls_of[pos]), []).append(int(pos))
            for j, pos in enumerate(want):
                c = int(cls_of[pos])
                tally = per_label.setdefault(self._label_name(c), [0, 0])
                tally[0] += 1
                slots = open_by_class[c]
                if not keep[j] or not slots:
                    continue  # empty, or a surplus draft of a class already full
                key = normalise(drafts[j])
                repeat = deduplicate and key in taken
                low = confidence is not None and score[j] < confidence
                if copy[j] or repeat or low:
                    report["dropped_copy_of_training"] += int(copy[j])
                    report["dropped_repeat"] += int(repeat and not copy[j])
                    report["dropped_below_confidence"] += int(low and not (copy[j] or repeat))
                    rank = (0.0 if copy[j] or repeat else 2.0) + float(score[j])
                    fallback.setdefault(c, []).append((rank, drawn + j, drafts[j]))
                    continue
                out[slots.pop(0)] = drafts[j]
                taken.add(key)
                tally[1] += 1
            still = np.array([out[p] is None for p in pending], dtype=bool)
            rate = max(float((~still).sum()) / len(want), 1e-3)
            pending = pending[still]
        if len(pending):
            self._fill_from_fallback(pending, out, fallback, report, per_label, cls_of)
        report["drawn"] += drawn
        report["kept"] += n
        for label, (d, k) in per_label.items():
            entry = report["per_label"].setdefault(label, {"drawn": 0, "kept": 0})
            entry["drawn"] += d
            entry["kept"] += k
        return out

    def _label_name(self, c: int) -> str:
        return str(self.schema_.classes[c]) if self.schema_.labelled else "(all)"

    def _fill_from_fallback(self, pending: np.ndarray, out: np.ndarray,
                            fallback: dict[int, list[tuple[float, int, str]]],
                            report: dict[str, Any], per_label: dict[str, list[int]],
                            cls_of: np.ndarray) -> None:
        """Fill the texts the budget left open with the best rejected drafts, and warn."""
        low = repeats = 0
        best = {c: sorted(drafts, key=lambda d: (-d[0], d[1])) for c, drafts in fallback.items()}
        for p in pending:
            c = int(cls_of[p])
            if not best.get(c):
                raise InvalidDataError(
                    f"{self.name or type(self).__name__} drew only empty texts for class "
                    f"{self._label_name(c)!r} within max_draws={self._screen_params()[2]:g} "
                    "drafts per text; the model is undertrained: fit it longer (more epochs) "
                    "or on more texts.")
            rank, _, text = best[c].pop(0)
            out[p] = text
            if rank < 2.0:
                repeats += 1
            else:
                low += 1
            per_label[self._label_name(c)][1] += 1
        report["kept_below_confidence"] += low
        report["kept_repeats"] += repeats
        warnings.warn(
            f"{self.name or type(self).__name__}: the drawing budget (max_draws="
            f"{self._screen_params()[2]:g} drafts per text) ran out with {len(pending)} texts "
            f"missing; kept the best rejected drafts instead: {repeats} copies of a training "
            f"text or repeats, {low} below filter_confidence. Raise max_draws, lower "
            "filter_confidence, or train longer; screening_report_ has the counts.",
            SynthaugWarning, stacklevel=5)

    # -- persistence of the screening state (subclasses call these from their state hooks) ----
    def _screening_state(self) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        state: dict[str, Any] = {}
        tensors: dict[str, torch.Tensor] = {}
        for name, part in (("seen", getattr(self, "seen_", None)),
                           ("filter", getattr(self, "label_filter_", None))):
            if part is not None:
                meta, arrays = part.state()
                state[name] = meta
                tensors |= {f"{name}.{k}": v for k, v in arrays.items()}
        return state, tensors

    def _set_screening_state(self, state: Mapping[str, Any],
                             tensors: Mapping[str, torch.Tensor]) -> None:
        def part(name: str) -> dict[str, torch.Tensor]:
            return {k[len(name) + 1:]: v for k, v in tensors.items()
                    if k.startswith(f"{name}.")}

        self.seen_ = (SeenTexts.from_state(state["seen"], part("seen"))
                      if "seen" in state else None)
        self.label_filter_ = (LabelFilter.from_state(state["filter"], part("filter"))
                              if "filter" in state else None)

    # -- containers ----------------------------------------------------------------------------
    def _join(self, batches: list[Any], rng: np.random.Generator) -> Texts:
        if not batches:
            return Texts(np.empty(0, dtype=object), self._label_values(
                np.zeros(0, dtype=np.int64)) if self.schema_.labelled else None)
        if len(batches) == 1:
            return batches[0]
        labels = None if batches[0].labels is None else np.concatenate(
            [b.labels for b in batches])
        return Texts(np.concatenate([b.texts for b in batches]), labels)

    def _output(self, batch: Texts) -> Any:
        kind = self.schema_.container
        texts = to_kind(batch, kind, self.schema_.series_name)
        return texts if batch.labels is None or kind == "texts" else (texts, batch.labels)

    @abstractmethod
    def _fit_texts(self, texts: Texts, rng: np.random.Generator) -> None:
        """Learn from ``texts``; ``schema_`` and ``device_`` are already set."""
