"""The ``local`` engine: shards drawn by worker processes on this machine, never threads.

Threads would share torch's and numpy's process-global state (torch's thread count and RNG,
BLAS pools; review §5 items 1-3, the SDV adapter's global seeding), so each worker is a
process of its own, started with ``spawn`` (a forked torch is not safe), limited to
``engine.threads`` torch and BLAS threads, loading the generator folder once.  Workers die
with the job's process (``PR_SET_PDEATHSIG`` on Linux), so a killed job leaves no worker
writing behind it.  One worker runs in the job's own process (no start-up cost), with the
thread limits restored afterwards.

How many workers by default, measured rather than assumed: one, in the job's own process,
unless the job would take a minute or more there (the runner times a probe draw) *and* cores
are idle; then one more process per idle core (cores this process may use, from
``os.sched_getaffinity``, minus the 1-minute load average), up to one per core.  On CUDA, one
process per GPU (each its own ``cuda:i``).  Why (``benchmarks/jobs.py``, RESULTS.md, 2-core
machine): when it was idle, two worker processes drew 10M rows at 1.77x (GAN) and 1.91x
(copula) the steady rate of one, after 4-6 s of start-up (spawn, importing torch and
synthaug, loading the model), so a 3-second job got slower (copula, 1M rows: 5.3 s against
3.1 s) and a 3-minute one faster (GAN, 10M rows: 107 s against 182 s); when the same machine
was shared by six sessions (load average 9-13), two processes drew at 0.6-1.0x the rate of
one after 25-27 s of start-up, with 2-2.6x the memory.  The scheduler gives a session a fixed
share of a busy machine however many processes it starts, so extra processes only help where
a core is idle.  ``engine.workers`` sets the number outright.

Scripts that call :func:`synthaug.jobs.run` with several workers need the usual
``if __name__ == "__main__":`` guard, as for any ``spawn`` start.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import queue
import signal
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import torch

from synthaug.jobs.engines import Done, Engine, ShardFailedError, raise_for_error, register_engine
from synthaug.jobs.shards import ShardWriter, configure_threads
from synthaug.utils.device import resolve_device

__all__ = ["WORTH_A_POOL_S", "LocalEngine", "default_workers"]

_POLL_S = 0.5
#: a job estimated to take less than this in one process stays in the job's process: starting
#: worker processes cost 4-6 s on an idle 2-core machine and 25-27 s on a busy one (module
#: docstring), which a minute's job wins back when a core is idle
WORTH_A_POOL_S = 60.0


def _cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # no affinity API (macOS, Windows)
        return max(1, os.cpu_count() or 1)


def default_workers(device: str, estimate_s: float | None = None) -> int:
    """Workers when ``engine.workers`` is left out (see the module docstring).

    Examples
    --------
    >>> default_workers("cpu", estimate_s=5.0)
    1
    """
    if device.startswith("cuda"):
        return max(1, torch.cuda.device_count())
    if estimate_s is not None and estimate_s < WORTH_A_POOL_S:
        return 1  # start-up would cost more than a second process could save
    cores = _cores()
    try:
        idle = max(0.0, cores - os.getloadavg()[0])
    except OSError:  # no load average: assume the cores are ours
        idle = float(cores)
    return max(1, min(cores, 1 + int(idle)))


def _die_with_parent(parent: int) -> None:
    """Have the kernel kill this worker when the job's process dies (Linux), so no orphan
    keeps writing shards into a folder a rerun is resuming."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, int(signal.SIGKILL))  # 1 = PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the job died before the line above took effect
        os._exit(1)


def _worker_main(context: dict[str, Any], device: str, threads: int, parent: int,
                 tasks: Any, results: Any) -> None:
    """A worker process: load the generator once, then write shards until told to stop."""
    _die_with_parent(parent)
    configure_threads(threads)
    try:
        writer = ShardWriter({**context, "device": device})
    except Exception as exc:  # reported as text: the driver raises it
        results.put({"error": {"kind": "synthaug", "type": type(exc).__name__,
                               "message": f"loading the generator failed: {exc}"}})
        return
    while True:
        task = tasks.get()
        if task is None:
            return
        results.put(writer.write(task))


@register_engine("local")
class LocalEngine(Engine):
    """Worker processes on this machine (see the module docstring)."""

    def device(self, requested: str) -> str:
        self._device = resolve_device(requested)
        return self._device.type

    def _devices(self, n: int) -> list[str]:
        kind = getattr(self, "_device", torch.device("cpu"))
        if kind.type != "cuda":
            return ["cpu"] * n
        if self.spec.workers is None:  # one process per GPU
            return [f"cuda:{i}" for i in range(n)]
        return [str(kind)] * n  # as asked: every worker on the chosen GPU

    def workers(self, n_tasks: int) -> int:
        kind = getattr(self, "_device", torch.device("cpu")).type
        if self.spec.workers is not None:
            wanted = self.spec.workers
        else:
            wanted = default_workers(kind, self.estimate_s)
        return max(1, min(wanted, n_tasks))

    def run(self, context: Mapping[str, Any], tasks: Sequence[Mapping[str, Any]],
            done: Done) -> None:
        n = self.workers(len(tasks))
        if not tasks:
            return
        devices = self._devices(n)
        if n == 1:
            self._run_here(context, devices[0], tasks, done)
        else:
            self._run_pool(context, devices, tasks, done)

    def _run_here(self, context: Mapping[str, Any], device: str,
                  tasks: Sequence[Mapping[str, Any]], done: Done) -> None:
        threads = torch.get_num_threads()
        limits = configure_threads(self.spec.threads)
        try:
            writer = ShardWriter({**context, "device": device})
            for task in tasks:
                record = writer.write(task)
                raise_for_error(record, f"shard {task['name']}")
                done(record)
        finally:
            limits.restore_original_limits()
            torch.set_num_threads(threads)

    def _run_pool(self, context: Mapping[str, Any], devices: Sequence[str],
                  tasks: Sequence[Mapping[str, Any]], done: Done) -> None:
        mp = multiprocessing.get_context("spawn")
        todo: Any = mp.Queue()
        results: Any = mp.Queue()
        for task in tasks:
            todo.put(dict(task))
        for _ in devices:
            todo.put(None)
        workers = [mp.Process(target=_worker_main, daemon=True,
                              args=(dict(context), device, self.spec.threads, os.getpid(),
                                    todo, results))
                   for device in devices]
        for process in workers:
            process.start()
        try:
            left = len(tasks)
            while left:
                try:
                    record = results.get(timeout=_POLL_S)
                except queue.Empty:
                    self._check_alive(workers)
                    continue
                raise_for_error(record, f"shard {record.get('name', '?')}")
                done(record)
                left -= 1
        finally:
            for process in workers:  # ours, by their own handles
                if process.is_alive():
                    process.kill()
                process.join()
            todo.close()
            results.close()

    @staticmethod
    def _check_alive(workers: Sequence[Any]) -> None:
        dead = [p for p in workers if p.exitcode not in (None, 0)]
        if not dead and all(p.exitcode is not None for p in workers):
            raise ShardFailedError("every worker process stopped with shards left to write; "
                                   "run the job again: finished shards are kept.")
        if dead:
            codes = ", ".join(str(p.exitcode) for p in dead)
            raise ShardFailedError(
                f"{len(dead)} worker process(es) died (exit code {codes}; -9 is usually the "
                "out-of-memory killer). Lower output.shard_size or engine.workers and run again: "
                "finished shards are kept.")
