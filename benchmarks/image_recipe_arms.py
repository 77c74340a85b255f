"""The arms of an image recipe that need no generator (real only, real + albumentations), at the
recipe's full budget, through the recipe runner's own code: what the generator arms are compared
with, measured before the generators exist.

    python benchmarks/image_recipe_arms.py fashion-lowdata --baseline-ratios 4 1 --threads 2

Each (arm, seed) is trained exactly as ``synthaug recipe run`` trains it (same split, seeds,
model, budget and early-stopping checkpoint), and its accuracy on the 10,000 test images is
printed as it finishes, with the load average before and after.  The recipe's generator is
checked but never fitted.  BENCHMARKS.md's reference on the same data: 0.814 real only, 0.817
with flips and 2-pixel shifts (2 seeds there).  The recipe's generator is never fitted, so
when it is not registered (the image generators land later) the test suite's ``image.dummy``
stands in for the spec check.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))  # image.dummy, when no image generator exists


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("recipe")
    parser.add_argument("--baseline-ratios", type=float, nargs="+", default=None,
                        help="classic arms to train (default: the recipe's)")
    parser.add_argument("--seeds", type=int, nargs="+", default=None)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)

    import tomllib

    import torch
    from _common import machine
    from dummies import dummies_registered

    from synthaug import registry
    from synthaug.recipes.arms import Arm
    from synthaug.recipes.experiment import prepare
    from synthaug.recipes.loading import load_recipe, resolve_recipe
    from synthaug.recipes.runner import _run_arm

    torch.set_num_threads(args.threads)
    doc = tomllib.loads(resolve_recipe(args.recipe).read_text())
    with dummies_registered():
        if doc.get("generator", {}).get("name") not in registry.generators:
            doc["generator"] = {"name": "image.dummy"}  # checked, never fitted
        exp = prepare(load_recipe(doc), "cpu", None)
    ratios = args.baseline_ratios or [a.ratio for a in exp.arms if a.is_baseline]
    arms = [Arm("real"), *(Arm(exp.task.baseline, float(r)) for r in ratios)]
    seeds = args.seeds or list(exp.spec.seeds)
    results: list[dict[str, Any]] = []
    for seed in seeds:
        for arm in arms:
            load = os.getloadavg()[0]
            start = time.perf_counter()
            out = _run_arm(exp, arm, seed, None, None)
            row = {"arm": arm.key, "seed": seed, "accuracy": out["metrics"]["accuracy"],
                   "macro_f1": out["metrics"]["macro_f1"], "steps": out["fit"]["steps"],
                   "best_step": out["fit"]["best_step"], "seconds": time.perf_counter() - start,
                   "load_before": load, "load_after": os.getloadavg()[0]}
            results.append(row)
            print(json.dumps(row), flush=True)
    print(json.dumps(machine()))
    real = {r["seed"]: r["accuracy"] for r in results if r["arm"] == "real"}
    print("| arm | accuracy (mean ± sd over seeds) | paired gain vs real | seconds per run |")
    print("|---|---|---|---|")
    for arm in arms:
        mine = [r for r in results if r["arm"] == arm.key]
        acc = [r["accuracy"] for r in mine]
        gain = [r["accuracy"] - real[r["seed"]] for r in mine]
        sd = statistics.stdev(acc) if len(acc) > 1 else float("nan")
        gsd = statistics.stdev(gain) if len(gain) > 1 else float("nan")
        print(f"| {arm.key} | {statistics.fmean(acc):.4f} ± {sd:.4f} | "
              f"{statistics.fmean(gain):+.4f} ± {gsd:.4f} | "
              f"{statistics.fmean(r['seconds'] for r in mine):.0f} |")
    if args.json:
        args.json.write_text(json.dumps({"machine": machine(), "results": results}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
