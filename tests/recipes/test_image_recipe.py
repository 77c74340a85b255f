"""Recipes on images: the image task, albumentations as the classic baseline, a given test set,
combined arms and the fashion-lowdata recipe, end to end with image.dummy and tiny budgets."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from synthaug import registry
from synthaug.cli import main
from synthaug.config import RecipeSpec, SpecError, parse_spec
from synthaug.data.datasets import _FASHION_SYSTEM_DIR
from synthaug.data.image import Images
from synthaug.data.image.classifier import ImageCNN
from synthaug.data.modality import get_modality
from synthaug.data.sources import read_source
from synthaug.recipes import check, resolve_recipe, run
from synthaug.recipes.tasks import get_task
from synthaug.recipes.tasks.image import SHIFT_PIXELS, ImageFeaturizer, ImageTask, classic_images
from tests.dummies import dummies_registered

albumentations = pytest.importorskip("albumentations", reason="the classic image baseline "
                                     "needs albumentations: pip install 'synthaug[image]'")


@pytest.fixture(scope="module")
def digit_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1,200 digits as the recipe's source and 597 others as its given test set."""
    root = tmp_path_factory.mktemp("digit-recipe")
    image, digits = read_source("digits")
    order = np.random.default_rng(0).permutation(len(digits))
    image.write(image.take(digits, np.sort(order[:1200])), root / "train.npz")
    image.write(image.take(digits, np.sort(order[1200:])), root / "test.npz")
    return root


def recipe(root: Path, **changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "name": "digits-tiny", "seeds": 2,
        "data": {"source": str(root / "train.npz"), "test_source": str(root / "test.npz"),
                 "target": "label"},
        "split": {"validation": 0.1},
        "scenario": {"kind": "low_data", "per_class": 12},
        "generator": {"name": "image.dummy"},
        "augmentation": {"ratios": [1.0, 2.0], "baseline_ratios": [1.0],
                         "combined_ratios": [1.0]},
        "training": {"max_steps": 4, "eval_every": 2, "batch_size": 16, "threads": 1},
        "report": {"metric": "accuracy", "suite": ""},
    }
    for section, values in changes.items():
        doc[section] = {**doc.get(section, {}), **values} if isinstance(values, dict) \
            else values
    return doc


def test_the_image_task_is_found_by_modality_with_its_cnn() -> None:
    assert get_task("image") is ImageTask
    assert (ImageTask.default_model, ImageTask.baseline) == ("image.cnn", "albumentations")
    assert registry.downstream_models.get("image.cnn") is ImageCNN
    batch = Images(np.full((3, 8, 8, 1), 51, dtype=np.uint8), np.array([0, 1, 2]))
    x = ImageFeaturizer().fit(batch).transform(batch)["x"]
    assert x.shape == (3, 1, 8, 8) and x.dtype == np.float32 and np.allclose(x, 0.2)


def test_an_image_recipe_runs_every_arm_end_to_end(digit_files: Path, tmp_path: Path) -> None:
    with dummies_registered():
        report = run(recipe(digit_files), out_dir=tmp_path / "run", device="cpu",
                     progress=False)
    names = [a.name for a in report.arms]
    assert names == ["real", "synthetic-x1", "synthetic-x2", "synthetic-only",
                     "albumentations-x1", "albumentations+synthetic-x1"]
    labels = {a.name: a.label for a in report.arms}
    assert labels["albumentations-x1"] == "real + albumentations (1x)"
    assert labels["albumentations+synthetic-x1"] == "real + albumentations + synthetic (1x)"
    splits = report.info["splits"]
    assert splits["test"] == 597 and splits["train"] == 120
    assert splits["validation"] == pytest.approx(120, abs=10)
    runs = {p.parent.name: json.loads(p.read_text())
            for p in (tmp_path / "run" / "runs").glob("*/seed-0.json")}
    assert runs["albumentations+synthetic-x1"]["n_synthetic"] == 240  # 120 classic + 120 drawn
    assert runs["synthetic-x2"]["n_synthetic"] == 240
    assert runs["synthetic-only"]["n_real"] == 0
    assert all(v == 24 for v in runs["albumentations-x1"]["train_class_counts"].values())
    assert all(0 <= a.metrics["accuracy"].mean <= 1 for a in report.arms)
    assert (tmp_path / "run" / "gain.png").is_file()


def test_an_image_recipe_validates_its_generator_with_an_image_suite(
        digit_files: Path, tmp_path: Path) -> None:
    suite = tmp_path / "tiny-suite.toml"
    suite.write_text('name = "tiny"\n[[checks]]\nvalidator = "privacy.exact_copies"\n'
                     'max = 0.01\n[[checks]]\nvalidator = "fidelity.alpha_precision"\n')
    doc = recipe(digit_files, seeds=[0, 1], augmentation={"ratios": [1.0],
                 "synthetic_only": False, "baseline": "none", "baseline_ratios": None,
                 "combined_ratios": []}, report={"suite": str(suite)})
    with dummies_registered():
        report = run(doc, out_dir=tmp_path / "run", device="cpu", progress=False)
    assert report.info["validation"]["suite"] == "tiny"
    saved = json.loads((tmp_path / "run" / "validation.json").read_text())
    assert saved["inputs"]["modality"] == "image"
    assert saved["inputs"]["holdout"]["images"] == 597  # the given test images


def test_classic_images_are_flipped_and_shifted_copies_of_their_class() -> None:
    rng = np.random.default_rng(0)
    pixels = rng.integers(1, 256, (6, 10, 10, 1), dtype=np.uint8)
    reference = Images(pixels, np.array(["a", "a", "a", "b", "b", "c"]))
    codes = np.array([0, 0, 0, 1, 1, 2])
    notes: list[str] = []
    out = classic_images(reference, codes, np.array([7, 2, 0]), ["a", "b", "c"],
                         random_state=3, notes=notes)
    assert len(out) == 9 and out.labels.tolist() == ["a"] * 7 + ["b"] * 2 and not notes
    again = classic_images(reference, codes, np.array([7, 2, 0]), ["a", "b", "c"],
                           random_state=3, notes=[])
    assert np.array_equal(out.pixels, again.pixels)  # seeded

    def variants(image: np.ndarray) -> list[np.ndarray]:
        found = []
        for flip in (image, image[:, ::-1]):
            for dy in range(-SHIFT_PIXELS, SHIFT_PIXELS + 1):
                for dx in range(-SHIFT_PIXELS, SHIFT_PIXELS + 1):
                    shifted = np.zeros_like(flip)
                    h, w = flip.shape[:2]
                    shifted[max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
                        flip[max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
                    found.append(shifted)
        return found

    for image, label in zip(out.pixels, out.labels, strict=True):
        members = pixels[reference.labels == label]
        assert any(np.array_equal(image, v) for m in members for v in variants(m))
    # every reference image of a class is used before any is used twice
    lonely = classic_images(reference, codes, np.array([0, 0, 2]), ["a", "b", "c"],
                            random_state=0, notes=notes)
    assert len(lonely) == 2
    empty = classic_images(Images(pixels[:3], reference.labels[:3]), codes[:3],
                           np.array([0, 2]), ["a", "b"], random_state=0, notes=notes)
    assert len(empty) == 0 and "no real image of class 'b'" in notes[-1]


def test_recipe_spec_errors_of_image_recipes(digit_files: Path) -> None:
    def fields(doc: dict[str, Any]) -> tuple[str, ...]:
        with dummies_registered(), pytest.raises(SpecError) as info:
            parse_spec(doc, RecipeSpec, source="x.toml")
        return info.value.fields

    assert fields(recipe(digit_files, split={"test": 0.2})) == ("split.test",)
    assert fields(recipe(digit_files, data={"test_source": "adult"})) == ("data.test_source",)
    assert fields(recipe(digit_files, augmentation={"baseline": "none"})) == (
        "augmentation.baseline_ratios",)
    assert fields(recipe(digit_files, augmentation={"combined_ratios": [1.0, 1.0]})) == (
        "augmentation.combined_ratios",)
    with dummies_registered():
        with pytest.raises(SpecError) as info:
            check(recipe(digit_files, data={"sensitive": "sex"}), device="cpu")
        assert info.value.fields == ("data.sensitive",)
        assert "images have no columns" in str(info.value)
        with pytest.raises(SpecError, match=r"data\.test_source: .* neither a built-in"):
            check(recipe(digit_files, data={"test_source": "nowhere.npz"}), device="cpu")


def test_a_test_set_of_another_size_is_refused(digit_files: Path, tmp_path: Path) -> None:
    get_modality("image").write(Images(np.zeros((20, 9, 9, 1), dtype=np.uint8),
                                       np.arange(20) % 10), tmp_path / "big.npz")
    with dummies_registered(), pytest.raises(SpecError, match=r"data\.test_source: cannot join"):
        check(recipe(digit_files, data={"test_source": str(tmp_path / "big.npz")}),
              device="cpu")


def test_recipe_list_shows_a_recipe_whose_generator_is_missing(capsys: Any) -> None:
    with registry.generators.scoped():
        registry.generators._items.pop("image.gan", None)  # as on a machine without it
        assert main(["recipe", "list"]) == 0
    out = capsys.readouterr().out
    assert "fashion-lowdata" in out and "adult-lowdata" in out


@pytest.mark.skipif(not (_FASHION_SYSTEM_DIR / "t10k-images-idx3-ubyte.gz").is_file(),
                    reason="Fashion-MNIST is not installed: apt-get install "
                           "dataset-fashion-mnist")
def test_fashion_lowdata_is_600_images_and_the_10000_test_images() -> None:
    doc = tomllib.loads(resolve_recipe("fashion-lowdata").read_text())
    assert doc["generator"]["name"].startswith("image.")
    doc["generator"] = {"name": "image.dummy"}
    with dummies_registered():
        plan = check(doc, device="cpu")
    assert plan["arms"] == ["real", "synthetic-x0.5", "synthetic-x1", "synthetic-x4",
                            "synthetic-only", "albumentations-x4",
                            "albumentations+synthetic-x4"]
    assert plan["runs"] == 35 and plan["seeds"] == [0, 1, 2, 3, 4]
    splits = plan["splits"]
    assert (splits["train"], splits["test"], splits["validation"]) == (600, 10_000, 600)
    assert set(splits["train_class_counts"].values()) == {60}
    with dummies_registered():
        spec = parse_spec(doc, RecipeSpec)
    assert (spec.training.max_steps, spec.training.batch_size, spec.training.weight_decay) == (
        1500, 64, 0.0)
    assert spec.training.eval_every == spec.training.max_steps  # one evaluation: final weights
