"""Batch jobs: records/s and peak memory writing 1M and 10M rows, local vs ray, 1 and 2 workers.

Each configuration runs one whole job in a fresh Python process (as ``synthaug generate``
would): ``synthaug.jobs.run`` with the probe, worker start-up, every shard drawn, written as
Parquet, fsynced, renamed and recorded, and no validation, into a temporary folder deleted
afterwards.  Reported per configuration:

* records/s end to end: records / the ``run()`` call's wall time (a ray job includes starting
  its private local Ray instance);
* records/s steady: once every worker has started (as many shards finished as there are
  workers), (records - the records of those shards) / (time from then to the last finished
  shard), which leaves out worker and Ray start-up.  (Counting from the first shard instead
  would credit n workers with n - 1 shards they drew before the clock started: 1.125x too
  fast for 2 workers and 10 shards.);
* peak RSS: the largest sum over the job process's whole tree (the job, its worker processes,
  and for ray the Ray daemons and actors it started), sampled every 0.2 s, and the largest
  single process.

Generators: ``tabular.copula`` (fitted on Adult's training split) and ``tabular.gan`` (one
epoch on 5,000 Adult rows: sampling speed does not depend on how well it learned), both saved
to folders the jobs load.  Images and texts use the tiny test generators of
``tests/dummies.py`` (per-class mean image plus noise on scikit-learn's 8x8 digits; unigram
texts), so their numbers measure the job machinery and the PNG / JSONL writers, not a real
image or text model.

    python benchmarks/jobs.py                       # everything, 1M and 10M rows
    python benchmarks/jobs.py --rows 1000000        # a quicker pass
    python benchmarks/jobs.py --device cuda --rows 10000000 --engines local:1   # a GPU

Results are kept in benchmarks/results/jobs.json (one entry per configuration, so a long run
can be split) and rendered into the "jobs" section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.dirname(__file__))
# the repository root: the image and text jobs load the test generators of tests/dummies.py
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import command_line, machine, write_section

RESULTS_JSON = Path(__file__).with_name("results") / "jobs.json"
#: records per shard for the real image and text generators: 10 shards of 5,000, so that two
#: workers have a steady stretch to time (their defaults, 1,000 and 10,000, would give 5 and 1)
MEDIA_SHARD = 500
PAGE = 4096


def _rss_tree(root: int) -> tuple[int, int]:
    """(sum, largest) resident bytes of ``root`` and all its descendants (Linux /proc)."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(stat.parent.name)
        parents[pid] = int(fields[1])
        rss[pid] = int(fields[21]) * PAGE
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        for pid, ppid in parents.items():
            if ppid == parent and pid not in tree:
                tree.add(pid)
                frontier.append(pid)
    values = [rss.get(p, 0) for p in tree]
    return sum(values), max(values)


class PeakRSS:
    """Samples :func:`_rss_tree` of ``root`` in a thread while a ``with`` block runs."""

    def __init__(self, root: int) -> None:
        self.root = root

    def __enter__(self) -> PeakRSS:
        self.total = self.largest = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.is_set():
            total, largest = _rss_tree(self.root)
            self.total, self.largest = max(self.total, total), max(self.largest, largest)
            self._stop.wait(0.2)

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()


def fit_models(folder: Path, device: str) -> dict[str, Path]:
    """Fit and save the generators the jobs load."""
    from tabular import adult_split

    from synthaug import get_generator

    train, _ = adult_split()
    models = {}
    models["tabular.copula"] = folder / "copula"
    get_generator("tabular.copula", random_state=0).fit(train).save(models["tabular.copula"])
    models["tabular.gan"] = folder / "gan"
    get_generator("tabular.gan", epochs=1, random_state=0, device=device, progress=False).fit(
        train.sample(5_000, random_state=0)).save(models["tabular.gan"])
    return models


def fit_dummies(folder: Path) -> dict[str, Path]:
    """The tiny image and text generators of tests/dummies.py, fitted and saved."""
    import numpy as np
    from sklearn.datasets import load_digits

    from synthaug import get_generator
    from synthaug.data.image import Images
    from synthaug.data.text import Texts
    from tests.dummies import IMAGE_DUMMY, TEXT_DUMMY

    digits = load_digits()
    pixels = np.clip(digits.images * 16, 0, 255).astype(np.uint8)[..., None]
    rng = np.random.default_rng(0)
    words = np.array(["a", "an", "the", "good", "bad", "film", "plot", "acting", "great",
                      "dull", "story", "long", "short"])
    texts = [" ".join(rng.choice(words, rng.integers(5, 25))) for _ in range(2_000)]
    out = {IMAGE_DUMMY: folder / "image-dummy", TEXT_DUMMY: folder / "text-dummy"}
    get_generator(IMAGE_DUMMY, random_state=0).fit(
        Images(pixels, digits.target.astype(np.int64))).save(out[IMAGE_DUMMY])
    get_generator(TEXT_DUMMY, random_state=0).fit(
        Texts(np.array(texts, dtype=object), rng.integers(0, 2, len(texts)))).save(
        out[TEXT_DUMMY])
    return out


def fit_media(folder: Path, device: str) -> dict[str, Path]:
    """A real image and text generator, briefly trained, for images/s and texts/s.

    ``image.gan`` (the image recipe's generator, default architecture) for 100 steps on 1,000
    Fashion-MNIST training images, and ``text.transformer`` (default architecture) for 3
    epochs on 1,000 Rotten Tomatoes snippets (500 per label).  Drawing speed depends on the
    architecture, not on how well it learned; for text it also depends on how long the drawn
    texts are, so the table gives bytes per record beside it.
    """
    import numpy as np
    from text import load as rotten_tomatoes  # benchmarks/text.py: per-label snippets

    from synthaug import get_generator
    from synthaug.data.image import Images
    from synthaug.data.sources import read_source

    images = read_source("fashion-mnist")[1]
    rows = np.random.default_rng(0).permutation(len(images))[:1_000]
    out = {"image.gan": folder / "image-gan", "text.transformer": folder / "text-transformer"}
    get_generator("image.gan", max_steps=100, random_state=0, device=device, progress=False
                  ).fit(Images(images.pixels[rows], images.labels[rows])).save(out["image.gan"])
    snippets, _ = rotten_tomatoes(per_class=500)
    get_generator("text.transformer", epochs=3, random_state=0, device=device, progress=False
                  ).fit(snippets).save(out["text.transformer"])
    return out


CHILD = """
import json, sys
from pathlib import Path

if __name__ == "__main__":
    import torch

    torch.set_num_threads(1)
    from synthaug.jobs import run

    spec = json.loads(Path(sys.argv[1]).read_text())
    if sys.argv[3] == "dummy":
        from tests.dummies import dummies_registered

        with dummies_registered():
            result = run(spec, progress=False)
    else:
        result = run(spec, progress=False)
    Path(sys.argv[2]).write_text(json.dumps(result.manifest))
"""


def one_job(model: Path, records: int, engine: str, workers: int, device: str,
            kind: str, shard_size: int | None = None) -> dict[str, Any]:
    """Run one job in a fresh process; its timings and the peak RSS of its process tree."""
    import subprocess

    folder = Path(tempfile.mkdtemp(prefix="synthaug-bench-jobs-"))
    spec = {"records": records, "seed": 0, "model": {"path": str(model), "device": device},
            "output": {"path": str(folder / "out"),
                       **({"shard_size": shard_size} if shard_size else {})},
            "engine": {"name": engine, "workers": workers}}
    (folder / "job.json").write_text(json.dumps(spec))
    (folder / "child.py").write_text(CHILD)
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root),
           "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}  # a private Ray listens on loopback
    env.pop("RAY_ADDRESS", None)
    try:
        load_before = os.getloadavg()[0]
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, str(folder / "child.py"), str(folder / "job.json"),
                                 str(folder / "manifest.json"), kind], env=env)
        with PeakRSS(proc.pid) as peak:
            code = proc.wait()
        wall = time.perf_counter() - start
        if code != 0:
            raise RuntimeError(f"the job exited with {code}")
        manifest = json.loads((folder / "manifest.json").read_text())
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    run_info = manifest["runs"][-1]
    steady_s = run_info["engine_seconds"] - run_info["steady_from_seconds"]
    steady_records = records - run_info["steady_from_records"]
    steady = steady_records / steady_s if steady_s > 0 and steady_records else float("nan")
    return {"records": records, "engine": engine, "workers": workers,
            "seconds": run_info["seconds"], "process_seconds": wall,
            "records_per_s": records / run_info["seconds"], "steady_records_per_s": steady,
            "first_shard_seconds": run_info["first_shard_seconds"],
            "peak_tree_mib": peak.total / 2**20, "peak_process_mib": peak.largest / 2**20,
            "shards": manifest["n_shards"],
            "bytes": sum(e["bytes"] for e in manifest["shards"]),
            "load_before": load_before, "load_after": os.getloadavg()[0]}


def render(entries: list[dict[str, Any]], info: dict[str, Any]) -> str:
    def rows(kind: str) -> list[str]:
        out = []
        for e in entries:
            if e["kind"] != kind:
                continue
            out.append(f"| {e['generator']} | {e['records']:,} | {e['engine']} | {e['workers']} "
                       f"| {e['records_per_s']:,.0f} | {e['steady_records_per_s']:,.0f} "
                       f"| {e['seconds']:,.1f} | {e['first_shard_seconds']:,.1f} "
                       f"| {e['peak_tree_mib']:,.0f} | {e['peak_process_mib']:,.0f} "
                       f"| {e['bytes'] / e['records']:,.0f} "
                       f"| {e['load_before']:.1f} / {e['load_after']:.1f} |")
        return out

    head = ("| generator | records | engine | workers | records/s end to end | records/s steady "
            "| seconds | first shard after s | peak RSS, tree MiB | largest process MiB "
            "| bytes / record | load avg before / after |\n"
            "|---|---|---|---|---|---|---|---|---|---|---|---|")
    return "\n".join([
        "## Batch jobs: records/s and memory, local vs ray (issue 13)", "",
        f"Command: `{info['command']}`; {info['date']}; {info['cpu_cores']} CPU cores shared "
        f"with other work, GPU {info['gpu']}; Python {info['python']}, torch {info['torch']}, "
        f"numpy {info['numpy']}, pandas {info['pandas']}. Each job in a fresh process, one "
        "thread per worker, default shard sizes (100,000 rows, 1,000 images, 10,000 texts; "
        f"{MEDIA_SHARD} for the real image and text generators), no validation. *End to end* is records / the `run()` call (probe, worker or Ray "
        "start-up, every shard written, fsynced, renamed and recorded); *steady* leaves out "
        "the start-up: the records after as many shards as workers had finished / the time "
        "from then to the last finished shard. Peak RSS is "
        "the largest sum over the job process's tree (the job, its workers, and for ray the "
        "private Ray daemons and actors it started), sampled every 0.2 s.", "",
        "Tabular (Parquet shards):", "", head, *rows("tabular"), "",
        "Images (a folder of PNG files and labels.parquet per shard) and texts (JSONL) from "
        "real generators, briefly trained (`fit_media`: `image.gan` 100 steps on 1,000 "
        "Fashion-MNIST images, `text.transformer` 3 epochs on 1,000 Rotten Tomatoes snippets; "
        "drawing speed depends on the architecture and, for text, on the drawn length):", "",
        head, *rows("media"), "",
        "Images (PNG folders) and texts (JSONL) with the tiny **dummy** generators of "
        "`tests/dummies.py` (they measure the job and the writers, not a real model):", "",
        head, *rows("dummy"), "",
        "{reading}",
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--generators", nargs="*", default=["tabular.copula", "tabular.gan"],
                        help="none (the bare flag) skips the tables")
    parser.add_argument("--engines", nargs="+", default=["local:1", "local:2", "ray:1", "ray:2"])
    parser.add_argument("--dummies", type=int, nargs=2, default=[20_000, 200_000],
                        metavar=("IMAGES", "TEXTS"), help="0 0 skips them")
    parser.add_argument("--media", type=int, nargs=2, default=[5_000, 5_000],
                        metavar=("IMAGES", "TEXTS"),
                        help="records for the real image and text generators; 0 0 skips them")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--reading", default="", help="the paragraph under the tables")
    args = parser.parse_args()
    import torch

    from tests.dummies import IMAGE_DUMMY, TEXT_DUMMY, dummies_registered

    torch.set_num_threads(1)
    entries = json.loads(RESULTS_JSON.read_text()) if RESULTS_JSON.exists() else []

    def keep(entry: dict[str, Any]) -> None:
        key = (entry["kind"], entry["generator"], entry["records"], entry["engine"],
               entry["workers"], entry["device"])
        entries[:] = [e for e in entries if (e["kind"], e["generator"], e["records"],
                                             e["engine"], e["workers"], e["device"]) != key]
        entries.append(entry)
        RESULTS_JSON.parent.mkdir(exist_ok=True)
        RESULTS_JSON.write_text(json.dumps(entries, indent=1))
        print(json.dumps(entry), flush=True)

    work = Path(tempfile.mkdtemp(prefix="synthaug-bench-models-"))
    try:
        models = fit_models(work, args.device)
        for rows in args.rows:
            for name in args.generators:
                for engine in args.engines:
                    kind, workers = engine.split(":")
                    result = one_job(models[name], rows, kind, int(workers), args.device,
                                     "tabular")
                    keep({"kind": "tabular", "generator": name, "device": args.device, **result})
        if args.media[0] or args.media[1]:
            media = fit_media(work, args.device)
            for name, rows in (("image.gan", args.media[0]), ("text.transformer", args.media[1])):
                for engine in ("local:1", "local:2"):
                    if rows:
                        result = one_job(media[name], rows, "local", int(engine[-1]),
                                         args.device, "media", shard_size=MEDIA_SHARD)
                        keep({"kind": "media", "generator": name, "device": args.device,
                              **result})
        if args.dummies[0] or args.dummies[1]:
            with dummies_registered():
                dummies = fit_dummies(work)
                for name, rows in ((IMAGE_DUMMY, args.dummies[0]), (TEXT_DUMMY, args.dummies[1])):
                    for engine in ("local:1", "local:2"):
                        if not rows:
                            continue
                        result = one_job(dummies[name], rows, "local", int(engine[-1]), "cpu",
                                         "dummy")
                        keep({"kind": "dummy", "generator": name, "device": "cpu", **result})
    finally:
        shutil.rmtree(work, ignore_errors=True)
    info = {**machine(), "command": command_line()}
    entries.sort(key=lambda e: (e["kind"] != "tabular", e["generator"], e["records"],
                                e["engine"], e["workers"]))
    write_section("jobs", render(entries, info).replace("{reading}", args.reading))


if __name__ == "__main__":
    main()
