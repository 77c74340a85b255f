"""Figure data: what validators and modalities hand a report, keyed by kind, and its merge.

A report draws its figures from plain, JSON-able data keyed by *kind*, never from validator
names or the layout of their details.  Two sources contribute:

* each validator that ran, through :meth:`BaseValidator.figures(score)
  <synthaug.validators.base.BaseValidator.figures>`;
* the data's modality, through :meth:`Modality.figures <synthaug.data.modality.Modality.figures>`
  (tables: marginals and the pair-trend matrix, :mod:`synthaug.data.tabular.figures`), which
  sees what the validators gave (``from_validators``) so it can reuse it.

:meth:`Suite.run <synthaug.validators.suite.Suite.run>` joins the validators' contributions
with :func:`merge_figures` and stores the result, with the modality's, in
:attr:`SuiteReport.figures <synthaug.validators.report.SuiteReport.figures>`.  The kinds the
renderers draw (:data:`KINDS`):

``marginals`` (modality, list)
    ``{"column", "kind", "type": "histogram" | "bars", "edges" | "labels", "real",
    "synthetic", "missing": {"real", "synthetic"}}`` per column: shares of rows per bin/level.
``pair_trends`` (validator ``fidelity.pair_trends``, re-ordered by the modality; dict)
    ``{"columns", "matrix", "definition"}``: 1 - the pair's similarity, None where unscored.
``dcr`` (validator ``privacy.dcr``, dict)
    ``{"edges", "train", "holdout", "median_train", "median_holdout"}``: shares of synthetic
    rows per distance bin (:func:`dcr_figure`).
``curves`` (alpha-precision, beta-recall, membership attacks; list)
    ``{"validator", "category", "title", "x_label", "y_label", "x", "y"}`` on [0, 1] x [0, 1],
    the diagonal being ideal or chance (:func:`curve_figure`).
``group_rates`` (bias validators, list)
    ``{"validator", "title", "key", "rows": [{"group", "real", "synthetic"}]}`` plus, where the
    validator measured them, ``"gaps"``: ``[{"grouping", "gap", "real", "synthetic", "change",
    "interval", "verdict"}]``, the table of widened / narrowed gaps (:func:`group_rates_figure`;
    the gaps are measured over the table's groups, so they travel with it rather than as a
    kind of their own, and a report of tables keeps the figure keys it always had).
``image_grid`` (image modality, dict)
    ``{"title", "classes", "real", "synthetic"}``, the two grids as base64 PNGs.
``text_samples`` (text modality, dict)
    ``{"title", "samples": [{"label", "real": [str, ...], "synthetic": [str, ...]}]}``.

Two more rules of the merge: ``"notes"`` is not a kind but a list of sentences for the report's
notes (a figure a validator could not make says why), and every item of a list kind is
labelled ``"check"`` with the id of the suite entry it came from, which the validator cannot
know.  Renderers leave kinds they do not know out, with a note (:func:`unknown_kinds`).

This module holds only the generic part: those builders, the merge, and what both renderers
read back out of a report.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeGuard

import numpy as np

from synthaug.validators.report.details import float_array

if TYPE_CHECKING:
    from synthaug.validators.base import Score
    from synthaug.validators.report.model import CheckResult

__all__ = [
    "KINDS",
    "MAX_GROUP_ROWS",
    "NOTES",
    "column_shapes",
    "curve_figure",
    "dcr_figure",
    "fairness_gaps",
    "finite",
    "gap_rows",
    "group_rates_figure",
    "is_number",
    "merge_figures",
    "read_image_grid",
    "read_text_samples",
    "unknown_kinds",
]

#: the figure kinds the renderers draw
KINDS = frozenset({"marginals", "pair_trends", "dcr", "curves", "group_rates", "image_grid",
                   "text_samples"})
#: the key of a ``figures()`` result that holds notes for the report rather than figure data
NOTES = "notes"
#: a group-rate table shows at most this many groups (the first ones)
MAX_GROUP_ROWS = 40

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")


# -- numbers -----------------------------------------------------------------------------------
def is_number(value: Any) -> bool:
    """Whether ``value`` is an int or a float (numpy's included), not a bool."""
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def finite(value: Any) -> float | None:
    """``value`` as a float when it is a finite number, else None.

    Examples
    --------
    >>> finite(0.5), finite(float("nan")), finite("0.5"), finite(True)
    (0.5, None, None, None)
    """
    return float(value) if is_number(value) and math.isfinite(float(value)) else None


# -- builders validators call from figures() ---------------------------------------------------
def curve_figure(score: Score, x: Any, y: Any, *, title: str, x_label: str,
                 y_label: str) -> dict[str, Any]:
    """``{"curves": [curve]}`` for a curve on [0, 1] x [0, 1]; ``{}`` without one.

    ``x`` and ``y`` must be sequences of the same length, at least two points; a value that is
    not a finite number becomes None (a gap in the line).

    Examples
    --------
    >>> from synthaug.validators.base import Score
    >>> score = Score("privacy.mia_distance", "privacy", "lower", 0.5)
    >>> curve_figure(score, [0, 1], [0, 1], title="ROC", x_label="fpr",
    ...              y_label="tpr")["curves"][0]["y"]
    [0.0, 1.0]
    >>> curve_figure(score, [0], [0], title="ROC", x_label="fpr", y_label="tpr")
    {}
    """
    if not (_sequence(x) and _sequence(y) and len(x) == len(y) and len(x) >= 2):
        return {}
    return {"curves": [{"validator": score.validator, "category": score.category,
                        "title": title, "x_label": x_label, "y_label": y_label,
                        "x": [finite(v) for v in x], "y": [finite(v) for v in y]}]}


def dcr_figure(histogram: Any, *, median_train: Any = None,
               median_holdout: Any = None) -> dict[str, Any] | None:
    """The ``dcr`` figure from histogram counts of distances to train and to holdout.

    Parameters
    ----------
    histogram : mapping
        ``{"edges": [...], "train": [...], "holdout": [...]}``: ``n + 1`` bin edges and ``n``
        counts of synthetic rows per bin for each reference set.
    median_train, median_holdout : float, optional
        Medians of the distances, shown in the caption (both or neither).

    Returns
    -------
    dict or None
        Edges, the counts as shares of synthetic rows, the medians; None when ``histogram``
        is not such a mapping.

    Examples
    --------
    >>> dcr_figure({"edges": [0, 1, 2], "train": [1, 3], "holdout": [2, 2]})["train"]
    [0.25, 0.75]
    """
    if not isinstance(histogram, Mapping):
        return None
    edges, train, hold = (float_array(histogram.get(k)) for k in ("edges", "train", "holdout"))
    if edges is None or train is None or hold is None \
            or not len(edges) == len(train) + 1 == len(hold) + 1:
        return None
    med_t, med_h = finite(median_train), finite(median_holdout)
    both = med_t is not None and med_h is not None
    return {"edges": edges.tolist(), "train": (train / max(train.sum(), 1)).tolist(),
            "holdout": (hold / max(hold.sum(), 1)).tolist(),
            "median_train": med_t if both else None, "median_holdout": med_h if both else None}


def group_rates_figure(score: Score, rates: Any, *, key: str, title: str,
                       gaps: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """``{"group_rates": [table]}`` from rates per group, real vs synthetic.

    Parameters
    ----------
    score : Score
        The bias score the rates come from (names the validator in the plot).
    rates : mapping
        ``{grouping: {"real": {group: rate}, "synthetic": {group: rate}}}``, the layout every
        bias validator reports; groups are shown as ``"grouping / group"``.
    key : str
        Which of the score's details the rates are (``"outcome_rates"``, ...).
    title : str
        What the rates are, for the plot.
    gaps : list of dict, optional
        The gaps the validator measured over these groups (:func:`gap_rows`).

    Returns
    -------
    dict
        The table, or ``{"notes": [...]}`` saying why there is none.

    Examples
    --------
    >>> from synthaug.validators.base import Score
    >>> score = Score("bias.group_representation", "bias", "lower", 0.1)
    >>> rates = {"sex": {"real": {"F": 0.5, "M": 0.5}, "synthetic": {"F": 0.4, "M": 0.6}}}
    >>> table = group_rates_figure(score, rates, key="representation", title="Share")
    >>> table["group_rates"][0]["rows"][0]
    {'group': 'sex / F', 'real': 0.5, 'synthetic': 0.4}
    """
    rows: list[dict[str, Any]] = []
    for grouping, sides in (rates.items() if isinstance(rates, Mapping) else ()):
        real = sides.get("real") if isinstance(sides, Mapping) else None
        synth = sides.get("synthetic") if isinstance(sides, Mapping) else None
        if not (isinstance(real, Mapping) and isinstance(synth, Mapping)):
            continue
        # a group absent from one side has no rate there: None, a gap in the bars
        rows += [{"group": f"{grouping} / {group}", "real": finite(real.get(group)),
                  "synthetic": finite(synth.get(group))}
                 for group in dict.fromkeys([*real, *synth])]
    if not rows:
        return {NOTES: [f"Group-rate plot skipped for {score.validator}: its score has no "
                        f"group rates ({key})."]}
    table: dict[str, Any] = {"validator": score.validator, "title": title, "key": key,
                             "rows": rows[:MAX_GROUP_ROWS]}
    if gaps is not None:
        table["gaps"] = gaps
    return {"group_rates": [table]}


def gap_rows(gaps: Any) -> list[dict[str, Any]]:
    """The rows of the widened / narrowed table from gaps measured per grouping.

    Parameters
    ----------
    gaps : mapping
        ``{grouping: {gap name: {"real", "synthetic", "change", "interval", "verdict"}}}``; a
        name's underscores become spaces.  Entries without a verdict are left out.

    Returns
    -------
    list of dict
        ``{"grouping", "gap", "real", "synthetic", "change", "interval", "verdict"}``, numbers
        that are not finite as None, ``interval`` a ``[low, high]`` list or None.

    Examples
    --------
    >>> gap_rows({"sex": {"demographic_parity_difference": {
    ...     "real": 0.1, "synthetic": 0.3, "change": 0.2, "interval": [0.1, 0.3],
    ...     "verdict": "widened"}}})[0]["gap"]
    'demographic parity difference'
    """
    rows: list[dict[str, Any]] = []
    for grouping, metrics in (gaps.items() if isinstance(gaps, Mapping) else ()):
        for metric, entry in (metrics.items() if isinstance(metrics, Mapping) else ()):
            if not isinstance(entry, Mapping) or "verdict" not in entry:
                continue
            interval = entry.get("interval")
            bounds = [finite(v) for v in interval] if _sequence(interval) else []
            rows.append({
                "grouping": str(grouping), "gap": str(metric).replace("_", " "),
                "real": finite(entry.get("real")), "synthetic": finite(entry.get("synthetic")),
                "change": finite(entry.get("change")),
                "interval": bounds if len(bounds) == 2 and None not in bounds else None,
                # kept as the validator gave it: None when too few groups qualified
                "verdict": entry["verdict"],
            })
    return rows


# -- the merge ---------------------------------------------------------------------------------
def merge_figures(
    contributions: Iterable[tuple[str, Mapping[str, Any]]],
) -> tuple[dict[str, Any], list[str]]:
    """Join the ``figures()`` results of a suite's checks, in check order.

    Parameters
    ----------
    contributions : iterable of (check id, figures)
        What each check's validator returned for its score.

    Returns
    -------
    figures : dict
        Lists of one kind concatenated, each item labelled with its check's id under
        ``"check"`` (unless it has one); any other kind from the first check that gives it.
    notes : list of str
        The ``"notes"`` of every contribution.

    Examples
    --------
    >>> merged, notes = merge_figures([
    ...     ("a", {"curves": [{"title": "P"}], "dcr": {"edges": [0, 1]}}),
    ...     ("b", {"curves": [{"title": "R"}], "dcr": {"edges": [0, 2]}, "notes": ["n"]})])
    >>> merged["curves"], merged["dcr"], notes
    ([{'check': 'a', 'title': 'P'}, {'check': 'b', 'title': 'R'}], {'edges': [0, 1]}, ['n'])
    """
    merged: dict[str, Any] = {}
    notes: list[str] = []
    for check, figures in contributions:
        for kind, data in figures.items():
            if kind == NOTES:
                notes.extend([data] if isinstance(data, str) else [str(n) for n in data])
            elif isinstance(data, list):
                earlier = merged.setdefault(kind, [])
                if isinstance(earlier, list):  # a kind given once as a dict keeps the dict
                    earlier.extend({"check": check, **item} if isinstance(item, Mapping)
                                   else item for item in data)
            else:
                merged.setdefault(kind, data)
    return merged, notes


# -- what renderers read back ------------------------------------------------------------------
def fairness_gaps(figures: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every gap of the report's group-rate tables, labelled with its check, in check order.

    Examples
    --------
    >>> fairness_gaps({"group_rates": [{"check": "parity", "rows": [], "gaps": [
    ...     {"grouping": "sex", "gap": "g", "verdict": None}]}]})[0]["verdict"]
    'None'
    """
    rows: list[dict[str, Any]] = []
    for table in figures.get("group_rates") or ():
        if not isinstance(table, Mapping):
            continue
        for gap in table.get("gaps") or ():
            if isinstance(gap, Mapping):
                # verdict as text: "None" where the validator could not judge, as reports show it
                rows.append({"check": str(table.get("check", table.get("validator", ""))),
                             **gap, "verdict": str(gap.get("verdict"))})
    return rows


def column_shapes(checks: Sequence[CheckResult]) -> dict[str, float]:
    """Per-column scores of the first ``fidelity.column_shapes`` check, for plot titles.

    The one place a report still looks a validator up by name: the per-column scores are
    not figure data of their own (a new kind would change the figure keys a report of tables
    has), so they are read from the check's details.
    """
    for c in checks:
        cols = c.details.get("columns") if c.validator == "fidelity.column_shapes" else None
        if isinstance(cols, Mapping):
            return {str(k): float(v) for k, v in cols.items() if is_number(v)}
    return {}


def unknown_kinds(figures: Mapping[str, Any]) -> list[str]:
    """A note for each kind of figure data the renderers do not draw."""
    return [f"Figure data of kind {kind!r} left out: this synthaug does not draw it (a newer "
            "synthaug or a plug-in made it)." for kind in figures if kind not in KINDS]


def read_image_grid(data: Any) -> tuple[dict[str, Any] | None, str | None]:
    """The ``image_grid`` figure checked for drawing, or None and a note saying why not.

    Examples
    --------
    >>> read_image_grid({"title": "t", "real": "not a png", "synthetic": ""})[1]
    'Image grid left out: its real and synthetic images are not both base64 PNGs.'
    """
    if not isinstance(data, Mapping):
        return None, "Image grid left out: its figure data is not a mapping."
    real, synthetic = _png_base64(data.get("real")), _png_base64(data.get("synthetic"))
    if real is None or synthetic is None:
        return None, "Image grid left out: its real and synthetic images are not both base64 PNGs."
    classes = data.get("classes")
    return {"title": str(data.get("title") or "Images: real vs synthetic"),
            "classes": [str(c) for c in classes] if _sequence(classes) else [],
            "real": real, "synthetic": synthetic}, None


def read_text_samples(data: Any) -> tuple[dict[str, Any] | None, str | None]:
    """The ``text_samples`` figure checked for drawing, or None and a note saying why not.

    Examples
    --------
    >>> read_text_samples({"title": "t", "samples": [{"label": "pos", "real": ["a"],
    ...                                               "synthetic": ["b", 3]}]})[0]["samples"]
    [{'label': 'pos', 'real': ['a'], 'synthetic': ['b', '3']}]
    """
    samples = data.get("samples") if isinstance(data, Mapping) else None
    out: list[dict[str, Any]] = []
    for sample in samples if _sequence(samples) else ():
        if not isinstance(sample, Mapping):
            continue
        real, synthetic = sample.get("real"), sample.get("synthetic")
        out.append({"label": str(sample.get("label", "")),
                    "real": [str(t) for t in real] if _sequence(real) else [],
                    "synthetic": [str(t) for t in synthetic] if _sequence(synthetic) else []})
    if not out:
        return None, "Text samples left out: the figure data holds no samples."
    title = data.get("title") if isinstance(data, Mapping) else None
    return {"title": str(title or "Texts: real vs synthetic"), "samples": out}, None


def _sequence(value: Any) -> TypeGuard[Sequence[Any]]:
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes))


def _png_base64(value: Any) -> str | None:
    """``value`` without whitespace when it is base64 text of a PNG file, else None.

    Checked, not trusted: the text goes into an ``src`` attribute, so anything but base64 could
    end the attribute, and a data URI of another type would not display under the page's CSP.
    """
    if not isinstance(value, str):
        return None
    text = "".join(value.split())
    if not _BASE64.fullmatch(text):
        return None
    try:
        head = base64.b64decode(text[:16], validate=True)
    except (binascii.Error, ValueError):
        return None
    return text if head.startswith(_PNG_SIGNATURE) else None
