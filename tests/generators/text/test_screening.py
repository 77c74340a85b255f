"""Screening in the text base: re-drawing copies, repeats, off-label and empty drafts within a
bounded budget, with exact class counts.  A scripted generator makes the drafts, so every
case is known in advance (the transformer's own tests run it end to end)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest
import torch

from synthaug.data.text import Texts
from synthaug.exceptions import InvalidDataError, InvalidParameterError, SynthaugWarning
from synthaug.generators.text import TextGenerator
from synthaug.generators.text.screening import LabelFilter, SeenTexts, normalise

TRAIN = ["a fine warm film", "great bold acting", "a dull flat mess", "boring weak plot"] * 5
LABELS = ["fresh", "fresh", "rotten", "rotten"] * 5


class ScriptedTextGenerator(TextGenerator):
    """Hands out the drafts of ``script[class]`` in turn (cycling), whatever was asked."""

    family = "scripted"

    def __init__(self, *, script: Mapping[str, list[str]] | None = None,
                 deduplicate: bool = True, filter_confidence: float | None = None,
                 max_draws: float = 10.0, random_state: Any = None, device: str = "cpu"
                 ) -> None:
        self.script = script
        self.deduplicate = deduplicate
        self.filter_confidence = filter_confidence
        self.max_draws = max_draws
        self.random_state = random_state
        self.device = device

    def _fit_texts(self, texts: Texts, rng: np.random.Generator) -> None:
        self.turn_: dict[int, int] = {}

    def _generate(self, n: int, classes: np.ndarray | None, rng: np.random.Generator
                  ) -> list[str]:
        script = dict(self.script or {})
        out = []
        for c in (classes if classes is not None else np.zeros(n, dtype=np.int64)):
            drafts = script[str(self.schema_.classes[c])]
            i = self.turn_.get(int(c), 0)
            self.turn_[int(c)] = i + 1
            out.append(drafts[i % len(drafts)])
        return out

    def _get_model_state(self) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        return self._screening_state()

    def _set_model_state(self, state: Mapping[str, Any], tensors: Mapping[str, torch.Tensor]
                         ) -> None:
        self._set_screening_state(state, tensors)
        self.turn_ = {}


def scripted(script: Mapping[str, list[str]], **params: Any) -> ScriptedTextGenerator:
    return ScriptedTextGenerator(script=script, **params).fit(TRAIN, LABELS)


def test_copies_and_repeats_are_drawn_again() -> None:
    gen = scripted({"rotten": ["A  DULL flat mess", "new one", "new one", "", "new two",
                               "new three"]})
    texts, labels = gen.sample(3, conditions={"label": "rotten"}, random_state=0)
    assert texts == ["new one", "new two", "new three"]
    assert (labels == "rotten").all()
    report = gen.screening_report_
    assert report["kept"] == 3 and report["drawn"] >= 6
    assert report["dropped_copy_of_training"] >= 1 and report["dropped_repeat"] >= 1
    assert report["dropped_empty"] >= 1
    assert report["per_label"]["rotten"]["kept"] == 3


def test_without_deduplicate_copies_are_kept() -> None:
    gen = scripted({"rotten": ["a dull flat mess"]}, deduplicate=False)
    texts, _ = gen.sample(2, conditions={"label": "rotten"}, random_state=0)
    assert texts == ["a dull flat mess"] * 2
    assert gen.seen_ is None  # nothing about the training texts is kept


def test_a_spent_budget_keeps_the_best_drafts_and_says_how_many() -> None:
    gen = scripted({"rotten": ["a dull flat mess", "only new"]}, max_draws=3)
    with pytest.warns(SynthaugWarning, match=r"budget .* ran out with 3 texts missing"):
        texts, _ = gen.sample(4, conditions={"label": "rotten"}, random_state=0)
    assert len(texts) == 4 and texts.count("only new") >= 1
    report = gen.screening_report_
    assert report["kept"] == 4 and report["drawn"] == 12  # 3 drafts per text, no more
    assert report["kept_repeats"] == 3


def test_only_empty_drafts_is_a_clear_error() -> None:
    gen = scripted({"rotten": ["  "]}, max_draws=2)
    with pytest.raises(InvalidDataError, match=r"only empty texts .* 'rotten'"):
        gen.sample(2, conditions={"label": "rotten"})


def test_the_filter_keeps_texts_of_the_asked_label_with_exact_counts() -> None:
    script = {"fresh": ["fine warm bold", "dull flat weak", "great fine acting"],
              "rotten": ["dull boring mess", "fine warm great", "flat weak plot"]}
    gen = scripted(script, filter_confidence=0.6, deduplicate=False)
    texts, labels = gen.sample(40, random_state=3)  # the training mix, screened per class
    assert len(texts) == 40
    counts = {c: int((labels == c).sum()) for c in ("fresh", "rotten")}
    assert sum(counts.values()) == 40
    probs = gen.label_filter_.proba(texts)
    asked = np.array([gen.schema_.class_index(c) for c in labels])
    assert (probs[np.arange(40), asked] >= 0.6).all()
    report = gen.screening_report_
    assert report["dropped_below_confidence"] > 0
    assert report["kept"] == 40 and report["drawn"] > 40
    # without the filter, the off-label drafts come through
    plain = scripted(script, filter_confidence=None, deduplicate=False)
    texts, _ = plain.sample(6, conditions={"label": "fresh"}, random_state=3)
    assert "dull flat weak" in texts


def test_filter_parameters_are_checked() -> None:
    with pytest.raises(InvalidParameterError, match="needs labels"):
        ScriptedTextGenerator(script={}, filter_confidence=0.5).fit(TRAIN)
    with pytest.raises(InvalidParameterError, match="two classes"):
        ScriptedTextGenerator(script={}, filter_confidence=0.5).fit(TRAIN, ["x"] * len(TRAIN))
    with pytest.raises(InvalidParameterError, match="filter_confidence"):
        ScriptedTextGenerator(script={}, filter_confidence=1.0).fit(TRAIN, LABELS)
    gen = scripted({"fresh": ["fine"]})
    gen.set_params(filter_confidence=0.5)  # fitted without the classifier
    with pytest.raises(InvalidParameterError, match="fit again"):
        gen.sample(2, conditions={"label": "fresh"})


def test_screening_state_round_trips_without_texts(tmp_path) -> None:
    gen = scripted({"rotten": ["a dull flat mess", "fresh draft"]}, filter_confidence=0.5)
    state, tensors = gen._screening_state()
    blob = repr(state).encode() + b"".join(t.numpy().tobytes() for t in tensors.values())
    assert not any(t.encode() in blob for t in TRAIN)
    twin = ScriptedTextGenerator(script=gen.script)
    twin._set_screening_state(state, tensors)
    assert twin.seen_.contains(TRAIN).all()
    np.testing.assert_allclose(twin.label_filter_.proba(TRAIN), gen.label_filter_.proba(TRAIN))


def test_seen_texts_are_salted_and_normalised() -> None:
    a, b = SeenTexts.of(TRAIN), SeenTexts.of(TRAIN)
    assert not np.array_equal(a.hashes, b.hashes)  # a fresh salt per fit
    assert a.contains(["A FINE   warm film", "a fine warm film!"]).tolist() == [True, False]
    assert normalise("  Two\tWords \n") == "two words"


def test_label_filter_more_than_two_classes() -> None:
    texts = ["red apple", "red cherry", "green leaf", "green grass", "blue sky", "blue sea"] * 4
    labels = np.array([0, 0, 1, 1, 2, 2] * 4)
    f = LabelFilter.fit(texts, labels, n_classes=3)
    p = f.proba(["red red", "green", "blue blue sky"])
    assert p.shape == (3, 3) and np.allclose(p.sum(axis=1), 1)
    assert p.argmax(axis=1).tolist() == [0, 1, 2]
