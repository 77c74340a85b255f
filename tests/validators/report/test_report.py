"""Suite reports: JSON, Markdown and self-contained HTML (checked in a real browser)."""

from __future__ import annotations

import base64
import html.parser
import json
import os
import pathlib
import re
import shutil
import subprocess
import tempfile

import numpy as np
import pandas as pd
import pytest

from synthaug.data.tabular.figures import tabular_figures
from synthaug.validators import get_validator
from synthaug.validators.base import Score
from synthaug.validators.report import SuiteReport
from synthaug.validators.report.figures import merge_figures
from synthaug.validators.suite import Suite
from tests.validators.helpers import small_frame

# -- reports -----------------------------------------------------------------------------------
#: one check of each kind that feeds a plot or a table of the report
EVERY_PLOT = {"name": "every-plot", "checks": [
    {"validator": "fidelity.column_shapes", "min": 0.8},
    {"validator": "fidelity.pair_trends", "min": 0.5},
    {"validator": "fidelity.alpha_precision", "gate": False},
    {"validator": "fidelity.beta_recall", "gate": False},
    {"validator": "privacy.dcr", "max": 0.6},
    {"validator": "privacy.mia_distance", "max": 0.6},
    {"validator": "bias.outcome_parity", "max": 0.5},
    {"validator": "bias.downstream_fairness", "gate": False,
     "params": {"n_bootstrap": 50, "min_group_rows": 50}},
]}


def full_report(seed: int = 0) -> SuiteReport:
    """A real suite run whose checks feed every plot and table the report draws."""
    real = small_frame(600, seed=seed)
    synth = small_frame(600, seed=seed + 1).assign(age=30)
    holdout = small_frame(600, seed=seed + 2)
    return Suite.from_dict(EVERY_PLOT).run(real, synth, holdout=holdout, target="income",
                                           sensitive="sex,race", context={"device": "cpu"})


@pytest.fixture(scope="module")
def plotted() -> SuiteReport:
    return full_report()


@pytest.fixture(scope="module")
def html_file(plotted, tmp_path_factory) -> pathlib.Path:
    """The report written as HTML once, for the tests that read it."""
    return plotted.write(tmp_path_factory.mktemp("html") / "report.html")


def test_json_and_markdown(plotted):
    report = plotted
    data = json.loads(report.to_json())
    assert data["gate"] == {"passed": report.gate, "failed": report.failed, "skipped": []}
    assert data["checks"][0]["validator"] == "fidelity.column_shapes"
    assert set(data["figures"]) == {"marginals", "pair_trends", "dcr", "group_rates", "curves"}
    assert SuiteReport.from_dict(data) == report
    md = report.to_markdown()
    assert md.startswith("# Validation report: every-plot")
    assert "## Bias: did the synthetic data widen or narrow each gap?" in md
    assert "| fidelity.column_shapes | fidelity.column_shapes |" in md
    assert "- sensitive: `sex`, `race`" in md


def test_marginals_of_values_at_the_float_limits_have_finite_increasing_edges():
    frame = pd.DataFrame({"f": [0.0, 2.3e300, -1.797693e308, -2e-48, 1.0]})
    figures, _ = tabular_figures(frame, frame)
    edges = np.asarray(figures["marginals"][0]["edges"])
    assert np.isfinite(edges).all() and (np.diff(edges) > 0).all()
    assert sum(figures["marginals"][0]["real"]) == pytest.approx(1.0)


def test_dcr_without_distances_is_skipped_with_a_note():
    score = Score("privacy.dcr", "privacy", "lower", 0.5, details={"share_closer": 0.5})
    figures, notes = merge_figures([("privacy.dcr", get_validator("privacy.dcr").figures(score))])
    assert "dcr" not in figures
    assert any("DCR histogram skipped" in n and "share_closer" in n for n in notes)


class _Outline(html.parser.HTMLParser):
    """Section headings and images of an HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.headings: list[str] = []
        self.images: list[dict[str, str | None]] = []
        self._in: str | None = None

    def handle_starttag(self, tag, attrs):
        if tag in ("h1", "h2"):
            self._in = tag
            self.headings.append("")
        elif tag == "img":
            self.images.append(dict(attrs))

    def handle_endtag(self, tag):
        if tag == self._in:
            self._in = None

    def handle_data(self, data):
        if self._in:
            self.headings[-1] += data


def test_html_is_self_contained(plotted, html_file):
    page = html_file.read_text(encoding="utf-8")
    outline = _Outline()
    outline.feed(page)
    assert outline.headings[1:] == [
        "Summary", "Checks", "Marginals: real vs synthetic",
        "Pair trends: correlation difference", "Privacy: distance to closest record",
        "Bias: group shares and outcome rates", "Fidelity: alpha-precision and beta-recall curves",
        "Privacy: membership-inference ROC",
        "Bias: did the synthetic data widen or narrow each gap?",
        "Details"] + (["Notes"] if plotted.notes else [])
    assert len(outline.images) == 6
    # the widened/narrowed table holds a verdict for each gap the bias checks measured
    for verdict in re.findall(r'<td class="status (\w+)">(widened|narrowed|unchanged)</td>', page):
        assert verdict[0] in {"fail", "pass", "info"}
    for img in outline.images:
        src = img["src"] or ""
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1]).startswith(b"\x89PNG\r\n\x1a\n")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", page)
    assert "<script" not in page


def test_reports_are_written_atomically(tmp_path, monkeypatch, plotted):
    report = plotted
    for name in ("r.json", "r.md", "r.html"):
        assert report.write(tmp_path / name).stat().st_size > 0
    old = tmp_path / "old.md"
    old.write_text("previous report")

    def half_then_fail(self, data, *args, **kwargs):
        with open(self, "w") as fh:
            fh.write(data[: len(data) // 2])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pathlib.Path, "write_text", half_then_fail)
    for target in (tmp_path / "new.json", tmp_path / "new.md", old):
        with pytest.raises(OSError, match="No space left"):
            report.write(target)
    monkeypatch.undo()
    assert not (tmp_path / "new.json").exists() and not (tmp_path / "new.md").exists()
    assert old.read_text() == "previous report"
    # a failure while rendering never gets as far as opening the file
    monkeypatch.setattr("synthaug.validators.report.plots.plot_marginals",
                        lambda *a: (_ for _ in ()).throw(RuntimeError("plot failed")))
    with pytest.raises(RuntimeError):
        report.write(tmp_path / "new.html")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.md", "r.html", "r.json", "r.md"]


# -- the HTML in a real browser ----------------------------------------------------------------
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium"
                                        if os.path.exists("/usr/bin/chromium") else None)


#: put before the page's content-security policy (a policy in a meta element only governs what
#: follows it), so the page itself stays script-free.  On load it draws every image on a canvas
#: and counts painted pixels: proof the PNG decoded, not just that the tag exists.
_PROBE = """<script>
window.addEventListener('load', function () {
  var rows = Array.prototype.map.call(document.images, function (img) {
    var painted = 0;
    try {
      var c = document.createElement('canvas');
      c.width = img.naturalWidth; c.height = img.naturalHeight;
      var g = c.getContext('2d'); g.drawImage(img, 0, 0);
      var d = g.getImageData(0, 0, c.width, c.height).data;
      for (var k = 0; k < d.length; k += 4) {
        if (d[k + 3] > 0 && (d[k] < 250 || d[k + 1] < 250 || d[k + 2] < 250)) { painted++; }
      }
    } catch (e) { painted = -1; }
    return {alt: img.alt, complete: img.complete, width: img.naturalWidth, painted: painted};
  });
  var out = document.createElement('pre');
  out.id = 'synthaug-probe';
  out.textContent = JSON.stringify(rows);
  document.body.appendChild(out);
});
</script>
"""


def _chromium(*args: str, user_data: pathlib.Path) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-first-run", "--hide-scrollbars", f"--user-data-dir={user_data}", *args],
        capture_output=True, text=True, timeout=90, check=False,
    )


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install -y "
                    "chromium), so the HTML report cannot be opened in a browser")
def test_html_report_renders_in_chromium(tmp_path, html_file):
    report_path = html_file
    page = report_path.read_text(encoding="utf-8")
    outline = _Outline()
    outline.feed(page)
    assert "<head>\n" in page
    probe_path = tmp_path / "probe.html"
    probe_path.write_text(page.replace("<head>\n", "<head>\n" + _PROBE, 1), encoding="utf-8")
    with tempfile.TemporaryDirectory() as profile:
        done = _chromium("--virtual-time-budget=10000", "--dump-dom", probe_path.as_uri(),
                         user_data=pathlib.Path(profile))
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    found = re.search(r'<pre id="synthaug-probe">(.*?)</pre>', dom, re.S)
    assert found, "the probe did not run: " + dom[:500]
    images = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    assert [i["alt"] for i in images] == [i["alt"] for i in outline.images]
    for image in images:
        assert image["complete"] and image["width"] > 0 and image["painted"] > 100, image
    for heading in outline.headings:
        assert f">{heading}</h" in dom.replace("&amp;", "&"), heading
    # and the unmodified file renders to a screenshot
    shot = tmp_path / "report.png"
    with tempfile.TemporaryDirectory() as profile:
        done = _chromium("--window-size=1280,2400", f"--screenshot={shot}", report_path.as_uri(),
                         user_data=pathlib.Path(profile))
    assert done.returncode == 0, done.stderr[-2000:]
    assert shot.read_bytes().startswith(b"\x89PNG") and shot.stat().st_size > 20_000
