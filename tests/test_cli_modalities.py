"""`synthaug validate` and `synthaug augment` on images and texts, from their files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from synthaug.cli import main
from synthaug.data.modality import get_modality
from synthaug.data.sources import read_source
from tests.dummies import dummies_registered


@pytest.fixture(scope="module")
def image_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("images")
    image, digits = read_source("digits")
    order = np.random.default_rng(0).permutation(len(digits))
    image.write(image.take(digits, order[:500]), root / "real")          # root/<class>/*.png
    image.write(image.take(digits, order[500:1000]), root / "synth.npz")
    image.write(image.take(digits, order[1000:1500]), root / "holdout")
    image.write(image.take(digits, order[:500]), root / "copy.npz")
    return root


@pytest.fixture(scope="module")
def text_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("texts")
    rng = np.random.default_rng(0)
    words = {"fresh": ["fine", "warm", "moving", "smart", "funny", "great", "bold", "tender"],
             "rotten": ["dull", "flat", "tedious", "weak", "long", "messy", "boring", "thin"]}
    records = []
    for i in range(900):
        label = "fresh" if i % 2 else "rotten"
        records.append((" ".join(rng.choice(words[label], size=rng.integers(4, 12))) + f" {i}",
                        label))
    text = get_modality("text")
    batch = text.check([r[0] for r in records], [r[1] for r in records])
    text.write(text.take(batch, np.arange(300)), root / "real.jsonl")
    text.write(text.take(batch, np.arange(300, 600)), root / "synth.jsonl")
    text.write(text.take(batch, np.arange(300)), root / "copy.jsonl")
    hold = text.take(batch, np.arange(600, 900))
    pd.DataFrame({"review": hold.texts, "verdict": hold.labels}).to_csv(root / "holdout.csv",
                                                                        index=False)
    return root


def test_validate_images_from_a_folder_picks_the_image_suite(image_files: Path, capsys) -> None:
    report = image_files / "r.html"
    code = main(["validate", str(image_files / "real"), str(image_files / "synth.npz"),
                 "--holdout", str(image_files / "holdout"), "--report", str(report)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "suite image-default: gate PASSED" in out
    html = report.read_text()
    assert "modality: image" in html and "data:image/png;base64," in html
    assert "samples per class" in html


def test_a_verbatim_copy_of_the_images_fails_the_gate(image_files: Path, capsys) -> None:
    json_out = image_files / "copy.json"
    code = main(["validate", str(image_files / "real"), str(image_files / "copy.npz"),
                 "--holdout", str(image_files / "holdout"), "--report", str(json_out)])
    assert code == 1
    checks = {c["id"]: c for c in json.loads(json_out.read_text())["checks"]}
    assert checks["privacy.exact_copies"]["status"] == "fail"
    assert checks["privacy.dcr"]["value"] == 1.0


def test_validate_texts_from_jsonl_and_a_csv_with_its_own_columns(text_files: Path,
                                                                    capsys) -> None:
    report = text_files / "r.md"
    code = main(["validate", str(text_files / "real.jsonl"), str(text_files / "synth.jsonl"),
                 "--report", str(report)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "suite text-default" in out
    markdown = report.read_text()
    assert "modality: text" in markdown and "fresh" in markdown
    # the holdout is a CSV with other column names: --text-column and --target name them
    real_csv = text_files / "real.csv"
    real = get_modality("text").read(text_files / "real.jsonl")
    pd.DataFrame({"review": real.texts, "verdict": real.labels}).to_csv(real_csv, index=False)
    synth_csv = text_files / "synth.csv"
    synth = get_modality("text").read(text_files / "synth.jsonl")
    pd.DataFrame({"review": synth.texts, "verdict": synth.labels}).to_csv(synth_csv, index=False)
    code = main(["validate", str(real_csv), str(synth_csv), "--holdout",
                 str(text_files / "holdout.csv"), "--text-column", "review", "--target",
                 "verdict"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "privacy.dcr" in out and "skipped" not in out.split("privacy.dcr")[1].split("\n")[0]


def test_a_verbatim_copy_of_the_texts_fails_the_gate(text_files: Path) -> None:
    assert main(["validate", str(text_files / "real.jsonl"),
                 str(text_files / "copy.jsonl")]) == 1


def test_validate_refuses_mixed_modalities_and_tabular_suites(image_files: Path,
                                                            text_files: Path, capsys) -> None:
    assert main(["validate", str(image_files / "real"), str(text_files / "synth.jsonl")]) == 2
    assert "holds text data but the real data are image" in capsys.readouterr().err
    assert main(["validate", str(image_files / "real"), str(image_files / "synth.npz"),
                 "--suite", "default"]) == 2
    assert "scores tabular data, but the data are image" in capsys.readouterr().err


def test_augment_images_writes_a_folder(image_files: Path, tmp_path: Path, capsys) -> None:
    with dummies_registered():
        code = main(["augment", str(image_files / "real"), "--generator", "image.dummy",
                     "--balance", "--synthetic-only", "--seed", "0", "--out",
                     str(tmp_path / "made"), "--no-progress"])
    assert code == 0, capsys.readouterr().err
    made = get_modality("image").read(tmp_path / "made")
    assert made.size == (8, 8, 1) and len(made) > 0
    with dummies_registered():
        assert main(["augment", str(image_files / "real"), "--generator", "image.dummy",
                     "--n", "5", "--out", str(tmp_path / "bad.csv")]) == 2
    assert "a folder or .npz" in capsys.readouterr().err
