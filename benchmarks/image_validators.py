"""The image validators' values and times on Fashion-MNIST: two real samples, a verbatim copy
and ``image.dummy``, at 1,000 and 10,000 images.

    python benchmarks/image_validators.py features --cache /tmp/synthaug-bench   # once (slow)
    python benchmarks/image_validators.py run --cache /tmp/synthaug-bench --sizes 1000 10000
    python benchmarks/image_validators.py suite --size 1000      # the default suite, cold

Data (fixed seeds): "real" is 10,000 images of Fashion-MNIST's training set, "other real" the
next 10,000 (disjoint), the holdout 10,000 of the test set; "copy" is "real" itself (a
generator that memorised its training images) and "dummy" 10,000 images of the test suite's
``image.dummy`` (per-class mean image plus per-pixel noise) fitted on "real".  A size of 1,000
takes the first 1,000 of each.

EfficientNet-Lite0 features of 40,000 images take about half an hour on a busy 2-core CPU, so
``features`` computes them once with the library's own extractor and stores them under
``--cache`` (``.npy``); ``run`` preloads them into the validators' shared feature store, so its
times are the validators' own work on given features (the embedding's throughput is measured
and reported apart).  ``suite`` runs ``image-default`` cold (embedding included), as a user
would.  Appends a section to ``benchmarks/RESULTS.md`` with ``--write``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))  # the image.dummy generator

SETS = ("real", "other", "holdout", "dummy")
N_MAX = 10_000


def load_sets() -> dict[str, Any]:
    """The four image sets of the module docstring, as :class:`Images` of 10,000 each."""
    from dummies import MeanImageGenerator

    from synthaug.data.datasets import load_fashion_mnist
    from synthaug.data.image import Images

    train_x, train_y = load_fashion_mnist(split="train")
    test_x, test_y = load_fashion_mnist(split="test")
    order = np.random.default_rng(0).permutation(len(train_x))
    a, b = np.sort(order[:N_MAX]), np.sort(order[N_MAX:2 * N_MAX])
    real = Images(train_x[a][..., None], train_y[a])
    other = Images(train_x[b][..., None], train_y[b])
    hold_rows = np.sort(np.random.default_rng(1).permutation(len(test_x))[:N_MAX])
    holdout = Images(test_x[hold_rows][..., None], test_y[hold_rows])
    gen = MeanImageGenerator(random_state=0).fit(real)
    # shuffled, so a prefix of 1,000 holds every class
    dummy = gen.sample(N_MAX, random_state=0)
    perm = np.random.default_rng(2).permutation(N_MAX)
    dummy = Images(dummy.pixels[perm], dummy.labels[perm])
    return {"real": real, "other": other, "holdout": holdout, "dummy": dummy}


CHUNK = 1_000


def features(cache: Path, batch_size: int) -> None:
    """Embed every set once, 1,000 images at a time (resumable; the first 1,000 of every set
    first), and store the features and the throughput under ``cache``."""
    from synthaug.data.image.embedding import EfficientNetLite0

    cache.mkdir(parents=True, exist_ok=True)
    sets = load_sets()
    embed = EfficientNetLite0(device="cpu", batch_size=batch_size)
    log = cache / "timings.json"
    timings = json.loads(log.read_text()) if log.is_file() else {}
    for lo in range(0, N_MAX, CHUNK):
        for name in SETS:
            path = cache / f"{name}.{lo // CHUNK:02d}.npy"
            if path.is_file():
                continue
            load = os.getloadavg()[0]
            start = time.perf_counter()
            rows = embed(sets[name].pixels[lo:lo + CHUNK])
            seconds = time.perf_counter() - start
            np.save(path, rows)
            timings[path.name] = {"images": len(rows), "seconds": round(seconds, 2),
                                  "images_per_s": round(len(rows) / seconds, 2),
                                  "cpu_seconds": round(time.process_time(), 1),
                                  "load_before": load, "load_after": os.getloadavg()[0]}
            log.write_text(json.dumps(timings, indent=1))
            print(path.name, timings[path.name], flush=True)


def cached_features(cache: Path, n: int) -> dict[str, np.ndarray]:
    """The first ``n`` cached feature rows of every set."""
    out = {}
    for name in SETS:
        parts = [np.load(cache / f"{name}.{i:02d}.npy") for i in range(-(-n // CHUNK))]
        out[name] = np.concatenate(parts)[:n]
    return out


#: (validator, params) measured by ``run``: every image validator, capped at the size given
CHECKS: list[tuple[str, dict[str, Any]]] = [
    ("fidelity.frechet_efficientnet_lite0", {}),
    ("fidelity.precision_efficientnet_lite0", {}),
    ("fidelity.recall_efficientnet_lite0", {}),
    ("fidelity.density_efficientnet_lite0", {}),
    ("fidelity.coverage_efficientnet_lite0", {}),
    ("privacy.data_copying_efficientnet_lite0", {}),
    ("privacy.near_copies_efficientnet_lite0", {}),
    ("fidelity.label_consistency", {"steps": 500}),
    ("utility.classification_accuracy_score", {"steps": 500}),
]
#: details shown beside a value: the floor or the held-out figure it is read against
BESIDE = {
    "fidelity.frechet_efficientnet_lite0": ("floor", "floor {:.1f}"),
    "privacy.near_copies_efficientnet_lite0": ("synthetic_rate", "rate {:.3f}"),
    "privacy.data_copying_efficientnet_lite0": ("share_closer_to_train", "DCR share {:.2f}"),
    "fidelity.label_consistency": ("holdout_accuracy", "holdout acc. {:.3f}"),
    "utility.classification_accuracy_score": ("real_accuracy", "real-trained {:.3f}"),
}
CASES = {"other real sample": "other", "verbatim copy": "real", "image.dummy": "dummy"}


def take(images: Any, n: int) -> Any:
    from synthaug.data.image import Images

    return Images(images.pixels[:n], images.labels[:n])


def run_checks(cache: Path, sizes: list[int], device: str) -> list[dict[str, Any]]:
    """Every check of :data:`CHECKS` on every case and size, features preloaded."""
    from synthaug.data.image.embedding import EXTRACTOR, EfficientNetLite0, ImageFeatures
    from synthaug.data.modality import PreparedCache, get_modality
    from synthaug.validators import get_validator

    sets = load_sets()
    cached = cached_features(cache, max(sizes))
    rows = []
    for n in sizes:
        real, hold = take(sets["real"], n), take(sets["holdout"], n)
        for case, name in CASES.items():
            synth = real if name == "real" else take(sets[name], n)
            store = ImageFeatures(EfficientNetLite0(device=device))
            for key in SETS:
                store.preload(sets[key].pixels[:n], cached[key][:n])
            preloaded = store.n_embedded
            prepared = PreparedCache(get_modality("image"), real, synth, hold)
            prepared.shared(f"features/{EXTRACTOR}", lambda store=store: store)
            context = {"prepared": prepared, "modality": "image", "device": device}
            for validator, params in CHECKS:
                check = get_validator(validator, **{"max_rows": None, **params})
                load = os.getloadavg()[0]
                start = time.perf_counter()
                score = check.score(real, synth, holdout=hold, context=context)
                seconds = time.perf_counter() - start
                key, fmt = BESIDE.get(validator, (None, ""))
                beside = score.details.get(key) if key else None
                rows.append({"n": n, "case": case, "validator": validator,
                             "value": score.value, "beside": fmt.format(beside)
                             if beside is not None else "", "seconds": seconds,
                             "load": load, "newly_embedded": store.n_embedded - preloaded})
                print(rows[-1], flush=True)
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    """Markdown: one row per validator and size, one column per case (value, beside, time)."""
    sizes = sorted({r["n"] for r in rows})
    out = ["| validator | images | " + " | ".join(CASES) + " |",
           "|---|---|" + "---|" * len(CASES)]
    for validator, _ in CHECKS:
        for n in sizes:
            cells = []
            for case in CASES:
                r = next(r for r in rows if r["n"] == n and r["case"] == case
                         and r["validator"] == validator)
                extra = f" ({r['beside']})" if r["beside"] else ""
                cells.append(f"{r['value']:.3f}{extra}, {r['seconds']:.1f} s")
            out.append(f"| `{validator}` | {n:,} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def suite_run(size: int, device: str) -> dict[str, Any]:
    """``image-default`` cold on ``size`` vs ``size`` images with a holdout of ``size``."""
    from synthaug.validators.suite import Suite

    sets = load_sets()
    real, other, hold = (take(sets[k], size) for k in ("real", "other", "holdout"))
    suite = Suite.from_file("image-default")
    load = os.getloadavg()[0]
    start = time.perf_counter()
    report = suite.run(real, other, holdout=hold, context={"device": device})
    seconds = time.perf_counter() - start
    return {"size": size, "seconds": seconds, "load_before": load,
            "load_after": os.getloadavg()[0], "gate": report.gate,
            "checks": {c.id: (c.status, c.value, round(c.seconds or 0.0, 1))
                       for c in report.checks}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    f = sub.add_parser("features", help="embed the four sets once, into --cache")
    f.add_argument("--cache", type=Path, required=True)
    f.add_argument("--batch-size", type=int, default=64)
    f.add_argument("--threads", type=int, default=2)
    r = sub.add_parser("run", help="every image validator on cached features")
    r.add_argument("--cache", type=Path, required=True)
    r.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    r.add_argument("--threads", type=int, default=2)
    r.add_argument("--device", default="cpu")
    r.add_argument("--json", type=Path)
    u = sub.add_parser("suite", help="the image-default suite, cold, as a user runs it")
    u.add_argument("--size", type=int, default=1000)
    u.add_argument("--threads", type=int, default=2)
    u.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    if args.command == "features":
        features(args.cache, args.batch_size)
    elif args.command == "run":
        from _common import machine

        rows = run_checks(args.cache, args.sizes, args.device)
        print(json.dumps(machine()))
        print(table(rows))
        if args.json:
            args.json.write_text(json.dumps({"machine": machine(), "rows": rows}, indent=1))
    else:
        print(json.dumps(suite_run(args.size, args.device), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
