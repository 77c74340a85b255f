"""The validator contract.

A validator declares ``name`` (registry name such as ``fidelity.column_shapes``), ``category``
(fidelity, bias, privacy or utility), ``direction`` (is a higher or a lower value better) and the
``modalities`` it accepts, and implements ``score(real, synthetic, *, holdout=None, context=None)``
returning a :class:`Score`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, TypeVar

from synthaug import registry
from synthaug.exceptions import InvalidParameterError

__all__ = ["BaseValidator", "Score", "get_validator", "list_validators", "register_validator"]

Category = Literal["fidelity", "bias", "privacy", "utility"]
Direction = Literal["higher", "lower"]
V = TypeVar("V", bound="BaseValidator")


@dataclass(frozen=True)
class Score:
    """What a validator found: one headline value, optionally an interval, and details."""

    validator: str
    category: str
    direction: str
    value: float
    interval: tuple[float, float] | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "validator": self.validator,
            "category": self.category,
            "direction": self.direction,
            "value": self.value,
            "interval": list(self.interval) if self.interval else None,
            "details": dict(self.details),
        }


class BaseValidator(ABC):
    """Base class of validators.  Parameters go to ``__init__``; ``score`` does the work."""

    name: ClassVar[str] = ""
    category: ClassVar[Category]
    direction: ClassVar[Direction]
    modalities: ClassVar[frozenset[str]] = frozenset({"tabular"})

    @abstractmethod
    def score(
        self,
        real: Any,
        synthetic: Any,
        *,
        holdout: Any = None,
        context: Mapping[str, Any] | None = None,
    ) -> Score:
        """Score ``synthetic`` against ``real`` (and ``holdout`` where the validator uses one)."""

    def _score(self, value: float, **kw: Any) -> Score:
        return Score(self.name, self.category, self.direction, float(value), **kw)


def register_validator(name: str) -> Callable[[type[V]], type[V]]:
    """Class decorator: register a validator under ``name`` and record the name on the class."""

    def decorator(cls: type[V]) -> type[V]:
        cls.name = name
        registry.validators.register(name)(cls)
        return cls

    return decorator


def get_validator(name: str, **params: Any) -> BaseValidator:
    """Make the validator registered as ``name`` with ``params``."""
    cls = registry.validators.get(name)
    try:
        return cls(**params)
    except TypeError as exc:
        raise InvalidParameterError(f"{name}: {exc}") from None


def list_validators() -> list[str]:
    """Registered validator names."""
    return registry.validators.names()
