"""The validator contract, generated from the registry: every registered validator.

For each name in ``list_validators()``:

* it declares its ``category`` (its name's prefix), ``direction`` and ``modalities``, as the
  table below says (a new validator is added to the table, with its known answers);
* ``score`` returns a :class:`~synthaug.validators.base.Score` whose fields have the right types
  and whose ``to_dict()`` is strict JSON;
* known answers: a verbatim copy of the real data (synthetic == real) scores the validator's
  best value, or its no-signal value, for fidelity and bias, and is flagged by every privacy
  validator; an independent sample of the same distribution looks alike to fidelity and bias
  validators and shows no risk to privacy ones (each entry of the table says what "best" is);
* the same ``random_state`` gives the same score;
* data of a modality it does not accept is refused with a ``NotSupportedError`` naming both
  modalities; a feature-only validator (``modalities`` holds image and text) really runs, with
  the same known answers, on images and texts.

Every check gets what it needs: a holdout (real records the "generator" never saw), the target
and the sensitive columns through ``context``, and for the shadow-model attack a generator that
copies its training rows (:data:`tests.dummies.COPIER`), so a copy is what it models.
"""

from __future__ import annotations

import inspect
import json
import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from synthaug import registry
from synthaug.data.image import as_images
from synthaug.data.modality import PreparedCache, get_modality
from synthaug.data.text import as_texts
from synthaug.exceptions import MissingDependencyError, NotSupportedError
from synthaug.validators import get_validator, list_validators
from synthaug.validators.base import Score
from tests.dummies import COPIER, copier_registered
from tests.toydata import make_digits, make_reviews
from tests.validators.bias.helpers import people

FEATURES = frozenset({"tabular", "image", "text"})
TABLE = frozenset({"tabular"})
IMAGE = frozenset({"image"})
TEXT = frozenset({"text"})
#: what suites pass: the label column and the sensitive columns of the tables below
CONTEXT: dict[str, Any] = {"target": "y", "sensitive": ("sex", "group")}

Check = Callable[[Score], bool]


def equals(value: float) -> Check:
    return lambda s: s.value == value


def at_least(value: float) -> Check:
    return lambda s: s.value >= value


def at_most(value: float) -> Check:
    return lambda s: s.value <= value


def covers(value: float) -> Check:
    """No signal: the interval holds ``value`` (a chance AUC, no gap change)."""
    return lambda s: s.interval is not None and s.interval[0] <= value <= s.interval[1]


def near(value: float, tolerance: float) -> Check:
    return lambda s: abs(s.value - value) <= tolerance


def both(*checks: Check) -> Check:
    return lambda s: all(c(s) for c in checks)


def near_floor(factor: float) -> Check:
    """No more than ``factor`` times the floor the score reports (real vs holdout)."""
    return lambda s: s.details.get("floor") is not None and s.value <= factor * s.details["floor"]


def same_as_real() -> Check:
    """The score equals the same model trained on the real data (its ``real_accuracy``)."""
    return lambda s: s.value == s.details.get("real_accuracy")


@dataclass(frozen=True)
class Expect:
    """What a validator declares, and the known answers it must give."""

    category: str
    direction: str
    modalities: frozenset[str]
    #: what "best" means for it, or which way a verbatim copy must go
    best: str
    #: the score of a verbatim copy of the real data
    copy: Check
    #: the score of an independent sample of the real data's distribution
    fresh: Check
    #: parameters: small budgets, the CPU, and what the tables below need
    params: dict[str, Any] = field(default_factory=dict)
    #: the range any value lies in
    bounds: tuple[float, float] = (0.0, 1.0)


EXPECTED: dict[str, Expect] = {
    # -- fidelity: a copy is the best value (or detection's chance); a fresh sample is close --
    "fidelity.alpha_precision": Expect(
        "fidelity", "higher", FEATURES, "1: every synthetic record inside the real support",
        copy=at_least(0.99), fresh=at_least(0.85)),
    "fidelity.beta_recall": Expect(
        "fidelity", "higher", FEATURES, "1: the synthetic records cover the real support",
        copy=at_least(0.99), fresh=at_least(0.85), params={"device": "cpu"}),
    "fidelity.category_coverage": Expect(
        "fidelity", "higher", TABLE, "1: every real category appears",
        copy=equals(1.0), fresh=equals(1.0)),
    "fidelity.column_shapes": Expect(
        "fidelity", "higher", TABLE, "1: every column's distribution identical",
        copy=equals(1.0), fresh=at_least(0.9)),
    "fidelity.detection": Expect(
        "fidelity", "lower", FEATURES, "1/2 (no signal): a classifier cannot tell real from "
        "synthetic", copy=near(0.5, 0.05), fresh=near(0.5, 0.1),
        params={"n_bootstrap": 20, "n_threads": 1}),
    "fidelity.out_of_range": Expect(
        "fidelity", "lower", TABLE, "0: no value outside the real ranges and categories",
        copy=equals(0.0), fresh=at_most(0.05)),
    "fidelity.pair_trends": Expect(
        "fidelity", "higher", TABLE, "1: every pair's association identical",
        # quantile bins: with its own-range uniform bins (SDMetrics' default) one outlier of a
        # 400-row sample moves every bin, and a fresh sample scores about 1/2
        copy=equals(1.0), fresh=at_least(0.9), params={"binning": "quantile"}),
    "fidelity.validity": Expect(
        "fidelity", "higher", TABLE, "1: every expectation derived from the real data holds",
        copy=equals(1.0), fresh=at_least(0.95)),
    # -- bias: a copy changes no group's share, outcome or model gap; a fresh sample barely ---
    "bias.downstream_fairness": Expect(
        "bias", "lower", TABLE, "0: training on the synthetic data widens no fairness gap",
        copy=equals(0.0), fresh=covers(0.0),
        params={"n_bootstrap": 20, "n_threads": 1, "min_group_rows": 50}, bounds=(-1.0, 1.0)),
    "bias.group_representation": Expect(
        "bias", "lower", TABLE, "0: every group's share as in the real data",
        copy=equals(0.0), fresh=at_most(0.1)),
    "bias.outcome_parity": Expect(
        "bias", "lower", TABLE, "0: every group's outcome rate as in the real data",
        copy=equals(0.0), fresh=both(at_most(0.15), covers(0.0)),
        params={"min_group_rows": 50}),
    # -- privacy: a copy is flagged; a fresh sample shows no risk ---------------------------
    "privacy.attribute_inference": Expect(
        "privacy", "lower", TABLE, "0 (no risk); a copy gives the attacker every secret",
        copy=at_least(0.9), fresh=both(at_most(0.1), covers(0.0)), params={"device": "cpu"}),
    "privacy.dcr": Expect(
        "privacy", "lower", FEATURES, "1/2 (no risk): synthetic records as close to the holdout "
        "as to train; a copy sits on train", copy=at_least(0.9), fresh=covers(0.5),
        params={"device": "cpu"}),
    "privacy.exact_copies": Expect(
        "privacy", "lower", FEATURES, "0: no synthetic record copies a training record",
        copy=equals(1.0), fresh=equals(0.0)),
    "privacy.memorisation": Expect(
        "privacy", "lower", FEATURES, "0 (no risk): no synthetic record leans to train beyond "
        "chance; a copy is about 1 less two standard errors", copy=at_least(0.6),
        fresh=at_most(0.1), params={"device": "cpu"}),
    "privacy.mia_density": Expect(
        "privacy", "lower", FEATURES, "1/2 (no risk): membership AUC at chance",
        copy=at_least(0.6), fresh=covers(0.5), params={"n_threads": 1, "max_iter": 50}),
    "privacy.mia_distance": Expect(
        "privacy", "lower", FEATURES, "1/2 (no risk): membership AUC at chance",
        copy=at_least(0.9), fresh=covers(0.5), params={"device": "cpu"}),
    "privacy.mia_shadow": Expect(
        "privacy", "lower", TABLE, "1/2 (no risk): membership AUC at chance, for the generator "
        "modelled (here one that copies its rows)", copy=at_least(0.9), fresh=covers(0.5),
        params={"device": "cpu", "shadow_generator": COPIER}),
    "privacy.nndr": Expect(
        "privacy", "higher", FEATURES, "the holdout's ratio (no risk); a copy's nearest "
        "training record is itself: 0", copy=equals(0.0), fresh=at_least(0.05),
        params={"device": "cpu", "n_bootstrap": 20}),
    "privacy.singling_out": Expect(
        "privacy", "lower", TABLE, "0 (no risk); a copy lets predicates single training rows out",
        copy=at_least(0.3), fresh=both(at_most(0.1), covers(0.0)), params={"n_attacks": 200}),
    # -- images: EfficientNet-Lite0 features and the reference CNN (skipped without the
    # network's packages); 200 digits a set, so small budgets and few data-copying cells -----
    "fidelity.frechet_efficientnet_lite0": Expect(
        "fidelity", "lower", IMAGE, "0: identical feature statistics; a fresh sample sits at "
        "the floor (real vs holdout)", copy=at_most(1e-6), fresh=near_floor(1.5),
        params={"device": "cpu"}, bounds=(0.0, math.inf)),
    "fidelity.precision_efficientnet_lite0": Expect(
        "fidelity", "higher", IMAGE, "1: every synthetic image inside a real 5-NN ball",
        copy=equals(1.0), fresh=at_least(0.8), params={"device": "cpu"}),
    "fidelity.recall_efficientnet_lite0": Expect(
        "fidelity", "higher", IMAGE, "1: every real image inside a synthetic 5-NN ball",
        copy=equals(1.0), fresh=at_least(0.8), params={"device": "cpu"}),
    "fidelity.density_efficientnet_lite0": Expect(
        "fidelity", "higher", IMAGE, "1 for a fresh sample; a copy sits in at least its own "
        "ball", copy=at_least(1.0), fresh=near(1.0, 0.3), params={"device": "cpu"},
        bounds=(0.0, math.inf)),
    "fidelity.coverage_efficientnet_lite0": Expect(
        "fidelity", "higher", IMAGE, "1: every real 5-NN ball holds a synthetic image",
        copy=equals(1.0), fresh=at_least(0.9), params={"device": "cpu"}),
    "fidelity.label_consistency": Expect(
        "fidelity", "higher", IMAGE, "1: the real-trained CNN gives every image its class; a "
        "fresh sample about the CNN's holdout accuracy", copy=at_least(0.9),
        fresh=at_least(0.7), params={"device": "cpu", "steps": 100}),
    "privacy.data_copying_efficientnet_lite0": Expect(
        "privacy", "higher", IMAGE, "0 (no risk: a standard normal at most); a copy sits on "
        "the training images, far below", copy=at_most(-5.0), fresh=at_least(-3.0),
        params={"device": "cpu", "n_cells": 4}, bounds=(-math.inf, math.inf)),
    "privacy.near_copies_efficientnet_lite0": Expect(
        "privacy", "lower", IMAGE, "0 (no risk): no more near copies than holdout images; "
        "every image of a copy is one", copy=at_least(0.9), fresh=at_most(0.05),
        params={"device": "cpu"}, bounds=(-1.0, 1.0)),
    "utility.classification_accuracy_score": Expect(
        "utility", "higher", IMAGE, "the real-trained CNN's accuracy: a copy trains the same "
        "CNN", copy=same_as_real(), fresh=at_least(0.7),
        params={"device": "cpu", "steps": 100}),
    # -- texts: MiniLM sentence embeddings (skipped without the packaged model) and words; the
    # toy reviews draw 4-9 words from 8 per label, so real texts share many short runs --------
    "fidelity.frechet_minilm": Expect(
        "fidelity", "lower", TEXT, "0: identical feature statistics; a fresh sample sits at "
        "the floor (real vs holdout)", copy=at_most(1e-6), fresh=near_floor(1.5),
        params={"device": "cpu"}, bounds=(0.0, math.inf)),
    "fidelity.mauve_minilm": Expect(
        "fidelity", "higher", TEXT, "1: the same cluster histograms as the real texts",
        copy=equals(1.0), fresh=at_least(0.8), params={"device": "cpu", "min_rows": 100}),
    "fidelity.label_consistency_minilm": Expect(
        "fidelity", "higher", TEXT, "1: the real-text classifier gives every text its label; "
        "a fresh sample about its holdout accuracy", copy=at_least(0.9), fresh=at_least(0.8),
        params={"device": "cpu"}),
    "fidelity.distinct_ngrams": Expect(
        "fidelity", "lower", TEXT, "0: distinct-2 as in held-out real text",
        copy=at_most(0.1), fresh=at_most(0.1), bounds=(0.0, math.inf)),
    "fidelity.self_bleu": Expect(
        "fidelity", "lower", TEXT, "0: self-BLEU as in held-out real text",
        copy=at_most(0.05), fresh=at_most(0.05)),
    "fidelity.length_distance": Expect(
        "fidelity", "lower", TEXT, "0: the real texts' length distribution",
        copy=equals(0.0), fresh=at_most(0.15)),
    "privacy.ngram_copies": Expect(
        "privacy", "lower", TEXT, "0 (no risk): no more word-for-word copies than held-out "
        "texts; every text of a copy is one", copy=at_least(0.8), fresh=at_most(0.05),
        bounds=(-1.0, 1.0)),
    "privacy.near_copies_minilm": Expect(
        "privacy", "lower", TEXT, "0 (no risk): no more MiniLM near copies than held-out "
        "texts; every text of a copy is one", copy=at_least(0.5), fresh=at_most(0.05),
        params={"device": "cpu"}, bounds=(-1.0, 1.0)),
}

NAMES = list_validators()
MODALITIES = registry.modalities.names()


# -- the data of each modality: real, holdout and a fresh sample of one distribution ---------
@dataclass(frozen=True)
class Inputs:
    real: Any
    holdout: Any
    fresh: Any


def _tabular() -> Inputs:
    return Inputs(people(400, 0), people(400, 1), people(400, 2))


def _image() -> Inputs:
    pixels, labels = make_digits(1797)
    # shuffled first: the digits are stored by writer, so consecutive blocks differ
    order = np.random.default_rng(0).permutation(len(pixels))
    parts = [order[i:i + 200] for i in (0, 200, 400)]
    return Inputs(*(as_images(pixels[p], labels[p]) for p in parts))


def _text() -> Inputs:
    return Inputs(*(as_texts(*make_reviews(200, seed=s)) for s in (0, 1, 2)))


BUILDERS: dict[str, Callable[[], Inputs]] = {"tabular": _tabular, "image": _image,
                                             "text": _text}
_INPUTS: dict[str, Inputs] = {}


def inputs(modality: str) -> Inputs:
    if modality not in _INPUTS:
        _INPUTS[modality] = BUILDERS[modality]()
    return _INPUTS[modality]


@pytest.fixture(scope="module", autouse=True)
def _copier() -> Iterator[None]:
    # the shadow-model attack trains shadows of the generator it is told; it is told COPIER
    with copier_registered():
        yield


def make(name: str, **params: Any) -> Any:
    return get_validator(name, **{**EXPECTED[name].params, **params})


_SCORES: dict[tuple[str, str, str], Score] = {}
_PREPARED: dict[tuple[str, str], PreparedCache] = {}


def score(name: str, modality: str, synthetic: str) -> Score:
    """The score of ``synthetic`` ("copy" or "fresh") against the real data, once per run.

    As in a suite run, the validators share one prepared view of the inputs (a text embedding
    costs more than most checks); the determinism test scores without it and must agree.
    """
    key = (name, modality, synthetic)
    if key not in _SCORES:
        data = inputs(modality)
        other = data.real if synthetic == "copy" else data.fresh
        if (modality, synthetic) not in _PREPARED:
            _PREPARED[modality, synthetic] = PreparedCache(
                get_modality(modality), data.real, other, data.holdout)
        context = {**CONTEXT, "prepared": _PREPARED[modality, synthetic]}
        try:
            _SCORES[key] = make(name).score(data.real, other, holdout=data.holdout,
                                            context=context)
        except MissingDependencyError as exc:  # an optional network, not installed here
            pytest.skip(str(exc))
    return _SCORES[key]


def accepted(modality: str | None = None) -> list[Any]:
    """(name, modality) for every validator and every modality it accepts (or just ``modality``)."""
    return [pytest.param(n, m, id=f"{m}:{n}") for n in NAMES for m in MODALITIES
            if n in EXPECTED and m in EXPECTED[n].modalities and m in BUILDERS
            and (modality is None or m == modality)]


def refused() -> list[Any]:
    return [pytest.param(n, m, id=f"{m}:{n}") for n in NAMES for m in MODALITIES
            if n in EXPECTED and m not in EXPECTED[n].modalities and m in BUILDERS]


# -- declarations ------------------------------------------------------------------------------
def test_every_validator_has_its_expectations() -> None:
    assert sorted(EXPECTED) == NAMES, "add the new validator (and its known answers) to EXPECTED"
    assert set(MODALITIES) <= set(BUILDERS), "add contract inputs for the new modality"


@pytest.mark.parametrize("name", NAMES)
def test_declares_category_direction_and_modalities(name: str) -> None:
    cls = registry.validators.get(name)
    expect = EXPECTED[name]
    assert cls.name == name
    assert cls.category == expect.category == name.split(".", 1)[0]
    assert cls.direction == expect.direction
    assert cls.modalities == expect.modalities
    assert cls.modalities <= set(MODALITIES)
    validator = make(name)
    for modality in MODALITIES:
        assert validator.accepts_modality(modality) == (modality in cls.modalities)


@pytest.mark.parametrize("name", NAMES)
def test_init_takes_keyword_parameters_with_defaults(name: str) -> None:
    # suites build validators from dicts of parameters: every one must be a named keyword
    signature = inspect.signature(registry.validators.get(name))
    for parameter in signature.parameters.values():
        assert parameter.kind in (parameter.KEYWORD_ONLY, parameter.VAR_KEYWORD), parameter
        assert parameter.kind is parameter.VAR_KEYWORD or parameter.default is not parameter.empty
    get_validator(name)  # and the defaults make a validator


# -- scores ------------------------------------------------------------------------------------
def assert_well_formed(result: Score, name: str) -> None:
    cls = registry.validators.get(name)
    assert isinstance(result, Score)
    assert (result.validator, result.category, result.direction) == (
        name, cls.category, cls.direction)
    assert type(result.value) is float and math.isfinite(result.value)
    low, high = EXPECTED[name].bounds
    assert low <= result.value <= high, result.value
    if result.interval is not None:
        assert isinstance(result.interval, tuple) and len(result.interval) == 2
        assert all(type(v) is float and math.isfinite(v) for v in result.interval)
        assert result.interval[0] <= result.interval[1]
    assert isinstance(result.details, Mapping)
    json.dumps(result.to_dict(), allow_nan=False)  # reports are strict JSON


@pytest.mark.parametrize(("name", "modality"), accepted())
def test_score_is_well_formed(name: str, modality: str) -> None:
    for synthetic in ("copy", "fresh"):
        assert_well_formed(score(name, modality, synthetic), name)


@pytest.mark.parametrize(("name", "modality"), accepted())
def test_a_verbatim_copy_scores_the_known_answer(name: str, modality: str) -> None:
    result = score(name, modality, "copy")
    assert EXPECTED[name].copy(result), f"{name}: {result.value} ({EXPECTED[name].best})"


@pytest.mark.parametrize(("name", "modality"), accepted())
def test_an_independent_sample_scores_the_known_answer(name: str, modality: str) -> None:
    result = score(name, modality, "fresh")
    assert EXPECTED[name].fresh(result), (
        f"{name}: {result.value} {result.interval} ({EXPECTED[name].best})")


@pytest.mark.parametrize(("name", "modality"), [
    p for p in accepted() if EXPECTED[p.values[0]].category == "privacy"])
def test_a_copy_is_riskier_than_an_independent_sample(name: str, modality: str) -> None:
    copy, fresh = score(name, modality, "copy"), score(name, modality, "fresh")
    assert copy.value > fresh.value if copy.direction == "lower" else copy.value < fresh.value


@pytest.mark.parametrize(("name", "modality"), accepted("tabular"))
def test_same_random_state_same_score(name: str, modality: str) -> None:
    # scored again, by a new instance, on its own (no shared prepared view): the same score
    data = inputs(modality)
    seeded = "random_state" in inspect.signature(registry.validators.get(name)).parameters
    if seeded:  # the cached score used the default, which must be that seed
        assert inspect.signature(registry.validators.get(name)).parameters[
            "random_state"].default == 0
    again = make(name, **({"random_state": 0} if seeded else {})).score(
        data.real, data.fresh, holdout=data.holdout, context=CONTEXT)
    assert again.to_dict() == score(name, modality, "fresh").to_dict()


@pytest.mark.parametrize(("name", "modality"), refused())
def test_another_modality_is_refused_naming_both(name: str, modality: str) -> None:
    data = inputs(modality)
    with pytest.raises(NotSupportedError) as caught:
        make(name).score(data.real, data.fresh, holdout=data.holdout, context=CONTEXT)
    message = str(caught.value)
    assert f"not {modality} data" in message
    for accepted_modality in EXPECTED[name].modalities:
        assert accepted_modality in message


def test_feature_only_validators_are_the_ones_that_run_on_images_and_texts() -> None:
    runs = {n for n in NAMES if {"image", "text"} <= EXPECTED[n].modalities}
    assert runs == {n for n in NAMES if EXPECTED[n].modalities == FEATURES}
    assert {"fidelity.detection", "privacy.dcr", "privacy.exact_copies"} <= runs
    ran = {n for n, m in ((p.values[0], p.values[1]) for p in accepted())
           if m != "tabular" and EXPECTED[n].modalities == FEATURES}
    assert ran == runs, "every feature-only validator runs on images and texts above"


def test_the_known_answers_can_fail() -> None:
    # each check of the table rejects a score on the wrong side of its answer
    def fake(value: float) -> Score:
        return Score("x", "fidelity", "higher", value, (value, value))

    assert not equals(1.0)(fake(0.99)) and not at_least(0.9)(fake(0.89))
    assert not at_most(0.1)(fake(0.11)) and not near(0.5, 0.1)(fake(0.61))
    assert not covers(0.5)(fake(0.7)) and not covers(0.5)(Score("x", "f", "h", 0.5))
    assert not both(at_least(0.0), at_most(0.1))(fake(0.2))
    for name, expect in EXPECTED.items():
        worst, best = expect.bounds if expect.direction == "higher" else expect.bounds[::-1]
        # fidelity and bias: neither answer holds for the worst value; privacy: a copy is
        # never scored the safest value, and an independent sample never the riskiest
        assert not expect.copy(fake(best if expect.category == "privacy" else worst)), name
        assert not expect.fresh(fake(worst)), name
