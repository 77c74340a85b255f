"""The ``synthaug`` command, in-process through ``main([...])`` and once as a real subprocess.

Every failure must exit with code 2, print one ``synthaug: error: ...`` line on stderr and
leave no output file behind (nor a half-written or temporary one).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from synthaug import __version__
from synthaug.cli import main


@pytest.fixture
def table(tmp_path: Path) -> Path:
    """A small imbalanced census-like CSV: 40 rows, 30 '<=50K' and 10 '>50K'."""
    rng = np.random.default_rng(0)
    n = 40
    frame = pd.DataFrame({
        "age": rng.integers(18, 80, n),
        "hours": np.round(rng.normal(40, 8, n), 1),
        "work": rng.choice(["Private", "State", "Self-emp"], n),
        "flag": rng.random(n) < 0.3,
        "income": ["<=50K"] * 30 + [">50K"] * 10,
    })
    path = tmp_path / "in.csv"
    frame.to_csv(path, index=False)
    return path


def files_in(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"expected one error line, got: {err!r}"
    assert lines[0].startswith("synthaug: error: "), lines[0]
    return lines[0]


# -- informational commands ---------------------------------------------------------------------
def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"synthaug {__version__}"


def test_list_shows_the_copula(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "generators:" in out and "tabular.copula" in out
    assert "validators:" in out


def test_no_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([])
    assert exit_info.value.code == 2
    assert "usage: synthaug" in capsys.readouterr().err


# -- augment ------------------------------------------------------------------------------------
def test_augment_balance_writes_parquet_and_report(
    table: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, report = tmp_path / "out.parquet", tmp_path / "r.json"
    code = main(["augment", str(table), "--target", "income", "--balance", "--out", str(out),
                 "--seed", "0", "--report", str(report), "--device", "cpu"])
    assert code == 0
    written = pd.read_parquet(out)
    real = pd.read_csv(table)
    assert list(written.columns) == list(real.columns)
    assert written["income"].value_counts().to_dict() == {"<=50K": 30, ">50K": 30}
    pd.testing.assert_frame_equal(written.iloc[: len(real)], real, check_dtype=False)
    data = json.loads(report.read_text())
    assert data["n_real"] == 40 and data["n_synthetic"] == 20
    assert data["target"] == "income"
    assert data["class_counts_after"] == {"<=50K": 30, ">50K": 30}
    assert data["generator"] == "tabular.copula"
    stdout = capsys.readouterr().out
    assert f"wrote 60 rows to {out}" in stdout
    assert files_in(tmp_path) == {"in.csv", "out.parquet", "r.json"}, "temporary files left"


def test_augment_is_repeatable_with_a_seed(table: Path, tmp_path: Path) -> None:
    for name in ("a.parquet", "b.parquet"):
        assert main(["augment", str(table), "--n", "15", "--seed", "3", "--device", "cpu",
                     "--out", str(tmp_path / name)]) == 0
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "a.parquet"),
                                  pd.read_parquet(tmp_path / "b.parquet"))


@pytest.mark.parametrize("condition", ['income=">50K"', "income=>50K"])
def test_augment_with_a_condition(table: Path, tmp_path: Path, condition: str) -> None:
    out = tmp_path / "out.csv"
    code = main(["augment", str(table), "--condition", condition, "--n", "20", "--out",
                 str(out), "--seed", "0", "--device", "cpu"])
    assert code == 0
    written = pd.read_csv(out)
    assert len(written) == 60
    assert (written["income"].iloc[40:] == ">50K").all()


@pytest.mark.parametrize(("flag", "expected"),
                         [("true", True), ("false", False), ("True", True), ("False", False)])
def test_augment_with_boolean_and_text_conditions(
    table: Path, tmp_path: Path, flag: str, expected: bool
) -> None:
    out = tmp_path / "out.parquet"
    code = main(["augment", str(table), "--condition", f"flag={flag}", "--condition",
                 "work=State", "--n", "10", "--out", str(out), "--seed", "0", "--device", "cpu"])
    assert code == 0
    synthetic = pd.read_parquet(out).iloc[40:]
    assert (synthetic["flag"] == expected).all(), flag  # "False" is not taken for True
    assert (synthetic["work"] == "State").all()


# -- bad input: exit 2, one line on stderr, nothing written --------------------------------------
#: name -> (arguments after ``augment``, with {in} for the input CSV; pattern of the message)
BAD_INPUT: dict[str, tuple[list[str], str]] = {
    "missing file": (["nope.csv"], r"'nope\.csv' is not a file"),
    "unknown generator": (["{in}", "--generator", "tabular.copla"],
                          r"Unknown generator 'tabular.copla'\. Did you mean 'tabular.copula'"),
    "target not a column": (["{in}", "--target", "salary", "--balance"],
                            r"target='salary' is not a column of data"),
    "condition not a column": (["{in}", "--condition", "salary=1"],
                               r"'salary', which is not in data"),
    "condition without =": (["{in}", "--condition", "income"], r"write it as COLUMN=VALUE"),
    "unseen condition value": (["{in}", "--condition", "income=rich", "--n", "3"],
                               r"'rich' was never seen"),
    "balance without target": (["{in}", "--balance"], r"balance=True needs target"),
    "negative n": (["{in}", "--n", "-1"], r"n must be an integer >= 0"),
    "unknown device": (["{in}", "--device", "gpu9"], r"device='gpu9' is not understood"),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_bad_input_exits_2_and_writes_nothing(
    case: str, suffix: str, table: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    args, pattern = BAD_INPUT[case]
    argv = ["augment", *(a.replace("{in}", table.name) for a in args),
            "--out", f"out{suffix}", "--report", "r.json", "--seed", "0"]
    assert main(argv) == 2
    line = one_error_line(capsys.readouterr().err)
    assert re.search(pattern, line), line
    assert files_in(tmp_path) == {"in.csv"}, "output (or temporary) files left behind"


def test_bad_out_suffix_fails_before_any_work(
    table: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import synthaug.api

    def no_fitting(*args: object, **kwargs: object) -> None:
        raise AssertionError("augment ran although --out could never be written")

    monkeypatch.setattr(synthaug.api, "augment", no_fitting)
    out = tmp_path / "out.txt"
    assert main(["augment", str(table), "--out", str(out)]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert "--out" in line and ".parquet or .csv" in line
    assert files_in(tmp_path) == {"in.csv"}


def test_unreadable_inputs_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "broken.csv").write_text('a,b\n1,"x\n')
    (tmp_path / "broken.parquet").write_bytes(b"not a parquet file")
    (tmp_path / "table.xlsx").write_bytes(b"")
    (tmp_path / "one_row.csv").write_text("a,b\n1,x\n")
    (tmp_path / "mixed.csv").write_text("a,b\n1,inf\n2,3\n3,4\n")
    before = files_in(tmp_path)
    for name, pattern in [("empty.csv", "could not read"), ("broken.csv", "could not read"),
                          ("broken.parquet", "could not read"), ("table.xlsx", ".csv, .tsv"),
                          ("one_row.csv", "1 row"), ("mixed.csv", "'b'.*infinite")]:
        out = tmp_path / "out.parquet"
        assert main(["augment", str(tmp_path / name), "--out", str(out)]) == 2, name
        line = one_error_line(capsys.readouterr().err)
        assert re.search(pattern, line), (name, line)
        assert files_in(tmp_path) == before, name


def test_unwritable_out_exits_2_and_leaves_nothing(
    table: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the folder of --out is a file, so it cannot be created
    out = table / "out.parquet"
    assert main(["augment", str(table), "--n", "3", "--out", str(out)]) == 2
    assert "could not write" in one_error_line(capsys.readouterr().err)
    assert files_in(tmp_path) == {"in.csv"}


def test_unwritable_report_leaves_no_table_either(
    table: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.parquet"
    report = table / "r.json"  # cannot be written: its folder is a file
    assert main(["augment", str(table), "--n", "3", "--out", str(out), "--report",
                 str(report)]) == 2
    assert "could not write" in one_error_line(capsys.readouterr().err)
    assert files_in(tmp_path) == {"in.csv"}, "the table was written without its report"


def test_a_failed_run_keeps_the_previous_output(
    table: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.csv"
    out.write_text("previous,run\n1,2\n")
    assert main(["augment", str(table), "--target", "nope", "--balance", "--out",
                 str(out)]) == 2
    one_error_line(capsys.readouterr().err)
    assert out.read_text() == "previous,run\n1,2\n"


def test_argparse_errors_exit_2(table: Path, tmp_path: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["augment", str(table)],  # no --out
                 ["augment", str(table), "--out", "x.csv", "--n", "3", "--balance"],
                 ["augment", str(table), "--out", "x.csv", "--n", "three"],
                 ["frobnicate"]):
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        assert exit_info.value.code == 2, argv
        assert "synthaug" in capsys.readouterr().err
    assert files_in(tmp_path) == {"in.csv"}


# -- built-in data set --------------------------------------------------------------------------
def test_builtin_adult(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    datasets = pytest.importorskip("synthaug.data.datasets")
    if not hasattr(datasets, "load_adult"):
        pytest.skip("synthaug.data.datasets.load_adult is not there yet")
    out = tmp_path / "adult.parquet"
    code = main(["augment", "adult", "--condition", "income=>50K", "--n", "10", "--out",
                 str(out), "--seed", "0", "--device", "cpu"])
    assert code == 0, capsys.readouterr().err
    written = pd.read_parquet(out)
    adult = datasets.load_adult()
    assert len(written) == len(adult) + 10
    assert list(written.columns) == list(adult.columns)
    assert (written["income"].iloc[len(adult):] == ">50K").all()


# -- as a real process --------------------------------------------------------------------------
def run_cli(*args: str, cwd: Path, script: bool = False) -> subprocess.CompletedProcess[str]:
    """Run ``python -m synthaug.cli``, or the installed ``synthaug`` console script."""
    console = Path(sys.executable).parent / "synthaug"
    command = [str(console)] if script and console.exists() else \
        [sys.executable, "-m", "synthaug.cli"]
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    return subprocess.run(
        [*command, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300,
        check=False,
    )


def test_subprocess_augment_and_error(table: Path, tmp_path: Path) -> None:
    done = run_cli("augment", "in.csv", "--target", "income", "--balance", "--out",
                   "out.parquet", "--seed", "0", "--report", "r.json", "--device", "cpu",
                   cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "wrote 60 rows to out.parquet" in done.stdout
    assert pd.read_parquet(tmp_path / "out.parquet")["income"].value_counts().nunique() == 1
    assert json.loads((tmp_path / "r.json").read_text())["n_synthetic"] == 20

    failed = run_cli("augment", "in.csv", "--generator", "tabular.copla", "--out", "bad.csv",
                     cwd=tmp_path, script=True)
    assert failed.returncode == 2
    assert "Did you mean 'tabular.copula'" in one_error_line(failed.stderr)
    assert "Traceback" not in failed.stderr
    assert not (tmp_path / "bad.csv").exists()
