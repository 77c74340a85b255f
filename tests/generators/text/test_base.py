"""Text generators (``generators.text.base``), through the tiny registered text generator:
texts in, texts out, in the container given, with exact labels."""

from __future__ import annotations

import pandas as pd
import pytest

from synthaug import get_generator
from synthaug.data.text import Texts
from synthaug.exceptions import InvalidDataError
from synthaug.generators.base import BaseGenerator
from tests.dummies import TEXT_DUMMY


def _texts() -> tuple[list[str], list[str]]:
    texts = ["a fine warm film", "great acting", "a dull mess", "boring and long"] * 10
    return texts, ["fresh", "fresh", "rotten", "rotten"] * 10


def test_texts_in_texts_out(tmp_path) -> None:
    texts, labels = _texts()
    gen = get_generator(TEXT_DUMMY, random_state=0).fit(pd.Series(texts, name="review"), labels)
    out, out_labels = gen.sample(6, conditions={"label": "rotten"}, random_state=0)
    assert isinstance(out, pd.Series) and out.name == "review" and len(out) == 6
    assert (out_labels == "rotten").all()
    vocab_rotten = {w for t, lab in zip(texts, labels, strict=True) if lab == "rotten"
                    for w in t.split()}
    words = [w for t in out for w in t.split()]
    assert sum(w in vocab_rotten for w in words) > 0.6 * len(words)
    gen.save(tmp_path / "t")
    again, _ = BaseGenerator.load(tmp_path / "t", device="cpu").sample(
        6, conditions={"label": "rotten"}, random_state=0)
    assert again.tolist() == out.tolist()
    plain = get_generator(TEXT_DUMMY, random_state=0).fit(texts).sample(3, random_state=0)
    assert isinstance(plain, list) and all(isinstance(t, str) for t in plain)
    boxed = get_generator(TEXT_DUMMY, random_state=0).fit(Texts.of(texts, labels)).sample(2)
    assert isinstance(boxed, Texts) and len(boxed) == 2


def test_text_inputs_are_checked() -> None:
    with pytest.raises(InvalidDataError, match="empty"):
        get_generator(TEXT_DUMMY).fit(["fine", " "])
