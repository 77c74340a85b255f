"""Attribute inference: can the synthetic data reveal a secret column of a training row?

The definition is anonymeter's ``InferenceEvaluator`` (Giomi et al., "A Unified Framework for
Quantifying Privacy Risk in Synthetic Data", PoPETs 2023), implemented afresh on synthaug's
mixed-type distance and chunked nearest-neighbour search.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from synthaug.exceptions import InvalidDataError, InvalidParameterError
from synthaug.utils.validation import check_fraction, check_positive_int
from synthaug.validators._common import (
    MixedDistanceEncoder,
    nearest_neighbours,
    resolve_validator_device,
)
from synthaug.validators.base import BaseValidator, Score, register_validator
from synthaug.validators.privacy._attack import (
    check_holdout_overlap,
    relative_risk,
)

__all__ = ["AttributeInference"]


def _columns(value: str | Sequence[str] | None, what: str) -> list[str] | None:
    """``value`` as a list of column names (a lone string is one name)."""
    if value is None:
        return None
    names = [value] if isinstance(value, str) else list(value)
    if not all(isinstance(n, str) for n in names):
        raise InvalidParameterError(f"{what} must be column names (strings), got {value!r}.")
    return names


def guesses_correct(guess: np.ndarray, secret: np.ndarray, *, continuous: bool,
                    tolerance: float) -> np.ndarray:
    """Which guesses hit the secret: equal codes, or for numbers within ``tolerance``.

    A number is guessed right when ``|guess - secret| <= tolerance * |guess|``, anonymeter's
    relative tolerance (it divides by the guess; the absolute value keeps negative numbers
    right).  A missing secret is guessed right by a missing guess.

    Examples
    --------
    >>> import numpy as np
    >>> guesses_correct(np.array([100.0, 100.0, np.nan]), np.array([104.0, 94.0, np.nan]),
    ...                 continuous=True, tolerance=0.05).tolist()
    [True, False, True]
    """
    both_missing = np.isnan(guess) & np.isnan(secret)
    if continuous:
        with np.errstate(invalid="ignore"):
            hit = np.abs(guess - secret) <= tolerance * np.abs(guess)
    else:
        hit = guess == secret
    return hit | both_missing


@register_validator("privacy.attribute_inference")
class AttributeInference(BaseValidator):
    """Attribute-inference risk of secret columns, relative to rows the generator never saw.

    The attacker knows some columns of a target person (the auxiliary columns: by default every
    column but the secret) and holds the synthetic data.  It finds the synthetic row nearest to
    the target on the auxiliary columns and guesses that row's secret.  The guess is right when
    it equals the secret (categories, booleans) or, for numbers and datetimes, lies within a
    relative ``numeric_tolerance`` of it.  The attack is run on training rows (main) and on
    holdout rows (control); the control rate is what the synthetic data teaches about anyone
    from the population, the excess on training rows is what it leaks about its own rows::

        risk = (main rate - control rate) / (1 - control rate)

    This is the ``InferenceEvaluator`` of anonymeter (Giomi et al., PoPETs 2023): rates are
    Wilson score estimates, the interval propagates their errors, and risk and interval are
    clipped to [0, 1].  The value is the largest risk over the ``secrets``; its interval is that
    secret's.  Distances are synthaug's mixed-type Euclidean distance (numbers scaled by their
    robust range, categories one-hot; see ``privacy.dcr``) where anonymeter uses an L1 Gower
    distance, so the two can pick different neighbours; the definition of the risk is the same.

    Parameters
    ----------
    secrets : str or sequence of str, optional
        The columns the attacker tries to learn.  Default: ``context["sensitive"]`` (the suite's
        sensitive columns); one of the two is required.
    aux_columns : sequence of str, optional
        The columns the attacker knows (the secret is left out of them).  Default: all others.
    n_attacks : int, default 2_000
        Targets per side: at most this many training rows and as many holdout rows (fewer when
        either has fewer).  anonymeter's default is 500; more attacks narrow the interval.
    numeric_tolerance : float, default 0.05
        Relative tolerance of a correct guess of a number or datetime.  anonymeter applies its
        0.05 only when told the secret is a regression target and otherwise asks for exact
        equality; 0 here asks for exact equality.
    max_synthetic_rows : int or None, default 100_000
        Search a uniform sample of at most this many synthetic rows (None: all).
    max_holdout_overlap : float, default 0.05
        Raise when a larger share of holdout rows copy training rows (as ``privacy.dcr``).
    confidence : float, default 0.95
        Level of the interval.
    device : str, default "auto"
        "auto" (a CUDA GPU when present), "cpu", "cuda", "cuda:N".
    random_state : int or None, default 0
        Seed of the samples and of the baseline's random guesses.

    Notes
    -----
    Details: ``secrets`` maps each secret to ``risk``, ``interval``, ``main_rate``,
    ``main_rate_error``, ``control_rate``, ``control_rate_error``, ``baseline_rate`` (a guess
    copied from a random synthetic row: the attack should beat it), ``n_main``, ``n_control``,
    ``kind`` ("categorical" or "numeric") and ``n_aux_columns``; then ``worst_secret``,
    ``n_synthetic``, ``numeric_tolerance``, ``holdout_overlap``, ``device``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> def draw(n):
    ...     x = rng.normal(size=n)
    ...     return pd.DataFrame({"x": x, "y": rng.normal(size=n),
    ...                          "s": rng.choice(["a", "b", "c"], size=n)})
    >>> train, holdout = draw(300), draw(300)
    >>> attack = AttributeInference(secrets="s", device="cpu")
    >>> attack.score(train, train, holdout=holdout).value > 0.9  # copies leak the secret
    True
    >>> attack.score(train, draw(300), holdout=holdout).value < 0.15
    True
    """

    category = "privacy"
    direction = "lower"

    def __init__(
        self,
        *,
        secrets: str | Sequence[str] | None = None,
        aux_columns: Sequence[str] | None = None,
        n_attacks: int = 2_000,
        numeric_tolerance: float = 0.05,
        max_synthetic_rows: int | None = 100_000,
        max_holdout_overlap: float = 0.05,
        confidence: float = 0.95,
        device: str = "auto",
        random_state: int | None = 0,
    ) -> None:
        self.secrets = secrets
        self.aux_columns = aux_columns
        self.n_attacks = n_attacks
        self.numeric_tolerance = numeric_tolerance
        self.max_synthetic_rows = max_synthetic_rows
        self.max_holdout_overlap = max_holdout_overlap
        self.confidence = confidence
        self.device = device
        self.random_state = random_state

    def _check_params(self) -> None:
        check_positive_int(self.n_attacks, "n_attacks")
        check_positive_int(self.max_synthetic_rows, "max_synthetic_rows", allow_none=True)
        check_fraction(self.max_holdout_overlap, "max_holdout_overlap")
        check_fraction(self.confidence, "confidence", open_low=True, open_high=True)
        tol = self.numeric_tolerance
        if not isinstance(tol, (int, float)) or isinstance(tol, bool) or not 0 <= tol < np.inf:
            raise InvalidParameterError(
                f"numeric_tolerance must be a finite number >= 0, got {tol!r}."
            )

    def _secrets(self, context: Mapping[str, Any] | None) -> list[str]:
        secrets = _columns(self.secrets, "secrets")
        if secrets is None:
            sensitive = tuple((context or {}).get("sensitive") or ())
            secrets = _columns(sensitive, "context['sensitive']")
        if not secrets:
            raise InvalidParameterError(
                f"{self.name} needs the secret columns the attacker tries to learn: pass "
                "secrets=[...] (for example secrets=['income']), or give the suite sensitive "
                "columns (context['sensitive'])."
            )
        return list(dict.fromkeys(secrets))

    def score(
        self,
        real: Any,
        synthetic: Any,
        *,
        holdout: Any = None,
        context: Mapping[str, Any] | None = None,
    ) -> Score:
        self._check_params()
        secrets = self._secrets(context)
        aux_given = _columns(self.aux_columns, "aux_columns")
        device = resolve_validator_device(self.device, context)
        tables = self._prepare(real, synthetic, holdout, context, require_holdout=True)
        if tables.holdout is None:  # _prepare enforces it; this narrows the type for mypy
            raise InvalidDataError(f"{self.name} needs a holdout.")
        cols = list(tables.columns)
        names = tables.names
        for what, wanted in (("secret", secrets), ("auxiliary", aux_given or [])):
            unknown = [c for c in wanted if c not in names]
            if unknown:
                skipped = [c for c in unknown if c in tables.schema.names]
                why = (f" ({skipped} are identifier or all-missing columns, which no validator "
                       "compares)") if skipped else ""
                raise InvalidDataError(
                    f"{self.name}: {what} column(s) {unknown} not found among the compared "
                    f"columns {names}{why}. Check the spelling, or pick other columns."
                )
        train, synth = tables.real[:, cols], tables.synthetic[:, cols]
        hold = tables.holdout[:, cols]
        overlap = check_holdout_overlap(hold, train, self.max_holdout_overlap, self.name)

        rng = np.random.default_rng(self.random_state)
        n_main = min(self.n_attacks, len(train))
        n_control = min(self.n_attacks, len(hold))
        targets = train[np.sort(rng.choice(len(train), n_main, replace=False))]
        controls = hold[np.sort(rng.choice(len(hold), n_control, replace=False))]
        if self.max_synthetic_rows is not None and len(synth) > self.max_synthetic_rows:
            synth = synth[np.sort(rng.choice(len(synth), self.max_synthetic_rows, replace=False))]
        schemas = tables.column_schemas
        per_secret: dict[str, dict[str, Any]] = {}
        for secret in secrets:
            j = names.index(secret)
            aux = [names.index(c) for c in (aux_given or names) if c != secret]
            if not aux:
                raise InvalidDataError(
                    f"{self.name}: no auxiliary column is left for secret {secret!r}; the "
                    "attacker needs at least one known column. Pass more aux_columns."
                )
            encoder = MixedDistanceEncoder([schemas[a] for a in aux]).fit(
                train[:, aux], synth[:, aux], hold[:, aux]
            )
            queries = encoder.transform(np.vstack([targets[:, aux], controls[:, aux]]))
            _, idx = nearest_neighbours(queries, encoder.transform(synth[:, aux]), k=1,
                                        device=device)
            guess = synth[idx[:, 0], j]
            continuous = schemas[j].kind.is_continuous
            right = guesses_correct(guess, np.r_[targets[:, j], controls[:, j]],
                                    continuous=continuous, tolerance=self.numeric_tolerance)
            # the trivial attacker of anonymeter: the secret of a random synthetic row
            naive = synth[rng.integers(0, len(synth), n_main), j]
            naive_right = guesses_correct(naive, targets[:, j], continuous=continuous,
                                          tolerance=self.numeric_tolerance)
            estimate = relative_risk(int(right[:n_main].sum()), n_main,
                                     int(right[n_main:].sum()), n_control, self.confidence)
            per_secret[secret] = {
                **estimate.to_dict(),
                "baseline_rate": float(naive_right.mean()),
                "n_main": int(n_main),
                "n_control": int(n_control),
                "kind": "numeric" if continuous else "categorical",
                "n_aux_columns": len(aux),
            }
        worst = max(per_secret, key=lambda s: per_secret[s]["risk"])
        low, high = per_secret[worst]["interval"]
        details: dict[str, Any] = {
            "secrets": per_secret,
            "worst_secret": worst,
            "n_synthetic": len(synth),
            "numeric_tolerance": float(self.numeric_tolerance),
            "holdout_overlap": overlap,
            "device": str(device),
        }
        return self._score(per_secret[worst]["risk"], interval=(low, high), details=details)
