"""Running jobs: verified shards, resume, refusal, replacement, the gate, full disks."""

from __future__ import annotations

import errno
import json
import os
import shutil
from collections import namedtuple
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from synthaug import get_generator
from synthaug.cli import main
from synthaug.data.image import Images
from synthaug.data.text import Texts
from synthaug.exceptions import RunFolderError, UnsafeOutputError, ValidationFailedError
from synthaug.jobs import JobConflictError, ShardChecksumError, run
from synthaug.jobs.store import JobStore
from tests.dummies import IMAGE_DUMMY, TEXT_DUMMY
from tests.jobs.support import (
    digest,
    job,
    make_table,
    save_copula,
    shard_digests,
)

MIX = {"column": "income", "classes": [{"label": ">50K", "share": 0.3},
                                       {"label": "<=50K", "share": 0.7}]}


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_copula(tmp_path_factory.mktemp("model") / "copula")


@pytest.fixture(scope="module")
def suites(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("suites")
    out = {}
    for name, minimum in (("small", 0.5), ("strict", 0.9999)):
        out[name] = folder / f"{name}.toml"
        out[name].write_text(f'version = 1\nname = "{name}"\n[[checks]]\n'
                             f'validator = "fidelity.column_shapes"\nmin = {minimum}\n')
    return out


@pytest.fixture(scope="module")
def real_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    file = tmp_path_factory.mktemp("data") / "real.csv"
    make_table().to_csv(file, index=False)
    return file


@pytest.fixture(scope="module")
def reference(model: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The shards and records of an uninterrupted run of ``job(model, ...)`` with MIX."""
    out = tmp_path_factory.mktemp("reference") / "out"
    run(job(model, out, mix=MIX))
    return shard_digests(out)


def _no_temporaries(out: Path) -> None:
    assert not [p for p in out.rglob(".*") if p.name != ".synthaug.lock"]
    assert not (out / ".synthaug.lock").exists()
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]


def test_a_job_writes_verified_shards_and_its_manifest(model: Path, tmp_path: Path,
                                                       reference: dict[str, str]) -> None:
    out = tmp_path / "out"
    result = run(job(model, out, mix=MIX, conditions={"work": "State"}))
    assert result.ok and result.written == 3 and result.report is None
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest == result.manifest
    assert (manifest["status"], manifest["format"], manifest["n_shards"]) == (
        "complete", "synthaug.job", 3)
    assert set(manifest["versions"]) >= {"synthaug", "numpy", "torch", "pandas", "pyarrow"}
    for entry in manifest["shards"]:
        assert digest(out / entry["name"]) == entry["sha256"]
    frame = pd.read_parquet(out / "shards")  # the folder reads as one data set
    assert len(frame) == 2_500 == sum(e["records"] for e in manifest["shards"])
    assert (frame["work"] == "State").all()
    assert frame["income"].value_counts().to_dict() == {"<=50K": 1750, ">50K": 750}
    assert manifest["classes"] == [[">50K", 750], ["<=50K", 1750]]
    # every shard holds the mix, shuffled (not one class after the other)
    first = pd.read_parquet(out / "shards" / "shard-00000.parquet")["income"]
    assert first.value_counts().to_dict() == {"<=50K": 700, ">50K": 300}
    assert (first != first.iloc[0]).to_numpy()[:50].any()
    assert len({e["seed"] for e in manifest["shards"]}) == 3
    _no_temporaries(out)


def test_the_same_job_gives_the_same_bytes_with_two_worker_processes(
        model: Path, tmp_path: Path, reference: dict[str, str]) -> None:
    out = tmp_path / "out"
    result = run(job(model, out, mix=MIX, engine={"workers": 2}))
    assert result.last_run["engine"]["workers"] == 2
    assert shard_digests(out) == reference
    # the steady rate is timed from when both workers had delivered a shard, not the first
    timing = result.last_run
    assert timing["steady_from_records"] in (1_500, 2_000)  # two of the 1,000, 1,000, 500
    assert timing["first_shard_seconds"] <= timing["steady_from_seconds"] <= timing[
        "engine_seconds"]


def test_a_rerun_verifies_and_regenerates_only_deleted_shards(
        model: Path, tmp_path: Path, reference: dict[str, str]) -> None:
    out = tmp_path / "out"
    run(job(model, out, mix=MIX))
    again = run(job(model, out, mix=MIX))
    assert again.written == 0 and shard_digests(out) == reference
    (out / "shards" / "shard-00001.parquet").unlink()
    (out / "records" / "shard-00002.json").unlink()  # as if killed after the rename
    third = run(job(model, out, mix=MIX))
    assert third.written == 2 and shard_digests(out) == reference


def test_a_tampered_shard_is_found_by_its_checksum(model: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    run(job(model, out))
    shard = out / "shards" / "shard-00001.parquet"
    data = bytearray(shard.read_bytes())
    data[100] ^= 0xFF
    shard.write_bytes(bytes(data))
    with pytest.raises(ShardChecksumError, match=r"shard-00001\.parquet") as info:
        run(job(model, out))
    assert "Delete them" in str(info.value)
    assert shard.read_bytes() == bytes(data)  # found, never overwritten
    shard.unlink()  # what the message says to do
    assert run(job(model, out)).written == 1


def test_a_folder_of_other_files_or_another_job_is_refused(model: Path, tmp_path: Path) -> None:
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    for replace in (False, True):
        with pytest.raises(UnsafeOutputError, match=r"holds no manifest\.json"):
            run(job(model, foreign, output={"replace": replace}))
    assert sorted(p.name for p in foreign.iterdir()) == ["notes.txt"]
    with pytest.raises(UnsafeOutputError, match="not a synthaug job manifest"):
        run(job(model, model))  # a model folder holds a manifest.json of its own
    out = tmp_path / "out"
    run(job(model, out))
    before = shard_digests(out)
    with pytest.raises(JobConflictError, match="holds another job") as info:
        run(job(model, out, seed=8))
    assert "--replace" in str(info.value)
    assert shard_digests(out) == before


def test_replacing_keeps_the_old_job_until_the_new_one_is_complete(
        model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    run(job(model, out))
    old = shard_digests(out)
    write = JobStore.write_record
    calls = {"n": 0}

    def failing(self: JobStore, record: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RunFolderError("simulated crash in the middle of the new job")
        write(self, record)

    monkeypatch.setattr(JobStore, "write_record", failing)
    with pytest.raises(RunFolderError, match="simulated"):
        run(job(model, out, seed=8), replace=True)
    assert shard_digests(out) == old  # untouched while the new job is unfinished
    staging = [p for p in tmp_path.iterdir() if p.name.startswith(".out.job-")]
    assert len(staging) == 1
    monkeypatch.setattr(JobStore, "write_record", write)
    # killed again between the two renames of the swap: the old job moved aside, the new not in
    real = os.replace

    def crash_on_swap(src: Any, dst: Any) -> None:
        if Path(dst) == out:
            raise OSError(errno.EIO, "simulated crash during the swap")
        real(src, dst)

    monkeypatch.setattr(os, "replace", crash_on_swap)
    with pytest.raises(RunFolderError, match="simulated crash during the swap"):
        run(job(model, out, seed=8), replace=True)
    monkeypatch.setattr(os, "replace", real)
    assert not out.exists()  # the old folder is aside, not deleted, until the new one is in
    assert [p for p in tmp_path.iterdir() if p.name.startswith(".out.replaced-")]
    result = run(job(model, out, seed=8))  # no --replace needed to finish its own swap
    assert result.ok and result.manifest["spec"]["seed"] == 8
    reference = tmp_path / "fresh"
    run(job(model, reference, seed=8))
    assert shard_digests(out) == shard_digests(reference)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fresh", "out"]  # old one deleted


def test_a_failing_gate_marks_the_job_failed_and_keeps_the_shards(
        model: Path, tmp_path: Path, suites: dict[str, Path], real_csv: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    strict = {"suite": str(suites["strict"]), "data": str(real_csv), "sample": 500}
    result = run(job(model, out, validation=strict))
    assert result.status == "failed" and not result.ok
    assert result.manifest["validation"]["gate"] is False
    assert result.manifest["validation"]["failed"] == ["fidelity.column_shapes"]
    assert len(list((out / "shards").iterdir())) == 3
    with pytest.raises(ValidationFailedError, match="shards are kept"):
        result.raise_for_gate()
    file = tmp_path / "job.toml"
    file.write_text(f'records = 2500\nseed = 7\n[model]\npath = "{model}"\n'
                    f'[output]\npath = "{out}"\nshard_size = 1000\n'
                    f'[validation]\nsuite = "{suites["strict"]}"\ndata = "{real_csv}"\n'
                    'sample = 500\n')
    assert main(["generate", str(file), "--no-progress"]) == 1  # kept, not re-run
    assert "gate FAILED" in capsys.readouterr().out
    small = {**strict, "suite": str(suites["small"])}
    passed = run(job(model, out, validation=small))  # another suite: the gate is run again
    assert passed.ok and passed.written == 0
    assert passed.report is not None and passed.report.gate


def test_the_disk_estimate_refuses_a_job_that_would_not_fit(
        model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**6, 10**6 - 1000, 1000))
    with pytest.raises(RunFolderError, match=r"needs about .* GB free") as info:
        run(job(model, out))
    assert "2,500 missing records" in str(info.value)
    assert not out.exists()


def test_a_full_disk_fails_clearly_and_keeps_finished_shards(
        model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        reference: dict[str, str]) -> None:
    out = tmp_path / "out"
    real = pd.DataFrame.to_parquet
    calls = {"n": 0}

    def fill(self: pd.DataFrame, path: Any, *args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 3:  # the probe, shard 0, then shard 1 fills the disk half-way
            Path(path).write_bytes(b"PAR1 half a shard")
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, path, *args, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "to_parquet", fill)
    with pytest.raises(RunFolderError, match="No space left on device") as info:
        run(job(model, out, mix=MIX))
    assert "shard-00001.parquet" in str(info.value) and "rerun resumes" in str(info.value)
    assert sorted(p.name for p in (out / "shards").iterdir()) == ["shard-00000.parquet"]
    assert json.loads((out / "manifest.json").read_text())["status"] == "running"
    monkeypatch.setattr(pd.DataFrame, "to_parquet", real)
    assert run(job(model, out, mix=MIX)).written == 2
    assert shard_digests(out) == reference
    _no_temporaries(out)


def test_a_job_can_fit_its_generator_first(tmp_path: Path, real_csv: Path,
                                           suites: dict[str, Path]) -> None:
    out = tmp_path / "out"
    spec = {"records": 1_200, "seed": 1,
            "model": {"generator": "tabular.copula", "data": str(real_csv),
                      "target": "income", "params": {"n_quantiles": 50}},
            "output": {"path": str(out), "shard_size": 500},
            "mix": {"classes": [{"label": ">50K", "share": 0.5},
                                {"label": "<=50K", "share": 0.5}]},
            "validation": {"suite": str(suites["small"]), "sample": 300},
            "engine": {"workers": 1}}
    result = run(spec)
    assert result.ok and result.report is not None
    assert result.manifest["model"] == {"generator": "tabular.copula", "path": "model"}
    assert (out / "model" / "weights.safetensors").exists() or (out / "model").is_dir()
    saved = digest(out / "model" / "manifest.json")
    frame = pd.read_parquet(out / "shards")
    assert frame["income"].value_counts().to_dict() == {">50K": 600, "<=50K": 600}
    (out / "shards" / "shard-00002.parquet").unlink()
    assert run(spec).written == 1  # the saved model is loaded, not refitted
    assert digest(out / "model" / "manifest.json") == saved
    bad = {**spec, "mix": {"classes": [{"label": "rich", "share": 1.0}]},
           "output": {"path": str(tmp_path / "other")}}
    with pytest.raises(Exception, match=r"'rich' is not a class of the data"):
        run(bad)


def test_a_job_can_fit_the_generator_a_recipe_names(tmp_path: Path,
                                                    suites: dict[str, Path]) -> None:
    out = tmp_path / "out"
    result = run({"records": 300, "model": {"recipe": "adult-lowdata", "device": "cpu"},
                  "output": {"path": str(out)},
                  "validation": {"suite": str(suites["small"]), "sample": 200},
                  "engine": {"workers": 1}})
    assert result.ok and result.manifest["model"]["generator"] == "tabular.copula"
    assert "income" in pd.read_parquet(out / "shards").columns


def test_image_and_text_jobs_through_their_writers(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (40, 8, 8, 1), dtype=np.uint8)
    labels = np.array(["cat", "dog"] * 20, dtype=object)
    texts = Texts(np.array(["a good film", "a bad film", "great acting", "dull plot"] * 10,
                           dtype=object), np.array([1, 0, 1, 0] * 10))
    # the tiny image and text generators are registered for the whole session (conftest.py)
    get_generator(IMAGE_DUMMY, random_state=0).fit(Images(pixels, labels)).save(
        tmp_path / "img-model")
    get_generator(TEXT_DUMMY, random_state=0).fit(texts).save(tmp_path / "txt-model")
    images = {"records": 50, "model": {"path": str(tmp_path / "img-model")},
              "output": {"path": str(tmp_path / "images"), "shard_size": 20},
              "mix": {"classes": [{"label": "cat", "share": 0.2},
                                  {"label": "dog", "share": 0.8}]},
              "engine": {"workers": 1}}
    result = run(images)
    assert result.ok and [e["name"] for e in result.manifest["shards"]] == [
        "shards/shard-00000", "shards/shard-00001", "shards/shard-00002"]
    shard = tmp_path / "images" / "shards" / "shard-00000"
    assert (shard / "labels.parquet").is_file() and len(list(shard.rglob("*.png"))) == 20
    labels_read = pd.concat(pd.read_parquet(tmp_path / "images" / "shards" / f"shard-0000{i}"
                                            / "labels.parquet") for i in range(3))["label"]
    assert labels_read.value_counts().to_dict() == {"dog": 40, "cat": 10}
    before = shard_digests(tmp_path / "images")
    shutil.rmtree(shard)
    assert run(images).written == 1 and shard_digests(tmp_path / "images") == before
    text_job = {"records": 30, "model": {"path": str(tmp_path / "txt-model")},
                "output": {"path": str(tmp_path / "texts"), "shard_size": 16},
                "conditions": {"label": 1}, "engine": {"workers": 1}}
    done = run(text_job)
    lines = [json.loads(line) for i in range(2) for line in
             (tmp_path / "texts" / "shards" / f"shard-0000{i}.jsonl").read_text()
             .splitlines()]
    assert done.ok and len(lines) == 30 and {r["label"] for r in lines} == {1}
    with pytest.raises(Exception, match=r"conditions\.colour|class only"):
        run({**text_job, "conditions": {"colour": "red"}})
