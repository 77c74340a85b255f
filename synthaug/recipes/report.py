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
from synthaug.recipes.stats import Interval, Verdict, mean_interval, paired_difference, verdict
from synthaug.utils.files import atomic_file
from synthaug.utils.serialization import to_jsonable

__all__ = ["ArmSummary", "GainReport"]

#: results.json layout version
REPORT_FORMAT = 1

_METRIC_LABELS = {"accuracy": "accuracy", "macro_f1": "macro-F1", "roc_auc": "ROC AUC"}
#: most sensitive groups drawn in gain.png, one panel each (the rest are named in a note)
MAX_GROUP_PANELS = 4
_KIND_LABELS = {
    "real": "real only",
    "augmented": "real + synthetic",
    "synthetic_only": "synthetic only (TSTR)",
    "smote": "real + SMOTE",
    "albumentations": "real + albumentations",
    "eda": "real + EDA edits",
    "combined": "real + classic + synthetic",
}
#: kinds whose extra records are the classic augmentation only (drawn without the generator)
_CLASSIC_KINDS = ("smote", "albumentations", "eda")


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
        ``"gain"``, ``"harm"`` or ``"no detectable gain"`` per metric.

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

    @property
    def label(self) -> str:
        """A human label such as ``real + synthetic (2x)``."""
        base = _KIND_LABELS.get(self.kind, self.kind)
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
        meta: dict[str, tuple[str, float | None]] = {}
        by_arm: dict[str, dict[int, Mapping[str, Any]]] = {}
        for run in runs:
            name = str(run["arm"])
            if name not in by_arm:
                order.append(name)
                by_arm[name] = {}
                meta[name] = (str(run["kind"]), run.get("ratio"))
            by_arm[name][int(run["seed"])] = run["metrics"]
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
            kind, ratio = meta[name]
            arms.append(ArmSummary(name, kind, ratio, metrics, difference, verdicts))
        return cls(recipe, metric, confidence, seed_list, arms,
                   [dict(r) for r in runs], dict(info or {}))

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
        """One row per arm: headline metric with interval, gain with interval, verdict."""
        rows = []
        for arm in self.arms:
            iv = arm.metrics.get(self.metric)
            diff = arm.difference.get(self.metric)
            rows.append({
                "arm": arm.label,
                self.metric: _fmt_interval(iv),
                "gain vs real": _fmt_interval(diff, signed=True) if diff else "(baseline)",
                "verdict": arm.verdicts.get(self.metric, ""),
            })
        return rows

    def __str__(self) -> str:
        rows = self.summary_rows()
        headers = list(rows[0]) if rows else []
        widths = [max(len(h), *(len(r[h]) for r in rows)) for h in headers]
        pct = f"{self.confidence:.0%}"
        lines = [f"gain report: {self.recipe} ({len(self.seeds)} seeds, mean [{pct} interval])"]
        lines.append("  " + "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
        for r in rows:
            lines.append("  " + "  ".join(r[h].ljust(w)
                                          for h, w in zip(headers, widths, strict=True)))
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
                f"paired difference to real-only (same seeds) with its {pct} paired t interval.",
                "",
                f"| arm | {label} | gain vs real | verdict |", "|---|---|---|---|"]
        for row in self.summary_rows():
            out.append(f"| {row['arm']} | {row[self.metric]} | {row['gain vs real']} | "
                       f"{row['verdict']} |")
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

    def _metric_keys(self) -> list[str]:
        keys: list[str] = []
        for arm in self.arms:
            for k in arm.metrics:
                if k not in keys:
                    keys.append(k)
        return keys

    # -- plot ----------------------------------------------------------------------------------
    def plot(self, path: str | os.PathLike[str]) -> Path:
        """Draw the headline metric against the synthetic ratio (one line per arm) to a PNG.

        Real-only is a horizontal band, synthetic-only a single point; with a sensitive column
        one more panel per group (see :meth:`panels`), each title saying why it is there.
        """
        # The object-oriented API with the Agg canvas: no pyplot, so no global backend switch
        # and no figure kept alive in a global registry.
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        panels, note = self.panels()
        fig = Figure(figsize=(6.4 * len(panels), 4.4 + (0.3 if note else 0.0)), dpi=100)
        FigureCanvasAgg(fig)
        ratios = sorted({a.ratio for a in self.arms if a.ratio is not None} or {1.0})
        for i, (key, title) in enumerate(panels):
            ax = fig.add_subplot(1, len(panels), i + 1)
            self._draw_panel(ax, key, ratios)
            ax.set_title(title)
            ax.set_xlabel("synthetic rows per real training row")
            ax.set_ylabel(f"{title} (mean, {self.confidence:.0%} interval)")
            ax.grid(alpha=0.3)
            ax.legend(fontsize="small", loc="best")
        fig.suptitle(f"{self.recipe}: {len(self.seeds)} seeds")
        if note:
            fig.text(0.01, 0.01, note, fontsize="small", ha="left", va="bottom")
        fig.tight_layout(rect=(0.0, 0.05 if note else 0.0, 1.0, 1.0))
        target = Path(path)
        with atomic_file(target) as tmp:
            fig.savefig(tmp, format="png")
        return target

    def panels(self) -> tuple[list[tuple[str, str]], str]:
        """The plot's panels as ``(metric key, title)``, and a note for what is left out.

        The headline metric, then one panel per sensitive group: the focus group first (the
        scenario's group, else the group real-only does worst on), its title saying which, then
        the others, up to :data:`MAX_GROUP_PANELS` groups in all; a note under the plot names
        the groups left out and where they are (``report.md``, ``results.json``).

        Examples
        --------
        >>> from synthaug.recipes.report import GainReport
        >>> runs = [{"arm": "real", "kind": "real", "ratio": None, "seed": s,
        ...          "metrics": {"accuracy": 0.8, "accuracy@F": 0.7, "accuracy@M": 0.9}}
        ...         for s in range(3)]
        >>> report = GainReport.from_runs("demo", runs, metric="accuracy", seeds=[0, 1, 2])
        >>> [title for _, title in report.panels()[0]]
        ['accuracy', 'accuracy on F (real-only does worst here)', 'accuracy on M']
        """
        label = _METRIC_LABELS.get(self.metric, self.metric)
        panels = [(self.metric, label)]
        groups = self._groups()
        if not groups:
            return panels, ""
        focus, why = self._focus_group(groups)
        ordered = [focus, *(g for g in groups if g != focus)]
        shown = ordered[:MAX_GROUP_PANELS]
        for group in shown:
            title = f"{label} on {group}" + (f" ({why})" if group == focus else "")
            panels.append((f"{self.metric}@{group}", title))
        left = ordered[MAX_GROUP_PANELS:]
        note = ""
        if left:
            names = ", ".join(left[:5]) + (" ..." if len(left) > 5 else "")
            note = (f"{len(left)} more group(s) not drawn ({names}); every group's metrics are "
                    "in report.md and results.json.")
        return panels, note

    def _groups(self) -> list[str]:
        return sorted({k.split("@", 1)[1] for a in self.arms for k in a.metrics
                       if k.startswith(f"{self.metric}@")})

    def _focus_group(self, groups: list[str]) -> tuple[str, str]:
        """The group drawn first, and why: the scenario's group, else real-only's worst."""
        focus = self.info.get("focus_group")
        if focus in groups:
            return str(focus), "the scenario's group"
        real = self.arms[0].metrics
        worst = min(groups, key=lambda g: _or_inf(real.get(f"{self.metric}@{g}")))
        return worst, "real-only does worst here"

    def _draw_panel(self, ax: Any, key: str, ratios: list[float]) -> None:
        lo_x, hi_x = min(ratios) * 0.9, max(ratios) * 1.1
        by_kind: dict[str, list[ArmSummary]] = {}
        for arm in self.arms:
            by_kind.setdefault(arm.kind, []).append(arm)
        for arm in by_kind.get("real", []):
            iv = arm.metrics.get(key)
            if iv is None:
                continue
            ax.axhline(iv.mean, color="black", lw=1.5, label=arm.label)
            if not math.isnan(iv.low):
                ax.axhspan(iv.low, iv.high, color="black", alpha=0.12)
        styles = {"augmented": ("tab:blue", "o-"), "smote": ("tab:orange", "s--"),
                  "albumentations": ("tab:orange", "s--"), "eda": ("tab:orange", "s--"),
                  "combined": ("tab:purple", "^-"),
                  "synthetic_only": ("tab:green", "D")}
        for kind, (color, fmt) in styles.items():
            arms = sorted(by_kind.get(kind, []), key=lambda a: a.ratio or 0.0)
            points = [(a.ratio or 1.0, a.metrics[key]) for a in arms if key in a.metrics]
            if not points:
                continue
            xs = [p[0] for p in points]
            ys = [p[1].mean for p in points]
            err = [[max(p[1].mean - p[1].low, 0.0) if not math.isnan(p[1].low) else 0.0
                    for p in points],
                   [max(p[1].high - p[1].mean, 0.0) if not math.isnan(p[1].high) else 0.0
                    for p in points]]
            label = _KIND_LABELS[kind]
            if kind not in _CLASSIC_KINDS and self.info.get("generator"):
                label += f" ({self.info['generator']})"
            ax.errorbar(xs, ys, yerr=err, fmt=fmt, color=color, capsize=4, label=label)
        ax.set_xlim(lo_x, hi_x)
        ax.set_xticks(ratios)
        ax.set_xticklabels([f"{r:g}x" for r in ratios])

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


def _or_inf(iv: Interval | None) -> float:
    return math.inf if iv is None or math.isnan(iv.mean) else iv.mean


def _metric_order(key: str) -> tuple[int, str]:
    base = key.split("@", 1)[0]
    rank = list(_METRIC_LABELS).index(base) if base in _METRIC_LABELS else len(_METRIC_LABELS)
    return (1 if "@" in key else 0, f"{key.split('@', 1)[1] if '@' in key else ''}{rank}")


def _fmt_interval(iv: Interval | None, *, signed: bool = False) -> str:
    if iv is None or math.isnan(iv.mean):
        return "n/a"
    sign = "+" if signed else ""
    if math.isnan(iv.low):
        return f"{iv.mean:{sign}.4f}"
    return f"{iv.mean:{sign}.4f} [{iv.low:{sign}.4f}, {iv.high:{sign}.4f}]"


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
