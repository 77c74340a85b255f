"""The resumable run folder: old folders resume, foreign or damaged ones and write failures fail
loudly before any training, and the fingerprint stays what format 1 wrote."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from synthaug.data.modality import get_modality
from synthaug.exceptions import (
    InvalidParameterError,
    RunFolderError,
    SynthaugError,
    UnsafeOutputError,
)
from synthaug.recipes import experiment, load_recipe, run
from synthaug.recipes import runner as runner_module
from synthaug.recipes.store import RunStore
from synthaug.recipes.validation import previous_validation
from synthaug.validators.report import CheckResult, SuiteReport
from tests.recipes.helpers import make_table

#: a recipe that leaves model.name, augmentation.baseline and data.modality out: format 1 read
#: them as "tabular.mlp", "smote" and (implicitly) a table
DOC: dict[str, Any] = {
    "name": "tiny", "seeds": 2,
    "data": {"source": "tiny.csv", "target": "label", "sensitive": "grp"},
    "scenario": {"kind": "low_data", "fraction": 0.5},
    "augmentation": {"ratios": [0.5, 1.0]},
    "training": {"max_steps": 24},
    "report": {"suite": ""},
}
#: what the format-1 runner (commit 4af144a) computed for DOC at synthaug 0.1.0
FORMAT1_FINGERPRINT = "b1df1cb3e9cd4d472bafd8020d9021beb4ef9700b4972f67226349f0c8887347"
FORMAT1_DATA_HASH = "cb6f3be23d608db1eace128d0b6a40161d71dc720c8d81b9911f5d16da629801"
FORMAT1_ARMS = ["real", "synthetic-x0.5", "synthetic-x1", "synthetic-only", "smote-x0.5",
                "smote-x1"]


@pytest.fixture
def tiny_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    make_table().to_csv(tmp_path / "tiny.csv", index=False)
    monkeypatch.chdir(tmp_path)  # a mapping recipe reads relative sources from here
    monkeypatch.setattr(experiment, "__version__", "0.1.0")
    return tmp_path


def no_training(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record (instead of doing) any generator fit or model training."""
    calls: list[str] = []
    monkeypatch.setattr(runner_module, "_fit_generator",
                        lambda *a, **k: calls.append("fit") or (None, 0.0))
    monkeypatch.setattr(runner_module, "run_trial",
                        lambda *a, **k: calls.append("train") or {})
    return calls


# -- old folders resume ------------------------------------------------------------------------
def test_fingerprint_and_data_hash_are_format_1s(tiny_dir: Path) -> None:
    exp = experiment.prepare(load_recipe(DOC), "cpu", None)
    assert exp.sha256 == FORMAT1_DATA_HASH
    assert exp.fingerprint == FORMAT1_FINGERPRINT
    assert [a.key for a in exp.arms] == FORMAT1_ARMS
    # the modality's fingerprint is the data hash (format 1: SHA-256 of dtypes + row hashes)
    frame = pd.read_csv(tiny_dir / "tiny.csv")
    assert get_modality("tabular").fingerprint(frame) == FORMAT1_DATA_HASH
    # the same recipe spelt out (the values format 1 defaulted to) shares the folder
    spelt = json.loads(json.dumps(DOC))
    spelt["data"]["modality"] = "tabular"
    spelt["model"] = {"name": "tabular.mlp"}
    spelt["augmentation"]["baseline"] = "smote"
    assert experiment.prepare(load_recipe(spelt), "cpu", None).fingerprint == \
        FORMAT1_FINGERPRINT
    spelt["augmentation"]["baseline"] = "classic"
    assert experiment.prepare(load_recipe(spelt), "cpu", None).fingerprint == \
        FORMAT1_FINGERPRINT


def test_a_folder_written_by_format_1_is_resumed_not_retrained(
        tiny_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tiny_dir / "old-run"
    (out / "runs").mkdir(parents=True)
    # what the format-1 runner wrote (fields the report reads), with made-up metrics
    (out / "run.json").write_text(json.dumps({
        "format": 1, "recipe_name": "tiny", "fingerprint": FORMAT1_FINGERPRINT,
        "device": "cpu", "status": "running"}, indent=2))
    for arm in FORMAT1_ARMS:
        kind = ("real" if arm == "real" else "synthetic_only" if arm == "synthetic-only"
                else "augmented" if arm.startswith("synthetic") else "smote")
        ratio = None if arm == "real" else 1.0 if kind == "synthetic_only" else float(
            arm.split("-x")[1])
        (out / "runs" / arm).mkdir()
        for seed in (0, 1):
            (out / "runs" / arm / f"seed-{seed}.json").write_text(json.dumps({
                "format": 1, "fingerprint": FORMAT1_FINGERPRINT, "arm": arm, "kind": kind,
                "ratio": ratio, "seed": seed, "device": "cpu", "notes": [],
                "metrics": {"accuracy": 0.5 + seed / 10, "macro_f1": 0.5, "roc_auc": 0.5}},
                indent=1))
    calls = no_training(monkeypatch)
    report = run(DOC, out_dir=out, device="cpu", progress=False, threads=1)
    assert calls == []
    assert report.info["trained"] == 0 and report.info["reused"] == 12
    assert report.arm("smote-x1").metrics["accuracy"].mean == pytest.approx(0.55)
    assert json.loads((out / "run.json").read_text())["status"] == "finished"


# -- folders synthaug may not use --------------------------------------------------------------
def test_a_non_empty_folder_without_run_json_is_refused_and_left_alone(
        tiny_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tiny_dir / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("my notes")
    calls = no_training(monkeypatch)
    with pytest.raises(UnsafeOutputError, match=r"not empty and holds no run\.json") as info:
        run(DOC, out_dir=out, device="cpu", progress=False, threads=1)
    assert str(out) in str(info.value)
    assert calls == []
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]
    assert (out / "notes.txt").read_text() == "my notes"


def test_an_empty_folder_is_used(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    store = RunStore(tmp_path / "empty", fingerprint="f" * 64, device="cpu")
    store.open()
    store.write_manifest({"status": "running"})
    assert json.loads((tmp_path / "empty" / "run.json").read_text())["fingerprint"] == "f" * 64


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", '{"device": "cpu"}', "\xff"],
                         ids=["broken", "not an object", "no fingerprint", "not utf-8"])
def test_an_unreadable_run_json_fails_loudly_saying_how_to_fix(
        tiny_dir: Path, monkeypatch: pytest.MonkeyPatch, content: str) -> None:
    out = tiny_dir / "damaged"
    (out / "runs").mkdir(parents=True)
    (out / "run.json").write_bytes(content.encode("latin-1"))
    calls = no_training(monkeypatch)
    with pytest.raises(RunFolderError, match=r"run\.json") as info:
        run(DOC, out_dir=out, device="cpu", progress=False, threads=1)
    assert "move the folder away" in str(info.value)
    assert calls == []
    assert (out / "run.json").read_bytes() == content.encode("latin-1"), "left as it was"


def test_a_run_of_another_device_is_refused(tmp_path: Path) -> None:
    RunStore(tmp_path, fingerprint="abc", device="cuda:0").write_manifest({})
    with pytest.raises(InvalidParameterError, match="computed on cuda:0"):
        RunStore(tmp_path, fingerprint="abc", device="cpu").open()
    with pytest.raises(InvalidParameterError, match="different recipe"):
        RunStore(tmp_path, fingerprint="xyz", device="cuda:0").open()


def test_an_out_path_that_is_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "out").write_text("x")
    with pytest.raises(UnsafeOutputError, match="is a file"):
        RunStore(tmp_path / "out", fingerprint="abc", device="cpu").open()


# -- write failures: a clear error naming the path, before any training ------------------------
def test_a_full_disk_is_a_clear_error_before_training(
        tiny_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(self: Path, *args: Any, **kwargs: Any) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))

    calls = no_training(monkeypatch)
    monkeypatch.setattr(Path, "write_text", full)
    out = tiny_dir / "out"
    with pytest.raises(RunFolderError, match="No space left on device") as info:
        run(DOC, out_dir=out, device="cpu", progress=False, threads=1)
    assert isinstance(info.value, SynthaugError) and isinstance(info.value, OSError)
    assert str(out / "run.json") in str(info.value)
    assert "--out" in str(info.value)
    assert calls == []
    monkeypatch.undo()
    assert not (out / "run.json").exists() and not list(out.glob(".*tmp"))


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
def test_an_out_folder_that_cannot_be_made_is_a_clear_error(
        tiny_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # no folder can be made under /proc, not even by root (whom permissions do not stop)
    calls = no_training(monkeypatch)
    out = Path("/proc/synthaug-test-run")
    with pytest.raises(SynthaugError, match="synthaug-test-run") as info:
        run(DOC, out_dir=out, device="cpu", progress=False, threads=1)
    assert isinstance(info.value, OSError)
    assert calls == []


def test_an_out_folder_inside_a_file_is_a_clear_error(
        tiny_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tiny_dir / "a-file").write_text("x")
    calls = no_training(monkeypatch)
    with pytest.raises(SynthaugError, match="a-file"):
        run(DOC, out_dir=tiny_dir / "a-file" / "out", device="cpu", progress=False, threads=1)
    assert calls == []


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="root writes into read-only folders")
def test_a_read_only_out_folder_is_a_clear_error(
        tiny_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    locked = tiny_dir / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    calls = no_training(monkeypatch)
    try:
        with pytest.raises(SynthaugError, match="locked"):
            run(DOC, out_dir=locked / "out", device="cpu", progress=False, threads=1)
    finally:
        locked.chmod(0o700)
    assert calls == []


# -- a resumed run shows the earlier validation as it was --------------------------------------
def test_a_resumed_run_reports_a_failed_gate_as_failed(tmp_path: Path) -> None:
    failed = CheckResult(id="fidelity.pair_trends", validator="fidelity.pair_trends",
                         status="fail", gates=True, min=0.9, value=0.4)
    SuiteReport(suite="default", source="-", gate=False, checks=(failed,)).write(
        tmp_path / "validation.json")
    summary = previous_validation(tmp_path)
    assert summary is not None
    assert summary["gate"] is False  # format 1 gave the gate's dict, which reads as true
    assert summary["failed"] == ["fidelity.pair_trends"] and summary["resumed"] is True
    (tmp_path / "validation.json").write_text("{")
    assert previous_validation(tmp_path) is None
