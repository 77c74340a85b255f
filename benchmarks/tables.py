"""synthaug's tabular generators at their default budgets beside SDV, on tables of other shapes.

Adult is the table everything was tuned on; this benchmark asks what the defaults give on
tables nobody tuned for (issue 14).  Every table loads offline: scikit-learn's bundled
``breast_cancer`` (569 x 31, numbers) and ``wine`` (178 x 14), and two generated ones:
``survey`` (800 rows: a survey year with five values, a score with a few values, a numeric
column 39 % missing, categoricals with missing values, a class) and ``wide`` (20,000 x 40:
correlated and skewed numbers, categoricals, a class).

For each table and model: fit wall time, SDMetrics quality (overall, Column Shapes, Column
Pair Trends; real = the training rows, as many synthetic rows), and on 20,000 sampled rows:
for the few-valued number columns the share of synthetic values the real column never has,
and per column with missing values the gap between the synthetic and the real missing share
(largest gap reported).
synthaug's deep generators run at their default budget (``epochs=None``: data-scaled,
see ``synthaug.generators.tabular.torch_base.budget_epochs``); SDV's CTGAN and TVAE at
``--sdv-epochs``, and, with ``--same-epochs``, synthaug's too at that many epochs.

    flock /tmp/synthaug-heavy.lock python benchmarks/tables.py --threads 2 --sdv-epochs 30

Writes the ``tables-<date>`` section of benchmarks/RESULTS.md (``--section`` to name it).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

sys.path.insert(0, os.path.dirname(__file__))

import numpy as np
import pandas as pd
from _common import command_line, machine, pin_threads, write_section

from synthaug import get_generator
from synthaug.data.schema import TableSchema

SYNTHAUG = ["tabular.copula", "tabular.gan", "tabular.vae", "tabular.transformer"]
SDV = ["sdv.gaussian_copula", "sdv.ctgan", "sdv.tvae"]
DEEP_SYNTHAUG = {"tabular.gan", "tabular.vae", "tabular.transformer"}
DEEP_SDV = {"sdv.ctgan", "sdv.tvae"}
#: rows sampled to measure unseen-value and missing shares
SHARE_ROWS = 20_000


# -- tables ------------------------------------------------------------------------------------
def breast_cancer() -> pd.DataFrame:
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer(as_frame=True)
    frame = data.frame.copy()
    frame["target"] = frame["target"].map({0: "malignant", 1: "benign"})
    return frame


def wine() -> pd.DataFrame:
    from sklearn.datasets import load_wine

    frame = load_wine(as_frame=True).frame.copy()
    frame["target"] = frame["target"].map({0: "a", 1: "b", 2: "c"})
    return frame


def survey(n: int = 800, seed: int = 0) -> pd.DataFrame:
    """A survey-like table: year (5 values), score (1..5 by halves), income 39 % missing."""
    rng = np.random.default_rng(seed)
    year = rng.choice([2004, 2008, 2012, 2016, 2020], n, p=[0.1, 0.15, 0.2, 0.25, 0.3])
    region = rng.choice(["north", "south", "east", "west"], n, p=[0.4, 0.3, 0.2, 0.1])
    age = np.clip(rng.normal(45, 14, n), 18, 90).round()
    income = np.exp(rng.normal(10 + 0.01 * (age - 45) + 0.02 * (year - 2012), 0.5))
    income = np.where(rng.random(n) < 0.39, np.nan, income.round(-2))
    score = np.clip(np.round((rng.normal(3, 1, n) + (region == "north")) * 2) / 2, 1, 5)
    employed = np.where(rng.random(n) < 0.05, None,
                        np.where(rng.random(n) < 0.7, "yes", "no")).astype(object)
    children = rng.poisson(1.2, n).clip(0, 6)
    label = np.where(score + rng.normal(0, 1, n) > 3.5, "satisfied", "not")
    return pd.DataFrame({"year": year, "region": region, "age": age, "income": income,
                         "score": score, "employed": employed, "children": children,
                         "target": label})


def wide(n: int = 20_000, seed: int = 0) -> pd.DataFrame:
    """20,000 x 40: 24 correlated normals, 6 skewed numbers, 9 categoricals and a class."""
    rng = np.random.default_rng(seed)
    factors = rng.normal(size=(n, 4))
    loadings = rng.normal(size=(4, 24))
    numbers = factors @ loadings + rng.normal(size=(n, 24))
    frame = pd.DataFrame(numbers.round(3), columns=[f"x{i}" for i in range(24)])
    for i in range(6):
        frame[f"s{i}"] = np.where(rng.random(n) < 0.3, 0.0,
                                  np.exp(factors[:, i % 4] + rng.normal(size=n)).round(2))
    for i in range(9):
        k = 3 + 2 * i
        logits = factors[:, i % 4, None] * rng.normal(size=k)[None, :]
        p = np.exp(logits - logits.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        codes = (p.cumsum(axis=1) < rng.random((n, 1))).sum(axis=1).clip(0, k - 1)
        frame[f"c{i}"] = np.asarray([f"l{c}" for c in range(k)], dtype=object)[codes]
    frame["target"] = np.where(factors[:, 0] + rng.normal(size=n) > 0, "pos", "neg")
    return frame


TABLES = {"breast_cancer": breast_cancer, "wine": wine, "survey": survey, "wide": wide}


# -- scores ------------------------------------------------------------------------------------
def sdmetrics_quality(real: pd.DataFrame, synthetic: pd.DataFrame) -> dict[str, float]:
    from sdmetrics.reports.single_table import QualityReport
    from sdv.metadata import Metadata

    meta = Metadata.detect_from_dataframes({"t": real}, infer_keys=None)
    report = QualityReport()
    report.generate(real, synthetic, meta.to_dict()["tables"]["t"], verbose=False)
    props = report.get_properties().set_index("Property")["Score"]
    return {"quality": float(report.get_score()), "shapes": float(props["Column Shapes"]),
            "pairs": float(props["Column Pair Trends"])}


def few_valued(real: pd.DataFrame) -> list[str]:
    """Number columns with few distinct values, by the schema's own rule."""
    schema = TableSchema.detect(real)
    return [c.name for c in schema.columns if c.discrete_values is not None]


def unseen_share(real: pd.DataFrame, synthetic: pd.DataFrame, columns: list[str]
                 ) -> dict[str, float]:
    out = {}
    for name in columns:
        seen = set(real[name].dropna().astype(float))
        values = synthetic[name].dropna().astype(float)
        out[name] = float((~values.isin(seen)).mean()) if len(values) else 0.0
    return out


def missing_gaps(real: pd.DataFrame, synthetic: pd.DataFrame) -> dict[str, float]:
    """Synthetic minus real missing share, per column with missing values, in points."""
    return {c: 100 * float(synthetic[c].isna().mean() - real[c].isna().mean())
            for c in real.columns if real[c].isna().any()}


# -- runs --------------------------------------------------------------------------------------
def make_model(name: str, seed: int, epochs: int | None) -> Any:
    params: dict[str, Any] = {"random_state": seed, "device": "cpu", "progress": False}
    if name in DEEP_SDV or (name in DEEP_SYNTHAUG and epochs is not None):
        params["epochs"] = epochs
    if name.startswith("sdv."):
        params.pop("progress")
    return get_generator(name, **params)


def run_one(name: str, real: pd.DataFrame, seed: int, epochs: int | None) -> dict[str, Any]:
    model = make_model(name, seed, epochs)
    start = time.perf_counter()
    model.fit(real)
    fit_s = time.perf_counter() - start
    # shares are read on many rows (the error of a 39 % share on 800 would be 1.7 points, on
    # 20,000 it is 0.34); quality on as many rows as the real table (the first of them)
    many = model.sample(max(len(real), SHARE_ROWS), random_state=seed + 1)
    synthetic = many.iloc[: len(real)].reset_index(drop=True)
    history = getattr(model, "history_", None)
    row: dict[str, Any] = {"fit_s": fit_s, "epochs": getattr(history, "epochs_run", epochs)}
    row |= sdmetrics_quality(real, synthetic)
    unseen = unseen_share(real, many, few_valued(real))
    row["unseen"] = max(unseen.values()) if unseen else None
    row["unseen_cols"] = unseen
    gaps = missing_gaps(real, many)
    row["missing_gap"] = max(gaps.values(), key=abs) if gaps else None
    row["missing_cols"] = gaps
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tables", default=",".join(TABLES))
    parser.add_argument("--models", default=",".join(SYNTHAUG + SDV))
    parser.add_argument("--sdv-epochs", type=int, default=30)
    parser.add_argument("--same-epochs", action="store_true",
                        help="also fit synthaug's deep generators at --sdv-epochs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--skip", default="",
                        help="table:model pairs not to run, comma-separated (time budget)")
    parser.add_argument("--section", default=None)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    pin_threads(args.threads)
    before = machine()
    results: dict[str, dict[str, dict[str, Any]]] = {}
    for table in args.tables.split(","):
        real = TABLES[table]()
        results[table] = {}
        skip = {tuple(pair.split(":", 1)) for pair in args.skip.split(",") if pair}
        runs = [(m, None) for m in args.models.split(",") if (table, m) not in skip]
        if args.same_epochs:
            runs += [(m, args.sdv_epochs) for m, _ in list(runs) if m in DEEP_SYNTHAUG]
        for name, epochs in runs:
            label = name if epochs is None else f"{name} @{epochs}"
            row = run_one(name, real, args.seed, epochs if epochs is not None else
                          (args.sdv_epochs if name in DEEP_SDV else None))
            results[table][label] = row
            print(f"{table:14s} {label:28s} fit {row['fit_s']:7.1f} s  epochs {row['epochs']}  "
                  f"quality {row['quality']:.3f}  unseen {row['unseen']}  "
                  f"missing gap {row['missing_gap']}", flush=True)
    after = machine()
    body = render(results, before, after, args)
    print(body)
    if not args.no_write:
        write_section(args.section or f"tables-{before['date'][:10]}", body)


def _fmt(value: Any, fmt: str) -> str:
    return "—" if value is None else fmt.format(value)


def render(results: dict[str, dict[str, dict[str, Any]]], before: dict[str, Any],
           after: dict[str, Any], args: argparse.Namespace) -> str:
    lines = [
        f"## Tabular generators on tables of other shapes, default budgets vs SDV "
        f"(issue 14, {before['date'][:10]})",
        "",
        f"Command: `{command_line()}`. Device: CPU, {before['cpu_cores']} cores, "
        f"{args.threads} torch threads, no GPU; {before['date']}; torch {before['torch']}, "
        f"pandas {before['pandas']}. Load average {before['loadavg']:.2f} before, "
        f"{after['loadavg']:.2f} after. Not run (time budget): {args.skip or 'none'}. "
        f"One seed ({args.seed}); SDV's CTGAN and TVAE at "
        f"{args.sdv_epochs} epochs, synthaug's deep generators at their default (data-scaled) "
        "budget. Quality: SDMetrics QualityReport on the training rows and as many synthetic "
        "rows; *unseen* and *missing gap* on 20,000 sampled rows (a 39 % share's sampling error "
        "there: 0.34 points). *unseen*: the largest share, over the few-valued number columns "
        "(the schema's rule), of synthetic values the real column never has. *missing gap*: "
        "the largest gap (synthetic minus real, points) over the columns with missing values.",
        "",
    ]
    for table, rows in results.items():
        lines += [f"**{table}**", "",
                  "| model | epochs | fit s | quality | shapes | pairs | unseen | missing gap |",
                  "|---|---|---|---|---|---|---|---|"]
        for label, r in rows.items():
            lines.append(
                f"| {label} | {_fmt(r['epochs'], '{}')} | {r['fit_s']:.1f} | {r['quality']:.3f} "
                f"| {r['shapes']:.3f} | {r['pairs']:.3f} | {_fmt(r['unseen'], '{:.1%}')} | "
                f"{_fmt(r['missing_gap'], '{:+.1f}')} |")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
