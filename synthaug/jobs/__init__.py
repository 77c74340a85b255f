"""Batch jobs: large synthetic datasets written in shards, seeded, resumable and validated.

A job file (:mod:`synthaug.jobs.spec`) names a generator, how many records, the output folder
and its shards, conditions or a class mix, a validation suite and an engine.
``synthaug generate job.toml`` or :func:`run` then writes the shards, each with its own seed
derived from the job seed (:mod:`synthaug.jobs.plan`), each through the modality's writer to a
temporary name, fsynced and renamed (:mod:`synthaug.jobs.shards`), records each finished
shard with its SHA-256, runs the suite on a sample of the output and writes ``manifest.json``
(:mod:`synthaug.jobs.store`).  Killed at any moment, even with ``kill -9``, a job run again
finishes with the same bytes as an uninterrupted run; the same spec gives the same bytes on
every engine (``local`` processes or ``ray`` actors) and any number of workers.

The package, one responsibility a module:

* :mod:`~synthaug.jobs.spec`: the typed job file;
* :mod:`~synthaug.jobs.plan`: shards, their names, seeds and class counts;
* :mod:`~synthaug.jobs.model`: the generator (a saved folder, or fitted first) and its identity;
* :mod:`~synthaug.jobs.shards`: drawing and writing one shard (what workers run);
* :mod:`~synthaug.jobs.store`: the job folder: ownership, resume, verification, replacement;
* :mod:`~synthaug.jobs.engines`: ``local`` and ``ray``, registered in ``registry.engines``;
* :mod:`~synthaug.jobs.validation`: the suite on a sample of the shards;
* :mod:`~synthaug.jobs.runner`: the orchestration (:func:`run`, :func:`check`).

Examples
--------
>>> from synthaug.jobs import JobSpec
>>> JobSpec.model_validate({"records": 10, "model": {"path": "m"},
...                         "output": {"path": "out"}}).engine.name
'local'
"""

from synthaug.jobs.engines import Engine, ShardFailedError, get_engine, register_engine
from synthaug.jobs.runner import JobResult, check, run
from synthaug.jobs.spec import JobSpec, LoadedJob, load_job
from synthaug.jobs.store import JobConflictError, ShardChecksumError

__all__ = [
    "Engine",
    "JobConflictError",
    "JobResult",
    "JobSpec",
    "LoadedJob",
    "ShardChecksumError",
    "ShardFailedError",
    "check",
    "get_engine",
    "load_job",
    "register_engine",
    "run",
]
