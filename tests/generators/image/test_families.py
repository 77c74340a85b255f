"""The generator contract for image.gan, image.vae and image.transformer on tiny data.

Tiny networks and a handful of steps on scikit-learn's 8x8 digits: what is tested is the
contract (containers back as given, exact classes, seeds, save/load, batches, callbacks, bad
inputs), not image quality, which benchmarks/image.py measures.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from safetensors import safe_open

from synthaug import get_generator, list_generators
from synthaug.data.image import Images, write_images
from synthaug.data.sources import read_source
from synthaug.exceptions import InvalidDataError, InvalidParameterError, NotFittedError
from synthaug.generators.base import BaseGenerator
from tests.generators.helpers import FAST_PARAMS

NAMES = ["image.gan", "image.vae", "image.transformer"]


def make(name: str, seed: int = 0, **params: Any) -> BaseGenerator:
    return get_generator(name, **{**FAST_PARAMS[name], "device": "cpu", "random_state": seed,
                                  "progress": False, **params})


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, np.ndarray]:
    _, data = read_source("digits")
    keep = np.concatenate([np.flatnonzero(data.labels == c)[:12] for c in range(10)])
    return data.pixels[keep, :, :, 0], data.labels[keep]


@pytest.fixture(params=NAMES)
def name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_registered_by_name_with_capabilities(name: str) -> None:
    assert name in list_generators("image")
    gen = get_generator(name)
    assert (gen.modality, gen.name, f"image.{gen.family}") == ("image", name, name)
    assert "exact_conditions" in gen.tags and "gpu" in gen.tags
    assert not [k for k in vars(gen) if k.endswith("_")]  # no fitted state before fit


def test_fit_sample_exact_classes_and_the_training_mix(name: str, digits) -> None:
    images, labels = digits
    gen = make(name)
    assert gen.fit(images, labels) is gen
    out, out_labels = gen.sample(7, conditions={"label": 3}, random_state=1)
    assert out.dtype == np.uint8 and out.shape == (7, 8, 8)
    assert out_labels.dtype == labels.dtype and (out_labels == 3).all()
    _, mix = gen.sample(300, random_state=2)
    assert set(np.unique(mix)) == set(range(10))
    empty, empty_labels = gen.sample(0)
    assert empty.shape == (0, 8, 8) and len(empty_labels) == 0
    assert gen.history_.epochs_run >= 1 and gen.history_.losses


def test_containers_come_back_as_given(name: str, digits) -> None:
    images, labels = digits
    four = make(name).fit(images[..., None], labels).sample(2, random_state=0)[0]
    assert four.shape == (2, 8, 8, 1)
    rgb = np.repeat(images[:40, :, :, None], 3, axis=3)
    pil = [Image.fromarray(a) for a in rgb]
    out, _ = make(name).fit(pil, labels[:40]).sample(3, random_state=0)
    assert isinstance(out, list) and out[0].mode == "RGB" and out[0].size == (8, 8)
    boxed = make(name).fit(Images(images[..., None], labels.astype(str))).sample(
        4, conditions={"label": "5"}, random_state=0)
    assert isinstance(boxed, Images) and boxed.labels.tolist() == ["5"] * 4
    unlabelled = make(name).fit(images).sample(3, random_state=0)
    assert isinstance(unlabelled, np.ndarray) and unlabelled.shape == (3, 8, 8)


def test_a_folder_in_gives_images_out(name: str, digits, tmp_path: Path) -> None:
    images, labels = digits
    write_images(Images(images[:30, :, :, None], labels[:30]), tmp_path / "digits")
    out = make(name).fit(tmp_path / "digits").sample(2, random_state=0)
    assert isinstance(out, Images) and out.size == (8, 8, 1)
    assert set(out.labels) <= {str(c) for c in labels[:30]}  # folder names are the classes


def test_same_seed_same_images(name: str, digits) -> None:
    images, labels = digits
    a = make(name, seed=5).fit(images, labels).sample(6, random_state=7)[0]
    b = make(name, seed=5).fit(images, labels).sample(6, random_state=7)[0]
    assert np.array_equal(a, b)
    c = make(name, seed=5).fit(images, labels).sample(6, random_state=8)[0]
    assert not np.array_equal(a, c)
    d = make(name, seed=6).fit(images, labels).sample(6, random_state=7)[0]
    assert not np.array_equal(a, d)


def test_save_load_round_trip_holds_no_training_images(name: str, digits, tmp_path: Path
                                                       ) -> None:
    images, labels = digits
    gen = make(name).fit(images, labels)
    gen.save(tmp_path / "m")
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == [
        "manifest.json", "state.json", "weights.safetensors"]
    with safe_open(str(tmp_path / "m" / "weights.safetensors"), "pt") as fh:
        for key in fh.keys():  # noqa: SIM118 - safe_open is not a mapping
            shape = tuple(fh.get_slice(key).get_shape())
            assert shape[0] != len(images) or len(shape) < 3, key  # no image batch inside
    state = json.loads((tmp_path / "m" / "state.json").read_text())
    assert state["modality"] == "image" and state["schema"]["n_images"] == len(images)
    loaded = BaseGenerator.load(tmp_path / "m", device="cpu")
    assert type(loaded) is type(gen) and loaded.get_params() == gen.get_params()
    for cond in (None, {"label": 4}):
        assert np.array_equal(loaded.sample(5, conditions=cond, random_state=3)[0],
                              gen.sample(5, conditions=cond, random_state=3)[0])


def test_sample_batches_equal_sample(name: str, digits) -> None:
    images, labels = digits
    gen = make(name).fit(images, labels)
    batches = list(gen.sample_batches(50, batch_size=20, conditions={"label": 1},
                                      random_state=4))
    assert [len(b[0]) for b in batches] == [20, 20, 10]
    assert all((b[1] == 1).all() for b in batches)
    joined = np.concatenate([b[0] for b in gen.sample_batches(1100, random_state=4)])
    assert np.array_equal(joined, gen.sample(1100, random_state=4)[0])


def test_epoch_callback_sees_each_epoch_and_can_stop(name: str, digits) -> None:
    images, labels = digits
    seen: list[tuple[int, set[str]]] = []

    def callback(gen: Any, epoch: int, losses: dict[str, float]) -> bool:
        seen.append((epoch, set(losses)))
        gen.sample(2, random_state=0)  # sampling mid-training is allowed
        return epoch == 1

    gen = make(name, max_steps=None, epochs=5, batch_size=60, epoch_callback=callback)
    gen.fit(images, labels)
    assert [e for e, _ in seen] == [0, 1]
    assert gen.history_.stop_reason == "callback" and gen.history_.epochs_run == 2
    assert gen.get_params()["epoch_callback"] is callback


def test_the_step_budget_scales_with_the_data(name: str, digits) -> None:
    images, labels = digits
    small = make(name, max_steps=50, epochs=4, batch_size=40).fit(images, labels)
    assert small.history_.epochs_run == 4  # 120 images: 3 steps an epoch, 12 < 50 steps
    capped = make(name, max_steps=5, epochs=4, batch_size=40).fit(images, labels)
    assert capped.history_.epochs_run == 1  # 5 steps: one epoch of 3 fits, two do not
    one = make(name, max_steps=2, epochs=4, batch_size=16).fit(images, labels)
    assert one._budget(len(images)) == (1, 2, 16)  # an epoch longer than the budget is cut


@pytest.mark.parametrize("size", [(28, 28, 1), (30, 20, 3), (64, 64, 3)])
def test_sizes_from_28_to_64_grey_and_colour(size: tuple[int, int, int]) -> None:
    rng = np.random.default_rng(0)
    h, w, c = size
    images = rng.integers(0, 256, (12, h, w, c), dtype=np.uint8)
    for name in NAMES:
        gen = make(name, max_steps=1, batch_size=6).fit(images, [0, 1] * 6)
        out = gen.sample(2, conditions={"label": 1}, random_state=0)[0]
        assert out.shape == (2, h, w, c) and out.dtype == np.uint8, name


def test_parameters_are_checked_at_fit(name: str, digits) -> None:
    images, labels = digits
    with pytest.raises(InvalidParameterError, match="max_steps"):
        make(name, max_steps=0).fit(images, labels)
    with pytest.raises(InvalidParameterError, match="batch_size"):
        make(name, batch_size=0).fit(images, labels)
    with pytest.raises(NotFittedError):
        make(name).sample(2)


def test_family_parameters_are_checked(digits) -> None:
    images, labels = digits
    with pytest.raises(InvalidParameterError, match="loss"):
        make("image.gan", loss="wasserstein").fit(images, labels)
    with pytest.raises(InvalidParameterError, match="prior"):
        make("image.vae", prior="mixture").fit(images, labels)
    with pytest.raises(InvalidParameterError, match="divide"):
        make("image.transformer", d_model=10, n_heads=4).fit(images, labels)
    with pytest.raises(InvalidParameterError, match="sampler"):
        make("image.transformer", sampler="dpm").fit(images, labels)


def _corrupt_folder(root: Path, images: np.ndarray) -> Path:
    for c in ("a", "b"):
        (root / c).mkdir(parents=True)
        for i in range(3):
            Image.fromarray(images[i]).save(root / c / f"{i}.png")
    (root / "b" / "broken.png").write_bytes(b"\x89PNG not really")
    return root


def _empty_class_folder(root: Path, images: np.ndarray) -> Path:
    (root / "a").mkdir(parents=True)
    (root / "empty").mkdir()
    Image.fromarray(images[0]).save(root / "a" / "0.png")
    Image.fromarray(images[1]).save(root / "a" / "1.png")
    return root


@pytest.mark.parametrize("case", ["mixed sizes", "wrong dtype", "labels mismatch",
                                  "corrupt png", "empty class", "one image"])
def test_bad_inputs_get_a_clear_error_and_leave_the_generator_unfitted(
        name: str, case: str, digits, tmp_path: Path) -> None:
    images, labels = digits
    data: Any
    y: Any = None
    if case == "mixed sizes":
        data = [Image.fromarray(images[0]), Image.fromarray(np.zeros((9, 8), np.uint8))]
        y, match = [0, 1], "one size"
    elif case == "wrong dtype":
        data, y, match = images.astype(np.float32) / 255, labels, "uint8"
    elif case == "labels mismatch":
        data, y, match = images, labels[:-3], "label"
    elif case == "corrupt png":
        data, match = _corrupt_folder(tmp_path / "c", images), "not a readable image"
    elif case == "empty class":
        data, match = _empty_class_folder(tmp_path / "e", images), "holds no images"
    else:
        data, y, match = images[:1], labels[:1], "at least 2"
    gen = make(name)
    with pytest.raises(InvalidDataError, match=match):
        gen.fit(data, y)
    assert not gen.__sklearn_is_fitted__()
    with pytest.raises(NotFittedError):
        gen.save(tmp_path / "never")
    assert not (tmp_path / "never").exists()
