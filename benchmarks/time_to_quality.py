"""Time to quality: how long synthaug's deep generators take to reach SDV's default quality.

For each pair (synthaug's ``tabular.gan`` against SDV's CTGAN, ``tabular.vae`` against TVAE),
in one process on one device:

1. the SDV model is fitted at ``--ref-epochs`` (300: its default, what a user gets) and scored;
   its SDMetrics QualityReport score is the **target** and its fit time the time it needs;
2. synthaug's model trains with an ``epoch_callback`` that, every ``--every`` epochs, samples as
   many rows as the training split and scores them the same way, with the clock stopped; the
   first checkpoint at or above the target ends the fit.  Its time to quality is the fit's wall
   time up to that checkpoint (encoding and every fixed cost included, scoring excluded).

A checkpoint is not a lucky snapshot a user could not reproduce: the GAN and VAE have no
schedule tied to ``epochs``, so ``epochs=e`` with the same seed trains exactly the checkpoint's
model (tests/generators/tabular/test_torch_base.py checks this).  The SDV model is also fitted at
``--short-epochs`` so that (long - short) / (epochs difference) gives its time per epoch
without fixed costs; synthaug's per-epoch time comes from the checkpoints' timestamps.

    python benchmarks/time_to_quality.py --ref-epochs 300 --seeds 3 --threads 2 --device cpu

Writes the "time-to-quality" section of benchmarks/RESULTS.md and
benchmarks/results/time_to_quality.png (quality against training time).
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.dirname(__file__))

import pandas as pd
from _common import command_line, machine, mean_sd, pin_threads, write_section
from tabular import adult_split, make_model, own_scores, sdmetrics_quality

PAIRS = {"tabular.gan": "sdv.ctgan", "tabular.vae": "sdv.tvae"}
PLOT = Path(__file__).with_name("results") / "time_to_quality.png"


def score(model: Any, train: pd.DataFrame, seed: int) -> float:
    """SDMetrics quality of as many sampled rows as the training split (same rule for all)."""
    synthetic = model.sample(len(train), random_state=seed + 1)
    return sdmetrics_quality(train, synthetic)["quality"]


def anchor(name: str, train: pd.DataFrame, holdout: pd.DataFrame, epochs: int, seed: int,
           device: str) -> dict[str, Any]:
    model = make_model(name, epochs, seed, device)
    start = time.perf_counter()
    model.fit(train)
    fit_s = time.perf_counter() - start
    synthetic = model.sample(len(train), random_state=seed + 1)
    privacy = own_scores(train, synthetic, holdout, seed, device).get("closer_to_train")
    return {"fit_s": fit_s, "quality": sdmetrics_quality(train, synthetic)["quality"],
            "closer_to_train": privacy}


def fit_seconds(name: str, train: pd.DataFrame, epochs: int, seed: int, device: str) -> float:
    model = make_model(name, epochs, seed, device)
    start = time.perf_counter()
    model.fit(train)
    return time.perf_counter() - start


def chase(name: str, train: pd.DataFrame, holdout: pd.DataFrame, target: float,
          max_epochs: int, every: int, seed: int, device: str) -> dict[str, Any]:
    """Train ``name`` until a checkpoint scores ``target``; the checkpoints' (epoch, s, quality)."""
    curve: list[tuple[int, float, float]] = []
    scoring = 0.0  # seconds spent in checkpoints, taken off the clock

    def checkpoint(gen: Any, epoch: int, losses: dict[str, float]) -> bool:
        nonlocal scoring
        if (epoch + 1) % every:
            return False
        paused = time.perf_counter()
        train_s = paused - start - scoring
        quality = score(gen, train, seed)
        curve.append((epoch + 1, train_s, quality))
        print(f"  {name} seed {seed} epoch {epoch + 1}: {train_s:.1f} s, quality {quality:.4f}",
              flush=True)
        scoring += time.perf_counter() - paused
        return quality >= target

    model = make_model(name, max_epochs, seed, device, epoch_callback=checkpoint,
                       progress=False)
    start = time.perf_counter()
    model.fit(train)
    hit = next(((e, s, q) for e, s, q in curve if q >= target), None)
    synthetic = model.sample(len(train), random_state=seed + 1)
    privacy = own_scores(train, synthetic, holdout, seed, device).get("closer_to_train")
    steps = [(b[1] - a[1]) / (b[0] - a[0]) for a, b in itertools.pairwise(curve)]
    return {"curve": curve, "hit": hit, "best": max(q for _, _, q in curve),
            "s_per_epoch": statistics.median(steps) if steps else float("nan"),
            "closer_to_train": privacy}


def plot(results: dict[str, dict[str, Any]], device: str) -> None:
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(results), figsize=(6 * len(results), 4), squeeze=False)
    for ax, (ours, res) in zip(axes[0], results.items(), strict=True):
        ref = res["anchor"]
        for i, run in enumerate(res["runs"]):
            _, secs, qual = zip(*run["curve"], strict=True)
            ax.plot(secs, qual, marker=".", color="tab:blue", alpha=0.8,
                    label=f"synthaug {ours}" if i == 0 else None)
        ax.axhline(ref["quality"], color="tab:red", ls="--", lw=1,
                   label=f"target: {PAIRS[ours]} at {res['ref_epochs']} epochs")
        ax.scatter([ref["fit_s"]], [ref["quality"]], color="tab:red", zorder=3,
                   label=f"{PAIRS[ours]}: {ref['fit_s']:.0f} s")
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.xaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
        ax.set_xlabel(f"training wall time, s (log; {device})")
        ax.set_ylabel("SDMetrics quality on Adult")
        ax.legend(loc="best", fontsize=8)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    PLOT.parent.mkdir(exist_ok=True)
    tmp = PLOT.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=110)
    os.replace(tmp, PLOT)
    plt.close(fig)


def render(results: dict[str, dict[str, Any]], args: argparse.Namespace,
           before: dict[str, Any], after: dict[str, Any], device: str) -> str:
    rows = ["| synthaug model | SDV model | target quality (SDV at its epochs) | SDV fit s | "
            "SDV s/epoch | synthaug time to target s | epochs to target | synthaug s/epoch | "
            "speed-up to target | reached | closer to train (SDV / synthaug) |",
            "|" + "---|" * 11]
    for ours, res in results.items():
        ref, runs = res["anchor"], res["runs"]
        hits = [r["hit"] for r in runs if r["hit"] is not None]
        reached = f"{len(hits)} of {len(runs)} seeds"
        misses = [r["best"] for r in runs if r["hit"] is None]
        if misses:
            reached += f" (best of the others {max(misses):.3f} in {args.max_epochs} epochs)"
        rows.append(
            f"| {ours} | {PAIRS[ours]} | {ref['quality']:.3f} ({res['ref_epochs']} epochs) | "
            f"{ref['fit_s']:.0f} | {res['anchor_s_per_epoch']:.2f} | "
            f"{mean_sd([h[1] for h in hits], '{:.0f}')} | "
            f"{mean_sd([float(h[0]) for h in hits], '{:.0f}')} | "
            f"{mean_sd([r['s_per_epoch'] for r in runs], '{:.2f}')} | "
            f"{mean_sd([ref['fit_s'] / h[1] for h in hits], '{:.1f}x')} | {reached} | "
            f"{ref['closer_to_train']:.3f} / "
            f"{mean_sd([r['closer_to_train'] for r in runs], '{:.3f}')} |")
    contended = max(before["loadavg"], after["loadavg"]) > (before["cpu_cores"] or 1)
    return f"""## Time to quality vs SDV (issue 3)

Command: `{command_line()}`; {before['date']} to {after['date']}; device {device} (GPU:
{before['gpu']}), {before['cpu_cores']} CPU cores, {before['torch_threads']} torch threads;
Python {before['python']}, torch {before['torch']}, numpy {before['numpy']}, pandas
{before['pandas']}. Load average {before['loadavg']:.2f} before, {after['loadavg']:.2f}
after{' (**contended**)' if contended else ''}. Adult split 39,073 / 9,769 (seed 42).

{chr(10).join(rows)}

Method: the SDV model is fitted once (seed 0) at its default {args.ref_epochs} epochs; its
SDMetrics quality (39,073 rows sampled and scored against the training split) is the target.
synthaug's model trains with default settings on {args.seeds} seed(s), scored the same way every
{args.every} epoch(s) with the clock stopped, and stops at the first checkpoint at or above the
target (at most {args.max_epochs} epochs). Time to target includes encoding and every fixed cost.
SDV s/epoch = (fit at {args.ref_epochs} - fit at {args.short_epochs} epochs) / {args.ref_epochs -
args.short_epochs}; synthaug s/epoch = median between checkpoints. Speed-up = SDV fit time /
synthaug time to target, per seed. Closer to train: share of synthetic rows nearer a training row
than a holdout row (0.5 ideal; goal ≤ 0.55), for SDV at its default epochs and synthaug at the
stopping checkpoint. One SDV seed: CTGAN's quality varies by about ±0.017 across seeds
(BENCHMARKS.md), so the target itself carries that uncertainty.
Curves: [results/time_to_quality.png](results/time_to_quality.png).
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", default=",".join(PAIRS))
    parser.add_argument("--ref-epochs", type=int, default=300)
    parser.add_argument("--short-epochs", type=int, default=10)
    parser.add_argument("--max-epochs", type=int, default=150)
    parser.add_argument("--every", type=int, default=2)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    pin_threads(args.threads)
    from synthaug.utils.device import resolve_device

    device = str(resolve_device(args.device))
    before = machine()
    train, holdout = adult_split()
    results: dict[str, dict[str, Any]] = {}
    for ours in args.models.split(","):
        ref_name = PAIRS[ours]
        ref = anchor(ref_name, train, holdout, args.ref_epochs, 0, device)
        print(ref_name, args.ref_epochs, "epochs:", ref, flush=True)
        short = fit_seconds(ref_name, train, args.short_epochs, 0, device)
        runs = [chase(ours, train, holdout, ref["quality"], args.max_epochs, args.every, seed,
                      device) for seed in range(args.seeds)]
        results[ours] = {"anchor": ref, "runs": runs, "ref_epochs": args.ref_epochs,
                         "anchor_s_per_epoch": (ref["fit_s"] - short)
                         / (args.ref_epochs - args.short_epochs)}
        print(ours, [(r["hit"], r["best"], r["s_per_epoch"]) for r in runs], flush=True)
    after = machine()
    plot(results, device)
    write_section("time-to-quality", render(results, args, before, after, device))


if __name__ == "__main__":
    main()
