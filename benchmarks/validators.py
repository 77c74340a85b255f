"""Every registered tabular validator's time and peak memory vs SDMetrics' equivalents.

Each (validator, rows) cell runs in a fresh subprocess, so its peak memory is its own, under a
time limit; a cell that runs past it is reported as "> limit", and the same cell is not tried
at larger sizes.  synthaug's side is whatever ``synthaug.validators.list_validators()`` holds
when the benchmark runs (default parameters, context ``target="income"``,
``sensitive=("sex", "race")``, a holdout); SDMetrics' side is the metric that measures the same
thing, where it has one (see ``EQUIVALENTS``).  SDMetrics needs pandas < 3, so run this in an
environment with both (README, "Tests against SDV"):

    python benchmarks/validators.py                          # 10k, 100k and 1M rows
    python benchmarks/validators.py --sizes 10000 --limit 120 --threads 1   # a quick look
    python benchmarks/validators.py --validators dcr,pair --json results.json

Data: UCI Adult rows drawn with replacement to ``n`` rows, independently for the real,
synthetic and holdout tables (``n`` rows each; the real one also holds one row of every
category level), with Gaussian noise of 1 % of a column's standard deviation added to the
numeric columns so that rows are not duplicates.  The synthetic table is thus as good as
synthetic data gets; the values in the table are a sanity check that both sides ran, not a
finding about any generator.  Writes markdown (default ``benchmarks/results/validators.md``)
and, with ``--json``, every measurement.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import selectors
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

TARGET = "income"
POSITIVE = ">50K"
SENSITIVE = ("sex", "race")
DEFAULT_OUT = Path(__file__).parent / "results" / "validators.md"

#: SDMetrics metrics (0.32 names) and what they are run as: key -> label
SDMETRICS = {
    "sdm.column_shapes": "Column Shapes (KSComplement, TVComplement)",
    "sdm.pair_trends": "Column Pair Trends (CorrelationSimilarity, ContingencySimilarity)",
    "sdm.logistic_detection": "LogisticDetection",
    "sdm.category_coverage": "CategoryCoverage (mean over categorical columns)",
    "sdm.data_validity": "Data Validity (BoundaryAdherence, CategoryAdherence)",
    "sdm.dcr_overfitting": "DCROverfittingProtection",
    "sdm.dcr_baseline": "DCRBaselineProtection",
    "sdm.new_row_synthesis": "NewRowSynthesis",
    "sdm.disclosure_protection": "DisclosureProtection (CAP)",
    "sdm.disclosure_estimate": "DisclosureProtectionEstimate (CAP, 1,000-row subsamples)",
    "sdm.equalized_odds": "EqualizedOddsImprovement (needs xgboost)",
}
#: synthaug validator -> the SDMetrics metrics that measure the same thing (closest first)
EQUIVALENTS = {
    "fidelity.column_shapes": ["sdm.column_shapes"],
    "fidelity.pair_trends": ["sdm.pair_trends"],
    "fidelity.detection": ["sdm.logistic_detection"],
    "fidelity.category_coverage": ["sdm.category_coverage"],
    "fidelity.out_of_range": ["sdm.data_validity"],
    "fidelity.validity": ["sdm.data_validity"],
    "privacy.dcr": ["sdm.dcr_overfitting", "sdm.dcr_baseline"],
    "privacy.exact_copies": ["sdm.new_row_synthesis"],
    "privacy.attribute_inference": ["sdm.disclosure_protection", "sdm.disclosure_estimate"],
    "bias.downstream_fairness": ["sdm.equalized_odds"],
}


# -- the data (built in each cell's process; not timed) -----------------------------------------
def make_tables(n: int, seed: int) -> tuple[Any, Any, Any]:
    """Real, synthetic and holdout tables of ``n`` Adult rows each (see the module docstring)."""
    import numpy as np
    import pandas as pd

    from synthaug.data.datasets import load_adult

    adult = load_adult()
    numeric = [c for c in adult.columns if pd.api.types.is_numeric_dtype(adult[c])]
    scale = 0.01 * adult[numeric].std().to_numpy()
    rng = np.random.default_rng(seed)

    # the real table holds every level of every column at least once: SDMetrics' detection
    # refuses a synthetic level its real data lacks, and a random draw can miss a rare one
    cover = sorted({int(np.flatnonzero((adult[c] == level).to_numpy())[0])
                    for c in adult.columns if c not in numeric
                    for level in adult[c].dropna().unique()})

    def draw(first: list[int]) -> pd.DataFrame:
        rows = np.concatenate([first, rng.integers(0, len(adult), n - len(first))])
        frame = adult.iloc[rows].reset_index(drop=True)
        noise = rng.normal(size=(n, len(numeric))) * scale
        return frame.assign(**{c: frame[c].to_numpy(float) + noise[:, j]
                               for j, c in enumerate(numeric)})

    return draw(cover[:n]), draw([]), draw([])


def sdm_metadata(frame: Any) -> dict[str, Any]:
    import pandas as pd

    return {"columns": {c: {"sdtype": "numerical" if pd.api.types.is_numeric_dtype(frame[c])
                            else "categorical"} for c in frame.columns}}


# -- one cell -----------------------------------------------------------------------------------
def run_synthaug(name: str, real: Any, synthetic: Any, holdout: Any, device: str) -> float:
    from synthaug.validators import get_validator

    context = {"target": TARGET, "sensitive": SENSITIVE, "device": device}
    return get_validator(name).score(real, synthetic, holdout=holdout, context=context).value


def run_sdmetrics(key: str, real: Any, synthetic: Any, holdout: Any) -> float:
    """The SDMetrics side of a cell: the QualityReport's properties as the report runs them,
    the rest through the metrics' public ``compute``."""
    import numpy as np
    from sdmetrics import single_column, single_table
    from sdmetrics.reports.single_table import _properties as props
    from sdmetrics.reports.utils import (
        DEFAULT_REAL_ASSOCIATION_THRESHOLD,
        DEFAULT_REAL_CORRELATION_THRESHOLD,
    )

    meta = sdm_metadata(real)
    categorical = [c for c, m in meta["columns"].items() if m["sdtype"] == "categorical"]
    numeric = [c for c in real.columns if c not in categorical]
    if key == "sdm.column_shapes":
        return float(props.ColumnShapes().get_score(real, synthetic, meta))
    if key == "sdm.pair_trends":
        prop = props.ColumnPairTrends()
        # what QualityReport sets before it scores the property
        prop.real_correlation_threshold = DEFAULT_REAL_CORRELATION_THRESHOLD
        prop.real_association_threshold = DEFAULT_REAL_ASSOCIATION_THRESHOLD
        return float(prop.get_score(real, synthetic, meta))
    if key == "sdm.logistic_detection":
        return float(single_table.LogisticDetection.compute(real, synthetic, meta))
    if key == "sdm.category_coverage":
        return float(np.mean([single_column.CategoryCoverage.compute(real[c], synthetic[c])
                              for c in categorical]))
    if key == "sdm.data_validity":
        return float(props.DataValidity().get_score(real, synthetic, meta))
    if key == "sdm.dcr_overfitting":
        return float(single_table.DCROverfittingProtection.compute(
            real, synthetic, holdout, meta, None))
    if key == "sdm.dcr_baseline":
        return float(single_table.DCRBaselineProtection.compute(real, synthetic, meta, None))
    if key == "sdm.new_row_synthesis":
        return float(single_table.NewRowSynthesis.compute(real, synthetic, meta))
    if key in ("sdm.disclosure_protection", "sdm.disclosure_estimate"):
        known = [c for c in real.columns if c not in SENSITIVE]
        kw: dict[str, Any] = {"known_column_names": known,
                              "sensitive_column_names": list(SENSITIVE),
                              "continuous_column_names": [c for c in known if c in numeric]}
        if key == "sdm.disclosure_protection":
            return float(single_table.DisclosureProtection.compute(real, synthetic, **kw))
        return float(single_table.DisclosureProtectionEstimate.compute(
            real, synthetic, verbose=False, **kw))
    if key == "sdm.equalized_odds":
        return float(single_table.EqualizedOddsImprovement.compute(
            real, synthetic, holdout, meta, None, TARGET, POSITIVE, "sex", "Female"))
    raise ValueError(f"unknown SDMetrics cell {key!r}")


def _vm(field: str) -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def cell_main(key: str, n: int, seed: int, threads: int, device: str) -> None:
    """Child process: build the data, say READY, score once, print one RESULT line."""
    import warnings

    import torch
    from _common import reset_peak_rss

    warnings.simplefilter("ignore")
    torch.set_num_threads(threads)
    real, synthetic, holdout = make_tables(n, seed)
    # import the side's code before the clock starts: import time is not the metric's
    if key.startswith("sdm."):
        import sdmetrics.reports.single_table
        import sdmetrics.single_table  # noqa: F401
    else:
        from synthaug.validators import get_validator

        get_validator(key)  # loads every built-in validator module (the registry's first use)
    cuda = device.startswith("cuda") and torch.cuda.is_available()
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    rss_data = _vm("VmRSS")
    peak_reset = reset_peak_rss()
    print("READY", flush=True)
    out: dict[str, Any] = {"rss_data_mib": rss_data, "peak_reset": peak_reset}
    start = time.perf_counter()
    try:
        if key.startswith("sdm."):
            value = run_sdmetrics(key, real, synthetic, holdout)
        else:
            value = run_synthaug(key, real, synthetic, holdout, device)
        if cuda:
            torch.cuda.synchronize()
        out.update(status="ok", value=value)
    except Exception as exc:  # reported in the table, the run goes on
        out.update(status="error", error=f"{type(exc).__name__}: {str(exc)[:300]}")
    out["seconds"] = time.perf_counter() - start
    out["peak_rss_mib"] = _vm("VmHWM")
    if cuda:
        out["cuda_peak_mib"] = torch.cuda.max_memory_allocated() / 2**20
    print("RESULT " + json.dumps(out), flush=True)


# -- the parent: one subprocess per cell --------------------------------------------------------
def run_cell(key: str, n: int, args: argparse.Namespace) -> dict[str, Any]:
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env[var] = str(args.threads)
    cmd = [sys.executable, os.path.abspath(__file__), "--cell", key, "--n", str(n),
           "--seed", str(args.seed), "--threads", str(args.threads), "--device", args.device]
    # stderr to a file: a chatty child must not block on a full pipe and look like a timeout
    with tempfile.TemporaryFile("w+") as errors:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=errors, text=True, env=env)
        try:
            return _wait_for(proc, errors, args.limit)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def _wait_for(proc: subprocess.Popen[str], errors: Any, limit: float) -> dict[str, Any]:
    stdout = proc.stdout
    if stdout is None:
        raise RuntimeError("the cell's stdout is not a pipe")
    sel = selectors.DefaultSelector()
    sel.register(stdout, selectors.EVENT_READ)
    # building 3 x 1M rows takes a while and is not the metric's time: the limit starts at READY
    deadline = time.monotonic() + max(limit, 600)
    result: dict[str, Any] | None = None
    started = False
    while result is None:
        left = deadline - time.monotonic()
        if left <= 0 or not sel.select(timeout=left):
            proc.kill()
            proc.wait()
            return {"status": "timeout" if started else "setup_timeout", "seconds": limit}
        line = stdout.readline()
        if not line:  # the child died (out of memory, a crash)
            proc.wait()
            errors.seek(0)
            err = errors.read().strip().splitlines()
            return {"status": "error", "error": f"exit {proc.returncode}: "
                    + (err[-1][:300] if err else "no output")}
        if line.startswith("READY"):
            started = True
            deadline = time.monotonic() + limit
        elif line.startswith("RESULT "):
            result = json.loads(line[len("RESULT "):])
    proc.wait()
    return result


def plan(args: argparse.Namespace) -> tuple[list[str], list[str]]:
    from synthaug import registry
    from synthaug.validators import list_validators

    wanted = [w.strip() for w in args.validators.split(",") if w.strip()]

    def keep(name: str) -> bool:
        return not wanted or any(w in name for w in wanted)

    ours = [v for v in list_validators()
            if "tabular" in getattr(registry.validators.get(v), "modalities", {"tabular"})]
    ours = [v for v in ours if keep(v)]
    theirs: list[str] = []
    for v in ours:
        theirs += [k for k in EQUIVALENTS.get(v, []) if k not in theirs]
    theirs += [k for k in SDMETRICS if k not in theirs and keep(k) and wanted]
    return ours, theirs


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000",
                        help="comma-separated row counts (default 10000,100000,1000000)")
    parser.add_argument("--limit", type=float, default=300.0,
                        help="seconds a cell may score for (default 300)")
    parser.add_argument("--validators", default="",
                        help="comma-separated substrings of names to run (default: all)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="markdown file to write")
    parser.add_argument("--json", type=Path, default=None, help="also write every measurement")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                        help="threads per cell (OMP and torch; default: all cores)")
    parser.add_argument("--device", default="auto", help="synthaug's device (auto, cpu, cuda)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cell", help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.device == "auto":
        import torch

        args.device = "cuda" if torch.cuda.is_available() else "cpu"
    if args.cell:
        cell_main(args.cell, args.n, args.seed, args.threads, args.device)
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    ours, theirs = plan(args)
    facts = environment(args)
    results: dict[str, dict[int, dict[str, Any]]] = {k: {} for k in ours + theirs}
    for n in sizes:
        for key in ours + theirs:
            smaller = [m for m in results[key] if results[key][m]["status"] == "timeout"]
            if smaller:
                results[key][n] = {"status": "skipped", "after": min(smaller)}
                continue
            cell = run_cell(key, n, args)
            results[key][n] = cell
            shown = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in cell.items()}
            print(f"{key:32s} {n:>9,d} {shown}", flush=True)
    facts["loadavg_after"] = os.getloadavg()[0]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render(results, ours, theirs, sizes, args, facts))
    print(f"wrote {args.out}")
    if args.json:
        args.json.write_text(json.dumps({"environment": facts, "sizes": sizes, "results": {
            k: {str(n): v for n, v in cells.items()} for k, cells in results.items()}}, indent=1))


# -- the report ---------------------------------------------------------------------------------
def environment(args: argparse.Namespace) -> dict[str, Any]:
    import torch

    def version(pkg: str) -> str:
        try:
            return importlib_metadata.version(pkg)
        except importlib_metadata.PackageNotFoundError:
            return "not installed"

    cpu = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next((ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")),
                       cpu)
    except OSError:
        pass
    gpu = torch.cuda.get_device_name(0) if args.device.startswith("cuda") else None
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": "python " + " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]]),
        "cpu": cpu, "cores": os.cpu_count(), "threads": args.threads, "device": args.device,
        "gpu": gpu, "python": platform.python_version(),
        "versions": {p: version(p) for p in ("synthaug", "sdmetrics", "numpy", "pandas",
                                              "scikit-learn", "torch")},
        "loadavg_before": os.getloadavg()[0],
    }


def _cell_text(cell: dict[str, Any] | None, limit: float) -> str:
    if cell is None:
        return ""
    status = cell["status"]
    if status == "timeout":
        return f"> {limit:g} s"
    if status == "skipped":
        return f"> {limit:g} s (at {cell['after']:,})"
    if status != "ok":
        return "error"
    grew = cell["peak_rss_mib"] - cell["rss_data_mib"]
    text = f"{_secs(cell['seconds'])} / {cell['peak_rss_mib']:,.0f} (+{max(grew, 0):,.0f})"
    if not cell.get("peak_reset", True):
        text += "*"
    if "cuda_peak_mib" in cell:
        text += f" (GPU {cell['cuda_peak_mib']:,.0f})"
    return text


def _secs(s: float) -> str:
    return f"{s:.2f} s" if s < 10 else f"{s:.0f} s"


def _value(cells: dict[int, dict[str, Any]]) -> str:
    ok = [c for _, c in sorted(cells.items()) if c.get("status") == "ok"]
    return f"{ok[0]['value']:.3f}" if ok else "—"


def render(results: dict[str, dict[int, dict[str, Any]]], ours: list[str], theirs: list[str],
           sizes: list[int], args: argparse.Namespace, facts: dict[str, Any]) -> str:
    size_heads = [f"{n:,} rows" for n in sizes]
    head = ("| synthaug | " + " | ".join(size_heads) + " | value | SDMetrics equivalent | "
            + " | ".join(size_heads) + " | value |")
    lines = [head, "|" + "---|" * (2 * len(sizes) + 4)]

    def side(key: str | None) -> list[str]:
        if key is None:
            return ["" for _ in sizes] + [""]
        cells = results[key]
        return [_cell_text(cells.get(n), args.limit) for n in sizes] + [_value(cells)]

    used: set[str] = set()
    for name in ours:
        matches: list[str | None] = [k for k in EQUIVALENTS.get(name, []) if k in results]
        for i, key in enumerate(matches or [None]):
            left = [f"`{name}`" if i == 0 else "″", *side(name if i == 0 else None)]
            label = SDMETRICS[key] if key else "— (none)"
            if key:
                used.add(key)
            lines.append("| " + " | ".join([*left, label, *side(key)]) + " |")
    for key in theirs:
        if key not in used:
            lines.append("| " + " | ".join(["—", *side(None), SDMETRICS[key], *side(key)]) + " |")

    errors = [f"- `{key}` at {n:,} rows: {cell.get('error', '?')}"
              for key, cells in results.items() for n, cell in sorted(cells.items())
              if cell["status"] in ("error", "setup_timeout")]
    data_rss = {n: [c["rss_data_mib"] for cells in results.values()
                    for m, c in cells.items() if m == n and "rss_data_mib" in c] for n in sizes}
    versions = ", ".join(f"{k} {v}" for k, v in facts["versions"].items())
    device = (f"GPU {facts['gpu']} for synthaug (SDMetrics runs on the CPU)" if facts["gpu"]
              else "CPU only")
    contended = max(facts["loadavg_before"], facts["loadavg_after"]) > (facts["cores"] or 1)
    baseline = ", ".join(f"{min(v):,.0f}-{max(v):,.0f} MiB at {n:,} rows"
                         for n, v in data_rss.items() if v)
    return f"""# Validators: time and peak memory vs SDMetrics

Command: `{facts['command']}`.<br>
Date: {facts['date']}; {facts['cpu']}, {facts['cores']} cores, {facts['threads']} thread(s) per
cell; {device}; Python {facts['python']}; {versions}.<br>
Load average {facts['loadavg_before']:.2f} before, {facts['loadavg_after']:.2f} after{
' (**contended**: absolute times pessimistic)' if contended else ''}.

Each cell: scoring wall time / peak RSS in MiB of the cell's own process while it scored
(+ how far that is above the process's RSS just before scoring, which holds the libraries and
the three tables: {baseline or 'n/a'}). The high-water mark is reset after the data is built
(a star marks a cell where the kernel did not allow that). One fresh process per cell, scored
once, limit {args.limit:g} s; "> {args.limit:g} s (at n)" = not tried because it ran past the
limit at n rows. "value" = the headline value at the smallest size that ran, on each side's own
scale (for example LogisticDetection reports 1 - (2 max(AUC, 0.5) - 1), 1 = indistinguishable,
where fidelity.detection reports the AUC, 0.5 = indistinguishable; NewRowSynthesis is the
share of new rows, privacy.exact_copies the share of copies): a sanity check that both sides
ran, since the synthetic table is a noisy resample of Adult and near-perfect by construction.
synthaug runs every registered tabular validator with its defaults and context
target="income", sensitive=("sex", "race"), a holdout of n rows; SDMetrics' properties run as
its QualityReport runs them (pair trends on a 50,000-row subsample of larger tables), its other
metrics with their defaults (DisclosureProtection: every other column known, numeric ones
binned; secrets sex and race).

{chr(10).join(lines)}
{chr(10) + 'Errors:' + chr(10) + chr(10).join(errors) + chr(10) if errors else ''}
Data: Adult (48,842 rows) drawn with replacement to n rows for each of real, synthetic and
holdout (the real table also holds one row of every category level), numeric columns plus
Gaussian noise of 1 % of their standard deviation.
"""


if __name__ == "__main__":
    main()
