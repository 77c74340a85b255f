"""Tabular generators on UCI Adult, side by side with SDV, in one process on one device.

For every model and seed (models alternate within each seed): training wall time, sampling
throughput, peak memory, quality (SDMetrics QualityReport when sdmetrics is importable, and
synthaug's own validators), detection ROC AUC (HistGradientBoosting, 3-fold), TSTR (train on
synthetic, test on the real holdout) beside TRTR, and the share of synthetic rows closer to
train than to holdout.  Writes the "tabular" section of benchmarks/RESULTS.md.

    python benchmarks/tabular.py --epochs 30 --seeds 3 --threads 2
    python benchmarks/tabular.py --models tabular.copula,sdv.gaussian_copula --seeds 1  # quick

The split is fixed: Adult (48,842 rows) stratified on income, 39,073 train / 9,769 holdout,
seed 42, as in BENCHMARKS.md.  Per-epoch time comes from fitting seed 0 at epochs/2 and epochs
(the difference removes fixed costs).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time
from typing import Any

sys.path.insert(0, os.path.dirname(__file__))

import pandas as pd
from _common import (
    command_line,
    current_peak_rss_mib,
    machine,
    mean_sd,
    pin_threads,
    reset_peak_rss,
    write_section,
)
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score
from sklearn.model_selection import train_test_split

from synthaug import get_generator, list_generators
from synthaug.data import load_adult
from synthaug.validators import get_validator, list_validators

TARGET, POSITIVE = "income", ">50K"
SYNTHAUG = ["tabular.copula", "tabular.vae", "tabular.gan", "tabular.transformer"]
SDV = ["sdv.gaussian_copula", "sdv.ctgan", "sdv.tvae"]
DEEP = {"tabular.vae", "tabular.gan", "tabular.transformer", "sdv.ctgan", "sdv.tvae"}


# -- models ------------------------------------------------------------------------------------
def make_model(name: str, epochs: int, seed: int, device: str, **extra: Any) -> Any:
    """synthaug's generators and SDV's (through synthaug's sdv.* adapters) built the same way."""
    params: dict[str, Any] = {"random_state": seed, "device": device, **extra}
    if name in DEEP:
        params["epochs"] = epochs
    return get_generator(name, **params)


def adult_split() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Adult's fixed 39,073 / 9,769 train / holdout split (stratified on income, seed 42)."""
    data = load_adult()
    train, holdout = train_test_split(data, test_size=0.2, stratify=data[TARGET], random_state=42)
    return train.reset_index(drop=True), holdout.reset_index(drop=True)


# -- metrics -----------------------------------------------------------------------------------
def _hgb_frame(frame: pd.DataFrame, categories: dict[str, list[Any]]) -> pd.DataFrame:
    out = frame.drop(columns=[TARGET]).copy()
    for col, levels in categories.items():
        out[col] = pd.Categorical(out[col].astype(object), categories=levels)
    return out


def tstr(train: pd.DataFrame, holdout: pd.DataFrame, seed: int) -> dict[str, float]:
    """HistGradientBoosting trained on ``train``, scored on the real holdout."""
    cats = {c: sorted(holdout[c].dropna().astype(str).unique().tolist())
            for c in holdout.columns if c != TARGET and not pd.api.types.is_numeric_dtype(holdout[c])}
    model = HistGradientBoostingClassifier(categorical_features="from_dtype", random_state=seed)
    y = (train[TARGET] == POSITIVE).to_numpy()
    if y.all() or not y.any():
        return {"accuracy": float("nan"), "f1": float("nan"), "auc": float("nan")}
    model.fit(_hgb_frame(train, cats), y)
    X_h = _hgb_frame(holdout, cats)
    y_h = (holdout[TARGET] == POSITIVE).to_numpy()
    proba = model.predict_proba(X_h)[:, 1]
    pred = proba >= 0.5
    return {"accuracy": accuracy_score(y_h, pred), "f1": f1_score(y_h, pred),
            "auc": roc_auc_score(y_h, proba)}


def sdmetrics_quality(real: pd.DataFrame, synthetic: pd.DataFrame) -> dict[str, float]:
    try:
        from sdmetrics.reports.single_table import QualityReport
        from sdv.metadata import Metadata
    except ImportError:
        return {}
    plain = lambda f: f.astype({c: "object" for c in f.columns if f[c].dtype == "str"})  # noqa: E731
    meta = Metadata.detect_from_dataframes({"t": plain(real)}, infer_keys=None)
    report = QualityReport()
    report.generate(plain(real), plain(synthetic), meta.to_dict()["tables"]["t"], verbose=False)
    props = report.get_properties().set_index("Property")["Score"]
    return {"quality": float(report.get_score()), "shapes": float(props["Column Shapes"]),
            "pairs": float(props["Column Pair Trends"])}


def own_scores(real: pd.DataFrame, synthetic: pd.DataFrame, holdout: pd.DataFrame,
               seed: int, device: str) -> dict[str, float]:
    have = set(list_validators())
    out: dict[str, float] = {}
    for name, key, kw in [
        ("fidelity.column_shapes", "own_shapes", {}),
        ("fidelity.pair_trends", "own_pairs", {}),
        ("fidelity.detection", "detection_auc", {"random_state": seed}),
    ]:
        if name in have:
            out[key] = get_validator(name, **kw).score(real, synthetic).value
    if "privacy.dcr" in have:
        score = get_validator("privacy.dcr").score(real, synthetic, holdout=holdout,
                                                   context={"device": device})
        out["closer_to_train"] = score.value
    return out


# -- the run -----------------------------------------------------------------------------------
def run_one(name: str, train: pd.DataFrame, holdout: pd.DataFrame, epochs: int, seed: int,
            device: str) -> dict[str, float]:
    reset_peak_rss()
    model = make_model(name, epochs, seed, device)
    start = time.perf_counter()
    model.fit(train)
    fit_s = time.perf_counter() - start
    peak = current_peak_rss_mib()
    start = time.perf_counter()
    model.sample(100_000, random_state=seed)
    rate = 100_000 / (time.perf_counter() - start)
    synthetic = model.sample(len(train), random_state=seed + 1)
    row = {"fit_s": fit_s, "rows_per_s": rate, "peak_rss_mib": peak}
    row |= {f"tstr_{k}": v for k, v in tstr(synthetic, holdout, seed).items()}
    row |= sdmetrics_quality(train, synthetic)
    row |= own_scores(train, synthetic, holdout, seed, device)
    return row


def per_epoch(name: str, train: pd.DataFrame, epochs: int, device: str) -> float | None:
    if name not in DEEP or epochs < 2:
        return None
    times = []
    for e in (epochs // 2, epochs):
        model = make_model(name, e, 0, device)
        start = time.perf_counter()
        model.fit(train)
        times.append(time.perf_counter() - start)
    return (times[1] - times[0]) / (epochs - epochs // 2)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", default=",".join(SYNTHAUG + SDV))
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--no-per-epoch", action="store_true")
    parser.add_argument("--section", default="tabular",
                        help="RESULTS.md section to write (keeps other runs' tables)")
    args = parser.parse_args()
    pin_threads(args.threads)
    from synthaug.utils.device import resolve_device

    device = str(resolve_device(args.device))
    available = set(list_generators())
    sdv_ok = importlib.util.find_spec("sdv") is not None
    models = [m for m in args.models.split(",")
              if m in available and (sdv_ok or not m.startswith("sdv."))]
    skipped = sorted(set(args.models.split(",")) - set(models))
    before = machine()
    train, holdout = adult_split()
    trtr = tstr(train, holdout, 0)
    print(f"train {len(train)}, holdout {len(holdout)}; TRTR {trtr}", flush=True)

    results: dict[str, list[dict[str, float]]] = {m: [] for m in models}
    for seed in range(args.seeds):
        for name in models:
            row = run_one(name, train, holdout, args.epochs, seed, device)
            results[name].append(row)
            print(name, seed, {k: round(v, 4) for k, v in row.items()}, flush=True)
    epoch_s = {} if args.no_per_epoch else {m: per_epoch(m, train, args.epochs, device)
                                             for m in models}
    after = machine()
    write_section(args.section, render(results, epoch_s, trtr, args, before, after, device, skipped))


def render(results: dict[str, list[dict[str, float]]], epoch_s: dict[str, float | None],
           trtr: dict[str, float], args: argparse.Namespace, before: dict[str, Any],
           after: dict[str, Any], device: str, skipped: list[str]) -> str:
    cols: list[tuple[str, str, str]] = [
        ("fit_s", "fit s", "{:.1f}"), ("rows_per_s", "sample rows/s", "{:,.0f}"),
        ("peak_rss_mib", "peak RSS MiB", "{:,.0f}"), ("quality", "SDMetrics quality", "{:.3f}"),
        ("shapes", "shapes", "{:.3f}"), ("pairs", "pairs", "{:.3f}"),
        ("detection_auc", "detection AUC", "{:.3f}"),
        ("tstr_accuracy", "TSTR acc", "{:.3f}"), ("tstr_f1", "TSTR F1", "{:.3f}"),
        ("tstr_auc", "TSTR AUC", "{:.3f}"), ("closer_to_train", "closer to train", "{:.3f}"),
    ]
    head = "| model | epochs | s/epoch | " + " | ".join(c[1] for c in cols) + " |"
    lines = [head, "|" + "---|" * (len(cols) + 3)]
    for name, rows in results.items():
        ep = epoch_s.get(name)
        cells = [mean_sd([r.get(k, float("nan")) for r in rows], f) for k, _, f in cols]
        epochs = str(args.epochs) if name in DEEP else "—"
        lines.append(f"| {name} | {epochs} | {'—' if ep is None else f'{ep:.2f}'} | "
                     + " | ".join(cells) + " |")
    contended = max(before["loadavg"], after["loadavg"]) > (before["cpu_cores"] or 1)
    per_epoch_note = ("not measured (--no-per-epoch)" if args.no_per_epoch else
                      f"from seed 0 fitted at {args.epochs // 2} and {args.epochs} epochs")
    return f"""## Tabular generators on Adult vs SDV: {args.epochs} epochs, {device} (issue 3)

Command: `{command_line()}`; {before['date']}; device {device} (GPU: {before['gpu']}),
{before['cpu_cores']} CPU cores, {before['torch_threads']} torch threads; Python
{before['python']}, torch {before['torch']}, numpy {before['numpy']}, pandas {before['pandas']}.
Load average {before['loadavg']:.2f} before, {after['loadavg']:.2f} after{
' (**contended**: absolute times pessimistic, ratios still compare)' if contended else ''}.
Split: 39,073 train / 9,769 holdout, stratified, seed 42. Mean ± sd over {args.seeds} seed(s);
models alternate within each seed. TRTR (HistGradientBoosting on real train): accuracy
{trtr['accuracy']:.3f}, F1 {trtr['f1']:.3f}, AUC {trtr['auc']:.3f}.
{'Not run (not installed or not registered): ' + ', '.join(skipped) + '.' if skipped else ''}

{chr(10).join(lines)}

Columns: fit = total training wall time; s/epoch {per_epoch_note}; sampling rate over 100,000 rows; peak RSS during fit (process high-water
mark, reset before each fit); quality/shapes/pairs = SDMetrics QualityReport; detection = ROC AUC
of HistGradientBoosting telling real from synthetic (0.5 ideal); TSTR = HistGradientBoosting
trained on 39,073 synthetic rows, tested on the real holdout; closer to train = share of
synthetic rows nearer a train row than a holdout row (equal-size reference sets; 0.5 ideal).
"""


if __name__ == "__main__":
    main()
