"""The privacy gate on tables whose rows repeat (issue 15): base-rate-aware checks, a
three-sample memorisation test with a tie rule for discrete data, and built-in suites that run
on tables with many natural repeats and with none."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthaug.exceptions import NotComputableError
from synthaug.validators import get_validator
from synthaug.validators.privacy._repeats import chance_excess, duplicate_counts, sides
from synthaug.validators.suite import Suite

PRIVACY = ["privacy.exact_copies", "privacy.dcr", "privacy.memorisation"]


def repeating(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """The issue's table: 6 categorical columns of 3 levels, so most rows recur naturally."""
    return pd.DataFrame({f"c{j}": rng.choice(["a", "b", "c"], n) for j in range(6)})


def distinct(rng: np.random.Generator, n: int) -> pd.DataFrame:
    x = rng.normal(size=n)
    return pd.DataFrame({"x": x, "y": 0.5 * x + rng.normal(size=n),
                         "c": rng.choice(["a", "b", "c"], n)})


def copier(rng: np.random.Generator, train: pd.DataFrame, fresh: pd.DataFrame, share: float
           ) -> pd.DataFrame:
    """A generator that copies ``share`` of its rows from the training rows and draws the rest
    from the true distribution."""
    k = round(share * len(fresh))
    copied = train.iloc[rng.choice(len(train), k, replace=True)]
    return pd.concat([copied, fresh.iloc[k:]], ignore_index=True)


def check(name: str, **params: object):
    return get_validator(name, **({"device": "cpu"} if name != "privacy.exact_copies" else {}),
                         **params)


@pytest.fixture(scope="module")
def rep() -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(0)
    return {k: repeating(rng, 3_000) for k in ("train", "holdout", "fresh", "fresh2")}


@pytest.fixture(scope="module")
def cont() -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(1)
    return {k: distinct(rng, 3_000) for k in ("train", "holdout", "fresh")}


# -- the building blocks -----------------------------------------------------------------------
def test_duplicate_counts_and_the_tie_rule() -> None:
    ref = np.array([[1.0, np.nan], [1.0, np.nan], [2.0, 0.0]])
    assert duplicate_counts(np.array([[1.0, np.nan], [-0.0 + 2.0, 0.0], [5.0, 5.0]]),
                            ref).tolist() == [2, 1, 0]
    # nearer wins; at equal distance more copies win; equal copies are a draw
    got = sides(np.array([0.1, 0.0, 0.0, 0.0, 1.0]), np.array([0.2, 0.0, 0.0, 0.0, 1.0]),
                np.array([0, 3, 1, 2, 0]), np.array([0, 1, 4, 2, 0]))
    assert got.tolist() == [1, 1, -1, 0, 0]


def test_chance_excess_counts_nothing_chance_explains() -> None:
    assert chance_excess(30, 100, 0, 100, z=3.0).beyond_chance == 0.3  # nothing repeats
    tied = chance_excess(2_990, 3_000, 2_991, 3_000, z=3.0)
    assert tied.beyond_chance == 0.0 and tied.base_rate > 0.99


# -- a proper holdout on a repeating table is not refused --------------------------------------
def test_a_proper_holdout_of_a_repeating_table_is_accepted(rep) -> None:
    for name in ("privacy.dcr", "privacy.memorisation", "privacy.nndr"):
        score = check(name).score(rep["train"], rep["fresh"], holdout=rep["holdout"])
        assert score.details["holdout_overlap"] > 0.9  # it copies training rows ...
    # ... as any fresh sample does; a leaked holdout of a table without repeats is still refused
    rng = np.random.default_rng(2)
    train = distinct(rng, 400)
    leaked = pd.concat([distinct(rng, 360), train.iloc[:40]], ignore_index=True)
    with pytest.raises(NotComputableError, match=r"holdout overlaps train: 10\.0%"):
        check("privacy.dcr").score(train, distinct(rng, 400), holdout=leaked)


# -- verbatim copy fails, fresh sample passes, copying caught in proportion --------------------
@pytest.mark.parametrize("table", ["rep", "cont"])
def test_memorisation_separates_a_copy_from_a_fresh_sample(table: str, request) -> None:
    data = request.getfixturevalue(table)
    test = check("privacy.memorisation")
    copy = test.score(data["train"], data["train"], holdout=data["holdout"])
    fresh = test.score(data["train"], data["fresh"], holdout=data["holdout"])
    assert copy.value > 0.6 and copy.details["estimate"] == pytest.approx(1.0, abs=0.05)
    assert fresh.value == 0.0
    assert abs(fresh.details["estimate"]) < 3 * fresh.details["std_error"]


@pytest.mark.parametrize("table", ["rep", "cont"])
def test_copying_a_share_of_rows_is_measured_in_proportion(table: str, request) -> None:
    data = request.getfixturevalue(table)
    rng = np.random.default_rng(3)
    test = check("privacy.memorisation")
    estimates, values = [], []
    for share in (0.0, 0.25, 0.5, 1.0):
        synthetic = copier(rng, data["train"], data["fresh"], share)
        score = test.score(data["train"], synthetic, holdout=data["holdout"])
        se = score.details["std_error"]
        assert abs(score.details["estimate"] - share) < max(3 * se, 0.03), (share, score.details)
        estimates.append(score.details["estimate"])
        values.append(score.value)
    assert estimates == sorted(estimates) and values == sorted(values)
    if table == "cont":  # where nothing repeats, exact copies are the share copied, exactly
        for share in (0.0, 0.1, 0.25, 0.5):
            synthetic = copier(rng, data["train"], data["fresh"], share)
            assert check("privacy.exact_copies").score(
                data["train"], synthetic, holdout=data["holdout"]).value == pytest.approx(share)


def test_a_poor_generator_is_not_taken_for_a_copier(rep) -> None:
    """Rows from another distribution (skewed levels), independent of the training rows: the
    three-sample comparison stays a fair coin, however unlike the real rows they are."""
    rng = np.random.default_rng(4)
    skewed = pd.DataFrame({f"c{j}": rng.choice(["a", "b", "c"], 3_000, p=[0.6, 0.3, 0.1])
                           for j in range(6)})
    score = check("privacy.memorisation").score(rep["train"], skewed, holdout=rep["holdout"])
    assert score.value == 0.0
    assert abs(score.details["estimate"]) < 3 * score.details["std_error"]


def test_distance_to_closest_record_breaks_ties_by_copies(rep) -> None:
    dcr = check("privacy.dcr")
    copy = dcr.score(rep["train"], rep["train"], holdout=rep["holdout"]).value
    fresh = dcr.score(rep["train"], rep["fresh"], holdout=rep["holdout"]).value
    assert copy > 0.58  # was 0.50 with ties counted half: no different from a fresh sample
    assert abs(fresh - 0.5) < 0.03


def test_exact_copies_against_the_base_rate(rep) -> None:
    ec = check("privacy.exact_copies")
    # with a holdout: a fresh sample copies training rows at the holdout's rate, and passes
    fresh = ec.score(rep["train"], rep["fresh"], holdout=rep["holdout"])
    assert fresh.details["copy_rate"] > 0.95 and fresh.value == 0.0
    copy = ec.score(rep["train"], rep["train"], holdout=rep["holdout"])
    assert copy.value > 0.1 and copy.details["estimate"] == pytest.approx(1.0, abs=0.3)
    # without one, the training rows' own repeats give the base rate
    alone = ec.score(rep["train"], rep["fresh"])
    assert alone.details["base_rate_from"] == "train, leave-one-out" and alone.value == 0.0
    assert ec.score(rep["train"], rep["train"]).value > 0.1
    # where even a verbatim copy could not rise above chance, it says so
    rng = np.random.default_rng(6)
    dense = repeating(rng, 8_000)  # 11 rows per distinct row: a fresh row nearly always copies
    with pytest.raises(NotComputableError, match=r"cannot show copying here\. Give a holdout"):
        ec.score(dense, dense)


def test_a_table_of_a_handful_of_rows_cannot_show_copying() -> None:
    rng = np.random.default_rng(5)
    few = [pd.DataFrame({"a": rng.choice(["x", "y"], 2_000), "b": rng.choice(["u", "v"], 2_000)})
           for _ in range(2)]
    with pytest.raises(NotComputableError, match="copying cannot be told from a fresh sample"):
        check("privacy.memorisation").score(few[0], few[0], holdout=few[1])


# -- the built-in suites -----------------------------------------------------------------------
@pytest.mark.parametrize("table", ["rep", "cont"])
def test_built_in_suites_gate_copies_and_pass_fresh_samples(table: str, request) -> None:
    data = request.getfixturevalue(table)
    for name in ("default", "privacy-strict"):
        suite = Suite.from_file(name).restricted_to(PRIVACY)
        fresh = suite.run(data["train"], data["fresh"], holdout=data["holdout"], figures=False)
        copy = suite.run(data["train"], data["train"], holdout=data["holdout"], figures=False)
        assert fresh.gate, (name, [(c.id, c.value, c.note) for c in fresh.checks])
        assert not copy.gate
        assert "privacy.memorisation" in copy.failed
        assert not [c for c in fresh.checks if c.status == "skipped"]  # nothing refused


def test_the_whole_default_suite_runs_on_a_repeating_table(rep) -> None:
    report = Suite.from_file("default").run(rep["train"], rep["fresh"], holdout=rep["holdout"],
                                            figures=False)
    refused = [c.id for c in report.checks if "not computable" in (c.note or "")]
    assert refused == []
    assert report.gate, [(c.id, c.status, c.value) for c in report.checks]
