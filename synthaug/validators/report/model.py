"""Suite reports: JSON for machines, Markdown for review, one self-contained HTML file with plots.

A :class:`SuiteReport` holds the outcome of every check of a suite, the gate, and the aggregate
numbers behind its plots (histogram counts, category shares, a pair-trend matrix, DCR histograms,
group rates), never data rows.  It renders to

* JSON (:meth:`SuiteReport.to_json`), which reads back with :meth:`SuiteReport.from_dict`;
* Markdown (:meth:`SuiteReport.to_markdown`), for a pull request or a review;
* HTML (:meth:`SuiteReport.to_html`): one file, plots embedded as base64 PNGs drawn with
  matplotlib's Agg renderer, no script, and a content-security policy that forbids loading
  anything from elsewhere, so it opens the same offline, attached to an e-mail or as a CI
  artefact.

Plots come from the data (marginals real vs synthetic for each column, the pair-trend difference
heatmap) and from validator details where a validator provides them:

* ``privacy.dcr``: per-row distances to the closest record of train and of holdout, under the
  keys ``dcr_train``/``dcr_holdout``, ``distances_train``/``distances_holdout`` or
  ``train_distances``/``holdout_distances`` (directly in ``details`` or in
  ``details["distances"]`` as ``{"train": ..., "holdout": ...}``), or already binned as
  ``details["histogram"] = {"edges": [...], "train": [...], "holdout": [...]}``.  Without them the
  plot is skipped and a note says so.
* bias validators (category ``bias``): group rates under ``outcome_rates``,
  ``group_outcome_rates``, ``representation`` or ``group_shares``, each either
  ``{group: {"real": r, "synthetic": s}}``, ``{"real": {group: r}, "synthetic": {group: s}}``,
  a list of ``{"group": g, "real": r, "synthetic": s}`` records, or one of these per sensitive
  column (``{"sex": {...}, "race": {...}}``).

Every file is written atomically (a temporary name, renamed when complete), so a failure never
leaves a partial report behind.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import io
import json
import math
import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from synthaug._version import __version__
from synthaug.data.schema import ColumnKind, TableSchema, as_frame
from synthaug.exceptions import InvalidParameterError, ValidationFailedError
from synthaug.utils.files import atomic_file
from synthaug.utils.serialization import to_jsonable

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from synthaug.validators.base import Score

__all__ = [
    "REPORT_FORMAT",
    "CheckResult",
    "SuiteReport",
    "collect_figures",
    "compact_details",
    "summarize_inputs",
]

REPORT_FORMAT = "synthaug.suite-report"
REPORT_FORMAT_VERSION = 1

Status = Literal["pass", "fail", "warn", "info", "skipped"]
ReportFormat = Literal["json", "markdown", "html"]

#: marginal plots and the pair-trend heatmap cover at most this many columns (the first ones)
MAX_PLOT_COLUMNS = 24
#: categorical marginals show this many most frequent real levels, the rest as "(other)"
MAX_LEVELS = 12
#: lists of numbers in details longer than this are summarised in the JSON, not copied
MAX_DETAIL_ITEMS = 200

_SUFFIXES: dict[str, ReportFormat] = {
    ".json": "json",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
}


# -- results -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class CheckResult:
    """The outcome of one suite entry.

    ``status`` is ``pass`` or ``fail`` against the threshold, ``warn`` when a non-gating entry
    missed it, ``info`` when the entry has no threshold, ``skipped`` when it could not run here
    (``note`` says why).  ``value`` is None when the validator returned NaN or did not run.

    Examples
    --------
    >>> r = CheckResult(id="fidelity.column_shapes", validator="fidelity.column_shapes",
    ...                 status="pass", gates=True, min=0.8, value=0.93)
    >>> r.threshold_text
    '>= 0.8'
    """

    id: str
    validator: str
    status: Status
    gates: bool
    optional: bool = False
    min: float | None = None
    max: float | None = None
    category: str = ""
    direction: str = ""
    value: float | None = None
    interval: tuple[float, float] | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    note: str = ""
    description: str = ""

    @property
    def threshold_text(self) -> str:
        """The threshold as text: ``>= 0.8``, ``<= 0.6``, ``0.2 .. 0.8`` or ``-``."""
        if self.min is not None and self.max is not None:
            return f"{self.min:g} .. {self.max:g}"
        if self.min is not None:
            return f">= {self.min:g}"
        if self.max is not None:
            return f"<= {self.max:g}"
        return "-"

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict."""
        out: dict[str, Any] = {
            "id": self.id,
            "validator": self.validator,
            "status": self.status,
            "gates": self.gates,
            "optional": self.optional,
            "threshold": {"min": self.min, "max": self.max},
            "category": self.category,
            "direction": self.direction,
            "value": self.value,
            "interval": list(self.interval) if self.interval else None,
            "seconds": self.seconds,
            "note": self.note,
            "description": self.description,
            "details": to_jsonable(self.details),
        }
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CheckResult:
        """Inverse of :meth:`to_dict`."""
        threshold = data.get("threshold") or {}
        interval = data.get("interval")
        return cls(
            id=str(data["id"]),
            validator=str(data["validator"]),
            status=data["status"],
            gates=bool(data["gates"]),
            optional=bool(data.get("optional", False)),
            min=threshold.get("min"),
            max=threshold.get("max"),
            category=str(data.get("category", "")),
            direction=str(data.get("direction", "")),
            value=data.get("value"),
            interval=(float(interval[0]), float(interval[1])) if interval else None,
            details=dict(data.get("details") or {}),
            seconds=float(data.get("seconds", 0.0)),
            note=str(data.get("note", "")),
            description=str(data.get("description", "")),
        )


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat()


@dataclass(frozen=True)
class SuiteReport:
    """What a validation suite found, with its pass/fail ``gate``.

    Made by :meth:`synthaug.validators.suite.Suite.run`; render it with :meth:`to_json`,
    :meth:`to_markdown` or :meth:`to_html`, or write any of them with :meth:`write`.

    Examples
    --------
    >>> report = SuiteReport(suite="demo", source="<memory>", gate=False, checks=(
    ...     CheckResult(id="fidelity.column_shapes", validator="fidelity.column_shapes",
    ...                 status="fail", gates=True, min=0.8, value=0.41),))
    >>> report.failed
    ['fidelity.column_shapes']
    >>> "FAILED" in report.to_markdown()
    True
    >>> SuiteReport.from_dict(json.loads(report.to_json())) == report
    True
    """

    suite: str
    source: str
    gate: bool
    checks: tuple[CheckResult, ...]
    description: str = ""
    inputs: Mapping[str, Any] = field(default_factory=dict)
    figures: Mapping[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    synthaug_version: str = __version__
    created: str = field(default_factory=_now)

    # -- queries -------------------------------------------------------------------------------
    @property
    def failed(self) -> list[str]:
        """Ids of the gating checks that missed their threshold."""
        return [c.id for c in self.checks if c.status == "fail"]

    @property
    def skipped(self) -> list[str]:
        """Ids of the checks that could not run here."""
        return [c.id for c in self.checks if c.status == "skipped"]

    def __getitem__(self, check_id: str) -> CheckResult:
        for check in self.checks:
            if check.id == check_id:
                return check
        raise KeyError(f"no check {check_id!r} in this report; checks: "
                       f"{[c.id for c in self.checks]}")

    def raise_for_gate(self) -> None:
        """Raise :class:`~synthaug.exceptions.ValidationFailedError` when the gate failed.

        Examples
        --------
        >>> SuiteReport(suite="s", source="-", gate=True, checks=()).raise_for_gate()
        """
        if not self.gate:
            why = ", ".join(self.failed) or "; ".join(self.notes[:1]) or "see the report"
            raise ValidationFailedError(
                f"synthetic data failed the gate of suite {self.suite!r}: {why}."
            )

    def __str__(self) -> str:
        lines = [f"suite {self.suite}: gate {'PASSED' if self.gate else 'FAILED'}"]
        width = max([len(c.id) for c in self.checks] + [5])
        for c in self.checks:
            value = _fmt(c.value)
            lines.append(f"  {c.status:7s} {c.id:{width}s} {value:>9s}  "
                         f"(threshold {c.threshold_text}{'' if c.gates else ', not gating'})"
                         + (f"  {c.note}" if c.note else ""))
        lines.extend(f"  note: {n}" for n in self.notes)
        return "\n".join(lines)

    # -- JSON ----------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict (NaN becomes null)."""
        return {
            "format": REPORT_FORMAT,
            "format_version": REPORT_FORMAT_VERSION,
            "suite": self.suite,
            "source": self.source,
            "description": self.description,
            "gate": {"passed": self.gate, "failed": self.failed, "skipped": self.skipped},
            "checks": [c.to_dict() for c in self.checks],
            "inputs": to_jsonable(self.inputs),
            "figures": to_jsonable(self.figures),
            "notes": list(self.notes),
            "synthaug_version": self.synthaug_version,
            "created": self.created,
        }

    def to_json(self, indent: int | None = 2) -> str:
        """The report as JSON text."""
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SuiteReport:
        """Read a report back from :meth:`to_dict` output (to re-render it, for instance).

        Raises
        ------
        InvalidParameterError
            When ``data`` is not a suite report of a format this synthaug reads.
        """
        if data.get("format") != REPORT_FORMAT:
            raise InvalidParameterError(
                f"not a synthaug suite report (format {data.get('format')!r}, expected "
                f"{REPORT_FORMAT!r})."
            )
        version = data.get("format_version")
        if not isinstance(version, int) or version > REPORT_FORMAT_VERSION:
            raise InvalidParameterError(
                f"suite report format version {version!r} is newer than this synthaug reads "
                f"({REPORT_FORMAT_VERSION}); upgrade synthaug."
            )
        return cls(
            suite=str(data["suite"]),
            source=str(data["source"]),
            description=str(data.get("description", "")),
            gate=bool(data["gate"]["passed"]),
            checks=tuple(CheckResult.from_dict(c) for c in data["checks"]),
            inputs=dict(data.get("inputs") or {}),
            figures=dict(data.get("figures") or {}),
            notes=tuple(data.get("notes") or ()),
            synthaug_version=str(data.get("synthaug_version", "")),
            created=str(data.get("created", "")),
        )

    # -- Markdown ------------------------------------------------------------------------------
    def to_markdown(self) -> str:
        """The report as Markdown: gate, inputs, a table of checks, notes."""
        verdict = "PASSED" if self.gate else "FAILED"
        lines = [f"# Validation report: {self.suite}", ""]
        lines.append(f"**Gate: {verdict}**" + (f" (failed: {', '.join(self.failed)})"
                                               if self.failed else ""))
        lines.append("")
        if self.description:
            lines += [self.description, ""]
        lines += [f"- suite file: `{self.source}`", *_input_lines(self.inputs, code="`"),
                  f"- synthaug {self.synthaug_version}, {self.created}", ""]
        lines += ["## Checks", "",
                  "| check | validator | value | interval | threshold | gates | status | note |",
                  "|---|---|---:|---|---|---|---|---|"]
        for c in self.checks:
            cells = [c.id, c.validator, _fmt(c.value), _fmt_interval(c.interval),
                     c.threshold_text, "yes" if c.gates else "no",
                     c.status.upper() if c.status in ("fail", "warn") else c.status, c.note]
            lines.append("| " + " | ".join(_md_cell(x) for x in cells) + " |")
        lines.append("")
        shapes = _column_shapes(self)
        if shapes:
            worst = sorted(shapes.items(), key=lambda kv: kv[1])[:5]
            lines += ["## Weakest columns (column shapes)", "",
                      ", ".join(f"`{k}` {v:.3f}" for k, v in worst), ""]
        gaps = fairness_gaps(self)
        if gaps:
            lines += ["## Bias: did the synthetic data widen or narrow each gap?", "",
                      "| check | grouping | gap | real | synthetic | change | interval | verdict |",
                      "|---|---|---|---:|---:|---:|---|---|"]
            for g in gaps:
                cells = [g["check"], g["grouping"], g["gap"], _fmt(g["real"]),
                         _fmt(g["synthetic"]), _fmt(g["change"]), _fmt_interval(g["interval"]),
                         g["verdict"].upper() if g["verdict"] == "widened" else g["verdict"]]
                lines.append("| " + " | ".join(_md_cell(x) for x in cells) + " |")
            lines.append("")
        if self.notes:
            lines += ["## Notes", "", *[f"- {_md_cell(n)}" for n in self.notes], ""]
        return "\n".join(lines)

    # -- HTML ----------------------------------------------------------------------------------
    def to_html(self) -> str:
        """The report as one self-contained HTML page, plots embedded as PNG images."""
        return _render_html(self)

    # -- files ---------------------------------------------------------------------------------
    def render(self, fmt: ReportFormat) -> str:
        """The report as text in ``fmt`` (``"json"``, ``"markdown"`` or ``"html"``)."""
        if fmt == "json":
            return self.to_json()
        if fmt == "markdown":
            return self.to_markdown()
        if fmt == "html":
            return self.to_html()
        raise InvalidParameterError(
            f"unknown report format {fmt!r}; use 'json', 'markdown' or 'html'."
        )

    def write(self, path: str | os.PathLike[str], fmt: ReportFormat | None = None) -> Path:
        """Write the report atomically; the format follows the suffix unless ``fmt`` is given.

        The text is rendered completely first and written under a temporary name that is
        renamed onto ``path`` only when complete, so an error leaves no partial file (and an
        older report at ``path`` untouched).

        Parameters
        ----------
        path : str or path-like
            Where to write: ``.json``, ``.md`` or ``.html``.
        fmt : {"json", "markdown", "html"}, optional
            Overrides the suffix.

        Returns
        -------
        Path

        Examples
        --------
        >>> import tempfile, pathlib
        >>> out = pathlib.Path(tempfile.mkdtemp()) / "report.md"
        >>> SuiteReport(suite="s", source="-", gate=True, checks=()).write(out).name
        'report.md'
        """
        target = Path(path)
        text = self.render(fmt or report_format(target))
        write_text_atomic(target, text)
        return target

    def write_json(self, path: str | os.PathLike[str]) -> Path:
        """Write :meth:`to_json` to ``path`` atomically."""
        return self.write(path, "json")

    def write_markdown(self, path: str | os.PathLike[str]) -> Path:
        """Write :meth:`to_markdown` to ``path`` atomically."""
        return self.write(path, "markdown")

    def write_html(self, path: str | os.PathLike[str]) -> Path:
        """Write :meth:`to_html` to ``path`` atomically."""
        return self.write(path, "html")


def report_format(path: str | os.PathLike[str]) -> ReportFormat:
    """The report format a file name asks for, from its suffix.

    Examples
    --------
    >>> report_format("out/report.html")
    'html'
    """
    suffix = Path(path).suffix.lower()
    try:
        return _SUFFIXES[suffix]
    except KeyError:
        raise InvalidParameterError(
            f"report file {str(path)!r}: use a .html, .md or .json name (got {suffix or 'none'})."
        ) from None


def write_text_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` under a temporary name, renamed when complete."""
    with atomic_file(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


# -- details -----------------------------------------------------------------------------------
def compact_details(details: Mapping[str, Any]) -> dict[str, Any]:
    """JSON-able copy of a score's details, long number lists replaced by a summary.

    Per-row arrays (distances for 100,000 rows, say) would swamp a report and could reveal
    rows; they become their length and quantiles.

    Examples
    --------
    >>> import numpy as np
    >>> compact_details({"d": np.arange(1000.0), "k": 3})["d"]["n"]
    1000
    """
    out = _compact(details)
    return out if isinstance(out, dict) else {"value": out}


def _compact(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _compact(v) for k, v in value.items()}
    if isinstance(value, (np.ndarray, list, tuple, pd.Series)):
        arr = np.asarray(value, dtype=object).ravel() if not isinstance(value, np.ndarray) \
            else value.ravel()
        if len(arr) > MAX_DETAIL_ITEMS:
            numeric = _numbers(value)
            if numeric is not None:
                finite = numeric[np.isfinite(numeric)]
                qs = np.quantile(finite, [0.0, 0.25, 0.5, 0.75, 1.0]) if len(finite) else []
                return {
                    "n": len(numeric),
                    "quantiles": dict(zip(["min", "q25", "median", "q75", "max"],
                                          [float(q) for q in qs], strict=False)),
                    "mean": float(finite.mean()) if len(finite) else None,
                    "omitted": "per-item values left out of the report",
                }
            return [_compact(v) for v in list(value)[:MAX_DETAIL_ITEMS]] + [
                f"... {len(arr) - MAX_DETAIL_ITEMS} more left out"
            ]
        if isinstance(value, (np.ndarray, pd.Series)):
            return to_jsonable(np.asarray(value).tolist())
        return [_compact(v) for v in value]
    if isinstance(value, (np.generic, float, int, str, bool)) or value is None:
        return to_jsonable(value)
    return str(value)


def _numbers(value: Any) -> np.ndarray | None:
    """``value`` as a 1-D float array when it is a flat sequence of numbers, else None."""
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError):
        return None
    if arr.ndim != 1 or arr.dtype.kind not in "biuf":
        return None
    return arr.astype(np.float64)


# -- inputs ------------------------------------------------------------------------------------
def summarize_inputs(
    real: Any,
    synthetic: Any,
    holdout: Any = None,
    target: str | None = None,
    sensitive: Sequence[str] = (),
) -> dict[str, Any]:
    """Row and column counts of the inputs, and the roles given to columns.

    Examples
    --------
    >>> import pandas as pd
    >>> summarize_inputs(pd.DataFrame({"x": [1, 2]}), pd.DataFrame({"x": [3]}))["synthetic"]
    {'rows': 1, 'columns': 1}
    """
    def shape(data: Any) -> dict[str, int] | None:
        dims = getattr(data, "shape", None)
        if dims is None or len(dims) == 0:
            return None
        return {"rows": int(dims[0]), "columns": int(dims[1]) if len(dims) > 1 else 1}

    return {
        "real": shape(real),
        "synthetic": shape(synthetic),
        "holdout": shape(holdout) if holdout is not None else None,
        "target": target,
        "sensitive": list(sensitive),
    }


def _input_lines(inputs: Mapping[str, Any], code: str = "") -> list[str]:
    lines = []
    for role in ("real", "synthetic", "holdout"):
        dims = inputs.get(role)
        if dims:
            lines.append(f"- {role}: {dims['rows']:,} rows x {dims['columns']} columns")
    if inputs.get("target"):
        lines.append(f"- target: {code}{inputs['target']}{code}")
    if inputs.get("sensitive"):
        lines.append("- sensitive: " + ", ".join(f"{code}{s}{code}" for s in inputs["sensitive"]))
    return lines


# -- figure data -------------------------------------------------------------------------------
def collect_figures(
    real: Any,
    synthetic: Any,
    scores: Sequence[Score],
    *,
    target: str | None = None,
    sensitive: Sequence[str] = (),
    max_columns: int = MAX_PLOT_COLUMNS,
) -> tuple[dict[str, Any], list[str]]:
    """Aggregate numbers behind the report's plots, and notes on plots that were skipped.

    Parameters
    ----------
    real, synthetic : DataFrame or 2-D ndarray
        The data the suite judged.
    scores : sequence of Score
        The scores of the checks that ran (``privacy.dcr`` and bias scores feed plots).
    target : str, optional
        The label column (shown first in the plots).
    sensitive : sequence of str
        Sensitive columns (shown right after the target).
    max_columns : int
        Plot at most this many columns.

    Returns
    -------
    figures : dict
        ``marginals`` (one entry per column), ``pair_trends`` (columns and a difference
        matrix), ``dcr`` (a histogram, when a DCR score carries distances) and ``group_rates``
        (tables from bias scores).
    notes : list of str

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "c": ["a", "b", "a", "a"]})
    >>> figures, notes = collect_figures(df, df, [])
    >>> [m["column"] for m in figures["marginals"]], figures["pair_trends"]["matrix"][0][1]
    (['x', 'c'], 0.0)
    """
    notes: list[str] = []
    real_frame, _, _ = as_frame(real, what="real")
    synth_frame, _, _ = as_frame(synthetic, what="synthetic")
    schema = TableSchema.detect(real_frame, what="real")
    usable = [c for c in schema.columns
              if c.kind not in (ColumnKind.IDENTIFIER, ColumnKind.EMPTY)
              and c.name in synth_frame.columns]
    left_out = [c.name for c in schema.columns if c not in usable]
    if left_out:
        notes.append(f"Not plotted (identifier, all-missing or absent from the synthetic data): "
                     f"{', '.join(left_out)}.")
    first = [n for n in [target, *sensitive] if n is not None]
    usable.sort(key=lambda c: (first.index(c.name) if c.name in first else len(first)))
    if len(usable) > max_columns:
        notes.append(f"Plots show the first {max_columns} of {len(usable)} columns.")
        usable = usable[:max_columns]
    columns = [_Column.build(real_frame[c.name], synth_frame[c.name], c.kind) for c in usable]
    figures: dict[str, Any] = {
        "marginals": [col.marginal() for col in columns],
        "pair_trends": _pair_trends(columns, scores) if len(columns) >= 2 else None,
    }
    if figures["pair_trends"] is None:
        notes.append("Pair-trend heatmap skipped: it needs at least two comparable columns.")
    dcr, dcr_note = _dcr_figure(scores)
    if dcr is not None:
        figures["dcr"] = dcr
    if dcr_note:
        notes.append(dcr_note)
    groups, group_note = _group_figures(scores)
    if groups:
        figures["group_rates"] = groups
    if group_note:
        notes.append(group_note)
    curves = _curve_figures(scores)
    if curves:
        figures["curves"] = curves
    return figures, notes


#: details key -> (x key, y key, x label, y label, title) of the curves validators report;
#: every one is ideal on the diagonal (alpha/beta curves) or at chance on it (attack ROC)
_CURVES = {
    "curve": None,  # alpha-precision / beta-recall: keys named after the validator's axes
    "roc_curve": ("fpr", "tpr", "false positive rate", "true positive rate",
                  "attack ROC (diagonal = chance)"),
}
_ALPHA_BETA = {"alpha": ("precision", "alpha", "alpha-precision P(alpha)"),
               "beta": ("recall", "beta", "beta-recall R(beta)")}


def _curve_figures(scores: Sequence[Score]) -> list[dict[str, Any]]:
    """Curves from the details of alpha-precision, beta-recall and membership attacks."""
    out: list[dict[str, Any]] = []
    for score in scores:
        for key, spec in _CURVES.items():
            data = score.details.get(key)
            if not isinstance(data, Mapping):
                continue
            if spec is None:
                axis = next((a for a in _ALPHA_BETA if a in data), None)
                if axis is None:
                    continue
                y_key, x_label, title = _ALPHA_BETA[axis]
                spec = (axis, y_key, x_label, y_key, title + " (diagonal = ideal)")
            x_key, y_key, x_label, y_label, title = spec
            x, y = data.get(x_key), data.get(y_key)
            if not (isinstance(x, Sequence) and isinstance(y, Sequence) and len(x) == len(y)
                    and len(x) >= 2):
                continue
            out.append({"validator": score.validator, "category": score.category,
                        "title": title, "x_label": x_label, "y_label": y_label,
                        "x": [_finite(v) for v in x], "y": [_finite(v) for v in y]})
    return out


@dataclass
class _Column:
    """One column of real and synthetic data, prepared for marginal and pair plots."""

    name: str
    kind: ColumnKind
    continuous: bool
    real_values: np.ndarray  # float; continuous columns only (NaN = missing)
    synth_values: np.ndarray
    real_codes: np.ndarray  # int codes for contingency tables (last code = missing)
    synth_codes: np.ndarray
    labels: list[str]  # code -> label

    @classmethod
    def build(cls, real: pd.Series, synth: pd.Series, kind: ColumnKind) -> _Column:
        if kind.is_continuous:
            r, s = _as_float(real, kind), _as_float(synth, kind)
            finite = r[np.isfinite(r)]
            edges = np.unique(np.quantile(finite, np.linspace(0, 1, 11))) if len(finite) else \
                np.array([0.0])
            inner = edges[1:-1]
            n_bins = len(inner) + 1

            def codes(v: np.ndarray) -> np.ndarray:
                out = np.searchsorted(inner, v, side="right")
                out[~np.isfinite(v)] = n_bins
                return out

            labels = [f"bin {i}" for i in range(n_bins)] + ["(missing)"]
            return cls(str(real.name), kind, True, r, s, codes(r), codes(s), labels)
        r_text, s_text = _as_text(real), _as_text(synth)
        freq = r_text.value_counts(dropna=True)
        top = [str(v) for v in freq.index[:MAX_LEVELS]]
        lookup = {v: i for i, v in enumerate(top)}
        other, missing = len(top), len(top) + 1

        def level_codes(t: pd.Series) -> np.ndarray:
            out = t.map(lookup).to_numpy(dtype=np.float64, na_value=np.nan)
            out = np.where(np.isnan(out), other, out).astype(np.int64)
            out[t.isna().to_numpy()] = missing
            return out

        labels = [*top, "(other)", "(missing)"]
        empty = np.empty(0)
        return cls(str(real.name), kind, False, empty, empty, level_codes(r_text),
                   level_codes(s_text), labels)

    def marginal(self) -> dict[str, Any]:
        n_r, n_s = max(len(self.real_codes), 1), max(len(self.synth_codes), 1)
        missing = {
            "real": float(np.mean(self.real_codes == len(self.labels) - 1)),
            "synthetic": float(np.mean(self.synth_codes == len(self.labels) - 1)),
        }
        if not self.continuous:
            k = len(self.labels)
            r = np.bincount(self.real_codes, minlength=k) / n_r
            s = np.bincount(self.synth_codes, minlength=k) / n_s
            keep = [i for i in range(k) if r[i] > 0 or s[i] > 0]
            return {
                "column": self.name, "kind": self.kind.value, "type": "bars",
                "labels": [self.labels[i] for i in keep],
                "real": [float(r[i]) for i in keep], "synthetic": [float(s[i]) for i in keep],
                "missing": missing,
            }
        r_fin = self.real_values[np.isfinite(self.real_values)]
        s_fin = self.synth_values[np.isfinite(self.synth_values)]
        both = np.concatenate([r_fin, s_fin])
        if len(both) == 0:
            edges = np.array([0.0, 1.0])
        else:
            lo, hi = float(both.min()), float(both.max())
            if hi - lo <= 0:
                edges = np.array([lo - 0.5, hi + 0.5])
            elif self.kind is ColumnKind.INTEGER and hi - lo <= 40:
                edges = np.arange(lo - 0.5, hi + 1.5)
            else:
                n_bins = int(np.clip(np.sqrt(max(len(r_fin), 1)), 10, 40))
                # a weighted mean of the ends, not lo + t * (hi - lo): hi - lo overflows for
                # values near the float limits, and NaN edges would break the histogram
                t = np.linspace(0.0, 1.0, n_bins + 1)
                edges = np.unique((1.0 - t) * lo + t * hi)
        r_counts = np.histogram(r_fin, bins=edges)[0] / n_r
        s_counts = np.histogram(s_fin, bins=edges)[0] / n_s
        return {
            "column": self.name, "kind": self.kind.value, "type": "histogram",
            "edges": [float(e) for e in edges],
            "real": [float(x) for x in r_counts], "synthetic": [float(x) for x in s_counts],
            "missing": missing,
        }


def _as_float(series: pd.Series, kind: ColumnKind) -> np.ndarray:
    if kind is ColumnKind.DATETIME:
        stamps = pd.to_datetime(series, errors="coerce")
        ns = stamps.to_numpy(dtype="datetime64[ns]").astype(np.int64).astype(np.float64)
        ns[stamps.isna().to_numpy()] = np.nan
        return ns
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


def _as_text(series: pd.Series) -> pd.Series:
    values = series.astype(object)
    return values.where(values.notna(), None).map(lambda v: None if v is None else str(v))


def _pair_trends(columns: Sequence[_Column], scores: Sequence[Score]) -> dict[str, Any]:
    """1 - pair-trend similarity for each pair.

    Taken from the ``fidelity.pair_trends`` score when it ran and lists its pairs in
    ``details["pairs"]`` (records with ``column_1``, ``column_2`` and ``score``), so the plot
    shows what the gate judged.  Otherwise computed here with SDMetrics' definitions: two
    continuous columns: ``|r_real - r_synthetic| / 2`` (Pearson, over rows where both are
    present; an undefined correlation counts as 0).  Otherwise: the total variation distance
    between the joint distributions (continuous columns binned at real deciles, missing a level).
    """
    k = len(columns)
    from_validator = _pairs_from_score(columns, scores)
    if from_validator is not None:
        return from_validator
    matrix = np.zeros((k, k))
    for i in range(k):
        for j in range(i + 1, k):
            a, b = columns[i], columns[j]
            if a.continuous and b.continuous:
                diff = abs(_corr(a.real_values, b.real_values)
                           - _corr(a.synth_values, b.synth_values)) / 2
            else:
                diff = _joint_tvd(a, b)
            matrix[i, j] = matrix[j, i] = diff
    return {
        "columns": [c.name for c in columns],
        "matrix": [[float(round(v, 6)) for v in row] for row in matrix],
        "definition": "|delta correlation| / 2 for two continuous columns, total variation "
                      "distance of the joint distribution otherwise",
    }


def _pairs_from_score(columns: Sequence[_Column], scores: Sequence[Score]) -> dict[str, Any] | None:
    pairs = next((s.details.get("pairs") for s in scores if s.validator == "fidelity.pair_trends"
                  and isinstance(s.details.get("pairs"), Sequence)), None)
    if not pairs:
        return None
    index = {c.name: i for i, c in enumerate(columns)}
    k = len(columns)
    matrix = np.full((k, k), np.nan)
    np.fill_diagonal(matrix, 0.0)
    for rec in pairs:
        if not isinstance(rec, Mapping):
            return None
        i, j = index.get(str(rec.get("column_1"))), index.get(str(rec.get("column_2")))
        value = _finite(rec.get("score"))
        if i is not None and j is not None and value is not None:
            matrix[i, j] = matrix[j, i] = 1.0 - value
    return {
        "columns": [c.name for c in columns],
        "matrix": [[None if np.isnan(v) else float(round(v, 6)) for v in row] for row in matrix],
        "definition": "1 - the per-pair score of fidelity.pair_trends (correlation similarity "
                      "for two numeric columns, contingency similarity otherwise); blank where "
                      "the validator scored no pair",
    }


def _corr(x: np.ndarray, y: np.ndarray) -> float:
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() < 2:
        return 0.0
    xs, ys = x[ok], y[ok]
    if xs.std() == 0 or ys.std() == 0:
        return 0.0
    return float(np.corrcoef(xs, ys)[0, 1])


def _joint_tvd(a: _Column, b: _Column) -> float:
    kb = len(b.labels)
    size = len(a.labels) * kb
    real = np.bincount(a.real_codes * kb + b.real_codes, minlength=size)
    synth = np.bincount(a.synth_codes * kb + b.synth_codes, minlength=size)
    return float(0.5 * np.abs(real / max(real.sum(), 1) - synth / max(synth.sum(), 1)).sum())


_DCR_KEYS = (
    ("dcr_train", "dcr_holdout"),
    ("distances_train", "distances_holdout"),
    ("train_distances", "holdout_distances"),
)


def _dcr_figure(scores: Sequence[Score]) -> tuple[dict[str, Any] | None, str | None]:
    dcr_scores = [s for s in scores if s.validator == "privacy.dcr"]
    if not dcr_scores:
        return None, None
    details = dcr_scores[0].details
    hist = details.get("histogram")
    if isinstance(hist, Mapping) and {"edges", "train", "holdout"} <= set(hist):
        edges, train, hold = (_numbers(hist[k]) for k in ("edges", "train", "holdout"))
        if edges is not None and train is not None and hold is not None \
                and len(edges) == len(train) + 1 == len(hold) + 1:
            med_t = _finite(details.get("median_dcr_train"))
            med_h = _finite(details.get("median_dcr_holdout"))
            ok = med_t is not None and med_h is not None
            return {"edges": edges.tolist(), "train": (train / max(train.sum(), 1)).tolist(),
                    "holdout": (hold / max(hold.sum(), 1)).tolist(),
                    "median_train": med_t if ok else None,
                    "median_holdout": med_h if ok else None}, None
    candidates: list[tuple[Any, Any]] = [
        (details.get(a), details.get(b)) for a, b in _DCR_KEYS
    ]
    nested = details.get("distances")
    if isinstance(nested, Mapping):
        candidates.append((nested.get("train"), nested.get("holdout")))
    for train_raw, hold_raw in candidates:
        if train_raw is None or hold_raw is None:
            continue
        train, hold = _numbers(train_raw), _numbers(hold_raw)
        if train is None or hold is None or len(train) == 0 or len(hold) == 0:
            continue
        train, hold = train[np.isfinite(train)], hold[np.isfinite(hold)]
        both = np.concatenate([train, hold])
        hi = float(np.quantile(both, 0.995)) if len(both) else 1.0
        edges = np.linspace(0.0, hi if hi > 0 else 1.0, 41)
        # values past the 99.5th percentile go in the last bin rather than stretching the axis
        t = np.histogram(np.minimum(train, edges[-1]), bins=edges)[0] / max(len(train), 1)
        h = np.histogram(np.minimum(hold, edges[-1]), bins=edges)[0] / max(len(hold), 1)
        return {"edges": edges.tolist(), "train": t.tolist(), "holdout": h.tolist(),
                "median_train": float(np.median(train)) if len(train) else None,
                "median_holdout": float(np.median(hold)) if len(hold) else None}, None
    looked = ", ".join(f"{a}/{b}" for a, b in _DCR_KEYS)
    return None, (
        "DCR histogram skipped: the privacy.dcr score carries no per-row distances in its "
        f"details (looked for {looked}, distances.train/holdout and histogram; found keys: "
        f"{', '.join(sorted(map(str, details))) or 'none'})."
    )


_GROUP_KEYS = {
    "outcome_rates": "Outcome rate per group",
    "group_outcome_rates": "Outcome rate per group",
    "representation": "Share of rows per group",
    "group_shares": "Share of rows per group",
    "selection_rates": "Predicted positive rate per group (model trained on real vs synthetic)",
}
MAX_GROUP_ROWS = 40


def _group_figures(scores: Sequence[Score]) -> tuple[list[dict[str, Any]], str | None]:
    tables: list[dict[str, Any]] = []
    without: list[str] = []
    for score in scores:
        if score.category != "bias":
            continue
        found = False
        for key, title in _GROUP_KEYS.items():
            if key not in score.details:
                continue
            rows = _rate_rows(score.details[key], "")
            if rows:
                found = True
                tables.append({"validator": score.validator, "title": title, "key": key,
                               "rows": [{"group": g, "real": r, "synthetic": s}
                                        for g, r, s in rows[:MAX_GROUP_ROWS]]})
        if not found:
            without.append(score.validator)
    note = None
    if without:
        note = (f"Group-rate plot skipped for {', '.join(without)}: no group rates in the "
                f"details (looked for {', '.join(_GROUP_KEYS)}).")
    return tables, note


#: verdict -> CSS status class (widened reads as a failure, narrowed as a pass)
_VERDICT_CLASS = {"widened": "fail", "narrowed": "pass", "unchanged": "info"}


def fairness_gaps(report: SuiteReport) -> list[dict[str, Any]]:
    """Every widened / narrowed / unchanged fairness gap the report's bias checks measured.

    Reads ``details["parity_gap"]`` (``{grouping: {real, synthetic, change, interval,
    verdict}}``, the within-data outcome gap) and ``details["fairness"]`` (``{grouping:
    {metric: {...}}}``, the gaps of a downstream model), in check order.
    """
    rows: list[dict[str, Any]] = []
    for check in report.checks:
        if check.category != "bias":
            continue
        sources: list[tuple[str, Mapping[str, Any]]] = []
        parity = check.details.get("parity_gap")
        if isinstance(parity, Mapping):
            sources += [(str(grouping), {"outcome-rate gap (max - min)": entry})
                        for grouping, entry in parity.items()]
        fairness = check.details.get("fairness")
        if isinstance(fairness, Mapping):
            sources += [(str(grouping), metrics) for grouping, metrics in fairness.items()
                        if isinstance(metrics, Mapping)]
        for grouping, metrics in sources:
            for metric, entry in metrics.items():
                if not isinstance(entry, Mapping) or "verdict" not in entry:
                    continue
                interval = entry.get("interval")
                rows.append({
                    "check": check.id, "grouping": grouping, "gap": str(metric).replace("_", " "),
                    "real": _finite(entry.get("real")),
                    "synthetic": _finite(entry.get("synthetic")),
                    "change": _finite(entry.get("change")),
                    "interval": (tuple(interval) if isinstance(interval, Sequence)
                                 and len(interval) == 2 and all(_is_number(v) for v in interval)
                                 else None),
                    "verdict": str(entry["verdict"]),
                })
    return rows


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)


def _finite(v: Any) -> float | None:
    """``v`` as a float when it is a finite number, else None."""
    return float(v) if _is_number(v) and math.isfinite(float(v)) else None


_Row = tuple[str, float | None, float | None]


def _rate_rows(obj: Any, prefix: str) -> list[_Row] | None:
    """Rows ``(group, real, synthetic)`` from any of the accepted layouts, or None."""
    def label(g: Any) -> str:
        return f"{prefix} / {g}" if prefix else str(g)

    def num(v: Any) -> float | None:
        return None if v is None or not _is_number(v) or math.isnan(float(v)) else float(v)

    if isinstance(obj, Sequence) and not isinstance(obj, str):
        if len(obj) == 2 and all(_is_number(v) or v is None for v in obj):
            return [(prefix, num(obj[0]), num(obj[1]))]
        rows: list[_Row] = []
        for rec in obj:
            if not isinstance(rec, Mapping) or "real" not in rec or "synthetic" not in rec:
                return None
            name = rec.get("group", rec.get("name", len(rows)))
            rows.append((label(name), num(rec["real"]), num(rec["synthetic"])))
        return rows
    if not isinstance(obj, Mapping):
        return None
    if "real" in obj and "synthetic" in obj:
        real, synth = obj["real"], obj["synthetic"]
        if isinstance(real, Mapping) and isinstance(synth, Mapping):
            groups = list(dict.fromkeys([*real, *synth]))
            return [(label(g), num(real.get(g)), num(synth.get(g))) for g in groups]
        if (_is_number(real) or real is None) and (_is_number(synth) or synth is None):
            return [(prefix, num(real), num(synth))]
        return None
    nested: list[_Row] = []
    for key, value in obj.items():
        sub = _rate_rows(value, label(key))
        if sub is None:
            return None
        nested.extend(sub)
    return nested


# -- plots -------------------------------------------------------------------------------------
_REAL_COLOR = "#3b6ea8"
_SYNTH_COLOR = "#e07b39"


def _png(fig: Figure) -> str:
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


def _plot_marginals(marginals: Sequence[Mapping[str, Any]],
                    shapes: Mapping[str, float]) -> str:
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


def _plot_pairs(pairs: Mapping[str, Any]) -> str:
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


def _plot_dcr(dcr: Mapping[str, Any]) -> str:
    fig = _new_figure(6.5, 3.2)
    ax = fig.subplots()
    fig.subplots_adjust(left=0.12, right=0.97, bottom=0.17, top=0.95)
    edges = np.asarray(dcr["edges"], dtype=np.float64)
    ax.stairs(dcr["train"], edges, fill=True, alpha=0.45, color=_SYNTH_COLOR,
              label="synthetic -> train")
    ax.stairs(dcr["holdout"], edges, color=_REAL_COLOR, linewidth=1.6,
              label="synthetic -> holdout")
    ax.set_xlabel("distance to closest record", fontsize=8)
    ax.set_ylabel("share of synthetic rows", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=8)
    return _png(fig)


def _plot_curves(curves: Sequence[Mapping[str, Any]]) -> str:
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


def _plot_groups(tables: Sequence[Mapping[str, Any]]) -> str:
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


# -- HTML --------------------------------------------------------------------------------------
_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:72rem;
padding:0 1rem;color:#1d2330;line-height:1.45}
h1{font-size:1.6rem}h2{font-size:1.25rem;border-bottom:1px solid #d9dde5;padding-bottom:.2rem;
margin-top:2rem}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{border:1px solid #d9dde5;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f5f8}td.num{text-align:right;font-variant-numeric:tabular-nums}
td small{color:#5b6472}
.gate{display:inline-block;padding:.4rem .9rem;border-radius:.3rem;font-weight:700;color:#fff}
.gate.pass{background:#2e7d32}.gate.fail{background:#c62828}
.status{font-weight:600}.status.pass{color:#2e7d32}.status.fail{color:#c62828}
.status.warn{color:#b26a00}.status.skipped,.status.info{color:#5f6b7a}
figure{margin:1rem 0}figure img{max-width:100%;height:auto;border:1px solid #eef0f4}
figcaption{font-size:.85rem;color:#5f6b7a}
pre{background:#f6f8fa;padding:.6rem;overflow-x:auto;font-size:.8rem}
.muted{color:#5f6b7a}
"""

#: nothing may load from elsewhere: images are data: URIs, the style is inline, there is no script
_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def _column_shapes(report: SuiteReport) -> dict[str, float]:
    for c in report.checks:
        cols = c.details.get("columns") if c.validator == "fidelity.column_shapes" else None
        if isinstance(cols, Mapping):
            return {str(k): float(v) for k, v in cols.items() if _is_number(v)}
    return {}


def _render_html(report: SuiteReport) -> str:
    e = html.escape
    sections: list[str] = []
    notes = list(report.notes)
    verdict = "PASSED" if report.gate else "FAILED"

    summary = [f"<p><span class=\"gate {'pass' if report.gate else 'fail'}\" id=\"gate\">"
               f"Gate {verdict}</span>"]
    if report.failed:
        summary.append(f" failed: {e(', '.join(report.failed))}")
    summary.append("</p>")
    if report.description:
        summary.append(f"<p>{e(report.description)}</p>")
    items = [f"suite file: <code>{e(report.source)}</code>",
             *[e(line[2:]) for line in _input_lines(report.inputs)],
             f"synthaug {e(report.synthaug_version)}, {e(report.created)}"]
    summary.append("<ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>")
    sections.append(_section("summary", "Summary", "".join(summary)))

    rows = []
    for c in report.checks:
        rows.append(
            "<tr>" + "".join([
                # the validator only when the check's id differs: one long column, not two
                f"<td>{e(c.id)}" + (f"<br><small>{e(c.validator)}</small>"
                                     if c.validator != c.id else "") + "</td>",
                f"<td class=\"num\">{e(_fmt(c.value))}</td>",
                f"<td>{e(_fmt_interval(c.interval))}</td>",
                f"<td>{e(c.threshold_text)}</td>", f"<td>{'yes' if c.gates else 'no'}</td>",
                f"<td class=\"status {e(c.status)}\">{e(c.status)}</td>",
                f"<td>{e(c.note or c.description)}</td>",
            ]) + "</tr>"
        )
    table = ("<table><thead><tr><th>check (validator)</th><th>value</th><th>interval</th>"
             "<th>threshold</th><th>gates</th><th>status</th><th>note</th></tr></thead>"
             f"<tbody>{''.join(rows)}</tbody></table>")
    sections.append(_section("checks", "Checks", table))

    figs = report.figures
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        notes.append("Plots left out: matplotlib is not installed (pip install matplotlib).")
        figs = {}
    if figs.get("marginals"):
        img = _plot_marginals(figs["marginals"], _column_shapes(report))
        sections.append(_section(
            "marginals", "Marginals: real vs synthetic",
            _figure(img, "Marginal distributions, real vs synthetic, one panel per column",
                    "Share of rows per bin (numbers, dates) or per level (categories; the "
                    f"{MAX_LEVELS} most frequent real levels, the rest as (other)).")))
    pairs = figs.get("pair_trends")
    if pairs:
        sections.append(_section(
            "pair-trends", "Pair trends: correlation difference",
            _figure(_plot_pairs(pairs), "Heatmap of pair-trend differences between columns",
                    f"0 = the pair relates the same way in both tables. "
                    f"{pairs.get('definition', '')}.")))
    dcr = figs.get("dcr")
    if dcr:
        caption = ("Distance from each synthetic row to its closest training row and to its "
                   "closest holdout row. Synthetic rows much closer to train than to holdout "
                   "suggest memorised training records.")
        if dcr.get("median_train") is not None:
            caption += (f" Medians: train {dcr['median_train']:.4g}, holdout "
                        f"{dcr['median_holdout']:.4g}.")
        sections.append(_section(
            "dcr", "Privacy: distance to closest record",
            _figure(_plot_dcr(dcr), "Histogram of distances to closest record, train vs "
                    "holdout", caption)))
    groups = figs.get("group_rates")
    if groups:
        sections.append(_section(
            "group-rates", "Bias: group shares and outcome rates",
            _figure(_plot_groups(groups), "Group rates, real vs synthetic",
                    "Per group of the sensitive columns, as reported by the bias validators.")))

    curves = figs.get("curves") or []
    for category, anchor, heading, caption in [
        ("fidelity", "support-curves", "Fidelity: alpha-precision and beta-recall curves",
         "Share of synthetic rows inside the real alpha-support (precision) and of real rows "
         "reached inside the synthetic beta-support (recall), against alpha / beta; the "
         "dashed diagonal is a perfect match."),
        ("privacy", "attack-roc", "Privacy: membership-inference ROC",
         "How well an attacker holding the synthetic data tells training rows from holdout "
         "rows; the dashed diagonal is guessing, a curve bowing above it is a leak."),
    ]:
        mine = [c for c in curves if c.get("category") == category]
        if mine:
            sections.append(_section(anchor, heading, _figure(
                _plot_curves(mine), heading, caption)))

    gaps = fairness_gaps(report)
    if gaps:
        gap_rows = "".join(
            "<tr>" + "".join([
                f"<td>{e(g['check'])}</td>", f"<td>{e(g['grouping'])}</td>",
                f"<td>{e(g['gap'])}</td>", f"<td class=\"num\">{e(_fmt(g['real']))}</td>",
                f"<td class=\"num\">{e(_fmt(g['synthetic']))}</td>",
                f"<td class=\"num\">{e(_fmt(g['change']))}</td>",
                f"<td>{e(_fmt_interval(g['interval']))}</td>",
                f"<td class=\"status {_VERDICT_CLASS.get(g['verdict'], 'info')}\">"
                f"{e(g['verdict'])}</td>",
            ]) + "</tr>" for g in gaps)
        sections.append(_section(
            "bias-gaps", "Bias: did the synthetic data widen or narrow each gap?",
            "<p>Each fairness gap measured on real data and on synthetic data (or on a model "
            "trained on it); a change inside its interval is reported as unchanged.</p>"
            "<table><thead><tr><th>check</th><th>grouping</th><th>gap</th><th>real</th>"
            "<th>synthetic</th><th>change</th><th>interval</th><th>verdict</th></tr></thead>"
            f"<tbody>{gap_rows}</tbody></table>"))

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
        f"<meta http-equiv=\"Content-Security-Policy\" content=\"{_CSP}\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<meta name=\"generator\" content=\"synthaug {e(report.synthaug_version)}\">\n"
        f"<title>{e(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        f"<h1>{e(title)}</h1>\n" + "\n".join(sections) + "\n</body>\n</html>\n"
    )


def _section(anchor: str, heading: str, body: str) -> str:
    return f"<section id=\"{anchor}\">\n<h2>{html.escape(heading)}</h2>\n{body}\n</section>"


def _figure(png_b64: str, alt: str, caption: str) -> str:
    return (f"<figure><img src=\"data:image/png;base64,{png_b64}\" alt=\"{html.escape(alt)}\">"
            f"<figcaption>{html.escape(caption)}</figcaption></figure>")


# -- formatting --------------------------------------------------------------------------------
def _fmt(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if value != 0 and (abs(value) >= 1000 or abs(value) < 0.001):
        return f"{value:.3g}"
    return f"{value:.3f}"


def _fmt_interval(interval: tuple[float, float] | None) -> str:
    return f"[{_fmt(interval[0])}, {_fmt(interval[1])}]" if interval else ""


def _md_cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")
