"""The ``synthaug`` command: thin over the library, nothing the library cannot do."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pandas as pd

from synthaug import registry
from synthaug._version import __version__
from synthaug.data.io import read_table
from synthaug.exceptions import InvalidParameterError, SynthaugError
from synthaug.recipes.cli import add_recipe_parser
from synthaug.utils.files import atomic_file, check_distinct_outputs, check_output_file
from synthaug.validators.cli import add_validate_parser

__all__ = ["main"]

def _check_out(path: str) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in (".parquet", ".csv"):
        raise InvalidParameterError(f"--out {path!r}: use a .parquet or .csv file name.")
    check_output_file(path, what="--out")
    return suffix


def _check_outputs(args: argparse.Namespace) -> None:
    """Every output path checked before any work: usable, and no two the same file."""
    _check_out(args.out)
    if args.report:
        check_output_file(args.report, what="--report")
    check_distinct_outputs([("--out", args.out), ("--report", args.report)])


def _write_outputs(frame: pd.DataFrame, path: str, report_json: str | None,
                   report_path: str | None) -> None:
    """Write the table (and the report): both files complete, or neither."""
    suffix = _check_out(path)
    try:
        with ExitStack() as stack:  # no half-written output if anything fails
            tmp = stack.enter_context(atomic_file(Path(path)))
            if suffix == ".parquet":
                frame.to_parquet(tmp, index=False)
            else:
                frame.to_csv(tmp, index=False)
            if report_path and report_json is not None:
                stack.enter_context(atomic_file(Path(report_path))).write_text(report_json)
    except OSError as exc:
        raise InvalidParameterError(
            f"could not write {path!r}{f' and {report_path!r}' if report_path else ''}: {exc}. "
            "Check that the folder can be created and written to."
        ) from None


def _parse_conditions(items: Sequence[str] | None) -> dict[str, Any] | None:
    if not items:
        return None
    out: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise InvalidParameterError(f"--condition {item!r}: write it as COLUMN=VALUE.")
        key, value = item.split("=", 1)
        try:
            out[key] = json.loads(value)  # numbers and true/false; anything else stays text
        except json.JSONDecodeError:
            out[key] = value
    return out


def _cmd_list(args: argparse.Namespace) -> int:
    def first_line(obj: object) -> str:
        doc = (getattr(obj, "__doc__", None) or "").strip()
        return doc.splitlines()[0] if doc else ""

    print("generators:")
    for name in registry.generators.names():
        gen = registry.generators.get(name)
        print(f"  {name:24s} [{gen.modality}] {first_line(gen)}")
    print("validators:")
    for name in registry.validators.names():
        val = registry.validators.get(name)
        print(f"  {name:24s} [{', '.join(sorted(val.modalities))}] {first_line(val)}")
    missing = registry.generators.unavailable() | registry.validators.unavailable()
    for module, why in sorted(missing.items()):
        print(f"not available: {module} ({why})")
    return 0


def _cmd_augment(args: argparse.Namespace) -> int:
    from synthaug.api import augment

    _check_outputs(args)  # before any work
    data = read_table(args.input)
    out, report = augment(
        data,
        target=args.target,
        generator=args.generator,
        n=args.n,
        ratio=args.ratio,
        conditions=_parse_conditions(args.condition),
        balance=args.balance,
        random_state=args.seed,
        device=args.device,
        progress=None if args.progress is None else args.progress,
    )
    if args.synthetic_only:
        out = out.iloc[report.n_real:].reset_index(drop=True)
    _write_outputs(out, args.out, report.to_json(indent=2), args.report)
    print(report)
    print(f"wrote {len(out)} rows to {args.out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="synthaug", description="Synthetic data that makes models better."
    )
    parser.add_argument("--version", action="version", version=f"synthaug {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p_list = sub.add_parser("list", help="list the registered generators and validators")
    p_list.set_defaults(func=_cmd_list)

    p_aug = sub.add_parser("augment", help="append synthetic rows to a table")
    p_aug.add_argument("input", help="a .csv/.parquet file, or a built-in data set: adult")
    p_aug.add_argument("--out", required=True, help="where to write (.parquet or .csv)")
    p_aug.add_argument("--target", help="label column (needed for --balance)")
    p_aug.add_argument("--generator", default="auto", help="registry name (see `synthaug list`)")
    how = p_aug.add_mutually_exclusive_group()
    how.add_argument("--n", type=int, help="number of synthetic rows")
    how.add_argument("--ratio", type=float, help="synthetic rows as a multiple of the real rows")
    how.add_argument("--balance", action="store_true", help="top minority classes up to parity")
    p_aug.add_argument("--condition", action="append", metavar="COLUMN=VALUE",
                       help="exact value every synthetic row has (repeatable)")
    p_aug.add_argument("--seed", type=int, default=None, help="random seed (repeatable runs)")
    p_aug.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    p_aug.add_argument("--report", help="also write the report as JSON here")
    p_aug.add_argument("--synthetic-only", action="store_true",
                       help="write only the synthetic rows (for example to validate them)")
    p_aug.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                       help="show progress (default: when stderr is a terminal)")
    p_aug.set_defaults(func=_cmd_augment)

    add_validate_parser(sub)
    add_recipe_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except SynthaugError as exc:
        print(f"synthaug: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
