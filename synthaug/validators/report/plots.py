"""Drawing a report's figures with matplotlib: figure data in, a base64 PNG out.

Only drawing lives here; the data comes ready from :mod:`synthaug.validators.report.figures`
kinds.  matplotlib is imported inside the functions, so reports without plots (JSON,
Markdown) and synthaug itself work without it.  Figures are made with
:class:`matplotlib.figure.Figure` rather than pyplot: no global state, no GUI backend, and
``savefig`` renders with Agg.
"""

from __future__ import annotations

import base64
import io
import math
import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from synthaug.data.schema import ColumnKind

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["plot_curves", "plot_dcr", "plot_groups", "plot_marginals", "plot_pairs"]

_REAL_COLOR = "#3b6ea8"
_SYNTH_COLOR = "#e07b39"


def _png(fig: Figure) -> str:
    """The figure as base64 PNG text, for a data: URI."""
    buffer = io.BytesIO()
    # no bbox_inches="tight" and no layout engine: both measure every text, which made a
    # 15-column grid take seconds; margins are set by hand in each plot instead
    with warnings.catch_warnings():
        # a date column spanning minutes or centuries falls back to a default tick interval,
        # which reads fine; the warning would only alarm the user
        warnings.filterwarnings("ignore", message="AutoDateLocator was unable")
        fig.savefig(buffer, format="png", dpi=80)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _new_figure(width: float, height: float) -> Figure:
    # Figure() without pyplot: no global state, no GUI backend; savefig renders with Agg
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height))


def _short(text: str, n: int = 14) -> str:
    return text if len(text) <= n else text[: n - 1] + "\u2026"


def plot_marginals(marginals: Sequence[Mapping[str, Any]],
                   shapes: Mapping[str, float]) -> str:
    """A grid of ``marginals`` panels, real vs synthetic; ``shapes`` scores go in the titles."""
    from matplotlib.ticker import MaxNLocator

    n = len(marginals)
    ncols = min(4, n)
    nrows = math.ceil(n / ncols)
    row_h = 2.8
    fig = _new_figure(3.4 * ncols, row_h * nrows + 0.4)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    # inches -> figure fractions: 0.45 in above the top row (legend), 0.95 in under each row
    # for rotated category labels, 0.6 in left of each column for the y labels
    top = 1 - 0.45 / (row_h * nrows + 0.4)
    fig.subplots_adjust(left=0.6 / (3.4 * ncols), right=0.98, top=top, bottom=0.9 / (
        row_h * nrows + 0.4), hspace=1.1 / (row_h - 1.1), wspace=0.75 / (3.4 - 0.75))
    for ax, m in zip(axes.ravel(), marginals, strict=False):
        if m["type"] == "histogram":
            edges = np.asarray(m["edges"], dtype=np.float64)
            if m["kind"] == ColumnKind.DATETIME.value:
                from matplotlib import dates as mdates

                edges = mdates.date2num(pd.to_datetime(edges.astype(np.int64)).to_pydatetime())
                ax.xaxis.set_major_locator(mdates.AutoDateLocator(maxticks=4))
                ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(
                    ax.xaxis.get_major_locator()))
            ax.stairs(m["real"], edges, fill=True, alpha=0.45, color=_REAL_COLOR, label="real")
            ax.stairs(m["synthetic"], edges, color=_SYNTH_COLOR, linewidth=1.6,
                      label="synthetic")
        else:
            x = np.arange(len(m["labels"]))
            ax.bar(x - 0.2, m["real"], width=0.4, color=_REAL_COLOR, label="real")
            ax.bar(x + 0.2, m["synthetic"], width=0.4, color=_SYNTH_COLOR, label="synthetic")
            ax.set_xticks(x, [_short(str(v)) for v in m["labels"]], rotation=60, ha="right",
                          fontsize=7)
        title = m["column"]
        if m["column"] in shapes:
            title += f"  (shape {shapes[m['column']]:.2f})"
        ax.set_title(_short(title, 36), fontsize=9)
        ax.tick_params(labelsize=7)
        ax.yaxis.set_major_locator(MaxNLocator(nbins=3))
    for ax in axes.ravel()[n:]:
        ax.set_visible(False)
    handles, labels = axes.ravel()[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 1.0), ncols=2,
               fontsize=8, frameon=False)
    fig.text(0.01, 1 - 0.2 / fig.get_figheight(), "y: share of rows", fontsize=8, va="center")
    return _png(fig)


def plot_pairs(pairs: Mapping[str, Any]) -> str:
    """The ``pair_trends`` matrix as a heatmap (unscored pairs grey, values up to 12 columns)."""
    names = [str(c) for c in pairs["columns"]]
    matrix = np.asarray(pairs["matrix"], dtype=np.float64)  # None (not scored) -> NaN
    k = len(names)
    cell = 0.32
    margin = 1.3  # inches for the rotated column names
    fig = _new_figure(cell * k + margin + 1.6, cell * k + margin + 0.5)
    ax = fig.subplots()
    fig.subplots_adjust(left=margin / (cell * k + margin + 1.6), bottom=margin / (
        cell * k + margin + 0.5), top=1 - 0.4 / (cell * k + margin + 0.5), right=0.88)
    from matplotlib import colormaps

    finite = matrix[np.isfinite(matrix)]
    vmax = max(0.1, float(finite.max()) if finite.size else 0.1)
    cmap = colormaps["Reds"].with_extremes(bad="#e6e8ec")
    image = ax.imshow(np.ma.masked_invalid(matrix), cmap=cmap, vmin=0.0, vmax=vmax)
    ax.set_xticks(range(k), [_short(n) for n in names], rotation=60, ha="right", fontsize=7)
    ax.set_yticks(range(k), [_short(n) for n in names], fontsize=7)
    if k <= 12:
        for i in range(k):
            for j in range(k):
                if i != j and np.isfinite(matrix[i, j]):
                    ax.text(j, i, f"{matrix[i, j]:.2f}", ha="center", va="center", fontsize=6,
                            color="white" if matrix[i, j] > 0.6 * vmax else "black")
    fig.colorbar(image, ax=ax, shrink=0.8, label="1 - pair-trend similarity", fraction=0.05)
    ax.set_title("pair-trend difference, real vs synthetic", fontsize=9)
    return _png(fig)


def plot_dcr(dcr: Mapping[str, Any]) -> str:
    """The ``dcr`` histograms: distances to train (filled) and to holdout (line)."""
    fig = _new_figure(6.5, 3.2)
    ax = fig.subplots()
    fig.subplots_adjust(left=0.12, right=0.97, bottom=0.17, top=0.95)
    edges = np.asarray(dcr["edges"], dtype=np.float64)
    ax.stairs(dcr["train"], edges, fill=True, alpha=0.45, color=_SYNTH_COLOR,
              label="synthetic -> train")
    ax.stairs(dcr["holdout"], edges, color=_REAL_COLOR, linewidth=1.6,
              label="synthetic -> holdout")
    ax.set_xlabel("distance to closest record", fontsize=8)
    ax.set_ylabel("share of synthetic records", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=8)
    return _png(fig)


def plot_curves(curves: Sequence[Mapping[str, Any]]) -> str:
    """One panel per curve (three a row) over the dashed diagonal."""
    n = len(curves)
    ncols = min(3, n)
    nrows = math.ceil(n / ncols)
    fig = _new_figure(3.6 * ncols, 3.3 * nrows)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    fig.subplots_adjust(left=0.5 / (3.6 * ncols), right=0.98, bottom=0.5 / (3.3 * nrows),
                        top=1 - 0.6 / (3.3 * nrows), wspace=0.35, hspace=0.6)
    for ax, c in zip(axes.ravel(), curves, strict=False):
        x = np.asarray([np.nan if v is None else v for v in c["x"]], dtype=np.float64)
        y = np.asarray([np.nan if v is None else v for v in c["y"]], dtype=np.float64)
        ax.plot([0, 1], [0, 1], color="#999999", linestyle="--", linewidth=1)
        ax.plot(x, y, color=_SYNTH_COLOR, linewidth=1.8)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.02)
        ax.set_title(f"{c['validator']}\n{_short(c['title'], 44)}", fontsize=8)
        ax.set_xlabel(c["x_label"], fontsize=8)
        ax.set_ylabel(c["y_label"], fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in axes.ravel()[n:]:
        ax.set_visible(False)
    return _png(fig)


def plot_groups(tables: Sequence[Mapping[str, Any]]) -> str:
    """One horizontal bar chart per ``group_rates`` table, real vs synthetic per group."""
    heights = [max(1.6, 0.28 * len(t["rows"]) + 0.8) for t in tables]
    total = sum(heights) + 0.6 * len(tables)
    fig = _new_figure(7.0, total)
    axes = fig.subplots(len(tables), 1, squeeze=False, height_ratios=heights)
    fig.subplots_adjust(left=0.3, right=0.97, top=1 - 0.35 / total, bottom=0.35 / total,
                        hspace=0.6 * len(tables) / sum(heights))
    for ax, table in zip(axes[:, 0], tables, strict=True):
        rows = table["rows"]
        y = np.arange(len(rows))
        real = [np.nan if r["real"] is None else r["real"] for r in rows]
        synth = [np.nan if r["synthetic"] is None else r["synthetic"] for r in rows]
        ax.barh(y - 0.2, real, height=0.4, color=_REAL_COLOR, label="real")
        ax.barh(y + 0.2, synth, height=0.4, color=_SYNTH_COLOR, label="synthetic")
        ax.set_yticks(y, [_short(str(r["group"]), 28) for r in rows], fontsize=7)
        ax.invert_yaxis()
        ax.set_title(f"{table['title']} ({table['validator']})", fontsize=9)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=7, loc="lower right")
    return _png(fig)
