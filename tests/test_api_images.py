"""augment() on images with classic augmentation (albumentations), and its refusals."""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from synthaug import augment
from synthaug.data.image import Images
from synthaug.data.image.classic import ClassicAugment, default_pipeline
from synthaug.data.sources import read_source
from synthaug.exceptions import InvalidDataError, InvalidParameterError, MissingDependencyError

A = pytest.importorskip("albumentations")

VAE = {"max_steps": 2, "batch_size": 16, "width": 4, "latent_dim": 4, "embedding_dim": 4,
       "adversarial_weight": 0.0, "progress": False}


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, np.ndarray]:
    _, data = read_source("digits")
    keep = np.concatenate([np.flatnonzero(data.labels == c)[:6] for c in range(10)])
    return data.pixels[keep, :, :, 0], data.labels[keep]


def run(images: Any, labels: Any, **kw: Any) -> tuple[Any, Any]:
    kw.setdefault("generator", "image.vae")
    if kw["generator"] is not None:
        kw.setdefault("generator_params", VAE)
    return augment(images, labels, device="cpu", suite=None, random_state=0, **kw)


def test_generated_then_classic_copies_of_the_real_images(digits) -> None:
    images, labels = digits
    flip = A.Compose([A.HorizontalFlip(p=1.0)])
    (out, out_labels), report = run(images, labels, n=20, classic=flip)
    assert out.shape == (60 + 20 + 60, 8, 8) and out.dtype == np.uint8
    assert (report.n_real, report.n_synthetic, report.n_classic) == (60, 20, 60)
    assert np.array_equal(out[:60], images)  # the real images first, untouched
    assert np.array_equal(out[80:], images[:, :, ::-1])  # then their flipped copies
    assert np.array_equal(out_labels[80:], labels)
    assert "60 classic" in str(report)
    assert report.class_counts_after == {str(c): 6 + 6 + int((out_labels[60:80] == c).sum())
                                         for c in range(10)}


def test_copies_and_generated_images_transformed_in_place(digits) -> None:
    images, labels = digits
    flip = A.Compose([A.HorizontalFlip(p=1.0)])
    (plain, _), _ = run(images, labels, n=10, classic=ClassicAugment(flip, copies=0))
    step = ClassicAugment(flip, copies=2, to_generated=True)
    (out, out_labels), report = run(images, labels, n=10, classic=step)
    assert len(out) == 60 + 10 + 120 and report.n_classic == 120
    assert np.array_equal(out[60:70], plain[60:70, :, ::-1])  # generated, then flipped
    assert np.array_equal(out_labels[70:], np.tile(labels, 2))


def test_classic_only_needs_no_generator(digits) -> None:
    images, labels = digits
    (out, _), report = run(images, labels, generator=None, classic="default")
    assert len(out) == 120 and report.generator == "none" and report.n_synthetic == 0
    with pytest.raises(InvalidParameterError, match="generator=None makes none"):
        run(images, labels, generator=None, n=5, classic="default")
    with pytest.raises(InvalidParameterError, match="generator=None makes no records"):
        run(images, labels, generator=None)


def test_the_same_seed_gives_the_same_augmentations_and_leaves_the_pipeline_alone(digits
                                                                                 ) -> None:
    images, labels = digits
    pipeline = default_pipeline()
    a = run(images, labels, generator=None, classic=pipeline)[0][0]
    b = run(images, labels, generator=None, classic=pipeline)[0][0]
    assert np.array_equal(a, b) and not np.array_equal(a[60:], images)
    c = augment(images, labels, generator=None, classic=pipeline, random_state=1,
                suite=None)[0][0]
    assert not np.array_equal(a, c)


def test_pil_and_images_containers_come_back(digits) -> None:
    images, labels = digits
    pil = [Image.fromarray(a) for a in images]
    (out, _), _ = run(pil, labels, generator=None, classic="default")
    assert isinstance(out, list) and len(out) == 120 and out[0].mode == "L"
    boxed, _ = run(Images(images[..., None], labels), None, n=4, classic="default")
    assert isinstance(boxed, Images) and len(boxed) == 124


def test_a_pipeline_that_changes_the_images_is_refused(digits) -> None:
    images, labels = digits
    with pytest.raises(InvalidDataError, match="keep the size and uint8"):
        run(images, labels, generator=None, classic=A.Compose([A.Resize(4, 4)]))
    with pytest.raises(InvalidDataError, match="keep the size and uint8"):
        run(images, labels, generator=None, classic=A.Compose([A.Normalize()]))

    def broken(image: np.ndarray) -> dict[str, np.ndarray]:
        raise RuntimeError("boom")

    with pytest.raises(InvalidDataError, match=r"failed on image 0.*boom"):
        run(images, labels, generator=None, classic=broken)
    with pytest.raises(InvalidParameterError, match="copies"):
        run(images, labels, generator=None, classic=ClassicAugment(broken, copies=-1))
    with pytest.raises(InvalidParameterError, match="albumentations transform"):
        run(images, labels, generator=None, classic=42)


def test_classic_is_refused_for_other_modalities(mixed_frame: pd.DataFrame) -> None:
    with pytest.raises(InvalidParameterError, match="classic= applies an image"):
        augment(mixed_frame, target="income", classic="default", suite=None)
    with pytest.raises(InvalidParameterError, match="but the data are text"):
        augment(["a fine film", "a dull film"], ["fresh", "rotten"], classic="default",
                suite=None)


def test_a_missing_albumentations_names_the_extra(monkeypatch: pytest.MonkeyPatch, digits
                                                  ) -> None:
    images, labels = digits
    monkeypatch.setitem(sys.modules, "albumentations", None)  # import fails
    with pytest.raises(MissingDependencyError, match=r"synthaug\[image\]"):
        run(images, labels, generator=None, classic="default")
    # a plain callable needs no albumentations
    (out, _), _ = run(images, labels, generator=None,
                      classic=lambda image: {"image": image[::-1]})
    assert np.array_equal(out[60:], images[:, ::-1])


@pytest.mark.parametrize("case", ["mixed sizes", "wrong dtype", "labels mismatch"])
def test_bad_images_are_refused_before_any_fitting(case: str, digits) -> None:
    images, labels = digits
    if case == "mixed sizes":
        data: Any = [Image.fromarray(images[0]), Image.fromarray(np.zeros((9, 9), np.uint8))]
        y: Any = [0, 1]
    elif case == "wrong dtype":
        data, y = images.astype(np.int64), labels
    else:
        data, y = images, labels[:10]
    with pytest.raises(InvalidDataError):
        run(data, y, n=5, classic="default")
