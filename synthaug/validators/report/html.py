"""A suite report as one self-contained HTML page: tables, plots as embedded PNGs, no script.

Everything the page needs is inside it: plots are base64 PNGs in ``data:`` URIs (drawn by
:mod:`synthaug.validators.report.plots`, or made by the modality for image grids), the style
is inline (``report.css`` beside this module, shipped in the wheel), and a content-security
policy forbids loading anything from elsewhere or running any script.  So the page opens the
same offline, attached to an e-mail or as a CI artefact.

Only rendering lives here; the data comes from the report's figure kinds
(:mod:`synthaug.validators.report.figures`), and kinds this renderer does not know are left
out with a note.
"""

from __future__ import annotations

import functools
import html
import json
from collections.abc import Mapping
from importlib import resources
from itertools import zip_longest
from typing import TYPE_CHECKING, Any

from synthaug.data.tabular.figures import MAX_LEVELS
from synthaug.utils.formatting import format_interval, format_number
from synthaug.utils.serialization import to_jsonable
from synthaug.validators.report import plots
from synthaug.validators.report.figures import (
    column_shapes,
    fairness_gaps,
    read_image_grid,
    read_text_samples,
    unknown_kinds,
)
from synthaug.validators.report.markdown import input_lines

if TYPE_CHECKING:
    from synthaug.validators.report.model import SuiteReport

__all__ = ["CSP", "render_html"]

#: nothing may load from elsewhere: images are data: URIs, the style is inline, there is no script
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"

#: verdict -> CSS status class (widened reads as a failure, narrowed as a pass)
_VERDICT_CLASS = {"widened": "fail", "narrowed": "pass", "unchanged": "info"}

#: curve sections: category of the curves, anchor, heading, caption
_CURVE_SECTIONS = [
    ("fidelity", "support-curves", "Fidelity: alpha-precision and beta-recall curves",
     "Share of synthetic records inside the real alpha-support (precision) and of real "
     "records "
     "reached inside the synthetic beta-support (recall), against alpha / beta; the dashed "
     "diagonal is a perfect match."),
    ("privacy", "attack-roc", "Privacy: membership-inference ROC",
     "How well an attacker holding the synthetic data tells training records from holdout "
     "records; "
     "the dashed diagonal is guessing, a curve bowing above it is a leak."),
]


@functools.cache
def _css() -> str:
    # package data rather than a Python string: it reads (and diffs) as CSS
    return resources.files(__package__).joinpath("report.css").read_text(encoding="utf-8")


def render_html(report: SuiteReport) -> str:
    """The report as one self-contained HTML page, plots embedded as PNG images."""
    e = html.escape
    sections: list[str] = []
    notes = [*report.notes, *unknown_kinds(report.figures)]
    verdict = "PASSED" if report.gate else "FAILED"

    summary = [f"<p><span class=\"gate {'pass' if report.gate else 'fail'}\" id=\"gate\">"
               f"Gate {verdict}</span>"]
    if report.failed:
        summary.append(f" failed: {e(', '.join(report.failed))}")
    summary.append("</p>")
    if report.description:
        summary.append(f"<p>{e(report.description)}</p>")
    items = [f"suite file: <code>{e(report.source)}</code>",
             *[e(line[2:]) for line in input_lines(report.inputs)],
             f"synthaug {e(report.synthaug_version)}, {e(report.created)}"]
    summary.append("<ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>")
    sections.append(_section("summary", "Summary", "".join(summary)))
    sections.append(_section("checks", "Checks", _checks_table(report)))

    # drawn by the modality already: shown whether or not matplotlib is here
    for kind, draw in (("image_grid", _image_grid), ("text_samples", _text_samples)):
        if kind in report.figures:
            section, note = draw(report.figures[kind])
            sections += [section] if section else []
            notes += [note] if note else []

    figs = report.figures
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        notes.append("Plots left out: matplotlib is not installed (pip install matplotlib).")
        figs = {}
    sections += _plots(figs, column_shapes(report.checks))

    gaps = fairness_gaps(report.figures)
    if gaps:
        sections.append(_gaps_section(gaps))
    details = []
    for c in report.checks:
        if c.details:
            body = json.dumps(to_jsonable(c.details), indent=2, allow_nan=False)
            details.append(f"<details><summary>{e(c.id)}</summary><pre>{e(body)}</pre>"
                           "</details>")
    if details:
        sections.append(_section("details", "Details", "".join(details)))
    if notes:
        sections.append(_section("notes", "Notes", "<ul>" + "".join(
            f"<li>{e(n)}</li>" for n in notes) + "</ul>"))

    title = f"Validation report: {report.suite} ({verdict})"
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<meta name=\"generator\" content=\"synthaug {e(report.synthaug_version)}\">\n"
        f"<title>{e(title)}</title>\n<style>\n{_css()}</style>\n</head>\n<body>\n"
        f"<h1>{e(title)}</h1>\n" + "\n".join(sections) + "\n</body>\n</html>\n"
    )


def _checks_table(report: SuiteReport) -> str:
    e = html.escape
    rows = []
    for c in report.checks:
        rows.append(
            "<tr>" + "".join([
                # the validator only when the check's id differs: one long column, not two
                f"<td>{e(c.id)}" + (f"<br><small>{e(c.validator)}</small>"
                                     if c.validator != c.id else "") + "</td>",
                f"<td class=\"num\">{e(format_number(c.value))}</td>",
                f"<td>{e(format_interval(c.interval))}</td>",
                f"<td>{e(c.threshold_text)}</td>", f"<td>{'yes' if c.gates else 'no'}</td>",
                f"<td class=\"status {e(c.status)}\">{e(c.status)}</td>",
                f"<td>{e(c.note or c.description)}</td>",
            ]) + "</tr>"
        )
    return ("<table><thead><tr><th>check (validator)</th><th>value</th><th>interval</th>"
            "<th>threshold</th><th>gates</th><th>status</th><th>note</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>")


def _plots(figs: Mapping[str, Any], shapes: Mapping[str, float]) -> list[str]:
    """The sections drawn with matplotlib, in reading order."""
    sections = []
    if figs.get("marginals"):
        img = plots.plot_marginals(figs["marginals"], shapes)
        sections.append(_section(
            "marginals", "Marginals: real vs synthetic",
            _figure(img, "Marginal distributions, real vs synthetic, one panel per column",
                    "Share of rows per bin (numbers, dates) or per level (categories; the "
                    f"{MAX_LEVELS} most frequent real levels, the rest as (other)).")))
    pairs = figs.get("pair_trends")
    if pairs:
        sections.append(_section(
            "pair-trends", "Pair trends: correlation difference",
            _figure(plots.plot_pairs(pairs), "Heatmap of pair-trend differences between "
                    "columns", f"0 = the pair relates the same way in both tables. "
                    f"{pairs.get('definition', '')}.")))
    dcr = figs.get("dcr")
    if dcr:
        caption = ("Distance from each synthetic record to its closest training record and to "
                   "its closest holdout record. Synthetic records much closer to train than to "
                   "holdout suggest memorised training records.")
        if dcr.get("median_train") is not None:
            caption += (f" Medians: train {dcr['median_train']:.4g}, holdout "
                        f"{dcr['median_holdout']:.4g}.")
        sections.append(_section(
            "dcr", "Privacy: distance to closest record",
            _figure(plots.plot_dcr(dcr), "Histogram of distances to closest record, train vs "
                    "holdout", caption)))
    groups = figs.get("group_rates")
    if groups:
        sections.append(_section(
            "group-rates", "Bias: group shares and outcome rates",
            _figure(plots.plot_groups(groups), "Group rates, real vs synthetic",
                    "Per group of the sensitive columns, as reported by the bias validators.")))
    curves = figs.get("curves") or []
    for category, anchor, heading, caption in _CURVE_SECTIONS:
        mine = [c for c in curves if c.get("category") == category]
        if mine:
            sections.append(_section(anchor, heading, _figure(
                plots.plot_curves(mine), heading, caption)))
    return sections


def _gaps_section(gaps: list[dict[str, Any]]) -> str:
    e = html.escape
    rows = "".join(
        "<tr>" + "".join([
            f"<td>{e(g['check'])}</td>", f"<td>{e(g['grouping'])}</td>",
            f"<td>{e(g['gap'])}</td>", f"<td class=\"num\">{e(format_number(g['real']))}</td>",
            f"<td class=\"num\">{e(format_number(g['synthetic']))}</td>",
            f"<td class=\"num\">{e(format_number(g['change']))}</td>",
            f"<td>{e(format_interval(g['interval']))}</td>",
            f"<td class=\"status {_VERDICT_CLASS.get(g['verdict'], 'info')}\">"
            f"{e(g['verdict'])}</td>",
        ]) + "</tr>" for g in gaps)
    return _section(
        "bias-gaps", "Bias: did the synthetic data widen or narrow each gap?",
        "<p>Each fairness gap measured on real data and on synthetic data (or on a model "
        "trained on it); a change inside its interval is reported as unchanged.</p>"
        "<table><thead><tr><th>check</th><th>grouping</th><th>gap</th><th>real</th>"
        "<th>synthetic</th><th>change</th><th>interval</th><th>verdict</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>")


def _image_grid(data: Any) -> tuple[str | None, str | None]:
    grid, note = read_image_grid(data)
    if grid is None:
        return None, note
    classes = ", ".join(grid["classes"])
    by_class = f", by class ({classes})" if classes else ""
    figures = "".join(
        _figure(grid[side], f"{side.capitalize()} images{by_class}", side)
        for side in ("real", "synthetic"))
    caption = f"<p class=\"muted\">Classes: {html.escape(classes)}.</p>" if classes else ""
    return _section("image-grid", grid["title"], f"<div class=\"pair\">{figures}</div>"
                    + caption), None


def _text_samples(data: Any) -> tuple[str | None, str | None]:
    texts, note = read_text_samples(data)
    if texts is None:
        return None, note
    e = html.escape
    tables = []
    for sample in texts["samples"]:
        rows = "".join(f"<tr><td class=\"text\">{e(r)}</td><td class=\"text\">{e(s)}</td></tr>"
                       for r, s in zip_longest(sample["real"], sample["synthetic"],
                                               fillvalue=""))
        tables.append(f"<h3>{e(sample['label']) or '(no label)'}</h3>"
                      "<table class=\"texts\"><thead><tr><th>real</th><th>synthetic</th></tr>"
                      f"</thead><tbody>{rows}</tbody></table>")
    return _section("text-samples", texts["title"], "".join(tables)), None


def _section(anchor: str, heading: str, body: str) -> str:
    return f"<section id=\"{anchor}\">\n<h2>{html.escape(heading)}</h2>\n{body}\n</section>"


def _figure(png_b64: str, alt: str, caption: str) -> str:
    return (f"<figure><img src=\"data:image/png;base64,{png_b64}\" alt=\"{html.escape(alt)}\">"
            f"<figcaption>{html.escape(caption)}</figcaption></figure>")
