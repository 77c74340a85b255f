"""Name -> component registries: generators, validators, downstream models, modalities, engines.

Names of components have the form ``<modality>.<family>`` (``tabular.copula``, ``image.gan``) or
``<prefix>.<name>`` for adapters to other libraries (``sdv.ctgan``); modalities and job engines
are plain words (``tabular``, ``image``, ``text``; ``local``, ``ray``).  Built-ins register
themselves when their module is imported; :meth:`Registry.load_builtins` imports those modules
on first lookup, **each on its own**: a module that cannot be imported (an optional extra is not
installed) is remembered, and a lookup of a name it would have provided says which extra to
install, instead of leaving a silently partial registry.  Third-party packages add components
through the entry-point group ``synthaug.<kind>s`` (for example ``synthaug.generators``); one
that fails to load is reported by a warning and by the lookup of its name, and breaks nothing
else.
"""

from __future__ import annotations

import importlib
import re
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from synthaug.exceptions import (
    InvalidParameterError,
    MissingDependencyError,
    SynthaugWarning,
    UnknownComponentError,
)

if TYPE_CHECKING:
    from synthaug.data.modality import Modality
    from synthaug.generators.base import BaseGenerator
    from synthaug.jobs.engines import Engine
    from synthaug.validators.base import BaseValidator

__all__ = ["Registry", "downstream_models", "engines", "generators", "modalities", "validators"]

T = TypeVar("T")
DOTTED = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")
WORD = re.compile(r"^[a-z][a-z0-9_]*$")


class Registry(Generic[T]):
    """A registry of components of one kind, filled by a refusing-duplicates decorator.

    Parameters
    ----------
    kind : str
        What the components are ("generator", "validator", ...), used in messages and in the
        entry-point group name ``synthaug.<kind>s``.
    builtin_modules : mapping of str to str or None
        Modules imported on first lookup (importing them registers the built-ins), each with
        the optional extra it needs (``None`` when it needs none).  The last part of a module's
        name is the name prefix it provides (``synthaug.generators.image`` -> ``image.*``).
    pattern : compiled regex
        What a name must look like.

    Examples
    --------
    >>> reg: Registry[type] = Registry("widget", {})
    >>> @reg.register("tabular.demo")
    ... class Demo: ...
    >>> reg.get("tabular.demo") is Demo
    True
    """

    def __init__(self, kind: str, builtin_modules: Mapping[str, str | None],
                 pattern: re.Pattern[str] = DOTTED) -> None:
        self.kind = kind
        self._builtin_modules = dict(builtin_modules)
        self._pattern = pattern
        self._items: dict[str, T] = {}
        self._failed: dict[str, BaseException] = {}  # built-in module -> why it did not import
        self._broken: dict[str, BaseException] = {}  # plug-in name -> why it did not load
        self._loaded = False

    def register(self, name: str) -> Callable[[T], T]:
        """Register the decorated object under ``name``; a second use of a name is an error."""
        if not self._pattern.match(name):
            example = "'tabular.copula'" if self._pattern is DOTTED else "'tabular'"
            raise InvalidParameterError(
                f"{self.kind} name {name!r} must look like {example} (lower case"
                f"{', one dot' if self._pattern is DOTTED else ''})."
            )

        def decorator(obj: T) -> T:
            existing = self._items.get(name)
            if existing is not None and existing is not obj:
                raise InvalidParameterError(
                    f"{self.kind} name {name!r} is already registered to {existing!r}; "
                    "choose another name."
                )
            self._items[name] = obj
            return obj

        return decorator

    def load_builtins(self) -> None:
        """Import each built-in module and the installed entry points, once."""
        if self._loaded:
            return
        for module in self._builtin_modules:
            try:
                importlib.import_module(module)
            except ImportError as exc:  # an optional extra is missing: say so at lookup
                self._failed[module] = exc
        for ep in entry_points(group=f"synthaug.{self.kind}s"):
            if ep.name in self._items:
                continue
            try:
                self.register(ep.name)(ep.load())
            except Exception as exc:  # a broken plug-in must not break every lookup
                self._broken[ep.name] = exc
                warnings.warn(f"synthaug: the {self.kind} plug-in {ep.name!r} ({ep.value}) "
                              f"could not be loaded: {exc}", SynthaugWarning, stacklevel=2)
        self._loaded = True

    def get(self, name: str) -> T:
        """Return the component registered as ``name``.

        Raises
        ------
        MissingDependencyError
            When the built-in module that provides ``name`` could not be imported; the
            message names the extra to install.
        UnknownComponentError
            Otherwise, for an unknown name, with close names suggested.
        """
        self.load_builtins()
        try:
            return self._items[name]
        except KeyError:
            pass
        if name in self._broken:
            raise MissingDependencyError(
                f"the {self.kind} plug-in {name!r} is installed but could not be loaded "
                f"({self._broken[name]}); reinstall or update the package that provides it."
            ) from self._broken[name]
        prefix = name.split(".", 1)[0]
        for module, exc in self._failed.items():
            if module.rsplit(".", 1)[-1] == prefix:
                extra = self._builtin_modules.get(module)
                how = (f"install it with pip install 'synthaug[{extra}]'" if extra
                       else "see the error above")
                raise MissingDependencyError(
                    f"{self.kind} {name!r} needs a package that is not installed; {how} "
                    f"(importing {module} failed: {exc})."
                ) from exc
        raise UnknownComponentError(self.kind, name, self._items)

    def names(self) -> list[str]:
        """All registered names, sorted."""
        self.load_builtins()
        return sorted(self._items)

    def unavailable(self) -> dict[str, str]:
        """Built-in modules and plug-ins that could not be loaded, with the reason."""
        self.load_builtins()
        return {k: str(v) for k, v in (self._failed | self._broken).items()}

    @contextmanager
    def scoped(self) -> Iterator[Registry[T]]:
        """Register things for the length of a ``with`` block only (tests, experiments).

        Examples
        --------
        >>> reg: Registry[type] = Registry("widget", {})
        >>> with reg.scoped():
        ...     _ = reg.register("tabular.tmp")(int)
        ...     "tabular.tmp" in reg
        True
        >>> "tabular.tmp" in reg
        False
        """
        self.load_builtins()
        saved = dict(self._items)
        try:
            yield self
        finally:
            self._items.clear()
            self._items.update(saved)

    def __contains__(self, name: object) -> bool:
        self.load_builtins()
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())


generators: Registry[type[BaseGenerator]] = Registry("generator", {
    "synthaug.generators.tabular": None,
    "synthaug.generators.image": "image",
    "synthaug.generators.text": "text",
    "synthaug.generators.adapters": None,
})
validators: Registry[type[BaseValidator]] = Registry("validator", {
    "synthaug.validators.fidelity": None,
    "synthaug.validators.bias": None,
    "synthaug.validators.privacy": None,
    "synthaug.validators.utility": None,
})
# each recipe task module defines and registers its modality's models (tabular.mlp), so the
# task modules are the built-ins; a new modality's task module is added here with its extra
downstream_models: Registry[Callable[..., Any]] = Registry(
    "downstream model", {"synthaug.recipes.tasks.tabular": None,
                         "synthaug.recipes.tasks.image": "image",
                         "synthaug.recipes.tasks.text": "text"}
)
modalities: Registry[Modality] = Registry("modality", {
    "synthaug.data.tabular": None,
    "synthaug.data.image": None,
    "synthaug.data.text": None,
}, pattern=WORD)
#: batch-job engines (synthaug.jobs); ``ray`` needs the ``ray`` extra, and a lookup says so
engines: Registry[type[Engine]] = Registry("engine", {
    "synthaug.jobs.engines.local": None,
    "synthaug.jobs.engines.ray": "ray",
}, pattern=WORD)
