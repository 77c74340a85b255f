"""Typed, frozen spec models for the files synthaug reads (TOML): recipes now, suites and jobs next.

Every spec model derives from :class:`_Spec`: frozen (a loaded spec cannot drift while a run
uses it) and ``extra="forbid"`` (a misspelt key is an error, not a silently ignored setting).
:func:`load_toml` and :func:`parse_spec` turn pydantic's ``ValidationError`` into a
:class:`SpecError` that names the file and the exact field path of every problem, for example
``recipes/mine.toml: augmentation.ratios[0]: must be greater than 0 (got -1)``.

Checks that need only the file live here (types, ranges, unknown keys, registry names, that
the generator and the model serve the data's modality).  Checks that need the data (does the
target column exist?) run in the recipe runner, before any training, and raise the same
:class:`SpecError` with the field path.

Recipe models are **strict**: a value must already have its type (``max_steps = "400"`` is an
error, not 400), because a quoted number or a ``"yes"`` in a hand-written file is a mistake
worth pointing at.  An integer is accepted where a float is expected.

The models live in two modules: :mod:`synthaug.config.base` (the spec bases, :class:`SpecError`
and loading, shared by recipes, suites and jobs) and :mod:`synthaug.config.recipe` (the recipe's
sections); every name is importable from ``synthaug.config`` as before.
"""

from synthaug.config.base import (
    SpecError,
    load_toml,
    loads_toml,
    parse_spec,
)
from synthaug.config.recipe import (
    BUILTIN_SOURCES,
    AugmentationSpec,
    DataSpec,
    GeneratorSpec,
    ModelSpec,
    RecipeSpec,
    ReportSpec,
    ScenarioSpec,
    SplitSpec,
    TrainingSpec,
    infer_modality,
)

__all__ = [
    "BUILTIN_SOURCES",
    "AugmentationSpec",
    "DataSpec",
    "GeneratorSpec",
    "ModelSpec",
    "RecipeSpec",
    "ReportSpec",
    "ScenarioSpec",
    "SpecError",
    "SplitSpec",
    "TrainingSpec",
    "infer_modality",
    "load_toml",
    "loads_toml",
    "parse_spec",
]
