"""The suite file's spec models: one ``[[checks]]`` entry (:class:`CheckSpec`), a whole suite
(:class:`SuiteSpec`), reading a suite file, and finding the built-in suites.

The keys of a suite file are described in :mod:`synthaug.validators.suite`, which runs a suite
and computes its gate.  These models are apart from the running because they only parse and
check the TOML entries (types, thresholds, unique labels) and need none of the validators.
"""

from __future__ import annotations

import math
import os
from importlib.resources.abc import Traversable
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from synthaug._builtin import builtin_files
from synthaug.config.base import _Spec, load_toml

__all__ = [
    "SUITE_FORMAT_VERSION",
    "CheckSpec",
    "SuiteSpec",
    "builtin_suites",
    "load_suite_spec",
]

#: the ``version`` a suite file declares; bump when the format changes incompatibly
SUITE_FORMAT_VERSION = 1

Need = Literal["holdout", "target", "sensitive", "generator"]
_VALIDATOR_NAME = r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$"
_Threshold = Annotated[float | None, Field(strict=True, allow_inf_nan=False)]
_StrictBool = Annotated[bool, Field(strict=True)]


class CheckSpec(_Spec):
    """One ``[[checks]]`` entry of a suite file (keys: :mod:`synthaug.validators.suite`).

    Examples
    --------
    >>> check = CheckSpec(validator="fidelity.column_shapes", min=0.8)
    >>> check.key, check.gates, check.status(0.9), check.status(0.5)
    ('fidelity.column_shapes', True, 'pass', 'fail')
    """

    validator: str = Field(pattern=_VALIDATOR_NAME)
    id: str | None = Field(default=None, min_length=1)
    params: dict[str, Any] = Field(default_factory=dict)
    min: _Threshold = None
    max: _Threshold = None
    gate: Annotated[bool | None, Field(strict=True)] = None
    optional: _StrictBool = False
    not_computable: Literal["skip", "fail"] = "skip"
    needs: tuple[Need, ...] = ()
    description: str = ""

    @model_validator(mode="after")
    def _check_threshold(self) -> CheckSpec:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(
                f"min = {self.min} is above max = {self.max}, so no value could pass; "
                "swap them or drop one"
            )
        if self.gate and self.min is None and self.max is None:
            raise ValueError(
                "gate = true needs a threshold to gate on: add min = ... or max = ..., "
                "or set gate = false to report the value only"
            )
        return self

    @property
    def key(self) -> str:
        """The entry's label in reports: ``id`` when given, else the validator name."""
        return self.id or self.validator

    @property
    def has_threshold(self) -> bool:
        """Whether ``min`` or ``max`` is set."""
        return self.min is not None or self.max is not None

    @property
    def gates(self) -> bool:
        """Whether missing the threshold fails the gate."""
        return self.has_threshold if self.gate is None else self.gate

    def status(self, value: float) -> Literal["pass", "fail", "warn", "info"]:
        """``pass``/``fail`` against the threshold (``warn`` instead of ``fail`` when not gating;
        ``info`` without a threshold).  NaN never passes a threshold."""
        if not self.has_threshold:
            return "info"
        ok = not math.isnan(value)
        if ok and self.min is not None:
            ok = value >= self.min
        if ok and self.max is not None:
            ok = value <= self.max
        if ok:
            return "pass"
        return "fail" if self.gates else "warn"


class SuiteSpec(_Spec):
    """A validation-suite file: format ``version``, ``name``, ``description`` and ``checks``.

    Examples
    --------
    >>> spec = SuiteSpec(name="demo", checks=[{"validator": "fidelity.column_shapes", "min": 0.8}])
    >>> [c.key for c in spec.checks]
    ['fidelity.column_shapes']
    """

    version: Literal[1] = 1  # SUITE_FORMAT_VERSION
    name: str = Field(min_length=1)
    description: str = ""
    checks: tuple[CheckSpec, ...]

    @field_validator("checks")
    @classmethod
    def _unique_keys(cls, checks: tuple[CheckSpec, ...]) -> tuple[CheckSpec, ...]:
        if not checks:
            raise ValueError("a suite needs at least one [[checks]] entry")
        first: dict[str, int] = {}
        for i, check in enumerate(checks):
            if check.key in first:
                raise ValueError(
                    f"checks[{first[check.key]}] and checks[{i}] are both labelled "
                    f"{check.key!r}; give each a distinct id = \"...\""
                )
            first[check.key] = i
        return checks


# -- reading suite files -----------------------------------------------------------------------
def load_suite_spec(path: str | os.PathLike[str]) -> SuiteSpec:
    """Read and check a suite file (with :func:`synthaug.config.load_toml`).

    Parameters
    ----------
    path : str or path-like
        A TOML suite file.

    Returns
    -------
    SuiteSpec

    Raises
    ------
    synthaug.config.SpecError
        (an :class:`~synthaug.exceptions.InvalidParameterError`) when the file is missing, is
        not valid TOML, or breaks the format; the message names the file and each bad field by
        its path (``checks[1].min``).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> file = pathlib.Path(tempfile.mkdtemp()) / "mine.toml"
    >>> _ = file.write_text('name = "mine"\\n[[checks]]\\nvalidator = "fidelity.column_shapes"\\n')
    >>> load_suite_spec(file).name
    'mine'
    """
    return load_toml(path, SuiteSpec)


# -- finding built-in suites -------------------------------------------------------------------
def builtin_suites() -> dict[str, Traversable]:
    """Built-in suite names and their files (packaged copies win over a checkout's).

    Examples
    --------
    >>> "default" in builtin_suites()
    True
    """
    # the one finder of packaged TOML files (recipes use it too): the wheel's copy first, then a
    # source checkout's top-level validators/ folder
    return {name: file for name, file in builtin_files("validators").items()}
