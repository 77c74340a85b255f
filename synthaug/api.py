"""``augment()``: one call from data to (augmented data, report)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from synthaug import registry
from synthaug.data.modality import LABEL, Modality, detect_modality
from synthaug.data.tabular import label_column_name
from synthaug.data.tabular.prepare import has_comparable_columns
from synthaug.exceptions import InvalidDataError, InvalidParameterError
from synthaug.generators.base import BaseGenerator, get_generator, list_generators
from synthaug.utils.progress import progress_bar
from synthaug.utils.random import RandomState, check_random_state, spawn_seed
from synthaug.validators.report import SuiteReport
from synthaug.validators.suite import Suite

__all__ = ["AugmentReport", "augment"]

#: a balance target with more distinct values than this is taken for a continuous column
MAX_BALANCE_CLASSES = 100


@dataclass
class AugmentReport:
    """What :func:`augment` did: rows made, per condition, timings, and the validation report.

    The augmented data holds the ``n_real`` real rows first, then the ``n_synthetic`` synthetic
    ones, so ``out.iloc[report.n_real:]`` are the synthetic rows (with ``classic=``, images
    only, the ``n_classic`` classically augmented copies of real images come after them).
    ``validation`` is the report of the validation suite run on the synthetic rows against the
    real ones (``None`` when ``augment`` was called with ``suite=None``); write it with
    ``report.validation.write("report.html")`` or stop a pipeline with
    ``report.validation.raise_for_gate()``.
    ``fidelity`` repeats its column-shape scores for a quick look.
    """

    generator: str
    n_real: int
    n_synthetic: int
    fit_seconds: float
    sample_seconds: float
    target: str | None = None
    class_counts_before: dict[str, int] = field(default_factory=dict)
    class_counts_after: dict[str, int] = field(default_factory=dict)
    rows_by_condition: list[dict[str, Any]] = field(default_factory=list)
    fidelity: dict[str, Any] = field(default_factory=dict)
    validation: SuiteReport | None = None
    #: classically augmented copies of real images (``classic=``), after the synthetic ones
    n_classic: int = 0

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["validation"] = self.validation.to_dict() if self.validation is not None else None
        return out

    def to_json(self, **kw: Any) -> str:
        return json.dumps(self.to_dict(), default=str, **kw)

    def __str__(self) -> str:
        rows = (f"  rows: {self.n_real} real + {self.n_synthetic} synthetic "
                f"= {self.n_real + self.n_synthetic}")
        if self.n_classic:
            rows = (f"  rows: {self.n_real} real + {self.n_synthetic} synthetic + "
                    f"{self.n_classic} classic = "
                    f"{self.n_real + self.n_synthetic + self.n_classic}")
        lines = [
            f"synthaug augment report ({self.generator})",
            rows,
            f"  time: fit {self.fit_seconds:.2f} s, sample {self.sample_seconds:.2f} s",
        ]
        if self.target is not None and self.class_counts_after:
            lines.append(f"  {self.target} before: {self.class_counts_before}")
            lines.append(f"  {self.target} after:  {self.class_counts_after}")
        shapes = self.fidelity.get("column_shapes")
        if shapes is not None:
            lines.append(f"  fidelity: column shapes {shapes:.3f} (1.0 = same marginals as real)")
            worst = sorted(self.fidelity.get("columns", {}).items(), key=lambda kv: kv[1])[:3]
            if worst:
                lines.append("  weakest columns: " + ", ".join(f"{k} {v:.3f}" for k, v in worst))
        for note in self.fidelity.get("notes", []):
            lines.append(f"  note: {note}")
        if self.validation is not None:
            lines.extend("  " + line for line in str(self.validation).splitlines())
        return "\n".join(lines)


def augment(
    data: Any,
    y: Any = None,
    *,
    target: str | None = None,
    generator: str | BaseGenerator | None = "auto",
    n: int | None = None,
    ratio: float | None = None,
    conditions: Mapping[str, Any] | None = None,
    balance: bool = False,
    random_state: RandomState = None,
    device: str = "auto",
    generator_params: Mapping[str, Any] | None = None,
    suite: str | os.PathLike[str] | Suite | None = "default",
    holdout: Any = None,
    sensitive: str | Sequence[str] | None = None,
    progress: bool | None = None,
    classic: Any = None,
) -> tuple[Any, AugmentReport]:
    """Fit a generator on ``data`` and return the data with synthetic records appended.

    Parameters
    ----------
    data : table, images or texts
        The real data: a DataFrame or 2-D array; images (uint8 ``(N, H, W[, C])`` arrays, a
        list of PIL images, :class:`~synthaug.data.image.Images`, a folder); or texts (a list
        or Series of strings, :class:`~synthaug.data.text.Texts`).  The result has the same
        container type, columns and dtypes.
    y : array-like, optional
        Class labels given apart from ``data`` (one per record).  Then the result is
        ``(records, labels)``, like ``fit_resample``.  A table may instead name its label
        column with ``target``.
    target : str, optional
        The label column of a table; needed for ``balance`` on a table without ``y``.
    generator : str, generator or None, default="auto"
        A registry name (see :func:`synthaug.list_generators`), an unfitted generator, or
        ``"auto"`` (the generator of the data's modality tagged ``"default"``; for tables the
        Gaussian copula: fast and exact under conditions).  ``None`` fits nothing: only
        with ``classic=``, for the classic-augmentation baseline.
    n, ratio : int or float, optional
        How many synthetic records: ``n``, or ``ratio`` times the real count.  With neither
        (and no ``balance``) the data is doubled (``ratio=1.0``).
    conditions : mapping, optional
        Exact values every synthetic record has: columns of a table (``{"income": ">50K"}``),
        or the class (``{"label": 3}``).
    balance : bool, default=False
        Top every class up to the size of the largest class.
    random_state : int, numpy Generator or None
        Makes the whole call repeatable on the same device.
    device : str, default="auto"
        Where the generator trains ("auto", "cpu", "cuda", "cuda:N").
    generator_params : mapping, optional
        Parameters for the generator when it is given by name.
    suite : str, path, Suite or None, default="default"
        The validation suite run on the synthetic records against ``data`` (a built-in name,
        a TOML file, or a :class:`~synthaug.validators.suite.Suite`); ``"default"`` means the
        data modality's default suite.  Its report is ``report.validation``; ``None`` skips
        validation.  A failed gate does not raise here: call
        ``report.validation.raise_for_gate()`` where a pipeline must stop.
    holdout : same kind as ``data``, optional
        Real records kept out of ``data``; the suite's privacy checks compare against them.
    sensitive : str or sequence of str, optional
        Sensitive columns of a table for the suite's bias checks (``"sex,race"`` or a list).
    progress : bool or None
        Show progress (``None``: when standard error is a terminal).
    classic : albumentations transform, callable, "default" or ClassicAugment, optional
        Images only: classic augmentation (see :mod:`synthaug.data.image.classic`).  A
        pipeline adds one transformed copy of every **real** image, after the synthetic ones;
        ``ClassicAugment(pipeline, copies=k, to_generated=True)`` adds ``k`` copies and also
        transforms the generated images (in place).  The validation suite always sees the
        generated images as the generator made them.  ``"default"`` is horizontal flips and
        shifts of up to 2 pixels (needs ``pip install 'synthaug[image]'``).  Refused for
        other modalities.

    Returns
    -------
    augmented : same type as ``data`` (``(records, labels)`` when ``y`` was given)
        Real records first, then the synthetic ones.
    report : AugmentReport

    Examples
    --------
    >>> import pandas as pd
    >>> from synthaug import augment
    >>> df = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
    ...                    "y": ["a", "a", "a", "a", "b", "b"]})
    >>> out, report = augment(df, target="y", balance=True, random_state=0)
    >>> out["y"].value_counts().to_dict()
    {'a': 4, 'b': 4}
    """
    modality = detect_modality(data, what="data")
    real = modality.check(data, y, what="data")
    if modality.n_records(real) < 2:
        raise InvalidDataError(f"data has 1 {modality.record}; give at least 2 "
                               f"{modality.record}s to learn from.")
    if target is None and y is not None and modality.name == "tabular":
        target = label_column_name(y)  # labels given apart became this column
    if target is not None and modality.name != "tabular":
        raise InvalidParameterError(
            f"target names a column of a table; {modality.name} data carry their labels "
            "(pass them as y=... or inside the container)."
        )
    step = _classic(classic, modality, generator, n, ratio, conditions, balance)
    plan = [] if generator is None else _plan(modality, real, target, n, ratio, conditions,
                                              balance)
    # a misspelt suite must fail before minutes of fitting, not after
    checker = _suite(suite, modality)
    rng = check_random_state(random_state)
    gen = None if generator is None else _make_generator(
        generator, generator_params, device, spawn_seed(rng), modality.name)
    label = "none" if gen is None else gen.name or type(gen).__name__
    holdout_data = None if holdout is None else modality.check(holdout, what="holdout")

    with progress_bar(2 + len(plan) + (step is not None), f"augment ({label})", progress,
                      unit="step") as bar:
        bar.set_postfix_str("fitting")
        start = time.perf_counter()
        if gen is not None:
            gen.fit(real)
        fit_seconds = time.perf_counter() - start
        bar.update(1)
        bar.set_postfix_str("sampling")
        start = time.perf_counter()
        parts = []
        for count, conds in plan:
            if count > 0 and gen is not None:
                rows = gen.sample(count, conditions=conds or None, random_state=spawn_seed(rng))
                parts.append(rows if modality.name == "tabular" else modality.check(rows))
            bar.update(1)
        sample_seconds = time.perf_counter() - start
        synthetic = (modality.concat(parts) if parts
                     else modality.take(real, np.zeros(0, dtype=np.int64)))
        bar.set_postfix_str("validating")
        validation = _validate(checker, modality, real, synthetic, holdout_data, target,
                               sensitive, {"device": device, "generator": _generator_info(gen)})
        n_synthetic = modality.n_records(synthetic)
        fidelity = _fidelity(validation, n_synthetic, balance)
        bar.update(1)
        parts = [real, synthetic]
        if step is not None:  # after validation: the suite judges the generator's own images
            bar.set_postfix_str("classic augmentation")
            synthetic, copies = _apply_classic(step, real, synthetic, rng)
            parts = [real, synthetic, copies]
            bar.update(1)

    augmented = modality.concat(parts)
    if modality.name == "tabular":
        augmented = augmented.astype(real.dtypes.to_dict())
    label_key = target if modality.name == "tabular" else LABEL
    report = AugmentReport(
        generator=label,
        n_real=modality.n_records(real),
        n_synthetic=n_synthetic,
        fit_seconds=round(fit_seconds, 4),
        sample_seconds=round(sample_seconds, 4),
        target=label_key if _labels(modality, real, target) is not None else None,
        class_counts_before=_counts(_labels(modality, real, target)),
        class_counts_after=_counts(_labels(modality, augmented, target)),
        rows_by_condition=[{"rows": c, "conditions": dict(k)} for c, k in plan],
        fidelity=fidelity,
        validation=validation,
        n_classic=0 if step is None else step.copies * modality.n_records(real),
    )
    return modality.restore(augmented, data, y), report


def _classic(
    classic: Any,
    modality: Modality,
    generator: Any,
    n: int | None,
    ratio: float | None,
    conditions: Mapping[str, Any] | None,
    balance: bool,
) -> Any:
    """``classic=`` checked (a :class:`~synthaug.data.image.classic.ClassicAugment`), and
    ``generator=None`` allowed only beside it; all before any fitting."""
    if generator is None:
        if classic is None:
            raise InvalidParameterError(
                "generator=None makes no records; pass a generator, or classic=... for "
                "classic augmentation only."
            )
        if n is not None or ratio is not None or conditions or balance:
            raise InvalidParameterError(
                "n, ratio, conditions and balance ask for generated records, but "
                "generator=None makes none; drop them or pass a generator."
            )
    if classic is None:
        return None
    if modality.name != "image":
        raise InvalidParameterError(
            f"classic= applies an image augmentation pipeline (albumentations), but the data "
            f"are {modality.name}; drop classic= for {modality.name} data."
        )
    from synthaug.data.image.classic import resolve_classic

    return resolve_classic(classic)


def _apply_classic(step: Any, real: Any, synthetic: Any, rng: np.random.Generator
                   ) -> tuple[Any, Any]:
    """The generated images (transformed when ``step.to_generated``) and the classic copies
    of the real ones."""
    from synthaug.data.image.classic import apply_classic

    classic_rng = np.random.default_rng(spawn_seed(rng))
    if step.to_generated and len(synthetic):
        synthetic = apply_classic(synthetic, step, classic_rng, copies=1)
    return synthetic, apply_classic(real, step, classic_rng)


def _labels(modality: Modality, data: Any, target: str | None) -> np.ndarray | None:
    if modality.name == "tabular" and target is None:
        return None
    return modality.labels(data, target=target)


def _plan(
    modality: Modality,
    real: Any,
    target: str | None,
    n: int | None,
    ratio: float | None,
    conditions: Mapping[str, Any] | None,
    balance: bool,
) -> list[tuple[int, dict[str, Any]]]:
    """Decide how many records to draw under which conditions; fail before any fitting."""
    if modality.name == "tabular":
        _check_table_roles(real, target, conditions)
    elif conditions is not None:
        if not isinstance(conditions, Mapping):
            raise InvalidParameterError("conditions must be a mapping such as {'label': 3}.")
        unknown = sorted(str(k) for k in conditions if k != LABEL)
        if unknown:
            raise InvalidParameterError(
                f"{modality.name} data can be conditioned on the class only "
                f"(conditions={{{LABEL!r}: ...}}), not on {unknown}."
            )
    n_real = modality.n_records(real)
    if balance:
        if n is not None or ratio is not None or conditions:
            raise InvalidParameterError(
                "balance=True decides the rows itself; do not also give n, ratio or conditions."
            )
        if modality.name == "tabular" and target is None:
            raise InvalidParameterError("balance=True needs target=<label column> (or y=...).")
        labels = modality.labels(real, target=target)
        if labels is None:
            raise InvalidParameterError(
                f"balance=True needs labels; these {modality.name} data have none (pass y=...)."
            )
        series = pd.Series(labels)
        if isinstance(real, pd.DataFrame) and target is not None:
            series = real[target]  # keep a categorical's dtype: its unused levels are no class
        counts = series.value_counts(dropna=True)
        counts = counts[counts > 0]
        what = repr(target) if target is not None else "the labels"
        if len(counts) < 2:
            raise InvalidDataError(
                f"target {what} has {len(counts)} class(es); balancing needs at least two. "
                "Use n= or ratio= to add records instead."
            )
        known = series.dropna()
        fractional = pd.api.types.is_float_dtype(known) and bool((known != known.round()).any())
        if fractional or len(counts) > MAX_BALANCE_CLASSES:
            raise InvalidDataError(
                f"target {what} has {len(counts)} distinct values; it looks continuous, "
                "not a class label. Balance a categorical target instead."
            )
        top = int(counts.max())
        key = target if modality.name == "tabular" and target is not None else LABEL
        return [(top - int(c), {key: _plain(k)}) for k, c in counts.items() if c < top]
    if n is not None and ratio is not None:
        raise InvalidParameterError("give n or ratio, not both.")
    if n is not None:
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise InvalidParameterError(f"n must be a non-negative int, got {n!r}.")
        count = int(n)
    else:
        r = 1.0 if ratio is None else ratio
        if isinstance(r, bool) or not isinstance(r, (int, float)) or not r > 0 or r == np.inf:
            raise InvalidParameterError(f"ratio must be a positive finite number, got {ratio!r}.")
        count = round(r * n_real)
    return [(count, dict(conditions or {}))]


def _check_table_roles(
    frame: pd.DataFrame, target: str | None, conditions: Mapping[str, Any] | None
) -> None:
    if target is not None and target not in frame.columns:
        raise InvalidParameterError(
            f"target={target!r} is not a column of data; columns are {list(frame.columns)}."
        )
    if conditions is not None and not isinstance(conditions, Mapping):
        raise InvalidParameterError("conditions must be a mapping of column -> value.")
    for name in conditions or {}:
        if name not in frame.columns:
            raise InvalidParameterError(
                f"conditions names column {name!r}, which is not in data; "
                f"columns are {list(frame.columns)}."
            )


def _suite(suite: str | os.PathLike[str] | Suite | None, modality: Modality) -> Suite | None:
    if suite is None or isinstance(suite, Suite):
        return suite
    if str(suite) == "default":  # each modality has its own default suite
        return Suite.from_file(modality.default_suite)
    return Suite.from_file(suite)


def _make_generator(
    generator: str | BaseGenerator,
    params: Mapping[str, Any] | None,
    device: str,
    seed: int,
    modality: str,
) -> BaseGenerator:
    if isinstance(generator, BaseGenerator):
        if params:
            raise InvalidParameterError(
                "generator_params applies to a generator given by name; set the parameters on "
                "the generator object instead."
            )
        gen = clone(generator)
    else:
        if not isinstance(generator, str):
            raise InvalidParameterError(
                f"generator must be a registry name or a generator, got "
                f"{type(generator).__name__}."
            )
        name = default_generator(modality) if generator == "auto" else generator
        chosen = dict(params or {})
        chosen.setdefault("device", device)
        chosen.setdefault("random_state", seed)
        gen = get_generator(name, **chosen)
    if gen.modality != modality:
        choices = ", ".join(list_generators(modality)) or "none is installed"
        raise InvalidParameterError(
            f"generator {gen.name or type(gen).__name__!r} makes {gen.modality} data, but the "
            f"data are {modality}; pick a {modality} generator ({choices})."
        )
    return gen


def default_generator(modality: str) -> str:
    """The registered generator of ``modality`` tagged ``"default"`` (what "auto" picks)."""
    for name in list_generators(modality):
        if "default" in registry.generators.get(name).tags:
            return name
    names = list_generators(modality)
    if names:
        return names[0]
    raise InvalidParameterError(
        f"no {modality} generator is installed, so generator='auto' has nothing to pick; "
        f"install one (pip install 'synthaug[{modality}]') or pass a generator."
    )


def _validate(
    suite: Suite | None,
    modality: Modality,
    real: Any,
    synthetic: Any,
    holdout: Any,
    target: str | None,
    sensitive: str | Sequence[str] | None,
    context: Mapping[str, Any],
) -> SuiteReport | None:
    if suite is None or modality.n_records(synthetic) == 0:
        return None
    # a table of identifier or all-missing columns has nothing to score: the rows are made all
    # the same, and the report says it was not validated
    if modality.name == "tabular" and not has_comparable_columns(real):
        return None
    return suite.run(real, synthetic, holdout=holdout, target=target, sensitive=sensitive,
                     context=context)


def _generator_info(gen: BaseGenerator | None) -> dict[str, Any]:
    """Which generator made the rows, for validators that retrain it (``privacy.mia_shadow``)."""
    if gen is None:
        return {"name": None, "params": {}}
    return {"name": gen.name, "params": gen.get_params(deep=False)}


def _fidelity(validation: SuiteReport | None, n_synthetic: int, balance: bool) -> dict[str, Any]:
    if n_synthetic == 0:
        return {"notes": ["no synthetic rows were made"]}
    if validation is None:
        return {"notes": ["not validated (suite=None, or no column worth comparing)"]}
    # the first fidelity score with a value per column (column shapes, in the default suite)
    shapes = next((c for c in validation.checks if c.category == "fidelity"
                   and c.value is not None and isinstance(c.details.get("columns"), Mapping)),
                  None)
    out: dict[str, Any] = {}
    if shapes is not None:
        out["column_shapes"] = round(float(shapes.value), 4)  # type: ignore[arg-type]
        columns = shapes.details.get("columns", {})
        out["columns"] = {k: round(float(v), 4) for k, v in columns.items()}
    if balance:
        out["notes"] = ["synthetic rows were drawn for minority classes, so their marginals "
                        "are expected to differ from all real rows"]
    return out


def _counts(labels: np.ndarray | None) -> dict[str, int]:
    if labels is None:
        return {}
    return {str(k): int(v) for k, v in pd.Series(labels).value_counts(dropna=False).items()}


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value
