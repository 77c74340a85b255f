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

from synthaug.data.schema import as_frame
from synthaug.data.tabular.prepare import has_comparable_columns
from synthaug.exceptions import InvalidDataError, InvalidParameterError
from synthaug.generators.base import BaseGenerator, get_generator
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
    ones, so ``out.iloc[report.n_real:]`` are the synthetic rows.  ``validation`` is the report of
    the validation suite run on the synthetic rows against the real ones (``None`` when
    ``augment`` was called with ``suite=None``); write it with ``report.validation.write(
    "report.html")`` or stop a pipeline with ``report.validation.raise_for_gate()``.
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

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["validation"] = self.validation.to_dict() if self.validation is not None else None
        return out

    def to_json(self, **kw: Any) -> str:
        return json.dumps(self.to_dict(), default=str, **kw)

    def __str__(self) -> str:
        lines = [
            f"synthaug augment report ({self.generator})",
            f"  rows: {self.n_real} real + {self.n_synthetic} synthetic "
            f"= {self.n_real + self.n_synthetic}",
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
    *,
    target: str | None = None,
    generator: str | BaseGenerator = "auto",
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
) -> tuple[Any, AugmentReport]:
    """Fit a generator on ``data`` and return the data with synthetic rows appended.

    Parameters
    ----------
    data : DataFrame or 2-D ndarray
        The real data; the result has the same container type, columns and dtypes.
    target : str, optional
        The label column; needed for ``balance``.
    generator : str or generator, default="auto"
        A registry name (see :func:`synthaug.list_generators`), an unfitted generator, or
        ``"auto"`` (the Gaussian copula for now: fast and exact under conditions).
    n, ratio : int or float, optional
        How many synthetic rows: ``n`` rows, or ``ratio`` times the real row count.  With
        neither (and no ``balance``) the data is doubled (``ratio=1.0``).
    conditions : mapping, optional
        Exact column values every synthetic row has, for example ``{"income": ">50K"}``.
    balance : bool, default=False
        Top every class of ``target`` up to the size of the largest class.
    random_state : int, numpy Generator or None
        Makes the whole call repeatable on the same device.
    device : str, default="auto"
        Where the generator trains ("auto", "cpu", "cuda", "cuda:N").
    generator_params : mapping, optional
        Parameters for the generator when it is given by name.
    suite : str, path, Suite or None, default="default"
        The validation suite run on the synthetic rows against ``data`` (a built-in name such as
        ``"default"``, ``"privacy-strict"`` or ``"fairness"``, a TOML file, or a
        :class:`~synthaug.validators.suite.Suite`); its report is ``report.validation``.
        ``None`` skips validation.  A failed gate does not raise here: call
        ``report.validation.raise_for_gate()`` where a pipeline must stop.
    holdout : DataFrame or 2-D ndarray, optional
        Real rows kept out of ``data``; the suite's privacy checks compare against them.
    sensitive : str or sequence of str, optional
        Sensitive columns for the suite's bias checks (``"sex,race"`` or a list).
    progress : bool or None
        Show progress (``None``: when standard error is a terminal).

    Returns
    -------
    augmented : same type as ``data``
        Real rows first, then the synthetic rows.
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
    frame, container, array_dtype = as_frame(data, what="data")
    if len(frame) < 2:
        raise InvalidDataError("data has 1 row; give at least 2 rows to learn from.")
    plan = _plan(frame, target, n, ratio, conditions, balance)
    # a misspelt suite must fail before minutes of fitting, not after
    checker = suite if isinstance(suite, Suite) or suite is None else Suite.from_file(suite)
    rng = check_random_state(random_state)
    gen = _make_generator(generator, generator_params, device, spawn_seed(rng))
    label = gen.name or type(gen).__name__

    with progress_bar(2 + len(plan), f"augment ({label})", progress, unit="step") as bar:
        bar.set_postfix_str("fitting")
        start = time.perf_counter()
        gen.fit(frame)
        fit_seconds = time.perf_counter() - start
        bar.update(1)
        bar.set_postfix_str("sampling")
        start = time.perf_counter()
        parts = []
        for count, conds in plan:
            if count > 0:
                parts.append(gen.sample(count, conditions=conds or None,
                                        random_state=spawn_seed(rng)))
            bar.update(1)
        sample_seconds = time.perf_counter() - start
        synthetic = (
            pd.concat(parts, ignore_index=True) if parts else frame.iloc[:0].copy()
        )
        bar.set_postfix_str("validating")
        validation = _validate(checker, frame, synthetic, holdout, target, sensitive,
                               {"device": device, "generator": _generator_info(gen)})
        fidelity = _fidelity(validation, len(synthetic), balance)
        bar.update(1)

    augmented = pd.concat([frame, synthetic], ignore_index=True)
    augmented = augmented.astype(frame.dtypes.to_dict())
    report = AugmentReport(
        generator=label,
        n_real=len(frame),
        n_synthetic=len(synthetic),
        fit_seconds=round(fit_seconds, 4),
        sample_seconds=round(sample_seconds, 4),
        target=target,
        class_counts_before=_counts(frame, target),
        class_counts_after=_counts(augmented, target),
        rows_by_condition=[{"rows": c, "conditions": dict(k)} for c, k in plan],
        fidelity=fidelity,
        validation=validation,
    )
    if container == "ndarray":
        return augmented.to_numpy(dtype=array_dtype), report
    return augmented, report


def _plan(
    frame: pd.DataFrame,
    target: str | None,
    n: int | None,
    ratio: float | None,
    conditions: Mapping[str, Any] | None,
    balance: bool,
) -> list[tuple[int, dict[str, Any]]]:
    """Decide how many rows to draw under which conditions; fail before any fitting."""
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
    if balance:
        if n is not None or ratio is not None or conditions:
            raise InvalidParameterError(
                "balance=True decides the rows itself; do not also give n, ratio or conditions."
            )
        if target is None:
            raise InvalidParameterError("balance=True needs target=<label column>.")
        counts = frame[target].value_counts(dropna=True)
        counts = counts[counts > 0]  # a categorical's unused levels are not classes
        if len(counts) < 2:
            raise InvalidDataError(
                f"target {target!r} has {len(counts)} class(es); balancing needs at least two. "
                "Use n= or ratio= to add rows instead."
            )
        labels = frame[target].dropna()
        fractional = pd.api.types.is_float_dtype(labels) and bool((labels != labels.round()).any())
        if fractional or len(counts) > MAX_BALANCE_CLASSES:
            raise InvalidDataError(
                f"target {target!r} has {len(counts)} distinct values; it looks continuous, "
                "not a class label. Balance a categorical target instead."
            )
        top = int(counts.max())
        return [(top - int(c), {target: _plain(k)}) for k, c in counts.items() if c < top]
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
        count = round(r * len(frame))
    return [(count, dict(conditions or {}))]


def _make_generator(
    generator: str | BaseGenerator,
    params: Mapping[str, Any] | None,
    device: str,
    seed: int,
) -> BaseGenerator:
    if isinstance(generator, BaseGenerator):
        if params:
            raise InvalidParameterError(
                "generator_params applies to a generator given by name; set the parameters on "
                "the generator object instead."
            )
        return clone(generator)
    name = "tabular.copula" if generator == "auto" else generator
    if not isinstance(name, str):
        raise InvalidParameterError(
            f"generator must be a registry name or a generator, got {type(generator).__name__}."
        )
    chosen = dict(params or {})
    chosen.setdefault("device", device)
    chosen.setdefault("random_state", seed)
    return get_generator(name, **chosen)


def _validate(
    suite: Suite | None,
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    holdout: Any,
    target: str | None,
    sensitive: str | Sequence[str] | None,
    context: Mapping[str, Any],
) -> SuiteReport | None:
    # a table of identifier or all-missing columns has nothing to score: the rows are made all
    # the same, and the report says it was not validated
    if suite is None or len(synthetic) == 0 or not has_comparable_columns(real):
        return None
    return suite.run(real, synthetic, holdout=holdout, target=target, sensitive=sensitive,
                     context=context)


def _generator_info(gen: BaseGenerator) -> dict[str, Any]:
    """Which generator made the rows, for validators that retrain it (``privacy.mia_shadow``)."""
    return {"name": gen.name, "params": gen.get_params(deep=False)}


def _fidelity(validation: SuiteReport | None, n_synthetic: int, balance: bool) -> dict[str, Any]:
    if n_synthetic == 0:
        return {"notes": ["no synthetic rows were made"]}
    if validation is None:
        return {"notes": ["not validated (suite=None, or no column worth comparing)"]}
    shapes = next((c for c in validation.checks
                   if c.validator == "fidelity.column_shapes" and c.value is not None), None)
    out: dict[str, Any] = {}
    if shapes is not None:
        out["column_shapes"] = round(float(shapes.value), 4)  # type: ignore[arg-type]
        columns = shapes.details.get("columns", {})
        out["columns"] = {k: round(float(v), 4) for k, v in columns.items()}
    if balance:
        out["notes"] = ["synthetic rows were drawn for minority classes, so their marginals "
                        "are expected to differ from all real rows"]
    return out


def _counts(frame: pd.DataFrame, target: str | None) -> dict[str, int]:
    if target is None:
        return {}
    return {str(k): int(v) for k, v in frame[target].value_counts(dropna=False).items()}


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value
