"""The ``ray`` engine: shards written by Ray actors, on a local instance or an existing cluster.

Each actor receives the job's context (the saved generator folder's *path*, the device, the
shards folder: plain values) and loads the generator once with ``BaseGenerator.load``; each
call then receives one shard's task (index, name, seed, class counts) and returns the shard's
record as a plain dict.  So Ray's cloudpickle only ever carries paths, seeds and plain dicts,
never a generator (review §5 item 17).  Two calls are kept in flight per actor, so an actor
never waits for the driver between shards.

Where Ray runs:

* ``ray.init`` already called in this process: that Ray is used, and left running;
* else ``engine.address`` or the ``RAY_ADDRESS`` environment variable: that cluster is
  joined (``ray.init(address=...)``) and left when the job ends;
* else a local instance is started for the job and stopped after it.  Nothing but this job
  needs to reach it, so it listens on the loopback interface only (when this process had not
  imported Ray yet: Ray fixes that choice when it is imported).

On a cluster, every node needs synthaug (and what the generator needs) installed, and the
job folder must be shared storage mounted at the same path on the driver and on every node
(NFS, a Lustre or GPFS mount, a FUSE mount of object storage that supports rename): actors
write the shards there, the driver the records and the manifest.

GPUs: ``engine.gpus`` per actor; left out, one per actor when the job draws on CUDA
(``model.device`` ``"cuda"``, or ``"auto"`` on a cluster with GPUs), none otherwise.  Ray then
gives each actor its own GPU (``CUDA_VISIBLE_DEVICES``), which it uses as ``cuda``.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any

from synthaug.exceptions import DeviceError, InvalidParameterError
from synthaug.jobs.engines import Done, Engine, ShardFailedError, raise_for_error, register_engine
from synthaug.jobs.shards import ShardWriter, configure_threads

__all__ = ["RayEngine", "RayShardWriter"]

# ray is imported only when a job uses it (it takes seconds); a missing ray still fails this
# module's import, so the engines registry says which extra to install
if importlib.util.find_spec("ray") is None:
    raise ImportError("No module named 'ray'")

#: calls in flight per actor: one drawing, one queued behind it
_IN_FLIGHT = 2
_DEFAULT_WORKERS = 2
#: read by Ray when it is imported: "0" makes a node advertise (and bind) the loopback address
_LOOPBACK = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"


def _ray(loopback: bool = False) -> Any:
    """The ray module; imported for a private local instance with loopback addresses."""
    if "ray" in sys.modules or not loopback:
        import ray

        return ray
    saved = os.environ.get(_LOOPBACK)
    os.environ[_LOOPBACK] = "0"
    try:
        import ray
    finally:
        if saved is None:
            del os.environ[_LOOPBACK]
        else:
            os.environ[_LOOPBACK] = saved
    return ray


class RayShardWriter:
    """The actor: a :class:`~synthaug.jobs.shards.ShardWriter` built from plain values.

    An error while loading is kept and returned by every call as a plain dict, rather than
    raised in ``__init__`` (Ray would ship it back pickled, and only at the first call).
    """

    def __init__(self, context: dict[str, Any], device: str, threads: int) -> None:
        configure_threads(threads)
        self.error: dict[str, Any] | None = None
        try:
            self.writer: ShardWriter | None = ShardWriter({**context, "device": device})
        except Exception as exc:
            self.writer = None
            self.error = {"error": {"kind": "synthaug", "type": type(exc).__name__,
                                    "message": f"loading the generator failed: {exc}"}}

    def write(self, task: dict[str, Any]) -> dict[str, Any]:
        """Write one shard (see :meth:`ShardWriter.write`)."""
        if self.writer is None:
            return dict(self.error or {})
        return self.writer.write(task)


@register_engine("ray")
class RayEngine(Engine):
    """Ray actors (see the module docstring)."""

    _started = False
    _kind = "cpu"

    def start(self) -> None:
        private = self.spec.address is None and not os.environ.get("RAY_ADDRESS")
        ray = _ray(loopback=private)
        if ray.is_initialized():
            return
        # address None: ray.init reads RAY_ADDRESS, else starts a local instance
        ray.init(address=self.spec.address, include_dashboard=False,
                 configure_logging=False, log_to_driver=False)
        self._started = True

    def stop(self) -> None:
        if self._started:
            _ray().shutdown()
            self._started = False

    def device(self, requested: str) -> str:
        gpus = float(_ray().cluster_resources().get("GPU", 0))
        if requested == "auto":
            self._kind = "cuda" if gpus > 0 else "cpu"
        elif requested.startswith("cuda"):
            if gpus <= 0:
                raise DeviceError(f"model.device = {requested!r}, but the Ray cluster has no "
                                  "GPUs. Use 'cpu' or 'auto'.")
            self._kind = "cuda"
        else:
            self._kind = "cpu"
        return self._kind

    def workers(self, n_tasks: int) -> int:
        wanted = self.spec.workers if self.spec.workers is not None else _DEFAULT_WORKERS
        return max(1, min(wanted, n_tasks))

    def _gpus(self) -> float:
        if self.spec.gpus is not None:
            return float(self.spec.gpus)
        return 1.0 if self._kind == "cuda" else 0.0

    def describe(self, n_tasks: int) -> dict[str, Any]:
        return {**super().describe(n_tasks), "gpus_per_worker": self._gpus()}

    def check(self, n_tasks: int) -> None:
        # actors that cannot be placed would wait forever; say so before any work
        n, threads, gpus = self.workers(n_tasks), self.spec.threads, self._gpus()
        resources = _ray().cluster_resources()
        cpus, have_gpus = float(resources.get("CPU", 0)), float(resources.get("GPU", 0))
        if n * threads > cpus:
            raise InvalidParameterError(
                f"engine.workers = {n} x engine.threads = {threads} needs {n * threads} CPUs, "
                f"but the Ray cluster has {cpus:g}. Lower engine.workers or engine.threads.")
        if n * gpus > have_gpus:
            raise InvalidParameterError(
                f"engine.workers = {n} x engine.gpus = {gpus:g} needs {n * gpus:g} GPUs, but "
                f"the Ray cluster has {have_gpus:g}. Lower engine.workers or engine.gpus.")

    def run(self, context: Mapping[str, Any], tasks: Sequence[Mapping[str, Any]],
            done: Done) -> None:
        if not tasks:
            return
        ray = _ray()
        n = self.workers(len(tasks))
        threads, gpus = self.spec.threads, self._gpus()
        writer = ray.remote(num_cpus=threads, num_gpus=gpus)(RayShardWriter)
        device = "cuda" if self._kind == "cuda" else "cpu"
        actors: list[Any] = [writer.remote(dict(context), device, threads) for _ in range(n)]
        waiting = deque(dict(t) for t in tasks)
        running: dict[Any, Any] = {}

        def submit(actor: Any) -> None:
            if waiting:
                running[actor.write.remote(waiting.popleft())] = actor

        try:
            for _ in range(_IN_FLIGHT):
                for actor in actors:
                    submit(actor)
            while running:
                ready, _ = ray.wait(list(running), num_returns=1)
                actor = running.pop(ready[0])
                try:
                    record = ray.get(ready[0])
                except ray.exceptions.RayError as exc:  # an actor died (out of memory, a node)
                    raise ShardFailedError(
                        f"a Ray worker failed: {exc}. Run the job again: finished shards are "
                        "kept.") from None
                raise_for_error(record, f"shard {record.get('name', '?')}")
                done(record)
                submit(actor)
        finally:
            for actor in actors:
                ray.kill(actor)
