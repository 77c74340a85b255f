"""The gain report: per-arm means with intervals, paired gains over real-only, verdicts.

:class:`GainReport` is built from the per-(arm, seed) results a recipe run wrote, and renders as
JSON (``results.json``), Markdown (``report.md``) and a PNG plot (``gain.png``: the headline
metric against the synthetic ratio, one line per arm, with intervals).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synthaug.exceptions import InvalidParameterError
from synthaug.recipes.selection import Choice, Test, choose, headline_tests
from synthaug.recipes.stats import Interval, Verdict, mean_interval, paired_difference, verdict
from synthaug.utils.files import atomic_file
from synthaug.utils.serialization import to_jsonable

__all__ = ["ArmSummary", "GainReport"]

#: results.json layout version
REPORT_FORMAT = 1

_METRIC_LABELS = {"accuracy": "accuracy", "macro_f1": "macro-F1", "roc_auc": "ROC AUC"}
_KIND_LABELS = {
    "real": "real only",
    "class_weights": "real only, class weights",
    "threshold": "real only, tuned threshold",
    "augmented": "real + synthetic",
    "synthetic_only": "synthetic only (TSTR)",
    "smote": "real + SMOTE",
    "albumentations": "real + albumentations",
    "eda": "real + EDA edits",
    "combined": "real + classic + synthetic",
}
#: kinds whose extra records are the classic augmentation only (drawn without the generator)
_CLASSIC_KINDS = ("smote", "albumentations", "eda")
#: how an augmented arm's label says it used its synthetic records
_USE_LABELS = {"filter": "filtered", "weight": "weighted", "curriculum": "curriculum"}
#: kinds that are neither the classic augmentation nor drawn from the generator
_OWN_KINDS = ("real", "class_weights", "threshold", "augmented", "synthetic_only", "combined")


@dataclass(frozen=True)
class ArmSummary:
    """One arm over all seeds.

    Attributes
    ----------
    name : str
        The arm's key (``real``, ``synthetic-x1``, ``synthetic-only``, ``smote-x0.5``).
    kind : str
        ``"real"``, ``"augmented"``, ``"synthetic_only"`` or ``"smote"``.
    ratio : float or None
        Synthetic rows per real training row (``None`` for real-only).
    metrics : dict of str to Interval
        Mean and interval of every metric over the seeds.
    difference : dict of str to Interval
        Paired difference to real-only per metric (empty for real-only itself).
    verdicts : dict of str to str
        ``"gain"``, ``"harm"`` or ``"no detectable gain"`` per metric, from the paired
        interval alone (the headline metric's verdict corrected for the number of arms is in
        :attr:`GainReport.tests`).
    use : str or None
        How an augmented arm used its synthetic records (``append``, ``filter``, ...).

    Examples
    --------
    >>> from synthaug.recipes.report import ArmSummary
    >>> ArmSummary("synthetic-x2", "augmented", 2.0, {}).label
    'real + synthetic (2x)'
    """

    name: str
    kind: str
    ratio: float | None
    metrics: dict[str, Interval]
    difference: dict[str, Interval] = field(default_factory=dict)
    verdicts: dict[str, Verdict] = field(default_factory=dict)
    use: str | None = None

    @property
    def label(self) -> str:
        """A human label such as ``real + synthetic (2x)``."""
        base = _KIND_LABELS.get(self.kind, self.kind)
        if self.kind == "augmented" and self.use in _USE_LABELS:
            base += f", {_USE_LABELS[self.use]}"
        if self.kind == "combined":  # "albumentations+synthetic-x1": the baseline is named
            base = f"real + {self.name.split('+', 1)[0]} + synthetic"
        if self.kind not in ("real", "synthetic_only") and self.ratio is not None:
            return f"{base} ({self.ratio:g}x)"
        return base

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "ratio": self.ratio,
            "metrics": {k: v.to_dict() for k, v in self.metrics.items()},
            "difference": {k: v.to_dict() for k, v in self.difference.items()},
            "verdicts": dict(self.verdicts),
            "use": self.use,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ArmSummary:
        return cls(
            name=data["name"],
            kind=data["kind"],
            ratio=data.get("ratio"),
            metrics={k: Interval.from_dict(v) for k, v in data["metrics"].items()},
            difference={k: Interval.from_dict(v) for k, v in data.get("difference", {}).items()},
            verdicts=dict(data.get("verdicts", {})),
            use=data.get("use"),
        )


@dataclass(frozen=True)
class GainReport:
    """What a recipe measured: does synthetic data make the model better, by how much, how sure.

    Attributes
    ----------
    recipe : str
        The recipe's name.
    metric : str
        The headline metric (plot and headline verdicts).
    confidence : float
        Confidence level of every interval.
    seeds : list of int
        The seeds every arm was trained with.
    arms : list of ArmSummary
        Real-only first, then the other arms in the recipe's order.
    runs : list of dict
        The raw per-(arm, seed) results.
    info : dict
        Data, splits, device, generator, model, timings, versions.
    choices : list of Choice
        The baseline, the synthetic configuration and each use's ratio picked on validation
        (:mod:`synthaug.recipes.selection`).
    tests : list of Test
        The headline metric's comparisons, Holm-adjusted as one family: every arm against
        real-only, then the picked synthetic configuration against the picked baseline.
    reference : GainReport or None
        The same report for the reference model trained beside the downstream one.

    Examples
    --------
    >>> from synthaug.recipes.report import GainReport
    >>> runs = [{"arm": a, "kind": k, "ratio": r, "seed": s, "metrics": {"accuracy": v}}
    ...         for a, k, r, vals in [("real", "real", None, [0.80, 0.81, 0.79]),
    ...                               ("synthetic-x1", "augmented", 1.0, [0.83, 0.84, 0.82])]
    ...         for s, v in enumerate(vals)]
    >>> report = GainReport.from_runs("demo", runs, metric="accuracy", seeds=[0, 1, 2])
    >>> report.arm("synthetic-x1").verdicts["accuracy"]
    'gain'
    """

    recipe: str
    metric: str
    confidence: float
    seeds: list[int]
    arms: list[ArmSummary]
    runs: list[dict[str, Any]] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)
    choices: list[Choice] = field(default_factory=list)
    tests: list[Test] = field(default_factory=list)
    reference: GainReport | None = None

    # -- construction --------------------------------------------------------------------------
    @classmethod
    def from_runs(
        cls,
        recipe: str,
        runs: Sequence[Mapping[str, Any]],
        *,
        metric: str,
        seeds: Sequence[int],
        confidence: float = 0.95,
        info: Mapping[str, Any] | None = None,
    ) -> GainReport:
        """Summarise per-(arm, seed) results (dicts with ``arm``, ``kind``, ``ratio``,
        ``seed`` and ``metrics``) into a report; real-only (``kind == "real"``) is the
        baseline of every paired difference."""
        order: list[str] = []
        meta: dict[str, tuple[str, float | None, str | None]] = {}
        by_arm: dict[str, dict[int, Mapping[str, Any]]] = {}
        on_validation: dict[str, dict[int, Mapping[str, Any]]] = {}
        for run in runs:
            name = str(run["arm"])
            if name not in by_arm:
                order.append(name)
                by_arm[name] = {}
                on_validation[name] = {}
                meta[name] = (str(run["kind"]), run.get("ratio"), run.get("use"))
            by_arm[name][int(run["seed"])] = run["metrics"]
            if run.get("validation_metrics") is not None:
                on_validation[name][int(run["seed"])] = run["validation_metrics"]
        baseline = next((n for n in order if meta[n][0] == "real"), None)
        if baseline is None:
            raise InvalidParameterError("the runs hold no real-only arm to compare against.")
        order.remove(baseline)
        order.insert(0, baseline)
        seed_list = [int(s) for s in seeds]
        keys = sorted({k for arm in by_arm.values() for m in arm.values() for k in m},
                      key=_metric_order)
        arms = []
        for name in order:
            values = {k: [_value(by_arm[name].get(s, {}), k) for s in seed_list] for k in keys}
            metrics = {k: mean_interval(v, confidence) for k, v in values.items()}
            difference: dict[str, Interval] = {}
            verdicts: dict[str, Verdict] = {}
            if name != baseline:
                for k in keys:
                    base = [_value(by_arm[baseline].get(s, {}), k) for s in seed_list]
                    difference[k] = paired_difference(values[k], base, confidence)
                    verdicts[k] = verdict(difference[k])
            kind, ratio, use = meta[name]
            arms.append(ArmSummary(name, kind, ratio, metrics, difference, verdicts, use))
        # choose on validation, compare on test, correct for the family (module selection)
        classic = sorted({k for k, _, _ in meta.values() if k not in _OWN_KINDS})
        choices = choose([(n, *meta[n][::2]) for n in order],
                         {n: [_value(on_validation[n].get(s, {}), metric) for s in seed_list]
                          for n in order if on_validation[n]}, classic)
        picked = {c.role: c.arm for c in choices}
        pairs = [(n, baseline) for n in order[1:]]
        if "synthetic" in picked and "baseline" in picked:
            pairs.append((picked["synthetic"], picked["baseline"]))
        tests = headline_tests(
            pairs, {n: [_value(by_arm[n].get(s, {}), metric) for s in seed_list] for n in order},
            confidence) if metric in keys else []
        reference = None
        # arms without a reference model (a curriculum cannot be one for it) are left out
        with_reference = [r for r in runs if r.get("reference")]
        if any(r["arm"] == baseline for r in with_reference):
            reference = cls.from_runs(
                recipe, [{**r, "metrics": r["reference"]["metrics"],
                          "validation_metrics": r["reference"].get("validation_metrics"),
                          "reference": None} for r in with_reference],
                metric=metric, seeds=seeds, confidence=confidence,
                info={"model": (info or {}).get("reference_model")})
        return cls(recipe, metric, confidence, seed_list, arms,
                   [dict(r) for r in runs], dict(info or {}), choices, tests, reference)

    def arm(self, name: str) -> ArmSummary:
        """The summary of the arm called ``name``."""
        for arm in self.arms:
            if arm.name == name:
                return arm
        raise KeyError(f"no arm {name!r}; arms: {[a.name for a in self.arms]}")

    @property
    def headline(self) -> dict[str, Verdict]:
        """The verdict of every arm on the headline metric."""
        return {a.name: a.verdicts[self.metric] for a in self.arms if self.metric in a.verdicts}

    # -- JSON ----------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict (NaN as ``None``)."""
        return {
            "format": REPORT_FORMAT,
            "recipe": self.recipe,
            "metric": self.metric,
            "confidence": self.confidence,
            "seeds": list(self.seeds),
            "arms": [a.to_dict() for a in self.arms],
            "runs": to_jsonable(self.runs),
            "info": to_jsonable(self.info),
            "choices": [c.to_dict() for c in self.choices],
            "tests": [t.to_dict() for t in self.tests],
            # its runs are the parent's (their "reference" entries): not written twice
            "reference": None if self.reference is None
            else {**self.reference.to_dict(), "runs": []},
        }

    def to_json(self, **kw: Any) -> str:
        """The report as JSON text (``kw`` goes to :func:`json.dumps`)."""
        kw.setdefault("indent", 2)
        return json.dumps(self.to_dict(), allow_nan=False, **kw)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GainReport:
        """Rebuild a report from :meth:`to_dict` (for example a ``results.json``)."""
        return cls(
            recipe=data["recipe"],
            metric=data["metric"],
            confidence=float(data["confidence"]),
            seeds=[int(s) for s in data["seeds"]],
            arms=[ArmSummary.from_dict(a) for a in data["arms"]],
            runs=list(data.get("runs", [])),
            info=dict(data.get("info", {})),
            choices=[Choice.from_dict(c) for c in data.get("choices", [])],
            tests=[Test.from_dict(t) for t in data.get("tests", [])],
            reference=None if not data.get("reference") else cls.from_dict(data["reference"]),
        )

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> GainReport:
        """Read a ``results.json`` (or the run folder holding one)."""
        file = Path(path)
        if file.is_dir():
            file = file / "results.json"
        return cls.from_dict(json.loads(file.read_text()))

    # -- text ----------------------------------------------------------------------------------
    def summary_rows(self) -> list[dict[str, str]]:
        """One row per arm: headline metric and gain with their intervals, the Holm-adjusted
        p value and the verdict corrected for the number of comparisons."""
        tests = {t.treated: t for t in self.tests if t.control == self.arms[0].name}
        rows = []
        for arm in self.arms:
            iv = arm.metrics.get(self.metric)
            diff = arm.difference.get(self.metric)
            test = tests.get(arm.name)
            rows.append({
                "arm": arm.label,
                self.metric: _fmt_interval(iv),
                "gain vs real": _fmt_interval(diff, signed=True) if diff else "(baseline)",
                "Holm p": "" if test is None else _fmt_p(test.adjusted_p),
                "verdict": (test.verdict if test is not None
                            else arm.verdicts.get(self.metric, "")),
            })
        return rows

    def pick_lines(self) -> list[str]:
        """What was picked on validation and how the picks compare on test, in plain lines."""
        labels = {a.name: a.label for a in self.arms}
        picked = {c.role: c for c in self.choices}
        if "synthetic" not in picked or "baseline" not in picked:
            return []
        syn, base = picked["synthetic"], picked["baseline"]
        lines = [f"picked on validation: baseline {labels[base.arm]} ({base.validation:.4f}), "
                 f"synthetic {labels[syn.arm]} ({syn.validation:.4f})"]
        test = next((t for t in self.tests if t.treated == syn.arm and t.control == base.arm),
                    None)
        if test is not None:
            m = len(self.tests)
            lines.append(
                f"picked synthetic vs picked baseline on test: "
                f"{_fmt_interval(test.difference, signed=True)}, Bonferroni "
                f"{1 - (1 - self.confidence) / m:.2%} interval "
                f"{_fmt_interval(test.corrected, signed=True).split(' ', 1)[-1]}, "
                f"Holm p {_fmt_p(test.adjusted_p)} over {m} comparisons: {test.verdict}")
        return lines

    def __str__(self) -> str:
        rows = self.summary_rows()
        headers = list(rows[0]) if rows else []
        widths = [max(len(h), *(len(r[h]) for r in rows)) for h in headers]
        pct = f"{self.confidence:.0%}"
        tuned = "; every arm's decision tuned on validation" if self.info.get(
            "tune_decision") else ""
        lines = [f"gain report: {self.recipe} ({len(self.seeds)} seeds, mean [{pct} interval]; "
                 f"verdicts Holm-corrected for the number of arms{tuned})"]
        lines.append("  " + "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
        for r in rows:
            lines.append("  " + "  ".join(r[h].ljust(w)
                                          for h, w in zip(headers, widths, strict=True)))
        lines += ["  " + line for line in self.pick_lines()]
        if self.reference is not None:
            lines.append(f"reference model ({self.info.get('reference_model')}), same records:")
            lines += ["  " + line for line in self.reference.pick_lines()]
        return "\n".join(lines)

    def to_markdown(self, plot: str | None = None) -> str:
        """The report as Markdown (what ``report.md`` holds); ``plot`` is an image to link."""
        info = self.info
        plot = plot if plot is not None else info.get("plot")
        pct = f"{self.confidence:.0%}"
        label = _METRIC_LABELS.get(self.metric, self.metric)
        out = [f"# Gain report: {self.recipe}", ""]
        if info.get("description"):
            out += [str(info["description"]).strip(), ""]
        out += _setup_lines(info, self.seeds)
        out += ["", f"## Headline: {label}", "",
                f"Mean over {len(self.seeds)} seeds with its {pct} t interval; the gain is the "
                f"paired difference to real-only (same seeds) with its {pct} paired t interval. "
                f"The verdict is corrected for the {len(self.tests)} comparisons of the "
                "headline metric (Holm's step-down adjustment of the paired t tests' p values; "
                "the family is every arm against real-only and the picked synthetic "
                "configuration against the picked baseline).",
                "",
                f"| arm | {label} | gain vs real | Holm p | verdict |", "|---|---|---|---|---|"]
        for row in self.summary_rows():
            out.append(f"| {row['arm']} | {row[self.metric]} | {row['gain vs real']} | "
                       f"{row['Holm p']} | {row['verdict']} |")
        out += self._pick_markdown(label)
        overall = [k for k in self._metric_keys() if "@" not in k]
        if overall:
            out += ["", "## All metrics", "",
                    "| arm | " + " | ".join(_METRIC_LABELS.get(k, k) for k in overall) + " |",
                    "|---|" + "---|" * len(overall)]
            for arm in self.arms:
                cells = [_fmt_interval(arm.metrics.get(k)) for k in overall]
                out.append(f"| {arm.label} | " + " | ".join(cells) + " |")
            out += ["", "## Paired gain over real-only, per metric", "",
                    "| arm | " + " | ".join(_METRIC_LABELS.get(k, k) for k in overall) + " |",
                    "|---|" + "---|" * len(overall)]
            for arm in self.arms[1:]:
                cells = [f"{_fmt_interval(arm.difference.get(k), signed=True)} "
                         f"({arm.verdicts.get(k, '')})" for k in overall]
                out.append(f"| {arm.label} | " + " | ".join(cells) + " |")
        grouped = [k for k in self._metric_keys() if k.startswith(f"{self.metric}@")]
        if grouped:
            out += ["", f"## Per group: {label}", "",
                    f"{label} on each group's own test rows, gains paired over seeds "
                    "(every metric per group is in results.json).", "",
                    "| arm | group | mean | gain vs real | verdict |",
                    "|---|---|---|---|---|"]
            for key in grouped:
                group = key.split("@", 1)[1]
                for arm in self.arms:
                    diff = arm.difference.get(key)
                    out.append(
                        f"| {arm.label} | {group} | {_fmt_interval(arm.metrics.get(key))} | "
                        f"{_fmt_interval(diff, signed=True) if diff else '(baseline)'} | "
                        f"{arm.verdicts.get(key, '')} |")
        if self.reference is not None:
            ref = self.reference
            out += ["", f"## Reference model: `{info.get('reference_model')}`", "",
                    "Trained on every arm's records with the same record weights, at its "
                    "default settings (curriculum arms have none: it cannot pretrain).", "",
                    f"| arm | {label} | gain vs real | Holm p | verdict |",
                    "|---|---|---|---|---|"]
            for row in ref.summary_rows():
                out.append(f"| {row['arm']} | {row[self.metric]} | {row['gain vs real']} | "
                           f"{row['Holm p']} | {row['verdict']} |")
            out += ref._pick_markdown(label)
        out += ["", "## How to read this", "",
                "- **gain**: the whole interval of the paired difference is above 0; **harm**: "
                "below 0; **no detectable gain**: it contains 0 (which is not proof of no "
                "effect: more seeds narrow the interval).",
                "- The split (and the scenario's subsample) is fixed by the recipe's split seed; "
                "each seed retrains the generator and the model. The intervals cover that "
                "randomness, not the choice of split: rerun with other `split.seed` values to "
                "see how far the conclusion carries.",
                "- Every arm gets the same model, seeds and step budget, with early stopping on "
                "the same real validation rows; the test rows are real and never seen by the "
                "generator or in training.", ""]
        if plot:
            out += [f"![{label} against the synthetic ratio]({plot})", ""]
        return "\n".join(out)

    def _pick_markdown(self, label: str) -> list[str]:
        if not self.choices:
            return []
        labels = {a.name: a.label for a in self.arms}
        out = ["", f"Picked by mean validation {label} (the validation records come from the "
               "training data; the test records are not looked at):", "",
               f"| role | arm | validation {label} | test {label} |", "|---|---|---|---|"]
        for c in self.choices:
            role = c.role.replace("use:", "best ratio, use ")
            test = self.arm(c.arm).metrics.get(self.metric)
            out.append(f"| {role} | {labels[c.arm]} | {c.validation:.4f} | "
                       f"{_fmt_interval(test)} |")
        return out + [""] + [f"- {line}" for line in self.pick_lines()]

    def _metric_keys(self) -> list[str]:
        keys: list[str] = []
        for arm in self.arms:
            for k in arm.metrics:
                if k not in keys:
                    keys.append(k)
        return keys

    # -- plot ----------------------------------------------------------------------------------
    def plot(self, path: str | os.PathLike[str]) -> Path:
        """Draw ``gain.png`` (see :func:`synthaug.recipes.report_plot.plot`)."""
        from synthaug.recipes.report_plot import plot

        return plot(self, path)

    def panels(self) -> tuple[list[tuple[str, str]], str]:
        """The plot's panels and a note (see :func:`synthaug.recipes.report_plot.panels`)."""
        from synthaug.recipes.report_plot import panels

        return panels(self)

    # -- files ---------------------------------------------------------------------------------
    def save(self, folder: str | os.PathLike[str]) -> dict[str, Path]:
        """Write ``results.json``, ``report.md`` and ``gain.png`` into ``folder`` (atomically)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        plot = self.plot(folder / "gain.png")
        paths = {"plot": plot, "json": folder / "results.json", "markdown": folder / "report.md"}
        with atomic_file(paths["json"]) as tmp:
            tmp.write_text(self.to_json())
        with atomic_file(paths["markdown"]) as tmp:
            tmp.write_text(self.to_markdown(plot=plot.name))
        return paths


def _value(metrics: Mapping[str, Any], key: str) -> float:
    value = metrics.get(key)
    return math.nan if value is None else float(value)


def _metric_order(key: str) -> tuple[int, str]:
    base = key.split("@", 1)[0]
    rank = list(_METRIC_LABELS).index(base) if base in _METRIC_LABELS else len(_METRIC_LABELS)
    return (1 if "@" in key else 0, f"{key.split('@', 1)[1] if '@' in key else ''}{rank}")


def _fmt_p(p: float) -> str:
    return "n/a" if math.isnan(p) else f"{p:.3f}" if p >= 0.001 else "<0.001"


def _fmt_interval(iv: Interval | None, *, signed: bool = False) -> str:
    if iv is None or math.isnan(iv.mean):
        return "n/a"
    sign = "+" if signed else ""

    def num(x: float) -> str:
        # rounded first, and + 0.0, so a difference of -1e-17 prints as 0.0000, not -0.0000
        return f"{round(x, 4) + 0.0:{sign}.4f}"

    if math.isnan(iv.low):
        return num(iv.mean)
    return f"{num(iv.mean)} [{num(iv.low)}, {num(iv.high)}]"


def _setup_lines(info: Mapping[str, Any], seeds: Sequence[int]) -> list[str]:
    lines = []
    data = info.get("data", {})
    if data:
        lines.append(f"- data: `{data.get('source')}`, {data.get('rows')} rows, target "
                     f"`{data.get('target')}` (sha256 `{str(data.get('sha256', ''))[:16]}...`)")
    splits = info.get("splits", {})
    if splits:
        lines.append(f"- split (seed {splits.get('seed')}): train {splits.get('train_full')} "
                     f"rows, {splits.get('train')} kept by the scenario "
                     f"({info.get('scenario', 'none')}); validation {splits.get('validation')}; "
                     f"test {splits.get('test')}")
    if info.get("generator"):
        lines.append(f"- generator: `{info['generator']}`; downstream model: "
                     f"`{info.get('model')}`; budget: {info.get('budget')}")
    if info.get("tune_decision"):
        lines.append("- decisions: every arm's threshold (per-class offsets) tuned on the "
                     "validation records for the headline metric, real-only's included")
    lines.append(f"- seeds: {list(seeds)}; device: {info.get('device')}")
    if info.get("wall_seconds") is not None:
        lines.append(f"- wall time of the last invocation: {info['wall_seconds']:.1f} s "
                     f"({info.get('trained')} runs trained, {info.get('reused')} reused)")
    check = info.get("validation")
    if check:
        verdict = "PASSED" if check.get("gate") else "FAILED"
        failed = f" (failed: {', '.join(check['failed'])})" if check.get("failed") else ""
        lines.append(f"- synthetic rows of the first seed's generator, suite "
                     f"`{check.get('suite')}`: gate {verdict}{failed}; see "
                     f"[validation.html](validation.html)")
    return lines
