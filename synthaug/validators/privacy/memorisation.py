"""``privacy.memorisation``: a three-sample test of whether the synthetic rows copy training rows.

Distance to closest record asks whether synthetic rows are closer to the training rows than to
unseen rows.  On a table whose rows repeat naturally (a few coded columns) almost every row,
fresh or copied, sits at distance 0 from both, and that question has no answer: a verbatim copy
and a sample from the true distribution both score 0.5.  This validator asks it so that it has
one on every table, and says how much of the synthetic data behaves like copies.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from synthaug.exceptions import InvalidDataError, NotComputableError
from synthaug.utils.validation import check_int, check_number
from synthaug.validators._common import MixedDistanceEncoder, resolve_validator_device
from synthaug.validators.base import FEATURE_MODALITIES, BaseValidator, Score, register_validator
from synthaug.validators.privacy._attack import check_holdout_overlap
from synthaug.validators.privacy._repeats import _byte_rows, closeness, one_sided_p

__all__ = ["Memorisation"]


def _subsample(n: int, size: int | None, rng: np.random.Generator) -> np.ndarray:
    if size is None or size >= n:
        return np.arange(n)
    return np.sort(rng.choice(n, size=size, replace=False))


def _standard_error(*parts: tuple[np.ndarray, np.ndarray, float]) -> float:
    """Standard error of ``sum(weight * lean)`` over the rows of every part, with identical rows
    taken together.

    Identical rows lean alike (the lean is a function of the row), and on a table of few
    distinct rows the lean of each value is one draw of the split: what varies from one split
    to the next is which values happen to lean which way.  So the variance is summed over
    distinct values, each with the weight of all its rows (a cluster-robust variance); where
    no row repeats, every value is one row and it is the usual variance of the means.  A
    synthetic sample piled onto a few values weighs those draws heavily, and its standard error
    grows to match, so a poor generator is not taken for a copier.
    """
    keys = np.concatenate([_byte_rows(rows) for rows, _, _ in parts])
    leans = np.concatenate([lean for _, lean, _ in parts])
    weights = np.concatenate([np.full(len(rows), w) for rows, _, w in parts])
    _, group = np.unique(keys, return_inverse=True)
    total = np.bincount(group, weights=weights)  # each value's weight, all parts together
    lean_of = np.zeros(len(total))
    lean_of[group] = leans  # identical rows lean alike, so any of them will do
    return math.sqrt(float(np.sum(total**2 * lean_of**2)))


@register_validator("privacy.memorisation")
class Memorisation(BaseValidator):
    """Share of the synthetic rows that behave like copies of training rows, beyond chance.

    Three samples: the training rows ``T``, a holdout ``H`` of real rows the generator never
    saw, and the synthetic rows ``S``.  ``T`` and ``H`` are cut to one size, and every row of
    ``S`` is asked which of them it is closer to (the comparison of ``privacy.dcr``): nearer by
    distance wins, and at equal distance the side holding more exact copies of the row wins,
    so on discrete data, where most rows lie at distance 0 from both, a row wins for ``T``
    when it sits where training rows pile up beyond what the holdout shows.  A generator that
    learnt the distribution draws rows independent of both samples, so each comparison is a
    fair coin whatever the data; a copy of a training row leans to ``T``.

    How far a copy leans depends on the data (all the way on continuous data, a little on a
    table of few distinct rows), so the lean of ``S`` is divided by the lean of the training
    rows themselves, which is what a verbatim copy of them would show.  Before dividing, the
    lean that real rows show on average (training and holdout rows alike; zero in expectation,
    and taking it off removes most of the noise of the split) is subtracted.  The estimate is
    then the share of copied rows: about ``f`` for a generator that copies a share ``f`` of its
    training rows and draws the rest from the true distribution, about 1 for a verbatim copy,
    about 0 for a fresh sample.  The headline value first discounts ``chance_z`` standard
    errors, so a lean that the noise of these sample sizes explains counts 0 (a fresh sample
    passes), and is clipped to [0, 1].

    Parameters
    ----------
    chance_z : float, default 2.0
        Standard errors of chance taken off the lean before it counts (one-sided: a fresh
        sample scores 0 about 977 times in 1000, and the suites' thresholds of 0.05-0.10 on
        top of it let it through more than 995 times in 1000; the standard error was checked
        against 40 repeated splits of four repeating tables, where it matched the spread of the
        estimate within 20%).
    max_synthetic_rows : int or None, default 100_000
        Score a uniform sample of at most this many synthetic rows (None: all).
    max_reference_rows : int or None, default 100_000
        Size cap of both reference samples (None: ``min(len(train), len(holdout))``).
    max_holdout_overlap : float, default 0.05
        Raise when more holdout rows copy training rows than chance explains by this share
        (see ``privacy.dcr``): such a holdout is not unseen data.
    device : str, default "auto"
        "auto" (a CUDA GPU when present), "cpu", "cuda", "cuda:N".
    random_state : int or None, default 0
        Seed of the subsamples.

    Raises
    ------
    NotComputableError
        When even a verbatim copy of the training rows would not lean to them by more than
        ``chance_z`` standard errors (a table of a handful of distinct rows, each shared by
        many people): copying cannot be told from a fresh sample there.

    Notes
    -----
    Details: ``estimate`` (the share of copied rows, before discounting chance) and its 95%
    ``estimate_interval``; ``share_closer_to_train`` (the synthetic rows' comparison as
    ``privacy.dcr`` reports it, ties half); ``copy_reference`` (what a verbatim copy of the
    training rows scores) and ``fresh_reference`` (what the holdout rows score; near
    ``1 - copy_reference``); ``null_reference`` (what rows independent of both score, from the
    training and holdout rows); ``std_error``, ``z_score`` and ``p_value`` of the lean;
    ``decided`` (the share of comparisons that were not a draw); ``n_synthetic``,
    ``n_reference``, ``n_copy_reference``, ``holdout_overlap``, ``device``.

    References
    ----------
    Meehan, Chaudhuri and Dasgupta, "A Non-Parametric Test to Detect Data-Copying in
    Generative Models", AISTATS 2020 (the three-sample idea); the distance comparison is that
    of distance to closest record (Park et al., 2018).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> def draw(n):  # 6 columns of 3 levels: 729 distinct rows, nearly every one repeats
    ...     return pd.DataFrame({c: rng.choice(list("abc"), n) for c in "uvwxyz"})
    >>> train, holdout = draw(3000), draw(3000)
    >>> test = Memorisation(device="cpu")
    >>> test.score(train, train, holdout=holdout).value > 0.5  # a verbatim copy
    True
    >>> test.score(train, draw(3000), holdout=holdout).value  # a fresh sample
    0.0
    """

    category = "privacy"
    direction = "lower"
    modalities = FEATURE_MODALITIES

    def __init__(
        self,
        *,
        chance_z: float = 2.0,
        max_synthetic_rows: int | None = 100_000,
        max_reference_rows: int | None = 100_000,
        max_holdout_overlap: float = 0.05,
        device: str = "auto",
        random_state: int | None = 0,
    ) -> None:
        self.chance_z = chance_z
        self.max_synthetic_rows = max_synthetic_rows
        self.max_reference_rows = max_reference_rows
        self.max_holdout_overlap = max_holdout_overlap
        self.device = device
        self.random_state = random_state

    def _check_params(self) -> None:
        check_number(self.chance_z, "chance_z", minimum=0)
        check_int(self.max_synthetic_rows, "max_synthetic_rows", 1, allow_none=True)
        check_int(self.max_reference_rows, "max_reference_rows", 1, allow_none=True)
        check_number(self.max_holdout_overlap, "max_holdout_overlap", minimum=0, maximum=1)
        check_int(self.random_state, "random_state", 0, allow_none=True)

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
        tables = self._prepare(real, synthetic, holdout, context, require_holdout=True)
        cols = list(tables.columns)
        train = tables.real[:, cols]
        synth = tables.synthetic[:, cols]
        if tables.holdout is None:  # _prepare enforces it; this narrows the type for mypy
            raise InvalidDataError(f"{self.name} needs a holdout.")
        hold = tables.holdout[:, cols]
        overlap = check_holdout_overlap(hold, train, self.max_holdout_overlap, self.name)

        rng = np.random.default_rng(self.random_state)
        n_ref = min(len(train), len(hold))
        if self.max_reference_rows is not None:
            n_ref = min(n_ref, self.max_reference_rows)
        t_ref = train[_subsample(len(train), n_ref, rng)]
        h_ref = hold[_subsample(len(hold), n_ref, rng)]
        s_rows = synth[_subsample(len(synth), self.max_synthetic_rows, rng)]
        # a verbatim copy draws from all the training rows, not only the reference sample: its
        # copies of rows outside the sample look fresh, as the generator's would
        copy_rows = train[_subsample(len(train), self.max_synthetic_rows, rng)]

        encoder = MixedDistanceEncoder(tables.column_schemas).fit(train, synth, hold)
        z_t, z_h = encoder.transform(t_ref), encoder.transform(h_ref)

        def lean(rows: np.ndarray) -> np.ndarray:
            return closeness(rows, encoder.transform(rows), t_ref, z_t, h_ref, z_h,
                             device=device)["side"].astype(np.float64)

        o_s, o_copy = lean(s_rows), lean(copy_rows)
        o_t, o_h = lean(t_ref), lean(h_ref)
        # rows independent of both samples lean 0 in expectation; the reference rows' average
        # lean carries most of the noise of this particular split, so taking it off keeps the
        # estimate from inheriting it (a control variate)
        null = 0.5 * (o_t.mean() + o_h.mean())
        numerator = o_s.mean() - null
        scale = o_copy.mean() - null
        se = _standard_error((s_rows, o_s, 1.0 / len(s_rows)), (t_ref, o_t, -0.5 / n_ref),
                             (h_ref, o_h, -0.5 / n_ref))
        z = float(self.chance_z)
        if not scale > z * se:
            raise NotComputableError(
                f"{self.name}: on these data a verbatim copy of the training rows would lean "
                f"to them by only {scale / se if se > 0 else 0.0:.1f} standard errors "
                f"(needed: more than chance_z = {z:g}), so copying cannot be told from a fresh "
                "sample: the rows repeat so much that a copy discloses about as much as a "
                "fresh draw. More rows (train, holdout and synthetic) sharpen the test."
            )
        estimate = numerator / scale
        half = 1.96 * se / scale
        value = min(max(numerator - z * se, 0.0) / scale, 1.0)
        z_score = numerator / se if se > 0 else (math.inf if numerator > 0 else 0.0)
        details: dict[str, Any] = {
            "estimate": float(estimate),
            "estimate_interval": [float(estimate - half), float(estimate + half)],
            "share_closer_to_train": float(0.5 + 0.5 * o_s.mean()),
            "copy_reference": float(0.5 + 0.5 * o_copy.mean()),
            "fresh_reference": float(0.5 + 0.5 * o_h.mean()),
            "null_reference": float(0.5 + 0.5 * null),
            "std_error": float(se / scale),
            "z_score": float(z_score) if math.isfinite(z_score) else None,
            "p_value": one_sided_p(z_score),
            "chance_z": z,
            "decided": float(np.mean(o_s != 0)),
            "n_synthetic": len(s_rows),
            "n_reference": int(n_ref),
            "n_copy_reference": len(copy_rows),
            "holdout_overlap": overlap,
            "device": str(device),
        }
        return self._score(value, details=details)
