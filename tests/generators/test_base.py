"""The generator contract's base (``generators.base``): listing by modality, and loading refuses
tampered, truncated or foreign model folders with a ModelFormatError."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from synthaug import list_generators
from synthaug.exceptions import ModelFormatError
from synthaug.generators.base import BaseGenerator
from tests.dummies import IMAGE_DUMMY, TEXT_DUMMY
from tests.generators.helpers import fitted


def test_the_dummies_are_listed_by_modality() -> None:
    assert IMAGE_DUMMY in list_generators("image")
    assert TEXT_DUMMY in list_generators("text")
    assert IMAGE_DUMMY not in list_generators("tabular")


# -- tampered and truncated model folders ----------------------------------------------------
@pytest.fixture
def saved(mixed_frame: pd.DataFrame, tmp_path: Path) -> Path:
    return fitted("tabular.copula", mixed_frame).save(tmp_path / "model")


def test_missing_weights(saved: Path) -> None:
    (saved / "weights.safetensors").unlink()
    with pytest.raises(ModelFormatError, match=r"missing weights.safetensors"):
        BaseGenerator.load(saved)


def test_truncated_weights(saved: Path) -> None:
    data = (saved / "weights.safetensors").read_bytes()
    (saved / "weights.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFormatError, match="changed or truncated"):
        BaseGenerator.load(saved)


def test_edited_manifest(saved: Path) -> None:
    manifest = json.loads((saved / "manifest.json").read_text())
    manifest["generator"] = "tabular.nonexistent"
    (saved / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelFormatError, match="unknown generator"):
        BaseGenerator.load(saved)
    (saved / "manifest.json").write_text("{not json")
    with pytest.raises(ModelFormatError, match="not valid JSON"):
        BaseGenerator.load(saved)


def test_edited_state(saved: Path) -> None:
    (saved / "state.json").write_text('{"schema": {}}')
    with pytest.raises(ModelFormatError, match="checksum"):
        BaseGenerator.load(saved)


def test_newer_format_version(saved: Path) -> None:
    manifest = json.loads((saved / "manifest.json").read_text())
    manifest["format_version"] = 99
    (saved / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelFormatError, match="Upgrade synthaug"):
        BaseGenerator.load(saved)


def test_not_a_model_folder(tmp_path: Path) -> None:
    with pytest.raises(ModelFormatError, match="no such directory"):
        BaseGenerator.load(tmp_path / "nothing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelFormatError, match=r"no manifest.json"):
        BaseGenerator.load(tmp_path / "empty")


def test_save_is_atomic_over_existing(saved: Path, mixed_frame: pd.DataFrame) -> None:
    before = (saved / "manifest.json").read_text()
    gen = fitted("tabular.copula", mixed_frame, seed=9)
    gen.save(saved)  # overwrite in place
    assert (saved / "manifest.json").read_text() != before
    assert not [p for p in saved.parent.iterdir() if p.name.startswith(".")]
