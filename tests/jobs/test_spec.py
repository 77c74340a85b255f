"""Job files: a bad one fails naming its field before any work; the plan is a pure function."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synthaug.cli import main
from synthaug.config import SpecError
from synthaug.exceptions import InvalidParameterError, UnknownComponentError
from synthaug.jobs import check, load_job, run
from synthaug.jobs.plan import class_totals, plan_shards, shard_name
from synthaug.utils.random import derive_seed
from tests.jobs.support import job, save_copula


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_copula(tmp_path_factory.mktemp("model") / "copula")


def _without(spec: dict[str, Any], section: str, key: str) -> dict[str, Any]:
    out = {**spec, section: dict(spec[section])}
    del out[section][key]
    return out


BAD = [
    # (change to the spec, the field the error names, a piece of its message)
    (lambda s: {**s, "recods": 5}, "recods", "unknown key. Did you mean 'records'?"),
    (lambda s: {**s, "records": 0}, "records", "greater than or equal to 1"),
    (lambda s: {**s, "records": "1000"}, "records", "valid integer"),
    (lambda s: {**s, "version": 2}, "version", "1"),
    (lambda s: {**s, "model": {"path": "m", "generator": "tabular.copula"}}, "model",
     "exactly one of"),
    (lambda s: {**s, "model": {"generator": "tabular.copla", "data": "adult"}},
     "model.generator", "Did you mean 'tabular.copula'"),
    (lambda s: {**s, "model": {"generator": "tabular.copula"}}, "model", "needs model.data"),
    (lambda s: {**s, "model": {"generator": "tabular.copula", "data": "adult",
                               "params": {"random_state": 1}}}, "model.params", "set by the job"),
    (lambda s: {**s, "model": {"path": s["model"]["path"], "target": "income"}}, "model",
     "only with model.generator"),
    (lambda s: {**s, "mix": {"column": "income", "classes": [
        {"label": "a", "share": 0.5}, {"label": "b", "share": 0.4}]}}, "mix.classes",
     "add up to 1"),
    (lambda s: {**s, "mix": {"classes": [{"label": "a", "share": 0.5},
                                         {"label": "a", "share": 0.5}]}}, "mix.classes",
     "distinct"),
    (lambda s: {**s, "mix": {"classes": [{"label": "a", "share": 1.5}]}},
     "mix.classes[0].share", "less than or equal to 1"),
    (lambda s: {**s, "output": {"path": "o", "shard_size": 0}}, "output.shard_size",
     "greater than or equal to 1"),
    (lambda s: {**s, "output": {"path": "o", "format": "xlsx"}}, "output.format", "parquet"),
    (lambda s: {**s, "engine": {"name": "spark"}}, "engine.name", "Unknown engine 'spark'"),
    (lambda s: {**s, "engine": {"name": "local", "address": "ray://x:1"}}, "engine",
     "option of the ray engine"),
    (lambda s: {**s, "engine": {"threads": 0}}, "engine.threads", "greater than or equal"),
    (lambda s: {**s, "validation": {"suite": "default"}}, "", "validation.data is needed"),
    (lambda s: {**s, "conditions": {"age": float("nan")}}, "", "finite"),
]


@pytest.mark.parametrize(("change", "field", "message"), BAD)
def test_a_bad_spec_names_its_field_and_writes_nothing(
        change: Any, field: str, message: str, model: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    spec = change(job(model, out))
    with pytest.raises(SpecError) as info:
        run(spec)
    assert field in info.value.fields, str(info.value)
    assert message in str(info.value)
    assert not out.exists() and not (tmp_path / "o").exists()


@pytest.mark.parametrize(("section", "field", "message"), [
    ({"output": {"format": "png"}}, "output.format", "parquet, csv"),
    ({"mix": {"column": "income", "classes": [{"label": ">50K", "share": 0.5},
                                              {"label": "rich", "share": 0.5}]}},
     "mix.classes[1].label", "never seen"),
    ({"mix": {"classes": [{"label": ">50K", "share": 1.0}]}}, "mix.classes[0].label",
     "Name the table's label column in mix.column"),
    ({"conditions": {"colour": "red"}}, "conditions", "colour"),
    ({"validation": {"suite": "no-such-suite", "data": "adult"}}, "validation.suite",
     "no-such-suite"),
    ({"validation": {"suite": "", "data": "nowhere.csv"}}, "", ""),  # no suite: data unread
    ({"validation": {"data": "nowhere.csv"}}, "validation.data", "nowhere.csv"),
    ({"validation": {"data": "adult", "target": "incme"}}, "validation.target",
     "Did you mean 'income'"),
    ({"output": {"shard_size": 1}, "mix": {"column": "income", "classes": [
        {"label": ">50K", "share": 0.5}, {"label": "<=50K", "share": 0.5}]}},
     "output.shard_size", "too small"),
])
def test_what_needs_the_model_is_checked_before_any_work(
        section: dict[str, Any], field: str, message: str, model: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    spec = job(model, out, **section)
    if not message:  # the control: suite "" means no validation, so a missing file is fine
        check(spec)
        return
    with pytest.raises(SpecError) as info:
        check(spec)
    assert field in info.value.fields, str(info.value)
    assert message in str(info.value)
    with pytest.raises(SpecError):
        run(spec)
    assert not out.exists()


def test_paths_that_cannot_work_are_refused_before_any_work(model: Path,
                                                            tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(InvalidParameterError, match="is a file, not a folder"):
        run(job(model, blocker / "out"))
    with pytest.raises(SpecError, match="cannot be loaded as a saved generator") as info:
        run(job(tmp_path / "no-model", tmp_path / "out"))
    assert info.value.fields == ("model.path",)
    assert not (tmp_path / "out").exists()


def test_job_file_paths_are_read_from_its_folder(model: Path, tmp_path: Path) -> None:
    folder = tmp_path / "jobs"
    folder.mkdir()
    (folder / "job.toml").write_text(
        f'records = 100\n[model]\npath = "{model}"\n[output]\npath = "out"\n'
        '[engine]\nworkers = 1\n')
    loaded = load_job(folder / "job.toml")
    assert loaded.path(loaded.spec.output.path) == folder.resolve() / "out"
    plan = check(folder / "job.toml")
    assert plan["folder"] == str(folder.resolve() / "out") and plan["action"] == "new"
    (folder / "bad.toml").write_text("records = [\n")
    with pytest.raises(SpecError, match="not valid TOML"):
        load_job(folder / "bad.toml")


def test_unknown_engine_and_overrides(model: Path, tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="Unknown engine"):
        run(job(model, tmp_path / "out"), engine="dask")
    plan = check(job(model, tmp_path / "out"), workers=3)
    assert plan["engine"]["workers"] == 3  # three shards, three workers asked


def test_cli_check_writes_nothing_and_generate_runs(model: Path, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    file = tmp_path / "job.toml"
    file.write_text(f'records = 1500\nseed = 3\n[model]\npath = "{model}"\n'
                    f'[output]\npath = "{out}"\nshard_size = 1000\n[engine]\nworkers = 1\n')
    assert main(["generate", str(file), "--check"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert (plan["shards"], plan["action"], plan["modality"]) == (2, "new", "tabular")
    assert not out.exists()
    assert main(["generate", str(file), "--no-progress"]) == 0
    assert "job complete: 1,500 records in 2 shards" in capsys.readouterr().out
    assert sorted(p.name for p in (out / "shards").iterdir()) == [
        "shard-00000.parquet", "shard-00001.parquet"]
    file.write_text(file.read_text().replace("records = 1500", "records = -1"))
    assert main(["generate", str(file)]) == 2
    assert "records" in capsys.readouterr().err


def test_missing_ray_is_named_as_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    from synthaug import registry

    monkeypatch.setattr(registry.engines, "_failed", {
        "synthaug.jobs.engines.ray": ImportError("No module named 'ray'")})
    monkeypatch.setattr(registry.engines, "_items", {
        k: v for k, v in registry.engines._items.items() if k != "ray"})
    with pytest.raises(Exception, match=r"synthaug\[ray\]"):
        registry.engines.get("ray")
    with pytest.raises(UnknownComponentError):
        registry.engines.get("rya")


# -- the plan ----------------------------------------------------------------------------------
def test_shards_are_named_by_index_and_seeded_by_the_job_seed() -> None:
    shards = plan_shards(records=2_500, shard_size=1_000, seed=7, suffix=".parquet")
    assert [(s.name, s.records, s.start) for s in shards] == [
        ("shard-00000.parquet", 1000, 0), ("shard-00001.parquet", 1000, 1000),
        ("shard-00002.parquet", 500, 2000)]
    assert [s.seed for s in shards] == [derive_seed(7, "shard", i) for i in range(3)]
    assert len({s.seed for s in shards}) == 3
    # a shard's seed depends on the job seed and its index only, not on the job's size
    assert plan_shards(records=10**7, shard_size=1_000, seed=7, suffix="")[2].seed == \
        shards[2].seed
    assert shard_name(3, 123_456, ".jsonl") == "shard-000003.jsonl"


@settings(max_examples=60, deadline=None)
@given(records=st.integers(1, 5_000), shard_size=st.integers(4, 700),
       weights=st.lists(st.integers(1, 50), min_size=1, max_size=4))
def test_class_mix_totals_are_exact_and_shards_proportional(
        records: int, shard_size: int, weights: list[int]) -> None:
    shares = [w / sum(weights) for w in weights]
    classes = [(f"c{i}", s) for i, s in enumerate(shares)]
    shards = plan_shards(records=records, shard_size=shard_size, seed=0, suffix="",
                         classes=classes)
    totals = class_totals(records, shares)
    assert sum(totals) == records
    assert all(abs(t - records * s) < 1 for t, s in zip(totals, shares, strict=True))
    per_class = np.array([[n for _, n in s.counts] for s in shards])
    assert (per_class >= 0).all()
    assert per_class.sum(axis=0).tolist() == totals
    nominal = [min(shard_size, records - i * shard_size) for i in range(len(shards))]
    assert all(abs(s.records - n) <= len(classes) - 1 for s, n in zip(shards, nominal,
                                                                       strict=True))
