"""Finding and loading recipes: the built-in ones by name, checked against their data."""

from __future__ import annotations

import pytest

from synthaug.exceptions import InvalidParameterError
from synthaug.recipes import (
    check,
    list_builtin_recipes,
    load_recipe,
    resolve_recipe,
)


# -- the built-in recipes ----------------------------------------------------------------------
def test_builtin_recipes_resolve_by_name_and_validate_against_adult() -> None:
    names = list_builtin_recipes()
    assert {"adult-lowdata", "adult-imbalance", "adult-fairness"} <= set(names)
    assert resolve_recipe("adult-lowdata") == resolve_recipe("adult-lowdata.toml")
    for name in ("adult-lowdata", "adult-imbalance", "adult-fairness"):
        loaded = load_recipe(name)
        assert loaded.spec.name == name and loaded.text is not None
        assert len(loaded.spec.seeds) >= 5
    plan = check("adult-fairness", device="cpu")  # the data-dependent checks, on real Adult
    assert plan["splits"]["train"] < plan["splits"]["train_full"]
    with pytest.raises(InvalidParameterError, match="Did you mean 'adult-lowdata'"):
        resolve_recipe("adult-lowdat")
