"""Fidelity every tabular generator owes any table (issue 14): few-valued number columns
sampled only from their values, missing shares as in the data, a data-scaled default budget.

Real training at tiny budgets; the shares are checked on 20,000 sampled rows, where the
sampling error of a 39 % share is sqrt(0.39 * 0.61 / 20000) = 0.0034, so the 1-point tolerance
is about three standard errors.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from synthaug import get_generator
from synthaug.exceptions import InvalidParameterError
from synthaug.generators.base import BaseGenerator
from synthaug.generators.tabular.torch_base import budget_epochs, logit_shift

ALL = ["tabular.copula", "tabular.gan", "tabular.vae", "tabular.transformer"]
DEEP = ALL[1:]
#: tiny explicit budgets (the defaults train for hundreds of steps)
BUDGET = {"tabular.copula": {}, "tabular.gan": {"epochs": 4, "batch_size": 100},
          "tabular.vae": {"epochs": 4, "batch_size": 100},
          "tabular.transformer": {"epochs": 4, "batch_size": 100, "n_layers": 1,
                                  "d_model": 32}}
YEARS = [2004, 2008, 2012, 2016, 2020]
SCORES = [1.0, 1.5, 2.5, 4.0]


@pytest.fixture(scope="module")
def survey() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 600
    year = rng.choice(YEARS, n)
    return pd.DataFrame({
        "year": year,
        "score": rng.choice(SCORES, n),
        "income": np.where(rng.random(n) < 0.39, np.nan, rng.lognormal(10, 0.5, n)),
        "region": rng.choice(["north", "south", "east"], n),
        "employed": np.where(rng.random(n) < 0.2, None, rng.choice(["yes", "no"], n)),
        "age": rng.normal(45, 12, n),
    })


def fit(name: str, frame: pd.DataFrame, **extra: object) -> BaseGenerator:
    params = {**BUDGET[name], "random_state": 0, "device": "cpu", "progress": False, **extra}
    return get_generator(name, **params).fit(frame)


@pytest.mark.parametrize("name", ALL)
def test_few_valued_numbers_hold_only_observed_values(name: str, survey: pd.DataFrame
                                                      ) -> None:
    gen = fit(name, survey)
    assert gen.schema_["year"].discrete_values == [float(y) for y in YEARS]
    assert gen.schema_["score"].ordinal and not gen.schema_["age"].ordinal
    rows = gen.sample(2000, random_state=1)
    assert set(rows["year"].unique()) <= set(YEARS)
    assert set(rows["score"].unique()) <= set(SCORES)
    assert rows["year"].nunique() >= 3  # snapped, not collapsed onto one value
    assert rows["year"].dtype == survey["year"].dtype


@pytest.mark.parametrize("name", ALL)
def test_missing_shares_within_one_point(name: str, survey: pd.DataFrame) -> None:
    gen = fit(name, survey)
    rows = gen.sample(20_000, random_state=2)
    for column in ("income", "employed"):
        real, synthetic = survey[column].isna().mean(), rows[column].isna().mean()
        assert abs(synthetic - real) <= 0.01, (column, real, synthetic)


def test_transformer_missing_share_holds_in_every_sample_when_missingness_follows_a_column(
) -> None:
    """Income is missing where employed is "no": a column sampled before or after employed
    sees different odds.  With one column order per group of 4,096 rows, a 20,000-row sample
    drew five orders and its share of missing income came out 0.347-0.463 over four seeds
    (real 0.395); with an order per row, as in training, every sample is within a point."""
    rng = np.random.default_rng(0)
    n = 800
    employed = rng.choice(["yes", "no"], n, p=[0.6, 0.4])
    income = np.where(employed == "no", np.nan, rng.lognormal(10, 0.5, n))
    flip = (rng.random(n) < 0.05) & (employed == "no")
    income[flip] = rng.lognormal(10, 0.5, flip.sum())
    frame = pd.DataFrame({"year": rng.choice([2004, 2008, 2012], n), "employed": employed,
                          "age": rng.normal(45, 12, n), "income": income,
                          "region": rng.choice(["n", "s", "e"], n)})
    gen = fit("tabular.transformer", frame, epochs=20)
    real = frame["income"].isna().mean()
    shares = [gen.sample(20_000, random_state=s)["income"].isna().mean() for s in range(4)]
    assert max(abs(share - real) for share in shares) <= 0.01, (real, shares)
    # the rows still keep the link that makes the order matter
    rows = gen.sample(5_000, random_state=9)
    assert rows.loc[rows["employed"] == "no", "income"].isna().mean() > 0.6


@pytest.mark.parametrize("name", DEEP)
def test_missing_calibration_is_saved(name: str, survey: pd.DataFrame, tmp_path: Path) -> None:
    gen = fit(name, survey)
    shift = gen.missing_shift_
    nullable = [j for j, c in enumerate(gen.schema_.columns) if c.nullable]
    assert shift.shape == (len(survey.columns),) and not shift[
        [j for j in range(len(shift)) if j not in nullable]].any()
    loaded = BaseGenerator.load(gen.save(tmp_path / "model"), device="cpu")
    np.testing.assert_array_equal(loaded.missing_shift_, shift)
    pd.testing.assert_frame_equal(loaded.sample(50, random_state=3),
                                  gen.sample(50, random_state=3))


def test_conditions_on_an_ordinal_column_must_name_one_of_its_values(survey: pd.DataFrame
                                                                     ) -> None:
    gen = fit("tabular.copula", survey)
    assert set(gen.sample(20, conditions={"year": 2012}, random_state=0)["year"]) == {2012}
    with pytest.raises(InvalidParameterError, match="ordinal"):
        gen.sample(5, conditions={"year": 2010})


def test_logit_shift_sets_the_mean_probability() -> None:
    p = np.random.default_rng(0).uniform(0.05, 0.5, 1000)
    shift = logit_shift(p, 0.39)
    shifted = 1 / (1 + np.exp(-(np.log(p / (1 - p)) + shift)))
    assert shifted.mean() == pytest.approx(0.39, abs=1e-9)


def test_budget_scales_with_the_data() -> None:
    # few rows: at least the minimum number of steps; many: at most the maximum
    assert budget_epochs(1, 300, 1500, 3000) == 1500
    assert budget_epochs(8, 300, 1500, 3000) == 300
    assert budget_epochs(40, 300, 1500, 3000) == 75
    assert budget_epochs(5000, 300, 1500, 3000) == 1


@pytest.mark.parametrize("name", DEEP)
def test_default_epochs_follow_the_step_budget(name: str, monkeypatch: pytest.MonkeyPatch
                                               ) -> None:
    gen = get_generator(name)
    assert gen.get_params()["epochs"] is None
    cls = type(gen)
    monkeypatch.setattr(cls, "_MIN_STEPS", 6)
    monkeypatch.setattr(cls, "_MAX_STEPS", 6)
    frame = pd.DataFrame({"x": np.arange(200.0), "c": ["a", "b"] * 100})
    params = {k: v for k, v in BUDGET[name].items() if k != "epochs"}
    fitted = get_generator(name, **params, device="cpu", random_state=0,
                           progress=False).fit(frame)
    # 200 rows in batches of 100: 2 steps an epoch, 6 steps in all
    assert fitted.history_.epochs_run == 3
