"""Distance-based privacy validators: distance to closest record, NNDR and exact copies.

Both look at how close synthetic rows come to the rows the generator was trained on.  A
generator that memorises its training data puts synthetic rows nearer to training rows than to
real rows it never saw (the holdout); one that learned the distribution puts them equally near.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from synthaug.exceptions import InvalidDataError, InvalidParameterError, NotComputableError
from synthaug.utils.validation import check_number
from synthaug.validators._common import (
    MixedDistanceEncoder,
    exact_match,
    nearest_neighbours,
    resolve_validator_device,
)
from synthaug.validators.base import FEATURE_MODALITIES, BaseValidator, Score, register_validator
from synthaug.validators.privacy._attack import check_holdout_overlap
from synthaug.validators.privacy._repeats import (
    chance_excess,
    duplicate_counts,
    loo_copy_hits,
    sides,
)

__all__ = ["DistanceToClosestRecord", "ExactCopies", "NearestNeighbourDistanceRatio"]

#: bins of the DCR histograms kept in the details (for the report's plots)
_HIST_BINS = 20


def _check_rows(value: int | None, name: str) -> None:
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
        raise InvalidParameterError(f"{name} must be a positive integer or None, got {value!r}.")


def _subsample(n: int, size: int | None, rng: np.random.Generator) -> np.ndarray:
    """Sorted row numbers of a uniform sample of ``size`` of ``n`` rows (all if fewer)."""
    if size is None or size >= n:
        return np.arange(n)
    return np.sort(rng.choice(n, size=size, replace=False))


@register_validator("privacy.dcr")
class DistanceToClosestRecord(BaseValidator):
    """Distance to closest record: are synthetic rows nearer to training rows than to unseen ones?

    For each synthetic row, the distance to its closest row in a sample of the training data is
    compared with the distance to its closest holdout row.  Both reference sets have the same
    number of rows (a larger set alone pulls distances down), so a generator that learned the
    distribution rather than the rows puts half of the synthetic rows closer to each: the value
    is the share closer to the training sample (ties count half), 0.5 meaning no signal and 1.0
    every row closer to a training row.  This is the privacy figure of ``BENCHMARKS.md``.

    At equal distances the sample holding more exact copies of the row counts as closer, and
    only equal distances with equally many copies are ties.  That is the tie rule discrete data
    need: on a table of a few coded columns most rows lie at distance 0 from both samples, and
    with ties counted half a verbatim copy scored 0.5, like a fresh sample; a copy sits where
    training rows pile up, so it now leans to the training sample.  A row independent of both
    samples still has even chances (the two samples are exchangeable), so 0.5 keeps meaning no
    signal.  How far a verbatim copy leans depends on the data (1.0 on continuous data, less
    where rows repeat); ``privacy.memorisation`` divides by it to estimate the share copied.

    Distances are Euclidean on :class:`~synthaug.validators._common.MixedDistanceEncoder`'s
    embedding (numbers scaled by their robust range, categories one-hot so that a different level
    counts 1), fitted on the training data.  The nearest-neighbour search is brute force in
    bounded-memory torch blocks, on the GPU when ``device`` (or ``context["device"]``) names one.

    Parameters
    ----------
    max_synthetic_rows : int or None, default 100_000
        Score a uniform sample of at most this many synthetic rows (None: all).
    max_reference_rows : int or None, default 100_000
        Size cap of both reference sets (None: ``min(len(train), len(holdout))``).
    max_holdout_overlap : float, default 0.05
        Raise when a larger share of holdout rows are exact copies of training rows: such a
        holdout is not unseen data, and the comparison would understate the risk.
    device : str, default "auto"
        "auto" (a CUDA GPU when present), "cpu", "cuda", "cuda:N".
    random_state : int or None, default 0
        Seed of the subsamples.

    Notes
    -----
    Details hold the median distance to the training sample and to the holdout and their
    ratio, the 5th percentiles, the exact-match rates (synthetic rows identical to a training
    row, over the whole training data; and to a holdout row, the baseline of what chance
    gives), the median nearest-neighbour distance ratio (NNDR: distance to the nearest over the
    second-nearest training-sample row; near 0 means a synthetic row sits on one particular
    record; 0 for exact copies), and histograms of both distances.  Synthetic rows that copy a
    training row outside the sample count as no-signal; ``privacy.exact_copies`` catches them.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> def draw(n):
    ...     return pd.DataFrame({"x": rng.normal(size=n), "y": rng.normal(size=n)})
    >>> train, holdout = draw(300), draw(300)
    >>> leaky = DistanceToClosestRecord(device="cpu").score(train, train, holdout=holdout)
    >>> leaky.value
    1.0
    >>> fair = DistanceToClosestRecord(device="cpu").score(train, draw(300), holdout=holdout)
    >>> 0.4 < fair.value < 0.6
    True
    """

    category = "privacy"
    direction = "lower"
    modalities = FEATURE_MODALITIES

    def __init__(
        self,
        *,
        max_synthetic_rows: int | None = 100_000,
        max_reference_rows: int | None = 100_000,
        max_holdout_overlap: float = 0.05,
        device: str = "auto",
        random_state: int | None = 0,
    ) -> None:
        self.max_synthetic_rows = max_synthetic_rows
        self.max_reference_rows = max_reference_rows
        self.max_holdout_overlap = max_holdout_overlap
        self.device = device
        self.random_state = random_state

    def score(
        self,
        real: Any,
        synthetic: Any,
        *,
        holdout: Any = None,
        context: Mapping[str, Any] | None = None,
    ) -> Score:
        _check_rows(self.max_synthetic_rows, "max_synthetic_rows")
        _check_rows(self.max_reference_rows, "max_reference_rows")
        if not 0.0 <= self.max_holdout_overlap <= 1.0:
            raise InvalidParameterError(
                f"max_holdout_overlap must be within [0, 1], got {self.max_holdout_overlap!r}."
            )
        device = resolve_validator_device(self.device, context)
        tables = self._prepare(real, synthetic, holdout, context, require_holdout=True)
        cols = list(tables.columns)
        train = tables.real[:, cols]
        synth = tables.synthetic[:, cols]
        hold = tables.holdout[:, cols] if tables.holdout is not None else None
        if hold is None:  # _prepare enforces it; this narrows the type for mypy
            raise InvalidDataError(f"{self.name} needs a holdout.")

        overlap = check_holdout_overlap(hold, train, self.max_holdout_overlap, self.name)

        rng = np.random.default_rng(self.random_state)
        n_ref = min(len(train), len(hold))
        if self.max_reference_rows is not None:
            n_ref = min(n_ref, self.max_reference_rows)
        train_rows = _subsample(len(train), n_ref, rng)
        hold_rows = _subsample(len(hold), n_ref, rng)
        synth_rows = _subsample(len(synth), self.max_synthetic_rows, rng)

        encoder = MixedDistanceEncoder(tables.column_schemas).fit(train, synth, hold)
        z_train = encoder.transform(train[train_rows])
        z_hold = encoder.transform(hold[hold_rows])
        z_synth = encoder.transform(synth[synth_rows])
        d_train2, _ = nearest_neighbours(z_synth, z_train, k=2, device=device)
        d_hold, _ = nearest_neighbours(z_synth, z_hold, k=1, device=device)
        to_train = d_train2[:, 0]
        to_hold = d_hold[:, 0]

        # at equal distances the side with more exact copies of the row is closer: on a table
        # whose rows repeat, most rows sit at distance 0 from both samples, and only the
        # copies tell a row drawn from the training rows from a fresh one (ties: exact draws)
        synth_sample = synth[synth_rows]
        side = sides(to_train, to_hold, duplicate_counts(synth_sample, train[train_rows]),
                     duplicate_counts(synth_sample, hold[hold_rows]))
        tie = side == 0
        share = float(np.mean(side > 0) + 0.5 * tie.mean())
        n = len(to_train)
        half_width = 1.96 * math.sqrt(max(share * (1.0 - share), 0.25 / n) / n)
        interval = (max(0.0, share - half_width), min(1.0, share + half_width))

        nndr = _nndr(d_train2)
        med_train, med_hold = float(np.median(to_train)), float(np.median(to_hold))
        synth_all = tables.synthetic[:, cols]
        details: dict[str, Any] = {
            "share_closer_to_train": share,
            "ties": float(tie.mean()),
            "median_dcr_train": med_train,
            "median_dcr_holdout": med_hold,
            # None rather than inf when only the holdout median is 0: reports are JSON
            "median_ratio": med_train / med_hold if med_hold > 0 else
            (1.0 if med_train == 0 else None),
            "p05_dcr_train": float(np.percentile(to_train, 5)),
            "p05_dcr_holdout": float(np.percentile(to_hold, 5)),
            "exact_match_rate": float(exact_match(synth_all, train).mean()),
            "exact_match_rate_holdout": float(exact_match(synth_all, hold).mean()),
            "median_nndr": float(np.median(nndr)),
            "holdout_overlap": overlap,
            "n_synthetic": int(n),
            "n_reference": int(n_ref),
            "device": str(device),
            "histogram": _histograms(to_train, to_hold),
        }
        return self._score(share, interval=interval, details=details)

    def figures(self, score: Score) -> dict[str, Any]:
        """The ``dcr`` figure: the histograms of both distances, as shares of synthetic rows."""
        # imported on use: a direct score() call never loads the report package
        from synthaug.validators.report.figures import dcr_figure

        details = score.details
        figure = dcr_figure(details.get("histogram"),
                            median_train=details.get("median_dcr_train"),
                            median_holdout=details.get("median_dcr_holdout"))
        if figure is None:
            found = ", ".join(sorted(map(str, details))) or "none"
            return {"notes": [f"DCR histogram skipped: the {score.validator} score carries no "
                              f"histogram in its details (found keys: {found})."]}
        return {"dcr": figure}


def _nndr(distances: np.ndarray) -> np.ndarray:
    """Nearest over second-nearest distance per row of a (n, 2) distance array.

    0 when both are 0 (the row sits on a duplicated record); 1 when there is no second
    reference row (no evidence either way).
    """
    first, second = distances[:, 0], distances[:, 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(second > 0, first / second, 0.0)
    ratio[np.isinf(second)] = 1.0
    return ratio


def _histograms(to_train: np.ndarray, to_hold: np.ndarray) -> dict[str, list[float]]:
    """Counts of both distance sets on shared bins up to their 99th percentile (for plots)."""
    top = float(np.percentile(np.concatenate([to_train, to_hold]), 99))
    edges = np.linspace(0.0, top if top > 0 else 1.0, _HIST_BINS + 1)
    train_counts, _ = np.histogram(np.minimum(to_train, edges[-1]), bins=edges)
    hold_counts, _ = np.histogram(np.minimum(to_hold, edges[-1]), bins=edges)
    return {
        "edges": edges.tolist(),
        "train": train_counts.astype(float).tolist(),
        "holdout": hold_counts.astype(float).tolist(),
    }


@register_validator("privacy.exact_copies")
class ExactCopies(BaseValidator):
    """Share of synthetic rows that copy a training row, beyond the rate chance gives.

    Rows are compared after the schema encoding (so ``40`` and ``40.0`` are equal, and missing
    equals missing); identifier columns are left out, since generators make fresh ids.  Rows
    are compared byte for byte in a canonical encoding, so it is linear in the number of rows
    and no hash collision can count as a copy.

    On a table whose rows repeat (a few coded columns) a fresh sample from the true
    distribution copies training rows too, nearly as often as a verbatim copy, so the raw copy
    rate cannot tell them apart.  It is compared with the base rate the data set: the share of
    holdout rows that copy a training row when a holdout is given, else the share of training
    rows that copy another training row (leaving each out in turn: an unbiased estimate of how
    often a fresh row copies one).  The value is the share of synthetic rows that would have
    to be copies, rather than fresh rows that happen to coincide, to explain the excess over
    the base rate, after taking ``chance_z`` standard errors of the no-difference hypothesis
    off it (see :func:`~synthaug.validators.privacy._repeats.chance_excess`).  With no repeats
    in the data (base rate 0) there is no chance to discount, and the value is the raw copy
    rate, as before: 1.0 for a verbatim copy, ``f`` for a generator that copies a share ``f``
    of its rows.  Where nearly every row repeats, a copy is no rarer than a fresh draw; when
    even a verbatim copy could not rise above chance the check says so
    (:class:`~synthaug.exceptions.NotComputableError`: a suite reports it as not computable)
    and ``privacy.memorisation`` measures copying instead, from a holdout.

    Parameters
    ----------
    chance_z : float, default 3.0
        Standard errors of chance taken off the excess before it counts.

    Notes
    -----
    Details hold ``copy_rate`` (the raw share of synthetic rows that copy a training row),
    ``base_rate`` and ``base_rate_from`` (``"holdout"`` or ``"train, leave-one-out"``),
    ``estimate`` (the share of copies before discounting chance), ``std_error``, the number of
    copies and of training rows copied, and, when a holdout is given, ``holdout_copy_rate``.

    Examples
    --------
    >>> import pandas as pd
    >>> train = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "c": ["a", "b", "a", "b"]})
    >>> synthetic = pd.DataFrame({"x": [1.0, 2.5], "c": ["a", "b"]})
    >>> ExactCopies().score(train, synthetic).value
    0.5
    """

    category = "privacy"
    direction = "lower"
    modalities = FEATURE_MODALITIES

    def __init__(self, *, chance_z: float = 3.0) -> None:
        self.chance_z = chance_z

    def _check_params(self) -> None:
        check_number(self.chance_z, "chance_z", minimum=0)

    def score(
        self,
        real: Any,
        synthetic: Any,
        *,
        holdout: Any = None,
        context: Mapping[str, Any] | None = None,
    ) -> Score:
        self._check_params()
        tables = self._prepare(real, synthetic, holdout, context)
        cols = list(tables.columns)
        train = tables.real[:, cols]
        synth = tables.synthetic[:, cols]
        copies = exact_match(synth, train)
        details: dict[str, Any] = {
            "n_copies": int(copies.sum()),
            "n_synthetic": len(synth),
            "train_rows_copied": int(
                exact_match(train, synth[copies]).sum() if copies.any() else 0
            ),
        }
        if tables.holdout is not None:
            held = exact_match(tables.holdout[:, cols], train)
            details["holdout_copy_rate"] = float(held.mean())
            base_hits, n_base, source = int(held.sum()), len(held), "holdout"
        else:
            base_hits, n_base, source = loo_copy_hits(train), len(train), "train, leave-one-out"
        z = float(self.chance_z)
        excess = chance_excess(int(copies.sum()), len(synth), base_hits, n_base, z=z)
        # what a verbatim copy of the training rows would score here: when even that is within
        # chance, exact copies cannot show copying on these data at all
        if chance_excess(len(synth), len(synth), base_hits, n_base, z=z).beyond_chance <= 0:
            instead = ("privacy.memorisation measures copying from the holdout instead (it "
                       "compares how close synthetic rows are to the training rows and to the "
                       "holdout)." if source == "holdout" else "Give a holdout, so that "
                       "privacy.memorisation (which compares how close synthetic rows are to "
                       "the training rows and to the holdout) can measure it.")
            raise NotComputableError(
                f"{self.name}: {excess.base_rate:.1%} of fresh rows of these data copy a "
                f"training row by chance ({source}), so even a verbatim copy of the training "
                "rows would copy no more often than chance explains: exact copies cannot show "
                f"copying here. {instead}"
            )
        details.update({
            "copy_rate": excess.rate,
            "base_rate": excess.base_rate,
            "base_rate_from": source,
            "estimate": excess.estimate,
            "std_error": excess.std_error,
            "chance_z": z,
        })
        return self._score(excess.beyond_chance, details=details)


@register_validator("privacy.nndr")
class NearestNeighbourDistanceRatio(BaseValidator):
    """Nearest-neighbour distance ratio: do synthetic rows sit on one particular training row?

    For each synthetic row, the distance to its nearest training row is divided by the distance
    to its second-nearest (NNDR, the ratio test of Lowe 2004 applied to synthetic data).  A
    ratio near 0 means the row is far closer to one real record than to any other: it singles
    that record out, which exact or near copies do; a ratio near 1 means it lies among several
    records alike.  The value is a low quantile of the ratios (by default the 5th percentile,
    the summary of Zhao et al., CTAB-GAN, ACML 2021, which looks at the rows most at risk);
    higher is safer.  The interval is a percentile bootstrap over synthetic rows.

    With a holdout, the same ratios are computed against an equal-size sample of the holdout
    (rows the generator never saw) as a baseline: a generator that learned the distribution
    gives the same ratios against both, one that memorised gives lower ratios against the
    training rows.  Training rows are then subsampled to the holdout's size, as in
    ``privacy.dcr`` (the ratio depends on how many reference rows there are).

    Distances are those of ``privacy.dcr`` (mixed-type Euclidean on
    :class:`~synthaug.validators._common.MixedDistanceEncoder`'s embedding fitted on the training
    data), searched in bounded-memory blocks, on the GPU when ``device`` (or
    ``context["device"]``) names one.  A ratio is 0 when both distances are 0 (a copy of a
    duplicated record) and 1 when there is no second reference row.

    Parameters
    ----------
    quantile : float, default 0.05
        The quantile of the ratios reported as the value (0.5: the median).
    threshold : float, default 0.5
        Ratios below it count as "close to one record" in the details.
    max_synthetic_rows : int or None, default 100_000
        Score a uniform sample of at most this many synthetic rows (None: all).
    max_reference_rows : int or None, default 100_000
        Size cap of the reference set(s).
    max_holdout_overlap : float, default 0.05
        With a holdout: raise when a larger share of holdout rows copy training rows.
    n_bootstrap : int, default 200
        Bootstrap resamples of the interval (0: no interval).
    device : str, default "auto"
        "auto" (a CUDA GPU when present), "cpu", "cuda", "cuda:N".
    random_state : int or None, default 0
        Seed of the subsamples and the bootstrap.

    Notes
    -----
    Details: ``quantile``, ``nndr_quantile`` (the value), ``median_nndr``, ``mean_nndr``,
    ``share_below_threshold``, ``threshold``, ``n_synthetic``, ``n_reference``, ``device``,
    ``histogram`` (``edges`` of 20 bins on [0, 1], ``train`` counts, and ``holdout`` counts
    with a holdout, the layout of ``privacy.dcr``); with a holdout also ``holdout`` (the
    baseline: ``nndr_quantile``, ``median_nndr``, ``mean_nndr``, ``share_below_threshold``) and
    ``holdout_overlap``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> def draw(n):
    ...     return pd.DataFrame({"x": rng.normal(size=n), "y": rng.normal(size=n)})
    >>> train, holdout = draw(300), draw(300)
    >>> nndr = NearestNeighbourDistanceRatio(device="cpu")
    >>> nndr.score(train, train, holdout=holdout).value  # copies: ratio 0
    0.0
    >>> fair = nndr.score(train, draw(300), holdout=holdout)
    >>> abs(fair.value - fair.details["holdout"]["nndr_quantile"]) < 0.1
    True
    """

    category = "privacy"
    direction = "higher"
    modalities = FEATURE_MODALITIES

    def __init__(
        self,
        *,
        quantile: float = 0.05,
        threshold: float = 0.5,
        max_synthetic_rows: int | None = 100_000,
        max_reference_rows: int | None = 100_000,
        max_holdout_overlap: float = 0.05,
        n_bootstrap: int = 200,
        device: str = "auto",
        random_state: int | None = 0,
    ) -> None:
        self.quantile = quantile
        self.threshold = threshold
        self.max_synthetic_rows = max_synthetic_rows
        self.max_reference_rows = max_reference_rows
        self.max_holdout_overlap = max_holdout_overlap
        self.n_bootstrap = n_bootstrap
        self.device = device
        self.random_state = random_state

    def _check_params(self) -> None:
        _check_rows(self.max_synthetic_rows, "max_synthetic_rows")
        _check_rows(self.max_reference_rows, "max_reference_rows")
        for name in ("quantile", "threshold", "max_holdout_overlap"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) \
                    or not 0.0 <= value <= 1.0:
                raise InvalidParameterError(f"{name} must be within [0, 1], got {value!r}.")
        if not isinstance(self.n_bootstrap, int) or isinstance(self.n_bootstrap, bool) \
                or self.n_bootstrap < 0:
            raise InvalidParameterError(
                f"n_bootstrap must be an integer >= 0, got {self.n_bootstrap!r}."
            )

    def score(
        self,
        real: Any,
        synthetic: Any,
        *,
        holdout: Any = None,
        context: Mapping[str, Any] | None = None,
    ) -> Score:
        self._check_params()
        device = resolve_validator_device(self.device, context)
        tables = self._prepare(real, synthetic, holdout, context)
        cols = list(tables.columns)
        train = tables.real[:, cols]
        synth = tables.synthetic[:, cols]
        hold = tables.holdout[:, cols] if tables.holdout is not None else None
        overlap = None
        if hold is not None:
            overlap = check_holdout_overlap(hold, train, self.max_holdout_overlap, self.name)

        rng = np.random.default_rng(self.random_state)
        n_ref = len(train) if hold is None else min(len(train), len(hold))
        if self.max_reference_rows is not None:
            n_ref = min(n_ref, self.max_reference_rows)
        train_rows = _subsample(len(train), n_ref, rng)
        synth_rows = _subsample(len(synth), self.max_synthetic_rows, rng)
        others = (synth,) if hold is None else (synth, hold)
        encoder = MixedDistanceEncoder(tables.column_schemas).fit(train, *others)
        z_synth = encoder.transform(synth[synth_rows])
        d_train, _ = nearest_neighbours(z_synth, encoder.transform(train[train_rows]), k=2,
                                        device=device)
        ratios = _nndr(d_train)
        value = float(np.quantile(ratios, self.quantile))
        edges = np.linspace(0.0, 1.0, _HIST_BINS + 1)
        details: dict[str, Any] = {
            "quantile": float(self.quantile),
            "nndr_quantile": value,
            **self._summary(ratios),
            "threshold": float(self.threshold),
            "n_synthetic": len(synth_rows),
            "n_reference": int(n_ref),
            "device": str(device),
        }
        histogram = {"edges": edges.tolist(),
                     "train": np.histogram(ratios, bins=edges)[0].astype(float).tolist()}
        if hold is not None:
            hold_rows = _subsample(len(hold), n_ref, rng)
            d_hold, _ = nearest_neighbours(z_synth, encoder.transform(hold[hold_rows]), k=2,
                                           device=device)
            baseline = _nndr(d_hold)
            details["holdout"] = {
                "nndr_quantile": float(np.quantile(baseline, self.quantile)),
                **self._summary(baseline),
            }
            details["holdout_overlap"] = overlap
            histogram["holdout"] = np.histogram(baseline, bins=edges)[0].astype(float).tolist()
        details["histogram"] = histogram
        return self._score(value, interval=self._bootstrap(ratios, rng), details=details)

    def _summary(self, ratios: np.ndarray) -> dict[str, float]:
        return {
            "median_nndr": float(np.median(ratios)),
            "mean_nndr": float(np.mean(ratios)),
            "share_below_threshold": float(np.mean(ratios < self.threshold)),
        }

    def _bootstrap(self, ratios: np.ndarray,
                   rng: np.random.Generator) -> tuple[float, float] | None:
        if self.n_bootstrap == 0:
            return None
        stats = np.array([
            np.quantile(ratios[rng.integers(0, len(ratios), len(ratios))], self.quantile)
            for _ in range(self.n_bootstrap)
        ])
        low, high = np.percentile(stats, [2.5, 97.5])
        return float(low), float(high)
