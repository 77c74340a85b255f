"""``privacy.mia_shadow``: the shadow-model attack learns a generator's leak from the generator's
own algorithm."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest
import torch

from synthaug import get_generator, registry
from synthaug.exceptions import InvalidParameterError
from synthaug.generators.base import register_generator
from synthaug.generators.tabular.base import TabularGenerator
from synthaug.validators import get_validator
from tests.validators.privacy.helpers import FRESH, HOLDOUT, TRAIN


# -- the shadow-model attack -------------------------------------------------------------------
class _Copier(TabularGenerator):
    """A generator that memorises: it samples its training rows back (a leaking model)."""

    family = "copier"

    def __init__(self, *, random_state: object = None, device: str = "cpu") -> None:
        self.random_state = random_state
        self.device = device

    def _fit_matrix(self, matrix: np.ndarray, rng: np.random.Generator) -> None:
        self.rows_ = matrix.copy()

    def _sample_matrix(self, n: int, fixed: Mapping[int, float],
                       rng: np.random.Generator) -> np.ndarray:
        return self.rows_[rng.integers(0, len(self.rows_), n)]

    def _get_model_state(self) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        raise NotImplementedError

    def _set_model_state(self, state: Mapping[str, Any],
                         tensors: Mapping[str, torch.Tensor]) -> None:
        raise NotImplementedError


@pytest.fixture
def copier() -> str:
    # registered at run time, so collection-time generator lists elsewhere never see it
    if "test.copier" not in registry.generators:
        register_generator("test.copier")(_Copier)
    return "test.copier"


def test_shadow_attack_learns_the_targets_leak_from_its_own_algorithm(copier: str) -> None:
    leaked = get_generator(copier, random_state=0).fit(TRAIN).sample(500, random_state=1)
    attack = get_validator("privacy.mia_shadow", device="cpu")
    result = attack.score(TRAIN, leaked, holdout=HOLDOUT,
                          context={"generator": {"name": copier, "params": {}}})
    # the shadow (a copier trained on the attacker's rows) shows that members sit at distance
    # 0, and the attack model carries that over to the target's rows
    assert result.details["shadow_auc"] > 0.8
    assert result.value > 0.8 and result.interval[0] > 0.7
    assert result.details["shadow_generator"] == copier


def test_shadow_attack_on_a_generator_that_does_not_leak_shows_no_risk() -> None:
    rows = get_generator("tabular.copula", random_state=0).fit(TRAIN).sample(500, random_state=1)
    result = get_validator("privacy.mia_shadow", shadow_generator="tabular.copula",
                           device="cpu").score(TRAIN, rows, holdout=HOLDOUT)
    low, high = result.interval
    assert low < 0.5 < high


def test_shadow_attack_needs_to_know_the_generator() -> None:
    with pytest.raises(InvalidParameterError, match="shadow_generator="):
        get_validator("privacy.mia_shadow").score(TRAIN, FRESH, holdout=HOLDOUT)
