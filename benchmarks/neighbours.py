"""Exact nearest neighbours, 100,000 synthetic x 100,000 training rows of Adult: time and memory.

    python benchmarks/neighbours.py [--rows 100000] [--threads 2] [--device cpu]

Adult rows drawn with replacement, numeric columns plus 1 % Gaussian noise (so rows are not
duplicates), embedded as the privacy validators embed them (MixedDistanceEncoder), then one
``nearest_neighbours`` search, as ``privacy.dcr`` runs it against the training rows.
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import torch

from synthaug.data import load_adult
from synthaug.validators._common import MixedDistanceEncoder, nearest_neighbours, prepare_tables

NUMERIC = ["age", "fnlwgt", "education_num", "capital_gain", "capital_loss", "hours_per_week"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    adult, rng = load_adult(), np.random.default_rng(0)

    def draw(n: int):  # type: ignore[no-untyped-def]
        frame = adult.sample(n, replace=True, random_state=int(rng.integers(1e9)))
        frame = frame.reset_index(drop=True)
        for col in NUMERIC:
            frame[col] = frame[col] + rng.normal(0, 0.01 * frame[col].std(), n)
        return frame

    tables = prepare_tables(draw(args.rows), draw(args.rows), validator="benchmark")
    cols = list(tables.columns)
    encoder = MixedDistanceEncoder(tables.column_schemas).fit(tables.real[:, cols],
                                                              tables.synthetic[:, cols])
    query = encoder.transform(tables.synthetic[:, cols])
    reference = encoder.transform(tables.real[:, cols])
    start = time.perf_counter()
    nearest_neighbours(query, reference, k=1, device=args.device)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{args.rows:,} x {args.rows:,} rows, embedding width {query.shape[1]}, "
          f"{args.threads} threads, {args.device}: {seconds:.1f} s, peak RSS {peak:.0f} MiB")


if __name__ == "__main__":
    main()
