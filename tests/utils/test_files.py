"""Outputs never destroy what synthaug did not write (issue: data loss through --out, save())."""

from __future__ import annotations

import json
import os
import stat

import numpy as np
import pandas as pd
import pytest

from synthaug import get_generator
from synthaug.cli import main
from synthaug.exceptions import InvalidParameterError, SynthaugError, UnsafeOutputError
from synthaug.generators.base import BaseGenerator
from synthaug.utils import files
from synthaug.utils.files import atomic_file, atomic_folder, check_output_file


@pytest.fixture
def table(tmp_path):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=60), "c": rng.choice(["a", "b"], 60)})
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False)
    return path


def _precious(folder):
    folder.mkdir(parents=True)
    (folder / "precious.txt").write_text("keep")
    return folder / "precious.txt"


@pytest.mark.parametrize("flag", ["--out", "--report"])
def test_cli_refuses_an_existing_directory_as_a_file_output(tmp_path, table, capsys, flag):
    target = tmp_path / "isdir.parquet"
    precious = _precious(target)
    out = str(tmp_path / "fine.parquet")
    args = ["augment", str(table), "--n", "10", "--seed", "0"]
    args += ["--out", str(target)] if flag == "--out" else ["--out", out, "--report", str(target)]
    assert main(args) == 2
    assert precious.read_text() == "keep"
    assert "is an existing directory" in capsys.readouterr().err
    assert not (tmp_path / "fine.parquet").exists()  # refused before any work


def test_validate_refuses_an_existing_directory_as_report(tmp_path, table, capsys):
    precious = _precious(tmp_path / "r.html")
    assert main(["validate", str(table), str(table), "--report", str(tmp_path / "r.html")]) == 2
    assert precious.read_text() == "keep"


def test_cli_refuses_the_same_path_for_out_and_report(tmp_path, table, capsys):
    out = tmp_path / "same.csv"
    assert main(["augment", str(table), "--n", "5", "--out", str(out), "--report",
                 str(out)]) == 2
    assert "both name" in capsys.readouterr().err
    assert not out.exists()


def test_save_refuses_a_folder_synthaug_did_not_write(tmp_path):
    gen = get_generator("tabular.copula", random_state=0).fit(
        pd.DataFrame({"x": np.arange(20.0), "c": ["a", "b"] * 10}))
    precious = _precious(tmp_path / "mine")
    with pytest.raises(UnsafeOutputError, match=r"precious\.txt"):
        gen.save(tmp_path / "mine")
    assert precious.read_text() == "keep"
    file = tmp_path / "notes.txt"
    file.write_text("keep")
    with pytest.raises(UnsafeOutputError, match="file, not a folder"):
        gen.save(file)
    assert file.read_text() == "keep"
    # an empty folder and a synthaug model folder are replaced, the latter atomically
    (tmp_path / "empty").mkdir()
    gen.save(tmp_path / "empty")
    gen.save(tmp_path / "empty")
    assert sorted(p.name for p in (tmp_path / "empty").iterdir()) == [
        "manifest.json", "state.json", "weights.safetensors"]
    assert isinstance(BaseGenerator.load(tmp_path / "empty", device="cpu"), type(gen))
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no leftovers


def test_failed_replacement_keeps_the_old_model(tmp_path, monkeypatch):
    gen = get_generator("tabular.copula", random_state=0).fit(
        pd.DataFrame({"x": np.arange(20.0), "c": ["a", "b"] * 10}))
    gen.save(tmp_path / "model")
    before = (tmp_path / "model" / "manifest.json").read_bytes()
    real_replace = os.replace
    calls = []

    def flaky(src, dst):  # the second rename (new folder into place) fails
        calls.append((src, dst))
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return real_replace(src, dst)

    monkeypatch.setattr(files.os, "replace", flaky)
    with pytest.raises(InvalidParameterError, match="unchanged"):
        gen.save(tmp_path / "model")
    monkeypatch.undo()
    assert (tmp_path / "model" / "manifest.json").read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_model_files_get_the_same_permissions(tmp_path):
    gen = get_generator("tabular.copula", random_state=0).fit(
        pd.DataFrame({"x": np.arange(20.0)}))
    gen.save(tmp_path / "m")
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in (tmp_path / "m").iterdir()}
    assert set(modes.values()) == {files.FILE_MODE}, modes


def test_atomic_file_leaves_nothing_on_error(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_file(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("boom")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_atomic_folder_refuses_foreign_content(tmp_path):
    precious = _precious(tmp_path / "f")
    with pytest.raises(UnsafeOutputError, match="not mine"), atomic_folder(
        tmp_path / "f", replaceable=lambda p: "not mine"
    ):
        pass
    assert precious.read_text() == "keep"


def test_check_output_file_names_a_file_parent(tmp_path):
    (tmp_path / "a").write_text("x")
    with pytest.raises(InvalidParameterError, match="is a file, not a folder"):
        check_output_file(tmp_path / "a" / "b.csv")


@pytest.mark.parametrize("version", [0, -1, True, "1"])
def test_manifest_format_version_must_be_a_positive_int(tmp_path, version):
    gen = get_generator("tabular.copula", random_state=0).fit(pd.DataFrame({"x": np.arange(9.)}))
    gen.save(tmp_path / "m")
    manifest = json.loads((tmp_path / "m" / "manifest.json").read_text())
    manifest["format_version"] = version
    (tmp_path / "m" / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(SynthaugError, match="format_version"):
        BaseGenerator.load(tmp_path / "m", device="cpu")


def test_deeply_nested_state_is_a_format_error(tmp_path):
    gen = get_generator("tabular.copula", random_state=0).fit(pd.DataFrame({"x": np.arange(9.)}))
    gen.save(tmp_path / "m")
    deep = "[" * 200_000 + "]" * 200_000
    (tmp_path / "m" / "state.json").write_text(deep)
    manifest = json.loads((tmp_path / "m" / "manifest.json").read_text())
    import hashlib

    manifest["files"]["state.json"] = hashlib.sha256(deep.encode()).hexdigest()
    (tmp_path / "m" / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(SynthaugError, match="nested too deeply"):
        BaseGenerator.load(tmp_path / "m", device="cpu")
