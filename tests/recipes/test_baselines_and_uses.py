"""The practitioner's baselines (class weights, tuned threshold, a reference model), the four
uses of synthetic records, choosing on validation, and Holm-corrected verdicts."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from synthaug.config import SpecError, TrainingSpec
from synthaug.recipes import GainReport, run
from synthaug.recipes.decision import shift, tune_offsets
from synthaug.recipes.metrics import classification_metrics
from synthaug.recipes.selection import choose, headline_tests
from synthaug.recipes.stats import holm, paired_p_value
from synthaug.recipes.tasks.tabular import TabularInputs, TabularMLP
from synthaug.recipes.training import TensorSet, fit_classifier
from synthaug.recipes.trial import class_weights
from tests.recipes.helpers import make_table

DOC: dict[str, Any] = {
    "name": "uses",
    "seeds": 2,
    "data": {"source": "tiny.csv", "target": "label"},
    "split": {"seed": 0, "validation": 0.2, "test": 0.25},
    "scenario": {"kind": "imbalance", "ratio": 0.3, "minority": "yes"},
    "generator": {"name": "tabular.copula"},
    "augmentation": {"ratios": [0.5, 1.0], "classes": "balanced", "synthetic_only": False,
                     "baseline": "smote", "real_baselines": ["class_weights", "threshold"],
                     "uses": ["append", "filter", "weight", "curriculum"],
                     "filter_confidence": 0.6, "synthetic_weight": 0.5},
    "model": {"name": "tabular.mlp", "params": {"hidden": [16], "dropout": 0.0},
              "reference": "auto"},
    "training": {"max_steps": 30, "batch_size": 32, "eval_every": 5, "patience": 3,
                 "threads": 1},
    "report": {"metric": "macro_f1", "suite": ""},
}


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[GainReport, Path]:
    folder = tmp_path_factory.mktemp("uses")
    make_table(n=500).to_csv(folder / "tiny.csv", index=False)
    doc = json.loads(json.dumps(DOC))
    doc["data"]["source"] = str(folder / "tiny.csv")
    out = folder / "run"
    return run(doc, out_dir=out, device="cpu", progress=False), out


def by_run(report: GainReport) -> dict[tuple[str, int], dict[str, Any]]:
    return {(r["arm"], r["seed"]): r for r in report.runs}


# -- the arms ----------------------------------------------------------------------------------
def test_every_baseline_and_every_use_is_an_arm(report: tuple[GainReport, Path]) -> None:
    rep, _ = report
    assert [a.name for a in rep.arms] == [
        "real", "class-weights", "tuned-threshold",
        "synthetic-x0.5", "synthetic-x1", "synthetic-filter-x0.5", "synthetic-filter-x1",
        "synthetic-weight-x0.5", "synthetic-weight-x1", "synthetic-curriculum-x0.5",
        "synthetic-curriculum-x1", "smote-x0.5", "smote-x1"]
    assert rep.arm("synthetic-filter-x1").label == "real + synthetic, filtered (1x)"


def test_the_tuned_threshold_moves_the_decision_of_real_onlys_own_model(
        report: tuple[GainReport, Path]) -> None:
    runs = by_run(report[0])
    for seed in (0, 1):
        real, tuned = runs[("real", seed)], runs[("tuned-threshold", seed)]
        assert tuned["fit"] == {"reused": "real"}
        # the same model: ROC AUC does not depend on a threshold, so it is unchanged
        assert tuned["metrics"]["roc_auc"] == pytest.approx(real["metrics"]["roc_auc"])
        # tuned on validation for the headline metric: never worse there than the argmax
        assert (tuned["validation_metrics"]["macro_f1"]
                >= real["validation_metrics"]["macro_f1"] - 1e-12)


def test_class_weights_train_on_the_real_rows_with_other_results(
        report: tuple[GainReport, Path]) -> None:
    runs = by_run(report[0])
    real, weighted = runs[("real", 0)], runs[("class-weights", 0)]
    assert weighted["n_synthetic"] == 0
    assert weighted["train_class_counts"] == real["train_class_counts"]
    assert weighted["metrics"] != real["metrics"]


def test_filter_keeps_at_most_the_planned_rows_that_pass_the_real_model(
        report: tuple[GainReport, Path]) -> None:
    runs = by_run(report[0])
    kept = 0
    for ratio in ("0.5", "1"):
        for seed in (0, 1):
            r = runs[(f"synthetic-filter-x{ratio}", seed)]
            f = r["filter"]
            assert f["drawn"] == 2 * f["planned"]
            assert f["planned"] == runs[(f"synthetic-x{ratio}", seed)]["n_synthetic"]
            assert 0 <= f["kept"] <= f["planned"] and r["n_synthetic"] == f["kept"]
            kept += f["kept"]
    # a judge trained for 30 steps is weak and rejects many rows, but not every one
    assert kept > 0


def test_curriculum_pretrains_on_half_the_budget_and_has_no_reference(
        report: tuple[GainReport, Path]) -> None:
    runs = by_run(report[0])
    cur = runs[("synthetic-curriculum-x1", 0)]
    assert cur["fit"]["pretrain"]["steps"] <= 15 and cur["fit"]["steps"] <= 15
    assert "reference" not in cur
    # every other arm has the reference model beside it, scored on the same records
    for (arm, _), r in runs.items():
        if "curriculum" not in arm:
            assert 0.0 <= r["reference"]["metrics"]["macro_f1"] <= 1.0


# -- the report --------------------------------------------------------------------------------
def test_picks_are_made_on_validation_and_compared_on_test(
        report: tuple[GainReport, Path]) -> None:
    rep, out = report
    roles = {c.role: c.arm for c in rep.choices}
    assert set(roles) == {"baseline", "synthetic", "use:append", "use:filter", "use:weight",
                          "use:curriculum"}
    assert roles["baseline"] in ("real", "class-weights", "tuned-threshold", "smote-x0.5",
                                 "smote-x1")
    runs = by_run(rep)
    mean_val = {a.name: np.mean([runs[(a.name, s)]["validation_metrics"]["macro_f1"]
                                 for s in (0, 1)]) for a in rep.arms}
    assert mean_val[roles["synthetic"]] == max(
        v for k, v in mean_val.items() if k.startswith("synthetic"))
    # one family: every arm against real-only, and the synthetic pick against the baseline pick
    assert len(rep.tests) == len(rep.arms) - 1 + 1
    assert (rep.tests[-1].treated, rep.tests[-1].control) == (roles["synthetic"],
                                                               roles["baseline"])
    for t in rep.tests:
        assert math.isnan(t.p_value) or t.adjusted_p >= t.p_value
        assert t.corrected.low <= t.difference.low and t.corrected.high >= t.difference.high
    text = str(rep)
    assert "Holm-corrected" in text and "picked synthetic vs picked baseline" in text
    md = (out / "report.md").read_text()
    assert "Holm p" in md and "## Reference model: `hist_gradient_boosting`" in md
    assert rep.reference is not None
    assert "synthetic-curriculum-x1" not in [a.name for a in rep.reference.arms]
    assert GainReport.load(out).to_dict() == json.loads(rep.to_json())


def test_tune_decision_gives_every_arm_the_tuned_threshold(
        report: tuple[GainReport, Path], tmp_path: Path) -> None:
    """With tune_decision, real-only is the tuned-threshold arm of a run without it (same seed,
    same model, same offsets) and a synthetic arm's validation metric never falls below its
    untuned one: the synthetic side gets the baseline's free improvement, nothing more."""
    rep, out = report
    doc = json.loads(json.dumps(DOC))
    doc["data"]["source"] = str(out.parent / "tiny.csv")
    doc["augmentation"].update(ratios=[0.5], uses=["append"], baseline="none",
                               real_baselines=["class_weights"], tune_decision=True)
    tuned = run(doc, out_dir=tmp_path / "run", device="cpu", progress=False)
    plain, both = by_run(rep), by_run(tuned)
    assert [a.name for a in tuned.arms] == ["real", "class-weights", "synthetic-x0.5"]
    for seed in (0, 1):
        assert both[("real", seed)]["metrics"] == pytest.approx(
            plain[("tuned-threshold", seed)]["metrics"])
        assert both[("real", seed)]["reference"]["metrics"] == pytest.approx(
            plain[("tuned-threshold", seed)]["reference"]["metrics"])
        for arm in ("class-weights", "synthetic-x0.5"):
            assert (both[(arm, seed)]["validation_metrics"]["macro_f1"]
                    >= plain[(arm, seed)]["validation_metrics"]["macro_f1"] - 1e-12)
            assert both[(arm, seed)]["metrics"]["roc_auc"] == pytest.approx(
                plain[(arm, seed)]["metrics"]["roc_auc"])
    assert "every arm's decision tuned on validation" in str(tuned)
    assert "every arm's threshold" in (tmp_path / "run" / "report.md").read_text()


def test_tune_decision_with_the_threshold_baseline_is_a_spec_error() -> None:
    from synthaug.recipes import check

    doc = json.loads(json.dumps(DOC))
    doc["augmentation"]["tune_decision"] = True
    with pytest.raises(SpecError, match=r"augmentation\.real_baselines.*tune_decision"):
        check(doc, device="cpu")


def test_a_reference_model_for_data_it_cannot_read_is_a_spec_error(tmp_path: Path) -> None:
    from synthaug.recipes import check

    doc = {"name": "img", "data": {"source": "digits", "target": "label"},
           "generator": {"name": "image.vae"},
           "model": {"reference": "hist_gradient_boosting"}, "report": {"suite": ""}}
    with pytest.raises(SpecError, match=r"model\.reference"):
        check(doc, device="cpu")


# -- the pieces, against known answers ---------------------------------------------------------
def test_holm_matches_a_hand_computation() -> None:
    # sorted p: 0.01 (x4 = 0.04), 0.02 (x3 = 0.06), 0.03 (x2 = 0.06), 0.5 (x1 = 0.5)
    assert holm([0.03, 0.5, 0.01, 0.02]) == pytest.approx([0.06, 0.5, 0.04, 0.06])
    assert math.isnan(holm([math.nan, 0.01])[0]) and holm([math.nan, 0.01])[1] == 0.01


def test_no_effect_arms_rarely_survive_the_correction() -> None:
    # 20 arms that equal real-only in distribution, 5 seeds each: uncorrected, about one in
    # twenty looks like a gain or a harm; corrected, the family-wise rate is held at 5%
    rng = np.random.default_rng(0)
    false_uncorrected = false_corrected = 0
    for _ in range(200):
        real = rng.normal(0.8, 0.01, 5)
        arms = {f"a{i}": rng.normal(0.8, 0.01, 5) for i in range(20)}
        tests = headline_tests([(a, "real") for a in arms], {"real": real, **arms}, 0.95)
        false_uncorrected += any(paired_p_value(arms[t.treated], real) < 0.05 for t in tests)
        false_corrected += any(t.verdict != "no detectable gain" for t in tests)
    assert false_uncorrected > 60    # many families hold at least one false "verdict"
    assert false_corrected <= 20     # Holm: at most ~5% of families (10 of 200), with slack


def test_choose_never_looks_at_test() -> None:
    arms = [("real", "real", None), ("synthetic-x1", "augmented", "append"),
            ("synthetic-x2", "augmented", "append")]
    # validation prefers x1; whatever test says, x1 is picked
    picks = choose(arms, {"real": [0.5], "synthetic-x1": [0.9], "synthetic-x2": [0.6]}, [])
    assert {c.role: c.arm for c in picks}["synthetic"] == "synthetic-x1"


def test_tuned_offsets_raise_macro_f1_and_keep_roc_auc() -> None:
    rng = np.random.default_rng(1)
    y = (rng.random(2000) < 0.1).astype(int)
    score = rng.normal(y * 1.5, 1.0)
    p1 = 1 / (1 + np.exp(-(score - 3)))  # a model whose argmax almost never says class 1
    proba = np.stack([1 - p1, p1], axis=1)
    before = classification_metrics(y, proba, n_classes=2)
    after = classification_metrics(y, shift(proba, tune_offsets(y, proba, "macro_f1")),
                                   n_classes=2)
    assert after["macro_f1"] > before["macro_f1"] + 0.1
    assert after["roc_auc"] == pytest.approx(before["roc_auc"])


def test_three_class_offsets_never_lower_the_tuned_metric() -> None:
    rng = np.random.default_rng(2)
    y = rng.choice(3, 600, p=[0.7, 0.2, 0.1])
    logits = rng.normal(size=(600, 3)) + np.eye(3)[y] * 1.2 + np.array([1.0, 0.0, -0.5])
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    base = classification_metrics(y, proba, n_classes=3)["accuracy"]
    tuned = shift(proba, tune_offsets(y, proba, "accuracy"))
    assert classification_metrics(y, tuned, n_classes=3)["accuracy"] >= base


def test_class_weights_make_every_class_weigh_the_same() -> None:
    codes = np.array([0] * 90 + [1] * 10)
    w = class_weights(codes, 2)
    assert w[codes == 0].sum() == pytest.approx(w[codes == 1].sum()) == pytest.approx(50)


def test_uniform_weights_train_the_same_model_as_no_weights() -> None:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(128, 2, generator=g)
    y = (x[:, 0] > 0).long()
    inputs = {"x_num": x, "x_cat": torch.zeros(128, 0, dtype=torch.long)}
    spec = TrainingSpec(max_steps=20, batch_size=32, eval_every=5)
    states = []
    for weights in (None, torch.full((128,), 3.0)):
        torch.manual_seed(0)
        model = TabularMLP(TabularInputs(("a", "b"), (), (), 2), hidden=(8,))
        fit_classifier(model, TensorSet(inputs, y, weights), TensorSet(inputs, y), spec, seed=0)
        states.append(model.state_dict())
    for k in states[0]:
        assert torch.allclose(states[0][k], states[1][k], atol=1e-6)
    # and weights that are not uniform change it
    torch.manual_seed(0)
    model = TabularMLP(TabularInputs(("a", "b"), (), (), 2), hidden=(8,))
    skewed = torch.where(y == 1, 5.0, 1.0)
    fit_classifier(model, TensorSet(inputs, y, skewed), TensorSet(inputs, y), spec, seed=0)
    assert not all(torch.allclose(states[0][k], model.state_dict()[k]) for k in states[0])


# -- generator = "auto" ------------------------------------------------------------------------
@pytest.mark.parametrize("rows", [400, 12_000])
def test_auto_picks_the_copula_on_the_cpu_and_the_transformer_on_a_gpu(
        tmp_path: Path, rows: int) -> None:
    from synthaug.planning import default_generator
    from synthaug.recipes import check

    make_table(n=rows).to_csv(tmp_path / "t.csv", index=False)
    doc = {"name": "auto", "data": {"source": str(tmp_path / "t.csv"), "target": "label"},
           "generator": {"name": "auto"}, "report": {"suite": ""}}
    assert check(doc, device="cpu")["generator"] == "tabular.copula"
    assert default_generator("tabular", rows, "cuda:0") == "tabular.transformer"


def test_the_breast_cancer_table_loads_offline() -> None:
    from synthaug.data.sources import read_source

    modality, frame = read_source("breast-cancer")
    assert modality.name == "tabular" and frame.shape == (569, 31)
    assert frame["diagnosis"].value_counts().to_dict() == {"benign": 357, "malignant": 212}
