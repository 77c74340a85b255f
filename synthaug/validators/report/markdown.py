"""A suite report as Markdown, for a pull request or a review: text only, no plots.

The gate, the inputs, a table of checks, the weakest columns, the widened / narrowed gaps of
the bias checks, the modality's text samples, and notes.  Plots are in the HTML report; the
Markdown mentions the image grids it cannot show.  Only rendering lives here: everything
comes from the report (:mod:`synthaug.validators.report.model`) and its figure data
(:mod:`synthaug.validators.report.figures`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from synthaug.utils.formatting import format_interval, format_number
from synthaug.validators.report.figures import (
    column_shapes,
    fairness_gaps,
    read_image_grid,
    read_text_samples,
    unknown_kinds,
)

if TYPE_CHECKING:
    from synthaug.validators.report.model import SuiteReport

__all__ = ["input_lines", "md_cell", "render_markdown"]

#: characters that would start emphasis, code, links, HTML or a table cell in a Markdown line
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|])")


def render_markdown(report: SuiteReport) -> str:
    """The report as Markdown: gate, inputs, a table of checks, notes."""
    verdict = "PASSED" if report.gate else "FAILED"
    notes = [*report.notes, *unknown_kinds(report.figures)]
    lines = [f"# Validation report: {report.suite}", ""]
    lines.append(f"**Gate: {verdict}**" + (f" (failed: {', '.join(report.failed)})"
                                           if report.failed else ""))
    lines.append("")
    if report.description:
        lines += [report.description, ""]
    lines += [f"- suite file: `{report.source}`", *input_lines(report.inputs, code="`"),
              f"- synthaug {report.synthaug_version}, {report.created}", ""]
    lines += ["## Checks", "",
              "| check | validator | value | interval | threshold | gates | status | note |",
              "|---|---|---:|---|---|---|---|---|"]
    for c in report.checks:
        cells = [c.id, c.validator, format_number(c.value), format_interval(c.interval),
                 c.threshold_text, "yes" if c.gates else "no",
                 c.status.upper() if c.status in ("fail", "warn") else c.status, c.note]
        lines.append("| " + " | ".join(md_cell(x) for x in cells) + " |")
    lines.append("")
    for kind, section in (("image_grid", _image_grid), ("text_samples", _text_samples)):
        if kind in report.figures:
            text, note = section(report.figures[kind])
            lines += text
            notes += [note] if note else []
    shapes = column_shapes(report.checks)
    if shapes:
        worst = sorted(shapes.items(), key=lambda kv: kv[1])[:5]
        lines += ["## Weakest columns (column shapes)", "",
                  ", ".join(f"`{k}` {v:.3f}" for k, v in worst), ""]
    gaps = fairness_gaps(report.figures)
    if gaps:
        lines += ["## Bias: did the synthetic data widen or narrow each gap?", "",
                  "| check | grouping | gap | real | synthetic | change | interval | verdict |",
                  "|---|---|---|---:|---:|---:|---|---|"]
        for g in gaps:
            cells = [g["check"], g["grouping"], g["gap"], format_number(g["real"]),
                     format_number(g["synthetic"]), format_number(g["change"]),
                     format_interval(g["interval"]),
                     g["verdict"].upper() if g["verdict"] == "widened" else g["verdict"]]
            lines.append("| " + " | ".join(md_cell(x) for x in cells) + " |")
        lines.append("")
    if notes:
        lines += ["## Notes", "", *[f"- {md_cell(n)}" for n in notes], ""]
    return "\n".join(lines)


def input_lines(inputs: Mapping[str, Any], code: str = "") -> list[str]:
    """List items for the inputs: modality, each role's summary, the target, sensitive columns.

    A role without a ``summary`` (reports written before modalities described their inputs)
    is shown as rows x columns.

    Examples
    --------
    >>> for line in input_lines({"modality": "tabular", "real": {"rows": 1200, "columns": 3},
    ...                          "synthetic": {"summary": "1,200 rows x 3 columns"},
    ...                          "sensitive": ["sex"]}):
    ...     print(line)
    - modality: tabular
    - real: 1,200 rows x 3 columns
    - synthetic: 1,200 rows x 3 columns
    - sensitive: sex
    """
    lines = []
    if inputs.get("modality"):
        lines.append(f"- modality: {inputs['modality']}")
    for role in ("real", "synthetic", "holdout"):
        dims = inputs.get(role)
        if not isinstance(dims, Mapping):
            continue
        if dims.get("summary"):
            lines.append(f"- {role}: {dims['summary']}")
        elif "rows" in dims and "columns" in dims:
            lines.append(f"- {role}: {dims['rows']:,} rows x {dims['columns']} columns")
    if inputs.get("target"):
        lines.append(f"- target: {code}{inputs['target']}{code}")
    if inputs.get("sensitive"):
        lines.append("- sensitive: " + ", ".join(f"{code}{s}{code}" for s in inputs["sensitive"]))
    return lines


def md_cell(value: object) -> str:
    """``value`` as text for one cell of a Markdown table (one line, pipes escaped)."""
    return str(value).replace("|", "\\|").replace("\n", " ")


def _md_text(value: str) -> str:
    # free text (a real or synthetic sample) on one line, its Markdown syntax shown as typed
    return _MD_SPECIAL.sub(r"\\\1", " ".join(value.split()))


def _image_grid(data: Any) -> tuple[list[str], str | None]:
    grid, note = read_image_grid(data)
    if grid is None:
        return [], note
    classes = ", ".join(grid["classes"])
    return [f"## {_md_text(grid['title'])}", "",
            "Grids of real and of synthetic images" + (f" (classes: {_md_text(classes)})"
                                                        if classes else "")
            + " are in the HTML report.", ""], None


def _text_samples(data: Any) -> tuple[list[str], str | None]:
    texts, note = read_text_samples(data)
    if texts is None:
        return [], note
    lines = [f"## {_md_text(texts['title'])}", ""]
    for sample in texts["samples"]:
        lines.append(f"- **{_md_text(sample['label']) or '(no label)'}**")
        for side in ("real", "synthetic"):
            lines.append(f"  - {side}:")
            lines += [f"    - {_md_text(t)}" for t in sample[side]] or ["    - (none)"]
    lines.append("")
    return lines, None
