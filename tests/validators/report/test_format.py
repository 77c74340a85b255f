"""Suite reports written by earlier synthaug versions still read back and render.

``fixtures/suite_report_format1.json`` is the JSON report of the "every plot" suite of
``test_suite_report.py`` (600 rows, every check that feeds a plot), written by synthaug 0.1.0
before validators declared their figures (``BaseValidator.figures``): its inputs have no
``summary`` and no ``modality``, its figures were pulled out of the scores by the report.
"""

from __future__ import annotations

import json
import pathlib

import pytest

from synthaug.validators.report import SuiteReport

FIXTURE = pathlib.Path(__file__).parents[2] / "fixtures" / "suite_report_format1.json"


@pytest.fixture(scope="module")
def written() -> dict:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


def test_a_format_1_report_reads_back_unchanged(written):
    report = SuiteReport.from_dict(written)
    assert report.suite == "every-plot" and not report.gate
    assert report.failed == ["fidelity.pair_trends"]
    assert set(report.figures) == {"marginals", "pair_trends", "dcr", "group_rates", "curves"}
    assert report.to_dict() == written


def test_a_format_1_report_renders(written):
    report = SuiteReport.from_dict(written)
    md = report.to_markdown()
    # inputs without a summary fall back to rows x columns
    assert "- real: 600 rows x 5 columns" in md
    assert "- holdout: 600 rows x 5 columns" in md
    assert "- sensitive: `sex`, `race`" in md
    assert "## Weakest columns (column shapes)" in md
    page = report.to_html()
    for heading in ("Marginals: real vs synthetic", "Pair trends: correlation difference",
                    "Privacy: distance to closest record", "Bias: group shares and outcome rates",
                    "Fidelity: alpha-precision and beta-recall curves",
                    "Privacy: membership-inference ROC"):
        assert f"<h2>{heading}</h2>" in page
    assert page.count("<img ") == 6
    assert "<li>real: 600 rows x 5 columns</li>" in page
