"""Output paths are checked before any work, and two outputs naming one file are refused
(issue 15, item 3; fixed on main before this branch, pinned here)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from synthaug.cli import main
from synthaug.generators.tabular.copula import GaussianCopulaGenerator


@pytest.fixture
def table(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    pd.DataFrame({"x": rng.normal(size=40), "c": rng.choice(["a", "b"], 40)}).to_csv(
        tmp_path / "d.csv", index=False)
    return tmp_path / "d.csv"


@pytest.fixture
def no_fitting(monkeypatch: pytest.MonkeyPatch) -> None:
    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("the generator was fitted before the outputs were checked")

    monkeypatch.setattr(GaussianCopulaGenerator, "fit", never)


@pytest.mark.parametrize("flag", ["--out", "--report"])
def test_an_output_under_a_file_is_refused_before_fitting(tmp_path: Path, table: Path,
                                                         no_fitting: None, flag: str,
                                                         capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    (tmp_path / "file").write_text("keep")
    bad = str(tmp_path / "file" / "o.json")
    args = ["augment", str(table), "--n", "5", "--out",
            str(tmp_path / "o.parquet") if flag == "--report" else bad.replace(".json",
                                                                              ".parquet")]
    if flag == "--report":
        args += ["--report", bad]
    assert main(args) == 2
    assert "is a file, not a folder" in capsys.readouterr().err
    assert (tmp_path / "file").read_text() == "keep"


def test_out_and_report_on_one_file_are_refused_before_fitting(tmp_path: Path, table: Path,
                                                               no_fitting: None,
                                                               capsys: pytest.CaptureFixture[str]
                                                               ) -> None:
    out = tmp_path / "same.csv"
    assert main(["augment", str(table), "--n", "5", "--out", str(out), "--report",
                 str(tmp_path / "." / "same.csv")]) == 2
    assert "both name" in capsys.readouterr().err
    assert not out.exists()


def test_validate_refuses_two_reports_on_one_file_before_reading_data(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # the inputs do not even exist: the clash is found first
    assert main(["validate", str(tmp_path / "nope.csv"), str(tmp_path / "nope.csv"),
                 "--report", str(tmp_path / "r.json"), "--json", str(tmp_path / "r.json")]) == 2
    assert "--report and --json both name" in capsys.readouterr().err
