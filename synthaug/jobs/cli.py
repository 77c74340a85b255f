"""``synthaug generate job.toml``: run a batch job from the command line.

Exit status: 0 when the job is complete and passed its gate, 1 when its validation gate failed
(the shards are kept and the manifest says ``failed``), 2 for an error (a bad job file, a
folder holding another job, a full disk; the message says what to do).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

__all__ = ["add_generate_parser"]


def add_generate_parser(sub: Any) -> None:
    """Add the ``generate`` subcommand to ``synthaug``'s subparsers."""
    p = sub.add_parser(
        "generate", help="write a large synthetic dataset in shards, from a job file",
        description="Run (or resume) the batch job a TOML file describes: shards with seeds "
        "derived from the job seed, written atomically, checked by SHA-256, validated on a "
        "sample, listed in manifest.json. Killed and run again, it finishes with the same "
        "bytes.")
    p.add_argument("job", help="the job file (.toml)")
    p.add_argument("--replace", action="store_true", default=None,
                   help="replace a folder holding another job (its shards stay until this "
                   "job is complete)")
    p.add_argument("--engine", help="overrides [engine] name: local or ray")
    p.add_argument("--workers", type=int, help="overrides [engine] workers")
    p.add_argument("--check", action="store_true",
                   help="check the job file and say what would be done; write nothing")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="show progress with records/s and ETA (default: when stderr is a "
                   "terminal)")
    p.set_defaults(func=_cmd_generate)


def _cmd_generate(args: argparse.Namespace) -> int:
    from synthaug.jobs.runner import check, run

    if args.check:
        plan = check(args.job, replace=args.replace, engine=args.engine, workers=args.workers)
        print(json.dumps(plan, indent=2))
        return 0
    result = run(args.job, replace=args.replace, engine=args.engine, workers=args.workers,
                 progress=args.progress)
    if result.report is not None:
        print(result.report)
    rate = result.last_run.get("records_per_second")
    print(f"job {result.status}: {result.records:,} records in {result.shards} shards at "
          f"{result.path} ({result.written} shard(s) written now"
          + (f", {rate:,.0f} records/s" if rate and result.written else "") + ")")
    return 0 if result.ok else 1
