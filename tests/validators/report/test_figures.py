"""The figure hook: validators hand the report its figure data by kind, renderers draw the kinds.

Hand-made figure dicts stand in for the image and text modalities (their ``image_grid`` and
``text_samples`` kinds), so the renderers are tested before those modalities exist.
"""

from __future__ import annotations

import base64
import html
import json
import struct
import zlib
from typing import Any

import numpy as np
import pandas as pd
import pytest

from synthaug import registry
from synthaug.data.tabular.figures import tabular_figures
from synthaug.validators.base import BaseValidator, Score, get_validator
from synthaug.validators.report import CheckResult, SuiteReport
from synthaug.validators.report.figures import KINDS, merge_figures
from synthaug.validators.suite import Suite


def png_base64(width: int = 4, height: int = 3, shade: int = 40) -> str:
    """A small grey PNG as base64, written by hand (no imaging library needed)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    rows = b"".join(b"\x00" + bytes([shade]) * width for _ in range(height))
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0,
                                                             0, 0))
           + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
    return base64.b64encode(png).decode("ascii")


def report_with(figures: dict[str, Any], inputs: dict[str, Any] | None = None) -> SuiteReport:
    check = CheckResult(id="fidelity.detection", validator="fidelity.detection", status="pass",
                        gates=True, max=0.8, value=0.55, category="fidelity")
    return SuiteReport(suite="hand-made", source="-", gate=True, checks=(check,),
                       inputs=inputs or {}, figures=figures)


IMAGE_GRID = {"title": "Fashion-MNIST: real vs synthetic", "classes": ["T-shirt", "Trouser"],
              "real": png_base64(shade=40), "synthetic": png_base64(shade=200)}
TEXT_SAMPLES = {"title": "Reviews: real vs synthetic", "samples": [
    {"label": "pos", "real": ["A <b>great</b> film & more", "Loved it"],
     "synthetic": ["A *great* film | really"]},
    {"label": "neg", "real": ["Dull."], "synthetic": ["Dull, <script>x</script>", "Meh"]},
]}


# -- the merge ---------------------------------------------------------------------------------
def test_merge_joins_lists_labels_them_and_keeps_the_first_dict():
    merged, notes = merge_figures([
        ("alpha", {"curves": [{"title": "P"}]}),
        ("dcr-a", {"dcr": {"edges": [0.0, 1.0]}, "notes": ["first"]}),
        ("beta", {"curves": [{"title": "R", "check": "own"}]}),
        ("dcr-b", {"dcr": {"edges": [0.0, 2.0]}, "notes": ["second"]}),
    ])
    assert merged["curves"] == [{"check": "alpha", "title": "P"}, {"check": "own", "title": "R"}]
    assert merged["dcr"] == {"edges": [0.0, 1.0]}
    assert notes == ["first", "second"] and "notes" not in merged


def test_every_kind_a_suite_stores_is_drawn_and_labelled_with_its_check():
    real = pd.DataFrame({"x": np.arange(400.0) % 37, "g": ["a", "b"] * 200,
                         "y": ["n", "y", "n", "n"] * 100})
    report = Suite.from_dict({"name": "two", "checks": [
        {"validator": "bias.outcome_parity", "id": "parity-small", "max": 0.5,
         "params": {"min_group_rows": 50}},
        {"validator": "fidelity.alpha_precision", "id": "alpha", "gate": False},
    ]}).run(real, real.sample(frac=1.0, random_state=0), target="y", sensitive="g",
            context={"device": "cpu"})
    assert set(report.figures) <= KINDS
    assert [t["check"] for t in report.figures["group_rates"]] == ["parity-small"]
    assert [c["check"] for c in report.figures["curves"]] == ["alpha"]
    gaps = report.figures["group_rates"][0]["gaps"]
    assert [g["grouping"] for g in gaps] == ["g"] and gaps[0]["verdict"] == "unchanged"
    assert "| parity-small | g | outcome-rate gap (max - min) |" in report.to_markdown()
    assert report.inputs["modality"] == "tabular"
    assert report.inputs["real"]["summary"] == "400 rows x 3 columns"


def test_a_validator_gives_figures_through_the_hook_not_its_name():
    class Curvy(BaseValidator):
        category = "fidelity"
        direction = "higher"

        def score(self, real, synthetic, *, holdout=None, context=None):
            return self._score(0.5, details={"anything": 1})

        def figures(self, score: Score) -> dict[str, Any]:
            return {"curves": [{"validator": score.validator, "category": "fidelity",
                                "title": "a plug-in's curve", "x_label": "x", "y_label": "y",
                                "x": [0.0, 1.0], "y": [0.0, 0.5]}],
                    "notes": ["the plug-in says hello"]}

    real = pd.DataFrame({"x": np.arange(50.0), "c": ["a", "b"] * 25})
    with registry.validators.scoped():
        registry.validators.register("plugin.curvy")(Curvy)
        Curvy.name = "plugin.curvy"
        report = Suite.from_dict({"name": "p", "checks": [
            {"validator": "plugin.curvy", "id": "mine", "min": 0.1}]}).run(real, real)
    assert report.figures["curves"][0]["check"] == "mine"
    assert "the plug-in says hello" in report.notes
    assert '<section id="support-curves">' in report.to_html()


# -- what validators return ---------------------------------------------------------------------
def test_the_tabular_pair_trends_reuse_the_validators_matrix():
    rng = np.random.default_rng(0)
    x = rng.normal(size=300)
    real = pd.DataFrame({"x": x, "y": x + rng.normal(scale=0.3, size=300),
                         "c": rng.choice(["a", "b"], 300)})
    synth = real.assign(y=rng.normal(size=300))
    score = get_validator("fidelity.pair_trends").score(real, synth)
    given = get_validator("fidelity.pair_trends").figures(score)
    by_pair = {(p["column_1"], p["column_2"]): p["score"] for p in score.details["pairs"]}
    figures, _ = tabular_figures(real, synth, target="c", from_validators=given)
    pairs = figures["pair_trends"]
    assert pairs["columns"] == ["c", "x", "y"]  # the target first, as the plots show it
    assert pairs["matrix"][1][2] == pytest.approx(1 - by_pair[("x", "y")], abs=1e-6)
    assert pairs["matrix"][0][1] == pairs["matrix"][1][0] == pytest.approx(
        1 - by_pair[("x", "c")], abs=1e-6)
    assert "fidelity.pair_trends" in pairs["definition"]
    computed, _ = tabular_figures(real, synth, target="c")
    assert "total variation" in computed["pair_trends"]["definition"]


def test_validators_without_their_details_say_so_instead_of_failing():
    empty = Score("bias.outcome_parity", "bias", "lower", 0.0, details={})
    out = get_validator("bias.outcome_parity").figures(empty)
    assert "group_rates" not in out and "no group rates" in out["notes"][0]
    for name in ("fidelity.pair_trends", "fidelity.alpha_precision", "privacy.mia_distance"):
        assert get_validator(name).figures(Score(name, "x", "lower", 0.0)) == {}


# -- new kinds ---------------------------------------------------------------------------------
def test_an_image_grid_is_embedded_in_html_and_mentioned_in_markdown():
    report = report_with({"image_grid": IMAGE_GRID}, inputs={
        "modality": "image", "real": {"summary": "60 images of 28 x 28, 2 classes"}})
    page = report.to_html()
    assert "<h2>Fashion-MNIST: real vs synthetic</h2>" in page
    for side in ("real", "synthetic"):
        assert f'src="data:image/png;base64,{IMAGE_GRID[side]}"' in page
    assert "Classes: T-shirt, Trouser." in page
    assert "<li>modality: image</li>" in page
    assert "<li>real: 60 images of 28 x 28, 2 classes</li>" in page
    assert "<script" not in page
    md = report.to_markdown()
    assert "## Fashion-MNIST: real vs synthetic" in md
    assert "(classes: T-shirt, Trouser) are in the HTML report." in md
    assert "- modality: image" in md and "- real: 60 images of 28 x 28, 2 classes" in md
    assert SuiteReport.from_dict(json.loads(report.to_json())) == report


def test_text_samples_are_escaped_tables_in_html_and_a_list_in_markdown():
    report = report_with({"text_samples": TEXT_SAMPLES})
    page = report.to_html()
    assert "<h2>Reviews: real vs synthetic</h2>" in page
    assert page.count('<table class="texts">') == 2
    assert "<h3>pos</h3>" in page and "<h3>neg</h3>" in page
    assert "A &lt;b&gt;great&lt;/b&gt; film &amp; more" in page
    assert "&lt;script&gt;x&lt;/script&gt;" in page and "<script" not in page
    # the longer side sets the rows; the other is padded with empty cells
    assert '<td class="text">Meh</td>' in page
    assert '<tr><td class="text"></td><td class="text">Meh</td></tr>' in page
    md = report.to_markdown()
    assert "## Reviews: real vs synthetic" in md
    assert "- **pos**\n  - real:\n    - A \\<b\\>great\\</b\\> film & more\n" in md
    assert "    - A \\*great\\* film \\| really" in md


@pytest.mark.parametrize("bad", [
    {"title": "t", "real": 'x" onerror="alert(1)', "synthetic": png_base64()},
    {"title": "t", "real": base64.b64encode(b"GIF89a....").decode(), "synthetic": png_base64()},
    ["not", "a", "mapping"],
])
def test_a_bad_image_grid_is_left_out_with_a_note(bad):
    report = report_with({"image_grid": bad})
    page = report.to_html()
    assert "onerror" not in page and 'id="image-grid"' not in page
    assert "Image grid left out" in page
    assert "Image grid left out" in report.to_markdown()


def test_unknown_kinds_are_left_out_with_a_note():
    report = report_with({"audio_clips": {"title": "later"}, "text_samples": {"samples": []}})
    for text in (html.unescape(report.to_html()), report.to_markdown()):
        assert "kind 'audio_clips' left out" in text
        assert "Text samples left out" in text
