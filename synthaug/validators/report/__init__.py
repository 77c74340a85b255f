"""Suite reports: JSON for machines, Markdown for review, one self-contained HTML file with plots.

A :class:`SuiteReport` is what :meth:`Suite.run <synthaug.validators.suite.Suite.run>` returns:
every check's result, the gate, a summary of the inputs and the figure data behind its plots.
The package is cut by responsibility:

``model``
    the report as data: :class:`CheckResult`, :class:`SuiteReport`, the gate, the JSON round
    trip and writing files (through :mod:`synthaug.utils.files`);
``details``
    :func:`compact_details`: a score's details made JSON-able, per-row arrays summarised;
``figures``
    the figure-data contract: the kinds validators (``BaseValidator.figures``) and modalities
    (``Modality.figures``) hand the report, and their merge;
``plots``
    matplotlib drawing only (imported when a plot is drawn);
``markdown``, ``html`` (+ ``report.css``)
    rendering only.
"""

from synthaug.validators.report.details import compact_details
from synthaug.validators.report.model import (
    REPORT_FORMAT,
    REPORT_FORMAT_VERSION,
    CheckResult,
    SuiteReport,
    report_format,
)

__all__ = [
    "REPORT_FORMAT",
    "REPORT_FORMAT_VERSION",
    "CheckResult",
    "SuiteReport",
    "compact_details",
    "report_format",
]
