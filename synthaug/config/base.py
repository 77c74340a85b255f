"""The base of every spec model, and the loading that turns pydantic's errors into ours.

:class:`_Spec` and :class:`_StrictSpec` are the bases of the recipe, suite and job spec models;
:func:`parse_spec`, :func:`loads_toml` and :func:`load_toml` validate a document into one of
them and raise a :class:`SpecError` naming the file and each bad field's dotted path.  This is
apart from :mod:`synthaug.config.recipe` because suites (:mod:`synthaug.validators.suite`) and
jobs (:mod:`synthaug.jobs.spec`) build on it without needing the recipe models.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

from synthaug import registry
from synthaug.exceptions import InvalidParameterError, UnknownComponentError

__all__ = ["SpecError", "load_toml", "loads_toml", "parse_spec"]

S = TypeVar("S", bound="_Spec")


class SpecError(InvalidParameterError):
    """A spec file (recipe, suite, job) has a value that cannot work.

    Attributes
    ----------
    source : str
        The file (or ``"<recipe>"`` for a spec given from Python).
    fields : tuple of str
        The dotted path of each bad field, such as ``"augmentation.ratios[0]"``.

    Examples
    --------
    >>> from synthaug.config import SpecError
    >>> err = SpecError("mine.toml", [("augmentation.ratios[0]", "must be > 0")])
    >>> str(err), err.fields
    ('mine.toml: augmentation.ratios[0]: must be > 0', ('augmentation.ratios[0]',))
    """

    def __init__(self, source: str, problems: Sequence[tuple[str, str]]) -> None:
        self.source = source
        self.fields = tuple(field for field, _ in problems)
        if len(problems) == 1:
            field, message = problems[0]
            text = f"{source}: {field}: {message}" if field else f"{source}: {message}"
        else:
            lines = [f"{source}: {len(problems)} problems:"]
            lines += [f"  {field}: {message}" if field else f"  {message}"
                      for field, message in problems]
            text = "\n".join(lines)
        super().__init__(text)


class _Spec(BaseModel):
    """Base of every spec model: frozen, and unknown keys are errors."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)


class _StrictSpec(_Spec):
    """A spec model whose values must already have their type (no ``"400"`` for 400).

    TOML gives arrays as lists, so tuple fields relax only the container, with
    ``Field(strict=False)``, and keep their items strict (:data:`_Items`).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True, strict=True)


# -- loading and error formatting --------------------------------------------------------------
def parse_spec(data: Mapping[str, Any], model: type[S], *, source: str = "<spec>") -> S:
    """Validate a mapping (a parsed TOML document) into ``model``.

    Parameters
    ----------
    data : mapping
        The document, for example from :func:`tomllib.loads`.
    model : type
        The spec model (:class:`RecipeSpec`, ...).
    source : str, default="<spec>"
        Named in error messages (the file path when there is one).

    Returns
    -------
    The validated, frozen spec.

    Raises
    ------
    SpecError
        Naming ``source`` and the dotted path of every bad field.

    Examples
    --------
    >>> from synthaug.config import RecipeSpec, parse_spec
    >>> spec = parse_spec({"name": "demo", "data": {"source": "adult", "target": "income"}},
    ...                   RecipeSpec)
    >>> spec.generator.name
    'tabular.copula'
    """
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        raise SpecError(source, _problems(exc, model)) from None


def loads_toml(text: str, model: type[S], *, source: str = "<spec>") -> S:
    """Parse TOML ``text`` and validate it into ``model`` (see :func:`parse_spec`).

    Examples
    --------
    >>> from synthaug.config import RecipeSpec, loads_toml
    >>> text = 'name = "demo"\\n[data]\\nsource = "adult"\\ntarget = "income"\\n'
    >>> loads_toml(text, RecipeSpec).data.target
    'income'
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(source, [("", f"is not valid TOML: {exc}")]) from None
    return parse_spec(data, model, source=source)


def load_toml(path: str | os.PathLike[str], model: type[S]) -> S:
    """Read the TOML file at ``path`` and validate it into ``model``.

    Raises
    ------
    SpecError
        When the file is missing, is not TOML, or a field is bad (the message names the file
        and the field path).

    Examples
    --------
    >>> from synthaug.config import RecipeSpec, load_toml
    >>> from synthaug.recipes import resolve_recipe
    >>> load_toml(resolve_recipe("adult-lowdata"), RecipeSpec).name
    'adult-lowdata'
    """
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(str(file), [("", f"cannot be read ({exc}).")]) from None
    return loads_toml(text, model, source=str(file))


def _location(loc: Sequence[int | str]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _problems(exc: ValidationError, model: type[_Spec]) -> list[tuple[str, str]]:
    problems = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        message = str(err["msg"])
        if err["type"] == "extra_forbidden":
            allowed = _allowed_keys(model, loc[:-1])
            close = difflib.get_close_matches(str(loc[-1]), allowed, n=1, cutoff=0.6)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            where = f"[{_location(loc[:-1])}]" if len(loc) > 1 else "the top level"
            message = f"unknown key.{hint} Keys allowed in {where}: {', '.join(allowed)}."
        elif err["type"] == "missing":
            message = "is required but missing."
        else:
            message = message.removeprefix("Value error, ")
            # pydantic's own constraint messages do not quote the value; ours already do
            if err["type"] != "value_error" and "input" in err and not isinstance(
                    err["input"], (Mapping, list)):
                message += f" (got {err['input']!r})"
        problems.append((_location(loc), message))
    return problems


def _allowed_keys(model: type[_Spec], loc: Sequence[int | str]) -> list[str]:
    """The keys the spec model at ``loc`` accepts (for the did-you-mean of an unknown key).

    ``loc`` walks fields and, inside list, tuple and mapping fields, their items (an index or
    a key), so ``("checks", 1)`` is the second ``[[checks]]`` entry of a suite.

    Examples
    --------
    >>> from synthaug.validators.suite import SuiteSpec
    >>> "validator" in _allowed_keys(SuiteSpec, ("checks", 0))
    True
    """
    current: Any = model
    for part in loc:
        if _spec_class(current) is not None and isinstance(part, str):
            field = current.model_fields.get(part)
            if field is None:
                return []
            current = field.annotation
            continue
        # an item of a container field (tuple[CheckSpec, ...], dict[str, Spec]) or a member of
        # a union that pydantic names by its class
        current = _item_spec(current, part)
        if current is None:
            return []
    spec = _spec_class(current) or _item_spec(current, None)
    return sorted(spec.model_fields) if spec is not None else []


def _spec_class(annotation: Any) -> type[_Spec] | None:
    """``annotation`` itself when it is a spec model, or the one of an optional/annotated one."""
    if isinstance(annotation, type) and issubclass(annotation, _Spec):
        return annotation
    if get_origin(annotation) in (Annotated, Union, UnionType):
        found = [s for s in map(_spec_class, get_args(annotation)) if s is not None]
        return found[0] if len(found) == 1 else None
    return None


def _item_spec(annotation: Any, part: int | str | None) -> type[_Spec] | None:
    """The spec model held by a container (or union) annotation, for the item ``part``."""
    if get_origin(annotation) is Annotated:
        return _item_spec(get_args(annotation)[0], part)
    found: list[type[_Spec]] = []
    for arg in get_args(annotation):
        spec = _spec_class(arg) or _item_spec(arg, part)
        if spec is not None and (not isinstance(part, str) or part == spec.__name__
                                 or get_origin(annotation) in (dict, Mapping)):
            found.append(spec)
    return found[0] if len(set(found)) == 1 else None


def _registry_name(kind: registry.Registry[Any], name: str) -> str:
    try:
        kind.get(name)
    except UnknownComponentError as exc:
        raise ValueError(exc.message) from None
    return name


def _field_errors(problems: Sequence[tuple[tuple[str, ...], str, Any]]) -> ValidationError:
    """A ``ValidationError`` locating each problem at its own field, for checks that span
    several fields (a model validator would otherwise report them at the top level).

    Each problem is ``(location, message, value)``; pydantic prefixes the location of the
    enclosing model, so the dotted path in a :class:`SpecError` is the field's own.
    """
    return ValidationError.from_exception_data("spec", [
        InitErrorDetails(type=PydanticCustomError("value_error", message), loc=loc, input=value)
        for loc, message, value in problems
    ])
