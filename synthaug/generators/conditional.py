"""Class-conditional generators of records that have no columns: images and texts.

:class:`ClassConditionalGenerator` holds what image and text generators share on top of
:class:`~synthaug.generators.base.BaseGenerator`: the only condition is the class
(``conditions={"label": c}``, refused when the model was fitted without labels or never saw
``c``), and without a condition each record's class is drawn from the training class
frequencies, so a sample has the real class mix in expectation.  Subclasses implement
``_fit_records(records, rng)`` and ``_generate(n, classes, rng)``; the modality bases
(:mod:`synthaug.generators.image.base`, :mod:`synthaug.generators.text.base`) convert
containers.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from synthaug.data.modality import LABEL
from synthaug.exceptions import InvalidParameterError
from synthaug.generators.base import BaseGenerator

__all__ = ["ClassConditionalGenerator"]


class ClassConditionalGenerator(BaseGenerator):
    """Base of generators whose only condition is the class label (see the module docstring).

    ``schema_`` has ``classes`` (sorted labels seen in fitting; empty without labels),
    ``class_counts`` and ``class_index(label)``.  Every record meets ``{"label": c}``, so the
    class declares ``exact_conditions`` (torch subclasses: declare ``{"gpu",
    "exact_conditions"}``, since the mixin's tags come first).
    """

    tags: ClassVar[frozenset[str]] = frozenset({"exact_conditions"})

    def _parse_conditions(self, conditions: Mapping[str, Any] | None) -> int | None:
        """The class index asked for, or ``None`` for the training mix."""
        if not conditions:
            return None
        if not isinstance(conditions, Mapping):
            raise InvalidParameterError(
                f"conditions must be a mapping such as {{{LABEL!r}: 3}}, got "
                f"{type(conditions).__name__}."
            )
        unknown = sorted(str(k) for k in conditions if k != LABEL)
        if unknown:
            raise InvalidParameterError(
                f"{self.modality} generators condition on the class only: use "
                f"conditions={{{LABEL!r}: ...}}, not {unknown}."
            )
        if not self.schema_.labelled:
            raise InvalidParameterError(
                f"this {self.name or type(self).__name__} was fitted without labels, so it "
                "cannot make a given class; fit it with fit(X, y)."
            )
        value = conditions[LABEL]
        index = self.schema_.class_index(value)
        if index is None:
            shown = ", ".join(repr(c) for c in self.schema_.classes[:10])
            raise InvalidParameterError(
                f"conditions[{LABEL!r}] = {value!r} was never seen in the fitted data, so no "
                f"generator can produce it faithfully; the classes are {shown}"
                f"{' ...' if len(self.schema_.classes) > 10 else ''}."
            )
        return index

    def _classes_for(self, n: int, fixed: int | None, rng: np.random.Generator
                     ) -> np.ndarray | None:
        """Class index of each of ``n`` records: ``fixed``, the training mix, or None."""
        if fixed is not None:
            return np.full(n, fixed, dtype=np.int64)
        if not self.schema_.labelled:
            return None
        counts = np.asarray(self.schema_.class_counts, dtype=np.float64)
        return rng.choice(len(counts), size=n, p=counts / counts.sum())

    def _label_values(self, classes: np.ndarray | None) -> np.ndarray | None:
        """Class indices -> the label values (in the training labels' dtype)."""
        if classes is None:
            return None
        values = np.asarray(self.schema_.classes, dtype=object)[classes]
        dtype = self.schema_.labels_dtype
        return values.astype(dtype) if dtype and dtype != "object" else values

    def _is_fitted(self) -> bool:
        return hasattr(self, "schema_")

    # -- hooks ---------------------------------------------------------------------------------
    @abstractmethod
    def _generate(self, n: int, classes: np.ndarray | None, rng: np.random.Generator) -> Any:
        """``n`` records, record ``i`` of class ``classes[i]`` (or unlabelled when None)."""
