"""Categorical draws from logits, seeded by a generator."""

from __future__ import annotations

import pytest
import torch


def test_sample_categorical_follows_the_softmax() -> None:
    from synthaug.generators.nn import sample_categorical

    probs = torch.tensor([0.5, 0.0, 0.3, 0.15, 0.05])
    logits = torch.log(probs).expand(200_000, 5)
    picks = sample_categorical(logits, torch.Generator().manual_seed(0))
    freq = torch.bincount(picks, minlength=5).double() / len(picks)
    # 200,000 draws: a standard error below 0.0012 for every level
    torch.testing.assert_close(freq, probs.double(), rtol=0, atol=0.005)
    assert freq[1] == 0  # a level of probability zero is never drawn
    again = sample_categorical(logits, torch.Generator().manual_seed(0))
    assert torch.equal(picks, again)


def test_a_uniform_draw_of_exactly_zero_still_picks_a_level_of_positive_probability(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from synthaug.generators.nn import sampling

    # torch.rand returns exactly 0 about once in 2^24 draws; a transformer calibrating 4,096
    # rows x 15 columns twice met one, and its pick landed on another column's token
    monkeypatch.setattr(sampling.torch, "rand", lambda *args, **kwargs: torch.zeros(
        args[0], dtype=kwargs.get("dtype")))
    logits = torch.tensor([[-torch.inf, -torch.inf, 0.0, 1.0, -torch.inf]]).expand(3, 5)
    picks = sampling.sample_categorical(logits, torch.Generator().manual_seed(0))
    assert picks.tolist() == [2, 2, 2]
