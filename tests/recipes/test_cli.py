"""``synthaug recipe ...`` when its reader goes away (``... | head``): a quiet, successful exit."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import synthaug

RECIPE = """\
name = "tiny"
seeds = 2
[data]
source = "tiny.csv"
target = "label"
[scenario]
kind = "low_data"
fraction = 0.5
[report]
suite = ""
"""


def run_with_closed_stdout(args: list[str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    """Run the CLI with a standard output whose reader has already gone, as ``| head`` leaves
    it once it has its lines: every write gets EPIPE."""
    # the synthaug under test, wherever the child's working folder is
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
def recipe(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    pd.DataFrame({"x": rng.normal(size=120), "c": rng.choice(["a", "b"], 120),
                  "label": rng.choice(["no", "yes"], 120)}).to_csv(tmp_path / "tiny.csv",
                                                                  index=False)
    (tmp_path / "tiny.toml").write_text(RECIPE)
    return tmp_path / "tiny.toml"


def test_recipe_check_into_a_closed_pipe_exits_quietly(recipe: Path) -> None:
    done = run_with_closed_stdout(["recipe", "run", str(recipe), "--check", "--device", "cpu"],
                                  recipe.parent)
    assert done.stderr.decode() == ""  # no BrokenPipeError traceback, no "Exception ignored"
    assert done.returncode == 0


def test_recipe_list_into_a_closed_pipe_exits_quietly(tmp_path: Path) -> None:
    done = run_with_closed_stdout(["recipe", "list"], tmp_path)
    assert done.stderr.decode() == ""
    assert done.returncode == 0
