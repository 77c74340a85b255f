"""Finding, listing and loading recipes, and reading the data a recipe names.

A recipe is a TOML file (the built-in ones live in the top-level ``recipes/`` folder, found by
:mod:`synthaug._builtin`), a mapping, or a :class:`~synthaug.config.RecipeSpec`.
:func:`load_recipe` validates it into a :class:`LoadedRecipe`; :func:`load_data` reads its
``data.source`` (and :func:`load_test_data` its ``data.test_source``) through the data's
modality (a built-in data set by name, else a file, relative to the recipe's folder).  Every
problem is a :class:`~synthaug.config.SpecError` naming the file and the field.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from synthaug._builtin import builtin_files
from synthaug.config import BUILTIN_SOURCES, RecipeSpec, SpecError, loads_toml, parse_spec
from synthaug.data.modality import Modality
from synthaug.data.sources import DATASETS
from synthaug.exceptions import InvalidDataError, InvalidParameterError

__all__ = ["LoadedRecipe", "list_builtin_recipes", "load_data", "load_recipe", "load_test_data",
           "resolve_recipe"]


def list_builtin_recipes() -> list[str]:
    """Names of the built-in recipes (runnable by name).

    Examples
    --------
    >>> from synthaug.recipes import list_builtin_recipes
    >>> "adult-lowdata" in list_builtin_recipes()
    True
    """
    return list(builtin_files("recipes"))


def resolve_recipe(name_or_path: str | os.PathLike[str]) -> Path:
    """Return the recipe file for a path or a built-in recipe's name.

    An existing file wins; otherwise a name such as ``"adult-lowdata"`` (with or without
    ``.toml``) is looked up among the built-in recipes.

    Examples
    --------
    >>> from synthaug.recipes import resolve_recipe
    >>> resolve_recipe("adult-lowdata").name
    'adult-lowdata.toml'
    """
    path = Path(name_or_path)
    if path.is_file():
        return path
    stem = path.name.removesuffix(".toml")
    builtin = builtin_files("recipes")
    if path.parent == Path(".") and stem in builtin:
        return builtin[stem]
    close = difflib.get_close_matches(stem, list(builtin), n=1, cutoff=0.6)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise InvalidParameterError(
        f"recipe {str(name_or_path)!r} is neither a file nor a built-in recipe.{hint} "
        f"Built-in recipes: {', '.join(builtin) or '(none found)'}."
    )


@dataclass(frozen=True)
class LoadedRecipe:
    """A validated recipe and where it came from.

    Attributes
    ----------
    spec : RecipeSpec
    text : str or None
        The exact file text (``None`` for a spec given from Python).
    source : str
        The file path, or ``"<recipe>"``.
    base_dir : Path
        Relative ``data.source`` paths are read from here (the file's folder, else the
        working directory).

    Examples
    --------
    >>> from synthaug.recipes import load_recipe
    >>> loaded = load_recipe("adult-lowdata")
    >>> loaded.text.startswith("#"), loaded.base_dir.name
    (True, 'recipes')
    """

    spec: RecipeSpec
    text: str | None
    source: str
    base_dir: Path


def load_recipe(spec_or_path: RecipeSpec | Mapping[str, Any] | str | os.PathLike[str]
                ) -> LoadedRecipe:
    """Validate a recipe given as a spec, a mapping, a file path or a built-in name.

    Examples
    --------
    >>> from synthaug.recipes import load_recipe
    >>> load_recipe("adult-lowdata").spec.scenario.kind
    'low_data'
    """
    if isinstance(spec_or_path, RecipeSpec):
        return LoadedRecipe(spec_or_path, None, "<recipe>", Path.cwd())
    if isinstance(spec_or_path, Mapping):
        spec = parse_spec(spec_or_path, RecipeSpec, source="<recipe>")
        return LoadedRecipe(spec, None, "<recipe>", Path.cwd())
    if not isinstance(spec_or_path, (str, os.PathLike)):
        raise InvalidParameterError(
            "a recipe is a RecipeSpec, a mapping, a .toml path or a built-in recipe name, got "
            f"{type(spec_or_path).__name__}."
        )
    path = resolve_recipe(spec_or_path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(str(path), [("", f"cannot be read ({exc}).")]) from None
    spec = loads_toml(text, RecipeSpec, source=str(path))
    return LoadedRecipe(spec, text, str(path), path.resolve().parent)


def load_data(recipe: LoadedRecipe, modality: Modality) -> Any:
    """Read ``data.source`` with ``modality`` and check it at the boundary.

    A built-in data set name (:data:`~synthaug.config.BUILTIN_SOURCES`) wins over a file of
    the same name; a relative path is read from the recipe's folder.

    Returns
    -------
    The modality's canonical container (a DataFrame for tables), with every column.

    Raises
    ------
    SpecError
        At ``data.source`` when the source is not found, cannot be read or is not usable data.
    """
    return _read(recipe, modality, recipe.spec.data.source, "data.source")


def load_test_data(recipe: LoadedRecipe, modality: Modality) -> Any:
    """Read ``data.test_source`` (the test records given apart) like :func:`load_data`;
    ``None`` when the recipe names none.

    Raises
    ------
    SpecError
        At ``data.test_source``, as :func:`load_data` does at ``data.source``.
    """
    source = recipe.spec.data.test_source
    return None if source is None else _read(recipe, modality, source, "data.test_source")


def _read(recipe: LoadedRecipe, modality: Modality, source: str, field: str) -> Any:
    if source in BUILTIN_SOURCES:
        where: Any = DATASETS[source].load()
    else:
        file = Path(source)
        if not file.is_absolute():
            file = recipe.base_dir / file
        if not file.exists():
            raise SpecError(recipe.source, [(
                field,
                f"{source!r} is neither a built-in data set ({', '.join(BUILTIN_SOURCES)}) nor "
                f"a file (looked for {file}).",
            )])
        where = str(file)
    try:
        data = modality.read(where) if isinstance(where, str) else where
        return modality.check(data, what=f"{field} {source!r}")
    except (InvalidParameterError, InvalidDataError, ImportError) as exc:
        # ImportError: a reader's optional engine (pyarrow for Parquet) is not installed
        raise SpecError(recipe.source, [(field, str(exc))]) from None
