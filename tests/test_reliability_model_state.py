"""A model folder whose saved state was edited fails at ``load`` with a ``ModelFormatError``
naming what is wrong, never later inside pandas at ``sample`` (issue 15, item 4), and a full
disk at ``save`` is a clear error that leaves any old model in place."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from safetensors import SafetensorError

from synthaug import get_generator
from synthaug.exceptions import InvalidParameterError, ModelFormatError
from synthaug.generators.base import BaseGenerator
from synthaug.utils import serialization


def _table() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({
        "x": rng.normal(size=60),
        "i": rng.integers(0, 9, 60),
        "c": rng.choice(["a", "b"], 60),
        "flag": rng.random(60) > 0.5,
        "day": pd.date_range("2020-01-01", periods=60, freq="D"),
        "level": pd.Categorical(rng.choice(["u", "v"], 60)),
    })
    frame.loc[3, "x"] = np.nan
    return frame


def rewrite_state(folder: Path, edit: Any) -> None:
    """Edit ``state.json`` and re-sign it in the manifest, as someone tampering would."""
    state = json.loads((folder / "state.json").read_text())
    edit(state)
    text = json.dumps(state)
    (folder / "state.json").write_text(text)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["files"]["state.json"] = hashlib.sha256(text.encode()).hexdigest()
    (folder / "manifest.json").write_text(json.dumps(manifest))


def set_field(column: str, key: str, value: Any) -> Any:
    def edit(state: dict[str, Any]) -> None:
        for col in state["schema"]["columns"]:
            if col["name"] == column:
                col[key] = value
    return edit


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("model") / "copula"
    get_generator("tabular.copula", random_state=0).fit(_table()).save(folder)
    return folder


# every one of these loaded before and then failed inside pandas or numpy at sample()
@pytest.mark.parametrize(("column", "key", "value", "said"), [
    ("x", "dtype", "banana", "not a dtype pandas knows"),
    ("c", "dtype", "float64", "cannot hold a categorical column"),
    ("level", "dtype", "int64", "cannot hold a categorical column"),
    ("day", "dtype", "int64", "cannot hold a datetime column"),
    ("day", "dtype", "datetime64[ns, Mars/Phobos]", "not a dtype pandas knows"),
    ("x", "dtype", "Int64", "cannot hold a numerical column"),
    ("x", "minimum", "a", "must be a finite number"),
    ("c", "categories", "ab", "must be a list"),
    ("i", "kind", "categorical", "cannot hold a categorical column"),
    ("c", "categories", [], "must list the levels"),
    ("day", "range_ns", [1], "must be [low, high]"),
    ("level", "ordered", "yes", "must be true or false"),
    ("x", "name", 3, "must be text"),
])
def test_a_tampered_column_is_a_format_error_at_load(saved: Path, tmp_path: Path, column: str,
                                                     key: str, value: Any, said: str) -> None:
    import shutil

    folder = tmp_path / "m"
    shutil.copytree(saved, folder)
    rewrite_state(folder, set_field(column, key, value))
    with pytest.raises(ModelFormatError, match="is damaged") as info:
        BaseGenerator.load(folder, device="cpu")
    assert said in str(info.value)
    assert repr(column if key != "name" else 3) in str(info.value)


def test_a_dtype_that_silently_changed_values_is_refused(saved: Path, tmp_path: Path) -> None:
    """int64 on a column of fractions sampled fine before, truncating every value."""
    import shutil

    folder = tmp_path / "m"
    shutil.copytree(saved, folder)
    rewrite_state(folder, set_field("x", "dtype", "int64"))
    with pytest.raises(ModelFormatError, match="'int64' cannot hold a numerical column"):
        BaseGenerator.load(folder, device="cpu")


def test_an_untouched_folder_still_loads_and_samples_the_same(saved: Path) -> None:
    model = BaseGenerator.load(saved, device="cpu")
    again = BaseGenerator.load(saved, device="cpu")
    pd.testing.assert_frame_equal(model.sample(30, random_state=1),
                                  again.sample(30, random_state=1))


def test_model_state_that_does_not_fit_the_schema_fails_at_load(saved: Path,
                                                                tmp_path: Path) -> None:
    """A state whose parts pass every field check but do not fit together (a copula latent
    pointing at a column that is not there) is caught by the trial draw at load."""
    import shutil

    folder = tmp_path / "m"
    shutil.copytree(saved, folder)

    def edit(state: dict[str, Any]) -> None:
        state["model"]["latents"][0]["value_dim"] = 99

    rewrite_state(folder, edit)
    with pytest.raises(ModelFormatError, match="is damaged"):
        BaseGenerator.load(folder, device="cpu")


def test_save_onto_a_full_disk_is_a_clear_error_and_keeps_the_old_model(
        saved: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """safetensors reports a full disk as its own SafetensorError, not an OSError."""
    import shutil

    folder = tmp_path / "m"
    shutil.copytree(saved, folder)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    model = BaseGenerator.load(folder, device="cpu")

    def full(*args: Any, **kwargs: Any) -> None:
        raise SafetensorError("Error while serializing: IoError(No space left on device)")

    monkeypatch.setattr(serialization, "save_file", full)
    with pytest.raises(InvalidParameterError, match="No space left on device"):
        model.save(folder)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary left
