"""Model folders saved before the encoding merge (commit 4af144a) still load and sample.

``tests/fixtures/models-4af144a/`` holds tiny GAN and VAE models (every numerical encoding, capped
categoricals with an "other" group, missing values, a datetime) written by the code of
4af144a, and the rows they sampled then.  Today's code must give exactly those rows: the
merged encoding reads the old, unversioned span-codec state and decodes it the same way.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest

from synthaug.generators.base import BaseGenerator

DATA = Path(__file__).parents[2] / "fixtures" / "models-4af144a"


def _fixtures() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_fixtures", DATA / "make_fixtures.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


FIXTURES = _fixtures()


def _sample_like_then(gen: BaseGenerator, expected: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for call, n, conditions, seed in FIXTURES.CALLS:
        if call in set(expected["_call"]):
            rows.append(gen.sample(n, conditions=conditions, random_state=seed).assign(_call=call))
    return pd.concat(rows, ignore_index=True)


@pytest.mark.parametrize("key", sorted(FIXTURES.MODELS))
def test_old_folders_sample_the_same_rows(key: str, tmp_path: Path) -> None:
    expected = pd.read_parquet(DATA / f"{key}.samples.parquet")
    gen = BaseGenerator.load(DATA / key, device="cpu")
    assert gen.name == FIXTURES.MODELS[key][0]
    pd.testing.assert_frame_equal(_sample_like_then(gen, expected), expected, check_exact=True)
    # saved again by today's code (today's state format), it still gives the same rows
    again = BaseGenerator.load(gen.save(tmp_path / key), device="cpu")
    pd.testing.assert_frame_equal(_sample_like_then(again, expected), expected,
                                  check_exact=True)


def test_the_fixture_frame_covers_what_the_encoding_must_read() -> None:
    frame = FIXTURES.training_frame()
    assert frame.isna().any().sum() >= 3  # missing values in several column kinds
    assert str(frame["joined"].dtype).startswith("datetime64")
    assert frame["city"].nunique() > 6  # more levels than max_categories: an "other" group
