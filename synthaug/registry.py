"""Name -> component registries for generators, validators, downstream models and engines.

Names have the form ``<modality>.<family>`` (``tabular.copula``, ``image.gan``) or
``<prefix>.<name>`` for adapters to other libraries (``sdv.ctgan``).  Built-ins register
themselves when their module is imported; :meth:`Registry.load_builtins` imports those modules on
first lookup, and third-party packages add components through the entry-point group
``synthaug.<kind>s`` (for example ``synthaug.generators``).
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterator
from importlib.metadata import entry_points
from typing import Generic, TypeVar

from synthaug.exceptions import InvalidParameterError, UnknownComponentError

__all__ = ["Registry", "generators", "validators", "downstream_models"]

T = TypeVar("T")
_NAME = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")


class Registry(Generic[T]):
    """A registry of components of one kind, filled by a refusing-duplicates decorator.

    Parameters
    ----------
    kind : str
        What the components are ("generator", "validator", ...), used in messages and in the
        entry-point group name ``synthaug.<kind>s``.
    builtin_modules : tuple of str
        Modules imported on first lookup; importing them registers the built-ins.

    Examples
    --------
    >>> reg: Registry[type] = Registry("widget", ())
    >>> @reg.register("tabular.demo")
    ... class Demo: ...
    >>> reg.get("tabular.demo") is Demo
    True
    """

    def __init__(self, kind: str, builtin_modules: tuple[str, ...]) -> None:
        self.kind = kind
        self._builtin_modules = builtin_modules
        self._items: dict[str, T] = {}
        self._loaded = False

    def register(self, name: str) -> Callable[[T], T]:
        """Register the decorated object under ``name``; a second use of a name is an error."""
        if not _NAME.match(name):
            raise InvalidParameterError(
                f"{self.kind} name {name!r} must look like '<modality>.<family>' "
                "(lower case, one dot), for example 'tabular.copula'."
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
        """Import the built-in modules and the installed entry points, once."""
        if self._loaded:
            return
        self._loaded = True
        for module in self._builtin_modules:
            importlib.import_module(module)
        for ep in entry_points(group=f"synthaug.{self.kind}s"):
            if ep.name not in self._items:
                self.register(ep.name)(ep.load())

    def get(self, name: str) -> T:
        """Return the component registered as ``name`` or raise a did-you-mean error."""
        self.load_builtins()
        try:
            return self._items[name]
        except KeyError:
            raise UnknownComponentError(self.kind, name, self._items) from None

    def names(self) -> list[str]:
        """All registered names, sorted."""
        self.load_builtins()
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        self.load_builtins()
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())


generators: Registry[type] = Registry(
    "generator", ("synthaug.generators.tabular", "synthaug.generators.adapters")
)
validators: Registry[type] = Registry(
    "validator",
    ("synthaug.validators.fidelity", "synthaug.validators.bias", "synthaug.validators.privacy"),
)
downstream_models: Registry[Callable[..., object]] = Registry(
    "downstream model", ("synthaug.recipes.models",)
)
