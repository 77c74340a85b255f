"""``synthaug augment | head``, ``synthaug validate | head``, ``synthaug list | head``: when the
reader of standard output goes away, the commands end quietly with their own exit status
(issue 15, item 4: a ``BrokenPipeError`` traceback before)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import synthaug


def run_with_closed_stdout(args: list[str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    """Run the CLI with a standard output whose reader has already gone: every write gets
    EPIPE, as after ``| head`` has its lines."""
    root = str(Path(synthaug.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run([sys.executable, "-m", "synthaug.cli", *args], stdout=write_end,
                              stderr=subprocess.PIPE, cwd=cwd, env=env, timeout=600,
                              check=False)
    finally:
        os.close(write_end)


@pytest.fixture
def table(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    pd.DataFrame({"x": rng.normal(size=80), "c": rng.choice(["a", "b"], 80)}).to_csv(
        tmp_path / "t.csv", index=False)
    return tmp_path / "t.csv"


def test_augment_into_a_closed_pipe_writes_its_file_and_exits_quietly(table: Path) -> None:
    out = table.parent / "out.csv"
    done = run_with_closed_stdout(["augment", str(table), "--n", "20", "--seed", "0", "--out",
                                   str(out), "--device", "cpu"], table.parent)
    assert done.stderr.decode() == ""  # no BrokenPipeError traceback, no "Exception ignored"
    assert done.returncode == 0
    assert len(pd.read_csv(out)) == 100


def test_validate_into_a_closed_pipe_keeps_its_exit_status(table: Path) -> None:
    report = table.parent / "r.json"
    done = run_with_closed_stdout(["validate", str(table), str(table), "--report", str(report)],
                                  table.parent)
    assert done.stderr.decode() == ""
    # a verbatim copy fails the default gate: status 1 (the gate), not 0 or a traceback
    assert done.returncode == 1
    assert report.is_file()


def test_list_into_a_closed_pipe_exits_quietly(tmp_path: Path) -> None:
    done = run_with_closed_stdout(["list"], tmp_path)
    assert done.stderr.decode() == ""
    assert done.returncode == 0
