"""Errors and warnings raised by synthaug.

Every error synthaug raises on purpose derives from :class:`SynthaugError`.  Children also
subclass the built-in exception they refine, so ``except ValueError`` in user code keeps working.
Messages say what was wrong, where, and how to fix it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from sklearn.exceptions import NotFittedError as _SklearnNotFittedError

__all__ = [
    "DataNotAvailableError",
    "DeviceError",
    "InsufficientDataError",
    "InvalidDataError",
    "InvalidParameterError",
    "MissingDependencyError",
    "ModelFormatError",
    "NotComputableError",
    "NotFittedError",
    "NotSupportedError",
    "RunFolderError",
    "SynthaugError",
    "SynthaugWarning",
    "TrainingDivergedError",
    "UnknownComponentError",
    "UnsafeOutputError",
    "ValidationFailedError",
]


class SynthaugError(Exception):
    """Root of every error synthaug raises on purpose."""


class InvalidDataError(SynthaugError, ValueError):
    """The data given to a generator, validator or sampler cannot be used as it is."""


class NotComputableError(InvalidDataError):
    """The inputs cannot support this check (a holdout that overlaps train, too few records).

    A validation suite reports the check as not computable with this message, runs the rest and
    writes its report; the suite file says whether such a check fails the gate.
    """


class InsufficientDataError(NotComputableError):
    """Too few rows (or groups) for a meaningful answer; more data of the same kind would do."""


class InvalidParameterError(SynthaugError, ValueError):
    """A parameter (of an estimator, a call or a spec file) has a value that cannot work."""


class UnsafeOutputError(InvalidParameterError):
    """An output path holds something synthaug did not write (a directory, a foreign folder).

    synthaug never deletes or replaces what it did not write; the message names the path.
    """


class NotFittedError(SynthaugError, _SklearnNotFittedError):
    """A method that needs a fitted estimator was called before ``fit``.

    It is scikit-learn's ``NotFittedError`` too (itself a ``ValueError`` and an
    ``AttributeError``), so scikit-learn's tools recognise it.
    """


class UnknownComponentError(SynthaugError, KeyError):
    """A registry lookup named a component that does not exist."""

    def __init__(self, kind: str, name: str, known: Iterable[str]) -> None:
        known = sorted(known)
        close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        message = (
            f"Unknown {kind} {name!r}.{hint} Known {kind}s: {', '.join(known) or '(none)'}."
        )
        super().__init__(message)
        self.kind = kind
        self.name = name
        self.suggestions = close
        self.message = message

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return self.message


class DeviceError(SynthaugError, RuntimeError):
    """A requested compute device is not available or not understood."""


class ModelFormatError(SynthaugError, ValueError):
    """A saved model folder is missing, damaged, tampered with or from a newer format."""


class DataNotAvailableError(SynthaugError, FileNotFoundError):
    """A data set is neither packaged on this machine nor downloadable right now."""


class MissingDependencyError(SynthaugError, ImportError):
    """A feature needs an optional package that is not installed; the message names the extra."""


class NotSupportedError(SynthaugError, NotImplementedError):
    """An operation this component cannot do safely or at all (the message says what to do)."""


class ValidationFailedError(SynthaugError, RuntimeError):
    """Synthetic data failed the gate of a validation suite."""


class TrainingDivergedError(SynthaugError, FloatingPointError):
    """Training stopped because the monitored loss became NaN or infinite.

    Raised by :func:`synthaug.generators.nn.run_epochs`; the generator is left unfitted and the
    message says what to try.

    Attributes
    ----------
    loss : str
        Name of the monitored loss.
    epoch : int
        0-based index of the epoch whose loss was not finite (as ``epoch_callback`` and
        :attr:`synthaug.generators.nn.TrainingHistory.best_epoch` count).
    value : float
        The loss value (``nan``, ``inf`` or ``-inf``).
    """

    def __init__(self, message: str, *, loss: str, epoch: int, value: float) -> None:
        super().__init__(message)
        self.loss = loss
        self.epoch = epoch
        self.value = value


class RunFolderError(SynthaugError, OSError):
    """A run folder cannot be written or read: a full disk, a folder that cannot be made, a
    damaged ``run.json``.  The message names the path and what to do.

    It is an :class:`OSError` too, so ``except OSError`` around a run keeps working.
    """


class SynthaugWarning(UserWarning):
    """Warnings synthaug emits (filter them with ``warnings.filterwarnings``)."""
