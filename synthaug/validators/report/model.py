"""The suite report as data: check results, the gate, the JSON round trip and writing files.

A :class:`SuiteReport` holds the outcome of every check of a suite, the gate, a summary of the
inputs (made by the data's modality) and the aggregate numbers behind its figures (histogram
counts, category shares, a pair-trend matrix, curves, group rates; see
:mod:`synthaug.validators.report.figures`), never data rows.  This module is the data and its
JSON form (:meth:`SuiteReport.to_json`, read back with :meth:`SuiteReport.from_dict`); the
Markdown and HTML renderers live in their own modules and only read a report.

Every file is written through :mod:`synthaug.utils.files`: rendered completely first, then
written under a temporary name that is renamed when complete, so a failure never leaves a
partial report behind.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from synthaug._version import __version__
from synthaug.exceptions import InvalidParameterError, ValidationFailedError
from synthaug.utils.files import write_text
from synthaug.utils.formatting import format_number
from synthaug.utils.serialization import to_jsonable
from synthaug.validators.report.html import render_html
from synthaug.validators.report.markdown import render_markdown

__all__ = [
    "REPORT_FORMAT",
    "REPORT_FORMAT_VERSION",
    "CheckResult",
    "ReportFormat",
    "Status",
    "SuiteReport",
    "report_format",
]

REPORT_FORMAT = "synthaug.suite-report"
#: bump only for a change old readers cannot follow; new figure kinds and new keys are not one
#: (readers ignore kinds they do not know)
REPORT_FORMAT_VERSION = 1

Status = Literal["pass", "fail", "warn", "info", "skipped"]
ReportFormat = Literal["json", "markdown", "html"]

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
    ``inputs`` is the modality's summary of the data (``Modality.describe``: the modality,
    and a ``summary`` per role), ``figures`` the figure data by kind
    (:mod:`synthaug.validators.report.figures`).

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
            value = format_number(c.value)
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

    # -- Markdown and HTML --------------------------------------------------------------------
    def to_markdown(self) -> str:
        """The report as Markdown: gate, inputs, a table of checks, notes."""
        return render_markdown(self)

    def to_html(self) -> str:
        """The report as one self-contained HTML page, plots embedded as PNG images."""
        return render_html(self)

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
        return write_text(target, text)

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

