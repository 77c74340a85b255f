"""Recipe tasks: looked up by modality, the generator's modality checked against the task's,
and models called with their inputs by name."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from synthaug import registry
from synthaug.config import SpecError
from synthaug.generators.tabular.copula import GaussianCopulaGenerator
from synthaug.recipes import check, get_task, run
from synthaug.recipes.tasks import Task, list_tasks, tasks
from synthaug.recipes.tasks.tabular import TabularInputs, TabularTask
from synthaug.recipes.training import TensorSet


def write_table(folder: Path, n: int = 160) -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=n)
    pd.DataFrame({"x": x, "c": rng.choice(["a", "b", "c"], n),
                  "label": np.where(x + rng.normal(size=n) > 0, "yes", "no")}).to_csv(
        folder / "tiny.csv", index=False)


def recipe(folder: Path, **changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "name": "tiny", "seeds": 2,
        "data": {"source": str(folder / "tiny.csv"), "target": "label"},
        "augmentation": {"ratios": [1.0], "synthetic_only": False, "baseline": "classic"},
        "training": {"max_steps": 8, "eval_every": 4, "batch_size": 32},
        "report": {"suite": ""},
    }
    for section, values in changes.items():
        doc[section] = {**doc.get(section, {}), **values}
    return doc


def test_tasks_are_looked_up_by_modality() -> None:
    assert "tabular" in list_tasks()
    assert get_task("tabular") is TabularTask and issubclass(TabularTask, Task)
    assert (TabularTask.modality, TabularTask.default_model, TabularTask.baseline) == (
        "tabular", "tabular.mlp", "smote")
    # a modality's task is its module in synthaug.recipes.tasks: found without a list to edit
    assert "synthaug.recipes.tasks.tabular" in tasks._builtin_modules


def test_data_without_a_task_is_refused_naming_the_modality(tmp_path: Path) -> None:
    write_table(tmp_path)
    doc = recipe(tmp_path, data={"modality": "text"}, generator={"name": "sdv.ctgan"})
    # every built-in modality has its task now: take the text task away for this test
    with tasks.scoped():
        tasks._items.pop("text")
        with pytest.raises(SpecError, match=r"data\.modality: recipes do not run on text data "
                           r"yet \(data\.modality\); they run on: tabular, image"):
            check(doc, device="cpu")


def test_a_generator_of_another_modality_is_refused_naming_both(tmp_path: Path) -> None:
    class ImageishCopula(GaussianCopulaGenerator):
        modality = "image"  # its name does not say so: only the class does

    write_table(tmp_path)
    with registry.generators.scoped():
        registry.generators.register("tabular.imageish")(ImageishCopula)
        with pytest.raises(SpecError) as info:
            check(recipe(tmp_path, generator={"name": "tabular.imageish"}), device="cpu")
    message = str(info.value)
    assert info.value.fields == ("generator.name",)
    assert "'tabular.imageish' is an image generator, but this recipe's data is tabular" \
        in message
    assert "tabular.copula" in message  # what to pick instead


class KeywordOnlyMLP(nn.Module):
    """A user model whose forward takes its inputs by keyword only: ``model(**inputs)``."""

    calls: ClassVar[list[set[str]]] = []

    def __init__(self, inputs: TabularInputs) -> None:
        super().__init__()
        self.linear = nn.Linear(len(inputs.numeric_features) + len(inputs.cardinalities),
                                inputs.n_classes)

    def forward(self, *, x_num: torch.Tensor, x_cat: torch.Tensor) -> torch.Tensor:
        KeywordOnlyMLP.calls.append({"x_num", "x_cat"})
        out: torch.Tensor = self.linear(torch.cat([x_num, x_cat.float()], dim=1))
        return out


def test_models_get_their_inputs_by_name(tmp_path: Path) -> None:
    write_table(tmp_path)
    KeywordOnlyMLP.calls.clear()
    report = run(recipe(tmp_path), out_dir=tmp_path / "out", device="cpu", progress=False,
                 model_factory=KeywordOnlyMLP, threads=1)
    assert KeywordOnlyMLP.calls
    assert [a.name for a in report.arms] == ["real", "synthetic-x1", "smote-x1"]
    assert report.info["model"].endswith("KeywordOnlyMLP")


def test_tensor_sets_hold_named_inputs() -> None:
    ts = TensorSet.from_arrays({"x_num": np.ones((4, 2), np.float64),
                                "x_cat": np.zeros((4, 1), np.int32)},
                               np.array([0, 1, 1, 0]), torch.device("cpu"))
    assert ts.inputs["x_num"].dtype == torch.float32 and ts.inputs["x_cat"].dtype == torch.long
    rows = ts.rows(torch.tensor([1, 3]))
    assert set(rows) == {"x_num", "x_cat"} and rows["x_num"].shape == (2, 2)
    with pytest.raises(ValueError, match="'x_txt' has dtype"):
        TensorSet.from_arrays({"x_txt": np.array(["a"])}, np.array([0]), torch.device("cpu"))
