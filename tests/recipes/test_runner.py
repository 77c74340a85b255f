"""Recipes: every arm end to end on a tiny table, no leakage, determinism, resume, bad files."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest
import torch

from synthaug import registry
from synthaug.config import RecipeSpec, SpecError, parse_spec
from synthaug.exceptions import InvalidParameterError
from synthaug.generators.base import register_generator
from synthaug.generators.tabular.copula import GaussianCopulaGenerator
from synthaug.recipes import (
    GainReport,
    run,
    split_data,
)
from synthaug.recipes.cli import add_recipe_parser
from synthaug.recipes.tasks.tabular import TabularInputs, TabularMLP
from tests.recipes.helpers import make_table

SPY = "tabular.spytest"


class SpyCopula(GaussianCopulaGenerator):
    """The copula, recording every frame it is fitted on (and itself, for its schema_)."""

    family = "spytest"
    fits: ClassVar[list[pd.DataFrame]] = []
    fitted: ClassVar[list[SpyCopula]] = []

    def _fit(self, X: Any, y: Any, rng: np.random.Generator) -> None:
        SpyCopula.fits.append(X.copy())
        super()._fit(X, y, rng)
        SpyCopula.fitted.append(self)


class CountingMLP(TabularMLP):
    """The registered MLP, counting forward passes in training mode (one per optimizer step)."""

    train_steps: ClassVar[int] = 0

    def forward(self, x_num: torch.Tensor, x_cat: torch.Tensor) -> torch.Tensor:
        if self.training:
            CountingMLP.train_steps += 1
        return super().forward(x_num, x_cat)


COUNTING = "tabular.countingmlp"


def counting_factory(inputs: TabularInputs, **params: Any) -> CountingMLP:
    return CountingMLP(inputs, **params)


@pytest.fixture(scope="module", autouse=True)
def _spy_registered() -> None:
    # registered at run time, not import time, so collection-time generator lists in other test
    # modules never pick them up
    if SPY not in registry.generators:
        register_generator(SPY)(SpyCopula)
    if COUNTING not in registry.downstream_models:
        registry.downstream_models.register(COUNTING)(counting_factory)


# -- a tiny recipe (on helpers.make_table) ----------------------------------------------------
BASE: dict[str, Any] = {
    "name": "tiny",
    "seeds": 2,
    "data": {"source": "tiny.csv", "target": "label", "sensitive": "grp"},
    "split": {"seed": 0, "validation": 0.2, "test": 0.25},
    "scenario": {"kind": "low_data", "fraction": 0.5},
    "generator": {"name": SPY},
    "augmentation": {"ratios": [0.5, 1.0], "classes": "preserve", "synthetic_only": True,
                     "baseline": "smote"},
    "model": {"name": COUNTING, "params": {"hidden": [16], "dropout": 0.0}},
    "training": {"max_steps": 24, "batch_size": 32, "eval_every": 4, "patience": 3,
                 "threads": 1},
    "report": {"metric": "roc_auc"},
}


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(value)


def to_toml(doc: dict[str, Any]) -> str:
    lines = [f"{k} = {_toml_value(v)}" for k, v in doc.items() if not isinstance(v, dict)]
    for section, table in doc.items():
        if isinstance(table, dict):
            lines += ["", f"[{section}]"] + [f"{k} = {_toml_value(v)}" for k, v in table.items()]
    return "\n".join(lines) + "\n"


def write_recipe(folder: Path, doc: dict[str, Any], name: str = "tiny.toml") -> Path:
    path = folder / name
    path.write_text(to_toml(doc))
    return path


def with_changes(**sections: dict[str, Any]) -> dict[str, Any]:
    doc = json.loads(json.dumps(BASE))
    for section, changes in sections.items():
        if section == "top":
            doc.update(changes)
        else:
            doc.setdefault(section, {}).update(changes)
    return doc


class TinyRun:
    """The shared end-to-end run (and what it needs) that most tests read."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        frame = make_table()
        spec = parse_spec(BASE, RecipeSpec)
        self.splits = split_data(spec, frame)
        # Plant markers.  The split depends only on the target, so relabelling a feature
        # leaves every row where it was.  HELDOUT only in validation/test rows, DROPPED only in
        # training rows the low-data scenario discards, KEPT in a few rows it keeps (the
        # positive control: proof that the spy sees the column at all).
        held_out = np.concatenate([self.splits.validation, self.splits.test])
        dropped = np.setdiff1d(self.splits.train_full, self.splits.train)
        frame.loc[held_out[::2], "color"] = "HELDOUT"
        frame.loc[dropped, "color"] = "DROPPED"
        frame.loc[self.splits.train[:5], "color"] = "KEPT"
        frame.to_csv(folder / "tiny.csv", index=False)
        self.frame = frame
        self.recipe = write_recipe(folder, BASE)
        self.out = folder / "run"
        SpyCopula.fits.clear()
        SpyCopula.fitted.clear()
        CountingMLP.train_steps = 0
        self.threads = torch.get_num_threads()
        self.torch_state = torch.get_rng_state()
        self.numpy_state = np.random.get_state()[1].copy()  # type: ignore[index]
        self.report = run(self.recipe, out_dir=self.out, device="cpu", progress=False,
                          threads=1)
        self.threads_after = torch.get_num_threads()
        self.torch_state_after = torch.get_rng_state()
        self.numpy_state_after = np.random.get_state()[1].copy()  # type: ignore[index]
        self.fits = list(SpyCopula.fits)
        self.fitted = list(SpyCopula.fitted)
        self.train_steps = CountingMLP.train_steps


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory, _spy_registered: None) -> TinyRun:
    return TinyRun(tmp_path_factory.mktemp("recipe"))


def metrics_by_run(report: GainReport) -> dict[tuple[str, int], dict[str, Any]]:
    return {(r["arm"], r["seed"]): r["metrics"] for r in report.runs}


# -- end to end --------------------------------------------------------------------------------
def test_every_arm_runs_end_to_end(tiny: TinyRun) -> None:
    report = tiny.report
    names = [a.name for a in report.arms]
    assert names == ["real", "synthetic-x0.5", "synthetic-x1", "synthetic-only", "smote-x0.5",
                     "smote-x1"]
    assert report.seeds == [0, 1]
    for arm in report.arms:
        for metric in ("accuracy", "macro_f1", "roc_auc", "roc_auc@grp=A", "roc_auc@grp=B"):
            iv = arm.metrics[metric]
            assert iv.n == 2 and 0.0 <= iv.mean <= 1.0 and iv.low <= iv.mean <= iv.high
        if arm.name != "real":
            assert set(arm.verdicts.values()) <= {"gain", "harm", "no detectable gain"}
            assert arm.difference["roc_auc"].n == 2
    assert len(tiny.fits) == 2, "the generator is fitted once per seed, shared by its arms"

    runs = {(r["arm"], r["seed"]): r for r in report.runs}
    n_real = len(tiny.splits.train)
    real_counts = runs[("real", 0)]["train_class_counts"]
    assert sum(real_counts.values()) == n_real
    # class-conditional draws keep the real class proportions: at 1x every class doubles
    doubled = {k: 2 * v for k, v in real_counts.items()}
    assert runs[("synthetic-x1", 0)]["train_class_counts"] == doubled
    assert runs[("smote-x1", 0)]["train_class_counts"] == doubled
    assert runs[("synthetic-x0.5", 1)]["n_synthetic"] == round(0.5 * n_real)
    assert runs[("synthetic-only", 0)]["n_real"] == 0
    assert runs[("synthetic-only", 0)]["train_class_counts"] == real_counts
    for r in report.runs:  # the same budget for every arm
        assert r["fit"]["steps"] <= 24

    files = {p.name for p in tiny.out.iterdir()}
    assert {"results.json", "report.md", "gain.png", "run.json", "runs", "validation.html",
            "validation.json"} <= files
    validation = json.loads((tiny.out / "validation.json").read_text())
    assert validation["suite"] == "default"
    # the test rows are the privacy holdout, the sensitive column reaches the bias check
    ran = {c["validator"] for c in validation["checks"] if c["status"] != "skipped"}
    assert {"fidelity.column_shapes", "privacy.dcr", "bias.group_representation"} <= ran
    assert "suite `default`: gate" in (tiny.out / "report.md").read_text()
    assert (tiny.out / "gain.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "## Headline: ROC AUC" in (tiny.out / "report.md").read_text()
    assert GainReport.load(tiny.out).to_dict() == json.loads(report.to_json())
    record = json.loads((tiny.out / "run.json").read_text())
    assert record["recipe_text"] == tiny.recipe.read_text()
    assert record["seeds"] == [0, 1] and record["status"] == "finished"
    assert len(record["data"]["sha256"]) == 64
    assert {"torch", "numpy", "pandas", "scikit-learn", "imbalanced-learn"} <= set(
        record["versions"])


def test_global_random_and_thread_state_is_left_alone(tiny: TinyRun) -> None:
    assert tiny.threads == tiny.threads_after
    assert torch.equal(tiny.torch_state, tiny.torch_state_after)
    assert np.array_equal(tiny.numpy_state, tiny.numpy_state_after)


def test_generator_never_sees_validation_test_or_discarded_rows(tiny: TinyRun) -> None:
    assert tiny.fits, "the spy generator was never fitted"
    planted_held_out = set(tiny.frame.loc[tiny.splits.test, "color"]) | set(
        tiny.frame.loc[tiny.splits.validation, "color"])
    assert "HELDOUT" in planted_held_out  # the marker is really in the data the runner read
    for seen, gen in zip(tiny.fits, tiny.fitted, strict=True):
        colors = set(seen["color"].dropna())
        assert "KEPT" in colors, "positive control: the spy must see the kept training rows"
        assert "HELDOUT" not in colors, "validation/test rows reached the generator"
        assert "DROPPED" not in colors, "rows the scenario discarded reached the generator"
        assert len(seen) == len(tiny.splits.train)
        assert "HELDOUT" not in (gen.schema_["color"].categories or [])


def test_same_recipe_and_seeds_give_identical_numbers(tiny: TinyRun) -> None:
    again = run(tiny.recipe, out_dir=tiny.folder / "again", device="cpu", progress=False,
                threads=1)
    assert metrics_by_run(again) == metrics_by_run(tiny.report)


def test_rerun_resumes_without_retraining(tiny: TinyRun) -> None:
    fits, steps = len(SpyCopula.fits), CountingMLP.train_steps
    again = run(tiny.recipe, out_dir=tiny.out, device="cpu", progress=False, threads=1)
    assert len(SpyCopula.fits) == fits and CountingMLP.train_steps == steps
    assert again.info["trained"] == 0 and again.info["reused"] == 12
    assert metrics_by_run(again) == metrics_by_run(tiny.report)
    # the earlier validation is shown as it was (format 1 read a failed gate as passed)
    shown, first = again.info["validation"], tiny.report.info["validation"]
    assert shown["resumed"] and shown["gate"] is first["gate"]
    assert shown["failed"] == first["failed"]

    # an interrupted run: one synthetic arm's result is missing -> only it is redone, exactly
    (tiny.out / "runs" / "synthetic-x1" / "seed-1.json").unlink()
    resumed = run(tiny.recipe, out_dir=tiny.out, device="cpu", progress=False, threads=1)
    assert resumed.info["trained"] == 1 and resumed.info["reused"] == 11
    assert len(SpyCopula.fits) == fits + 1
    assert CountingMLP.train_steps > steps
    assert metrics_by_run(resumed) == metrics_by_run(tiny.report)


def test_folder_of_another_recipe_is_not_resumed(tiny: TinyRun) -> None:
    other = write_recipe(tiny.folder, with_changes(top={"seeds": [0, 7]}), "other.toml")
    with pytest.raises(InvalidParameterError, match="different recipe"):
        run(other, out_dir=tiny.out, device="cpu", progress=False, threads=1)


def test_cli_runs_lists_and_checks(tiny: TinyRun, capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser(prog="synthaug")
    add_recipe_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["recipe", "run", str(tiny.recipe), "--check", "--device", "cpu"])
    assert args.func(args) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["runs"] == 12 and plan["splits"]["train"] == len(tiny.splits.train)
    # resuming the finished run folder: the CLI path end to end without retraining
    args = parser.parse_args(["recipe", "run", str(tiny.recipe), "--out", str(tiny.out),
                              "--device", "cpu", "--no-progress", "--threads", "1"])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert "real + synthetic (1x)" in out
    # nothing was validated again, and the CLI does not claim to have written those files
    assert "kept validation.html, validation.json from the earlier run" in out
    assert "run.json to" in out and "json, validation.html" not in out
    args = parser.parse_args(["recipe", "list"])
    assert args.func(args) == 0
    assert "adult-lowdata" in capsys.readouterr().out


def test_group_scenario_with_group_only_balanced_draws(tmp_path: Path) -> None:
    make_table().to_csv(tmp_path / "tiny.csv", index=False)
    doc = with_changes(
        top={"name": "tiny-group"},
        scenario={"kind": "underrepresented_group", "column": "grp", "value": "B",
                  "fraction": 0.2},
        augmentation={"ratios": [2.0], "classes": "balanced", "synthetic_only": True,
                      "baseline": "smote", "group_only": True},
        training={"max_steps": 8},
    )
    report = run(write_recipe(tmp_path, doc), out_dir=tmp_path / "out", device="cpu",
                 progress=False, threads=1)
    frame = make_table()
    spec = parse_spec(doc, RecipeSpec)
    splits = split_data(spec, frame)
    train = frame.iloc[splits.train]
    group_rows = int((train["grp"] == "B").sum())
    full_group = int((frame.iloc[splits.train_full]["grp"] == "B").sum())
    assert group_rows < 0.3 * full_group  # the group was thinned, the rest kept
    assert int((train["grp"] == "A").sum()) == int(
        (frame.iloc[splits.train_full]["grp"] == "A").sum())
    runs = {(r["arm"], r["seed"]): r for r in report.runs}
    assert runs[("synthetic-x2", 0)]["n_synthetic"] == 2 * group_rows
    assert runs[("smote-x2", 0)]["n_synthetic"] == 2 * group_rows
    # train-on-synthetic replaces the whole training set, group or not
    assert runs[("synthetic-only", 1)]["n_synthetic"] == len(train)
    assert report.info["focus_group"] == "grp=B"


# -- splits, scenarios, allocation, statistics -------------------------------------------------
def test_splits_are_stratified_disjoint_and_scenarios_shrink_train_only() -> None:
    frame = make_table(600)
    spec = parse_spec(with_changes(scenario={"kind": "none", "fraction": None}), RecipeSpec)
    s = split_data(spec, frame)
    parts = [set(s.train_full), set(s.validation), set(s.test)]
    assert sum(map(len, parts)) == len(frame) and not (parts[0] & parts[1] | parts[0] & parts[2])
    share = (frame["label"] == "yes").mean()
    assert abs((frame.loc[s.test, "label"] == "yes").mean() - share) < 0.02

    imb = parse_spec(with_changes(scenario={"kind": "imbalance", "ratio": 0.1,
                                            "fraction": None}), RecipeSpec)
    t = split_data(imb, frame)
    assert np.array_equal(t.test, s.test) and np.array_equal(t.validation, s.validation)
    counts = frame.loc[t.train, "label"].value_counts()
    assert counts.min() == round(0.1 * counts.max())

    per = parse_spec(with_changes(scenario={"kind": "low_data", "fraction": None,
                                            "per_class": 7}), RecipeSpec)
    assert frame.loc[split_data(per, frame).train, "label"].value_counts().tolist() == [7, 7]


# -- bad recipes fail before any training, naming the field ------------------------------------
BAD = [
    ("unknown generator", {"generator": {"name": "tabular.copla"}},
     r"generator\.name: Unknown generator 'tabular\.copla'\. Did you mean 'tabular\.copula'"),
    ("zero ratio", {"augmentation": {"ratios": [0.5, 0.0]}},
     r"augmentation\.ratios\[1\]: .*greater than 0"),
    ("negative ratio", {"augmentation": {"ratios": [-1.0]}},
     r"augmentation\.ratios\[0\]: .*greater than 0"),
    ("missing target", {"data": {"target": "lable"}},
     r"data\.target: 'lable' is not a column of the data\. Did you mean 'label'"),
    ("zero fraction", {"scenario": {"fraction": 0.0}}, r"scenario\.fraction: .*greater than 0"),
    ("fraction above 1", {"scenario": {"fraction": 1.5}},
     r"scenario\.fraction: .*less than or equal to 1"),
    ("unknown key", {"training": {"max_step": 3}},
     r"training\.max_step: unknown key\. Did you mean 'max_steps'"),
    ("unknown top-level key", {"top": {"seed": 3}}, r"seed: unknown key\. Did you mean 'seeds'"),
    ("group value absent", {"scenario": {"kind": "underrepresented_group", "fraction": 0.5,
                                         "column": "grp", "value": "Z"}},
     r"scenario\.value: 'Z' never occurs in 'grp'"),
    ("bad model parameter", {"model": {"params": {"hiden": [8]}}}, r"model\.params: .*hiden"),
    ("unknown model", {"model": {"name": "tabular.mpl"}},
     r"model\.name: Unknown downstream model 'tabular\.mpl'\. Did you mean 'tabular\.mlp'"),
    ("bad generator parameter", {"generator": {"params": {"n_quantiles": 1}}},
     r"generator\.params: n_quantiles must be an int >= 2"),
    ("runner-owned parameter", {"generator": {"params": {"random_state": 1}}},
     r"generator\.params: 'random_state' is set by the runner"),
    ("roc_auc on a non-binary target", {"data": {"target": "color"}},
     r"report\.metric: 'roc_auc' needs a binary target"),
    ("one seed", {"top": {"seeds": 1}}, r"seeds: needs at least 2 seeds"),
    ("misspelt suite", {"report": {"suite": "defualt"}}, r"report\.suite: .*'default'"),
    ("missing data file", {"data": {"source": "nope.csv"}}, r"data\.source: 'nope\.csv'"),
]


@pytest.mark.parametrize(("case", "changes", "pattern"), BAD, ids=[b[0] for b in BAD])
def test_bad_recipe_fails_before_training_naming_the_field(
    tmp_path: Path, case: str, changes: dict[str, dict[str, Any]], pattern: str,
    _spy_registered: None,
) -> None:
    make_table(120).to_csv(tmp_path / "tiny.csv", index=False)
    recipe = write_recipe(tmp_path, with_changes(**changes))
    fits, steps = len(SpyCopula.fits), CountingMLP.train_steps
    with pytest.raises(SpecError, match=pattern) as info:
        run(recipe, out_dir=tmp_path / "out", device="cpu", progress=False, threads=1)
    assert str(recipe) in str(info.value), "the message names the file"
    assert len(SpyCopula.fits) == fits and CountingMLP.train_steps == steps
    assert not (tmp_path / "out").exists(), "nothing is written for a bad recipe"


def test_several_problems_are_reported_together() -> None:
    with pytest.raises(SpecError) as info:
        parse_spec(with_changes(augmentation={"ratios": [0.0]}, scenario={"fraction": 2.0}),
                   RecipeSpec, source="x.toml")
    assert set(info.value.fields) == {"augmentation.ratios[0]", "scenario.fraction"}
