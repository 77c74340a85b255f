"""Membership-inference attacks: can an attacker holding the synthetic data tell who trained it?

Both attacks score *candidates*: training rows (members) and holdout rows the generator never saw
(non-members), equally many of each.  Each gives every candidate a membership score from the
synthetic data alone, and the validator reports the ROC AUC of those scores: 0.5 when members
and non-members look alike to the attacker (no risk), 1.0 when every member is found.

* ``privacy.mia_distance`` scores a candidate by minus its distance to the closest synthetic row:
  the distance-to-closest-record attack (as in Chen et al., "GAN-Leaks", CCS 2020, full
  black-box setting, and the DCR-based attacks surveyed by Stadler et al., USENIX Security 2022).
* ``privacy.mia_density`` is the density-ratio attack DOMIAS (van Breugel et al., "Membership
  Inference Attacks against Synthetic Data through Overfitting Detection", AISTATS 2023), with
  the density ratio estimated by a classifier.
* ``privacy.mia_shadow`` (:mod:`synthaug.validators.privacy.shadow`) trains a copy of the target
  generator as a shadow and learns from it what a member looks like.

The interval is DeLong's for the AUC; details add the membership advantage, TPR at low FPRs
and a thinned ROC curve (see :func:`synthaug.validators.privacy._attack.roc_summary`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from threadpoolctl import threadpool_limits

from synthaug.data.modality import Prepared
from synthaug.exceptions import InsufficientDataError, InvalidDataError
from synthaug.utils.validation import check_fraction, check_positive_int
from synthaug.validators._common import (
    MixedDistanceEncoder,
    nearest_neighbours,
    resolve_validator_device,
)
from synthaug.validators.base import FEATURE_MODALITIES, BaseValidator, Score, register_validator
from synthaug.validators.privacy._attack import (
    check_holdout_overlap,
    roc_summary,
)

__all__ = ["DistanceMembershipInference", "DensityRatioMembershipInference"]

#: fewest non-members: below this the AUC's interval is too wide to say anything
_MIN_CANDIDATES = 10
#: HistGradientBoosting handles at most this many levels in a native categorical feature
_MAX_NATIVE_LEVELS = 255


def _sample(n: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """Sorted row numbers of a uniform sample of ``size`` of ``n`` rows (all if fewer)."""
    if size >= n:
        return np.arange(n)
    return np.sort(rng.choice(n, size=size, replace=False))


class _MembershipAttack(BaseValidator):
    """Shared parameters, checks and reporting of the membership-inference validators."""

    category = "privacy"
    direction = "lower"

    def __init__(
        self,
        *,
        max_candidates: int = 10_000,
        max_synthetic_rows: int | None = 100_000,
        max_holdout_overlap: float = 0.05,
        confidence: float = 0.95,
        random_state: int | None = 0,
    ) -> None:
        self.max_candidates = max_candidates
        self.max_synthetic_rows = max_synthetic_rows
        self.max_holdout_overlap = max_holdout_overlap
        self.confidence = confidence
        self.random_state = random_state

    def _check_params(self) -> None:
        check_positive_int(self.max_candidates, "max_candidates", minimum=_MIN_CANDIDATES)
        check_positive_int(self.max_synthetic_rows, "max_synthetic_rows", allow_none=True)
        check_fraction(self.max_holdout_overlap, "max_holdout_overlap")
        check_fraction(self.confidence, "confidence", open_low=True, open_high=True)

    def _inputs(
        self, real: Any, synthetic: Any, holdout: Any, context: Mapping[str, Any] | None
    ) -> tuple[Prepared, np.ndarray, np.ndarray, np.ndarray, float]:
        """Checked tables, the compared columns of train, synthetic and holdout, the overlap."""
        self._check_params()
        tables = self._prepare(real, synthetic, holdout, context, require_holdout=True)
        cols = list(tables.columns)
        if tables.holdout is None:  # _prepare enforces it; this narrows the type for mypy
            raise InvalidDataError(f"{self.name} needs a holdout.")
        train, synth = tables.real[:, cols], tables.synthetic[:, cols]
        hold = tables.holdout[:, cols]
        overlap = check_holdout_overlap(hold, train, self.max_holdout_overlap, self.name)
        return tables, train, synth, hold, overlap

    def _reference_split(
        self, train: np.ndarray, synth: np.ndarray, hold: np.ndarray,
        reference_share: float, min_reference: int, rng: np.random.Generator,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """For the model-based attacks: the holdout rows the attacker knows (as row numbers of
        ``hold``), the non-member and member candidates (equally many), and the synthetic rows
        (capped at ``max_synthetic_rows``)."""
        n_ref = round(len(hold) * reference_share)
        n = min(len(hold) - n_ref, len(train), self.max_candidates)
        if n_ref < min_reference or n < _MIN_CANDIDATES:
            raise InsufficientDataError(
                f"{self.name} splits the holdout into reference rows (the attacker's "
                f"background knowledge) and non-member candidates, and needs at least "
                f"{min_reference} reference rows and {_MIN_CANDIDATES} candidates of each "
                f"kind; got {len(hold)} holdout rows (reference_share={reference_share}) and "
                f"{len(train)} training rows. Pass a larger holdout."
            )
        order = rng.permutation(len(hold))
        non_members = hold[np.sort(order[n_ref:n_ref + n])]
        members = train[_sample(len(train), n, rng)]
        synth = synth[_sample(len(synth), self.max_synthetic_rows or len(synth), rng)]
        return order[:n_ref], non_members, members, synth

    def figures(self, score: Score) -> dict[str, Any]:
        """The attack's ROC curve (``details["roc_curve"]``) as a ``curves`` figure."""
        # imported on use: a direct score() call never loads the report package
        from synthaug.validators.report.figures import curve_figure

        roc = score.details.get("roc_curve")
        if not isinstance(roc, Mapping):
            return {}
        return curve_figure(score, roc.get("fpr"), roc.get("tpr"),
                            title="attack ROC (diagonal = chance)",
                            x_label="false positive rate", y_label="true positive rate")

    def _result(self, labels: np.ndarray, scores: np.ndarray,
                extra: Mapping[str, Any]) -> Score:
        summary = roc_summary(labels, scores, self.confidence)
        low, high = summary["auc_interval"]
        details = {**summary, **extra}
        return self._score(summary["auc"], interval=(low, high), details=details)


@register_validator("privacy.mia_distance")
class DistanceMembershipInference(_MembershipAttack):
    """Membership inference by distance to the closest synthetic row (ROC AUC; 0.5 = no risk).

    Candidates are holdout rows (non-members, at most ``max_candidates``) and as many training
    rows (members), drawn at random.  An attacker who holds the synthetic data scores each
    candidate by minus its distance to the closest synthetic row: a generator that memorises
    puts synthetic rows on or near its training rows, so members come out closer.  The value is
    the ROC AUC of that score (ties count half); the interval is DeLong's (1988) at
    ``confidence``.  This is the full black-box distance attack of Chen et al. ("GAN-Leaks",
    CCS 2020) with the mixed-type distance of ``privacy.dcr``.

    Distances are Euclidean on :class:`~synthaug.validators._common.MixedDistanceEncoder`'s
    embedding fitted on the training data, searched in bounded-memory blocks, on the GPU when
    ``device`` (or ``context["device"]``) names one.

    Parameters
    ----------
    max_candidates : int, default 10_000
        Most non-members (holdout rows); as many members are drawn from the training data.
    max_synthetic_rows : int or None, default 100_000
        Search a uniform sample of at most this many synthetic rows (None: all).
    max_holdout_overlap : float, default 0.05
        Raise when a larger share of holdout rows copy training rows, as ``privacy.dcr`` does:
        such rows are members posing as non-members.
    confidence : float, default 0.95
        Level of the interval.
    device : str, default "auto"
        "auto" (a CUDA GPU when present), "cpu", "cuda", "cuda:N".
    random_state : int or None, default 0
        Seed of the samples.

    Notes
    -----
    Details: ``auc``, ``auc_interval``, ``auc_std``, ``ci_method`` ("DeLong"), ``advantage``
    (max TPR - FPR, Yeom et al. 2018), ``tpr_at_fpr`` (TPR at FPR 0.001, 0.01 and 0.1; Carlini
    et al. 2022 argue the low-FPR end is what matters), ``roc_curve`` (``fpr``/``tpr``, at most
    50 points), ``n_members``, ``n_non_members``, ``n_synthetic``, ``median_distance_members``,
    ``median_distance_non_members``, ``holdout_overlap``, ``device``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> def draw(n):
    ...     return pd.DataFrame({"x": rng.normal(size=n), "y": rng.normal(size=n)})
    >>> train, holdout = draw(300), draw(300)
    >>> attack = DistanceMembershipInference(device="cpu")
    >>> attack.score(train, train, holdout=holdout).value  # synthetic rows copy train
    1.0
    >>> fair = attack.score(train, draw(300), holdout=holdout)
    >>> fair.interval[0] < 0.5 < fair.interval[1]
    True
    """

    modalities = FEATURE_MODALITIES

    def __init__(
        self,
        *,
        max_candidates: int = 10_000,
        max_synthetic_rows: int | None = 100_000,
        max_holdout_overlap: float = 0.05,
        confidence: float = 0.95,
        device: str = "auto",
        random_state: int | None = 0,
    ) -> None:
        super().__init__(
            max_candidates=max_candidates,
            max_synthetic_rows=max_synthetic_rows,
            max_holdout_overlap=max_holdout_overlap,
            confidence=confidence,
            random_state=random_state,
        )
        self.device = device

    def score(
        self,
        real: Any,
        synthetic: Any,
        *,
        holdout: Any = None,
        context: Mapping[str, Any] | None = None,
    ) -> Score:
        device = resolve_validator_device(self.device, context)
        tables, train, synth, hold, overlap = self._inputs(real, synthetic, holdout, context)
        rng = np.random.default_rng(self.random_state)
        n = min(len(hold), len(train), self.max_candidates)
        if n < _MIN_CANDIDATES:
            raise InsufficientDataError(
                f"{self.name} needs at least {_MIN_CANDIDATES} holdout and training rows to "
                f"measure an attack; got {len(hold)} holdout and {len(train)} training rows."
            )
        members = train[_sample(len(train), n, rng)]
        non_members = hold[_sample(len(hold), n, rng)]
        synth = synth[_sample(len(synth), self.max_synthetic_rows or len(synth), rng)]
        encoder = MixedDistanceEncoder(tables.column_schemas).fit(train, synth, hold)
        candidates = encoder.transform(np.vstack([members, non_members]))
        dist, _ = nearest_neighbours(candidates, encoder.transform(synth), k=1, device=device)
        distance = dist[:, 0]
        labels = np.repeat([1, 0], n)
        return self._result(labels, -distance, {
            "n_synthetic": len(synth),
            "median_distance_members": float(np.median(distance[:n])),
            "median_distance_non_members": float(np.median(distance[n:])),
            "holdout_overlap": overlap,
            "device": str(device),
        })


@register_validator("privacy.mia_density")
class DensityRatioMembershipInference(_MembershipAttack):
    """Membership inference by the synthetic-to-real density ratio, DOMIAS-style (ROC AUC).

    DOMIAS (van Breugel et al., AISTATS 2023) notes that a generator that overfits puts more
    synthetic density near its training rows than the real distribution has there, so it scores
    a candidate ``x`` by ``p_synthetic(x) / p_reference(x)``, the reference density coming from
    real rows the attacker holds (background knowledge).  Here the holdout is split at random:
    half is the attacker's *reference* set, the other half are the non-member candidates (at most
    ``max_candidates``), and as many training rows are the members.  The density ratio is
    estimated with a classifier (the odds of a probabilistic classifier trained with balanced
    class weights estimate the ratio of the two densities; Sugiyama et al., "Density Ratio
    Estimation in Machine Learning", 2012): a ``HistGradientBoostingClassifier`` told synthetic
    rows (at most ``max_synthetic_rows``) from reference rows, categorical columns as native
    categorical features.  The value is the ROC AUC of its synthetic-class probability on the
    candidates; the interval is DeLong's.

    DOMIAS itself estimates both densities with kernel density estimates or normalising flows;
    the classifier is a cheaper estimator of the same ratio.  The registry name says "shadow"
    for "a model-based attack"; this is not a shadow-generator attack (Stadler et al. 2022).
    It needs at least ``2 * 10`` holdout rows.  Being a model, it finds memorised rows less
    sharply than ``privacy.mia_distance`` (exact copies of training rows are seen only as far as
    the classifier overfits them), and finds generators whose synthetic density is raised
    around training rows without copying them.

    Parameters
    ----------
    max_candidates : int, default 10_000
        Most non-members (the evaluation half of the holdout); as many members are drawn.
    max_synthetic_rows : int or None, default 20_000
        Synthetic rows the classifier learns from (None: all); ``fidelity.detection``'s size.
    reference_share : float, default 0.5
        Share of the holdout given to the attacker as reference rows; the rest are non-members.
    max_holdout_overlap : float, default 0.05
        Raise when a larger share of holdout rows copy training rows (as ``privacy.dcr``).
    confidence : float, default 0.95
        Level of the interval.
    max_iter, max_leaf_nodes, min_samples_leaf : int, default 200, 31, 5
        Size of the boosted classifier.  Small leaves let it resolve local overdensities.
    random_state : int or None, default 0
        Seed of the split, the samples and the classifier.
    n_threads : int or None, default None
        OpenMP threads of the classifier (None: OpenMP's default).

    Notes
    -----
    Details: as ``privacy.mia_distance`` (``auc``, ``auc_interval``, ``auc_std``,
    ``ci_method``, ``advantage``, ``tpr_at_fpr``, ``roc_curve``, ``n_members``,
    ``n_non_members``), plus ``n_reference``, ``n_synthetic``, ``method``
    ("DOMIAS density ratio, classifier estimate"), ``holdout_overlap``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> def draw(n):
    ...     return pd.DataFrame({"x": rng.normal(size=n), "y": rng.normal(size=n)})
    >>> train, holdout = draw(400), draw(400)
    >>> fair = DensityRatioMembershipInference(n_threads=1).score(train, draw(400),
    ...                                                           holdout=holdout)
    >>> fair.interval[0] < 0.5 < fair.interval[1]
    True
    """

    modalities = FEATURE_MODALITIES

    def __init__(
        self,
        *,
        max_candidates: int = 10_000,
        max_synthetic_rows: int | None = 20_000,
        reference_share: float = 0.5,
        max_holdout_overlap: float = 0.05,
        confidence: float = 0.95,
        max_iter: int = 200,
        max_leaf_nodes: int = 31,
        min_samples_leaf: int = 5,
        random_state: int | None = 0,
        n_threads: int | None = None,
    ) -> None:
        super().__init__(
            max_candidates=max_candidates,
            max_synthetic_rows=max_synthetic_rows,
            max_holdout_overlap=max_holdout_overlap,
            confidence=confidence,
            random_state=random_state,
        )
        self.reference_share = reference_share
        self.max_iter = max_iter
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.n_threads = n_threads

    def _check_params(self) -> None:
        super()._check_params()
        check_fraction(self.reference_share, "reference_share", open_low=True, open_high=True)
        check_positive_int(self.max_iter, "max_iter")
        check_positive_int(self.max_leaf_nodes, "max_leaf_nodes", minimum=2)
        check_positive_int(self.min_samples_leaf, "min_samples_leaf")
        check_positive_int(self.n_threads, "n_threads", allow_none=True)

    def score(
        self,
        real: Any,
        synthetic: Any,
        *,
        holdout: Any = None,
        context: Mapping[str, Any] | None = None,
    ) -> Score:
        tables, train, synth, hold, overlap = self._inputs(real, synthetic, holdout, context)
        rng = np.random.default_rng(self.random_state)
        known, non_members, members, synth = self._reference_split(
            train, synth, hold, self.reference_share, _MIN_CANDIDATES, rng)
        reference = hold[known]
        n = len(members)

        schemas = tables.column_schemas
        categorical = np.array([c.kind.is_discrete and len(c.categories or []) <= _MAX_NATIVE_LEVELS
                                for c in schemas])
        model = HistGradientBoostingClassifier(
            categorical_features=categorical if categorical.any() else None,
            max_iter=self.max_iter,
            max_leaf_nodes=self.max_leaf_nodes,
            min_samples_leaf=self.min_samples_leaf,
            early_stopping=False,
            # balanced weights make the odds estimate p_synthetic / p_reference, not that
            # times the ratio of the sample sizes
            class_weight="balanced",
            random_state=int(rng.integers(0, 2**31 - 1)),
        )
        features = np.vstack([synth, reference])
        target = np.r_[np.ones(len(synth), dtype=np.int64), np.zeros(len(reference), np.int64)]
        limits = (
            threadpool_limits(limits=self.n_threads, user_api="openmp")
            if self.n_threads is not None else contextlib.nullcontext()
        )
        with limits:
            model.fit(features, target)
            scores = model.predict_proba(np.vstack([members, non_members]))[:, 1]
        labels = np.repeat([1, 0], n)
        return self._result(labels, scores, {
            "n_reference": len(reference),
            "n_synthetic": len(synth),
            "method": "DOMIAS density ratio, classifier estimate",
            "holdout_overlap": overlap,
        })
