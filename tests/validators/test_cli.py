"""``synthaug validate``: exit codes of the gate, and its place in ``synthaug``."""

from __future__ import annotations

import json

import pytest

from synthaug.validators.cli import main as validate_main
from tests.validators.helpers import SHAPES_ONLY, constant_copy, small_frame, write


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
