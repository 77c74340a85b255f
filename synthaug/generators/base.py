"""The generator contract every synthaug generator follows, for every modality.

A generator is a scikit-learn estimator.  ``__init__`` only stores keyword parameters.  The
public methods are templates; subclasses implement only the private steps:

* ``fit(X, y=None)`` validates the parameters, resolves the device, makes the random generator
  and calls ``_fit(X, y, rng)``.  ``y`` holds class labels: images and texts come as
  ``(records, labels)``; a table may carry its label as a column instead.
* ``sample(n, conditions=..., random_state=...)`` and ``sample_batches(...)`` parse the
  conditions once (``_parse_conditions``), draw bounded batches (``_sample_batch``), join them
  (``_join``) and hand them back in the container ``fit`` was given (``_output``): a frame for a
  frame, an array for an array, ``(X, y)`` when ``fit`` was given ``y``.  ``conditions`` asks for
  exact values; ``{"label": c}`` (:data:`synthaug.data.modality.LABEL`) asks for class ``c`` in
  every modality.
* ``save(path)`` / ``load(path)`` write and read a folder of JSON and safetensors (see
  :mod:`synthaug.utils.serialization`), loaded by registry name, so loading never runs code from
  the file.  The fitted schema (``schema_``: what the training data looked like, never its
  records) is persisted here, by the data's modality; subclasses add their model state.
"""

from __future__ import annotations

import os
import platform
from abc import abstractmethod
from collections.abc import Callable, Iterator, Mapping
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
from synthaug.utils.validation import check_int

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
    #: records per batch of ``sample`` and ``sample_batches`` (bounds memory for any ``n``)
    batch_size_hint: ClassVar[int] = 262_144

    device: str
    random_state: RandomState

    # -- the public template -------------------------------------------------------------------
    def fit(self: G, X: Any, y: Any = None) -> G:
        """Learn the distribution of ``X`` (and of the classes ``y``, when given).

        Parameters
        ----------
        X : the modality's container
            A DataFrame or 2-D array for tables; images or texts for those modalities.
        y : array-like of shape (n,), optional
            A class label per record.  Then ``sample`` returns ``(X, y)`` and
            ``conditions={"label": c}`` asks for class ``c``.

        Returns
        -------
        self
        """
        self._check_params()
        self.device_ = self._device(getattr(self, "device", "cpu"))
        rng = check_random_state(getattr(self, "random_state", None))
        self._fit(X, y, rng)
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
            Exact values asked of every record (for example ``{"income": ">50K"}``, or
            ``{"label": 3}`` for a class).  Every returned record meets them; a value never
            seen in fitting is an error.
        random_state : int, numpy Generator or None
            Same seed on the same device gives the same records; ``None`` draws fresh ones.
        """
        self._check_fitted()
        n = _check_count(n, "n")
        fixed = self._parse_conditions(conditions)
        rng = check_random_state(random_state)
        batches = [self._sample_batch(count, fixed, rng)
                   for count in _batch_sizes(n, self.batch_size_hint)]
        return self._output(self._join(batches, rng))

    def sample_batches(
        self,
        n: int,
        *,
        batch_size: int | None = None,
        conditions: Mapping[str, Any] | None = None,
        random_state: RandomState = None,
    ) -> Iterator[Any]:
        """Yield ``n`` records in batches of at most ``batch_size``: flat memory for any ``n``.

        Arguments are checked when this is called, not when the first batch is drawn.  The
        batches hold exactly the records ``sample(n, ...)`` would give with the same seed when
        ``batch_size`` equals :attr:`batch_size_hint` (the default).
        """
        self._check_fitted()
        n = _check_count(n, "n")
        size = self.batch_size_hint if batch_size is None else _check_count(
            batch_size, "batch_size", minimum=1)
        fixed = self._parse_conditions(conditions)
        rng = check_random_state(random_state)

        def batches() -> Iterator[Any]:
            for count in _batch_sizes(n, size):
                yield self._output(self._sample_batch(count, fixed, rng))

        return batches()

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Save the fitted model as a folder of JSON and safetensors; never pickle.

        An existing ``path`` is replaced only when it is a synthaug model folder (or empty),
        and only once the new folder is complete.
        """
        self._check_fitted()
        model_state, tensors = self._get_model_state()
        state = {"modality": self.modality, "schema": self.schema_.to_dict(),
                 **self._get_schema_extras(), "model": model_state}
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
        manifest, state, tensors = read_model_folder(path, resolve_device(device))
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
        model.device_ = model._device(device)
        try:
            model._set_state(state, tensors)
            # what loads must sample: a state that passes every field check but still does not
            # fit together fails here, by name, and not later inside pandas or torch
            model._check_loaded()
        except ModelFormatError as exc:
            raise ModelFormatError(f"{path} is damaged: {exc}") from None
        except (KeyError, TypeError, ValueError, IndexError, RuntimeError, AttributeError,
                ZeroDivisionError, OverflowError, np.linalg.LinAlgError) as exc:
            raise ModelFormatError(
                f"{path} is damaged: its saved state does not fit a {name!r} model ({exc!r})."
            ) from None
        return model

    # -- hooks for subclasses ------------------------------------------------------------------
    def _check_params(self) -> None:
        """Raise :class:`InvalidParameterError` for parameter values that cannot work."""

    @abstractmethod
    def _fit(self, X: Any, y: Any, rng: np.random.Generator) -> None:
        """Check ``X`` (and ``y``), set ``schema_`` and learn; ``device_`` is already set."""

    @abstractmethod
    def _parse_conditions(self, conditions: Mapping[str, Any] | None) -> Any:
        """Check ``conditions`` against the fitted schema; return them in the form
        ``_sample_batch`` uses.  Raise :class:`InvalidParameterError` naming the bad key."""

    @abstractmethod
    def _sample_batch(self, n: int, fixed: Any, rng: np.random.Generator) -> Any:
        """Draw ``n`` records meeting ``fixed``, in the modality's canonical container."""

    @abstractmethod
    def _join(self, batches: list[Any], rng: np.random.Generator) -> Any:
        """The batches one after another (none: an empty container of the fitted kind)."""

    @abstractmethod
    def _output(self, batch: Any) -> Any:
        """A canonical batch in the container ``fit`` was given (``(X, y)`` when it had y)."""

    @abstractmethod
    def _get_model_state(self) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        """Fitted model state as (JSON-able dict, named tensors).  Never training records."""

    @abstractmethod
    def _set_model_state(
        self, state: Mapping[str, Any], tensors: Mapping[str, torch.Tensor]
    ) -> None:
        """Restore what :meth:`_get_model_state` returned (``schema_`` is already restored)."""

    def _check_loaded(self) -> None:
        """Raise when a model just restored by :meth:`load` cannot work (default: nothing)."""

    def _get_schema_extras(self) -> dict[str, Any]:
        """More fitted description beside ``schema_`` (JSON), saved at the top of the state."""
        return {}

    def _set_schema_extras(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`_get_schema_extras` returned."""

    def _set_state(self, state: Mapping[str, Any], tensors: Mapping[str, torch.Tensor]) -> None:
        from synthaug.data.modality import get_modality

        # folders saved before the modality seam hold a table schema and no "modality" key
        modality = state.get("modality", "tabular")
        if modality != self.modality:
            raise ModelFormatError(f"the saved state is {modality} data, but {self.name!r} is a "
                                   f"{self.modality} generator.")
        self.schema_ = get_modality(modality).schema_from_dict(state["schema"])
        self._set_schema_extras(state)
        self._set_model_state(state["model"], tensors)

    # -- helpers -------------------------------------------------------------------------------
    def _device(self, device: str | torch.device | None) -> torch.device:
        """Where this generator computes: the resolved ``device``, or the CPU for CPU-only
        classes (tag ``"cpu"``), so ``device_`` never claims a GPU it does not use."""
        resolved = resolve_device(device)
        return torch.device("cpu") if "cpu" in self.tags else resolved

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "device_") and hasattr(self, "schema_") and self._is_fitted()

    def _is_fitted(self) -> bool:
        return True

    def _check_fitted(self) -> None:
        if not self.__sklearn_is_fitted__():
            raise NotFittedError(
                f"This {type(self).__name__} is not fitted yet. Call fit(data) before sample() "
                "or save(), or load a saved model with load(path)."
            )


def _check_count(value: Any, name: str, minimum: int = 0) -> int:
    check_int(value, name, minimum)
    return int(value)


def _batch_sizes(n: int, size: int) -> list[int]:
    """``n`` split into batches of ``size`` (the last one smaller); none for ``n == 0``."""
    return [min(size, n - start) for start in range(0, n, size)]


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
