"""text.transformer trained from scratch: real (tiny) fits on the CPU."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from synthaug import get_generator
from synthaug.data.text import Texts, write_texts
from synthaug.exceptions import InvalidDataError, InvalidParameterError, SynthaugWarning
from synthaug.generators.base import BaseGenerator
from synthaug.generators.text.screening import normalise
from tests.generators.helpers import FAST_PARAMS
from tests.toydata import make_reviews

TINY = {**FAST_PARAMS["text.transformer"], "device": "cpu", "progress": False}


def tiny(**params: object):  # type: ignore[no-untyped-def]
    return get_generator("text.transformer", **{**TINY, "random_state": 0, **params})


@pytest.fixture(scope="module")
def reviews() -> tuple[list[str], list[str]]:
    return make_reviews(120)


@pytest.fixture(scope="module")
def trained(reviews):  # type: ignore[no-untyped-def]
    # long enough to learn the two vocabularies: the label prefix must steer the words
    return tiny(epochs=40, d_model=64, n_layers=2, learning_rate=3e-3, vocab_size=400
                ).fit(*reviews)


def test_the_label_prefix_steers_the_words(trained, reviews) -> None:  # type: ignore[no-untyped-def]
    words = {"fresh": {"fine", "warm", "moving", "smart", "funny", "great", "bold", "tender"},
             "rotten": {"dull", "flat", "tedious", "weak", "long", "messy", "boring", "thin"}}
    for label, own in words.items():
        texts, labels = trained.sample(40, conditions={"label": label}, random_state=0)
        assert (labels == label).all() and len(texts) == 40
        found = [w for t in texts for w in t.split() if w in words["fresh"] | words["rotten"]]
        assert len(found) > 40, "the model learned the words"
        assert sum(w in own for w in found) > 0.9 * len(found), (label, texts[:5])
    # no copy of a training text, no repeat within the batch
    texts, _ = trained.sample(200, random_state=1)
    train = {normalise(t) for t in reviews[0]}
    assert not {normalise(t) for t in texts} & train
    assert len({normalise(t) for t in texts}) == 200


def test_exact_class_counts_and_repeatable_draws(trained) -> None:  # type: ignore[no-untyped-def]
    a = trained.sample(30, conditions={"label": "rotten"}, random_state=4)
    b = trained.sample(30, conditions={"label": "rotten"}, random_state=4)
    assert a[0] == b[0] and (a[1] == "rotten").all() and len(a[0]) == 30
    assert a[0] != trained.sample(30, conditions={"label": "rotten"}, random_state=5)[0]


def test_save_load_round_trip_and_folder(trained, reviews, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = trained.save(tmp_path / "model")
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["manifest.json", "state.json", "weights.safetensors"]
    state = json.loads((folder / "state.json").read_text())
    tokenizer = json.loads(state["model"]["extra"]["codec"]["tokenizer"])
    assert tokenizer["model"]["type"] == "BPE"  # the tokenizer is JSON in the state
    blob = b"".join(p.read_bytes() for p in folder.iterdir())
    assert not any(t.encode() in blob for t in reviews[0])
    loaded = BaseGenerator.load(folder, device="cpu")
    for cond in (None, {"label": "fresh"}):
        assert loaded.sample(25, conditions=cond, random_state=9)[0] == trained.sample(
            25, conditions=cond, random_state=9)[0]
    # de-duplication still works after load: it holds the salted hashes
    assert loaded.seen_.contains(reviews[0]).all()


def test_filter_keeps_confident_texts_and_reports(reviews) -> None:  # type: ignore[no-untyped-def]
    gen = tiny(epochs=40, d_model=64, n_layers=2, learning_rate=3e-3, vocab_size=400,
               filter_confidence=0.7).fit(*reviews)
    texts, labels = gen.sample(30, conditions={"label": "fresh"}, random_state=0)
    assert len(texts) == 30 and (labels == "fresh").all()
    probs = gen.label_filter_.proba(texts)[:, gen.schema_.class_index("fresh")]
    report = gen.screening_report_
    assert report["kept"] == 30 and report["drawn"] >= 30
    assert (probs >= 0.7).sum() == 30 - report["kept_below_confidence"]


def test_containers_and_files(reviews, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    texts, labels = reviews
    series = pd.Series(texts, name="review")
    out, y = tiny().fit(series, pd.Series(labels, name="sentiment")).sample(4, random_state=0)
    assert isinstance(out, pd.Series) and out.name == "review" and len(y) == 4
    for suffix in (".jsonl", ".csv"):
        path = write_texts(Texts.of(texts, labels), tmp_path / f"reviews{suffix}")
        batch = tiny().fit(path).sample(5, conditions={"label": "fresh"}, random_state=0)
        assert isinstance(batch, Texts) and (batch.labels == "fresh").all()
    plain = tiny().fit(texts).sample(3, random_state=0)
    assert isinstance(plain, list) and len(plain) == 3


def test_bad_inputs_are_clear_errors(reviews, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    texts, labels = reviews
    with pytest.raises(InvalidDataError, match="empty"):
        tiny().fit([*texts[:5], ""], labels[:6])
    with pytest.raises(InvalidDataError, match="not valid Unicode"):
        tiny().fit([*texts[:5], "bad \ud800 text"], labels[:6])
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b'{"text": "fine", "label": "a"}\n{"text": "\xff\xfe", "label": "b"}\n')
    with pytest.raises(InvalidDataError, match="UTF-8"):
        tiny().fit(bad)
    gen = tiny().fit(texts, labels)
    with pytest.raises(InvalidParameterError, match="never seen"):
        gen.sample(2, conditions={"label": "lukewarm"})
    with pytest.raises(InvalidParameterError, match="n_heads"):
        tiny(n_heads=5).fit(texts, labels)
    with pytest.raises(InvalidParameterError, match="vocab_size"):
        tiny(vocab_size=100).fit(texts, labels)


def test_very_long_documents_are_cut_and_counted(reviews) -> None:  # type: ignore[no-untyped-def]
    texts, labels = reviews
    long = ["x" * 200_000, "word " * 50_000]  # one without spaces, one of many words
    with pytest.warns(SynthaugWarning, match="2 of 122 training texts are longer"):
        gen = tiny(epochs=1).fit([*texts, *long], [*labels, "fresh", "rotten"])
    assert gen.n_truncated_ == 2
    out, _ = gen.sample(5, random_state=0)
    assert all(t.strip() for t in out)


def test_unicode_texts_round_trip_through_the_tokenizer() -> None:
    texts = ["Ein schöner Film 🎬", "très ennuyeux…", "映画はつまらない", "great fun!"] * 10
    gen = tiny(epochs=1).fit(texts, ["a", "b", "b", "a"] * 10)
    ids = gen.tokenizer_.encode(texts[:4], 48)
    assert gen.tokenizer_.decode(ids) == texts[:4]
    out, _ = gen.sample(8, random_state=0)
    assert all(isinstance(t, str) and t.strip() for t in out)
    # the same texts give the same tokenizer (a fit is repeatable)
    again = tiny(epochs=1).fit(texts, ["a", "b", "b", "a"] * 10)
    assert again.tokenizer_.to_str() == gen.tokenizer_.to_str()


def test_sampling_settings(trained) -> None:  # type: ignore[no-untyped-def]
    greedy = copy.deepcopy(trained).set_params(top_p=1e-6, deduplicate=False)
    texts, _ = greedy.sample(5, conditions={"label": "fresh"}, random_state=0)
    assert len(set(texts)) == 1  # the nucleus of one token: the same text every time
    lengths = np.array([len(trained.tokenizer_.encode([t], 48)[0])
                        for t in trained.sample(20, random_state=0)[0]])
    assert lengths.max() <= 48


def test_augment_filters_texts_and_reports_the_screening(reviews) -> None:  # type: ignore[no-untyped-def]
    from synthaug import augment

    texts, labels = reviews
    params = {**TINY, "epochs": 40, "d_model": 64, "n_layers": 2, "learning_rate": 3e-3,
              "vocab_size": 400}
    (out, _), report = augment(texts, labels, generator="text.transformer",
                               generator_params=params, balance=True, filter=0.6,
                               suite=None, random_state=0)
    assert len(out) == len(texts) + report.n_synthetic and report.n_synthetic > 0
    assert report.screening is not None and report.screening["kept"] == report.n_synthetic
    assert report.screening["drawn"] >= report.screening["kept"]
    assert "screening: kept" in str(report)
    assert {"fresh", "rotten"} >= set(report.screening["per_label"])


def test_augment_refuses_a_filter_for_generators_without_one(mixed_frame) -> None:  # type: ignore[no-untyped-def]
    from synthaug import augment

    with pytest.raises(InvalidParameterError, match="no such filter"):
        augment(mixed_frame, n=5, filter=0.5, suite=None)


def test_vae_is_label_conditional_and_round_trips(reviews, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    words = {"fresh": {"fine", "warm", "moving", "smart", "funny", "great", "bold", "tender"},
             "rotten": {"dull", "flat", "tedious", "weak", "long", "messy", "boring", "thin"}}
    gen = get_generator("text.vae", epochs=40, batch_size=32, vocab_size=400, max_length=48,
                        d_embed=64, d_hidden=128, device="cpu", random_state=0,
                        progress=False).fit(*reviews)
    assert gen.history_.losses[-1]["loss"] < gen.history_.losses[0]["loss"]
    for label, own in words.items():
        texts, labels = gen.sample(30, conditions={"label": label}, random_state=0)
        assert (labels == label).all()
        found = [w for t in texts for w in t.split() if w in words["fresh"] | words["rotten"]]
        assert len(found) > 30 and sum(w in own for w in found) > 0.9 * len(found)
    loaded = BaseGenerator.load(gen.save(tmp_path / "vae"), device="cpu")
    assert loaded.sample(10, random_state=3)[0] == gen.sample(10, random_state=3)[0]


def test_latent_gan_is_label_conditional_and_round_trips(reviews, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    gen = get_generator("text.gan", epochs=40, gan_epochs=20, batch_size=32, vocab_size=400,
                        max_length=48, d_embed=64, d_hidden=128, gan_hidden=64,
                        device="cpu", random_state=0, progress=False).fit(*reviews)
    assert gen.gan_history_.epochs_run == 20
    rotten = {"dull", "flat", "tedious", "weak", "long", "messy", "boring", "thin"}
    texts, _ = gen.sample(30, conditions={"label": "rotten"}, random_state=0)
    words = [w for t in texts for w in t.split() if w.isalpha() and w != "n"]
    assert sum(w in rotten for w in words) > 0.8 * len(words)
    loaded = BaseGenerator.load(gen.save(tmp_path / "gan"), device="cpu")
    assert loaded.sample(10, random_state=3)[0] == gen.sample(10, random_state=3)[0]
