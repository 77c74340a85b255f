"""Streamed sampling: peak memory and rows/s for 10 million rows, against SDV's sample().

Each generator is fitted briefly on Adult's training split (a few epochs: memory and speed of
sampling do not depend on how well the model has learned), then

* synthaug's ``sample_batches(n)`` is consumed batch by batch (each batch dropped, as a job
  writing a dataset would) for 1 million and for 10 million rows, with the process's peak RSS
  reset before each; flat memory means the two peaks are about the same;
* SDV's ``sample(n)`` (through the sdv.* adapters: SDV itself returns one DataFrame of all
  rows) for 100,000 and 1 million rows: its peak grows with ``n``.

    python benchmarks/streaming.py --threads 2 --device cpu

Writes the "streaming" section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time
from typing import Any

sys.path.insert(0, os.path.dirname(__file__))

from _common import (
    command_line,
    current_peak_rss_mib,
    machine,
    pin_threads,
    reset_peak_rss,
    write_section,
)
from tabular import adult_split, make_model

SYNTHAUG = ["tabular.copula", "tabular.vae", "tabular.gan"]
SDV = ["sdv.gaussian_copula", "sdv.ctgan", "sdv.tvae"]


def stream(model: Any, n: int, seed: int) -> dict[str, float]:
    """Consume ``sample_batches(n)``; peak RSS (MiB, since reset) and rows/s."""
    reset_peak_rss()
    start = time.perf_counter()
    rows = 0
    for batch in model.sample_batches(n, random_state=seed):
        rows += len(batch)
        del batch
    seconds = time.perf_counter() - start
    if rows != n:
        raise RuntimeError(f"asked for {n} rows, streamed {rows}")
    return {"peak_mib": current_peak_rss_mib(), "rows_per_s": n / seconds}


def whole(model: Any, n: int, seed: int) -> dict[str, float]:
    """One ``sample(n)`` call holding every row at once (what SDV offers)."""
    reset_peak_rss()
    start = time.perf_counter()
    frame = model.sample(n, random_state=seed)
    seconds = time.perf_counter() - start
    peak = current_peak_rss_mib()
    if len(frame) != n:
        raise RuntimeError(f"asked for {n} rows, got {len(frame)}")
    del frame
    return {"peak_mib": peak, "rows_per_s": n / seconds}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", default=",".join(SYNTHAUG + SDV))
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--sizes", default="1000000,10000000")
    parser.add_argument("--sdv-sizes", default="100000,1000000")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    pin_threads(args.threads)
    sdv_ok = importlib.util.find_spec("sdv") is not None
    before = machine()
    train, _ = adult_split()
    rows = []
    for name in args.models.split(","):
        if name.startswith("sdv.") and not sdv_ok:
            continue
        model = make_model(name, args.epochs, 0, args.device)
        model.fit(train)
        baseline = current_peak_rss_mib()
        sizes = args.sdv_sizes if name.startswith("sdv.") else args.sizes
        how = whole if name.startswith("sdv.") else stream
        for n in (int(s) for s in sizes.split(",")):
            result = how(model, n, 1)
            rows.append((name, n, "sample()" if how is whole else "sample_batches()",
                         baseline, result))
            print(name, n, round(result["peak_mib"]), round(result["rows_per_s"]), flush=True)
        del model
    after = machine()
    table = ["| model | rows | call | peak RSS MiB | rows/s |", "|---|---|---|---|---|"]
    for name, n, call, _, r in rows:
        table.append(f"| {name} | {n:,} | `{call}` | {r['peak_mib']:,.0f} | "
                     f"{r['rows_per_s']:,.0f} |")
    contended = max(before["loadavg"], after["loadavg"]) > (before["cpu_cores"] or 1)
    write_section("streaming", f"""## Streamed sampling: memory for 10 million rows (issue 3)

Command: `{command_line()}`; {before['date']}; {args.device}, {before['cpu_cores']} CPU cores,
{before['torch_threads']} torch threads; Python {before['python']}, torch {before['torch']},
pandas {before['pandas']}. Load average {before['loadavg']:.2f} before, {after['loadavg']:.2f}
after{' (**contended**)' if contended else ''}. Models fitted for {args.epochs} epochs on Adult's
training split; peak RSS is the whole process's high-water mark, reset before each call (it
includes the fitted model, the data and the libraries).

{chr(10).join(table)}

synthaug's `sample_batches()` hands out batches of 262,144 rows; the consumer drops each one
(as a job writing files would). SDV returns all rows in one DataFrame, so it is measured at
smaller sizes.
""")


if __name__ == "__main__":
    main()
