"""Quiet coercions of input files become clear errors (issue 15, item 5)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from synthaug.cli import main
from synthaug.config import SpecError
from synthaug.data.io import read_table
from synthaug.exceptions import InvalidDataError, InvalidParameterError
from synthaug.validators.suite import CheckSpec, Suite


def test_a_csv_header_that_names_a_column_twice_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "dup.csv"
    path.write_text("x,y,x,z,z,z\n1,2,3,4,5,6\n7,8,9,10,11,12\n")
    with pytest.raises(InvalidDataError, match=r"'x' \(2 times\), 'z' \(3 times\)"):
        read_table(str(path))  # pandas alone would give x, y, x.1, z, z.1, z.2


def test_the_command_refuses_duplicate_headers_before_any_work(tmp_path: Path, capsys) -> None:
    path = tmp_path / "dup.tsv"
    path.write_text("a\tb\ta\n1\t2\t3\n4\t5\t6\n")
    out = tmp_path / "out.csv"
    assert main(["augment", str(path), "--n", "3", "--out", str(out)]) == 2
    assert "'a' (2 times)" in capsys.readouterr().err
    assert not out.exists()


def test_distinct_names_that_look_mangled_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "ok.csv"
    pd.DataFrame({"x": [1, 2], "x.1": [3, 4], "": [5, 6]}).to_csv(path, index=False)
    assert list(read_table(str(path)).columns) == ["x", "x.1", "Unnamed: 2"]


def test_a_parquet_string_that_is_not_utf8_is_named_at_read(tmp_path: Path) -> None:
    # found by the hostile-input property test: arrow reads such bytes without a check, and
    # the UnicodeDecodeError came from deep inside schema detection
    import pyarrow as pa
    import pyarrow.parquet as pq

    data = b"ok\x9d"
    bad = pa.Array.from_buffers(pa.string(), 2, [None, pa.py_buffer(
        bytes([0, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0])), pa.py_buffer(data)])
    pq.write_table(pa.table({"c0": bad}), tmp_path / "bad.parquet")
    with pytest.raises(InvalidParameterError, match=r"could not read .*bad\.parquet.*UTF-?8"):
        read_table(str(tmp_path / "bad.parquet"))


def test_an_unknown_key_in_a_suite_check_lists_the_keys_a_check_takes(tmp_path: Path) -> None:
    suite = tmp_path / "s.toml"
    suite.write_text('name = "s"\n[[checks]]\nvalidator = "fidelity.column_shapes"\n'
                     '[[checks]]\nvalidator = "fidelity.pair_trends"\nmni = 0.8\n')
    with pytest.raises(SpecError) as info:
        Suite.from_file(suite)
    message = str(info.value)
    assert "checks[1].mni: unknown key. Did you mean 'min'?" in message
    # every key of a [[checks]] entry, not an empty list
    listed = message.split("Keys allowed in [checks[1]]: ")[1].rstrip(".").split(", ")
    assert listed == sorted(CheckSpec.model_fields)
