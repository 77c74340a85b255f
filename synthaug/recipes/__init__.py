"""Recipes: train a downstream model on real and on real + synthetic data, and measure the gain.

A recipe (a TOML file in the top-level ``recipes/`` folder, or a
:class:`~synthaug.config.RecipeSpec`) names the data, the split, a scenario (low data, class
imbalance, an under-represented group), the generator, the synthetic ratios, the downstream
model, its budget and the seeds.  :func:`run` trains every arm with every seed and returns a
:class:`GainReport`: means with intervals, paired gains over real-only, and a plain verdict.

>>> from synthaug.recipes import run
>>> report = run("adult-lowdata")  # doctest: +SKIP
"""

from synthaug.config import RecipeSpec, SpecError
from synthaug.recipes.report import ArmSummary, GainReport
from synthaug.recipes.runner import (
    Arm,
    LoadedRecipe,
    Splits,
    check,
    list_builtin_recipes,
    load_recipe,
    resolve_recipe,
    run,
    split_data,
)

__all__ = [
    "Arm",
    "ArmSummary",
    "GainReport",
    "LoadedRecipe",
    "RecipeSpec",
    "SpecError",
    "Splits",
    "check",
    "list_builtin_recipes",
    "load_recipe",
    "resolve_recipe",
    "run",
    "split_data",
]
