"""Image generators on Fashion-MNIST: cost and a quick quality figure, one generator per run.

For every generator asked for: training wall time (and the loop's time per step and per epoch
of the training set), training images/s, sampling images/s, peak RSS (and peak device memory
on CUDA), then quality figures that need no validator:

* **classification accuracy score (CAS)**: BENCHMARKS.md's small CNN (2 convolutions of 32 and
  64 channels, a 128-unit layer, dropout 0.3; Adam 1e-3, batch 64) trained on ``--n-cas``
  generated images (balanced classes) only, tested on the 10,000 real test images, beside the
  same CNN for the same steps on as many real training images (stratified) and on all of
  them (one CNN seed per generator seed; the real arms are cached in ``--cache``);
* **label consistency**: a CNN trained on the real training images predicts each generated
  image's class; the share that is the class asked for;
* **sharpness**: mean squared Laplacian of generated images over that of real ones (1 = as
  sharp as real; a blurry VAE sits far below 1);
* **near copies** (pixel space): the share of generated images closer to their nearest
  training image than the 5th percentile of held-out test images' nearest-training distances
  (held-out real images score 0.05 by construction).

Each run writes its rows to ``benchmarks/results/image-<device>.json`` (merged with earlier
runs, so one generator can be benchmarked per process and the machine stays under ten
minutes a run), one sample grid per generator to ``--grids`` (``docs/images`` by default) and
the ``image-<device>`` section of RESULTS.md from all rows.

    python benchmarks/image.py --models image.gan --max-steps 1500 --threads 2
    python benchmarks/image.py --device cuda --models image.gan,image.vae,image.transformer \
        --max-steps 6000 --threads 16 --n-train 60000
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any

sys.path.insert(0, os.path.dirname(__file__))

import numpy as np
import torch
import torch.nn.functional as F
from _common import (
    command_line,
    current_peak_rss_mib,
    machine,
    mean_sd,
    pin_threads,
    reset_peak_rss,
    write_section,
)
from torch import nn

from synthaug import get_generator
from synthaug.data import load_fashion_mnist
from synthaug.generators.nn import SeededDropout, build_module, set_generator

CLASSES = ("T-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker",
           "bag", "boot")


# -- the reference CNN (BENCHMARKS.md) ---------------------------------------------------------
class SmallCNN(nn.Module):
    def __init__(self, channels: int = 1, n_classes: int = 10, side: int = 28) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, 32, 3, padding=1)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
        self.fc1 = nn.Linear(64 * (side // 4) ** 2, 128)
        self.drop = SeededDropout(0.3)
        self.fc2 = nn.Linear(128, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc2(self.drop(F.relu(self.fc1(x.flatten(1)))))


def _tensor(images: np.ndarray, device: torch.device) -> torch.Tensor:
    x = torch.from_numpy(np.ascontiguousarray(images)).to(device)
    x = x[:, None] if x.ndim == 3 else x.permute(0, 3, 1, 2)
    return x.float().div_(255.0)


def train_cnn(images: np.ndarray, labels: np.ndarray, *, steps: int, seed: int,
              device: torch.device) -> nn.Module:
    """BENCHMARKS.md's CNN: Adam 1e-3, batch 64, ``steps`` steps, on the device."""
    gen = torch.Generator(device=device).manual_seed(seed)
    x, y = _tensor(images, device), torch.from_numpy(np.asarray(labels)).long().to(device)
    net = build_module(lambda: SmallCNN(x.shape[1], 10, x.shape[2]), device, gen).train()
    set_generator(net, gen)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    for _ in range(steps):
        idx = torch.randint(len(x), (64,), device=device, generator=gen)
        loss = F.cross_entropy(net(x[idx]), y[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    set_generator(net, None)
    return net.eval()


@torch.no_grad()
def predict(net: nn.Module, images: np.ndarray, device: torch.device) -> np.ndarray:
    out = [net(_tensor(images[i:i + 2000], device)).argmax(1).cpu().numpy()
           for i in range(0, len(images), 2000)]
    return np.concatenate(out)


# -- quick figures -----------------------------------------------------------------------------
def sharpness(images: np.ndarray) -> float:
    """Mean squared 4-neighbour Laplacian of images in [0, 1]."""
    x = images.astype(np.float32).reshape(len(images), images.shape[1], images.shape[2], -1)
    x = x / 255.0
    lap = (4 * x[:, 1:-1, 1:-1] - x[:, :-2, 1:-1] - x[:, 2:, 1:-1] - x[:, 1:-1, :-2]
           - x[:, 1:-1, 2:])
    return float((lap ** 2).mean())


def nearest_sq(queries: np.ndarray, reference: np.ndarray, device: torch.device) -> np.ndarray:
    ref = torch.from_numpy(reference.reshape(len(reference), -1).astype(np.float32)).to(device)
    ref_sq = (ref ** 2).sum(1)
    out = []
    for i in range(0, len(queries), 500):
        q = torch.from_numpy(queries[i:i + 500].reshape(-1, ref.shape[1]).astype(np.float32))
        q = q.to(device)
        d = (q ** 2).sum(1, keepdim=True) + ref_sq[None] - 2 * q @ ref.T
        out.append(d.min(dim=1).values.clamp_min(0).cpu().numpy())
    return np.concatenate(out)


def near_copy_rate(generated: np.ndarray, train: np.ndarray, holdout: np.ndarray,
                   device: torch.device) -> float:
    tau = np.quantile(nearest_sq(holdout, train, device), 0.05)
    return float((nearest_sq(generated, train, device) < tau).mean())


def save_grid(images: np.ndarray, labels: np.ndarray, path: str, per_class: int = 10) -> None:
    """One row per class, ``per_class`` images, 2x upscaled, 2-pixel white gaps."""
    from PIL import Image

    h, w = images.shape[1:3]
    gap, scale = 2, 2
    classes = np.unique(labels)
    grid = np.full((len(classes) * (h + gap), per_class * (w + gap)), 255, dtype=np.uint8)
    for r, c in enumerate(classes):
        members = images[labels == c][:per_class]
        for k, img in enumerate(members):
            grid[r * (h + gap):r * (h + gap) + h, k * (w + gap):k * (w + gap) + w] = \
                img.reshape(h, w)
    Image.fromarray(grid).resize((grid.shape[1] * scale, grid.shape[0] * scale),
                                 Image.Resampling.NEAREST).save(path)


# -- one generator -----------------------------------------------------------------------------
def balanced_labels(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).permutation(np.arange(n) % 10)


def sample_classes(gen: Any, labels: np.ndarray, seed: int) -> np.ndarray:
    out = np.empty((len(labels), 28, 28), dtype=np.uint8)
    for c in range(10):
        idx = np.flatnonzero(labels == c)
        if len(idx):
            out[idx] = gen.sample(len(idx), conditions={"label": c},
                                  random_state=seed * 100 + c)[0]
    return out


def run_one(name: str, seed: int, args: argparse.Namespace, data: dict[str, np.ndarray],
            judge: nn.Module, real_cas: dict[int, dict[str, float]], device: torch.device
            ) -> dict[str, Any]:
    params: dict[str, Any] = {"device": args.device, "random_state": seed, "progress": False,
                              "max_steps": args.max_steps}
    if args.batch_size:
        params["batch_size"] = args.batch_size
    params.update(json.loads(args.params).get(name, {}))
    if args.fit_seconds:  # a wall-clock budget: stop after the epoch that passes it
        params["max_steps"], params["epochs"] = None, 100_000
        deadline = [0.0]

        def stop_in_time(gen: Any, epoch: int, losses: dict[str, float]) -> bool:
            return time.perf_counter() > deadline[0]

        params["epoch_callback"] = stop_in_time
    gen = get_generator(name, **params)
    load_before = os.getloadavg()[0]
    reset_peak_rss()
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    cpu0, start = time.process_time(), time.perf_counter()
    if args.fit_seconds:
        deadline[0] = start + args.fit_seconds
    gen.fit(data["x_train"], data["y_train"])
    fit_s = time.perf_counter() - start
    fit_cpu = time.process_time() - cpu0
    hist = gen.history_
    _, steps_per_epoch, batch = gen._budget(len(data["x_train"]))
    steps = hist.epochs_run * steps_per_epoch
    rss = current_peak_rss_mib()
    dev_mem = torch.cuda.max_memory_allocated() / 2**20 if device.type == "cuda" else None
    # sampling speed: a warm-up call, then n images without a condition
    gen.sample(64, random_state=0)
    start = time.perf_counter()
    for _ in gen.sample_batches(args.n_sample, random_state=1):
        pass
    sample_s = time.perf_counter() - start
    labels = balanced_labels(args.n_cas, seed)
    fake = sample_classes(gen, labels, seed)
    grid_path = None
    if seed == args.seeds[0] and args.grids:
        os.makedirs(args.grids, exist_ok=True)
        grid_path = os.path.join(args.grids, f"fashion-{name.split('.')[1]}{args.grid_suffix}.png")
        save_grid(fake, labels, grid_path)
    cnn = train_cnn(fake, labels, steps=args.cnn_steps, seed=seed, device=device)
    cas = float((predict(cnn, data["x_test"], device) == data["y_test"]).mean())
    consistency = float((predict(judge, fake, device) == labels).mean())
    sharp = sharpness(fake) / sharpness(data["x_train"][:args.n_cas])
    copies = near_copy_rate(fake[:1000], data["x_train"][:20000], data["x_test"][:1000], device)
    load_after = os.getloadavg()[0]
    row = {
        "model": name, "seed": seed, "n_train": len(data["x_train"]),
        "params": {k: v for k, v in params.items()
                   if k not in ("device", "progress", "epoch_callback")},
        "fit_s": fit_s, "fit_cpu_s": fit_cpu, "loop_s": hist.seconds, "steps": steps,
        "epochs": hist.epochs_run, "batch": batch,
        "s_per_1k_steps": 1000 * hist.seconds / max(1, steps),
        # one full pass over the training set at the loop's speed (fixed costs excluded)
        "s_per_epoch": hist.seconds / max(1, steps) * (len(data["x_train"]) // batch),
        "train_img_s": steps * batch / max(hist.seconds, 1e-9),
        "sample_img_s": args.n_sample / sample_s, "peak_rss_mib": rss,
        "peak_device_mib": dev_mem, "cas": cas, "real_cas": real_cas[seed]["same_n"],
        "real_cas_all": real_cas[seed]["all"], "n_cas": args.n_cas,
        "cnn_steps": args.cnn_steps,
        "label_consistency": consistency, "sharpness": sharp, "near_copies": copies,
        "load_before": load_before, "load_after": load_after, "grid": grid_path,
        "final_losses": hist.losses[-1] if hist.losses else {},
    }
    print(json.dumps({k: v for k, v in row.items() if k != "final_losses"}, default=str),
          flush=True)
    return row


def real_arms(args: argparse.Namespace, data: dict[str, np.ndarray], seed: int,
              device: torch.device) -> tuple[nn.Module, dict[str, float]]:
    """The CNN on all real training images (also the label-consistency judge) and on
    ``n_cas`` of them; cached by (seed, steps, sizes, device), as they do not depend on the
    generator."""
    from safetensors.torch import load_file, save_file

    key = f"cnn-{device.type}-s{seed}-k{args.cnn_steps}-n{len(data['x_train'])}-c{args.n_cas}"
    os.makedirs(args.cache, exist_ok=True)
    weights, scores = (os.path.join(args.cache, f"{key}.{e}") for e in ("safetensors", "json"))
    x, y = data["x_train"], data["y_train"]
    if os.path.exists(weights) and os.path.exists(scores):
        net = build_module(lambda: SmallCNN(), device, torch.Generator(device).manual_seed(0))
        net.load_state_dict(load_file(weights, device=str(device)))
        with open(scores) as fh:
            return net.eval(), json.load(fh)
    net = train_cnn(x, y, steps=args.cnn_steps, seed=seed, device=device)
    out = {"all": float((predict(net, data["x_test"], device) == data["y_test"]).mean())}
    rng = np.random.default_rng(seed)
    few = np.concatenate([rng.choice(np.flatnonzero(y == c), args.n_cas // 10, replace=False)
                          for c in range(10)])
    small = train_cnn(x[few], y[few], steps=args.cnn_steps, seed=seed, device=device)
    out["same_n"] = float((predict(small, data["x_test"], device) == data["y_test"]).mean())
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, weights)
    with open(scores, "w") as fh:
        json.dump(out, fh)
    return net, out


# -- report ------------------------------------------------------------------------------------
def section(rows: list[dict[str, Any]], info: dict[str, Any], commands: list[str]) -> str:
    models = list(dict.fromkeys(r["model"] for r in rows))
    lines = [
        f"## Image generators on Fashion-MNIST, {info['device_name']} (issue 11)",
        "",
        "Commands (one generator per process, rows merged):",
        "",
        *[f"    {c}" for c in commands],
        "",
        f"Device: {info['device_name']}, {info['torch_threads']} torch threads; date "
        f"{info['date']}; torch {info['torch']}, numpy {info['numpy']}, Python "
        f"{info['python']}.  Load average (1 min) before / after each fit is in the table: "
        "this machine is shared, and any load above the core count slowed the timings.",
        "",
        "| generator | train images | steps x batch | fit (s) | CPU s | s / 1k steps | "
        "s / epoch | train img/s | sample img/s | peak RSS (MiB) | CAS (generated) | "
        "CAS (as many real) | CAS (all real) | label consistency | sharpness | near copies | "
        "load |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for m in models:
        rs = [r for r in rows if r["model"] == m]
        r0 = rs[0]

        def col(key: str, fmt: str, rs: list[dict[str, Any]] = rs) -> str:
            return mean_sd([float(r[key]) for r in rs], fmt)

        lines.append(
            f"| {m} | {r0['n_train']:,} | {r0['steps']} x {r0['batch']} | {col('fit_s', '{:.0f}')} | "
            f"{col('fit_cpu_s', '{:.0f}')} | "
            f"{col('s_per_1k_steps', '{:.0f}')} | {col('s_per_epoch', '{:.0f}')} | "
            f"{col('train_img_s', '{:.0f}')} | {col('sample_img_s', '{:.0f}')} | "
            f"{col('peak_rss_mib', '{:.0f}')} | {col('cas', '{:.3f}')} | "
            f"{col('real_cas', '{:.3f}')} | {col('real_cas_all', '{:.3f}')} | "
            f"{col('label_consistency', '{:.3f}')} | "
            f"{col('sharpness', '{:.2f}')} | {col('near_copies', '{:.3f}')} | "
            f"{min(r['load_before'] for r in rs):.1f}-{max(r['load_after'] for r in rs):.1f} |")
    lines += ["", "Parameters other than the defaults:", ""]
    for m in models:
        r = next(r for r in rows if r["model"] == m)
        shown = {k: v for k, v in r["params"].items() if k != "random_state"}
        lines.append(f"- {m}: `{json.dumps(shown, default=str)}`")
    r0 = rows[0]
    lines += ["", f"CAS: the reference CNN trained {r0['cnn_steps']} steps on {r0['n_cas']:,} "
              "generated images (balanced), tested on the 10,000 test images; beside it the same "
              f"CNN on {r0['n_cas']:,} real training images and on all of them.",
              "", f"{len(rows)} rows; seeds per generator: "
              + ", ".join(f"{m} {sum(r['model'] == m for r in rows)}" for m in models) + "."]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", default="image.gan,image.vae,image.transformer")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--n-train", type=int, default=60000)
    ap.add_argument("--max-steps", type=int, default=2000)
    ap.add_argument("--batch-size", type=int, default=0)
    ap.add_argument("--fit-seconds", type=float, default=0.0,
                    help="train for this long (whole epochs) instead of --max-steps")
    ap.add_argument("--params", default="{}", help='JSON: {"image.gan": {"width": 64}}')
    ap.add_argument("--n-sample", type=int, default=5000, help="images timed for sampling")
    ap.add_argument("--n-cas", type=int, default=10000, help="generated images for CAS")
    ap.add_argument("--cnn-steps", type=int, default=1500)
    ap.add_argument("--grids", default="docs/images")
    ap.add_argument("--grid-suffix", default="")
    ap.add_argument("--section", default="")
    ap.add_argument("--cache", default="/tmp/synthaug-image-bench",
                    help="where the real-image CNNs are kept between runs")
    ap.add_argument("--out", default="")
    args = ap.parse_args()
    args.seeds = [int(s) for s in args.seeds.split(",")]
    pin_threads(args.threads)
    device = torch.device(args.device)
    x_train, y_train = load_fashion_mnist(split="train")
    x_test, y_test = load_fashion_mnist(split="test")
    if args.n_train < len(x_train):  # a stratified subset, fixed seed
        rng = np.random.default_rng(42)
        per = args.n_train // 10
        idx = np.concatenate([rng.choice(np.flatnonzero(y_train == c), per, replace=False)
                              for c in range(10)])
        x_train, y_train = x_train[idx], y_train[idx]
    data = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
    # the judge and the real-data arms: the same CNN, the same steps, on real images
    start = time.perf_counter()
    real_cas: dict[int, dict[str, float]] = {}
    judge = None
    for seed in args.seeds:
        net, real_cas[seed] = real_arms(args, data, seed, device)
        judge = judge or net
    print(f"real-image CNN: {real_cas} in {time.perf_counter() - start:.0f} s", flush=True)
    assert judge is not None
    rows = [run_one(m, s, args, data, judge, real_cas, device)
            for s in args.seeds for m in args.models.split(",")]
    info = machine()
    info["device_name"] = (torch.cuda.get_device_name(0) if device.type == "cuda"
                           else f"{os.cpu_count()}-core CPU")
    name = args.section or f"image-{device.type}"
    store = args.out or os.path.join(os.path.dirname(__file__), "results", f"{name}.json")
    os.makedirs(os.path.dirname(store), exist_ok=True)
    saved: dict[str, Any] = {"rows": [], "commands": []}
    if os.path.exists(store):
        with open(store) as fh:
            saved = json.load(fh)
    keys = {(r["model"], r["seed"]) for r in rows}
    saved["rows"] = [r for r in saved["rows"] if (r["model"], r["seed"]) not in keys] + rows
    cmd = command_line()
    saved["commands"] = [c for c in saved["commands"] if c != cmd] + [cmd]
    with open(store, "w") as fh:
        json.dump(saved, fh, indent=1, default=str)
    write_section(name, section(saved["rows"], info, saved["commands"]))


if __name__ == "__main__":
    main()
