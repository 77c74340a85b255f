"""The built-in ``fairness`` suite on Adult: passes a copy, fails data without women."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from synthaug.validators.suite import Suite


# -- suites ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def adult() -> pd.DataFrame:
    datasets = pytest.importorskip("synthaug.data.datasets")
    return datasets.load_adult().iloc[:3000].reset_index(drop=True)


def test_fairness_suite_on_adult(adult: pd.DataFrame) -> None:
    suite = Suite.from_file("fairness")
    good = suite.run(adult, adult.copy(), target="income", sensitive=["sex", "race"])
    for name in ("bias.group_representation", "bias.outcome_parity"):
        assert good[name].status == "pass", str(good)
        assert good[name].value == 0.0
    assert good.gate
    plotted = {table["validator"] for table in good.figures["group_rates"]}
    assert plotted == {"bias.group_representation", "bias.outcome_parity"}
    json.loads(good.to_json())

    no_women = adult[adult["sex"] != "Female"].reset_index(drop=True)
    bad = suite.run(adult, no_women, target="income", sensitive=["sex", "race"], figures=False)
    assert {"bias.group_representation", "bias.outcome_parity"} <= set(bad.failed)
    assert bad["bias.group_representation"].details["missing_groups"]["sex"] == ["Female"]
    assert bad["bias.outcome_parity"].value == 1.0
    assert not bad.gate
