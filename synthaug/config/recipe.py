"""The recipe's spec models: ``[data]``, ``[split]``, ``[scenario]``, ``[generator]``,
``[augmentation]``, ``[model]``, ``[training]``, ``[report]`` and the whole :class:`RecipeSpec`.

Apart from :mod:`synthaug.config.base` (the spec base and loading that suites and jobs share)
so that each file holds one format.  Checks that need only the file live here (types, ranges,
unknown keys, registry names, that the generator and the model serve the data's modality).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, cast

from pydantic import Field, Strict, field_validator, model_validator

from synthaug import registry
from synthaug.config.base import _field_errors, _registry_name, _StrictSpec
from synthaug.data.sources import DATASETS

__all__ = [
    "BUILTIN_SOURCES",
    "AugmentationSpec",
    "DataSpec",
    "GeneratorSpec",
    "ModelSpec",
    "RecipeSpec",
    "ReportSpec",
    "ScenarioSpec",
    "SplitSpec",
    "TrainingSpec",
    "infer_modality",
]

_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


# -- the recipe --------------------------------------------------------------------------------
PositiveRatio = Annotated[float, Field(gt=0, allow_inf_nan=False), Strict()]
Fraction = Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)]
Label = str | int | bool
#: the kinds of data a recipe can name (``data.modality``); each is a registered modality
ModalityName = Literal["tabular", "image", "text"]
_MODALITIES: tuple[str, ...] = ("tabular", "image", "text")

#: built-in data set names ``data.source`` may use, and the modality of each
BUILTIN_SOURCES: Mapping[str, ModalityName] = {
    name: cast(ModalityName, dataset.modality) for name, dataset in DATASETS.items()}

#: file suffixes that say a source's modality.  By name only: a relative path is read from the
#: recipe's folder, which the spec does not know, so the file itself is looked at by the runner
_SUFFIX_MODALITIES: Mapping[str, ModalityName] = {
    ".csv": "tabular", ".tsv": "tabular", ".parquet": "tabular",
    ".npz": "image",
    ".jsonl": "text",
}


def infer_modality(source: str) -> ModalityName:
    """The modality of a ``data.source``: a built-in name's, else by the file's suffixes.

    Anything else is taken for a table (``"tabular"``), the modality recipes began with.

    Examples
    --------
    >>> from synthaug.config import infer_modality
    >>> infer_modality("adult"), infer_modality("data/reviews.jsonl"), infer_modality("x.csv.gz")
    ('tabular', 'text', 'tabular')
    """
    if source in BUILTIN_SOURCES:
        return BUILTIN_SOURCES[source]
    for suffix in Path(source).suffixes:  # "x.csv.gz": the first known suffix decides
        modality = _SUFFIX_MODALITIES.get(suffix.lower())
        if modality is not None:
            return modality
    return "tabular"


class DataSpec(_StrictSpec):
    """``[data]``: where the data comes from, what kind it is, and which column is the label.

    ``source`` is a built-in data set name (``"adult"``) or a file path (``.csv``, ``.tsv``,
    ``.parquet`` for tables); a relative path is read from the recipe file's folder.
    ``modality`` is ``"tabular"``, ``"image"`` or ``"text"``; left out, it is inferred from the
    source (:func:`infer_modality`; see :attr:`resolved_modality`).  ``sensitive`` names a
    column whose groups get their own metrics.  ``drop`` lists columns left out of everything.
    ``test_source`` (a built-in name or a file, like ``source``) gives the test records apart,
    for data published with a fixed test set (Fashion-MNIST's 10,000 test images): they are
    the test split, ``source`` is split into training and validation records only, and
    ``split.test`` does not apply.

    Examples
    --------
    >>> from synthaug.config import DataSpec
    >>> spec = DataSpec(source="adult", target="income", sensitive="sex")
    >>> spec.drop, spec.modality, spec.resolved_modality, spec.test_source
    ((), None, 'tabular', None)
    """

    source: str = Field(min_length=1)
    target: str = Field(min_length=1)
    modality: ModalityName | None = None
    sensitive: str | None = None
    drop: tuple[Annotated[str, Strict()], ...] = Field(default=(), strict=False)
    test_source: str | None = Field(default=None, min_length=1)

    @property
    def resolved_modality(self) -> ModalityName:
        """``modality`` when given, else the one :func:`infer_modality` gives ``source``."""
        return self.modality if self.modality is not None else infer_modality(self.source)


class SplitSpec(_StrictSpec):
    """``[split]``: stratified train / validation / test split, fixed by ``seed``.

    Examples
    --------
    >>> from synthaug.config import SplitSpec
    >>> SplitSpec(validation=0.1, test=0.2).seed
    0
    """

    seed: int = Field(default=0, ge=0)
    validation: float = Field(default=0.15, gt=0, lt=1)
    test: float = Field(default=0.2, gt=0, lt=1)

    @model_validator(mode="after")
    def _leaves_training_rows(self) -> SplitSpec:
        if self.validation + self.test >= 0.9:
            raise ValueError(
                f"split.validation + split.test = {self.validation + self.test:g} leaves too "
                "little for training; keep the sum below 0.9."
            )
        return self


ScenarioKind = Literal["none", "low_data", "imbalance", "underrepresented_group"]

#: the scenario keys each kind uses (the rest must stay unset)
_SCENARIO_KEYS: dict[str, tuple[str, ...]] = {
    "none": (),
    "low_data": ("fraction", "per_class"),
    "imbalance": ("ratio", "minority"),
    "underrepresented_group": ("column", "value", "fraction"),
}


class ScenarioSpec(_StrictSpec):
    """``[scenario]``: what is done to the real training rows (never to validation or test).

    * ``kind = "low_data"``: keep ``fraction`` of each class, or ``per_class`` rows of each.
    * ``kind = "imbalance"``: downsample ``minority`` (default: every class but the largest) to
      ``ratio`` times the largest class.
    * ``kind = "underrepresented_group"``: keep ``fraction`` of the rows whose ``column``
      equals ``value`` (stratified by class).

    Examples
    --------
    >>> from synthaug.config import ScenarioSpec
    >>> ScenarioSpec(kind="low_data", per_class=50).per_class
    50
    """

    kind: ScenarioKind = "none"
    fraction: Fraction | None = None
    per_class: int | None = Field(default=None, ge=1)
    ratio: Fraction | None = None
    minority: Label | None = None
    column: str | None = None
    value: Label | None = None

    @model_validator(mode="after")
    def _keys_match_kind(self) -> ScenarioSpec:
        used = _SCENARIO_KEYS[self.kind]
        stray = [k for k in ("fraction", "per_class", "ratio", "minority", "column", "value")
                 if k not in used and getattr(self, k) is not None]
        if stray:
            raise ValueError(
                f"scenario.{stray[0]} does not apply to kind {self.kind!r}"
                + (f" (it uses: {', '.join(used)})." if used else ".")
            )
        if self.kind == "low_data" and (self.fraction is None) == (self.per_class is None):
            raise ValueError("kind 'low_data' needs exactly one of scenario.fraction and "
                             "scenario.per_class.")
        if self.kind == "imbalance" and self.ratio is None:
            raise ValueError("kind 'imbalance' needs scenario.ratio (minority size as a "
                             "fraction of the largest class, in (0, 1]).")
        if self.kind == "underrepresented_group":
            missing = [k for k in ("column", "value", "fraction") if getattr(self, k) is None]
            if missing:
                raise ValueError(f"kind 'underrepresented_group' needs scenario.{missing[0]}.")
        return self


class GeneratorSpec(_StrictSpec):
    """``[generator]``: the registered generator and its parameters.

    ``name = "auto"`` picks by the data's modality, the training records' count and the device,
    as ``augment(generator="auto")`` does (:func:`synthaug.planning.default_generator`).

    ``random_state``, ``device`` and ``progress`` are set by the runner (from the seeds and the
    selected device), so they may not appear in ``params``.

    Examples
    --------
    >>> from synthaug.config import GeneratorSpec
    >>> GeneratorSpec(name="tabular.copula", params={"n_quantiles": 200}).params
    {'n_quantiles': 200}
    """

    name: str = "tabular.copula"
    params: dict[str, Any] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _registered(cls, name: str) -> str:
        return name if name == "auto" else _registry_name(registry.generators, name)

    @field_validator("params")
    @classmethod
    def _not_runner_owned(cls, params: dict[str, Any]) -> dict[str, Any]:
        owned = sorted({"random_state", "device", "progress"} & set(params))
        if owned:
            raise ValueError(f"{owned[0]!r} is set by the runner (seeds and --device); "
                             "remove it from the recipe.")
        return params


class AugmentationSpec(_StrictSpec):
    """``[augmentation]``: the arms beside real-only, and how synthetic rows are drawn.

    ``ratios``: synthetic rows as multiples of the real training rows (one arm each).
    ``classes``: ``"preserve"`` draws each class in its real training proportion,
    ``"balanced"`` fills the smaller classes first so real + synthetic is as balanced as the
    row count allows.  ``synthetic_only``: add the train-on-synthetic arm (as many synthetic rows
    as real ones).  ``baseline``: ``"classic"`` adds the modality's classic augmentation at
    every ratio (for tables SMOTE / SMOTENC / SMOTEN, so ``"smote"`` means the same there);
    ``"none"`` adds no baseline.  ``group_only``: with an ``underrepresented_group`` scenario,
    draw synthetic (and baseline) rows for that group only; ratios are then multiples of the
    group's real training rows (the synthetic-only arm still replaces the whole training set).
    ``baseline_ratios``: the ratios of the baseline arms (default: ``ratios``).
    ``combined_ratios``: one arm per ratio with real + the classic augmentation + synthetic
    records, each extra kind at that ratio (default: none).
    ``real_baselines``: arms on the real records alone that a practitioner tries before any
    augmentation: ``"class_weights"`` (the loss of each class weighted by its inverse
    frequency) and ``"threshold"`` (real-only's model with its decision tuned on the validation
    records); none by default, so that a recipe written before they existed means what it
    meant (the built-in recipes ask for both).
    ``uses``: how synthetic records are used, one set of arms (every ratio) each:
    ``"append"`` them to the real records; ``"filter"`` them (draw twice as many and keep those
    that a model trained on the real records with class weights, at the same seed, gives their
    label with probability at least ``filter_confidence``, the most confident first);
    ``"weight"`` them (each synthetic record weighs ``synthetic_weight`` in the loss, a real
    one 1); ``"curriculum"`` (half the step budget on the synthetic records, then the other
    half fine-tuning on the real ones).  Left out, ``("append",)``, what it meant before the
    other uses existed, so that run folders of older recipes still resume; on the built-in
    tables filtered records were the one use that never made a model measurably worse and the
    only one that made gradient-boosted trees better (benchmarks/RESULTS.md), so a new tabular
    recipe should list ``"filter"`` (the built-in ones list all four).
    ``tune_decision``: tune every arm's decision on the validation records, as the
    ``"threshold"`` baseline tunes real-only's (per-class offsets on the log probabilities, for
    the headline metric; ROC AUC is unchanged by it), so that the arms that draw synthetic
    records get the same free improvement the threshold baseline gets and the best
    configuration of each side is compared.  Real-only is then the tuned-threshold baseline
    itself, so ``real_baselines`` may not also list ``"threshold"``.  Off by default.

    Examples
    --------
    >>> from synthaug.config import AugmentationSpec
    >>> AugmentationSpec(ratios=[1, 2], classes="balanced").ratios
    (1.0, 2.0)
    >>> AugmentationSpec(baseline_ratios=[4], combined_ratios=[1]).combined_ratios
    (1.0,)
    >>> AugmentationSpec(uses=["append", "filter"], real_baselines=["threshold"]).real_baselines
    ('threshold',)
    """

    ratios: tuple[PositiveRatio, ...] = Field(default=(0.5, 1.0, 2.0), strict=False)
    classes: Literal["preserve", "balanced"] = "preserve"
    synthetic_only: bool = True
    baseline: Literal["classic", "smote", "none"] = "classic"
    group_only: bool = False
    baseline_ratios: tuple[PositiveRatio, ...] | None = Field(default=None, strict=False)
    combined_ratios: tuple[PositiveRatio, ...] = Field(default=(), strict=False)
    real_baselines: tuple[Literal["class_weights", "threshold"], ...] = Field(
        default=(), strict=False)
    uses: tuple[Literal["append", "filter", "weight", "curriculum"], ...] = Field(
        default=("append",), strict=False)
    filter_confidence: float = Field(default=0.5, gt=0, lt=1, allow_inf_nan=False)
    synthetic_weight: float = Field(default=0.5, gt=0, le=1, allow_inf_nan=False)
    tune_decision: bool = False

    @field_validator("real_baselines", "uses")
    @classmethod
    def _no_repeats(cls, names: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(names)) != len(names):
            raise ValueError(f"lists a name twice: {list(names)}.")
        return names

    @field_validator("ratios")
    @classmethod
    def _distinct(cls, ratios: tuple[float, ...]) -> tuple[float, ...]:
        if not ratios:
            raise ValueError("needs at least one ratio, for example [0.5, 1.0, 2.0].")
        if len(set(ratios)) != len(ratios):
            raise ValueError(f"ratios must be distinct, got {list(ratios)}.")
        return ratios

    @field_validator("baseline_ratios", "combined_ratios")
    @classmethod
    def _distinct_or_empty(cls, ratios: tuple[float, ...] | None) -> tuple[float, ...] | None:
        if ratios is not None and len(set(ratios)) != len(ratios):
            raise ValueError(f"ratios must be distinct, got {list(ratios)}.")
        return ratios

    @model_validator(mode="after")
    def _baseline_arms(self) -> AugmentationSpec:
        if self.baseline == "none" and (self.baseline_ratios or self.combined_ratios):
            field = "baseline_ratios" if self.baseline_ratios else "combined_ratios"
            raise _field_errors([((field,), "needs a baseline; baseline = 'none' adds no "
                                  "baseline arms.", getattr(self, field))])
        if self.baseline_ratios is not None and not self.baseline_ratios:
            raise _field_errors([(("baseline_ratios",), "needs at least one ratio (or set "
                                  "baseline = 'none').", [])])
        if self.tune_decision and "threshold" in self.real_baselines:
            raise _field_errors([(("real_baselines",), "lists 'threshold', but tune_decision "
                                  "= true tunes every arm's decision, real-only's included, "
                                  "so real-only is the tuned-threshold baseline: drop "
                                  "'threshold' (or set tune_decision = false).",
                                  list(self.real_baselines))])
        return self


class ModelSpec(_StrictSpec):
    """``[model]``: the registered downstream model and its parameters.

    ``name`` left out means the default model of the data's modality (``tabular.mlp`` for
    tables; see :mod:`synthaug.recipes.tasks`).  ``reference``: a strong non-deep model trained
    beside it on every arm's records, with the same weights (``"auto"``: scikit-learn's
    ``HistGradientBoostingClassifier`` for tables, none for data it cannot read;
    ``"hist_gradient_boosting"``: that one; ``"none"``, the default: no reference model).

    Examples
    --------
    >>> from synthaug.config import ModelSpec
    >>> ModelSpec(name="tabular.mlp", params={"hidden": [64, 32]}).name
    'tabular.mlp'
    >>> ModelSpec().name is None
    True
    """

    name: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    reference: Literal["auto", "none", "hist_gradient_boosting"] = "none"

    @field_validator("name")
    @classmethod
    def _registered(cls, name: str | None) -> str | None:
        return None if name is None else _registry_name(registry.downstream_models, name)


class TrainingSpec(_StrictSpec):
    """``[training]``: the budget every arm gets, identical across arms.

    The budget is counted in optimizer steps (``max_steps`` batches of ``batch_size`` rows), so
    an arm with more rows gets no more updates than real-only.  The validation loss is computed
    every ``eval_every`` steps; training stops after ``patience`` evaluations without
    improvement and keeps the best weights.  ``threads`` sets how many CPU threads torch uses
    during the run (``None``: torch's own setting); small tabular models run no faster on more
    than one, and on a busy machine extra threads can slow them down several times.

    Examples
    --------
    >>> from synthaug.config import TrainingSpec
    >>> TrainingSpec(max_steps=400, batch_size=64).patience
    10
    """

    max_steps: int = Field(default=1000, ge=1)
    batch_size: int = Field(default=128, ge=1)
    learning_rate: float = Field(default=1e-3, gt=0, allow_inf_nan=False)
    weight_decay: float = Field(default=1e-4, ge=0, allow_inf_nan=False)
    eval_every: int = Field(default=20, ge=1)
    patience: int = Field(default=10, ge=1)
    threads: int | None = Field(default=None, ge=1)


class ReportSpec(_StrictSpec):
    """``[report]``: the headline metric (plot, verdict), the interval's confidence, and the
    validation suite run on the generator's rows.

    ``suite`` (a built-in suite name or a TOML path; ``""`` for none) judges synthetic rows of
    the first seed's generator against the real training rows, with the test rows as the
    privacy holdout; the run folder gets ``validation.html`` and ``validation.json``.

    Examples
    --------
    >>> from synthaug.config import ReportSpec
    >>> ReportSpec(metric="roc_auc").confidence
    0.95
    >>> ReportSpec().suite
    'default'
    """

    metric: Literal["accuracy", "macro_f1", "roc_auc"] = "macro_f1"
    confidence: float = Field(default=0.95, gt=0.5, lt=1)
    suite: str = "default"


class RecipeSpec(_StrictSpec):
    """A recipe: data, split, scenario, generator, arms, downstream model, budget, seeds.

    ``seeds`` is a count (``5`` means seeds 0..4) or a list of distinct seeds; each seed
    reseeds the generator and the downstream model while the split stays fixed by
    ``split.seed`` (see :mod:`synthaug.recipes`).

    Examples
    --------
    >>> from synthaug.config import RecipeSpec
    >>> spec = RecipeSpec.model_validate({
    ...     "name": "demo", "seeds": 3,
    ...     "data": {"source": "adult", "target": "income"},
    ...     "scenario": {"kind": "low_data", "fraction": 0.05},
    ...     "augmentation": {"ratios": [1.0, 2.0]}})
    >>> spec.seeds, spec.scenario.fraction, spec.augmentation.ratios
    ((0, 1, 2), 0.05, (1.0, 2.0))
    """

    name: str
    description: str = ""
    seeds: tuple[Annotated[int, Strict()], ...] = Field(default=(0, 1, 2, 3, 4), strict=False)
    data: DataSpec
    split: SplitSpec = SplitSpec()
    scenario: ScenarioSpec = ScenarioSpec()
    generator: GeneratorSpec = Field(default_factory=GeneratorSpec)
    augmentation: AugmentationSpec = AugmentationSpec()
    model: ModelSpec = Field(default_factory=ModelSpec)
    training: TrainingSpec = TrainingSpec()
    report: ReportSpec = ReportSpec()

    @field_validator("name")
    @classmethod
    def _plain_name(cls, name: str) -> str:
        if not _NAME.match(name):
            raise ValueError("use lower-case letters, digits, '.', '_' and '-' only (it names "
                             "the run folder).")
        return name

    @field_validator("seeds", mode="before")
    @classmethod
    def _count_or_list(cls, seeds: Any) -> Any:
        if isinstance(seeds, int) and not isinstance(seeds, bool):
            if seeds < 2:
                raise ValueError("needs at least 2 seeds for an interval (5 or more is "
                                 "recommended).")
            return tuple(range(seeds))
        if not isinstance(seeds, (list, tuple)):
            raise ValueError(f"must be a list of integers, such as [0, 1, 2], or a count of "
                             f"seeds, such as 5; got {seeds!r}.")
        return seeds

    @field_validator("seeds")
    @classmethod
    def _distinct_seeds(cls, seeds: tuple[int, ...]) -> tuple[int, ...]:
        if len(seeds) < 2:
            raise ValueError("needs at least 2 seeds for an interval (5 or more is "
                             "recommended).")
        if len(set(seeds)) != len(seeds) or min(seeds) < 0:
            raise ValueError(f"seeds must be distinct non-negative integers, got {list(seeds)}.")
        return seeds

    @model_validator(mode="after")
    def _consistent(self) -> RecipeSpec:
        if self.augmentation.group_only and self.scenario.kind != "underrepresented_group":
            raise ValueError("augmentation.group_only needs scenario.kind = "
                             "'underrepresented_group' (it names the group).")
        if self.data.target in self.data.drop:
            raise ValueError(f"data.drop lists the target {self.data.target!r}.")
        if self.data.sensitive is not None and self.data.sensitive == self.data.target:
            raise ValueError("data.sensitive must be a feature column, not the target.")
        problems = self._modality_problems() + self._test_source_problems()
        if problems:
            raise _field_errors(problems)
        return self

    def _modality_problems(self) -> list[tuple[tuple[str, ...], str, Any]]:
        """Generator, model and baseline must serve the data's modality.

        Registry names say their modality (``<modality>.<family>``), so no data is needed.  A
        name whose prefix is not a modality (an adapter, ``sdv.ctgan``) is checked by the runner
        against the class's declared ``modality``.
        """
        modality = self.data.resolved_modality
        where = (f"data.modality = {modality!r}" if self.data.modality is not None else
                 f"inferred from data.source {self.data.source!r}; set data.modality to "
                 "override")
        problems: list[tuple[tuple[str, ...], str, Any]] = []
        for section, part, what in (("generator", self.generator, "generator"),
                                    ("model", self.model, "downstream model")):
            name = part.name
            prefix = name.split(".", 1)[0] if name else None
            if prefix in _MODALITIES and prefix != modality:
                default = "" if "name" in part.model_fields_set else " (the default)"
                problems.append(((section, "name"), (
                    f"{name!r}{default} is {_article(str(prefix))} {prefix} {what}, but this "
                    f"recipe's data is {modality} ({where}). Name "
                    f"{_article(modality)} {modality} {what}."), name))
        if self.augmentation.baseline == "smote" and modality != "tabular":
            problems.append((("augmentation", "baseline"), (
                f"'smote' is the classic baseline of tables, but this recipe's data is "
                f"{modality} ({where}). Use 'classic' for the {modality} one, or 'none'."),
                "smote"))
        return problems


    def _test_source_problems(self) -> list[tuple[tuple[str, ...], str, Any]]:
        """With ``data.test_source`` the test records are given: no test fraction, and a
        built-in test set of the data's modality."""
        test = self.data.test_source
        if test is None:
            return []
        problems: list[tuple[tuple[str, ...], str, Any]] = []
        if "test" in self.split.model_fields_set:
            problems.append((("split", "test"), (
                f"does not apply: data.test_source = {test!r} gives the test records, and "
                "data.source is split into training and validation records only. Remove "
                "split.test."), self.split.test))
        modality = self.data.resolved_modality
        if test in BUILTIN_SOURCES and BUILTIN_SOURCES[test] != modality:
            problems.append((("data", "test_source"), (
                f"{test!r} is {_article(BUILTIN_SOURCES[test])} {BUILTIN_SOURCES[test]} data "
                f"set, but this recipe's data is {modality}."), test))
        return problems


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"
