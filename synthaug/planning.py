"""What :func:`synthaug.augment` and :func:`synthaug.augment_to_file` settle before any fitting.

The inputs checked by their modality, the plan of how many records to draw under which
conditions, the validation suite, the generator (unfitted), classic augmentation, and the
resource checks (memory for an in-memory result, disk for a file), so that every mistake a
user can make fails in seconds, not after minutes of training.
"""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from synthaug import registry
from synthaug.data.modality import LABEL, Modality, detect_modality
from synthaug.data.tabular import label_column_name
from synthaug.exceptions import InvalidDataError, InvalidParameterError
from synthaug.generators.base import BaseGenerator, get_generator, list_generators
from synthaug.utils.device import resolve_device
from synthaug.utils.memory import available_memory_bytes, container_nbytes, format_bytes
from synthaug.utils.random import RandomState, check_random_state, spawn_seed
from synthaug.utils.validation import check_int, check_number
from synthaug.validators.suite import Suite

__all__ = [
    "MAX_BALANCE_CLASSES",
    "AugmentRun",
    "check_classic",
    "check_fits_in_memory",
    "check_fits_on_disk",
    "AUTO_TABULAR",
    "default_generator",
    "make_generator",
    "plan_draws",
    "resolve_suite",
    "start",
]

#: a balance target with more distinct values than this is taken for a continuous column
MAX_BALANCE_CLASSES = 100


@dataclass
class AugmentRun:
    """What every augment call settles before fitting: the inputs checked, the plan, the
    suite and the generator (unfitted), and the random generator the rows are drawn with."""

    modality: Modality
    real: Any
    target: str | None
    plan: list[tuple[int, dict[str, Any]]]
    balance: bool
    checker: Suite | None
    rng: np.random.Generator
    gen: BaseGenerator | None  # None: classic augmentation only
    holdout: Any
    classic: Any = None  # a checked ClassicAugment, or None

    @property
    def label(self) -> str:
        return "none" if self.gen is None else self.gen.name or type(self.gen).__name__

    @property
    def n_synthetic(self) -> int:
        return sum(count for count, _ in self.plan)


def start(data: Any, y: Any, *, target: str | None, generator: str | BaseGenerator | None,
           n: int | None, ratio: float | None, conditions: Mapping[str, Any] | None,
           balance: bool, random_state: RandomState, device: str,
           generator_params: Mapping[str, Any] | None,
           suite: str | os.PathLike[str] | Suite | None, holdout: Any,
           classic: Any = None, filter: float | None = None) -> AugmentRun:
    """Check everything that can be checked before fitting, in the order users see errors."""
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
    step = check_classic(classic, modality, generator, n, ratio, conditions, balance)
    plan = [] if generator is None else plan_draws(modality, real, target, n, ratio, conditions,
                                              balance)
    # a misspelt suite must fail before minutes of fitting, not after
    checker = resolve_suite(suite, modality)
    rng = check_random_state(random_state)
    gen = None if generator is None else make_generator(
        generator, generator_params, device, spawn_seed(rng), modality.name,
        modality.n_records(real))
    if filter is not None:
        if gen is None or "filter_confidence" not in gen.get_params():
            what = "generator=None" if gen is None else \
                f"generator {gen.name or type(gen).__name__!r}"
            raise InvalidParameterError(
                f"filter keeps generated texts a classifier assigns to their label; {what} "
                "has no such filter (text generators do).")
        gen.set_params(filter_confidence=filter)
    holdout_data = None if holdout is None else modality.check(holdout, what="holdout")
    return AugmentRun(modality, real, target, plan, balance, checker, rng, gen, holdout_data, step)


#: copies of the output that augment() holds at its peak: the synthetic parts, their join, and
#: the join with the real records (the dtype restoration of a table makes one more)
_MEMORY_COPIES = 3


def _per_record_bytes(run: AugmentRun) -> float:
    modality, real = run.modality, run.real
    n_real = modality.n_records(real)
    sample = modality.take(real, np.arange(min(n_real, 10_000)))
    return container_nbytes(sample) / max(modality.n_records(sample), 1)


def check_fits_in_memory(run: AugmentRun) -> None:
    """Refuse, before fitting, an output that cannot be held in memory (augment() returns it)."""
    available = available_memory_bytes()
    if available is None:
        return
    n_total = run.modality.n_records(run.real) + run.n_synthetic
    need = _per_record_bytes(run) * n_total * _MEMORY_COPIES
    if need <= available:
        return
    record = run.modality.record
    raise InvalidParameterError(
        f"augment() would hold {n_total:,} {record}s in memory, about {format_bytes(need)} "
        f"while joining them ({_MEMORY_COPIES} copies of {format_bytes(need / _MEMORY_COPIES)}"
        f"), but only {format_bytes(available)} is available. Write them to a file instead, "
        "which streams in bounded batches: synthaug.augment_to_file(data, "
        "'augmented.parquet', ...) or `synthaug augment DATA --out augmented.parquet`; or draw "
        "them batch by batch from a fitted generator with gen.sample_batches(n). Otherwise "
        "ask for fewer rows."
    )


def check_fits_on_disk(run: AugmentRun, path: Path, synthetic_only: bool) -> None:
    """Refuse, before fitting, a file that will not fit in the free space of its disk."""
    modality, real = run.modality, run.real
    n_rows = run.n_synthetic + (0 if synthetic_only else modality.n_records(real))
    folder = next((p for p in (path.parent, *path.parent.parents) if p.exists()), Path("."))
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return
    need = _file_bytes_per_row(real, path.suffix.lower()) * n_rows
    if need > free:
        raise InvalidParameterError(
            f"{str(path)!r} would take about {format_bytes(need)} ({n_rows:,} rows, estimated "
            f"from the real rows in this format), but {str(folder)!r} has "
            f"{format_bytes(free)} free. Free some space, write elsewhere, or ask for fewer "
            "rows."
        )


def _file_bytes_per_row(real: pd.DataFrame, suffix: str) -> float:
    """Bytes a row takes in a file of ``suffix``: the growth from half to all of a sample of
    the real rows written to memory (the file's fixed overhead drops out)."""
    sample = real.iloc[: min(len(real), 2_000)]
    half = sample.iloc[: len(sample) // 2]

    def size(frame: pd.DataFrame) -> int:
        if suffix == ".parquet":
            buffer = io.BytesIO()
            try:
                frame.to_parquet(buffer, index=False)
            except (OverflowError, ValueError, TypeError) as exc:  # pyarrow's errors are these
                # the output would fail the same way after the fit: say so before it
                raise InvalidDataError(
                    f"the rows cannot be written as Parquet ({type(exc).__name__}: {exc}): a "
                    "column holds values Parquet cannot store, such as integers beyond 64 "
                    "bits. Convert that column (to float or text), or write .csv instead."
                ) from None
            return buffer.tell()
        return len(frame.to_csv(index=False).encode("utf-8"))

    grown = len(sample) - len(half)
    if grown == 0:
        return float(size(sample))
    return max(size(sample) - size(half), 0) / grown


def check_classic(
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


def plan_draws(
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
        check_int(n, "n", 0)
        count = int(n)
    else:
        r = 1.0 if ratio is None else ratio
        check_number(r, "ratio", minimum=0, open_low=True)
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


def resolve_suite(suite: str | os.PathLike[str] | Suite | None, modality: Modality) -> Suite | None:
    if suite is None or isinstance(suite, Suite):
        return suite
    if str(suite) == "default":  # each modality has its own default suite
        return Suite.from_file(modality.default_suite)
    return Suite.from_file(suite)


def make_generator(
    generator: str | BaseGenerator,
    params: Mapping[str, Any] | None,
    device: str,
    seed: int,
    modality: str,
    n_records: int | None = None,
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
        name = (default_generator(modality, n_records, device) if generator == "auto"
                else generator)
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


#: what ``"auto"`` picks for tables on a GPU and on a CPU.  Measured (benchmarks/RESULTS.md,
#: sections ``tables-2026-12-02`` and the H100 table): on a GPU the transformer is the best
#: generator and fits Adult in 44 s; on a CPU the copula fits any measured table in under a
#: second and beats SDV's best on each, while the transformer's lead of 0.02-0.04 SDMetrics
#: quality costs minutes (321 s on an 800-row table) — a default should not make a one-line
#: ``augment(df)`` wait that long; ask for ``tabular.transformer`` to pay it
AUTO_TABULAR = {"gpu": "tabular.transformer", "cpu": "tabular.copula"}


def default_generator(modality: str, n_records: int | None = None,
                      device: str | None = None) -> str:
    """What ``generator="auto"`` picks for ``n_records`` training records on ``device``.

    Tables: :data:`AUTO_TABULAR` by device (the transformer on a GPU, the copula on a CPU).
    Other modalities: their generator tagged ``"default"``.  ``n_records`` is the size the rule
    may use (the measured tables have not asked for a size threshold yet).

    Examples
    --------
    >>> from synthaug.planning import default_generator
    >>> default_generator("tabular", 500, "cpu"), default_generator("tabular", 500, "cuda")
    ('tabular.copula', 'tabular.transformer')
    """
    names = list_generators(modality)
    if modality == "tabular" and device is not None:
        # by name: an absent GPU is make_generator's error to raise, not this rule's
        on_gpu = str(device).startswith("cuda") or (
            device == "auto" and resolve_device("auto").type == "cuda")
        pick = AUTO_TABULAR["gpu" if on_gpu else "cpu"]
        if pick in names:
            return pick
    for name in names:
        if "default" in registry.generators.get(name).tags:
            return name
    if names:
        return names[0]
    raise InvalidParameterError(
        f"no {modality} generator is installed, so generator='auto' has nothing to pick; "
        f"install one (pip install 'synthaug[{modality}]') or pass a generator."
    )


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value
