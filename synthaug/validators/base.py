"""The validator contract.

A validator declares ``name`` (registry name such as ``fidelity.column_shapes``), ``category``
(fidelity, bias, privacy or utility), ``direction`` (is a higher or a lower value better) and the
``modalities`` it accepts, and implements ``score(real, synthetic, *, holdout=None, context=None)``
returning a :class:`Score`.

Three hooks keep validators modality-neutral and suites fast:

* :meth:`BaseValidator._prepare` returns the inputs as matrices in one encoding
  (:class:`~synthaug.data.modality.Prepared`), made by the data's modality: the schema matrix of
  a table, a feature embedding of images or text.  Inside a suite run the view is computed once
  and shared (``context["prepared"]``); a direct ``score`` call computes its own.  A validator
  that only needs feature vectors declares ``modalities = FEATURE_MODALITIES`` and runs
  unchanged on every modality.
* :meth:`BaseValidator._check_params` refuses bad parameters; a suite calls it for every entry
  before any check runs.
* :meth:`BaseValidator.figures` returns the figure data a report draws from a score (a DCR
  histogram, a curve, group rates), so reports never match on validator names.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeVar

from synthaug import registry
from synthaug.exceptions import InvalidDataError, InvalidParameterError, NotSupportedError

if TYPE_CHECKING:
    from synthaug.data.modality import Modality, Prepared

__all__ = [
    "FEATURE_MODALITIES",
    "BaseValidator",
    "Score",
    "get_validator",
    "list_validators",
    "register_validator",
]

#: the modalities a validator that needs only feature vectors accepts
FEATURE_MODALITIES: frozenset[str] = frozenset({"tabular", "image", "text"})

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

    # -- hooks ---------------------------------------------------------------------------------
    def _check_params(self) -> None:
        """Raise :class:`InvalidParameterError` for parameter values that cannot work.

        Suites call it for every entry before any check runs, so a typo in the last entry of a
        long suite costs nothing.
        """
        return None

    def figures(self, score: Score) -> dict[str, Any]:
        """Figure data a report draws from ``score``, keyed by figure kind (none by default).

        Override it when a report should show something of this validator's result.  Return
        the exact structure of a kind listed in :mod:`synthaug.validators.report.figures`
        (that module's builders make them): ``"dcr"`` (distance histograms as shares of
        synthetic rows), ``"curves"`` (a list of curves on [0, 1] x [0, 1]),
        ``"group_rates"`` (a list of group tables, with the gaps measured over them) or
        ``"pair_trends"`` (a difference matrix over column pairs).  Read only ``score``: a
        suite calls this once per check that ran, after every check ran.

        Lists from several checks are joined, each item labelled ``"check"`` with its suite
        entry's id; any other kind is taken from the first check that gives it.  Under
        ``"notes"``, a list of sentences for the report's notes (say why a figure is missing).
        A kind the report does not know is left out with a note, never an error.
        """
        return {}

    def accepts_modality(self, modality: str) -> bool:
        """Whether this validator can score data of ``modality``."""
        return modality in self.modalities

    def _prepare(
        self,
        real: Any,
        synthetic: Any,
        holdout: Any = None,
        context: Mapping[str, Any] | None = None,
        *,
        require_holdout: bool = False,
    ) -> Prepared:
        """The inputs as matrices in one encoding, checked against the real data.

        Pass ``holdout`` only when the validator uses it (it can add category levels).  Inside
        a suite run the view is shared by every check (``context["prepared"]``).

        Raises
        ------
        NotSupportedError
            When the data's modality is not one this validator accepts.
        InvalidDataError
            When ``holdout`` is required but missing, or the inputs do not fit together.
        """
        from synthaug.data.modality import PreparedCache, detect_modality

        if holdout is None and require_holdout:
            raise InvalidDataError(
                f"{self.name} needs a holdout: real records from the same source that the "
                "generator never saw. Pass it as score(real, synthetic, holdout=...) "
                "(command line: --holdout); keep it out of the generator's training data."
            )
        cache = (context or {}).get("prepared")
        if isinstance(cache, PreparedCache) and cache.serves(real, synthetic, holdout):
            modality: Modality = cache.modality
        else:
            modality = detect_modality(real, what="real")
            cache = PreparedCache(modality, real, synthetic, holdout)
        self._check_modality(modality.name)
        return cache.get(with_holdout=holdout is not None, validator=self.name)

    def _check_modality(self, modality: str) -> None:
        if not self.accepts_modality(modality):
            raise NotSupportedError(
                f"{self.name} scores {', '.join(sorted(self.modalities))} data, not {modality} "
                "data. Use a suite made for that modality (synthaug list shows each "
                "validator's modalities), or drop this check."
            )


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
