"""Validation suites, their reports (JSON, Markdown, HTML in a real browser) and the CLI gate."""

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
from synthaug.exceptions import (
    InvalidDataError,
    InvalidParameterError,
    UnknownComponentError,
    ValidationFailedError,
)
from synthaug.validators import get_validator, list_validators
from synthaug.validators.base import Score
from synthaug.validators.cli import main as validate_main
from synthaug.validators.report import SuiteReport
from synthaug.validators.report.figures import merge_figures
from synthaug.validators.suite import Suite, builtin_suites, load_suite_spec

SHAPES_ONLY = """
version = 1
name = "shapes"
[[checks]]
validator = "fidelity.column_shapes"
min = 0.8
"""


def small_frame(n: int = 200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 80, n)
    return pd.DataFrame({
        "age": age,
        "hours": np.round(rng.normal(40, 8, n), 1),
        "sex": rng.choice(["F", "M"], n),
        "race": rng.choice(["A", "B", "C"], n, p=[0.6, 0.3, 0.1]),
        "income": np.where(age + rng.normal(0, 10, n) > 50, ">50K", "<=50K"),
    })


def constant_copy(frame: pd.DataFrame) -> pd.DataFrame:
    """Clearly bad synthetic data: every column holds one value."""
    return pd.DataFrame({c: [frame[c].iloc[0]] * len(frame) for c in frame.columns})


def write(path: pathlib.Path, text: str) -> pathlib.Path:
    path.write_text(text, encoding="utf-8")
    return path


def fidelity_suite() -> Suite:
    """The default suite with its registered fidelity checks (identical data must pass them).

    ``fidelity.detection`` is left out: it cross-validates a classifier (seconds per run) and its
    own known-answer tests cover it.
    """
    registered = [n for n in list_validators()
                  if n.startswith("fidelity.") and n != "fidelity.detection"]
    return Suite.from_file("default").restricted_to(registered)


# -- suite files -------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["default", "privacy-strict", "fairness"])
def test_builtin_suites_parse(name):
    suite = Suite.from_file(name)
    assert suite.spec.name == name
    assert suite.source == f"validators/{name}.toml (built into synthaug)"
    # every entry names a registered validator (built-in suites carry no dangling names)
    assert set(suite.validator_names) <= set(list_validators())
    assert any(c.gates for c in suite.spec.checks)


def test_builtin_names_and_file_paths(tmp_path):
    assert {"default", "privacy-strict", "fairness"} <= set(builtin_suites())
    spec = load_suite_spec(write(tmp_path / "mine.toml", SHAPES_ONLY))
    check = spec.checks[0]
    assert (spec.name, check.validator, check.min, check.max, check.gates) == (
        "shapes", "fidelity.column_shapes", 0.8, None, True)
    assert Suite.from_file(str(tmp_path / "mine.toml")).spec == spec
    with pytest.raises(UnknownComponentError, match="Did you mean 'default'"):
        Suite.from_file("defualt")
    with pytest.raises(InvalidParameterError, match=r"missing\.toml: cannot be read"):
        Suite.from_file(tmp_path / "missing.toml")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('name = "s"\n[[checks]]\nvalidator = "fidelity.column_shapes"\noptinal = true\n',
         r"checks\[0\]\.optinal: unknown key"),
        ('name = "s"\ndescripton = "red"\n[[checks]]\nvalidator = "fidelity.column_shapes"\n',
         r"descripton: unknown key. Did you mean 'description'\? Keys allowed in the top level: "
         r"checks, description, name, version"),
        ('name = "s"\n[[checks]]\nvalidator = "fidelity.column_shapes"\n'
         '[[checks]]\nvalidator = "fidelity.pair_trends"\nmin = "high"\n',
         r"checks\[1\]\.min: Input should be a valid number \(got 'high'\)"),
        ('name = "s"\n[[checks]]\nvalidator = "fidelity.column_shapes"\ngate = "yes"\n',
         r"checks\[0\]\.gate: Input should be a valid boolean"),
        ('name = "s"\n[[checks]]\nmin = 0.8\n',
         r"checks\[0\]\.validator: is required but missing"),
        ('name = "s"\n[[checks]]\nvalidator = "fidelity.column_shapes"\nmin = 0.9\nmax = 0.1\n',
         r"checks\[0\]: min = 0.9 is above max = 0.1"),
        ('name = "s"\n[[checks]]\nvalidator = "fidelity.column_shapes"\ngate = true\n',
         r"checks\[0\]: gate = true needs a threshold"),
        ('name = "s"\n[[checks]]\nvalidator = "privacy.dcr"\nneeds = ["holdot"]\n',
         r"checks\[0\]\.needs\[0\]: Input should be 'holdout', 'target', 'sensitive' "
         r"or 'generator'"),
        ('name = "s"\n[[checks]]\nvalidator = "fidelity.column_shapes"\n'
         '[[checks]]\nvalidator = "fidelity.column_shapes"\n',
         r"checks\[0\] and checks\[1\] are both labelled 'fidelity.column_shapes'"),
        ('name = "s"\nchecks = []\n', r"checks: a suite needs at least one \[\[checks\]\] entry"),
        ('name = "s"\n[[checks]\n', r"is not valid TOML"),
    ],
    ids=["unknown-key", "unknown-top-key", "threshold-type", "gate-type", "no-validator",
         "min-above-max", "gate-without-threshold", "bad-need", "duplicate-id", "no-checks",
         "bad-toml"],
)
def test_bad_suite_file_names_file_and_field(tmp_path, body, expected):
    file = write(tmp_path / "bad.toml", body)
    with pytest.raises(InvalidParameterError) as info:
        Suite.from_file(file)
    message = str(info.value)
    assert str(file) in message
    assert re.search(expected, message), message


# -- running and the gate ----------------------------------------------------------------------
def test_gate_passes_on_identical_data_and_fails_on_bad():
    real = small_frame()
    good = fidelity_suite().run(real, real.copy(), target="income", sensitive="sex,race")
    assert good.gate, str(good)
    assert good["fidelity.column_shapes"].value == pytest.approx(1.0)
    bad = fidelity_suite().run(real, constant_copy(real), figures=False)
    assert not bad.gate
    assert "fidelity.column_shapes" in bad.failed
    with pytest.raises(ValidationFailedError, match=r"fidelity\.column_shapes"):
        bad.raise_for_gate()


@pytest.mark.skipif("privacy.exact_copies" not in list_validators(),
                    reason="privacy.exact_copies is not registered yet")
def test_default_suite_fails_copies_of_training_rows():
    real = small_frame()
    report = Suite.from_file("default").restricted_to(
        ["fidelity.column_shapes", "privacy.exact_copies"]).run(real, real.copy(), figures=False)
    assert "privacy.exact_copies" in report.failed
    assert not report.gate


def test_unknown_validator_gives_did_you_mean_at_run(tmp_path):
    file = write(tmp_path / "typo.toml", SHAPES_ONLY + '[[checks]]\nvalidator = '
                 '"fidelity.colum_shapes"\nid = "typo"\nmin = 0.5\n')
    suite = Suite.from_file(file)  # parsing does not need the registry
    with pytest.raises(UnknownComponentError) as info:
        suite.run(small_frame(), small_frame())
    message = str(info.value)
    assert "Did you mean 'fidelity.column_shapes'" in message
    assert f"{file}: checks[1] (typo)" in message


def test_optional_and_needs():
    suite = Suite.from_dict({"name": "s", "checks": [
        {"validator": "fidelity.column_shapes", "min": 0.8},
        {"validator": "plugin.not_installed", "max": 0.1, "optional": True},
        {"validator": "fidelity.column_shapes", "id": "needs-holdout", "min": 0.8,
         "needs": ["holdout"], "optional": True},
    ]})
    real = small_frame()
    report = suite.run(real, real.copy(), figures=False)
    assert report.gate
    assert report.skipped == ["plugin.not_installed", "needs-holdout"]
    assert "not registered" in report["plugin.not_installed"].note
    assert "--holdout" in report["needs-holdout"].note
    assert report.checks[0].status == "pass"
    # a needed input that is missing on a non-optional entry stops the suite before it runs
    strict = Suite.from_dict({"name": "s", "checks": [
        {"validator": "fidelity.column_shapes", "min": 0.8, "needs": ["target", "sensitive"]}]})
    with pytest.raises(InvalidParameterError, match=r"needs target and sensitive.*--target"):
        strict.run(real, real)


def test_gate_fails_when_no_gating_check_ran():
    suite = Suite.from_dict({"name": "s", "checks": [
        {"validator": "plugin.not_installed", "max": 0.1, "optional": True},
        {"validator": "fidelity.column_shapes"},  # report only
    ]})
    report = suite.run(small_frame(), small_frame(), figures=False)
    assert not report.gate
    assert report["fidelity.column_shapes"].status == "info"
    assert "No gating check ran" in report.notes[0]


def test_non_gating_miss_is_a_warning_and_bad_params_name_the_entry():
    real = small_frame()
    warn = Suite.from_dict({"name": "s", "checks": [
        {"validator": "fidelity.column_shapes", "min": 0.8},
        {"validator": "fidelity.column_shapes", "id": "strict", "min": 0.999, "gate": False}]})
    report = warn.run(real, small_frame(seed=1), figures=False)
    assert report.gate and report["strict"].status == "warn"
    bad_params = Suite.from_dict({"name": "s", "checks": [
        {"validator": "fidelity.column_shapes", "min": 0.8, "params": {"bins": 3}}]},
        source="inline")
    with pytest.raises(InvalidParameterError, match=r"inline: checks\[0\].*params refused"):
        bad_params.run(real, real)


def test_missing_sensitive_column_is_a_clear_error():
    real = small_frame()
    with pytest.raises(InvalidDataError, match=r"sensitive column 'rac'.*Did you mean 'race'"):
        fidelity_suite().run(real, real, sensitive="sex,rac")
    with pytest.raises(InvalidDataError, match="target column 'incme'"):
        fidelity_suite().run(real, real, target="incme")


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


# -- command line ------------------------------------------------------------------------------
@pytest.fixture
def csv_files(tmp_path):
    real = small_frame()
    paths = {
        "real": tmp_path / "real.csv",
        "same": tmp_path / "same.csv",
        "bad": tmp_path / "bad.csv",
        "suite": write(tmp_path / "shapes.toml", SHAPES_ONLY),
    }
    real.to_csv(paths["real"], index=False)
    real.sample(frac=1.0, random_state=0).to_csv(paths["same"], index=False)
    constant_copy(real).to_csv(paths["bad"], index=False)
    return paths


def test_cli_exit_codes(csv_files, tmp_path, capsys):
    f = csv_files
    html_out, json_out = tmp_path / "out" / "r.html", tmp_path / "out" / "r.json"
    common = ["--suite", str(f["suite"]), "--target", "income", "--sensitive", "sex,race"]
    assert validate_main([str(f["real"]), str(f["same"]), *common, "--report", str(html_out),
                          "--json", str(json_out)]) == 0
    assert json.loads(json_out.read_text())["gate"]["passed"] is True
    assert "Gate PASSED" in html_out.read_text()
    assert "gate PASSED" in capsys.readouterr().out
    # gate fails: exit 1, and the reports are still written
    assert validate_main([str(f["real"]), str(f["bad"]), *common, "--report", str(html_out),
                          "--json", str(json_out)]) == 1
    assert json.loads(json_out.read_text())["gate"]["passed"] is False
    capsys.readouterr()
    bad_inputs = [
        [str(tmp_path / "nope.csv"), str(f["same"]), *common],
        [str(f["real"]), str(f["same"]), "--suite", "no-such-suite"],
        [str(f["real"]), str(f["same"]), "--suite", str(f["suite"]), "--sensitive", "sex,rase"],
        [str(f["real"]), str(f["same"]), "--suite", str(f["suite"]), "--report", "r.pdf"],
        [str(f["real"]), str(f["same"]), "--suite", str(f["suite"]), "--json", "r.md"],
    ]
    for argv in bad_inputs:
        assert validate_main(argv) == 2, argv
        assert "synthaug: error:" in capsys.readouterr().err


def test_cli_is_wired_into_synthaug(csv_files):
    from synthaug import cli

    parser = cli.build_parser()
    try:
        parser.parse_args(["validate", "a.csv", "b.csv"])
    except SystemExit:
        pytest.skip("`synthaug validate` is not wired into synthaug/cli.py yet")
    f = csv_files
    assert cli.main(["validate", str(f["real"]), str(f["same"]), "--suite",
                     str(f["suite"])]) == 0
    assert cli.main(["validate", str(f["real"]), str(f["bad"]), "--suite",
                     str(f["suite"])]) == 1
    assert cli.main(["validate", str(f["real"]), str(f["same"]), "--suite", "nope"]) == 2


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
