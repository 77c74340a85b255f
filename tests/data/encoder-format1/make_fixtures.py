"""Write this directory's TableEncoder states with synthaug 0.1 (commit 4af144a; run once).

``tests/test_encoding.py`` rebuilds encoders from these format-1 states with today's code and
checks they transform and decode as they did.  To regenerate::

    git archive 4af144a | tar -x -C /tmp/synthaug-4af144a
    PYTHONPATH=/tmp/synthaug-4af144a python tests/data/encoder-format1/make_fixtures.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))  # tests/, for conftest

from conftest import make_mixed_frame  # noqa: E402
from synthaug.data.encoders import TableEncoder  # noqa: E402  (0.1's module)

PARAMS = {"standard": {}, "quantile": {"numerical": "quantile", "max_categories": 2}}


def main() -> None:
    frame = make_mixed_frame(80, seed=3)
    frame.to_parquet(HERE / "frame.parquet")
    for key, params in PARAMS.items():
        enc = TableEncoder(**params).fit(frame)
        state, arrays = enc.to_state()
        (HERE / f"{key}.json").write_text(json.dumps(state, indent=1))
        encoded = enc.transform(frame)
        np.savez(HERE / f"{key}.npz", **arrays, _encoded=encoded)
        noisy = encoded + np.random.default_rng(0).normal(0, 1, encoded.shape)
        enc.inverse_transform(noisy, rng=0).to_parquet(HERE / f"{key}.inverse.parquet")


if __name__ == "__main__":
    main()
