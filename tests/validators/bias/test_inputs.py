"""The bias validators: registered with their category and direction; bad columns and
parameters refused, naming the column or parameter."""

from __future__ import annotations

import pytest

from synthaug.exceptions import InvalidDataError, InvalidParameterError
from synthaug.validators import get_validator, list_validators
from tests.validators.bias.helpers import BIAS, people


# -- registry ----------------------------------------------------------------------------------
def test_registered_with_direction_and_category() -> None:
    for name, cls in BIAS.items():
        assert name in list_validators()
        validator = get_validator(name)
        assert isinstance(validator, cls)
        assert (validator.category, validator.direction) == ("bias", "lower")


# -- bad inputs --------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(BIAS))
def test_bad_columns_name_the_column(name: str) -> None:
    pytest.importorskip("fairlearn")
    real = people(300, 40)
    validator = get_validator(name)
    kw = {"holdout": real}
    with pytest.raises(InvalidDataError, match=r"sensitive column 'sx' is not a column of the "
                                               r"real data. Did you mean 'sex'\?"):
        validator.score(real, real, context={"target": "y", "sensitive": ("sx",)}, **kw)
    with pytest.raises(InvalidDataError, match=r"needs at least one sensitive column"):
        validator.score(real, real, context={"target": "y", "sensitive": ()}, **kw)
    with pytest.raises(InvalidDataError, match=r"'x' has \d+ distinct values .* max_groups=50"):
        validator.score(real, real, context={"target": "y", "sensitive": ("x",)}, **kw)
    ids = real.assign(person=[f"p{i}" for i in range(len(real))])
    with pytest.raises(InvalidDataError, match=r"'person' looks like a row identifier"):
        validator.score(ids, ids, holdout=ids, context={"target": "y", "sensitive": ("person",)})
    if name != "bias.group_representation":
        with pytest.raises(InvalidDataError, match=r"target column 'yy' is not a column.*'y'"):
            validator.score(real, real, context={"target": "yy", "sensitive": ("sex",)}, **kw)
        with pytest.raises(InvalidDataError, match=r"needs a target"):
            validator.score(real, real, context={"sensitive": ("sex",)}, **kw)
        with pytest.raises(InvalidDataError, match=r"both as the target and as a sensitive"):
            validator.score(real, real, context={"target": "sex", "sensitive": ("sex",)}, **kw)


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("bias.group_representation", {"max_groups": 0}, r"max_groups must be an integer >= 1"),
        ("bias.group_representation", {"intersections": "all"}, r"'full', 'pairs' or 'none'"),
        ("bias.group_representation", {"sensitive": 3}, r"sensitive must be a column name"),
        ("bias.outcome_parity", {"min_group_rows": 0.5}, r"min_group_rows must be an integer"),
        ("bias.downstream_fairness", {"train_on": "real"}, r"'synthetic' or 'augmented'"),
        ("bias.downstream_fairness", {"n_bootstrap": -1}, r"n_bootstrap must be an integer"),
    ],
)
def test_bad_parameters(name: str, params: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidParameterError, match=message):
        get_validator(name, **params)
