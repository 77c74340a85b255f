"""The shadow-model membership-inference attack on a generator.

Shokri et al. ("Membership Inference Attacks against Machine Learning Models", S&P 2017) teach
an attack model what membership looks like by training *shadow* copies of the target on data
whose membership the attacker knows; Stadler et al. ("Synthetic Data - Anonymisation Groundhog
Day", USENIX Security 2022) carry the idea over to generators.  Here, with the attacker's
background knowledge being a reference part of the holdout (as for ``privacy.mia_density``):

1. the reference rows are split into shadow members and shadow non-members;
2. a shadow generator of the *same kind and parameters as the target* (Shokri's assumption: the
   attacker knows the training algorithm) is fitted on the shadow members and sampled, as many
   rows per training row as the target produced;
3. each shadow row gets features measured against the shadow synthetic data (log distance to
   the nearest and second-nearest synthetic row, and their ratio), and a logistic regression
   learns members from non-members on them;
4. the same features of the real candidates (training rows and unseen holdout rows), measured
   against the target's synthetic data, are scored by that model; the validator reports the ROC
   AUC with DeLong's interval.

The shadow must be the target's algorithm: a shadow that does not overfit the way the target
does shows no membership signal, and the attack model's direction is then arbitrary (measured
on Adult: a copula shadow against rows half copied from train gave AUC 0.24, shadow AUC 0.51).
So the generator is a parameter, or comes from ``context["generator"]`` (``{"name": ...,
"params": {...}}``), which :func:`synthaug.augment` and recipes fill in; with neither the
validator refuses to guess.  It costs one extra fit of that generator.  This is the
population-level variant: Stadler et al. attack one target record at a time with many shadow
generators, which costs hundreds of fits per record.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from synthaug.exceptions import InsufficientDataError, InvalidParameterError
from synthaug.utils.validation import check_fraction
from synthaug.validators._common import (
    MixedDistanceEncoder,
    nearest_neighbours,
    resolve_validator_device,
)
from synthaug.validators.base import Score, register_validator
from synthaug.validators.privacy.membership import _MIN_CANDIDATES, _MembershipAttack

__all__ = ["ShadowModelMembershipInference"]


def _features(rows: np.ndarray, synthetic: np.ndarray, device: Any) -> np.ndarray:
    """Log distances to the two nearest synthetic rows and their ratio (the attack's view)."""
    dist, _ = nearest_neighbours(rows, synthetic, k=2, device=device)
    d1, d2 = dist[:, 0], np.where(np.isfinite(dist[:, 1]), dist[:, 1], dist[:, 0])
    eps = 1e-6  # an exact copy is at distance 0; keep its log finite and the most extreme
    return np.column_stack([np.log(d1 + eps), np.log(d2 + eps), (d1 + eps) / (d2 + eps)])


@register_validator("privacy.mia_shadow")
class ShadowModelMembershipInference(_MembershipAttack):
    """Shadow-model membership inference (ROC AUC; 0.5 = no risk), needs a holdout.

    See the module docstring for the attack.  ``reference_share`` of the holdout is the
    attacker's background knowledge (split in half into shadow members and non-members); the
    rest are the non-member candidates, matched by as many training rows.

    Parameters
    ----------
    shadow_generator : str, optional
        Registry name of the target's generator, trained as the shadow.  Default: the name in
        ``context["generator"]``; an error when neither is given.
    shadow_params : mapping, optional
        Its parameters (default: ``context["generator"]["params"]``; ``random_state`` is set from
        ``random_state``).
    reference_share : float, default 0.5
        Share of the holdout the attacker knows.
    max_candidates, max_synthetic_rows, max_holdout_overlap, confidence, random_state
        As for ``privacy.mia_distance``.
    device : str, default "auto"
        Where the neighbour searches run.

    Notes
    -----
    Details: as ``privacy.mia_distance`` (``auc``, ``auc_interval``, ``advantage``,
    ``tpr_at_fpr``, ``roc_curve``, ...), plus ``shadow_generator``, ``n_shadow_members``,
    ``n_shadow_synthetic``, ``shadow_auc`` (the attack model's AUC on its own shadow data: how
    much membership signal the shadow showed), ``method``, ``holdout_overlap``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> def draw(n):
    ...     return pd.DataFrame({"x": rng.normal(size=n), "y": rng.normal(size=n)})
    >>> train, holdout = draw(400), draw(400)
    >>> attack = ShadowModelMembershipInference(shadow_generator="tabular.copula", device="cpu")
    >>> fair = attack.score(train, draw(400), holdout=holdout)  # a copula's rows: no leak
    >>> fair.interval[0] < 0.5 < fair.interval[1]
    True
    """

    def __init__(
        self,
        *,
        shadow_generator: str | None = None,
        shadow_params: Mapping[str, Any] | None = None,
        reference_share: float = 0.5,
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
        self.shadow_generator = shadow_generator
        self.shadow_params = shadow_params
        self.reference_share = reference_share
        self.device = device

    def _check_params(self) -> None:
        super()._check_params()
        check_fraction(self.reference_share, "reference_share", open_low=True, open_high=True)
        if self.shadow_params is not None and not isinstance(self.shadow_params, Mapping):
            raise InvalidParameterError(
                f"{self.name}: shadow_params must be a mapping of generator parameters, got "
                f"{type(self.shadow_params).__name__}."
            )

    def _shadow(self, context: Mapping[str, Any] | None) -> tuple[str, dict[str, Any]]:
        """The shadow's registry name and parameters: given, or the target's from context."""
        name, params = _generator_from_context(context)
        if self.shadow_generator is not None:
            name = self.shadow_generator
            params = {}
        if self.shadow_params is not None:
            params = dict(self.shadow_params)
        if not name:
            raise InvalidParameterError(
                f"{self.name} trains a shadow copy of the target generator, so it needs to know "
                "which one: pass shadow_generator='tabular.gan' (and shadow_params), or run it "
                "through augment() or a recipe, which pass the generator they used."
            )
        return str(name), params

    def score(
        self,
        real: Any,
        synthetic: Any,
        *,
        holdout: Any = None,
        context: Mapping[str, Any] | None = None,
    ) -> Score:
        from synthaug.generators.base import get_generator  # validators load before generators

        device = resolve_validator_device(self.device, context)
        name, params = self._shadow(context)  # before any work: a missing name fails fast
        tables, train, synth, hold, overlap = self._inputs(real, synthetic, holdout, context)
        rng = np.random.default_rng(self.random_state)
        # a shadow generator needs some rows to learn from, more than a classifier does
        reference, non_members, members, synth = self._reference_split(
            train, synth, hold, self.reference_share, 4 * _MIN_CANDIDATES, rng)
        n, n_ref = len(members), len(reference)

        # the shadow: fitted on half of the attacker's rows, sampled at the target's ratio
        full_holdout = tables.holdout
        if full_holdout is None:  # _inputs enforces it; this narrows the type for mypy
            raise InsufficientDataError(f"{self.name} needs a holdout.")
        shadow_in, shadow_out = reference[: n_ref // 2], reference[n_ref // 2:]
        params["random_state"] = int(rng.integers(2**31 - 1))
        shadow = get_generator(name, **params)
        shadow.fit(tables.schema.from_matrix(full_holdout[shadow_in], rng))
        n_shadow = max(2, min(round(len(synth) / len(train) * len(shadow_in)),
                              self.max_synthetic_rows or len(synth)))
        shadow_rows = tables.schema.to_matrix(
            shadow.sample(n_shadow, random_state=int(rng.integers(2**31 - 1))))

        cols = list(tables.columns)
        encoder = MixedDistanceEncoder(tables.column_schemas).fit(train, synth, hold)
        shadow_synth = encoder.transform(shadow_rows[:, cols])
        x_shadow = np.vstack([
            _features(encoder.transform(full_holdout[shadow_in][:, cols]), shadow_synth, device),
            _features(encoder.transform(full_holdout[shadow_out][:, cols]), shadow_synth,
                      device),
        ])
        y_shadow = np.r_[np.ones(len(shadow_in)), np.zeros(len(shadow_out))]
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
        model.fit(x_shadow, y_shadow)
        shadow_auc = roc_auc(y_shadow, model.predict_proba(x_shadow)[:, 1])

        candidates = encoder.transform(np.vstack([members, non_members]))
        scores = model.predict_proba(_features(candidates, encoder.transform(synth), device))[:, 1]
        labels = np.repeat([1, 0], n)
        return self._result(labels, scores, {
            "method": "shadow model (Shokri et al. 2017, for generators as Stadler et al. 2022)",
            "shadow_generator": name,
            "n_shadow_members": len(shadow_in),
            "n_shadow_synthetic": int(n_shadow),
            "shadow_auc": shadow_auc,
            "n_synthetic": len(synth),
            "holdout_overlap": overlap,
        })


def _generator_from_context(context: Mapping[str, Any] | None) -> tuple[str | None, dict[str, Any]]:
    info = (context or {}).get("generator")
    if not isinstance(info, Mapping):
        return None, {}
    params = info.get("params")
    return info.get("name"), dict(params) if isinstance(params, Mapping) else {}


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """ROC AUC (ties count half), without scikit-learn's input checks."""
    from scipy.stats import rankdata

    ranks = rankdata(scores)
    pos = labels == 1
    n_pos, n_neg = int(pos.sum()), int((~pos).sum())
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))
