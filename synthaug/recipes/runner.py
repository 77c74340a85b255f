"""The recipe runner: a recipe file in, a measured gain (with its uncertainty) out.

What :func:`run` does, in order:

1. **Validate everything before any training.**  The file is parsed into a frozen
   :class:`~synthaug.config.RecipeSpec` (unknown keys, types, ranges, unknown generator or
   model names with a did-you-mean); then the data is loaded and every data-dependent field is
   checked (target, sensitive and group columns, the scenario's labels and values, the
   generator's and the model's parameters).  Errors are :class:`~synthaug.config.SpecError`
   naming the file and the field.
2. **Split** the rows into stratified train / validation / test sets with ``split.seed``, and
   apply the **scenario** to the training rows only (validation and test stay representative).
3. For each seed and each **arm** (real-only; real + synthetic at each ratio; synthetic-only;
   real + SMOTE at each ratio) train the *same* downstream model with the same seed-derived
   initialisation, batch order and step budget, early-stopped on the same real validation rows,
   and score it on the real test rows.  The generator is fitted once per seed, on the real
   training rows the scenario kept, and on nothing else.
4. Write each finished (arm, seed) result at once (atomically), so an interrupted run resumes
   where it stopped; then summarise into a :class:`~synthaug.recipes.report.GainReport`
   (``results.json``, ``report.md``, ``gain.png``) beside ``run.json``.

**Seeds.**  The split and the scenario's subsample are fixed by ``split.seed``; the recipe's
``seeds`` vary the generator fit, the synthetic draws, the model initialisation and the batch
order.  Holding the data fixed lets every arm be compared with real-only *paired by seed*, which
is what makes small gains detectable; the price is that the intervals say nothing about other
draws of the split (rerun with another ``split.seed`` for that).
"""

from __future__ import annotations

import difflib
import hashlib
import importlib.resources
import json
import os
import platform
import time
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import torch
from torch import nn

from synthaug import registry
from synthaug._version import __version__
from synthaug.config import RecipeSpec, SpecError, loads_toml, parse_spec
from synthaug.data.schema import TableSchema
from synthaug.exceptions import InvalidDataError, InvalidParameterError, UnknownComponentError
from synthaug.generators.base import BaseGenerator
from synthaug.recipes.models import (
    TabularFeaturizer,
    TabularInputs,
    TensorSet,
    fit_classifier,
    predict_proba,
    seeded_torch,
)
from synthaug.recipes.report import GainReport
from synthaug.recipes.validation import VALIDATION_FILES, load_suite, validate_generator
from synthaug.utils.device import resolve_device
from synthaug.utils.files import atomic_file
from synthaug.utils.progress import progress_bar
from synthaug.utils.serialization import to_jsonable
from synthaug.validators.suite import Suite

__all__ = [
    "Arm",
    "LoadedRecipe",
    "Splits",
    "list_builtin_recipes",
    "load_recipe",
    "resolve_recipe",
    "run",
    "split_data",
]

#: version of the run folder's layout (run.json and the per-run result files)
RUN_FORMAT = 1

#: built-in data set names a recipe's ``data.source`` may use
BUILTIN_SOURCES = ("adult",)

#: a target with more distinct values than this is taken for a continuous column
MAX_CLASSES = 100

#: most groups a sensitive column may have (each gets its own metrics)
MAX_GROUPS = 50

ModelFactory = Callable[..., nn.Module]
ArmKind = Literal["real", "augmented", "synthetic_only", "smote"]


# -- finding and loading recipes ---------------------------------------------------------------
def _builtin_dirs() -> list[Path]:
    """Where the built-in recipe files are: the installed wheel's copy, then a source checkout.

    The wheel force-includes the top-level ``recipes/`` folder as ``synthaug/builtin/recipes``;
    an editable install or a source checkout has only the top-level folder.
    """
    dirs: list[Path] = []
    try:
        packaged = importlib.resources.files("synthaug") / "builtin" / "recipes"
        if packaged.is_dir():
            dirs.append(Path(str(packaged)))
    except (ModuleNotFoundError, NotADirectoryError, FileNotFoundError):
        pass
    root = Path(__file__).resolve().parents[2]
    # only a source checkout (it has the pyproject); an installed package's parent folder is
    # site-packages, where a "recipes" folder would belong to someone else
    if (root / "pyproject.toml").is_file() and (root / "recipes").is_dir():
        dirs.append(root / "recipes")
    return dirs


def list_builtin_recipes() -> list[str]:
    """Names of the built-in recipes (runnable by name).

    Examples
    --------
    >>> from synthaug.recipes import list_builtin_recipes
    >>> "adult-lowdata" in list_builtin_recipes()
    True
    """
    names: set[str] = set()
    for folder in _builtin_dirs():
        names.update(p.stem for p in folder.glob("*.toml"))
    return sorted(names)


def resolve_recipe(name_or_path: str | os.PathLike[str]) -> Path:
    """Return the recipe file for a path or a built-in recipe's name.

    An existing file wins; otherwise a name such as ``"adult-lowdata"`` (with or without
    ``.toml``) is looked up among the built-in recipes.

    Examples
    --------
    >>> from synthaug.recipes import resolve_recipe
    >>> resolve_recipe("adult-lowdata").name
    'adult-lowdata.toml'
    """
    path = Path(name_or_path)
    if path.is_file():
        return path
    stem = path.name[:-5] if path.name.endswith(".toml") else path.name
    if path.parent == Path("."):
        for folder in _builtin_dirs():
            candidate = folder / f"{stem}.toml"
            if candidate.is_file():
                return candidate
    known = list_builtin_recipes()
    close = difflib.get_close_matches(stem, known, n=1, cutoff=0.6)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise InvalidParameterError(
        f"recipe {str(name_or_path)!r} is neither a file nor a built-in recipe.{hint} "
        f"Built-in recipes: {', '.join(known) or '(none found)'}."
    )


@dataclass(frozen=True)
class LoadedRecipe:
    """A validated recipe and where it came from.

    Attributes
    ----------
    spec : RecipeSpec
    text : str or None
        The exact file text (``None`` for a spec given from Python).
    source : str
        The file path, or ``"<recipe>"``.
    base_dir : Path
        Relative ``data.source`` paths are read from here (the file's folder, else the
        working directory).

    Examples
    --------
    >>> from synthaug.recipes import load_recipe
    >>> loaded = load_recipe("adult-lowdata")
    >>> loaded.text.startswith("#"), loaded.base_dir.name
    (True, 'recipes')
    """

    spec: RecipeSpec
    text: str | None
    source: str
    base_dir: Path


def load_recipe(spec_or_path: RecipeSpec | Mapping[str, Any] | str | os.PathLike[str]
                ) -> LoadedRecipe:
    """Validate a recipe given as a spec, a mapping, a file path or a built-in name.

    Examples
    --------
    >>> from synthaug.recipes import load_recipe
    >>> load_recipe("adult-lowdata").spec.scenario.kind
    'low_data'
    """
    if isinstance(spec_or_path, RecipeSpec):
        return LoadedRecipe(spec_or_path, None, "<recipe>", Path.cwd())
    if isinstance(spec_or_path, Mapping):
        spec = parse_spec(spec_or_path, RecipeSpec, source="<recipe>")
        return LoadedRecipe(spec, None, "<recipe>", Path.cwd())
    if not isinstance(spec_or_path, (str, os.PathLike)):
        raise InvalidParameterError(
            "a recipe is a RecipeSpec, a mapping, a .toml path or a built-in recipe name, got "
            f"{type(spec_or_path).__name__}."
        )
    path = resolve_recipe(spec_or_path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(str(path), [("", f"cannot be read ({exc}).")]) from None
    spec = loads_toml(text, RecipeSpec, source=str(path))
    return LoadedRecipe(spec, text, str(path), path.resolve().parent)


# -- data, splits, scenario --------------------------------------------------------------------
def _load_source(recipe: LoadedRecipe) -> pd.DataFrame:
    source = recipe.spec.data.source
    if source in BUILTIN_SOURCES:
        from synthaug.data.datasets import load_adult

        return load_adult()
    file = Path(source)
    if not file.is_absolute():
        file = recipe.base_dir / file
    if not file.is_file():
        raise SpecError(recipe.source, [(
            "data.source",
            f"{source!r} is neither a built-in data set ({', '.join(BUILTIN_SOURCES)}) nor a "
            f"file (looked for {file}).",
        )])
    suffixes = "".join(file.suffixes).lower()
    try:
        if ".parquet" in suffixes:
            return pd.read_parquet(file)
        if ".csv" in suffixes:
            return pd.read_csv(file)
    except (ValueError, OSError, ImportError) as exc:
        raise SpecError(recipe.source, [("data.source", f"could not read {file}: {exc}")]
                        ) from None
    raise SpecError(recipe.source, [("data.source", f"{source!r}: use a .csv or .parquet file.")])


def data_hash(frame: pd.DataFrame) -> str:
    """SHA-256 of a frame's values (row by row, with the index), column names and dtypes.

    Examples
    --------
    >>> import pandas as pd
    >>> from synthaug.recipes.runner import data_hash
    >>> data_hash(pd.DataFrame({"a": [1, 2]})) == data_hash(pd.DataFrame({"a": [1, 2]}))
    True
    """
    digest = hashlib.sha256()
    digest.update(json.dumps([[str(c), str(t)] for c, t in frame.dtypes.items()]).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class Splits:
    """Row positions (into the loaded frame) of each split.

    Attributes
    ----------
    train_full : ndarray
        The training split before the scenario.
    train : ndarray
        The real training rows the scenario kept: what real-only trains on and the only rows
        the generator ever sees.
    validation, test : ndarray
        Untouched by the scenario.

    Examples
    --------
    See :func:`split_data`.
    """

    train_full: np.ndarray
    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray


def _column_problem(frame: pd.DataFrame, name: str, field_path: str) -> tuple[str, str] | None:
    if name in frame.columns:
        return None
    cols = [str(c) for c in frame.columns]
    close = difflib.get_close_matches(name, cols, n=1, cutoff=0.6)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    return (field_path, f"{name!r} is not a column of the data.{hint} Columns: {', '.join(cols)}.")


def _matches(series: pd.Series, value: Any) -> np.ndarray:
    """Rows of ``series`` equal to a recipe value; compared as text, as TOML gives text."""
    return (series.notna() & (series.astype(str) == str(value))).to_numpy()


def _check_data(recipe: LoadedRecipe, frame: pd.DataFrame) -> None:
    """Every data-dependent check of the recipe, all at once, before anything is trained."""
    spec = recipe.spec
    problems: list[tuple[str, str]] = []
    for name, path in [(spec.data.target, "data.target"), (spec.data.sensitive, "data.sensitive"),
                       (spec.scenario.column, "scenario.column")]:
        if name is not None and (p := _column_problem(frame, name, path)):
            problems.append(p)
    for i, name in enumerate(spec.data.drop):
        if (p := _column_problem(frame, name, f"data.drop[{i}]")):
            problems.append(p)
    dropped = set(spec.data.drop)
    for name, path in [(spec.data.sensitive, "data.sensitive"),
                       (spec.scenario.column, "scenario.column")]:
        if name is not None and name in dropped:
            problems.append((path, f"{name!r} is listed in data.drop."))
    target = spec.data.target
    if target in frame.columns:
        labels = frame[target].dropna()
        n_classes = labels.nunique()
        if n_classes < 2:
            problems.append(("data.target", f"{target!r} has {n_classes} class(es); a "
                                            "classification recipe needs at least 2."))
        elif n_classes > MAX_CLASSES or (
            pd.api.types.is_float_dtype(labels) and bool((labels != labels.round()).any())
        ):
            problems.append(("data.target", f"{target!r} has {n_classes} distinct values; it "
                                            "looks continuous, not a class label."))
        elif spec.report.metric == "roc_auc" and n_classes != 2:
            problems.append(("report.metric", f"'roc_auc' needs a binary target; {target!r} "
                                              f"has {n_classes} classes."))
        if spec.scenario.minority is not None and not _matches(
                frame[target], spec.scenario.minority).any():
            problems.append(("scenario.minority", f"{spec.scenario.minority!r} is not a class "
                             f"of {target!r}; classes: {sorted(map(str, labels.unique()))}."))
    sensitive = spec.data.sensitive
    if sensitive is not None and sensitive in frame.columns:
        n_groups = frame[sensitive].nunique(dropna=False)
        if n_groups > MAX_GROUPS:
            problems.append(("data.sensitive", f"{sensitive!r} has {n_groups} distinct values; "
                             f"per-group metrics need at most {MAX_GROUPS} groups (bin the "
                             "column first, for example into age bands)."))
    column = spec.scenario.column
    if column is not None and column in frame.columns:
        if column == target:
            problems.append(("scenario.column", "use a feature column, not the target (the "
                             "imbalance scenario downsamples classes)."))
        elif not _matches(frame[column], spec.scenario.value).any():
            shown = sorted(map(str, frame[column].dropna().unique()))[:20]
            problems.append(("scenario.value", f"{spec.scenario.value!r} never occurs in "
                             f"{column!r}; values: {shown}."))
    if problems:
        raise SpecError(recipe.source, problems)


def split_data(spec: RecipeSpec, frame: pd.DataFrame) -> Splits:
    """Stratified train / validation / test split by ``spec.split.seed``, then the scenario.

    Only the target column (and the scenario's group column) decide which row goes where, so
    the same frame, recipe and seed always give the same rows.  Rows without a target value
    are left out of every split.

    Parameters
    ----------
    spec : RecipeSpec
    frame : DataFrame
        The loaded data (all columns).

    Returns
    -------
    Splits
        Positions into ``frame``.

    Examples
    --------
    >>> import pandas as pd
    >>> from synthaug.config import RecipeSpec
    >>> from synthaug.recipes import split_data
    >>> df = pd.DataFrame({"x": range(100), "y": ["a"] * 70 + ["b"] * 30})
    >>> spec = RecipeSpec.model_validate({"name": "demo", "data": {"source": "x.csv",
    ...     "target": "y"}, "split": {"validation": 0.2, "test": 0.2}})
    >>> s = split_data(spec, df)
    >>> len(s.train), len(s.validation), len(s.test)
    (60, 20, 20)
    """
    target = frame[spec.data.target]
    known = target.notna().to_numpy()
    codes = np.full(len(frame), -1, dtype=np.int64)
    classes = sorted(set(target[known].astype(str)))
    codes[known] = pd.Index(classes).get_indexer(pd.Index(target[known].astype(str)))
    rng = np.random.default_rng([spec.split.seed, 0])
    train, val, test = [], [], []
    for c, label in enumerate(classes):
        rows = rng.permutation(np.flatnonzero(codes == c))
        n = len(rows)
        n_test = max(1, round(n * spec.split.test))
        n_val = max(1, round(n * spec.split.validation))
        if n - n_test - n_val < 1:
            raise InvalidDataError(
                f"class {label!r} of {spec.data.target!r} has {n} row(s); stratified splitting "
                "needs at least one row of every class in train, validation and test."
            )
        test.append(rows[:n_test])
        val.append(rows[n_test:n_test + n_val])
        train.append(rows[n_test + n_val:])
    train_full = np.sort(np.concatenate(train))
    kept = _apply_scenario(spec, frame, train_full, codes,
                           np.random.default_rng([spec.split.seed, 1]))
    return Splits(train_full, np.sort(kept), np.sort(np.concatenate(val)),
                  np.sort(np.concatenate(test)))


def _apply_scenario(
    spec: RecipeSpec, frame: pd.DataFrame, train: np.ndarray, codes: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    sc = spec.scenario
    if sc.kind == "none":
        return train
    y = codes[train]
    keep: list[np.ndarray] = []
    if sc.kind == "low_data":
        for c in np.unique(y):
            rows = rng.permutation(train[y == c])
            k = (max(1, round(sc.fraction * len(rows))) if sc.fraction is not None
                 else min(int(sc.per_class or 1), len(rows)))
            keep.append(rows[:k])
    elif sc.kind == "imbalance":
        counts = {int(c): int((y == c).sum()) for c in np.unique(y)}
        largest = max(counts, key=lambda c: (counts[c], -c))
        cap = max(1, round(float(sc.ratio or 1.0) * counts[largest]))
        target = frame[spec.data.target].to_numpy()
        for c in counts:
            rows = rng.permutation(train[y == c])
            chosen = (c != largest) if sc.minority is None else bool(
                _matches(pd.Series(target[rows[:1]]), sc.minority).all())
            keep.append(rows[:cap] if chosen else rows)
    else:  # underrepresented_group: thin the group, class by class, keep everyone else
        in_group = _matches(frame[str(sc.column)], sc.value)[train]
        keep.append(train[~in_group])
        for c in np.unique(y[in_group]):
            rows = rng.permutation(train[in_group & (y == c)])
            keep.append(rows[:max(1, round(float(sc.fraction or 1.0) * len(rows)))])
    return np.concatenate(keep)


# -- arms --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Arm:
    """One way of building the training rows.

    ``kind`` is ``"real"``, ``"augmented"`` (real + synthetic), ``"synthetic_only"`` or
    ``"smote"`` (real + SMOTE); ``ratio`` is synthetic rows per real training row.

    Examples
    --------
    >>> from synthaug.recipes import Arm
    >>> Arm("augmented", 0.5).key, Arm("synthetic_only", 1.0).key
    ('synthetic-x0.5', 'synthetic-only')
    """

    kind: ArmKind
    ratio: float | None = None

    @property
    def key(self) -> str:
        """File-safe name: ``real``, ``synthetic-x0.5``, ``synthetic-only``, ``smote-x2``."""
        if self.kind == "real":
            return "real"
        if self.kind == "synthetic_only":
            return "synthetic-only"
        prefix = "synthetic" if self.kind == "augmented" else "smote"
        return f"{prefix}-x{self.ratio:g}"

    @property
    def uses_generator(self) -> bool:
        return self.kind in ("augmented", "synthetic_only")


def arms_for(spec: RecipeSpec) -> list[Arm]:
    """The arms a recipe trains, real-only first.

    Examples
    --------
    >>> from synthaug.recipes import load_recipe
    >>> from synthaug.recipes.runner import arms_for
    >>> [a.key for a in arms_for(load_recipe("adult-lowdata").spec)][:3]
    ['real', 'synthetic-x0.5', 'synthetic-x1']
    """
    aug = spec.augmentation
    arms = [Arm("real")]
    arms += [Arm("augmented", r) for r in aug.ratios]
    if aug.synthetic_only:
        arms.append(Arm("synthetic_only", 1.0))
    if aug.baseline == "smote":
        arms += [Arm("smote", r) for r in aug.ratios]
    return arms


def derive_seed(seed: int, *keys: int | str) -> int:
    """A 63-bit seed for one purpose (``"model"``, ``"generator"``, ...) of one recipe seed.

    Derived by :class:`numpy.random.SeedSequence`, so purposes never share a stream, and the
    same (seed, purpose) gives the same value on any machine.

    Examples
    --------
    >>> from synthaug.recipes.runner import derive_seed
    >>> derive_seed(0, "model") == derive_seed(0, "model") != derive_seed(0, "generator")
    True
    """
    words = [seed] + [k if isinstance(k, int) else zlib.crc32(k.encode()) for k in keys]
    return int(np.random.SeedSequence(words).generate_state(1, dtype=np.uint64)[0] >> 1)


def allocate(counts: np.ndarray, total: int, mode: str, base: np.ndarray) -> np.ndarray:
    """Split ``total`` synthetic rows over classes.

    ``"preserve"``: in proportion to ``counts`` (the real class sizes).  ``"balanced"``: fill
    the classes with the lowest ``base`` level first (water-filling), so ``base + result`` is
    as even as ``total`` allows.  Integer counts summing to ``total`` (largest remainders).

    Examples
    --------
    >>> import numpy as np
    >>> from synthaug.recipes.runner import allocate
    >>> allocate(np.array([80, 20]), 50, "preserve", np.array([80, 20])).tolist()
    [40, 10]
    >>> allocate(np.array([80, 20]), 70, "balanced", np.array([80, 20])).tolist()
    [5, 65]
    """
    k = len(counts)
    if total <= 0 or k == 0:
        return np.zeros(k, dtype=np.int64)
    if mode == "preserve":
        share = counts / max(counts.sum(), 1) * total
    else:
        levels = np.sort(base.astype(np.float64))
        level = 0.0
        for j in range(1, k + 1):
            level = (total + levels[:j].sum()) / j
            if j == k or level <= levels[j]:
                break
        share = np.maximum(level - base, 0.0)
    floor = np.floor(share).astype(np.int64)
    rest = total - int(floor.sum())
    if rest > 0:
        order = np.argsort(-(share - floor), kind="stable")
        floor[order[:rest]] += 1
    return floor


# -- the experiment ----------------------------------------------------------------------------
@dataclass
class _Experiment:
    """Everything validated and prepared before the first training step."""

    recipe: LoadedRecipe
    frame: pd.DataFrame  # the loaded data without data.drop columns
    sha256: str
    splits: Splits
    classes: list[Any]
    device: torch.device
    generator_name: str
    model_factory: ModelFactory
    model_name: str
    featurizer: TabularFeaturizer
    inputs: TabularInputs
    train_real: pd.DataFrame
    validation: TensorSet
    test: TensorSet
    test_groups: np.ndarray | None
    group_value: Any
    arms: list[Arm]
    suite: Suite | None = None
    fingerprint: str = ""

    @property
    def spec(self) -> RecipeSpec:
        return self.recipe.spec

    def encode_labels(self, labels: pd.Series) -> np.ndarray:
        return _encode_labels(self.classes, labels)

    def tensors(self, frame: pd.DataFrame) -> TensorSet:
        return _tensors(self.featurizer, self.classes, self.spec.data.target, frame, self.device)


def _encode_labels(classes: list[Any], labels: pd.Series) -> np.ndarray:
    codes = pd.Index([str(c) for c in classes]).get_indexer(pd.Index(labels.astype(str)))
    if (codes < 0).any():
        raise InvalidDataError(f"labels outside the known classes {classes}.")
    return codes.astype(np.int64)


def _tensors(featurizer: TabularFeaturizer, classes: list[Any], target: str,
             frame: pd.DataFrame, device: torch.device) -> TensorSet:
    x_num, x_cat = featurizer.transform(frame)
    return TensorSet.from_arrays(x_num, x_cat, _encode_labels(classes, frame[target]), device)


def _generator_class(recipe: LoadedRecipe) -> type[BaseGenerator]:
    cls: type[BaseGenerator] = registry.generators.get(recipe.spec.generator.name)
    modality = getattr(cls, "modality", "")
    if modality != "tabular":
        raise SpecError(recipe.source, [(
            "generator.name",
            f"{recipe.spec.generator.name!r} is a {modality or 'non-tabular'} generator, but "
            "this recipe's data is a table. Pick a tabular one: "
            + ", ".join(n for n in registry.generators.names() if n.startswith("tabular.")),
        )])
    return cls


def _make_generator(recipe: LoadedRecipe, device: torch.device, seed: int) -> BaseGenerator:
    cls = _generator_class(recipe)
    params = dict(recipe.spec.generator.params)
    accepted = set(cls._get_param_names())
    owned = {"random_state": seed, "device": str(device), "progress": False}
    params.update({k: v for k, v in owned.items() if k in accepted})
    try:
        gen = cls(**params)
        # the contract's parameter check runs at fit; run it now so a bad value fails before
        # any training rather than after the first arms
        gen._check_params()
    except TypeError as exc:
        raise SpecError(recipe.source, [("generator.params", str(exc))]) from None
    except InvalidParameterError as exc:
        raise SpecError(recipe.source, [("generator.params", str(exc))]) from None
    return gen


def _prepare(recipe: LoadedRecipe, device: str | torch.device,
             model_factory: ModelFactory | None) -> _Experiment:
    spec = recipe.spec
    dev = resolve_device(device)
    _make_generator(recipe, dev, 0)  # fails on a bad name, modality or parameter
    try:
        suite = load_suite(spec.report.suite)
    except (UnknownComponentError, InvalidParameterError) as exc:
        raise SpecError(recipe.source, [("report.suite", str(exc))]) from None
    factory: ModelFactory
    if model_factory is not None:
        if not callable(model_factory):
            raise InvalidParameterError("model_factory must be a callable returning a "
                                        "torch.nn.Module.")
        factory = model_factory
        model_name = f"custom:{getattr(model_factory, '__module__', '?')}." \
                     f"{getattr(model_factory, '__qualname__', type(model_factory).__name__)}"
    else:
        factory = registry.downstream_models.get(spec.model.name)
        model_name = spec.model.name

    loaded = _load_source(recipe)
    sha = data_hash(loaded)
    _check_data(recipe, loaded)
    try:
        splits = split_data(spec, loaded)
    except InvalidDataError as exc:
        raise SpecError(recipe.source, [("data.target", str(exc))]) from None
    frame = loaded.drop(columns=list(spec.data.drop))
    target = spec.data.target
    classes = sorted(frame[target].dropna().unique().tolist(), key=str)
    train_real = frame.iloc[splits.train].reset_index(drop=True)
    if len(train_real) < 2:
        raise SpecError(recipe.source, [("scenario", f"keeps {len(train_real)} training row; "
                                         "a generator needs at least 2.")])
    featurizer = TabularFeaturizer(target=target).fit(train_real)
    inputs = featurizer.inputs(len(classes))
    # build the model once now, so bad model parameters fail before any training
    with seeded_torch(0, dev):
        try:
            probe = factory(inputs, **spec.model.params)
        except (TypeError, InvalidParameterError) as exc:
            raise SpecError(recipe.source, [("model.params", str(exc))]) from None
    if not isinstance(probe, nn.Module):
        raise InvalidParameterError(
            f"the downstream model factory returned {type(probe).__name__}, not a "
            "torch.nn.Module.")
    group_value = None
    if spec.scenario.kind == "underrepresented_group":
        col = frame[str(spec.scenario.column)]
        group_value = _plain(col[_matches(col, spec.scenario.value)].iloc[0])
    sensitive = spec.data.sensitive
    test_frame = frame.iloc[splits.test]
    exp = _Experiment(
        recipe=recipe, frame=frame, sha256=sha, splits=splits, classes=classes, device=dev,
        generator_name=spec.generator.name, model_factory=factory, model_name=model_name,
        featurizer=featurizer, inputs=inputs, train_real=train_real,
        # validation and test go to the device once, here, for every arm and seed
        validation=_tensors(featurizer, classes, target, frame.iloc[splits.validation], dev),
        test=_tensors(featurizer, classes, target, test_frame, dev),
        test_groups=(test_frame[sensitive].astype(str).to_numpy() if sensitive else None),
        group_value=group_value, arms=arms_for(spec), suite=suite,
    )
    exp.fingerprint = _fingerprint(exp)
    return exp


def _fingerprint(exp: _Experiment) -> str:
    """What a run folder's results depend on; a folder is resumed only when this matches.

    The synthaug version is part of it: results of different code are never mixed in one report.
    """
    blob = json.dumps({"format": RUN_FORMAT, "recipe": exp.spec.model_dump(mode="json"),
                       "data": exp.sha256, "model": exp.model_name, "synthaug": __version__},
                      sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


# -- one arm at one seed -----------------------------------------------------------------------
def _group_only(exp: _Experiment, arm: Arm) -> bool:
    """Whether ``arm`` draws rows for the scenario's group only.  Never for synthetic-only:
    train-on-synthetic replaces the whole real training set, so it is drawn like it."""
    return exp.spec.augmentation.group_only and arm.kind != "synthetic_only"


def _reference_rows(exp: _Experiment, arm: Arm) -> pd.DataFrame:
    """The real rows the synthetic rows stand beside: all real training rows, or only the
    scenario's group when ``augmentation.group_only`` is set."""
    if _group_only(exp, arm):
        col = exp.train_real[str(exp.spec.scenario.column)]
        return exp.train_real[_matches(col, exp.group_value)]
    return exp.train_real


def _plan(exp: _Experiment, arm: Arm) -> np.ndarray:
    """Synthetic rows per class (in ``exp.classes`` order) for ``arm``."""
    ref = _reference_rows(exp, arm)
    counts = np.bincount(exp.encode_labels(ref[exp.spec.data.target]),
                         minlength=len(exp.classes))
    total = round(float(arm.ratio or 0.0) * len(ref))
    base = counts if arm.kind != "synthetic_only" else np.zeros_like(counts)
    return allocate(counts, total, exp.spec.augmentation.classes, base)


def _fit_generator(exp: _Experiment, seed: int) -> tuple[BaseGenerator, float]:
    gen = _make_generator(exp.recipe, exp.device, derive_seed(seed, "generator"))
    rows = exp.train_real.copy()
    for name in rows.columns:
        if isinstance(rows[name].dtype, pd.CategoricalDtype):
            # a category level that only validation or test rows hold must not reach the
            # generator, not even as an unused level of the dtype
            rows[name] = rows[name].cat.remove_unused_categories()
    start = time.perf_counter()
    gen.fit(rows)
    return gen, time.perf_counter() - start


def _synthetic_rows(exp: _Experiment, arm: Arm, gen: BaseGenerator, seed: int
                    ) -> pd.DataFrame:
    target = exp.spec.data.target
    plan = _plan(exp, arm)
    parts = []
    for c, n in enumerate(plan):
        if n == 0:
            continue
        conditions: dict[str, Any] = {target: _plain(exp.classes[c])}
        if _group_only(exp, arm):
            conditions[str(exp.spec.scenario.column)] = exp.group_value
        rows = gen.sample(int(n), conditions=conditions,
                          random_state=derive_seed(seed, "sample", arm.key, c))
        rows = pd.DataFrame(rows).reset_index(drop=True)
        # the row was drawn for this class: that is its label, whether or not the generator
        # declares exact conditions
        for name, value in conditions.items():
            rows[name] = pd.Series([value] * len(rows), dtype=exp.train_real[name].dtype)
        parts.append(rows)
    if not parts:
        return exp.train_real.iloc[:0].copy()
    return pd.concat(parts, ignore_index=True)


def _smote_rows(exp: _Experiment, arm: Arm, seed: int, notes: list[str]) -> pd.DataFrame:
    """Classic oversampling with the same per-class row counts as the generator's arm.

    SMOTE for numeric-only tables, SMOTEN for categorical-only, SMOTENC for mixed ones.  It runs
    on the schema's matrix view: numerics standardized (missing values imputed with the mean
    and flagged by a categorical indicator), categories as codes with missing as a code of its
    own; the new rows are decoded back through the schema (ranges, integers, dtypes).
    """
    from imblearn.over_sampling import SMOTE, SMOTEN, SMOTENC

    target = exp.spec.data.target
    ref = _reference_rows(exp, arm).reset_index(drop=True)
    y = exp.encode_labels(ref[target])
    counts = np.bincount(y, minlength=len(exp.classes))
    plan = _plan(exp, arm)
    too_small = [c for c in range(len(plan)) if plan[c] > 0 and counts[c] < 2]
    for c in too_small:
        notes.append(f"SMOTE cannot make class {exp.classes[c]!r} rows from {counts[c]} real "
                     "row(s); it gets none.")
        plan[c] = 0
    if plan.sum() == 0:
        return exp.train_real.iloc[:0].copy()
    features = ref.drop(columns=[target])
    schema = TableSchema.detect(features)
    matrix = schema.to_matrix(features)
    columns: list[np.ndarray] = []
    categorical: list[bool] = []
    layout: list[tuple[int, str, float, float]] = []  # (schema column, role, center, scale)
    for j, col in enumerate(schema.columns):
        values = matrix[:, j]
        missing = np.isnan(values)
        if col.kind.is_continuous:
            observed = values[~missing]
            center = float(observed.mean()) if len(observed) else 0.0
            scale = float(observed.std()) if len(observed) > 1 else 0.0
            scale = scale if scale > 0 else 1.0
            columns.append(np.where(missing, 0.0, (values - center) / scale))
            categorical.append(False)
            layout.append((j, "value", center, scale))
            if missing.any():
                columns.append(missing.astype(np.float64))
                categorical.append(True)
                layout.append((j, "missing", 0.0, 1.0))
        elif col.kind.is_discrete:
            n_levels = len(col.categories or [])
            columns.append(np.where(missing, n_levels, values))
            categorical.append(True)
            layout.append((j, "code", float(n_levels), 1.0))
    X = np.column_stack(columns) if columns else np.zeros((len(ref), 0))
    targeted = [c for c in range(len(plan)) if plan[c] > 0]
    k = max(1, min(5, *(int(counts[c]) - 1 for c in targeted)))
    strategy = {c: int(counts[c] + plan[c]) for c in targeted}
    rs = derive_seed(seed, "smote", arm.key) % (2**32)
    cat_idx = [i for i, is_cat in enumerate(categorical) if is_cat]
    sampler: Any
    if not cat_idx:
        sampler = SMOTE(sampling_strategy=strategy, k_neighbors=k, random_state=rs)
    elif len(cat_idx) == X.shape[1]:
        sampler = SMOTEN(sampling_strategy=strategy, k_neighbors=k, random_state=rs)
    else:
        sampler = SMOTENC(categorical_features=cat_idx, sampling_strategy=strategy,
                          k_neighbors=k, random_state=rs)
    X_res, y_res = sampler.fit_resample(X, y)
    X_new, y_new = np.asarray(X_res)[len(X):], np.asarray(y_res)[len(X):]
    decoded = np.full((len(X_new), len(schema.columns)), np.nan)
    for i, (j, role, center, scale) in enumerate(layout):
        if role == "value":
            decoded[:, j] = X_new[:, i] * scale + center
        elif role == "missing":
            decoded[X_new[:, i] > 0.5, j] = np.nan
        else:
            codes = np.rint(X_new[:, i])
            decoded[:, j] = np.where(codes >= center, np.nan, codes)
    rows = schema.from_matrix(decoded, np.random.default_rng(rs))
    labels = [_plain(exp.classes[int(c)]) for c in y_new]
    rows[target] = pd.Series(labels, dtype=exp.train_real[target].dtype)
    return rows[list(exp.train_real.columns)]


def _train_frame(exp: _Experiment, arm: Arm, seed: int, gen: BaseGenerator | None,
                 notes: list[str]) -> tuple[pd.DataFrame, int]:
    real = exp.train_real
    if arm.kind == "real":
        return real, 0
    if arm.kind == "smote":
        extra = _smote_rows(exp, arm, seed, notes)
    else:
        if gen is None:  # pragma: no cover - the loop fits one whenever an arm needs it
            raise RuntimeError("no fitted generator for a synthetic arm")
        extra = _synthetic_rows(exp, arm, gen, seed)
    if arm.kind == "synthetic_only":
        return extra, len(extra)
    return pd.concat([real, extra], ignore_index=True), len(extra)


def _metrics(exp: _Experiment, proba: np.ndarray) -> dict[str, float]:
    from sklearn.metrics import f1_score, roc_auc_score

    y = exp.test.y.cpu().numpy()

    def score(mask: np.ndarray) -> dict[str, float]:
        yt, pt = y[mask], proba[mask]
        pred = pt.argmax(axis=1)
        out = {"accuracy": float((pred == yt).mean()) if len(yt) else float("nan"),
               "macro_f1": float(f1_score(yt, pred, average="macro", zero_division=0))
               if len(yt) else float("nan")}
        if len(exp.classes) == 2:
            out["roc_auc"] = (float(roc_auc_score(yt, pt[:, 1])) if len(np.unique(yt)) == 2
                              else float("nan"))
        return out

    metrics = score(np.ones(len(y), dtype=bool))
    if exp.test_groups is not None:
        col = exp.spec.data.sensitive
        for group in sorted(set(exp.test_groups.tolist())):
            for name, value in score(exp.test_groups == group).items():
                metrics[f"{name}@{col}={group}"] = value
    return metrics


def _run_arm(exp: _Experiment, arm: Arm, seed: int, gen: BaseGenerator | None,
             gen_seconds: float | None) -> dict[str, Any]:
    notes: list[str] = []
    start = time.perf_counter()
    frame, n_synthetic = _train_frame(exp, arm, seed, gen, notes)
    rows_seconds = time.perf_counter() - start
    train = exp.tensors(frame)
    spec = exp.spec
    with seeded_torch(derive_seed(seed, "model"), exp.device):
        model = exp.model_factory(exp.inputs, **spec.model.params).to(exp.device)
        info = fit_classifier(model, train, exp.validation, spec.training,
                              seed=derive_seed(seed, "batches"))
    proba = predict_proba(model, exp.test)
    counts = np.bincount(train.y.cpu().numpy(), minlength=len(exp.classes))
    return {
        "format": RUN_FORMAT,
        "fingerprint": exp.fingerprint,
        "arm": arm.key,
        "kind": arm.kind,
        "ratio": arm.ratio,
        "seed": seed,
        "device": str(exp.device),
        "torch_threads": torch.get_num_threads(),
        "n_real": 0 if arm.kind == "synthetic_only" else len(exp.train_real),
        "n_synthetic": n_synthetic,
        "train_class_counts": {str(c): int(n) for c, n in zip(exp.classes, counts, strict=True)},
        "metrics": _metrics(exp, proba),
        "fit": {"steps": info.steps, "best_step": info.best_step,
                "best_validation_loss": info.best_validation_loss,
                "stopped_early": info.stopped_early, "seconds": round(info.seconds, 4)},
        "rows_seconds": round(rows_seconds, 4),
        "generator_fit_seconds": None if gen_seconds is None or not arm.uses_generator
        else round(gen_seconds, 4),
        "notes": notes,
    }


# -- the run folder ----------------------------------------------------------------------------
class _RunFolder:
    """The run folder: run.json, one result file per (arm, seed), and the report files."""

    def __init__(self, path: Path, exp: _Experiment) -> None:
        self.path = path
        self.exp = exp

    def result_path(self, arm: Arm, seed: int) -> Path:
        return self.path / "runs" / arm.key / f"seed-{seed}.json"

    def load(self, arm: Arm, seed: int) -> dict[str, Any] | None:
        file = self.result_path(arm, seed)
        if not file.is_file():
            return None
        try:
            data = json.loads(file.read_text())
        except (OSError, json.JSONDecodeError):
            return None  # written atomically, so this is damage from outside: retrain
        if not isinstance(data, dict) or data.get("fingerprint") != self.exp.fingerprint:
            return None
        return data

    def write(self, arm: Arm, seed: int, result: Mapping[str, Any]) -> None:
        with atomic_file(self.result_path(arm, seed)) as tmp:
            tmp.write_text(json.dumps(to_jsonable(result), indent=1, allow_nan=False))

    def check_resumable(self) -> None:
        """Refuse to mix results of another recipe, data set or device into this folder."""
        run_json = self.path / "run.json"
        if not run_json.is_file():
            return
        try:
            previous = json.loads(run_json.read_text())
        except (OSError, json.JSONDecodeError):
            return
        if previous.get("fingerprint") != self.exp.fingerprint:
            raise InvalidParameterError(
                f"{self.path} holds a run of a different recipe, data or model (fingerprint "
                f"{str(previous.get('fingerprint'))[:12]}..., this run "
                f"{self.exp.fingerprint[:12]}...). Choose another output folder or delete it."
            )
        if previous.get("device") != str(self.exp.device):
            raise InvalidParameterError(
                f"{self.path} holds results computed on {previous.get('device')}, but this run "
                f"is on {self.exp.device}; numbers from different devices must not be mixed. "
                "Choose another output folder, or rerun on the same device."
            )

    def write_run_json(self, **extra: Any) -> None:
        exp = self.exp
        spec = exp.spec
        import imblearn
        import scipy
        import sklearn

        record = {
            "format": RUN_FORMAT,
            "recipe_name": spec.name,
            "recipe_source": exp.recipe.source,
            "recipe_text": exp.recipe.text,
            "recipe": spec.model_dump(mode="json"),
            "fingerprint": exp.fingerprint,
            "seeds": list(spec.seeds),
            "derived_seeds": {
                str(s): {k: derive_seed(s, k) for k in ("generator", "model", "batches")}
                for s in spec.seeds
            },
            "split_seed": spec.split.seed,
            "device": str(exp.device),
            "torch_threads": torch.get_num_threads(),
            "data": {
                "source": spec.data.source,
                "sha256": exp.sha256,
                "rows": len(exp.frame),
                "columns": [str(c) for c in exp.frame.columns],
            },
            "splits": _split_sizes(exp),
            "arms": [a.key for a in exp.arms],
            "generator": exp.generator_name,
            "model": exp.model_name,
            "versions": {
                "synthaug": __version__,
                "python": platform.python_version(),
                "platform": platform.platform(),
                "torch": torch.__version__,
                "cuda": torch.version.cuda,
                "numpy": np.__version__,
                "pandas": pd.__version__,
                "scikit-learn": sklearn.__version__,
                "imbalanced-learn": imblearn.__version__,
                "scipy": scipy.__version__,
            },
        }
        record.update(extra)
        with atomic_file(self.path / "run.json") as tmp:
            tmp.write_text(json.dumps(to_jsonable(record), indent=2, allow_nan=False))


def _split_sizes(exp: _Experiment) -> dict[str, Any]:
    s = exp.splits
    target = exp.spec.data.target
    counts = exp.train_real[target].astype(str).value_counts().sort_index()
    return {"seed": exp.spec.split.seed, "train_full": len(s.train_full), "train": len(s.train),
            "validation": len(s.validation), "test": len(s.test),
            "train_class_counts": {str(k): int(v) for k, v in counts.items()}}


def _default_out_dir(exp: _Experiment) -> Path:
    return Path.cwd() / "synthaug-runs" / (
        f"{exp.spec.name}-{exp.fingerprint[:10]}-{exp.device.type}"
    )


def _describe_scenario(spec: RecipeSpec) -> str:
    sc = spec.scenario
    if sc.kind == "none":
        return "none"
    used = {k: getattr(sc, k) for k in ("fraction", "per_class", "ratio", "minority", "column",
                                        "value") if getattr(sc, k) is not None}
    return f"{sc.kind} " + ", ".join(f"{k}={v}" for k, v in used.items())


def _budget(spec: RecipeSpec) -> str:
    t = spec.training
    return (f"{t.max_steps} steps of {t.batch_size} rows, AdamW lr {t.learning_rate:g}, "
            f"validation every {t.eval_every} steps, patience {t.patience}")


# -- the public entry point --------------------------------------------------------------------
def run(
    spec_or_path: RecipeSpec | Mapping[str, Any] | str | os.PathLike[str],
    *,
    out_dir: str | os.PathLike[str] | None = None,
    device: str | torch.device = "auto",
    progress: bool | None = None,
    model_factory: ModelFactory | None = None,
    threads: int | None = None,
) -> GainReport:
    """Run a recipe and report the gain of synthetic data, with intervals over seeds.

    Parameters
    ----------
    spec_or_path : RecipeSpec, mapping, path or str
        A recipe: a spec, its mapping, a ``.toml`` file, or a built-in recipe's name
        (``"adult-lowdata"``; see :func:`list_builtin_recipes`).
    out_dir : path, optional
        The run folder.  A folder holding an interrupted run of the same recipe, data and device
        is resumed: finished (arm, seed) results are kept, not retrained.  Default:
        ``./synthaug-runs/<name>-<fingerprint>-<device type>``.
    device : str or torch.device, default="auto"
        Where the downstream models (and generators that use one) train.
    progress : bool or None
        Show a progress bar over arms x seeds (``None``: when stderr is a terminal).
    model_factory : callable, optional
        Your own downstream model: ``model_factory(inputs, **recipe.model.params)`` returning a
        ``torch.nn.Module`` whose ``forward(x_num, x_cat)`` returns logits (see
        :mod:`synthaug.recipes.models`).  Replaces the recipe's ``model.name``.
    threads : int, optional
        CPU threads torch may use during the run (restored afterwards); overrides the recipe's
        ``training.threads``.  With neither, torch's own setting is left alone.

    Returns
    -------
    GainReport
        Also written to ``out_dir`` as ``results.json``, ``report.md`` and ``gain.png``.

    Raises
    ------
    SpecError
        For any problem with the recipe or its data, before anything is trained.

    Examples
    --------
    >>> from synthaug.recipes import run
    >>> report = run("adult-lowdata", out_dir="runs/adult-lowdata")  # doctest: +SKIP
    >>> print(report)  # doctest: +SKIP
    """
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int)
                                or threads < 1):
        raise InvalidParameterError(f"threads must be None or a positive int, got {threads!r}.")
    started = time.perf_counter()
    recipe = load_recipe(spec_or_path)
    chosen = threads if threads is not None else recipe.spec.training.threads
    previous_threads = torch.get_num_threads()
    if chosen is not None:
        torch.set_num_threads(chosen)
    try:
        return _run(recipe, out_dir, device, progress, model_factory, started)
    finally:
        torch.set_num_threads(previous_threads)


def _validate(exp: _Experiment, gen: BaseGenerator, seed: int, out_dir: Path) -> dict[str, Any]:
    """Run the recipe's suite on rows of the first fitted generator (test rows as holdout)."""
    if exp.suite is None:
        raise InvalidParameterError("internal: _validate called without a suite")
    holdout = exp.frame.iloc[exp.splits.test].reset_index(drop=True)
    return validate_generator(
        exp.suite, gen, exp.train_real, holdout, target=exp.spec.data.target,
        sensitive=exp.spec.data.sensitive, seed=derive_seed(seed, "validate"),
        device=str(exp.device), out_dir=out_dir,
    )


def _previous_validation(out_dir: Path) -> dict[str, Any] | None:
    """The summary of a validation written by an earlier invocation of a resumed run."""
    path = out_dir / VALIDATION_FILES[1]
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        checks = data.get("checks", [])
        return {"suite": data["suite"], "gate": data["gate"],
                "failed": [c["id"] for c in checks if c.get("status") == "fail"],
                "skipped": [c["id"] for c in checks if c.get("status") == "skipped"],
                "files": list(VALIDATION_FILES), "resumed": True}
    except (ValueError, KeyError, TypeError):
        return None


def _run(
    recipe: LoadedRecipe,
    out_dir: str | os.PathLike[str] | None,
    device: str | torch.device,
    progress: bool | None,
    model_factory: ModelFactory | None,
    started: float,
) -> GainReport:
    exp = _prepare(recipe, device, model_factory)
    folder = _RunFolder(Path(out_dir) if out_dir is not None else _default_out_dir(exp), exp)
    folder.check_resumable()
    spec = exp.spec
    start_time = datetime.now(UTC).isoformat(timespec="seconds")
    folder.write_run_json(status="running", started=start_time)
    results: dict[tuple[str, int], dict[str, Any]] = {}
    trained = reused = 0
    validation: dict[str, Any] | None = None
    total = len(exp.arms) * len(spec.seeds)
    with progress_bar(total, f"recipe {spec.name}", progress, unit="run") as bar:
        for seed in spec.seeds:
            todo = []
            for arm in exp.arms:
                done = folder.load(arm, seed)
                if done is None:
                    todo.append(arm)
                else:
                    results[(arm.key, seed)] = done
                    reused += 1
                    bar.update(1)
            gen, gen_seconds = None, None
            if any(arm.uses_generator for arm in todo):
                bar.set_postfix_str(f"seed {seed}: fitting {exp.generator_name}")
                gen, gen_seconds = _fit_generator(exp, seed)
                if validation is None and exp.suite is not None:
                    bar.set_postfix_str(f"seed {seed}: validating {exp.generator_name}")
                    validation = _validate(exp, gen, seed, folder.path)
            for arm in todo:
                bar.set_postfix_str(f"seed {seed}: {arm.key}")
                result = _run_arm(exp, arm, seed, gen, gen_seconds)
                folder.write(arm, seed, result)  # now, so an interruption loses only this arm
                results[(arm.key, seed)] = result
                trained += 1
                bar.update(1)
    wall = time.perf_counter() - started
    ordered = [results[(arm.key, seed)] for arm in exp.arms for seed in spec.seeds]
    info = {
        "description": spec.description,
        "data": {"source": spec.data.source, "rows": len(exp.frame), "target": spec.data.target,
                 "sha256": exp.sha256, "sensitive": spec.data.sensitive},
        "splits": _split_sizes(exp),
        "scenario": _describe_scenario(spec),
        "generator": exp.generator_name,
        "model": exp.model_name,
        "budget": _budget(spec),
        "device": str(exp.device),
        "torch_threads": torch.get_num_threads(),
        "wall_seconds": round(wall, 2),
        "trained": trained,
        "reused": reused,
        "out_dir": str(folder.path),
        "focus_group": (f"{spec.data.sensitive}={exp.group_value}"
                        if spec.data.sensitive and exp.group_value is not None else None),
        "notes": sorted({n for r in ordered for n in r.get("notes", [])}),
        "validation": validation or _previous_validation(folder.path),
    }
    report = GainReport.from_runs(spec.name, ordered, metric=spec.report.metric,
                                  seeds=list(spec.seeds), confidence=spec.report.confidence,
                                  info=info)
    report.save(folder.path)
    folder.write_run_json(status="finished", started=start_time,
                          finished=datetime.now(UTC).isoformat(timespec="seconds"),
                          wall_seconds=round(wall, 2), trained=trained, reused=reused)
    return report


def check(
    spec_or_path: RecipeSpec | Mapping[str, Any] | str | os.PathLike[str],
    *,
    device: str | torch.device = "auto",
) -> dict[str, Any]:
    """Validate a recipe against its data without training anything; return its plan.

    Every check :func:`run` makes before training runs here too (the data is loaded, split
    and featurized), so a recipe that passes ``check`` fails in ``run`` only at training time.

    Examples
    --------
    >>> from synthaug.recipes import check
    >>> plan = check("adult-lowdata", device="cpu")
    >>> plan["runs"], plan["arms"][:2]
    (40, ['real', 'synthetic-x0.5'])
    """
    exp = _prepare(load_recipe(spec_or_path), device, None)
    return {"recipe": exp.spec.name, "arms": [a.key for a in exp.arms],
            "seeds": list(exp.spec.seeds), "splits": _split_sizes(exp),
            "scenario": _describe_scenario(exp.spec), "device": str(exp.device),
            "runs": len(exp.arms) * len(exp.spec.seeds)}


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value
