"""MixedImageDataset: real and generated images at a ratio, seeded, drawn on demand."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from synthaug import get_generator
from synthaug.data.image import Images
from synthaug.data.image.dataset import MixedImageDataset, mix_plan
from synthaug.data.sources import read_source
from synthaug.exceptions import InvalidDataError, InvalidParameterError, NotFittedError

VAE = {"max_steps": 2, "batch_size": 16, "width": 4, "latent_dim": 4, "embedding_dim": 4,
       "adversarial_weight": 0.0, "progress": False, "device": "cpu", "random_state": 0}


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, np.ndarray]:
    _, data = read_source("digits")
    keep = np.concatenate([np.flatnonzero(data.labels == c)[:4 * (1 + c % 2)]
                           for c in range(10)])  # odd classes twice as large
    return data.pixels[keep], data.labels[keep]


@pytest.fixture(scope="module")
def fitted(digits) -> Any:
    return get_generator("image.vae", **VAE).fit(*digits)


class Counting:
    """A fitted generator's stand-in that counts sample calls (and passes them on)."""

    def __init__(self, gen: Any) -> None:
        self.gen, self.calls = gen, []
        self.modality, self.schema_ = gen.modality, gen.schema_

    def __sklearn_is_fitted__(self) -> bool:
        return True

    def sample(self, n: int, **kw: Any) -> Any:
        self.calls.append(n)
        return self.gen.sample(n, **kw)


def epoch(data: MixedImageDataset) -> tuple[torch.Tensor, np.ndarray]:
    items = list(data)
    return torch.stack([x for x, _ in items]), np.array([y for _, y in items])


def test_an_epoch_mixes_real_and_generated_at_the_ratio(digits, fitted) -> None:
    images, labels = digits
    data = MixedImageDataset(images, labels, generator=fitted, ratio=1.5, random_state=0)
    x, y = epoch(data)
    n_real = len(images)
    assert len(data) == len(x) == n_real + round(1.5 * n_real)
    assert x.shape[1:] == (1, 8, 8) and x.dtype == torch.float32 and 0 <= x.min() <= x.max() <= 1
    real_rows = {row.tobytes() for row in images.astype(np.float32) / 255}
    is_real = np.array([row.numpy().tobytes() in real_rows for row in x[:, 0]])
    assert is_real.sum() >= n_real  # every real image once (a generated one may equal one)
    # the real class balance carries over to the generated images, exactly
    real_counts = np.bincount(labels, minlength=10)
    assert np.array_equal(np.bincount(y, minlength=10), real_counts + np.round(
        1.5 * real_counts).astype(int))


def test_epochs_are_seeded_and_differ(digits, fitted) -> None:
    images, labels = digits
    a = MixedImageDataset(images, labels, generator=fitted, random_state=3)
    b = MixedImageDataset(images, labels, generator=fitted, random_state=3)
    first_a, first_b = epoch(a), epoch(b)
    assert torch.equal(first_a[0], first_b[0]) and np.array_equal(first_a[1], first_b[1])
    second = epoch(a)  # iterating moved a on to epoch 1
    assert not torch.equal(second[0], first_a[0])
    b.set_epoch(1)
    assert torch.equal(epoch(b)[0], second[0])


def test_generated_images_are_drawn_in_batches_on_demand(digits, fitted) -> None:
    images, labels = digits
    counting = Counting(fitted)
    data = MixedImageDataset(images, labels, generator=counting, ratio=2.0, batch_size=5,
                             random_state=0)
    stream = iter(data)
    next(stream)
    assert sum(counting.calls) <= 5  # nothing drawn before it is needed
    list(stream)
    assert max(counting.calls) <= 5 and sum(counting.calls) == round(2.0 * len(images))


def test_class_weights_and_ratio_zero(digits, fitted) -> None:
    images, labels = digits
    weights = [1.0] + [0.0] * 9
    _, y = epoch(MixedImageDataset(images, labels, generator=fitted, ratio=1.0,
                                   class_weights=weights, random_state=0))
    assert (y == 0).sum() == (labels == 0).sum() + len(images)
    x, y = epoch(MixedImageDataset(images, labels, generator=fitted, ratio=0.0, random_state=0))
    assert len(x) == len(images) and np.array_equal(np.sort(y), np.sort(labels))


def test_dataloader_workers_get_disjoint_shards(digits, fitted) -> None:
    images, labels = digits
    data = MixedImageDataset(images, labels, generator=fitted, ratio=0.5, random_state=0)
    loader = DataLoader(data, batch_size=16, num_workers=2)
    data.set_epoch(0)
    seen = torch.cat([x for x, _ in loader])
    assert len(seen) == len(data)
    real = {row.tobytes() for row in images.astype(np.float32) / 255}
    found = sum(row.numpy().tobytes() in real for row in seen[:, 0])
    assert found >= len(images)  # each real image in exactly one worker's shard


def test_transform_and_labels_of_string_classes(digits) -> None:
    images, labels = digits
    names = np.array([f"d{v}" for v in labels])
    gen = get_generator("image.vae", **VAE).fit(Images(images, names))
    data = MixedImageDataset(Images(images, names), generator=gen, ratio=0.25,
                             transform=lambda a: a.shape, random_state=0)
    items = list(data)
    assert {x for x, _ in items} == {(8, 8, 1)}
    assert {y for _, y in items} == set(range(10))  # class indices, not the names
    assert list(gen.schema_.classes) == sorted(set(names))


def test_bad_arguments_are_refused(digits, fitted) -> None:
    images, labels = digits
    with pytest.raises(NotFittedError):
        MixedImageDataset(images, labels, generator=get_generator("image.vae"))
    with pytest.raises(InvalidParameterError, match="image generator"):
        MixedImageDataset(images, labels, generator=object())
    with pytest.raises(InvalidParameterError, match="ratio"):
        MixedImageDataset(images, labels, generator=fitted, ratio=-1)
    with pytest.raises(InvalidParameterError, match="class_weights"):
        MixedImageDataset(images, labels, generator=fitted, class_weights=[1.0, 2.0])
    with pytest.raises(InvalidDataError, match="labelled images"):
        MixedImageDataset(images, generator=fitted)
    with pytest.raises(InvalidDataError, match="not among the generator's classes"):
        MixedImageDataset(images, labels + 20, generator=fitted)
    with pytest.raises(InvalidDataError, match="the generator makes"):
        MixedImageDataset(np.repeat(images, 3, axis=3), labels, generator=fitted)
    with pytest.raises(InvalidDataError, match="labels"):
        MixedImageDataset(images, labels[:3], generator=fitted)


def test_mix_plan_has_exact_counts() -> None:
    rng = np.random.default_rng(0)
    plan = mix_plan(np.array([0, 1, 1, 2, 2, 2]), 3, 1.0, None, rng)
    assert sorted(plan[plan >= 0].tolist()) == list(range(6))
    assert np.bincount(-1 - plan[plan < 0], minlength=3).tolist() == [1, 2, 3]
    plan = mix_plan(np.array([0, 1]), 3, 3.5, np.array([1.0, 1.0, 1.0]), rng)
    assert np.bincount(-1 - plan[plan < 0], minlength=3).tolist() == [3, 2, 2]
