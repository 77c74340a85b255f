"""augment(): the one-call path users start with."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from synthaug import AugmentReport, augment, get_generator
from synthaug.exceptions import InvalidDataError, InvalidParameterError


def test_balance_tops_up_minorities_exactly(mixed_frame: pd.DataFrame) -> None:
    out, report = augment(mixed_frame, target="income", balance=True, random_state=0)
    counts = out["income"].value_counts()
    assert counts.nunique() == 1, counts
    assert report.n_real == len(mixed_frame)
    assert report.n_synthetic == len(out) - len(mixed_frame)
    pd.testing.assert_frame_equal(out.iloc[: len(mixed_frame)], mixed_frame)
    assert out.dtypes.to_dict() == mixed_frame.dtypes.to_dict()
    assert report.class_counts_after == {k: int(v) for k, v in counts.items()}
    assert 0.0 < report.fidelity["column_shapes"] <= 1.0


def test_multiclass_balance() -> None:
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x": rng.normal(size=300),
                       "y": rng.choice(["a", "b", "c"], 300, p=[0.7, 0.2, 0.1])})
    out, _ = augment(df, target="y", balance=True, random_state=1)
    assert set(out["y"].value_counts()) == {int((df["y"] == "a").sum())}


def test_ratio_n_and_conditions(mixed_frame: pd.DataFrame) -> None:
    out, report = augment(mixed_frame, ratio=0.5, random_state=0)
    assert len(out) == len(mixed_frame) + 60 and report.n_synthetic == 60
    out, _ = augment(mixed_frame, n=25, conditions={"work": "Self"}, random_state=0)
    assert (out.iloc[len(mixed_frame):]["work"] == "Self").all()
    out, _ = augment(mixed_frame, random_state=0)  # default doubles the data
    assert len(out) == 2 * len(mixed_frame)


def test_repeatable_with_seed(mixed_frame: pd.DataFrame) -> None:
    a, _ = augment(mixed_frame, target="income", balance=True, random_state=3)
    b, _ = augment(mixed_frame, target="income", balance=True, random_state=3)
    pd.testing.assert_frame_equal(a, b)


def test_numpy_in_numpy_out() -> None:
    X = np.random.default_rng(0).normal(size=(50, 2))
    out, _ = augment(X, n=10, random_state=0)
    assert isinstance(out, np.ndarray) and out.shape == (60, 2)
    np.testing.assert_array_equal(out[:50], X)


def test_generator_object_is_cloned_not_mutated(mixed_frame: pd.DataFrame) -> None:
    gen = get_generator("tabular.copula", random_state=0)
    augment(mixed_frame, generator=gen, n=5)
    assert not hasattr(gen, "schema_")


def test_report_is_readable_and_json(mixed_frame: pd.DataFrame) -> None:
    _, report = augment(mixed_frame, target="income", balance=True, random_state=0)
    text = str(report)
    assert "real" in text and "synthetic" in text and "column shapes" in text
    assert json.loads(report.to_json())["n_real"] == len(mixed_frame)
    assert isinstance(report, AugmentReport)


def test_default_suite_runs_and_its_report_is_attached(
    mixed_frame: pd.DataFrame, tmp_path: Path
) -> None:
    holdout = mixed_frame.sample(40, random_state=1)
    train = mixed_frame.drop(index=holdout.index).reset_index(drop=True)
    _, report = augment(train, ratio=1.0, holdout=holdout, sensitive="work", random_state=0)
    validation = report.validation
    assert validation is not None and validation.suite == "default"
    ran = {c.validator: c for c in validation.checks if c.status != "skipped"}
    # the holdout and the sensitive column reach the checks that need them
    assert {"fidelity.column_shapes", "privacy.dcr", "bias.group_representation"} <= set(ran)
    assert report.fidelity["column_shapes"] == pytest.approx(
        ran["fidelity.column_shapes"].value, abs=1e-4)
    assert json.loads(report.to_json())["validation"]["suite"] == "default"
    assert "suite default: gate" in str(report)
    html = validation.write(tmp_path / "report.html")
    assert "<img" in Path(html).read_text()


def test_suite_none_skips_validation_and_bad_suite_fails_before_fitting(
    mixed_frame: pd.DataFrame,
) -> None:
    _, report = augment(mixed_frame, n=10, suite=None, random_state=0)
    assert report.validation is None
    with pytest.raises(KeyError, match="default"):
        augment(mixed_frame, n=10, suite="defualt", generator="tabular.gan",
                generator_params={"epochs": 10_000})


def test_too_few_synthetic_rows_skip_detection_instead_of_failing(
    mixed_frame: pd.DataFrame,
) -> None:
    _, report = augment(mixed_frame, n=5, random_state=0)
    assert report.validation is not None
    detection = report.validation["fidelity.detection"]
    assert detection.status == "skipped" and "too little data" in detection.note


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"target": "nope", "balance": True}, InvalidParameterError, "not a column"),
        ({"balance": True}, InvalidParameterError, "needs target"),
        ({"target": "income", "balance": True, "n": 3}, InvalidParameterError, "do not also"),
        ({"n": 3, "ratio": 1.0}, InvalidParameterError, "not both"),
        ({"ratio": -1.0}, InvalidParameterError, "must be a number > 0"),
        ({"n": -2}, InvalidParameterError, "must be an integer >= 0"),
        ({"conditions": {"zzz": 1}}, InvalidParameterError, "zzz"),
        ({"generator": "tabular.copla"}, KeyError, "Did you mean"),
        ({"target": "hours", "balance": True}, InvalidDataError, "continuous"),
    ],
)
def test_bad_calls_fail_before_fitting(
    mixed_frame: pd.DataFrame, kwargs: dict[str, object], error: type, match: str
) -> None:
    with pytest.raises(error, match=match):
        augment(mixed_frame, **kwargs)  # type: ignore[arg-type]


def test_one_class_target_cannot_be_balanced(mixed_frame: pd.DataFrame) -> None:
    frame = mixed_frame.assign(income="<=50K")
    with pytest.raises(InvalidDataError, match="at least two"):
        augment(frame, target="income", balance=True)


def test_privacy_suite_through_augment_retrains_the_generator_for_the_shadow_attack() -> None:
    from synthaug.data import load_adult

    adult = load_adult().sample(1600, random_state=0).reset_index(drop=True)
    train, holdout = adult.iloc[:1000], adult.iloc[1000:]
    _, report = augment(train, ratio=1.0, holdout=holdout, suite="privacy-strict",
                        random_state=0)
    assert report.validation is not None
    shadow = report.validation["privacy.mia_shadow"]
    # augment() passed the generator it used, so the check ran instead of being skipped
    assert shadow.status != "skipped", shadow.note
    assert shadow.details["shadow_generator"] == "tabular.copula"
    # without a generator (the command line), the suite skips it and says why
    from synthaug.validators.suite import Suite

    plain = Suite.from_file("privacy-strict").run(train, train.sample(500, random_state=1),
                                                  holdout=holdout, figures=False)
    skipped = plain["privacy.mia_shadow"]
    assert skipped.status == "skipped" and "needs generator" in skipped.note
