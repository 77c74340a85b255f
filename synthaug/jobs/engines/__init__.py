"""Job engines: who draws and writes the shards, registered by name (``registry.engines``).

An engine gets the job's *context* and one *task* per unfinished shard, all plain dicts
(:mod:`synthaug.jobs.shards`), has its workers each load the generator folder once and write
shards, and calls ``done(record)`` in the driver as each shard is finished, in whatever order
they finish.  Because a shard depends only on its task, the bytes never depend on the engine,
the number of workers or the order.

Built-ins: ``local`` (:mod:`synthaug.jobs.engines.local`: worker processes, never threads)
and ``ray`` (:mod:`synthaug.jobs.engines.ray`: Ray actors; the ``ray`` extra).  A third-party
engine subclasses :class:`Engine` and registers itself with :func:`register_engine` or the
entry-point group ``synthaug.engines``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from synthaug import registry
from synthaug.exceptions import RunFolderError, SynthaugError

if TYPE_CHECKING:
    from synthaug.jobs.spec import EngineSpec

__all__ = ["Done", "Engine", "ShardFailedError", "get_engine", "raise_for_error",
           "register_engine"]

E = TypeVar("E", bound="type[Engine]")
#: the driver's callback for each finished shard's record
Done = Callable[[dict[str, Any]], None]


class ShardFailedError(SynthaugError, RuntimeError):
    """A worker could not draw or write a shard (other than a failed write: that is a
    :class:`~synthaug.exceptions.RunFolderError`).  The message holds the worker's error."""


def raise_for_error(record: Mapping[str, Any], what: str) -> None:
    """Raise the error a worker sent back as plain text (see :mod:`synthaug.jobs.shards`)."""
    error = record.get("error")
    if not isinstance(error, Mapping):
        return
    message = str(error.get("message"))
    if error.get("kind") == "os":
        raise RunFolderError(message)
    if error.get("kind") == "bug":
        raise ShardFailedError(f"{what} failed with an unexpected error, a bug worth "
                               f"reporting:\n{message}")
    raise ShardFailedError(f"{what} failed: {error.get('type')}: {message}")


class Engine(ABC):
    """Base of job engines (see the module docstring).

    Parameters
    ----------
    spec : EngineSpec
        The ``[engine]`` section.
    """

    name: ClassVar[str] = ""

    def __init__(self, spec: EngineSpec) -> None:
        self.spec = spec
        #: seconds the missing shards would take in one worker, estimated by the runner from a
        #: timed probe before :meth:`run` (``None`` when unknown); engines may size pools by it
        self.estimate_s: float | None = None

    def start(self) -> None:  # noqa: B027 (most engines need no connection)
        """Connect to what runs the workers (before the device is resolved)."""

    def stop(self) -> None:  # noqa: B027
        """Release what :meth:`start` took."""

    @abstractmethod
    def device(self, requested: str) -> str:
        """The device kind workers draw on (``"cpu"``, ``"cuda"``) for ``model.device``."""

    @abstractmethod
    def workers(self, n_tasks: int) -> int:
        """How many workers run ``n_tasks`` shards."""

    def check(self, n_tasks: int) -> None:  # noqa: B027 (most engines can always run)
        """Refuse, before any work, what this engine cannot run (called after :meth:`device`).
        """

    @abstractmethod
    def run(self, context: Mapping[str, Any], tasks: Sequence[Mapping[str, Any]],
            done: Done) -> None:
        """Write every task's shard, calling ``done(record)`` in the driver for each.

        Raises the first worker error (:func:`raise_for_error`) after stopping the others.
        """

    def describe(self, n_tasks: int) -> dict[str, Any]:
        """What the manifest records about the engine (it does not change the bytes)."""
        return {"name": self.name, "workers": self.workers(n_tasks),
                "threads": self.spec.threads}


def register_engine(name: str) -> Callable[[E], E]:
    """Class decorator: register an engine under ``name`` (a plain word)."""

    def decorator(cls: E) -> E:
        cls.name = name
        registry.engines.register(name)(cls)
        return cls

    return decorator


def get_engine(spec: EngineSpec) -> Engine:
    """The engine ``spec.name`` names, made with ``spec``."""
    return registry.engines.get(spec.name)(spec)
