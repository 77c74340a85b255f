"""``augment()``: one call from data to (augmented data, report)."""

from __future__ import annotations

import json
import math
import os
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from synthaug.data.modality import LABEL, Modality
from synthaug.data.tabular.prepare import has_comparable_columns
from synthaug.exceptions import InvalidParameterError
from synthaug.generators.base import BaseGenerator
from synthaug.planning import (
    AugmentRun,
    check_fits_in_memory,
    check_fits_on_disk,
    start,
)
from synthaug.utils.files import check_output_file
from synthaug.utils.progress import progress_bar
from synthaug.utils.random import RandomState, spawn_seed
from synthaug.utils.validation import check_bool, check_int
from synthaug.validators.report import SuiteReport
from synthaug.validators.suite import Suite

__all__ = ["AugmentReport", "augment", "augment_to_file"]

#: most synthetic rows augment_to_file() runs the validation suite on
MAX_VALIDATION_ROWS = 50_000


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
    #: text generators: drafts drawn and kept by de-duplication and ``filter`` (summed over the
    #: conditions; see :mod:`synthaug.generators.text.base`); ``None`` for other generators
    screening: dict[str, Any] | None = None
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
        if self.screening:
            lines.append(f"  screening: kept {self.screening['kept']} of "
                         f"{self.screening['drawn']} drafts drawn")
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
    filter: float | None = None,
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
        ``"auto"`` (for tables by device: ``tabular.transformer`` on a GPU, the Gaussian
        copula on a CPU, where it fits in a second what the transformer needs minutes for;
        for other data the modality's generator tagged ``"default"``; see
        :func:`synthaug.planning.default_generator`).  ``None`` fits nothing: only with
        ``classic=``, for the classic-augmentation baseline.
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
    filter : float or None
        Texts: keep only generated texts that a classifier fitted on the real texts assigns to
        their label with at least this probability (the generator's ``filter_confidence``;
        others are re-drawn within its budget).  ``report.screening`` says how many drafts
        were drawn and kept.  Refused for generators without a filter.

    Returns
    -------
    augmented : same type as ``data`` (``(records, labels)`` when ``y`` was given)
        Real records first, then the synthetic ones.
    report : AugmentReport

    Raises
    ------
    InvalidParameterError
        Before any fitting, when the result could not be held in memory (the message gives
        the estimated size and what is available): :func:`augment_to_file` writes any number
        of records in flat memory.

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
    run = start(data, y, target=target, generator=generator, n=n, ratio=ratio,
                 conditions=conditions, balance=balance, random_state=random_state,
                 device=device, generator_params=generator_params, suite=suite,
                 holdout=holdout, classic=classic, filter=filter)
    check_fits_in_memory(run)
    augmented, report = _augment_in_memory(run, sensitive=sensitive, device=device,
                                           progress=progress)
    return run.modality.restore(augmented, data, y), report


def augment_to_file(
    data: Any,
    path: str | os.PathLike[str],
    y: Any = None,
    *,
    target: str | None = None,
    generator: str | BaseGenerator = "auto",
    n: int | None = None,
    ratio: float | None = None,
    conditions: Mapping[str, Any] | None = None,
    balance: bool = False,
    synthetic_only: bool = False,
    random_state: RandomState = None,
    device: str = "auto",
    generator_params: Mapping[str, Any] | None = None,
    suite: str | os.PathLike[str] | Suite | None = "default",
    holdout: Any = None,
    sensitive: str | Sequence[str] | None = None,
    max_validation_rows: int = MAX_VALIDATION_ROWS,
    progress: bool | None = None,
    filter: float | None = None,
) -> AugmentReport:
    """Like :func:`augment`, but write the result to ``path``, streaming: flat memory for any ``n``.

    A table is written batch by batch as it is drawn (Parquet row groups, or rows appended to
    the CSV), inside a temporary file renamed into place when complete, with a progress bar of
    rows; memory holds one batch whatever ``n`` is, and the rows are those :func:`augment`
    gives with the same arguments.  The suite validates a sample of at most
    ``max_validation_rows`` synthetic rows (the first rows of each condition: rows are drawn
    independently, so they are a random sample).  Images and texts are made in memory (with the
    same up-front size check as :func:`augment`) and written by their modality.

    Before any fitting, ``path`` is checked (a file name of the modality, a folder that can be
    written) and the output's size is estimated from the real rows and compared with the free
    space on its disk.

    Parameters
    ----------
    data, y, target, generator, n, ratio, conditions, balance, random_state, device,
    generator_params, suite, holdout, sensitive, progress, filter
        As for :func:`augment`.
    path : str or path-like
        Where to write: ``.parquet`` or ``.csv`` for tables; what the modality writes
        otherwise (a folder or ``.npz`` for images, ``.jsonl`` for texts).
    synthetic_only : bool, default=False
        Write only the synthetic records (for example to validate them).
    max_validation_rows : int, default=50_000
        Most synthetic rows the suite is run on.

    Returns
    -------
    AugmentReport

    Raises
    ------
    UnsafeOutputError, InvalidParameterError
        When ``path`` cannot be written, or the output would not fit on its disk.

    Examples
    --------
    >>> import tempfile, pathlib, pandas as pd
    >>> df = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
    ...                    "y": ["a", "a", "a", "a", "b", "b"]})
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "more.parquet"
    >>> from synthaug import augment_to_file
    >>> report = augment_to_file(df, out, target="y", balance=True, random_state=0)
    >>> pd.read_parquet(out)["y"].value_counts().to_dict()
    {'a': 4, 'b': 4}
    """
    check_int(max_validation_rows, "max_validation_rows", 1)
    check_bool(synthetic_only, "synthetic_only")
    run = start(data, y, target=target, generator=generator, n=n, ratio=ratio,
                 conditions=conditions, balance=balance, random_state=random_state,
                 device=device, generator_params=generator_params, suite=suite,
                 holdout=holdout, filter=filter)
    target_path = check_output_file(path, what="the output") if Path(path).suffix else Path(path)
    write_batches = getattr(run.modality, "write_batches", None)
    if write_batches is None:  # images and texts: made in memory, written by their modality
        check_fits_in_memory(run)
        augmented, report = _augment_in_memory(run, sensitive=sensitive, device=device,
                                               progress=progress)
        if synthetic_only:
            augmented = run.modality.take(
                augmented, np.arange(report.n_real, run.modality.n_records(augmented)))
        _write(lambda: run.modality.write(augmented, target_path), target_path)
        return report
    check_fits_on_disk(run, target_path, synthetic_only)
    return _stream(run, target_path, write_batches, synthetic_only=synthetic_only,
                   sensitive=sensitive, device=device, max_validation_rows=max_validation_rows,
                   progress=progress)


# -- the steps both entry points share ---------------------------------------------------------
def _augment_in_memory(run: AugmentRun, *, sensitive: str | Sequence[str] | None, device: str,
                       progress: bool | None) -> tuple[Any, AugmentReport]:
    modality, real, rng, gen = run.modality, run.real, run.rng, run.gen
    with progress_bar(2 + len(run.plan) + (run.classic is not None), f"augment ({run.label})",
                      progress, unit="step") as bar:
        bar.set_postfix_str("fitting")
        start = time.perf_counter()
        if gen is not None:
            gen.fit(real)
        fit_seconds = time.perf_counter() - start
        bar.update(1)
        bar.set_postfix_str("sampling")
        start = time.perf_counter()
        parts, screens = [], []
        for count, conds in run.plan:
            if count > 0 and gen is not None:
                rows = gen.sample(count, conditions=conds or None, random_state=spawn_seed(rng))
                parts.append(rows if modality.name == "tabular" else modality.check(rows))
                screens.append(getattr(gen, "screening_report_", None))
            bar.update(1)
        sample_seconds = time.perf_counter() - start
        synthetic = (modality.concat(parts) if parts
                     else modality.take(real, np.zeros(0, dtype=np.int64)))
        bar.set_postfix_str("validating")
        validation = _validate(run.checker, modality, real, synthetic, run.holdout, run.target,
                               sensitive, {"device": device, "generator": _generator_info(gen)})
        n_synthetic = modality.n_records(synthetic)
        fidelity = _fidelity(validation, n_synthetic, run.balance)
        bar.update(1)
        parts = [real, synthetic]
        if run.classic is not None:  # after validation: the suite judges the generator's own
            bar.set_postfix_str("classic augmentation")
            synthetic, copies = _apply_classic(run.classic, real, synthetic, rng)
            parts = [real, synthetic, copies]
            bar.update(1)

    augmented = modality.concat(parts)
    if modality.name == "tabular":
        augmented = augmented.astype(real.dtypes.to_dict())
    after = _counts(_labels(modality, augmented, run.target))
    report = _report(run, fit_seconds, sample_seconds, n_synthetic, after, fidelity, validation)
    report.screening = _sum_screening([s for s in screens if s is not None])
    return augmented, report


def _sum_screening(reports: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The text base's screening reports of several ``sample`` calls, added up."""
    if not reports:
        return None
    total: dict[str, Any] = {k: 0 for k, v in reports[0].items() if isinstance(v, int)}
    total["per_label"] = {}
    for one in reports:
        for key in total:
            if key != "per_label":
                total[key] += int(one.get(key, 0))
        for label, counts in one.get("per_label", {}).items():
            entry = total["per_label"].setdefault(label, {"drawn": 0, "kept": 0})
            entry["drawn"] += counts["drawn"]
            entry["kept"] += counts["kept"]
    return total


def _stream(run: AugmentRun, path: Path, write_batches: Any, *, synthetic_only: bool,
            sensitive: str | Sequence[str] | None, device: str, max_validation_rows: int,
            progress: bool | None) -> AugmentReport:
    """Fit, then draw and write the rows batch by batch; validate a bounded sample."""
    modality, real, rng = run.modality, run.real, run.rng
    # tables always have a generator: generator=None goes only with classic=, images only
    gen = cast(BaseGenerator, run.gen)
    dtypes = real.dtypes.to_dict()
    total = run.n_synthetic
    # each condition's share of the validation sample: its first rows, in plan proportions
    keep = [min(count, math.ceil(max_validation_rows * count / total)) if total else 0
            for count, _ in run.plan]
    kept: list[pd.DataFrame] = []
    after: Counter[str] = Counter()
    timings = {"fit": 0.0, "sample": 0.0}
    with progress_bar(total, f"augment ({run.label})", progress, unit="row",
                      unit_scale=True) as bar:
        bar.set_postfix_str("fitting")
        start = time.perf_counter()
        gen.fit(real)
        timings["fit"] = time.perf_counter() - start
        bar.set_postfix_str("writing")

        def rows() -> Iterator[pd.DataFrame]:
            if not synthetic_only:
                after.update(_counts(_labels(modality, real, run.target)))
                yield real
            for (count, conds), wanted in zip(run.plan, keep, strict=True):
                if count == 0:
                    continue
                # the seeds augment() uses, so both give the same rows
                batches = gen.sample_batches(count, conditions=conds or None,
                                             random_state=spawn_seed(rng))
                while True:
                    start = time.perf_counter()
                    batch = next(batches, None)
                    timings["sample"] += time.perf_counter() - start
                    if batch is None:
                        break
                    batch = batch.astype(dtypes)
                    if wanted > 0:
                        kept.append(batch.iloc[:wanted])
                        wanted -= len(kept[-1])
                    after.update(_counts(_labels(modality, batch, run.target)))
                    bar.update(len(batch))
                    yield batch

        _write(lambda: write_batches(rows(), path, like=real), path)
        bar.set_postfix_str("validating")
        sample = (modality.concat(kept) if kept
                  else modality.take(real, np.zeros(0, dtype=np.int64)))
        validation = _validate(run.checker, modality, real, sample, run.holdout, run.target,
                               sensitive, {"device": device, "generator": _generator_info(gen)})
        fidelity = _fidelity(validation, total, run.balance)
        if validation is not None and modality.n_records(sample) < total:
            fidelity.setdefault("notes", []).append(
                f"validated on {modality.n_records(sample):,} of the {total:,} synthetic rows "
                "(the first rows of each condition; rows are drawn independently)")
    counts_after = dict(sorted(after.items(), key=lambda kv: -kv[1])) if after else {}
    if synthetic_only:  # the counts after augmenting, whether or not the real rows were written
        counts_after = dict(Counter(counts_after) + Counter(_counts(_labels(
            modality, real, run.target))))
        counts_after = dict(sorted(counts_after.items(), key=lambda kv: -kv[1]))
    return _report(run, timings["fit"], timings["sample"], total, counts_after, fidelity,
                   validation)


def _write(write: Any, path: Path) -> None:
    try:
        write()
    except OSError as exc:
        raise InvalidParameterError(
            f"could not write {str(path)!r}: {exc}. Nothing was left there; check that the "
            "folder can be written to and has room."
        ) from None


def _report(run: AugmentRun, fit_seconds: float, sample_seconds: float, n_synthetic: int,
            counts_after: dict[str, int], fidelity: dict[str, Any],
            validation: SuiteReport | None) -> AugmentReport:
    modality, real, target = run.modality, run.real, run.target
    label_key = target if modality.name == "tabular" else LABEL
    return AugmentReport(
        generator=run.label,
        n_real=modality.n_records(real),
        n_synthetic=n_synthetic,
        fit_seconds=round(fit_seconds, 4),
        sample_seconds=round(sample_seconds, 4),
        target=label_key if _labels(modality, real, target) is not None else None,
        class_counts_before=_counts(_labels(modality, real, target)),
        class_counts_after=counts_after,
        rows_by_condition=[{"rows": c, "conditions": dict(k)} for c, k in run.plan],
        fidelity=fidelity,
        validation=validation,
        n_classic=0 if run.classic is None else run.classic.copies * modality.n_records(real),
    )




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


