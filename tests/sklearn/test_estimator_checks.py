"""scikit-learn's and imbalanced-learn's estimator checks on the transformers and the sampler
(the generators' applicable checks run in ``tests/generators/test_contract.py``)."""

from __future__ import annotations

import functools
from typing import Any

import pytest
from imblearn.utils import estimator_checks as imblearn_checks
from sklearn.base import clone
from sklearn.utils import estimator_checks as sklearn_checks

from synthaug.sklearn import SyntheticOverSampler, TabularEncoder

# -- estimator checks --------------------------------------------------------------------------
ESTIMATORS = [
    TabularEncoder(),
    TabularEncoder(numerical="quantile", max_categories=3),
    SyntheticOverSampler(random_state=0),
]


def expected_failed_checks(estimator: Any) -> dict[str, str]:
    # Every check scikit-learn 1.9 and imbalanced-learn 0.14 yield for these estimators
    # passes, so nothing is expected to fail.  A future entry must say why it cannot pass.
    return {}


@sklearn_checks.parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks)
def test_sklearn_estimator_checks(estimator: Any, check: Any) -> None:
    check(estimator)


def _check_id(value: Any) -> str:
    if isinstance(value, functools.partial):
        return str(value.func.__name__)
    return repr(value)


# imbalanced-learn's own parametrize_with_checks hands pytest a generator, which pytest
# deprecates; the same (estimator, check) pairs from its public generator, as a list.
IMBLEARN_CHECKS = list(
    imblearn_checks.estimator_checks_generator(
        SyntheticOverSampler(random_state=0),
        expected_failed_checks=expected_failed_checks(None),
        mark="xfail",
    )
)


@pytest.mark.parametrize(("estimator", "check"), IMBLEARN_CHECKS, ids=_check_id)
def test_imblearn_sampler_checks(estimator: Any, check: Any) -> None:
    check(estimator)


# scikit-learn 1.9 defines these checks but its generator no longer yields them for
# transformers; they cover set_output and get_feature_names_out, so run them by hand.
TRANSFORMER_CHECKS = [
    "check_set_output_transform",
    "check_set_output_transform_pandas",
    "check_global_output_transform_pandas",
    "check_transformer_get_feature_names_out",
    "check_transformer_get_feature_names_out_pandas",
    "check_param_validation",
]


@pytest.mark.filterwarnings("ignore:X (has|does not have) (valid )?feature names")
@pytest.mark.parametrize("check_name", TRANSFORMER_CHECKS)
@pytest.mark.parametrize("estimator", ESTIMATORS[:2], ids=repr)
def test_transformer_checks_not_yielded(estimator: TabularEncoder, check_name: str) -> None:
    getattr(sklearn_checks, check_name)(type(estimator).__name__, clone(estimator))


@pytest.mark.parametrize("module", [sklearn_checks, imblearn_checks], ids=["sklearn", "imblearn"])
def test_sampler_param_validation(module: Any) -> None:
    # not yielded by either generator; it checks every parameter has a declared constraint
    module.check_param_validation("SyntheticOverSampler", SyntheticOverSampler(random_state=0))
