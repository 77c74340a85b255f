"""Text generators on Rotten Tomatoes: training time and tokens/s, sampling texts/s, and the
text validators on what they draw.

    python benchmarks/text.py text.transformer text.vae --per-class 200 --sample 400 \\
        --params text.transformer='{"epochs": 5}' [--device cpu] [--threads 2] [--json out.json]

Data (fixed seeds): ``per-class`` training snippets of each label (the recipe's 200 by
default), and as many held-out snippets again as the holdout of the privacy checks.  For each
generator named (any registered text generator; parameters per generator with ``--params
NAME=JSON``, a reduced budget on a CPU):

* **training**: wall time of ``fit``, and training tokens per second over it: the tokens the
  generator says it trained on (``tokens_seen_``, in its tokenizer's units) where it keeps
  that count, else the words of the training texts (:func:`synthaug.data.text.words.words`)
  times its ``epochs``;
* **sampling**: ``sample`` texts drawn label by label (exact counts), texts per second, after
  one warm-up call;
* **validators**: the ``text-default`` and ``text-privacy`` suites on the drawn texts against
  the training texts with the holdout, each check's value and verdict.  The MiniLM features of
  the real texts are embedded once for every generator.

Time figures hold for the named device and load only: the script prints the load average
before and after, and BENCHMARKS.md asks that contended runs be discarded.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _common import machine, pin_threads  # noqa: E402


def load(per_class: int, seed: int = 0) -> tuple[Any, Any]:
    """``per_class`` training snippets per label and as many held-out ones (disjoint)."""
    from synthaug.data.sources import read_source
    from synthaug.data.text import Texts

    data = read_source("rotten-tomatoes")[1]
    rng = np.random.default_rng(seed)
    train, hold = [], []
    for label in sorted(set(data.labels)):
        rows = rng.permutation(np.flatnonzero(data.labels == label))
        train.append(rows[:per_class])
        hold.append(rows[per_class:2 * per_class])
    t, h = np.sort(np.concatenate(train)), np.sort(np.concatenate(hold))
    return Texts(data.texts[t], data.labels[t]), Texts(data.texts[h], data.labels[h])


def bench(name: str, params: dict[str, Any], train: Any, holdout: Any, n_sample: int,
          device: str, store: Any) -> dict[str, Any]:
    from synthaug.data.text import Texts
    from synthaug.data.text.words import words
    from synthaug.generators import get_generator
    from synthaug.validators.suite import Suite

    if "device" in get_generator(name).get_params():
        params = {"device": device, **params}
    gen = get_generator(name, **params)
    start = time.perf_counter()
    gen.fit(train.texts.tolist(), train.labels.tolist())
    fit_s = time.perf_counter() - start
    epochs = gen.get_params().get("epochs") or 1
    # the generator's own count of training tokens where it keeps one (its tokenizer's units),
    # else the words of the training texts times the epochs
    seen = getattr(gen, "tokens_seen_", None)
    n_tokens = int(seen) if seen else epochs * sum(len(words(str(t))) for t in train.texts)
    labels = sorted(set(train.labels))
    per = {k: int(np.sum(train.labels == k)) * n_sample // len(train) for k in labels}
    gen.sample(8, conditions={"label": labels[0]}, random_state=1)  # warm-up
    start = time.perf_counter()
    parts = [gen.sample(n, conditions={"label": k}, random_state=2 + i)
             for i, (k, n) in enumerate(per.items())]
    sample_s = time.perf_counter() - start
    texts = [t for part in parts for t in (part[0] if isinstance(part, tuple) else part)]
    drawn = Texts(np.asarray(texts, dtype=object),
                  np.asarray([k for k, n in per.items() for _ in range(n)], dtype=object))
    out: dict[str, Any] = {
        "generator": name, "params": params, "fit_s": round(fit_s, 2),
        "train_tokens": n_tokens, "tokens_counted": "generator" if seen else "words x epochs",
        "train_tokens_per_s": round(n_tokens / fit_s, 1), "epochs": epochs,
        "sampled": len(drawn), "sample_s": round(sample_s, 2),
        "texts_per_s": round(len(drawn) / sample_s, 1),
        "examples": {k: [str(t) for t in drawn.texts[drawn.labels == k][:3]] for k in labels},
    }
    for suite_name in ("text-default", "text-privacy"):
        report = Suite.from_file(suite_name).run(train, drawn, holdout=holdout,
                                                 context={"text_features": store},
                                                 figures=False)
        out[suite_name] = {"gate": report.gate, "checks": {
            c.id: {"value": c.value, "status": c.status} for c in report.checks}}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("generators", nargs="+", help="registered text generator names")
    parser.add_argument("--per-class", type=int, default=200)
    parser.add_argument("--sample", type=int, default=400, help="texts drawn per generator")
    parser.add_argument("--params", action="append", default=[], metavar="NAME=JSON",
                        help="parameters of one generator, e.g. text.transformer='{\"epochs\": 2}'")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    params: dict[str, dict[str, Any]] = {}
    for item in args.params:
        key, _, value = item.partition("=")
        params[key] = json.loads(value)
    pin_threads(args.threads)
    from synthaug.data.text.embedding import MiniLM, minilm_store

    facts = machine()
    train, holdout = load(args.per_class)
    store = minilm_store(MiniLM(device=args.device))
    store.of(np.concatenate([train.texts, holdout.texts]))  # once for every generator
    results = []
    for name in args.generators:
        result = bench(name, params.get(name, {}), train, holdout, args.sample, args.device,
                       store)
        results.append(result)
        print(json.dumps(result, indent=1), flush=True)
    facts["loadavg_after"] = machine()["loadavg"]
    print(json.dumps(facts))
    if args.json:
        args.json.write_text(json.dumps({"machine": facts, "results": results}, indent=1))


if __name__ == "__main__":
    main()
