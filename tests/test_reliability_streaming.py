"""Large outputs stream to the file in bounded batches; an in-memory augment() that cannot fit
is refused before any work (issue 15, item 2: ``--n 10000000000`` grew past 6 GB, silently)."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from synthaug import augment
from synthaug.api import augment_to_file
from synthaug.cli import main
from synthaug.data.tabular.modality import TabularModality
from synthaug.exceptions import InvalidParameterError
from synthaug.generators.tabular.copula import GaussianCopulaGenerator


@pytest.fixture
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 120
    out = pd.DataFrame({
        "x": rng.normal(size=n),
        "k": rng.integers(0, 50, n),
        "c": rng.choice(["a", "b", "c"], n),
        "level": pd.Categorical(rng.choice(["lo", "hi"], n), categories=["lo", "hi"]),
        "flag": rng.random(n) > 0.3,
        "day": pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 300, n), "D"),
        "label": rng.choice(["yes", "no", "no", "no"], n),
    })
    out.loc[::7, "x"] = np.nan
    out["m"] = pd.array(rng.integers(0, 5, n), dtype="Int64")
    out.loc[::5, "m"] = pd.NA
    return out


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
@pytest.mark.parametrize("kwargs", [{"n": 700}, {"target": "label", "balance": True},
                                    {"n": 300, "conditions": {"c": "b"}}])
@pytest.mark.parametrize("synthetic_only", [False, True])
def test_streamed_file_holds_the_rows_augment_returns(tmp_path: Path, frame: pd.DataFrame,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      suffix: str, kwargs: dict,
                                                      synthetic_only: bool) -> None:
    # small batches, so the file is written in many of them
    monkeypatch.setattr(GaussianCopulaGenerator, "batch_size_hint", 128)
    out, report = augment(frame, random_state=3, suite=None, **kwargs)
    if synthetic_only:
        out = out.iloc[report.n_real:].reset_index(drop=True)
    expected = tmp_path / f"expected{suffix}"
    TabularModality().write(out, expected)
    streamed = tmp_path / f"streamed{suffix}"
    got = augment_to_file(frame, streamed, random_state=3, suite=None,
                          synthetic_only=synthetic_only, **kwargs)
    read = TabularModality().read
    pd.testing.assert_frame_equal(read(streamed), read(expected))
    assert got.n_synthetic == report.n_synthetic
    assert got.class_counts_after == report.class_counts_after
    assert got.rows_by_condition == report.rows_by_condition
    if suffix == ".parquet" and report.n_synthetic > 128:
        assert pq.ParquetFile(streamed).num_row_groups > 2  # one per batch, not one in all


def test_the_suite_runs_on_a_bounded_sample_and_says_so(tmp_path: Path,
                                                        frame: pd.DataFrame) -> None:
    report = augment_to_file(frame, tmp_path / "o.parquet", n=2_000, random_state=0,
                             max_validation_rows=500)
    assert report.validation is not None
    assert report.validation.inputs["synthetic"]["rows"] == 500
    assert any("validated on 500 of the 2,000" in note for note in report.fidelity["notes"])


def _peak_bytes(tmp_path: Path, frame: pd.DataFrame, n: int) -> int:
    tracemalloc.start()
    try:
        augment_to_file(frame, tmp_path / f"o{n}.parquet", n=n, random_state=0, suite=None)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_stays_flat_however_many_rows(tmp_path: Path, frame: pd.DataFrame,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(GaussianCopulaGenerator, "batch_size_hint", 20_000)
    small = _peak_bytes(tmp_path, frame, 100_000)
    large = _peak_bytes(tmp_path, frame, 400_000)
    # four times the rows, the same peak (one batch); in memory it would be four times as much
    assert large < 1.5 * small, (small, large)
    assert len(pd.read_parquet(tmp_path / "o400000.parquet")) == 400_120


def test_the_command_shows_progress_in_rows(tmp_path: Path, frame: pd.DataFrame,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    frame.to_csv(tmp_path / "d.csv", index=False)
    assert main(["augment", str(tmp_path / "d.csv"), "--n", "500", "--seed", "0", "--out",
                 str(tmp_path / "o.parquet"), "--progress", "--device", "cpu"]) == 0
    err = capsys.readouterr().err
    assert "augment (tabular.copula)" in err and "row" in err


def test_augment_refuses_an_output_that_cannot_fit_in_memory(
        frame: pd.DataFrame, monkeypatch: pytest.MonkeyPatch) -> None:
    import synthaug.planning as planning

    monkeypatch.setattr(planning, "available_memory_bytes", lambda: 50_000_000)

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("fitted before refusing")

    monkeypatch.setattr(GaussianCopulaGenerator, "fit", never)
    with pytest.raises(InvalidParameterError) as info:
        augment(frame, n=10_000_000_000)
    message = str(info.value)
    assert "10,000,000,120 rows in memory" in message
    assert "GB" in message or "TB" in message  # the estimated size
    assert "only 50.0 MB is available" in message
    assert "augment_to_file" in message and "--out" in message  # the streaming alternative


def test_a_file_that_cannot_fit_on_the_disk_is_refused_before_fitting(
        tmp_path: Path, frame: pd.DataFrame, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("fitted before refusing")

    import shutil

    import synthaug.planning as planning

    monkeypatch.setattr(GaussianCopulaGenerator, "fit", never)
    real_usage = shutil.disk_usage

    def one_gigabyte_free(path: object) -> object:
        return real_usage(path)._replace(free=10**9)  # type: ignore[arg-type]

    monkeypatch.setattr(planning.shutil, "disk_usage", one_gigabyte_free)
    frame.to_csv(tmp_path / "d.csv", index=False)
    out = tmp_path / "x.parquet"
    # the command: ten billion rows do not fit on this disk, so nothing starts
    assert main(["augment", str(tmp_path / "d.csv"), "--n", "10000000000", "--out",
                 str(out)]) == 2
    err = capsys.readouterr().err
    assert "would take about" in err and "has 1.0 GB free" in err
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
