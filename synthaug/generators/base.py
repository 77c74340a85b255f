"""The generator contract every synthaug generator follows.

A generator is a scikit-learn estimator.  ``__init__`` only stores keyword parameters; ``fit``
validates, resolves the device, makes the random generators and calls ``_fit``; ``sample``
checks it is fitted and calls ``_sample``.  Subclasses implement the private steps only.
Persistence is a folder of JSON and safetensors (see :mod:`synthaug.utils.serialization`),
loaded by registry name, so loading never runs code from the file.
"""

from __future__ import annotations

import os
import platform
from abc import abstractmethod
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import numpy as np
import sklearn
import torch
from sklearn.base import BaseEstimator

from synthaug import registry
from synthaug._version import __version__
from synthaug.exceptions import (
    InvalidParameterError,
    ModelFormatError,
    NotFittedError,
    UnknownComponentError,
)
from synthaug.utils.device import resolve_device
from synthaug.utils.random import RandomState, check_random_state
from synthaug.utils.serialization import read_model_folder, write_model_folder

__all__ = ["BaseGenerator", "get_generator", "list_generators", "register_generator"]

G = TypeVar("G", bound="BaseGenerator")


class BaseGenerator(BaseEstimator):
    """Base class of all generators (see the module docstring for the contract).

    Class attributes declare capabilities as data: ``name`` (registry name), ``modality``
    (``"tabular"``, ``"image"``, ``"text"``), ``family`` (``"copula"``, ``"gan"``, ...), and
    ``tags`` (``"gpu"``: trains on a GPU when there is one; ``"exact_conditions"``: every sampled
    row meets ``conditions``).
    """

    name: ClassVar[str] = ""
    modality: ClassVar[str] = ""
    family: ClassVar[str] = ""
    tags: ClassVar[frozenset[str]] = frozenset()
    #: parameters saved as ``None`` (run-time hooks such as callbacks: not JSON, not the model)
    _unsaved_params: ClassVar[tuple[str, ...]] = ()

    device: str
    random_state: RandomState

    # -- the public template -------------------------------------------------------------------
    def fit(self: G, X: Any, y: Any = None) -> G:
        """Learn the distribution of ``X``; ``y`` is ignored (scikit-learn convention).

        Returns
        -------
        self
        """
        self._check_params()
        self.device_ = resolve_device(getattr(self, "device", "cpu"))
        rng = check_random_state(getattr(self, "random_state", None))
        self._fit(X, rng)
        return self

    def sample(
        self,
        n: int,
        *,
        conditions: Mapping[str, Any] | None = None,
        random_state: RandomState = None,
    ) -> Any:
        """Draw ``n`` synthetic records, in the container type ``fit`` was given.

        Parameters
        ----------
        n : int
            How many records to draw (0 gives an empty container).
        conditions : mapping, optional
            Exact values asked of every record (for example ``{"income": ">50K"}``).  Every
            returned record meets them; a value never seen in fitting is an error.
        random_state : int, numpy Generator or None
            Same seed on the same device gives the same records; ``None`` draws fresh ones.
        """
        self._check_fitted()
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise InvalidParameterError(f"n must be a non-negative int, got {n!r}.")
        return self._sample(int(n), conditions, check_random_state(random_state))

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Save the fitted model as a folder of JSON and safetensors; never pickle."""
        self._check_fitted()
        state, tensors = self._get_state()
        manifest = {
            "generator": self.name,
            "class": f"{type(self).__module__}.{type(self).__qualname__}",
            # callables (progress hooks) cannot be stored and do not change the fitted model
            "params": {k: None if k in self._unsaved_params else v
                       for k, v in self.get_params(deep=False).items()},
            "versions": {
                "synthaug": __version__,
                "torch": torch.__version__,
                "numpy": np.__version__,
                "scikit-learn": sklearn.__version__,
                "python": platform.python_version(),
            },
        }
        return write_model_folder(path, manifest, state, tensors)

    @classmethod
    def load(cls: type[G], path: str | os.PathLike[str], device: str = "auto") -> G:
        """Load a model saved by :meth:`save`, on ``device`` (it need not be the saving one)."""
        dev = resolve_device(device)
        manifest, state, tensors = read_model_folder(path, dev)
        name = manifest.get("generator")
        try:
            klass = registry.generators.get(str(name))
        except UnknownComponentError as exc:
            raise ModelFormatError(f"{path} names an unknown generator: {exc}") from None
        if cls is not BaseGenerator and not issubclass(klass, cls):
            raise ModelFormatError(f"{path} holds a {name!r} model, not a {cls.__name__}.")
        params = manifest.get("params")
        if not isinstance(params, dict):
            raise ModelFormatError(f"{path}/manifest.json has no 'params' object.")
        try:
            model = klass(**params)
        except TypeError as exc:
            raise ModelFormatError(f"{path}/manifest.json has parameters {name!r} does not "
                                   f"take ({exc}).") from None
        model.device_ = dev
        try:
            model._set_state(state, tensors)
        except (KeyError, TypeError, ValueError, IndexError, RuntimeError) as exc:
            raise ModelFormatError(
                f"{path} is damaged: its saved state does not fit a {name!r} model ({exc!r})."
            ) from None
        return model

    # -- hooks for subclasses ------------------------------------------------------------------
    def _check_params(self) -> None:
        """Raise :class:`InvalidParameterError` for parameter values that cannot work."""

    @abstractmethod
    def _fit(self, X: Any, rng: np.random.Generator) -> None: ...

    @abstractmethod
    def _sample(
        self, n: int, conditions: Mapping[str, Any] | None, rng: np.random.Generator
    ) -> Any: ...

    @abstractmethod
    def _get_state(self) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        """Fitted state as (JSON-able dict, named tensors).  Never training rows."""

    @abstractmethod
    def _set_state(self, state: Mapping[str, Any], tensors: Mapping[str, torch.Tensor]) -> None:
        """Restore what :meth:`_get_state` returned."""

    # -- helpers -------------------------------------------------------------------------------
    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "device_") and self._is_fitted()

    def _is_fitted(self) -> bool:
        return True

    def _check_fitted(self) -> None:
        if not self.__sklearn_is_fitted__():
            raise NotFittedError(
                f"This {type(self).__name__} is not fitted yet. Call fit(data) before sample() "
                "or save(), or load a saved model with load(path)."
            )


def register_generator(name: str) -> Callable[[type[G]], type[G]]:
    """Class decorator: register a generator under ``name`` and record the name on the class."""

    def decorator(cls: type[G]) -> type[G]:
        cls.name = name
        registry.generators.register(name)(cls)
        return cls

    return decorator


def get_generator(name: str, **params: Any) -> BaseGenerator:
    """Make the generator registered as ``name`` with ``params``.

    Examples
    --------
    >>> from synthaug import get_generator
    >>> get_generator("tabular.copula", random_state=0)
    GaussianCopulaGenerator(random_state=0)
    """
    cls = registry.generators.get(name)
    try:
        return cls(**params)
    except TypeError as exc:
        raise InvalidParameterError(f"{name}: {exc}") from None


def list_generators(modality: str | None = None) -> list[str]:
    """Registered generator names, optionally only those of one modality."""
    names = registry.generators.names()
    if modality is None:
        return names
    return [n for n in names if getattr(registry.generators.get(n), "modality", None) == modality]
