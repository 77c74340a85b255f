"""The image validators: their computations, their shared inputs, the image suites' gates.

EfficientNet-Lite0 is slow on a CPU (about 25 images a second), so these tests put a cheap
stand-in extractor (the shrunk pixels) behind the validators' feature store; the network itself
is tested on a handful of images in test_image_embedding.py.  What is tested here does not
depend on which features are compared: the formulas, the gates' verdicts on copies and on
fresh samples, the sharing of one embedding and one CNN per suite run, and the errors.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import scipy.linalg

from synthaug.data.image import Images, pixel_features
from synthaug.data.image import embedding as embedding_module
from synthaug.data.modality import PreparedCache, get_modality
from synthaug.data.sources import read_source
from synthaug.exceptions import InvalidDataError, InvalidParameterError, NotSupportedError
from synthaug.validators import get_validator, list_validators
from synthaug.validators.fidelity.image import frechet_distance, prdc
from synthaug.validators.privacy.image import data_copying_statistic, mann_whitney_z
from synthaug.validators.suite import Suite

EMBEDDING_CHECKS = [
    "fidelity.frechet_efficientnet_lite0", "fidelity.precision_efficientnet_lite0",
    "fidelity.recall_efficientnet_lite0", "fidelity.density_efficientnet_lite0",
    "fidelity.coverage_efficientnet_lite0", "privacy.data_copying_efficientnet_lite0",
    "privacy.near_copies_efficientnet_lite0",
]


@pytest.fixture
def cheap_features(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """EfficientNetLite0 replaced by the shrunk-pixel features; yields the batch sizes it saw."""
    seen: list[int] = []

    def embed(self: Any, pixels: np.ndarray) -> np.ndarray:
        seen.append(len(pixels))
        return pixel_features([pixels])[0]

    monkeypatch.setattr(embedding_module.EfficientNetLite0, "__call__", embed)
    yield seen


@pytest.fixture(scope="module")
def digits() -> tuple[Images, Images, Images]:
    """Three disjoint samples of scikit-learn's digits: train, other, holdout (599 each)."""
    image, data = read_source("digits")
    order = np.random.default_rng(0).permutation(len(data))
    return tuple(image.take(data, np.sort(order[i::3][:599])) for i in range(3))  # type: ignore


# -- the computations --------------------------------------------------------------------------
def test_frechet_distance_is_the_formula_with_a_matrix_square_root() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(size=(300, 6))
    b = rng.normal(size=(200, 6)) @ rng.normal(size=(6, 6)) + 0.5
    mu = np.sum((a.mean(0) - b.mean(0)) ** 2)
    s_a, s_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    expected = mu + np.trace(s_a + s_b - 2 * scipy.linalg.sqrtm(s_a @ s_b).real)
    value, mean_term, _ = frechet_distance(a, b)
    assert value == pytest.approx(expected, rel=1e-6)
    assert mean_term == pytest.approx(mu)
    assert frechet_distance(a, a)[0] == pytest.approx(0.0, abs=1e-8)


def test_prdc_for_copies_strangers_and_a_fresh_sample() -> None:
    rng = np.random.default_rng(1)
    real = rng.normal(size=(800, 5)).astype(np.float32)
    fresh = rng.normal(size=(800, 5)).astype(np.float32)
    copies = prdc(real, real)
    assert copies["precision"] == copies["recall"] == copies["coverage"] == 1.0
    assert copies["density"] == pytest.approx(1.0, abs=0.3)
    far = prdc(real, real + 50.0)
    assert far["precision"] == far["recall"] == far["density"] == far["coverage"] == 0.0
    same = prdc(real, fresh, k=5)
    # Naeem et al.: density about 1 and coverage about 1 - 2**-5 for one distribution
    assert 0.85 < same["density"] < 1.15
    assert 0.93 < same["coverage"] <= 1.0
    # a generator that collapses onto one region keeps precision but loses coverage
    collapsed = prdc(real, (fresh * 0.2).astype(np.float32))
    assert collapsed["precision"] > 0.9 and collapsed["coverage"] < 0.5


def test_mann_whitney_z_and_the_data_copying_statistic() -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(size=400)
    assert abs(mann_whitney_z(x, rng.normal(size=300))) < 3
    assert mann_whitney_z(x, x - 1.0) < -10  # smaller distances: copying
    assert mann_whitney_z(np.zeros(5), np.zeros(5)) == 0.0  # all tied: no evidence
    train, test, fresh = (rng.normal(size=(900, 3)) for _ in range(3))
    fair = data_copying_statistic(train, test, fresh, n_cells=5)
    assert abs(fair["c_t"]) < 3 and fair["n_cells_used"] == 5
    copied = data_copying_statistic(train, test, train[:500], n_cells=5)
    assert copied["c_t"] < -10 and copied["median_distance_generated"] == 0.0
    # farther from the training images than real ones: underfitting, a positive statistic
    assert data_copying_statistic(train, test, fresh * 3.0, n_cells=5)["c_t"] > 3


# -- the validators ----------------------------------------------------------------------------
def test_every_image_validator_is_registered_for_images_only() -> None:
    names = [*EMBEDDING_CHECKS, "fidelity.label_consistency",
             "utility.classification_accuracy_score"]
    assert set(names) <= set(list_validators())
    for name in names:
        validator = get_validator(name)
        assert validator.modalities == frozenset({"image"}), name
        assert "fid" not in name.split(".")[1].split("_")  # named for the extractor
    assert get_validator("utility.classification_accuracy_score").category == "utility"


def test_embedding_checks_on_copies_and_a_fresh_sample(cheap_features: list[int],
                                                       digits: tuple[Images, ...]) -> None:
    train, other, holdout = digits
    values: dict[str, dict[str, float]] = {}
    for case, synthetic in (("copy", train), ("fresh", other)):
        context = {"prepared": PreparedCache(get_modality("image"), train, synthetic, holdout)}
        values[case] = {}
        for name in EMBEDDING_CHECKS:
            params = {"n_cells": 5} if "copying" in name else {}
            score = get_validator(name, device="cpu", **params).score(
                train, synthetic, holdout=holdout, context=context)
            values[case][name] = score.value
            assert score.details["features"] == "efficientnet-lite0"
    copy, fresh = values["copy"], values["fresh"]
    assert copy["fidelity.frechet_efficientnet_lite0"] == pytest.approx(0.0, abs=1e-6)
    assert copy["fidelity.coverage_efficientnet_lite0"] == 1.0
    assert copy["privacy.near_copies_efficientnet_lite0"] == pytest.approx(1.0, abs=0.02)
    assert copy["privacy.data_copying_efficientnet_lite0"] < -10
    assert fresh["privacy.data_copying_efficientnet_lite0"] > -3
    assert abs(fresh["privacy.near_copies_efficientnet_lite0"]) < 0.05
    assert 0.7 < fresh["fidelity.density_efficientnet_lite0"] < 1.3
    assert fresh["fidelity.coverage_efficientnet_lite0"] > 0.85


def test_one_suite_run_embeds_each_image_once(cheap_features: list[int],
                                              digits: tuple[Images, ...]) -> None:
    train, other, holdout = digits
    suite = Suite.from_dict({"name": "embed", "checks": [
        {"validator": name, "params": {"n_cells": 5} if "copying" in name else {}}
        for name in EMBEDDING_CHECKS]})
    report = suite.run(train, other, holdout=holdout, figures=False)
    assert all(c.status == "info" for c in report.checks), [c.note for c in report.checks]
    # every image went through the extractor exactly once, whatever the number of checks
    assert sum(cheap_features) == len(train) + len(other) + len(holdout)
    fd = next(c for c in report.checks if c.validator == "fidelity.frechet_efficientnet_lite0")
    assert fd.details["floor"] > 0 and fd.details["n_holdout"] == len(other)


def test_max_rows_caps_the_images_embedded(cheap_features: list[int],
                                           digits: tuple[Images, ...]) -> None:
    train, other, _ = digits
    score = get_validator("fidelity.density_efficientnet_lite0", max_rows=100,
                          device="cpu").score(train, other)
    assert score.details["n_real"] == score.details["n_synthetic"] == 100
    assert sum(cheap_features) == 200


def test_label_consistency_and_cas_see_wrong_labels(digits: tuple[Images, ...]) -> None:
    train, other, holdout = digits
    wrong = Images(other.pixels, (other.labels + 1) % 10)  # every image asked for another class
    context = {"prepared": PreparedCache(get_modality("image"), train, other, holdout)}
    consistency = get_validator("fidelity.label_consistency", steps=150, device="cpu")
    good = consistency.score(train, other, holdout=holdout, context=context)
    bad = consistency.score(train, wrong, holdout=holdout)
    assert good.value > 0.8 and good.details["holdout_accuracy"] > 0.8
    assert 0.9 < good.details["relative"] < 1.1
    assert bad.value < 0.1 and bad.details["confusions"][0]["count"] > 0
    cas = get_validator("utility.classification_accuracy_score", steps=150, device="cpu")
    fair = cas.score(train, other, holdout=holdout, context=context)
    assert fair.value > 0.8 and abs(fair.details["gap"]) < 0.1
    assert fair.interval is not None and fair.interval[0] < fair.value < fair.interval[1]
    # the real-data CNN of the run was trained once and shared by both checks
    assert len([k for k in context["prepared"]._extra if k.startswith("cnn/")]) == 1
    assert cas.score(train, wrong, holdout=holdout).value < 0.1


def test_label_checks_skip_unlabelled_images_in_a_suite(digits: tuple[Images, ...]) -> None:
    train, other, holdout = digits
    suite = Suite.from_dict({"name": "labels", "checks": [
        {"validator": "fidelity.label_consistency", "params": {"steps": 5}, "min": 0.5},
        {"validator": "privacy.exact_copies", "max": 0.01}]})
    report = suite.run(train, Images(other.pixels), holdout=holdout, figures=False)
    check = report.checks[0]
    assert check.status == "skipped" and "needs labelled synthetic images" in check.note
    assert report.gate  # the check that could run passed


def test_image_checks_refuse_tables_other_sizes_and_bad_params(digits: tuple[Images, ...],
                                                               mixed_frame: Any) -> None:
    train, other, _ = digits
    with pytest.raises(NotSupportedError, match="scores image data, not tabular"):
        get_validator("fidelity.coverage_efficientnet_lite0").score(mixed_frame, mixed_frame)
    bigger = Images(np.zeros((10, 9, 9, 1), dtype=np.uint8), np.zeros(10, dtype=np.int64))
    with pytest.raises(InvalidDataError, match="synthetic images are 9x9x1 but the real ones "
                                                "are 8x8x1"):
        get_validator("fidelity.frechet_efficientnet_lite0").score(train, bigger)
    with pytest.raises(InvalidDataError, match="needs a holdout"):
        get_validator("privacy.near_copies_efficientnet_lite0").score(train, other)
    strange = Images(other.pixels, np.full(len(other), 42))
    with pytest.raises(InvalidDataError, match="labels the real images do not have"):
        get_validator("fidelity.label_consistency", steps=1).score(train, strange)
    for name, params in [("fidelity.density_efficientnet_lite0", {"k": 0}),
                         ("fidelity.frechet_efficientnet_lite0", {"max_rows": 3}),
                         ("privacy.near_copies_efficientnet_lite0", {"threshold": 1.5}),
                         ("utility.classification_accuracy_score", {"steps": 0})]:
        with pytest.raises(InvalidParameterError):
            get_validator(name, **params)._check_params()


# -- the suites --------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["image-default", "image-privacy"])
def test_image_suites_parse_and_name_registered_image_checks(name: str) -> None:
    suite = Suite.from_file(name)
    assert set(suite.validator_names) <= set(list_validators())
    gating = [c for c in suite.spec.checks if c.gates]
    assert gating
    # the expensive checks are capped, so a CPU can run the suite
    for check in suite.spec.checks:
        if check.validator in EMBEDDING_CHECKS:
            assert check.params.get("max_rows") is not None, check.key
            assert check.optional, check.key  # skipped, with a note, without the packages


def test_a_verbatim_copy_fails_the_privacy_gate_and_a_fresh_sample_passes(
        cheap_features: list[int], digits: tuple[Images, ...]) -> None:
    train, other, holdout = digits
    suite = Suite.from_file("image-privacy")
    copied = suite.run(train, train, holdout=holdout, figures=False)
    fresh = suite.run(train, other, holdout=holdout, figures=False)
    assert not copied.gate
    failed = set(copied.failed)
    assert {"privacy.exact_copies", "privacy.data_copying_efficientnet_lite0",
            "privacy.near_copies_efficientnet_lite0"} <= failed
    assert fresh.gate, [(c.id, c.status, c.value) for c in fresh.checks]
