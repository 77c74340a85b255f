"""Validation suites: which validators run, with which parameters and thresholds, and the gate.

A suite is a TOML file.  Each ``[[checks]]`` entry names a registered validator, its parameters
and, optionally, a threshold on the validator's headline value (``min``, ``max`` or both) and
whether missing that threshold fails the suite's **gate**::

    version = 1
    name = "default"
    description = "Fidelity and privacy checks for tabular synthetic data."

    [[checks]]
    validator = "fidelity.column_shapes"
    min = 0.8                          # value >= 0.8 passes

    [[checks]]
    validator = "privacy.dcr"
    max = 0.6                          # value <= 0.6 passes
    needs = ["holdout"]                # an input the validator cannot do without
    optional = true                    # skipped, with a note, when it cannot run here
    params = { device = "auto" }

Keys of an entry (anything else is an error that names the file and the key):

``validator``
    Registry name (see ``synthaug list``).  A name that is not registered stops the suite with an
    :class:`~synthaug.exceptions.UnknownComponentError` that suggests close names, unless the
    entry is ``optional``.
``id``
    Label of the entry in reports (default: the validator name); needed, and unique, when one
    validator appears twice with different parameters.
``params``
    Keyword arguments of the validator's constructor.
``min``, ``max``
    Threshold on the headline value, inclusive.  Without either the entry is reported only.
``gate``
    Whether missing the threshold fails the gate (default: true when a threshold is given).
    A non-gating entry that misses its threshold is reported as ``warn``.
``optional``
    Skip the entry, with a note in the report, when its validator is not registered, an extra it
    needs is not installed (it raises ``ImportError``) or an input it ``needs`` was not given.
``not_computable``
    What the gate makes of the entry when its inputs cannot support it (a holdout that
    overlaps the training data, too few rows): ``"skip"`` (default: reported, not counted) or
    ``"fail"``.  Either way the rest of the suite runs and the report is written.
``needs``
    Inputs the validator cannot do without: any of ``"holdout"``, ``"target"``,
    ``"sensitive"``, ``"generator"`` (the generator that made the rows, in ``context``:
    :func:`synthaug.augment` and recipes pass it).  Checked before anything runs, so a long
    suite fails fast.
``description``
    Free text shown in reports.

Validators receive ``context`` with ``"target"`` (str or None), ``"sensitive"`` (tuple of column
names, possibly empty) and ``"suite"`` (the suite's name), plus whatever the caller adds
(``"device"``; ``"generator"``: ``{"name": ..., "params": {...}}`` of the generator that made
the rows).

The gate passes when every gating entry that ran met its threshold and at least one gating entry
ran: a suite whose gating checks were all skipped has shown nothing, so it does not pass.

Built-in suites (``default``, ``privacy-strict``, ``fairness``) are found by name (when no file of
that name exists), first inside the installed package (``synthaug/builtin/validators/``, where
the wheel puts the repository's top-level ``validators/`` folder), then in that folder of a
source checkout.

The file's spec models (:class:`CheckSpec`, :class:`SuiteSpec`), :func:`load_suite_spec` and
:func:`builtin_suites` live in :mod:`synthaug.validators.suite_spec` and are re-exported here;
this module plans and runs a suite and computes its gate.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from synthaug import registry
from synthaug.config.base import loads_toml, parse_spec
from synthaug.data.modality import Modality, PreparedCache, detect_modality
from synthaug.exceptions import (
    InsufficientDataError,
    InvalidDataError,
    InvalidParameterError,
    NotComputableError,
    NotSupportedError,
    UnknownComponentError,
)
from synthaug.validators.base import BaseValidator, Score, get_validator
from synthaug.validators.report import CheckResult, SuiteReport, compact_details
from synthaug.validators.report.figures import merge_figures
from synthaug.validators.suite_spec import (
    SUITE_FORMAT_VERSION,
    CheckSpec,
    SuiteSpec,
    builtin_suites,
    load_suite_spec,
)

__all__ = [
    "SUITE_FORMAT_VERSION",
    "CheckSpec",
    "Suite",
    "SuiteSpec",
    "builtin_suites",
    "load_suite_spec",
]



def _prefixed(exc: UnknownComponentError, prefix: str = "", suffix: str = "") -> None:
    """Add where the unknown name came from (and what to do) to a did-you-mean error."""
    exc.message = f"{prefix}{exc.message}{suffix}"
    exc.args = (exc.message,)


# -- running -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Planned:
    check: CheckSpec
    index: int
    validator: BaseValidator | None
    skip_note: str | None


@dataclass(frozen=True)
class Suite:
    """A validation suite: runs its validators, applies thresholds, returns a report and a gate.

    Parameters
    ----------
    spec : SuiteSpec
        The checks to run.
    source : str
        Where the spec came from (a file path, or a description), used in messages and reports.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> real = pd.DataFrame({"x": rng.normal(size=200), "c": rng.choice(["a", "b"], 200)})
    >>> suite = Suite.from_dict({"name": "demo",
    ...                          "checks": [{"validator": "fidelity.column_shapes", "min": 0.9}]})
    >>> report = suite.run(real, real.sample(frac=1.0, random_state=1))
    >>> report.gate, report.checks[0].status
    (True, 'pass')
    """

    spec: SuiteSpec
    source: str = "<memory>"

    # -- construction --------------------------------------------------------------------------
    @classmethod
    def from_file(cls, path_or_name: str | os.PathLike[str]) -> Suite:
        """Load a suite from a TOML file, or a built-in suite by name (``"default"``).

        An existing file wins; otherwise a bare name (with or without ``.toml``) is looked up
        among the built-in suites, the same rule as for recipes.

        Raises
        ------
        InvalidParameterError
            When the file is missing or invalid (a :class:`synthaug.config.SpecError` naming
            the file and the bad field).
        UnknownComponentError
            When a bare name is neither a file nor a built-in suite (close names suggested).

        Examples
        --------
        >>> Suite.from_file("default").spec.name
        'default'
        """
        path = Path(path_or_name)
        if path.is_file():
            return cls(load_suite_spec(path), source=str(path))
        stem = path.name.removesuffix(".toml")
        suites = builtin_suites()
        if path.parent == Path(".") and stem in suites:
            file = suites[stem]
            # the install path says nothing portable (and leaks a home folder into reports)
            source = f"validators/{file.name} (built into synthaug)"
            return cls(loads_toml(file.read_text(encoding="utf-8"), SuiteSpec, source=source),
                       source=source)
        if path.parent != Path(".") or path.suffix:
            return cls(load_suite_spec(path), source=str(path))  # says the file is missing
        exc = UnknownComponentError("validation suite", str(path_or_name), suites)
        _prefixed(exc, suffix=" To use a suite file, pass its path (ending in .toml).")
        raise exc

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "<dict>") -> Suite:
        """Build a suite from the same structure a suite file holds.

        Examples
        --------
        >>> Suite.from_dict({"name": "s", "checks": [{"validator": "fidelity.column_shapes"}]}
        ...                 ).spec.checks[0].gates
        False
        """
        return cls(parse_spec(data, SuiteSpec, source=source), source=source)

    def restricted_to(self, validators: Iterable[str]) -> Suite:
        """A copy keeping only the entries whose validator is in ``validators``.

        Handy to run a suite with what is installed: ``suite.restricted_to(list_validators())``.

        Raises
        ------
        InvalidParameterError
            When no entry is left.

        Examples
        --------
        >>> from synthaug.validators import list_validators
        >>> names = Suite.from_file("default").restricted_to(list_validators()).validator_names
        >>> "fidelity.column_shapes" in names
        True
        """
        keep = set(validators)
        checks = tuple(c for c in self.spec.checks if c.validator in keep)
        if not checks:
            raise InvalidParameterError(
                f"suite {self.spec.name!r} ({self.source}) has no check using any of "
                f"{sorted(keep)}; nothing would run."
            )
        return Suite(self.spec.model_copy(update={"checks": checks}), source=self.source)

    @property
    def validator_names(self) -> list[str]:
        """The validator of each entry, in order."""
        return [c.validator for c in self.spec.checks]

    # -- running -------------------------------------------------------------------------------
    def run(
        self,
        real: Any,
        synthetic: Any,
        *,
        holdout: Any = None,
        target: str | None = None,
        sensitive: str | Sequence[str] | None = None,
        context: Mapping[str, Any] | None = None,
        figures: bool = True,
    ) -> SuiteReport:
        """Run every entry on the data and return the report with its gate.

        Every entry is resolved (validator registered, parameters accepted, needed inputs
        given) before any runs, so a typo in the last entry costs nothing.

        Parameters
        ----------
        real, synthetic : DataFrame or 2-D ndarray
            The real (training) data and the synthetic data to judge.
        holdout : DataFrame or 2-D ndarray, optional
            Real rows the generator never saw (privacy validators compare against them).
        target : str, optional
            The label column.
        sensitive : str or sequence of str, optional
            Sensitive columns for bias validators (``"sex,race"`` or ``["sex", "race"]``).
        context : mapping, optional
            More keys for the validators' ``context`` (for example ``{"device": "cuda"}``).
        figures : bool
            Collect the data behind the report's plots (marginals, pair trends, DCR and group
            rates).  Off saves a little time when only the gate matters.

        Returns
        -------
        SuiteReport

        Raises
        ------
        UnknownComponentError
            When a non-optional entry names a validator that is not registered.
        InvalidParameterError
            When an entry's parameters are refused, or it needs an input that was not given.
        InvalidDataError
            When ``target`` or a ``sensitive`` column is not a column of ``real``, or a
            validator refuses the data.
        """
        sensitive_cols = _split_columns(sensitive)
        modality = detect_modality(real, what="real")
        modality.check_roles(real, target=target, sensitive=sensitive_cols)
        given = {
            "holdout": holdout is not None,
            "target": target is not None,
            "sensitive": bool(sensitive_cols),
            "generator": isinstance((context or {}).get("generator"), Mapping),
        }
        ctx: dict[str, Any] = dict(context or {})
        # one prepared view of the inputs for every check (made on first use, at most twice:
        # with and without the holdout)
        ctx.update({"target": target, "sensitive": sensitive_cols, "suite": self.spec.name,
                    "modality": modality.name,
                    "prepared": PreparedCache(modality, real, synthetic, holdout)})
        plan = [self._plan(i, check, given, modality) for i, check in
                enumerate(self.spec.checks)]

        results: list[CheckResult] = []
        ran: list[tuple[str, BaseValidator, Score]] = []  # (check id, validator, score)
        for item in plan:
            result, score = self._run_one(item, real, synthetic, holdout, ctx)
            results.append(result)
            if score is not None and item.validator is not None:
                ran.append((result.id, item.validator, score))

        notes: list[str] = []
        ran_gating = [r for r in results if r.gates and r.status != "skipped"]
        failed = [r.id for r in results if r.status == "fail"]
        if not ran_gating:
            notes.append(
                "No gating check ran (all were skipped or none has a threshold), so the gate "
                "fails: a suite that checked nothing cannot vouch for the data."
            )
        gate = bool(ran_gating) and not failed
        fig_data: dict[str, Any] = {}
        if figures:
            # validators first: the modality reuses what they computed (the pair-trend matrix)
            from_validators, validator_notes = merge_figures(
                (check_id, validator.figures(score)) for check_id, validator, score in ran)
            shown, modality_notes = modality.figures(
                real, synthetic, target=target, sensitive=sensitive_cols,
                from_validators=from_validators)
            # the modality's kinds win: its pair trends are the validator's, on the plotted columns
            fig_data = {**shown, **{k: v for k, v in from_validators.items() if k not in shown}}
            notes.extend([*modality_notes, *validator_notes])
        return SuiteReport(
            suite=self.spec.name,
            source=self.source,
            description=self.spec.description,
            gate=gate,
            checks=tuple(results),
            inputs=modality.describe(real, synthetic, holdout, target=target,
                                     sensitive=sensitive_cols),
            figures=fig_data,
            notes=tuple(notes),
        )

    def _where(self, index: int, check: CheckSpec) -> str:
        return f"{self.source}: checks[{index}] ({check.key})"

    def _plan(self, index: int, check: CheckSpec, given: Mapping[str, bool],
              modality: Modality) -> _Planned:
        where = self._where(index, check)
        missing = [need for need in check.needs if not given[need]]
        if missing:
            # the generator is not a command-line input: augment() and recipes pass it
            flags = ", ".join(f"--{m}" if m != "generator" else "augment()/recipes"
                              for m in missing)
            what = " and ".join(missing)
            if check.optional:
                return _Planned(check, index, None, f"skipped: needs {what} ({flags}), not given")
            raise InvalidParameterError(
                f"{where}: {check.validator} needs {what}, which was not given. Pass "
                f"{what} (command line: {flags}), or mark the entry optional = true."
            )
        if check.validator not in registry.validators:
            if check.optional:
                return _Planned(check, index, None, f"skipped: validator {check.validator!r} is "
                                "not registered (a newer synthaug or a plug-in provides it)")
            try:
                registry.validators.get(check.validator)
            except UnknownComponentError as exc:
                _prefixed(exc, prefix=f"{where}: ")
                raise
        try:
            validator = get_validator(check.validator, **check.params)
        except InvalidParameterError as exc:
            raise InvalidParameterError(f"{where}: params refused: {exc}") from None
        except ImportError as exc:
            if check.optional:
                return _Planned(check, index, None, f"skipped: an optional dependency is "
                                f"missing ({exc})")
            raise InvalidParameterError(
                f"{where}: {check.validator} needs a package that is not installed ({exc}). "
                "Install the extra it names, or mark the entry optional = true."
            ) from exc
        try:
            validator._check_params()  # every entry's parameters, before any check runs
        except InvalidParameterError as exc:
            raise InvalidParameterError(f"{where}: params refused: {exc}") from None
        if not validator.accepts_modality(modality.name):
            accepted = ", ".join(sorted(validator.modalities))
            if check.optional:
                return _Planned(check, index, None, f"skipped: {check.validator} scores "
                                f"{accepted} data, not {modality.name} data")
            raise NotSupportedError(
                f"{where}: {check.validator} scores {accepted} data, but the data are "
                f"{modality.name}. Use a suite for {modality.name} data (the built-in "
                f"{modality.default_suite!r}), remove the entry, or mark it optional = true."
            )
        return _Planned(check, index, validator, None)

    def _run_one(
        self,
        item: _Planned,
        real: Any,
        synthetic: Any,
        holdout: Any,
        ctx: Mapping[str, Any],
    ) -> tuple[CheckResult, Score | None]:
        check = item.check
        if item.validator is None:
            return _skipped(check, item.skip_note or "skipped"), None
        start = time.perf_counter()
        try:
            score = item.validator.score(real, synthetic, holdout=holdout, context=ctx)
        except ImportError as exc:
            if check.optional:
                note = f"skipped: an optional dependency is missing ({exc})"
                return _skipped(check, note), None
            raise InvalidParameterError(
                f"{self._where(item.index, check)}: {check.validator} needs a package that is "
                f"not installed ({exc}). Install the extra it names, or mark the entry "
                "optional = true."
            ) from exc
        except NotComputableError as exc:
            # inputs that cannot support the check are not bad data: say so, run the rest, and
            # let the suite file say what the gate makes of it
            why = "too little data" if isinstance(exc, InsufficientDataError) else \
                "not computable here"
            if check.not_computable == "fail":
                return _not_computed(check, f"failed: {why} ({exc})"), None
            return _skipped(check, f"skipped: {why} ({exc})"), None
        except (InvalidDataError, InvalidParameterError) as exc:
            if type(exc) not in (InvalidDataError, InvalidParameterError):
                raise  # a subclass with its own constructor: pass it on untouched
            # same type (bad data stays bad data), and the message says which entry tripped
            raise type(exc)(f"{self._where(item.index, check)}: {exc}") from exc
        seconds = time.perf_counter() - start
        return _result(check, score, seconds), score


def _skipped(check: CheckSpec, note: str) -> CheckResult:
    return CheckResult(
        id=check.key,
        validator=check.validator,
        status="skipped",
        gates=check.gates,
        optional=check.optional,
        min=check.min,
        max=check.max,
        note=note,
        description=check.description,
    )


def _not_computed(check: CheckSpec, note: str) -> CheckResult:
    return CheckResult(
        id=check.key,
        validator=check.validator,
        status="fail",
        gates=True,
        optional=check.optional,
        min=check.min,
        max=check.max,
        note=note,
        description=check.description,
    )


def _result(check: CheckSpec, score: Score, seconds: float) -> CheckResult:
    value = float(score.value)
    status = check.status(value)
    notes = []
    if math.isnan(value) and check.has_threshold:
        notes.append("the validator returned NaN (nothing it could compare), which never passes")
    # a one-sided threshold against the validator's direction is almost always a slip
    if score.direction == "lower" and check.min is not None and check.max is None:
        notes.append("threshold is a min, but lower values of this validator are better")
    if score.direction == "higher" and check.max is not None and check.min is None:
        notes.append("threshold is a max, but higher values of this validator are better")
    return CheckResult(
        id=check.key,
        validator=check.validator,
        status=status,
        gates=check.gates,
        optional=check.optional,
        min=check.min,
        max=check.max,
        category=score.category,
        direction=score.direction,
        value=None if math.isnan(value) else value,
        interval=(float(score.interval[0]), float(score.interval[1])) if score.interval else None,
        details=compact_details(score.details),
        seconds=seconds,
        note="; ".join(notes),
        description=check.description,
    )


def _split_columns(sensitive: str | Sequence[str] | None) -> tuple[str, ...]:
    if sensitive is None:
        return ()
    items = sensitive.split(",") if isinstance(sensitive, str) else list(sensitive)
    cols = tuple(str(c).strip() for c in items if str(c).strip())
    dupes = sorted({c for c in cols if cols.count(c) > 1})
    if dupes:
        raise InvalidParameterError(f"sensitive columns are listed twice: {dupes}.")
    return cols
