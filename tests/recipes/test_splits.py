"""Splits on label arrays through the modality's stratified splitter: the same records as the
format-1 runner chose, for every kind of label."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from synthaug.config import RecipeSpec
from synthaug.exceptions import InvalidDataError
from synthaug.recipes import split_data
from synthaug.recipes.splits import check_labels, class_codes, split_records


def format1_split(labels: pd.Series, seed: int, test: float, validation: float
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The per-class split of the format-1 runner (``split_data`` at commit 4af144a), frozen
    here as the reference the modality's ``stratified_split`` must reproduce."""
    known = labels.notna().to_numpy()
    codes = np.full(len(labels), -1, dtype=np.int64)
    classes = sorted(set(labels[known].astype(str)))
    codes[known] = pd.Index(classes).get_indexer(pd.Index(labels[known].astype(str)))
    rng = np.random.default_rng([seed, 0])
    train, val, tst = [], [], []
    for c in range(len(classes)):
        rows = rng.permutation(np.flatnonzero(codes == c))
        n = len(rows)
        n_test = max(1, round(n * test))
        n_val = max(1, round(n * validation))
        tst.append(rows[:n_test])
        val.append(rows[n_test:n_test + n_val])
        train.append(rows[n_test + n_val:])
    return (np.sort(np.concatenate(train)), np.sort(np.concatenate(val)),
            np.sort(np.concatenate(tst)))


def labels_of(kind: str, n: int = 701) -> pd.Series:
    rng = np.random.default_rng(11)
    missing = rng.random(n) < 0.08
    if kind == "str":
        return pd.Series(rng.choice(["<=50K", ">50K", "other"], n, p=[0.6, 0.3, 0.1]))
    if kind == "int":
        return pd.Series(rng.integers(0, 12, n))  # "10" sorts before "2": order by text
    if kind == "float-nan":
        return pd.Series(np.where(missing, np.nan, rng.integers(0, 3, n).astype(float)))
    if kind == "nullable-int":
        return pd.Series(pd.array(np.where(missing, None, rng.integers(0, 3, n)), dtype="Int64"))
    if kind == "category":
        return pd.Series(pd.Categorical(np.where(missing, None, rng.choice(["b", "a", "c"], n))))
    if kind == "bool":
        return pd.Series(rng.random(n) < 0.3)
    if kind == "string":
        return pd.Series(pd.array(np.where(missing, None, rng.choice(["u", "v"], n)),
                                  dtype="string"))
    if kind == "mixed":
        return pd.Series(rng.choice(np.array([1, "1x", 2.5, "z"], dtype=object), n))
    raise AssertionError(kind)


KINDS = ["str", "int", "float-nan", "nullable-int", "category", "bool", "string", "mixed"]


def spec_for(seed: int = 0, test: float = 0.2, validation: float = 0.15,
             **scenario: Any) -> RecipeSpec:
    return RecipeSpec.model_validate({
        "name": "demo", "data": {"source": "x.csv", "target": "y"},
        "split": {"seed": seed, "test": test, "validation": validation},
        "scenario": scenario or {"kind": "none"}})


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("seed", "test", "validation"), [(0, 0.2, 0.15), (7, 0.25, 0.3)])
def test_the_split_chooses_the_records_format_1_chose(
        kind: str, seed: int, test: float, validation: float) -> None:
    labels = labels_of(kind)
    spec = spec_for(seed, test, validation)
    s = split_records(spec, labels.to_numpy())
    train, val, tst = format1_split(labels, seed, test, validation)
    assert np.array_equal(s.train_full, train)
    assert np.array_equal(s.validation, val)
    assert np.array_equal(s.test, tst)
    # the frame form reads the same labels
    f = split_data(spec, pd.DataFrame({"y": labels, "x": 0}))
    assert np.array_equal(f.test, tst) and np.array_equal(f.train, s.train)


def test_split_positions_are_pinned() -> None:
    # a change here changes every recipe's results: it must be deliberate
    s = split_records(spec_for(test=0.25, validation=0.25),
                      np.array(["a"] * 6 + ["b"] * 4, dtype=object))
    assert (s.test.tolist(), s.validation.tolist(), s.train.tolist()) == (
        [2, 3, 7], [4, 5, 9], [0, 1, 6, 8])


def test_class_codes_follow_the_text_order() -> None:
    codes, classes = class_codes(np.array([10, 2, 2, None, 10, 1], dtype=object))
    assert classes == [1, 10, 2] and codes.tolist() == [1, 2, 2, -1, 1, 0]


def test_scenarios_take_the_group_as_an_array() -> None:
    rng = np.random.default_rng(0)
    labels = rng.choice(["no", "yes"], 400)
    group = rng.choice(["A", "B"], 400, p=[0.6, 0.4])
    spec = spec_for(kind="underrepresented_group", column="g", value="B", fraction=0.25)
    s = split_records(spec, labels, group == "B")
    before, after = (group[s.train_full] == "B").sum(), (group[s.train] == "B").sum()
    assert after == pytest.approx(0.25 * before, abs=2)
    assert (group[s.train] == "A").sum() == (group[s.train_full] == "A").sum()
    framed = split_data(spec, pd.DataFrame({"y": labels, "g": group}))
    assert np.array_equal(s.train, framed.train)


def test_label_checks_work_on_arrays() -> None:
    spec = RecipeSpec.model_validate({
        "name": "demo", "data": {"source": "x.csv", "target": "y"},
        "report": {"metric": "roc_auc"},
        "scenario": {"kind": "imbalance", "ratio": 0.5, "minority": "zzz"}})
    found = dict(check_labels(spec, np.array(["a", "b", "c", "a"], dtype=object)))
    assert set(found) == {"report.metric", "scenario.minority"}
    assert "continuous" in dict(check_labels(spec, np.linspace(0, 1, 200)))["data.target"]
    # a nullable float column arrives as an object array and is still seen as floats
    floats = pd.array(np.r_[np.linspace(0, 1, 150), [None]], dtype="Float64")
    assert "continuous" in dict(check_labels(spec, np.asarray(floats, dtype=object)))[
        "data.target"]


def test_a_class_too_small_to_split_names_the_target() -> None:
    labels = np.array(["a"] * 50 + ["b"] * 2, dtype=object)
    with pytest.raises(InvalidDataError, match=r"class 'b' of the target 'y' has 2 record"):
        split_records(spec_for(), labels)
