"""The text validators' values on Rotten Tomatoes: the calibration of text-default and
text-privacy.

    python benchmarks/text_validators.py --size 1000 --seeds 0 1 2 [--write]

Data (per seed): "real" is ``size`` snippets drawn at random, "other" another ``size``
(disjoint: two samples of one distribution), "holdout" a third ``size``; "copy" is "real"
itself (a generator that memorised its training texts), "edited" is "real" with one word of
each text replaced by a random word of the corpus (near copies), "shuffled" is "other" with its
labels permuted (fluent texts given the wrong labels about half the time), and "bag" draws
each text's words from its label's word counts (right words, no sentences).  Every validator
of the two text suites scores each against "real" with the holdout; MiniLM features are
embedded once per distinct text (one store for the whole run).  With ``--write`` a section
goes to ``benchmarks/RESULTS.md``.
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

CHECKS: dict[str, dict[str, Any]] = {
    "fidelity.frechet_minilm": {},
    "fidelity.frechet_minilm/by_label": {"by_label": True},
    "fidelity.frechet_minilm/relative": {"relative": True},
    "fidelity.frechet_minilm/by_label_relative": {"by_label": True, "relative": True},
    "fidelity.mauve_minilm": {},
    "fidelity.label_consistency_minilm": {},
    "fidelity.label_consistency_minilm/relative": {"relative": True},
    "fidelity.distinct_ngrams/1": {"n": 1},
    "fidelity.distinct_ngrams/2": {"n": 2},
    "fidelity.self_bleu": {},
    "fidelity.length_distance": {},
    "privacy.exact_copies": {},
    "privacy.ngram_copies": {},
    "privacy.near_copies_minilm": {},
    "privacy.dcr": {},
    "privacy.memorisation": {},
    "privacy.nndr": {},
    "fidelity.detection": {},
    "fidelity.alpha_precision": {},
}


def make_sets(size: int, seed: int) -> dict[str, Any]:
    from synthaug.data.sources import read_source
    from synthaug.data.text import Texts

    data = read_source("rotten-tomatoes")[1]
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(data))
    parts = [np.sort(order[i * size:(i + 1) * size]) for i in range(3)]
    real, other, holdout = (Texts(data.texts[p], data.labels[p]) for p in parts)
    vocab = [w for t in data.texts[order[3 * size:3 * size + 2000]] for w in str(t).split()]
    edited = []
    for text in real.texts:
        tokens = str(text).split()
        tokens[int(rng.integers(len(tokens)))] = str(rng.choice(vocab))
        edited.append(" ".join(tokens))
    shuffled = Texts(other.texts, rng.permutation(other.labels))
    bag = []
    for label in real.labels:
        pool = [w for t in real.texts[real.labels == label] for w in str(t).split()]
        n = len(str(real.texts[int(rng.integers(len(real)))]).split())
        bag.append(" ".join(rng.choice(pool, size=max(1, n))))
    return {"real": real, "holdout": holdout, "other": other, "copy": real,
            "edited": Texts(np.array(edited, dtype=object), real.labels),
            "shuffled": shuffled, "bag": Texts(np.array(bag, dtype=object), real.labels)}


def run(size: int, seeds: list[int], cache: Path | None = None,
        only: list[str] | None = None) -> dict[str, Any]:
    from synthaug.data.text.embedding import minilm_store
    from synthaug.exceptions import NotComputableError
    from synthaug.validators import get_validator

    store = minilm_store()
    out: dict[str, Any] = {}
    checks = {k: v for k, v in CHECKS.items() if not only or k in only}
    for seed in seeds:
        sets = make_sets(size, seed)
        t0 = time.perf_counter()
        texts = np.concatenate([sets[k].texts for k in ("real", "holdout", "other", "edited",
                                                        "bag")])
        saved = cache / f"minilm-{size}-{seed}.npy" if cache else None
        if saved is not None and saved.is_file():
            store.preload(texts, np.load(saved))
        rows = store.of(texts)
        if saved is not None and not saved.is_file():
            saved.parent.mkdir(parents=True, exist_ok=True)
            np.save(saved, rows)
        embed_s = time.perf_counter() - t0
        print(f"seed {seed}: {store.n_embedded} texts embedded, {embed_s:.0f} s", flush=True)
        for scenario in ("other", "copy", "edited", "shuffled", "bag"):
            for key, params in checks.items():
                name = key.split("/")[0]
                validator = get_validator(name, **params)
                t0 = time.perf_counter()
                try:
                    score = validator.score(sets["real"], sets[scenario],
                                            holdout=sets["holdout"],
                                            context={"text_features": store})
                    value: float | str = round(score.value, 4)
                    extra = {k: score.details[k] for k in (
                        "floor", "per_label_floor_mean", "absolute", "holdout_accuracy",
                        "holdout_rate", "synthetic_rate", "reference", "synthetic")
                        if k in score.details}
                except NotComputableError as exc:
                    value, extra = "n/c", {"why": str(exc)[:80]}
                out.setdefault(key, {}).setdefault(scenario, []).append(
                    {"seed": seed, "value": value, "s": round(time.perf_counter() - t0, 2),
                     **{k: (round(v, 4) if isinstance(v, float) else v)
                        for k, v in extra.items()}})
                print(f"  {scenario:9s} {key:38s} {value}  {extra}", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=Path, help="write the figures here as JSON")
    parser.add_argument("--cache", type=Path, help="keep the MiniLM features here (.npy)")
    parser.add_argument("--only", nargs="+", help="these checks of CHECKS only")
    args = parser.parse_args()
    pin_threads(args.threads)
    facts = machine()
    results = run(args.size, args.seeds, args.cache, args.only)
    facts["loadavg_after"] = machine()["loadavg"]
    if args.json:
        args.json.write_text(json.dumps({"machine": facts, "results": results}, indent=1))
    print(json.dumps(facts))


if __name__ == "__main__":
    main()
