"""A recipe's look at its own synthetic rows: the validation suite named by ``[report] suite``.

Gain says whether synthetic rows help a model; the suite says what they are (faithful, fair,
private).  Both belong in one run folder, so a reader can tell "no gain" from "bad rows".
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from synthaug.data.modality import detect_modality
from synthaug.exceptions import InvalidParameterError
from synthaug.generators.base import BaseGenerator
from synthaug.validators.report import SuiteReport
from synthaug.validators.suite import Suite

__all__ = ["VALIDATION_FILES", "load_suite", "previous_validation", "summary",
           "validate_generator"]

#: what the validation step writes into the run folder
VALIDATION_FILES = ("validation.html", "validation.json")


def load_suite(name: str) -> Suite | None:
    """The suite a recipe names (``""``: none), resolved now so a typo fails before training."""
    return Suite.from_file(name) if name else None


def validate_generator(
    suite: Suite,
    gen: BaseGenerator,
    train: Any,
    holdout: Any,
    *,
    target: str,
    sensitive: str | Sequence[str] | None,
    seed: int,
    device: str,
    out_dir: Path,
) -> dict[str, Any]:
    """Draw as many rows as ``train`` holds, run ``suite`` on them, write its reports.

    Returns the summary the gain report shows: suite, gate, failed and skipped checks, files.
    """
    drawn = gen.sample(len(train), random_state=seed)
    if isinstance(train, pd.DataFrame):
        synthetic = pd.DataFrame(drawn).reset_index(drop=True)
    else:  # images, texts: the modality's container (a generator may give records + labels)
        modality = detect_modality(train, what="train")
        synthetic = modality.check(*drawn) if isinstance(drawn, tuple) else modality.check(drawn)
    # the generator goes into the context for validators that retrain it (privacy.mia_shadow)
    generator = {"name": gen.name, "params": gen.get_params(deep=False)}
    report = suite.run(train, synthetic, holdout=holdout, target=target, sensitive=sensitive,
                       context={"device": device, "generator": generator})
    for name in VALIDATION_FILES:
        report.write(out_dir / name)
    return summary(report)


def summary(report: SuiteReport) -> dict[str, Any]:
    """What the gain report shows of a suite's report: suite, gate, failed and skipped checks,
    and the files it was written to.

    Examples
    --------
    >>> from synthaug.validators.report import SuiteReport
    >>> summary(SuiteReport(suite="default", source="-", gate=False, checks=()))["gate"]
    False
    """
    return {"suite": report.suite, "gate": report.gate, "failed": report.failed,
            "skipped": report.skipped, "files": list(VALIDATION_FILES)}


def previous_validation(out_dir: Path) -> dict[str, Any] | None:
    """The :func:`summary` of a validation an earlier invocation of a resumed run wrote
    (``None`` when there is none, or it cannot be read: the run then shows no validation)."""
    path = out_dir / VALIDATION_FILES[1]
    if not path.is_file():
        return None
    try:
        report = SuiteReport.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError, InvalidParameterError):
        return None
    return {**summary(report), "resumed": True}
