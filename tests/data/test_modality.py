"""The modality seam: containers, checks, files, features and figures for tables, images, text."""

from __future__ import annotations

import base64
import io
import json

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from sklearn.datasets import load_digits

from synthaug import registry
from synthaug.data.image import Images, as_images
from synthaug.data.modality import (
    detect_modality,
    detect_path_modality,
    get_modality,
    list_modalities,
    stratified_split,
)
from synthaug.data.text import Texts, as_texts
from synthaug.exceptions import InvalidDataError, MissingDependencyError, SynthaugError


@pytest.fixture(scope="module")
def digits() -> Images:
    d = load_digits()
    return as_images((d.images * 16).clip(0, 255).astype(np.uint8), d.target)


@pytest.fixture
def reviews() -> Texts:
    rng = np.random.default_rng(0)
    good = ["a fine film", "great acting and a moving story", "wonderful, warm and funny",
            "a delight from start to end", "smart and touching"]
    bad = ["a dull mess", "boring and far too long", "the plot makes no sense",
           "flat acting, weak script", "tedious from start to end"]
    texts = [rng.choice(good) + f" ({i})" if i % 2 else rng.choice(bad) + f" ({i})"
             for i in range(120)]
    labels = ["fresh" if i % 2 else "rotten" for i in range(120)]
    return as_texts(texts, labels)


def test_every_builtin_modality_is_registered() -> None:
    assert {"tabular", "image", "text"} <= set(list_modalities())
    assert not registry.modalities.unavailable()


@pytest.mark.parametrize(("data", "name"), [
    (pd.DataFrame({"x": [1.0]}), "tabular"),
    (np.zeros((3, 2)), "tabular"),
    (np.zeros((3, 4, 4), dtype=np.uint8), "image"),
    (np.zeros((3, 4, 4, 3), dtype=np.uint8), "image"),
    ([Image.new("L", (4, 4))], "image"),
    (["a", "b"], "text"),
    (pd.Series(["a", "b"]), "text"),
    (np.array(["a", "b"], dtype=object), "text"),
])
def test_detect_modality(data: object, name: str) -> None:
    assert detect_modality(data).name == name


def test_detect_modality_refuses_what_it_does_not_know() -> None:
    with pytest.raises(InvalidDataError, match="must be images"):
        detect_modality({"a": 1})


# -- images ------------------------------------------------------------------------------------
@pytest.mark.parametrize(("data", "y", "message"), [
    (np.zeros((3, 4, 4), dtype=np.float32), None, "dtype float32.*astype"),
    (np.zeros((3, 4, 4, 4), dtype=np.uint8), None, "C = 1 .grey. or 3"),
    (np.zeros((3, 4), dtype=np.uint8), None, r"shape \(3, 4\)"),
    (np.zeros((0, 4, 4), dtype=np.uint8), None, "no images"),
    (np.zeros((3, 4, 4), dtype=np.uint8), [0, 1], "2 labels for 3"),
    (np.zeros((3, 4, 4), dtype=np.uint8), [0, None, 1], "missing"),
    ([Image.new("L", (4, 4)), Image.new("L", (5, 4))], None, "one size and mode"),
    ([Image.new("RGBA", (4, 4))], None, "mode 'RGBA'"),
])
def test_image_checks_say_what_is_wrong(data: object, y: object, message: str) -> None:
    with pytest.raises(InvalidDataError, match=message):
        get_modality("image").check(data, y)


def test_pil_images_and_arrays_give_the_same_container() -> None:
    rng = np.random.default_rng(0)
    arr = rng.integers(0, 256, (3, 5, 6, 3), dtype=np.uint8)
    pil = [Image.fromarray(a) for a in arr]
    assert np.array_equal(as_images(pil).pixels, arr)


def test_image_folder_and_npz_round_trip(tmp_path, digits: Images) -> None:
    image = get_modality("image")
    small = image.take(digits, np.arange(30))
    image.write(small, tmp_path / "folder")
    labels = tmp_path / "folder" / "labels.parquet"
    assert labels.is_file() and not (tmp_path / "folder" / "labels.csv").exists()
    back = image.read(tmp_path / "folder")
    assert np.array_equal(back.pixels, small.pixels)
    assert back.labels.tolist() == [str(v) for v in small.labels]
    assert detect_path_modality(tmp_path / "folder").name == "image"
    # a hand-written labels.csv (what synthaug wrote before) reads the same, and the folder
    # stays one synthaug may replace
    pd.read_parquet(labels).to_csv(tmp_path / "folder" / "labels.csv", index=False)
    labels.unlink()
    assert image.read(tmp_path / "folder").labels.tolist() == back.labels.tolist()
    image.write(small, tmp_path / "folder")
    assert labels.is_file() and not (tmp_path / "folder" / "labels.csv").exists()
    # the folder layout root/<class>/*.png reads without a labels table, classes from the names
    labels.unlink()
    by_folder = image.read(tmp_path / "folder")
    assert sorted(by_folder.labels.tolist()) == sorted(str(v) for v in small.labels)
    image.write(small, tmp_path / "x.npz")
    npz = image.read(tmp_path / "x.npz")
    assert np.array_equal(npz.pixels, small.pixels)
    assert npz.labels.tolist() == small.labels.tolist()


def test_image_folder_errors_name_the_file(tmp_path) -> None:
    image = get_modality("image")
    (tmp_path / "a").mkdir()
    Image.new("L", (4, 4)).save(tmp_path / "a" / "0.png")
    (tmp_path / "a" / "1.png").write_bytes(b"not a png")
    with pytest.raises(InvalidDataError, match=r"1\.png.*not a readable image"):
        image.read(tmp_path)
    (tmp_path / "a" / "1.png").unlink()
    (tmp_path / "b").mkdir()
    with pytest.raises(InvalidDataError, match="holds no images"):
        image.read(tmp_path)
    Image.new("L", (5, 5)).save(tmp_path / "b" / "0.png")
    with pytest.raises(InvalidDataError, match="one size and mode"):
        image.read(tmp_path)


def test_image_write_never_replaces_a_foreign_folder(tmp_path, digits: Images) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "mine.txt").write_text("keep")
    with pytest.raises(SynthaugError, match="will not replace"):
        get_modality("image").write(digits, tmp_path / "out")
    assert (tmp_path / "out" / "mine.txt").read_text() == "keep"


def test_pixel_features_give_copies_identical_rows(digits: Images) -> None:
    image = get_modality("image")
    train = image.take(digits, np.arange(0, 1000))
    copies = image.take(digits, np.arange(0, 200))
    holdout = image.take(digits, np.arange(1000, 1797))
    prepared = image.prepare(train, copies, holdout)
    assert prepared.modality == "image" and prepared.features == "shrunk-pixels"
    assert prepared.real.shape[1] == prepared.synthetic.shape[1] == 64
    assert np.array_equal(prepared.synthetic, prepared.real[:200])
    with pytest.raises(InvalidDataError, match="one size"):
        image.prepare(train, np.zeros((3, 9, 9), dtype=np.uint8))


def test_image_figures_draw_a_grid_per_class(digits: Images) -> None:
    figures, _ = get_modality("image").figures(digits, digits)
    grid = figures["image_grid"]
    assert grid["classes"] == [str(c) for c in range(10)]
    png = Image.open(io.BytesIO(base64.b64decode(grid["real"])))
    assert png.size[1] >= 10 * 8  # a row per class


# -- texts -------------------------------------------------------------------------------------
@pytest.mark.parametrize(("data", "message"), [
    (["fine", ""], r"texts\[1\] is empty"),
    (["fine", None], r"texts\[1\] is missing"),
    (["fine", 3], r"texts\[1\] is a int"),
    (["fine", "bad \ud800 surrogate"], "not valid Unicode"),
    ([], "no texts"),
    ("just one string", "is one string"),
])
def test_text_checks_say_what_is_wrong(data: object, message: str) -> None:
    with pytest.raises(InvalidDataError, match=message):
        get_modality("text").check(data)


def test_text_files_round_trip(tmp_path, reviews: Texts) -> None:
    text = get_modality("text")
    text.write(reviews, tmp_path / "r.jsonl")
    back = text.read(tmp_path / "r.jsonl")
    assert back.texts.tolist() == reviews.texts.tolist()
    assert back.labels.tolist() == reviews.labels.tolist()
    assert detect_path_modality(tmp_path / "r.jsonl").name == "text"
    pd.DataFrame({"review": reviews.texts, "sentiment": reviews.labels}).to_csv(
        tmp_path / "r.csv", index=False)
    csv = text.read(tmp_path / "r.csv", text_column="review", label_column="sentiment")
    assert csv.texts.tolist() == reviews.texts.tolist()
    # a two-column table with a `text` column is texts; a wider table is a table
    pd.DataFrame({"text": reviews.texts, "y": reviews.labels}).to_csv(tmp_path / "t.csv",
                                                                       index=False)
    assert detect_path_modality(tmp_path / "t.csv").name == "text"
    pd.DataFrame({"text": reviews.texts, "y": reviews.labels, "z": 1}).to_csv(
        tmp_path / "wide.csv", index=False)
    assert detect_path_modality(tmp_path / "wide.csv").name == "tabular"


def test_jsonl_errors_name_the_line(tmp_path) -> None:
    (tmp_path / "bad.jsonl").write_text('{"text": "ok"}\nnot json\n')
    with pytest.raises(InvalidDataError, match="line 2 is not JSON"):
        get_modality("text").read(tmp_path / "bad.jsonl")
    (tmp_path / "bytes.jsonl").write_bytes(b'{"text": "\xff\xfe"}\n')
    with pytest.raises(InvalidDataError, match="not UTF-8"):
        get_modality("text").read(tmp_path / "bytes.jsonl")
    (tmp_path / "mixed.jsonl").write_text(json.dumps({"text": "a", "label": 1}) + "\n"
                                          + json.dumps({"text": "b"}) + "\n")
    with pytest.raises(InvalidDataError, match="label all or none"):
        get_modality("text").read(tmp_path / "mixed.jsonl")


def test_ngram_features_and_samples(reviews: Texts) -> None:
    text = get_modality("text")
    prepared = text.prepare(reviews, text.take(reviews, np.arange(10)))
    assert prepared.features == "char-ngram-hash"
    assert np.array_equal(prepared.synthetic, prepared.real[:10])
    figures, _ = text.figures(reviews, reviews)
    samples = figures["text_samples"]["samples"]
    assert [s["label"] for s in samples] == ["fresh", "rotten"]
    assert all(len(s["real"]) == 3 for s in samples)


# -- shared ------------------------------------------------------------------------------------
def test_stratified_split_keeps_every_class_on_every_side() -> None:
    labels = np.array(["a"] * 50 + ["b"] * 10 + ["c"] * 3)
    test, val, train = stratified_split(labels, [0.2, 0.2], np.random.default_rng(0))
    assert len(np.intersect1d(test, train)) == 0 and len(np.intersect1d(val, train)) == 0
    for part in (test, val, train):
        assert set(labels[part]) == {"a", "b", "c"}
    with pytest.raises(InvalidDataError, match="class 'c'"):
        stratified_split(np.array(["a"] * 50 + ["c"] * 2), [0.2, 0.2],
                         np.random.default_rng(0))


@pytest.mark.parametrize("name", ["tabular", "image", "text"])
def test_fingerprints_see_content_and_labels(name: str, digits: Images, reviews: Texts) -> None:
    modality = get_modality(name)
    data = {"tabular": pd.DataFrame({"x": np.arange(10.0), "y": list("aabbccddee")}),
            "image": modality.take(digits, np.arange(10)) if name == "image" else None,
            "text": modality.take(reviews, np.arange(10)) if name == "text" else None}[name]
    same = modality.concat([modality.take(data, np.arange(5)),
                            modality.take(data, np.arange(5, 10))])
    assert modality.fingerprint(same) == modality.fingerprint(data)
    assert modality.fingerprint(modality.take(data, np.arange(9, -1, -1))) != \
        modality.fingerprint(data)


def test_a_missing_extra_names_the_extra(monkeypatch) -> None:
    reg = registry.Registry("widget", {"synthaug.no_such_module_image": "image"})
    with pytest.raises(MissingDependencyError, match=r"synthaug\[image\]"):
        reg.get("no_such_module_image.gan")
    assert "synthaug.no_such_module_image" in reg.unavailable()
