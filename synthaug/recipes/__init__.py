"""Recipes: train a downstream model on real and on real + synthetic data, and measure the gain.

A recipe (a TOML file in the top-level ``recipes/`` folder, or a
:class:`~synthaug.config.RecipeSpec`) names the data, the split, a scenario (low data, class
imbalance, an under-represented group), the generator, the synthetic ratios, the downstream
model, its budget and the seeds.  :func:`run` trains every arm with every seed and returns a
:class:`GainReport`: means with intervals, paired gains over real-only, and a plain verdict.

The package, one responsibility a module:

* :mod:`~synthaug.recipes.loading`: find, list and load recipes; read their data;
* :mod:`~synthaug.recipes.splits`: the data checks, the stratified split and the scenarios, on
  label and group arrays;
* :mod:`~synthaug.recipes.arms`: the arms, and how many extra records each class gets;
* :mod:`~synthaug.recipes.tasks`: one task per modality (``tasks/tabular.py``: featurizer,
  default MLP, generator input, SMOTE baseline);
* :mod:`~synthaug.recipes.training`: the training loop (``model(**inputs)``) and predictions;
* :mod:`~synthaug.recipes.metrics`: test metrics, overall and per group;
* :mod:`~synthaug.recipes.experiment`: everything validated and prepared before training;
* :mod:`~synthaug.recipes.store`: the resumable run folder;
* :mod:`~synthaug.recipes.runner`: the orchestration (:func:`run`, :func:`check`);
* :mod:`~synthaug.recipes.stats`, :mod:`~synthaug.recipes.report`,
  :mod:`~synthaug.recipes.validation`: intervals, the gain report, the suite on the rows.

A run trains every arm for every seed (minutes on a CPU), so the example is not run as a
doctest:

>>> from synthaug.recipes import run
>>> report = run("adult-lowdata")  # doctest: +SKIP
"""

from synthaug.config import RecipeSpec, SpecError
from synthaug.recipes.arms import Arm
from synthaug.recipes.loading import LoadedRecipe, list_builtin_recipes, load_recipe, resolve_recipe
from synthaug.recipes.report import ArmSummary, GainReport
from synthaug.recipes.runner import check, run
from synthaug.recipes.splits import Splits, split_data
from synthaug.recipes.tasks import Task, get_task

__all__ = [
    "Arm",
    "ArmSummary",
    "GainReport",
    "LoadedRecipe",
    "RecipeSpec",
    "SpecError",
    "Splits",
    "Task",
    "check",
    "get_task",
    "list_builtin_recipes",
    "load_recipe",
    "resolve_recipe",
    "run",
    "split_data",
]
