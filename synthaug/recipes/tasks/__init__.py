"""Recipe tasks: what a recipe needs to know about one modality, one module per modality.

The runner (:mod:`synthaug.recipes.runner`) is the same for every kind of data: split, fit the
generator, build each arm's training records, train, score.  Everything that depends on the
kind of data is a :class:`Task`, registered under its modality's name and looked up with
:func:`get_task`:

=====================  ====================================================================
what                   the task's part
=====================  ====================================================================
the recipe's names     :meth:`~Task.check_roles`, :meth:`~Task.labels`, :meth:`~Task.groups`,
                       :meth:`~Task.select` (target, sensitive attribute, scenario column,
                       ``data.drop``)
model inputs           :meth:`~Task.featurizer`: records -> named arrays, ``model(**inputs)``;
                       :attr:`~Task.default_model` when the recipe names none
the generator          :meth:`~Task.generator_input` (what ``fit`` sees) and
                       :meth:`~Task.synthetic` (records of one class, labelled)
the classic baseline   :attr:`~Task.baseline` (its name) and :meth:`~Task.classic` (its
                       records, as many per class as the generator's arm gets)
the metric             :meth:`~Task.metrics` (classification metrics, per group)
=====================  ====================================================================

**Downstream models** are torch modules (``nn.Module``) made by factories registered in
:data:`synthaug.registry.downstream_models`: ``factory(inputs, **params)``, where ``inputs`` is
what the task's featurizer describes its model inputs with (:class:`~.tabular.TabularInputs`
for tables, :class:`~synthaug.data.image.classifier.ImageInputs` for images).  A model's
``forward`` takes those inputs by name (``model(**inputs)``; ``forward(x_num, x_cat)`` for
tables, ``forward(x)`` for images) and returns ``(n, n_classes)`` logits.  Each task module
defines and registers its modality's models (``tabular.mlp`` lives in
:mod:`synthaug.recipes.tasks.tabular`, ``image.cnn`` in :mod:`synthaug.recipes.tasks.image`);
the task modules are the built-in modules of that
registry, imported on its first lookup.  A user's own factory with that signature can be passed to
:func:`synthaug.recipes.run` as ``model_factory``.

Counting, indexing, joining and fingerprinting records go through the modality seam
(:attr:`Task.data`, a :class:`~synthaug.data.modality.Modality`), never through the task.

**Adding a modality** is adding one module, ``synthaug/recipes/tasks/<modality>.py``, that
defines a :class:`Task` subclass and registers it with :func:`register_task`; every module of
this package is imported on the first lookup, so the task needs nothing else.  Its downstream
models are found once the module is listed among the built-in modules of
:data:`synthaug.registry.downstream_models`.

Examples
--------
>>> from synthaug.recipes.tasks import get_task, list_tasks
>>> "tabular" in list_tasks()
True
>>> get_task("tabular").default_model, get_task("tabular").baseline
('tabular.mlp', 'smote')
>>> from synthaug import registry
>>> from synthaug.recipes.tasks.tabular import TabularMLP
>>> registry.downstream_models.get("tabular.mlp") is TabularMLP
True
"""

from __future__ import annotations

import pkgutil
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar

import numpy as np

from synthaug.config import RecipeSpec
from synthaug.data.modality import Modality, get_modality
from synthaug.recipes.metrics import classification_metrics
from synthaug.registry import WORD, Registry

if TYPE_CHECKING:
    from synthaug.generators.base import BaseGenerator

__all__ = ["Featurizer", "LabelledRecordsTask", "Problems", "Task", "get_task", "list_tasks",
           "register_task", "tasks"]

Problems = list[tuple[str, str]]
T = TypeVar("T", bound="type[Task]")

#: the optional extra each built-in task module needs, when it needs one
_EXTRAS: dict[str, str | None] = {"image": "image", "text": "text"}


class Featurizer(Protocol):
    """Turns records into a downstream model's inputs; fitted on the real training records.

    ``transform`` returns named arrays, one per ``forward`` argument of the model (floating
    arrays become float32 tensors and integer arrays int64); ``inputs`` describes them to the
    model factory, which is called as ``factory(inputs, **model.params)``.
    """

    def fit(self, data: Any) -> Featurizer:
        """Learn the layout from the real training records; return ``self``."""
        ...

    def inputs(self, n_classes: int) -> Any:
        """What a model factory is given to build a model for this layout."""
        ...

    def transform(self, data: Any) -> dict[str, np.ndarray]:
        """The model inputs of ``data``'s records, by ``forward`` argument name."""
        ...


class Task(ABC):
    """How recipes handle one modality (see the module docstring); made for one recipe.

    Parameters
    ----------
    spec : RecipeSpec
        The recipe; the task reads the names it uses (``data.target``, ``data.sensitive``,
        ``scenario.column``, ``data.drop``).
    """

    #: the modality served (a registered :class:`~synthaug.data.modality.Modality` name)
    modality: ClassVar[str] = ""
    #: the downstream model (registry name) used when the recipe's ``model.name`` is not set
    default_model: ClassVar[str] = ""
    #: the classic augmentation's name: the kind of its arms and their key prefix ("smote")
    baseline: ClassVar[str] = ""
    #: the reference model ``model.reference = "auto"`` trains beside the downstream model
    #: (a :data:`~synthaug.recipes.reference.REFERENCE_MODELS` name), ``None`` when none reads
    #: this modality's model inputs
    reference: ClassVar[str | None] = None

    def __init__(self, spec: RecipeSpec) -> None:
        self.spec = spec

    @property
    def data(self) -> Modality:
        """The modality seam for this task's records (take, concat, count, fingerprint)."""
        return get_modality(self.modality)

    # -- the recipe's names --------------------------------------------------------------------
    @abstractmethod
    def check_roles(self, data: Any) -> Problems:
        """``(field, message)`` for each name of the recipe the data cannot resolve."""

    @abstractmethod
    def labels(self, data: Any) -> np.ndarray | None:
        """The class label of each record (``None`` when the data lacks them)."""

    @abstractmethod
    def groups(self, data: Any, name: str) -> np.ndarray | None:
        """The value of each record for the group attribute ``name`` (``data.sensitive``,
        ``scenario.column``), or ``None`` when the data has no such attribute."""

    def select(self, data: Any) -> Any:
        """The loaded data without what the recipe leaves out (``data.drop``)."""
        return data

    def describe(self, data: Any) -> dict[str, Any]:
        """What ``run.json`` records about the data beside its source and hash."""
        return {"rows": self.data.n_records(data)}


    # -- model inputs --------------------------------------------------------------------------
    @abstractmethod
    def featurizer(self) -> Featurizer:
        """A new, unfitted featurizer for the downstream model."""

    # -- the generator -------------------------------------------------------------------------
    def generator_input(self, train: Any) -> Any:
        """What the generator is fitted on, made from the real training records."""
        return train

    @abstractmethod
    def synthetic(self, gen: BaseGenerator, n: int, *, label: Any,
                  group: tuple[str, Any] | None, like: Any, random_state: int) -> Any:
        """``n`` records of class ``label`` drawn from ``gen`` (and of ``group``, a
        ``(name, value)`` pair, when given), labelled, in the container and types of ``like``."""

    # -- the classic baseline ------------------------------------------------------------------
    @abstractmethod
    def classic(self, reference: Any, codes: np.ndarray, plan: np.ndarray,
                classes: list[Any], *, like: Any, random_state: int, notes: list[str]) -> Any:
        """Records of the classic augmentation: ``plan[c]`` of class ``classes[c]``, made from
        the ``reference`` records (whose class codes are ``codes``), labelled, in the container
        and types of ``like``.  A class it cannot serve gets none, with a line in ``notes``."""

    # -- the metric ----------------------------------------------------------------------------
    def metrics(self, y: np.ndarray, proba: np.ndarray, *, n_classes: int,
                groups: np.ndarray | None) -> dict[str, float]:
        """Test metrics of one trained model (see
        :func:`~synthaug.recipes.metrics.classification_metrics`)."""
        return classification_metrics(y, proba, n_classes=n_classes, groups=groups,
                                      group_name=self.spec.data.sensitive)


class LabelledRecordsTask(Task):
    """A task whose records carry a class label and have no columns (images, texts): the
    recipe's column names (``data.sensitive``, ``scenario.column``, ``data.drop``) name
    nothing there, and the labels come from the records themselves."""

    #: the records in the plural, for messages ("images", "texts")
    records: ClassVar[str] = ""
    #: how to give labelled records, for the message when they have none
    labelled_hint: ClassVar[str] = ""

    def check_roles(self, data: Any) -> Problems:
        spec, kind = self.spec, self.records
        problems: Problems = []
        if self.labels(data) is None:
            problems.append(("data.target", f"the {kind} have no labels; {self.labelled_hint}"))
        for name, path in [(spec.data.sensitive, "data.sensitive"),
                           (spec.scenario.column, "scenario.column")]:
            if name is not None:
                problems.append((path, f"{kind} have no columns, so {name!r} names nothing; "
                                       "leave it out."))
        if spec.data.drop:
            problems.append(("data.drop", f"{kind} have no columns to drop; leave it out."))
        return problems

    def labels(self, data: Any) -> np.ndarray | None:
        return self.data.labels(data)

    def groups(self, data: Any, name: str) -> np.ndarray | None:
        return None


def _builtin_modules() -> dict[str, str | None]:
    # the task of modality "m" is the module synthaug.recipes.tasks.m: listing the package
    # means a new modality adds its module and edits nothing here
    return {f"{__name__}.{info.name}": _EXTRAS.get(info.name)
            for info in pkgutil.iter_modules(__path__) if not info.name.startswith("_")}


#: Task classes by modality name
tasks: Registry[type[Task]] = Registry("task", _builtin_modules(), pattern=WORD)


def register_task(name: str) -> Callable[[T], T]:
    """Register a :class:`Task` subclass for the modality ``name`` (a duplicate is an error).

    Examples
    --------
    >>> from synthaug.recipes.tasks import register_task, tasks
    >>> with tasks.scoped():
    ...     @register_task("demo")
    ...     class DemoTask(get_task("tabular")):
    ...         modality = "demo"
    ...     "demo" in tasks
    True
    """
    def decorator(cls: T) -> T:
        tasks.register(name)(cls)
        return cls

    return decorator


def get_task(name: str) -> type[Task]:
    """The :class:`Task` class of the modality ``name``.

    Raises
    ------
    UnknownComponentError
        When no task serves ``name`` (with the known ones).
    MissingDependencyError
        When its module needs an extra that is not installed.
    """
    return tasks.get(name)


def list_tasks() -> list[str]:
    """The modalities recipes can run on."""
    return tasks.names()
