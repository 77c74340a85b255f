"""Cross-check synthaug's singling-out and attribute-inference risks against anonymeter 1.1.0.

synthaug implements anonymeter's definitions itself (``privacy.singling_out``,
``privacy.attribute_inference``) because anonymeter 1.1.0 pins numpy below 2.  This script runs
both on the same data with matched parameters and writes a side-by-side table to
``benchmarks/results/anonymeter_check.md``.  It needs an environment of its own:

    python3.11 -m venv /work/anon-venv
    /work/anon-venv/bin/pip install torch==2.13.0            # the CPU wheel
    /work/anon-venv/bin/pip install anonymeter==1.1.0        # brings numpy<1.27, pandas, polars
    /work/anon-venv/bin/pip install --no-deps -e .           # synthaug itself, from the checkout
    /work/anon-venv/bin/pip install scipy scikit-learn imbalanced-learn pyarrow pydantic \
        safetensors tqdm matplotlib
    /work/anon-venv/bin/python benchmarks/anonymeter_check.py [--rows 10000] [--attacks 500]

Data: UCI Adult (the copy packaged with synthaug), shuffled with ``--seed`` and cut into three
disjoint parts of ``--rows`` rows: train, holdout (anonymeter's control) and a third real part.
Equal sizes keep anonymeter's control-size correction out of the comparison.  Synthetic sets:

* ``copula``: synthaug's ``tabular.copula`` fitted on train, ``--rows`` rows sampled;
* ``leaky``: half copula rows, half rows copied from train (a generator that memorises);
* ``unseen real``: the third real part, a perfect generator that never saw train (risk 0).

Missing categories are written "?" (as in UCI's files) for both tools: anonymeter's label
encoder cannot sort a mix of text and missing values.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import time
import warnings
from importlib.metadata import version
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.dirname(__file__))

import numpy as np
import pandas as pd
from _common import command_line, machine

from synthaug import get_generator
from synthaug.data import load_adult
from synthaug.validators.privacy import AttributeInference, SinglingOut

OUT = Path(__file__).with_name("results") / "anonymeter_check.md"
SECRETS = {"income": False, "age": True}  # name -> numeric (anonymeter's regression=True)


def _datasets(rows: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, pd.DataFrame]]:
    adult = load_adult()
    for col in adult.columns:
        if not pd.api.types.is_numeric_dtype(adult[col]):
            adult[col] = adult[col].fillna("?").astype(str)
    adult = adult.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    if 3 * rows > len(adult):
        raise SystemExit(f"--rows {rows} is too many: Adult has {len(adult)} rows for 3 parts.")
    train = adult.iloc[:rows].reset_index(drop=True)
    holdout = adult.iloc[rows:2 * rows].reset_index(drop=True)
    unseen = adult.iloc[2 * rows:3 * rows].reset_index(drop=True)
    generator = get_generator("tabular.copula", random_state=seed).fit(train)
    copula = generator.sample(rows, random_state=seed)
    copula = copula.astype(train.dtypes.to_dict())
    rng = np.random.default_rng(seed)
    half = rows // 2
    leaky = pd.concat(
        [copula.iloc[:rows - half], train.iloc[rng.choice(rows, half, replace=False)]],
        ignore_index=True,
    )
    return train, holdout, {"copula": copula, "leaky": leaky, "unseen real": unseen}


def _anonymeter(attack: str, train: pd.DataFrame, holdout: pd.DataFrame, syn: pd.DataFrame,
                n_attacks: int, seed: int) -> dict[str, Any]:
    from anonymeter.evaluators import InferenceEvaluator, SinglingOutEvaluator

    if attack.startswith("singling out"):
        mode = attack.split()[-1]
        so = SinglingOutEvaluator(ori=train, syn=syn, control=holdout, n_attacks=n_attacks,
                                  n_cols=3, seed=seed)
        so.evaluate(mode=mode)
        res, risk = so.results(), so.risk()
        n_queries = len(so.queries())  # the ones that succeeded on train
    else:
        secret = attack.split()[-1]
        np.random.seed(seed)  # anonymeter samples targets with pandas' global-RNG default
        inf = InferenceEvaluator(ori=train, syn=syn, control=holdout, n_attacks=n_attacks,
                                 aux_cols=[c for c in train.columns if c != secret],
                                 secret=secret, regression=SECRETS[secret])
        inf.evaluate(n_jobs=2)
        res, risk = inf.results(), inf.risk()
        n_queries = n_attacks
    return {"risk": risk.value, "ci": tuple(risk.ci), "main": res.attack_rate.value,
            "control": res.control_rate.value if res.control_rate else float("nan"),
            "n": n_queries}


def _synthaug(attack: str, train: pd.DataFrame, holdout: pd.DataFrame, syn: pd.DataFrame,
              n_attacks: int, seed: int) -> dict[str, Any]:
    if attack.startswith("singling out"):
        mode = attack.split()[-1]
        score = SinglingOut(mode=mode, n_attacks=n_attacks, n_cols=3,  # type: ignore[arg-type]
                            max_attempts=None, random_state=seed).score(train, syn,
                                                                        holdout=holdout)
        d = score.details
        return {"risk": score.value, "ci": score.interval or (0.0, 1.0),
                "main": d.get("main_rate", float("nan")),
                "control": d.get("control_rate", float("nan")), "n": d["n_queries"]}
    secret = attack.split()[-1]
    score = AttributeInference(secrets=[secret], n_attacks=n_attacks, numeric_tolerance=0.05,
                               device="cpu", random_state=seed).score(train, syn, holdout=holdout)
    d = score.details["secrets"][secret]
    return {"risk": score.value, "ci": score.interval, "main": d["main_rate"],
            "control": d["control_rate"], "n": d["n_main"]}


def _mean_sd(values: list[float]) -> str:
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.fmean(values):.3f} ± {sd:.3f}"


def _fmt(r: dict[str, Any]) -> str:
    return f"{r['risk']:.3f} [{r['ci'][0]:.3f}, {r['ci'][1]:.3f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--attacks", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0, help="first seed")
    parser.add_argument("--seeds", type=int, default=3, help="how many seeds (splits, "
                        "generators and attacks all change with the seed)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    logging.getLogger("anonymeter").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")
    facts = machine()
    import anonymeter  # noqa: F401  (fail early when the environment lacks it)

    attacks = ["singling out univariate", "singling out multivariate",
               *[f"inference {s}" for s in SECRETS]]
    lines: list[str] = []
    seconds = {"anonymeter": 0.0, "synthaug": 0.0}
    agree = 0
    risks: dict[tuple[str, str], dict[str, list[float]]] = {}
    for seed in range(args.seed, args.seed + args.seeds):
        train, holdout, synthetic = _datasets(args.rows, seed)
        for data_name, syn in synthetic.items():
            for attack in attacks:
                t0 = time.perf_counter()
                a = _anonymeter(attack, train, holdout, syn, args.attacks, seed)
                t1 = time.perf_counter()
                s = _synthaug(attack, train, holdout, syn, args.attacks, seed)
                t2 = time.perf_counter()
                seconds["anonymeter"] += t1 - t0
                seconds["synthaug"] += t2 - t1
                overlap = a["ci"][0] <= s["ci"][1] and s["ci"][0] <= a["ci"][1]
                agree += overlap
                cell = risks.setdefault((data_name, attack), {"anonymeter": [], "synthaug": [],
                                                              "agree": []})
                cell["anonymeter"].append(a["risk"])
                cell["synthaug"].append(s["risk"])
                cell["agree"].append(float(overlap))
                lines.append(
                    f"| {seed} | {data_name} | {attack} | {_fmt(a)} | {_fmt(s)} | "
                    f"{a['main']:.3f} / {a['control']:.3f} | "
                    f"{s['main']:.3f} / {s['control']:.3f} | "
                    f"{a['n']} / {s['n']} | {'yes' if overlap else 'no'} |"
                )
                print(lines[-1], f"({t1 - t0:.1f} s / {t2 - t1:.1f} s)", flush=True)
    summary = [
        f"| {data_name} | {attack} | {_mean_sd(c['anonymeter'])} | {_mean_sd(c['synthaug'])} | "
        f"{int(sum(c['agree']))} of {len(c['agree'])} |"
        for (data_name, attack), c in risks.items()
    ]

    header = [
        "# synthaug vs anonymeter 1.1.0: singling-out and attribute-inference risk",
        "",
        f"Command: `{command_line()}` in a separate venv (anonymeter 1.1.0 pins numpy<2).",
        f"Date: {facts['date']}. Machine: {facts['cpu_cores']} CPU cores (shared with other "
        f"jobs; load average {facts['loadavg']:.1f} at start), GPU: {facts['gpu']}, "
        f"{args.threads} threads.",
        f"Versions: Python {facts['python']}, anonymeter {version('anonymeter')}, numpy "
        f"{facts['numpy']}, pandas {facts['pandas']}, polars {version('polars')}, torch "
        f"{facts['torch']}.",
        "",
        f"Data: UCI Adult shuffled with seeds {args.seed}..{args.seed + args.seeds - 1} (one "
        "split, generator and attack draw per seed); train, holdout (control) and a third "
        f"real part of {args.rows} rows each; {args.attacks} attacks per side; 3 columns per "
        "multivariate predicate; numeric secret (age) right within 5% (anonymeter's "
        "`regression=True`); the attacker knows every other column. Synthetic sets: `copula` "
        "(synthaug tabular.copula fitted on train), `leaky` (half copula rows, half copies of "
        "train rows), `unseen real` (real rows the generator never saw: the ideal, risk 0).",
        "",
        "Risk = (main - control) / (1 - control) on Wilson rates, clipped to [0, 1]; the "
        "interval is the propagated 95% error (both tools). Rates are main (train) / control "
        "(holdout). `n` is anonymeter's successful predicates on train (singling out) or "
        "attacks, and synthaug's predicates found or attacks. Agree = intervals overlap.",
        "",
        "Summary: risk, mean ± sd over seeds, and in how many seeds the intervals overlap.",
        "",
        "| synthetic | attack | anonymeter | synthaug | agree |",
        "|---|---|---|---|---|",
        *summary,
        "",
        "Every run:",
        "",
        "| seed | synthetic | attack | anonymeter risk [CI] | synthaug risk [CI] | anonymeter "
        "rates | synthaug rates | n (anon / synthaug) | agree |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    footer = [
        "",
        f"{agree} of {len(lines)} comparisons agree within the intervals. Wall time: anonymeter "
        f"{seconds['anonymeter']:.0f} s, synthaug {seconds['synthaug']:.0f} s in all.",
        "",
        "Known differences (by design, see the validators' docstrings):",
        "",
        "- Inference: anonymeter's nearest neighbour uses an L1 Gower distance (numbers scaled "
        "by their full range, categories 0/1; two missing values count as distance 1); synthaug "
        "uses its mixed Euclidean distance (robust range, one-hot categories). They can pick "
        "different synthetic rows when several are about as near.",
        "- Singling out: synthaug divides the rates by the predicates it found; anonymeter by "
        "`n_attacks` (its singling-out `n` above counts only the predicates that succeeded on "
        "train, so it is lower). They coincide when all requested predicates were found. The "
        "multivariate predicates and the random draws differ, so values differ within noise.",
        "- Both deduplicate the tables before singling out and clip risk and interval to [0, 1]; "
        "an interval of [0, 0] means the attack did worse on train than on the control rows.",
        "- A numeric secret is guessed right when |guess - secret| <= 0.05 |guess| in synthaug; "
        "anonymeter divides by the signed guess, which would accept every negative guess (no "
        "difference on Adult's ages, all positive).",
        "- Equal table sizes here, so anonymeter's control-size correction is not exercised. "
        "synthaug does not extrapolate the control count at all: it subsamples the larger of "
        "the deduplicated training and holdout tables to the smaller one's size (here they "
        "differ by a row or two), because the fitted correction put a second real sample at "
        "risk 0.17 when the holdout was half the training size.",
    ]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(header + lines + footer) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
