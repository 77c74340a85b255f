"""Group-level bias validators: do sensitive groups keep their share of rows and their outcomes?

Both compare the real and the synthetic data group by group, for each sensitive column and for
their intersection (Buolamwini & Gebru 2018 showed that gaps hide in intersections that no
single column shows; Kearns et al. 2018 call the wider idea subgroup fairness).  A generator can
keep every marginal close and still drop a small group, or learn its outcome badly, and a model
trained on its rows inherits that.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from synthaug.exceptions import InvalidDataError
from synthaug.utils.validation import check_int
from synthaug.validators.base import BaseValidator, Score, register_validator
from synthaug.validators.bias._grouping import (
    Grouping,
    Intersections,
    build_groupings,
    check_intersections,
    check_sensitive_param,
    group_means,
    normal_interval,
    resolve_outcome,
    resolve_sensitive,
    resolve_target,
)

__all__ = ["GroupRepresentation", "OutcomeParity"]


def _labels(grouping: Grouping, keep: np.ndarray) -> list[str]:
    return [grouping.labels[g] for g in np.flatnonzero(keep)]


@register_validator("bias.group_representation")
class GroupRepresentation(BaseValidator):
    """Largest gap between a sensitive group's share of rows in the real and synthetic data.

    For each sensitive column, and for the intersection of all of them when there are two or
    more, the share of rows in each group is computed in the real and in the synthetic data.
    The value is the largest absolute difference of shares over all groups and groupings: 0 when
    every group keeps its share, up to 1.  A missing value is a group of its own.

    A group present in the real data but absent from the synthetic data has a gap equal to its
    whole real share and is listed in ``details["missing_groups"]``; groups present only in the
    synthetic data (a new level, or an intersection the real data never shows) count their
    synthetic share and are listed in ``details["unseen_groups"]``.

    The interval is a 95% normal-approximation interval of the gap of the group that sets the
    value (independent binomial shares, clipped to [0, 1]); it does not account for the value
    being the largest of many gaps.

    Parameters
    ----------
    sensitive : str or sequence of str, optional
        The sensitive columns (``"sex,race"`` or ``["sex", "race"]``); default
        ``context["sensitive"]``, which a suite fills from its ``sensitive`` argument.
    max_groups : int, default 50
        Refuse a sensitive column with more distinct real values than this: it is probably
        continuous (age in years) and should be binned first.  Intersections are not capped.
    intersections : {"full", "pairs", "none"}, default "full"
        Which intersections to add when there are two or more sensitive columns: the
        intersection of all of them ("full"), that and every pair when there are three or more
        columns ("pairs": small full intersections are noisy, pairs keep more rows per group),
        or none.

    Notes
    -----
    Details (all plain JSON):

    ``representation``
        ``{grouping: {"real": {group: share}, "synthetic": {group: share}}}``, groups with at
        least one row on that side; groupings are column names, intersections ``"sex & race"``
        with groups ``"Female & White"``.
    ``group_counts``
        Rows per group, the same layout.
    ``max_gap``
        ``{grouping: largest share gap}``.
    ``missing_groups``, ``unseen_groups``
        ``{grouping: [group, ...]}``, only groupings with such groups.
    ``worst``
        ``{"column", "group", "real", "synthetic", "gap"}`` of the group that sets the value.
    ``groupings``, ``n_real``, ``n_synthetic``

    Examples
    --------
    >>> import pandas as pd
    >>> real = pd.DataFrame({"sex": ["F", "M", "M", "M"], "x": [1.0, 2.0, 3.0, 4.0]})
    >>> synthetic = pd.DataFrame({"sex": ["F", "F", "M", "M"], "x": [1.0, 2.0, 3.0, 4.0]})
    >>> score = GroupRepresentation(sensitive="sex").score(real, synthetic)
    >>> score.value, score.details["representation"]["sex"]["synthetic"]
    (0.25, {'M': 0.5, 'F': 0.5})
    """

    category = "bias"
    direction = "lower"

    def __init__(
        self,
        *,
        sensitive: str | Sequence[str] | None = None,
        max_groups: int = 50,
        intersections: Intersections = "full",
    ) -> None:
        check_sensitive_param(sensitive)
        check_int(max_groups, "max_groups", 1)
        check_intersections(intersections)
        self.sensitive = sensitive
        self.max_groups = max_groups
        self.intersections = intersections

    def score(
        self,
        real: Any,
        synthetic: Any,
        *,
        holdout: Any = None,
        context: Mapping[str, Any] | None = None,
    ) -> Score:
        names = resolve_sensitive(self.sensitive, context, self.name)
        tables = self._prepare(real, synthetic, context=context)
        groupings = build_groupings(tables, names, max_groups=self.max_groups,
                                    intersections=self.intersections, validator=self.name)
        n_real, n_synth = len(tables.real), len(tables.synthetic)
        representation: dict[str, Any] = {}
        group_counts: dict[str, Any] = {}
        max_gap: dict[str, float] = {}
        missing: dict[str, list[str]] = {}
        unseen: dict[str, list[str]] = {}
        worst: dict[str, Any] = {}
        worst_se = 0.0
        for grouping in groupings:
            count_r, count_s = grouping.counts("real"), grouping.counts("synthetic")
            share_r, share_s = count_r / n_real, count_s / n_synth
            gap = np.abs(share_r - share_s)
            in_r, in_s = count_r > 0, count_s > 0
            representation[grouping.name] = {"real": grouping.by_label(share_r, in_r),
                                             "synthetic": grouping.by_label(share_s, in_s)}
            group_counts[grouping.name] = {"real": grouping.by_label(count_r, in_r),
                                           "synthetic": grouping.by_label(count_s, in_s)}
            max_gap[grouping.name] = float(gap.max())
            if (in_r & ~in_s).any():
                missing[grouping.name] = _labels(grouping, in_r & ~in_s)
            if (in_s & ~in_r).any():
                unseen[grouping.name] = _labels(grouping, in_s & ~in_r)
            g = int(np.argmax(gap))
            if not worst or gap[g] > worst["gap"]:
                worst = {"column": grouping.name, "group": grouping.labels[g],
                         "real": float(share_r[g]), "synthetic": float(share_s[g]),
                         "gap": float(gap[g])}
                worst_se = math.sqrt(share_r[g] * (1 - share_r[g]) / n_real
                                     + share_s[g] * (1 - share_s[g]) / n_synth)
        value = float(worst["gap"])
        details: dict[str, Any] = {
            "representation": representation,
            "group_counts": group_counts,
            "max_gap": max_gap,
            "missing_groups": missing,
            "unseen_groups": unseen,
            "worst": worst,
            "groupings": [g.name for g in groupings],
            "n_real": n_real,
            "n_synthetic": n_synth,
        }
        return self._score(value, interval=normal_interval(value, worst_se), details=details)

    def figures(self, score: Score) -> dict[str, Any]:
        """Each group's share of rows, real vs synthetic, as a ``group_rates`` table."""
        # imported on use: a direct score() call never loads the report package
        from synthaug.validators.report.figures import group_rates_figure

        return group_rates_figure(score, score.details.get("representation"),
                                  key="representation", title="Share of rows per group")


@register_validator("bias.outcome_parity")
class OutcomeParity(BaseValidator):
    """Largest gap between a sensitive group's outcome rate in the real and synthetic data.

    For each sensitive column and their intersection, the outcome of each group is computed in
    the real and the synthetic data, and the value is the largest absolute difference over the
    groups with at least ``min_group_rows`` real rows: 0 when every group keeps its outcome, up
    to 1.  The outcome of a group is

    * for a binary or categorical target: the rate of the ``positive`` class (by default the
      real data's least frequent class, usually the one of interest: ``>50K``, default, fraud);
    * for a numerical target (more than two distinct values): the mean, and gaps are divided by
      the real target's standard deviation (a standardised mean difference, as in Cohen's d)
      and capped at 1, so a gap of 1 means one standard deviation or more.

    Rows whose target is missing are left out.  A group with enough real rows but no synthetic
    row counts as a full gap of 1 (its outcome cannot have been kept) and is listed in
    ``details["missing_groups"]``.  Groups with fewer real rows are reported (rates, counts,
    ``details["excluded_groups"]``) but do not set the value: their rates are mostly noise.

    Details also hold the within-data parity gap of each grouping, the largest minus the
    smallest group outcome among groups with at least ``min_group_rows`` rows on both sides (the
    demographic parity difference of the data itself), in the real and the synthetic data, and
    whether the synthetic data ``"widened"`` or ``"narrowed"`` it, or left it ``"unchanged"``:
    the change is inside a 95% normal-approximation interval of the difference of the two gaps
    (each gap's variance from its two extreme groups, ignoring that they were picked as
    extremes).

    The interval is a 95% normal-approximation interval of the gap of the group that sets the
    value (a missing group's full gap has the interval [1, 1]).  When no group has
    ``min_group_rows`` real rows the value is NaN, which never passes a threshold.

    Parameters
    ----------
    target : str, optional
        The outcome column; default ``context["target"]``.
    sensitive : str or sequence of str, optional
        The sensitive columns; default ``context["sensitive"]``.
    positive : optional
        The class whose rate is compared (a value of the target as it appears in the real data,
        such as ``">50K"``, ``1`` or ``True``).  Given for a numerical target, rates of
        ``target == positive`` are compared instead of means.
    min_group_rows : int, default 300
        Groups with fewer real rows (with a target) do not set the value.  The gap of a group
        with ``n`` rows on each side has a sampling noise of about ``sqrt(2 p (1 - p) / n)``:
        0.035 for a rate ``p = 0.25`` and 300 rows, 0.06 for 100 rows.  Measured on Adult
        (income by sex, race and their intersection; 3,000 real rows against 3,000 other real
        rows, 8 draws), the value exceeded 0.05 in 0 of 8 draws with 300, in 5 of 8 with 100
        and in 7 of 8 with 30: small groups fail a 0.05 threshold by chance alone.  Lower it
        for small data and use a correspondingly looser threshold.
    max_groups : int, default 50
        Refuse a sensitive column with more distinct real values (bin it first).
    intersections : {"full", "pairs", "none"}, default "full"
        Intersections to add, as in :class:`GroupRepresentation`.

    Notes
    -----
    Details (all plain JSON):

    ``outcome_rates``
        ``{grouping: {"real": {group: outcome}, "synthetic": {group: outcome}}}`` (raw means
        for numerical targets).
    ``group_rows``
        Rows with a target per group, the same layout.
    ``gaps``
        ``{grouping: {group: gap}}`` for the groups that can set the value.
    ``excluded_groups``, ``missing_groups``
        ``{grouping: [group, ...]}``, only groupings with such groups.
    ``parity_gap``
        ``{grouping: {"real", "synthetic", "change", "interval", "verdict"}}`` (None values
        when fewer than two groups qualify).
    ``worst``
        ``{"column", "group", "real", "synthetic", "gap"}`` of the group that sets the value.
    ``target``, ``outcome`` ("rate" or "mean"), ``positive``, ``scale``, ``min_group_rows``,
    ``n_real``, ``n_synthetic``, ``groupings``

    Examples
    --------
    >>> import pandas as pd
    >>> real = pd.DataFrame({"sex": ["F"] * 4 + ["M"] * 4,
    ...                      "y": [1, 0, 0, 0, 1, 1, 0, 0]})
    >>> synthetic = real.assign(y=[1, 1, 0, 0, 1, 1, 0, 0])
    >>> score = OutcomeParity(target="y", sensitive="sex", min_group_rows=4).score(real, synthetic)
    >>> score.value, score.details["outcome_rates"]["sex"]["synthetic"]
    (0.25, {'F': 0.5, 'M': 0.5})
    >>> score.details["parity_gap"]["sex"]["real"], score.details["parity_gap"]["sex"]["synthetic"]
    (0.25, 0.0)
    """

    category = "bias"
    direction = "lower"

    def __init__(
        self,
        *,
        target: str | None = None,
        sensitive: str | Sequence[str] | None = None,
        positive: Any = None,
        min_group_rows: int = 300,
        max_groups: int = 50,
        intersections: Intersections = "full",
    ) -> None:
        check_sensitive_param(sensitive)
        check_int(min_group_rows, "min_group_rows", 1)
        check_int(max_groups, "max_groups", 1)
        check_intersections(intersections)
        self.target = target
        self.sensitive = sensitive
        self.positive = positive
        self.min_group_rows = min_group_rows
        self.max_groups = max_groups
        self.intersections = intersections

    def score(
        self,
        real: Any,
        synthetic: Any,
        *,
        holdout: Any = None,
        context: Mapping[str, Any] | None = None,
    ) -> Score:
        target = resolve_target(self.target, context, self.name)
        names = resolve_sensitive(self.sensitive, context, self.name)
        tables = self._prepare(real, synthetic, context=context)
        outcome = resolve_outcome(tables, target, self.positive, self.name)
        groupings = build_groupings(tables, names, max_groups=self.max_groups,
                                    intersections=self.intersections, validator=self.name,
                                    exclude=(target,))
        y_real, y_synth = outcome.values["real"], outcome.values["synthetic"]
        has_real, has_synth = ~np.isnan(y_real), ~np.isnan(y_synth)
        if not has_synth.any():
            raise InvalidDataError(
                f"{self.name}: the target column {target!r} is missing in every synthetic row, "
                "so no outcome can be compared. Check that the generator produced the target."
            )
        scale = outcome.scale
        rates: dict[str, Any] = {}
        rows: dict[str, Any] = {}
        gaps: dict[str, Any] = {}
        excluded: dict[str, list[str]] = {}
        missing: dict[str, list[str]] = {}
        parity: dict[str, Any] = {}
        worst: dict[str, Any] = {}
        worst_interval: tuple[float, float] | None = None
        for grouping in groupings:
            k = grouping.n_groups
            n_r, m_r, v_r = group_means(grouping.codes["real"][has_real], y_real[has_real], k)
            n_s, m_s, v_s = group_means(grouping.codes["synthetic"][has_synth],
                                        y_synth[has_synth], k)
            in_r, in_s = n_r > 0, n_s > 0
            eligible = n_r >= self.min_group_rows
            with np.errstate(invalid="ignore"):
                gap = np.where(in_s, np.minimum(np.abs(m_r - m_s) / scale, 1.0), 1.0)
            rates[grouping.name] = {"real": grouping.by_label(m_r, in_r),
                                    "synthetic": grouping.by_label(m_s, in_s)}
            rows[grouping.name] = {"real": grouping.by_label(n_r.astype(np.int64), in_r),
                                   "synthetic": grouping.by_label(n_s.astype(np.int64), in_s)}
            gaps[grouping.name] = grouping.by_label(gap, eligible)
            if (in_r & ~eligible).any():
                excluded[grouping.name] = _labels(grouping, in_r & ~eligible)
            if (eligible & ~in_s).any():
                missing[grouping.name] = _labels(grouping, eligible & ~in_s)
            parity[grouping.name] = self._parity(
                (n_r, m_r, v_r), (n_s, m_s, v_s), eligible & (n_s >= self.min_group_rows), scale
            )
            if not eligible.any():
                continue
            g = int(np.flatnonzero(eligible)[np.argmax(gap[eligible])])
            if not worst or gap[g] > worst["gap"]:
                worst = {"column": grouping.name, "group": grouping.labels[g],
                         "real": float(m_r[g]),
                         "synthetic": float(m_s[g]) if in_s[g] else None,
                         "gap": float(gap[g])}
                if in_s[g]:
                    se = math.sqrt(v_r[g] / n_r[g] + v_s[g] / n_s[g]) / scale
                    worst_interval = normal_interval(float(gap[g]), se)
                else:
                    worst_interval = (1.0, 1.0)
        details: dict[str, Any] = {
            "outcome_rates": rates,
            "group_rows": rows,
            "gaps": gaps,
            "excluded_groups": excluded,
            "missing_groups": missing,
            "parity_gap": parity,
            "worst": worst or None,
            "target": target,
            "outcome": outcome.kind,
            "positive": outcome.positive,
            "scale": scale,
            "min_group_rows": self.min_group_rows,
            "n_real": int(has_real.sum()),
            "n_synthetic": int(has_synth.sum()),
            "groupings": [g.name for g in groupings],
        }
        if not worst:
            details["note"] = (
                f"no group has {self.min_group_rows} real rows with a target, so no gap is "
                "reliable enough to score; lower min_group_rows or give more rows."
            )
            return self._score(float("nan"), details=details)
        return self._score(worst["gap"], interval=worst_interval, details=details)

    def figures(self, score: Score) -> dict[str, Any]:
        """Each group's outcome, real vs synthetic, with the within-data parity gaps."""
        # imported on use: a direct score() call never loads the report package
        from synthaug.validators.report.figures import gap_rows, group_rates_figure

        parity = score.details.get("parity_gap")
        gaps = gap_rows({grouping: {"outcome-rate gap (max - min)": entry}
                         for grouping, entry in parity.items()}
                        if isinstance(parity, Mapping) else {})
        return group_rates_figure(score, score.details.get("outcome_rates"),
                                  key="outcome_rates", title="Outcome rate per group", gaps=gaps)

    @staticmethod
    def _parity(
        real: tuple[np.ndarray, np.ndarray, np.ndarray],
        synth: tuple[np.ndarray, np.ndarray, np.ndarray],
        keep: np.ndarray,
        scale: float,
    ) -> dict[str, Any]:
        """Within-data parity gaps (max minus min group outcome) and the verdict on the change."""
        if keep.sum() < 2:
            return {"real": None, "synthetic": None, "change": None, "interval": None,
                    "verdict": None}
        found = []
        for n, mean, var in (real, synth):
            idx = np.flatnonzero(keep)
            hi, lo = idx[np.argmax(mean[idx])], idx[np.argmin(mean[idx])]
            gap = float(mean[hi] - mean[lo]) / scale
            se = math.sqrt(var[hi] / n[hi] + var[lo] / n[lo]) / scale
            found.append((gap, se))
        (gap_r, se_r), (gap_s, se_s) = found
        change = gap_s - gap_r
        se = math.sqrt(se_r**2 + se_s**2)
        interval = normal_interval(change, se, -math.inf, math.inf)
        if interval[0] > 0:
            verdict = "widened"
        elif interval[1] < 0:
            verdict = "narrowed"
        else:
            verdict = "unchanged"
        return {"real": gap_r, "synthetic": gap_s, "change": change,
                "interval": [interval[0], interval[1]], "verdict": verdict}
