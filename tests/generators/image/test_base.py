"""Image generators (``generators.image.base``), through the tiny registered image generator:
images in, images out, in the container given, with exact classes."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from sklearn.datasets import load_digits

from synthaug import get_generator
from synthaug.data.image import Images
from synthaug.exceptions import InvalidDataError, InvalidParameterError
from synthaug.generators.base import BaseGenerator
from tests.dummies import IMAGE_DUMMY


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, np.ndarray]:
    d = load_digits()
    return (d.images * 16).clip(0, 255).astype(np.uint8), d.target


def test_images_in_images_out_with_exact_classes(digits, tmp_path) -> None:
    images, labels = digits
    gen = get_generator(IMAGE_DUMMY, random_state=0).fit(images, labels)
    out, out_labels = gen.sample(25, conditions={"label": 3}, random_state=1)
    assert out.dtype == np.uint8 and out.shape == (25, 8, 8)  # (N, H, W) in, (N, H, W) out
    assert out_labels.dtype == labels.dtype and (out_labels == 3).all()
    # the class is learnt: generated 3s are nearer the real 3s' mean than the 8s'
    mean3, mean8 = images[labels == 3].mean(0), images[labels == 8].mean(0)
    m = out.mean(0)
    assert np.abs(m - mean3).mean() < np.abs(m - mean8).mean()
    _, mix = gen.sample(2000, random_state=2)
    assert set(np.unique(mix)) == set(range(10))  # the training mix, without a condition
    gen.save(tmp_path / "m")
    same = BaseGenerator.load(tmp_path / "m", device="cpu")
    again, _ = same.sample(25, conditions={"label": 3}, random_state=1)
    assert np.array_equal(again, out)  # same seed, same images, after save/load


def test_images_containers_come_back_as_given(digits) -> None:
    images, labels = digits
    rgb = np.repeat(images[:60, :, :, None], 3, axis=3)
    pil = [Image.fromarray(a) for a in rgb]
    gen = get_generator(IMAGE_DUMMY, random_state=0).fit(pil, labels[:60])
    out, _ = gen.sample(4, random_state=0)
    assert isinstance(out, list) and out[0].mode == "RGB" and out[0].size == (8, 8)
    unlabelled = get_generator(IMAGE_DUMMY, random_state=0).fit(Images(rgb))
    batch = unlabelled.sample(3, random_state=0)
    assert isinstance(batch, Images) and batch.labels is None and batch.size == (8, 8, 3)
    with pytest.raises(InvalidParameterError, match="fitted without labels"):
        unlabelled.sample(3, conditions={"label": 1})


def test_image_conditions_and_inputs_are_checked(digits) -> None:
    images, labels = digits
    gen = get_generator(IMAGE_DUMMY, random_state=0).fit(images, labels)
    with pytest.raises(InvalidParameterError, match="never seen"):
        gen.sample(2, conditions={"label": 11})
    with pytest.raises(InvalidParameterError, match="class only"):
        gen.sample(2, conditions={"colour": 1})
    with pytest.raises(InvalidDataError, match="labels for"):
        get_generator(IMAGE_DUMMY).fit(images, labels[:5])


def test_image_batches_are_bounded_and_equal_sample(digits) -> None:
    images, labels = digits
    gen = get_generator(IMAGE_DUMMY, random_state=0).fit(images, labels)
    sizes = [len(b[0]) for b in gen.sample_batches(2500, random_state=0)]
    assert sizes == [1024, 1024, 452]  # batch_size_hint of image generators
    joined = np.concatenate([b[0] for b in gen.sample_batches(2500, random_state=0)])
    assert np.array_equal(joined, gen.sample(2500, random_state=0)[0])
    empty, empty_labels = gen.sample(0)
    assert empty.shape == (0, 8, 8) and len(empty_labels) == 0
