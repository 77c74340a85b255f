"""``gain.png``: a recipe report's headline metric against the synthetic ratio, one line per kind
of arm, and one panel per sensitive group (apart from :mod:`synthaug.recipes.report`, which
holds the numbers and their text forms).
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from synthaug.recipes.report import _CLASSIC_KINDS, _METRIC_LABELS, ArmSummary
from synthaug.recipes.stats import Interval
from synthaug.utils.files import atomic_file

if TYPE_CHECKING:
    from synthaug.recipes.report import GainReport

__all__ = ["MAX_GROUP_PANELS", "panels", "plot"]

#: most sensitive groups drawn in gain.png, one panel each (the rest are named in a note)
MAX_GROUP_PANELS = 4


def plot(report: GainReport, path: str | os.PathLike[str]) -> Path:
    """Draw the headline metric against the synthetic ratio (one line per arm) to a PNG.

    Real-only is a horizontal band, synthetic-only a single point; with a sensitive column
    one more panel per group (see :func:`panels`), each title saying why it is there.
    """
    # The object-oriented API with the Agg canvas: no pyplot, so no global backend switch
    # and no figure kept alive in a global registry.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    shown, note = panels(report)
    fig = Figure(figsize=(6.4 * len(shown), 4.4 + (0.3 if note else 0.0)), dpi=100)
    FigureCanvasAgg(fig)
    ratios = sorted({a.ratio for a in report.arms if a.ratio is not None} or {1.0})
    for i, (key, title) in enumerate(shown):
        ax = fig.add_subplot(1, len(shown), i + 1)
        _draw_panel(report, ax, key, ratios)
        ax.set_title(title)
        ax.set_xlabel("synthetic rows per real training row")
        ax.set_ylabel(f"{title} (mean, {report.confidence:.0%} interval)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small", loc="best")
    fig.suptitle(f"{report.recipe}: {len(report.seeds)} seeds")
    if note:
        fig.text(0.01, 0.01, note, fontsize="small", ha="left", va="bottom")
    fig.tight_layout(rect=(0.0, 0.05 if note else 0.0, 1.0, 1.0))
    target = Path(path)
    with atomic_file(target) as tmp:
        fig.savefig(tmp, format="png")
    return target

def panels(report: GainReport) -> tuple[list[tuple[str, str]], str]:
    """The plot's panels as ``(metric key, title)``, and a note for what is left out.

    The headline metric, then one panel per sensitive group: the focus group first (the
    scenario's group, else the group real-only does worst on), its title saying which, then
    the others, up to :data:`MAX_GROUP_PANELS` groups in all; a note under the plot names
    the groups left out and where they are (``report.md``, ``results.json``).

    Examples
    --------
    >>> from synthaug.recipes.report import GainReport
    >>> from synthaug.recipes.report_plot import panels
    >>> runs = [{"arm": "real", "kind": "real", "ratio": None, "seed": s,
    ...          "metrics": {"accuracy": 0.8, "accuracy@F": 0.7, "accuracy@M": 0.9}}
    ...         for s in range(3)]
    >>> report = GainReport.from_runs("demo", runs, metric="accuracy", seeds=[0, 1, 2])
    >>> [title for _, title in panels(report)[0]]
    ['accuracy', 'accuracy on F (real-only does worst here)', 'accuracy on M']
    """
    label = _METRIC_LABELS.get(report.metric, report.metric)
    panels = [(report.metric, label)]
    groups = _groups(report)
    if not groups:
        return panels, ""
    focus, why = _focus_group(report, groups)
    ordered = [focus, *(g for g in groups if g != focus)]
    shown = ordered[:MAX_GROUP_PANELS]
    for group in shown:
        title = f"{label} on {group}" + (f" ({why})" if group == focus else "")
        panels.append((f"{report.metric}@{group}", title))
    left = ordered[MAX_GROUP_PANELS:]
    note = ""
    if left:
        names = ", ".join(left[:5]) + (" ..." if len(left) > 5 else "")
        note = (f"{len(left)} more group(s) not drawn ({names}); every group's metrics are "
                "in report.md and results.json.")
    return panels, note

def _groups(report: GainReport) -> list[str]:
    return sorted({k.split("@", 1)[1] for a in report.arms for k in a.metrics
                   if k.startswith(f"{report.metric}@")})

def _focus_group(report: GainReport, groups: list[str]) -> tuple[str, str]:
    """The group drawn first, and why: the scenario's group, else real-only's worst."""
    focus = report.info.get("focus_group")
    if focus in groups:
        return str(focus), "the scenario's group"
    real = report.arms[0].metrics
    worst = min(groups, key=lambda g: _or_inf(real.get(f"{report.metric}@{g}")))
    return worst, "real-only does worst here"


def _or_inf(iv: Interval | None) -> float:
    return math.inf if iv is None or math.isnan(iv.mean) else iv.mean

#: line styles of the real-only arms (horizontal lines) and of the lines over ratios
_FLAT = {"real": ("black", "-"), "class_weights": ("tab:gray", "--"),
         "threshold": ("tab:brown", ":")}
_LINES = {("augmented", "append"): ("tab:blue", "o-"), ("augmented", "filter"): ("tab:cyan", "v-"),
          ("augmented", "weight"): ("tab:olive", "P-"),
          ("augmented", "curriculum"): ("tab:pink", "X-"),
          ("smote", None): ("tab:orange", "s--"), ("albumentations", None): ("tab:orange", "s--"),
          ("eda", None): ("tab:orange", "s--"), ("combined", None): ("tab:purple", "^-"),
          ("synthetic_only", None): ("tab:green", "D")}


def _draw_panel(report: GainReport, ax: Any, key: str, ratios: list[float]) -> None:
    lo_x, hi_x = min(ratios) * 0.9, max(ratios) * 1.1
    by_line: dict[tuple[str, str | None], list[ArmSummary]] = {}
    for arm in report.arms:
        by_line.setdefault((arm.kind, arm.use if arm.kind == "augmented" else None),
                           []).append(arm)
    for kind, (color, style) in _FLAT.items():
        for arm in by_line.get((kind, None), []):
            iv = arm.metrics.get(key)
            if iv is None:
                continue
            ax.axhline(iv.mean, color=color, ls=style, lw=1.5, label=arm.label)
            if kind == "real" and not math.isnan(iv.low):  # one band, not three
                ax.axhspan(iv.low, iv.high, color=color, alpha=0.12)
    for line, (color, fmt) in _LINES.items():
        arms = sorted(by_line.get(line, []), key=lambda a: a.ratio or 0.0)
        points = [(a.ratio or 1.0, a.metrics[key]) for a in arms if key in a.metrics]
        if not points:
            continue
        xs = [p[0] for p in points]
        ys = [p[1].mean for p in points]
        err = [[max(p[1].mean - p[1].low, 0.0) if not math.isnan(p[1].low) else 0.0
                for p in points],
               [max(p[1].high - p[1].mean, 0.0) if not math.isnan(p[1].high) else 0.0
                for p in points]]
        label = arms[0].label.rsplit(" (", 1)[0]  # the arm's label without its ratio
        if line[0] not in _CLASSIC_KINDS and report.info.get("generator"):
            label += f" ({report.info['generator']})"
        ax.errorbar(xs, ys, yerr=err, fmt=fmt, color=color, capsize=4, label=label)
    ax.set_xlim(lo_x, hi_x)
    ax.set_xticks(ratios)
    ax.set_xticklabels([f"{r:g}x" for r in ratios])
