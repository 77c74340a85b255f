"""The ``synthaug`` command: thin over the library, nothing the library cannot do."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from synthaug import registry
from synthaug._version import __version__
from synthaug.data.modality import Modality
from synthaug.data.sources import read_source, source_modality
from synthaug.exceptions import InvalidParameterError, SynthaugError
from synthaug.jobs.cli import add_generate_parser
from synthaug.recipes.cli import add_recipe_parser
from synthaug.utils.console import echo, run_command
from synthaug.utils.files import atomic_file, check_distinct_outputs, check_output_file
from synthaug.validators.cli import add_validate_parser

__all__ = ["main"]

#: output names each modality writes (a folder has no suffix)
_OUT_SUFFIXES = {"tabular": (".parquet", ".csv"), "image": ("", ".npz"),
                 "text": (".jsonl", ".csv", ".parquet")}


def _check_outputs(args: argparse.Namespace, modality: Modality) -> None:
    """Every output path checked before any work: usable, and no two the same file."""
    suffix = Path(args.out).suffix.lower()
    allowed = _OUT_SUFFIXES.get(modality.name, ())
    if suffix not in allowed:
        names = " or ".join("a folder" if s == "" else s for s in allowed)
        raise InvalidParameterError(f"--out {args.out!r}: {modality.name} data are written to "
                                    f"{names}.")
    if suffix:  # a folder output is checked by the modality's writer (never a foreign folder)
        check_output_file(args.out, what="--out")
    if args.report:
        check_output_file(args.report, what="--report")
    check_distinct_outputs([("--out", args.out), ("--report", args.report)])


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

    echo("generators:")
    for name in registry.generators.names():
        gen = registry.generators.get(name)
        echo(f"  {name:24s} [{gen.modality}] {first_line(gen)}")
    echo("validators:")
    for name in registry.validators.names():
        val = registry.validators.get(name)
        echo(f"  {name:24s} [{', '.join(sorted(val.modalities))}] {first_line(val)}")
    missing = registry.generators.unavailable() | registry.validators.unavailable()
    for module, why in sorted(missing.items()):
        echo(f"not available: {module} ({why})")
    return 0


def _cmd_augment(args: argparse.Namespace) -> int:
    from synthaug.api import augment_to_file

    modality = source_modality(args.input, text_column=args.text_column)
    _check_outputs(args, modality)  # before any work
    _, data = read_source(args.input, text_column=args.text_column,
                          label_column=args.target if modality.name == "text" else None)
    with ExitStack() as stack:
        # the report's temporary file first, renamed right after the data: both, or neither
        report_tmp = (stack.enter_context(atomic_file(Path(args.report), what="--report"))
                      if args.report else None)
        # streamed to the file in bounded batches (a table), so any --n runs in flat memory
        report = augment_to_file(
            data,
            args.out,
            target=args.target if modality.name == "tabular" else None,
            generator=args.generator,
            n=args.n,
            ratio=args.ratio,
            conditions=_parse_conditions(args.condition),
            balance=args.balance,
            synthetic_only=args.synthetic_only,
            random_state=args.seed,
            device=args.device,
            progress=None if args.progress is None else args.progress,
        )
        if report_tmp is not None:
            try:
                report_tmp.write_text(report.to_json(indent=2))
            except OSError as exc:
                raise InvalidParameterError(
                    f"could not write --report {args.report!r}: {exc}. Check that the folder "
                    "can be written to."
                ) from None
    written = report.n_synthetic + (0 if args.synthetic_only else report.n_real)
    echo(report)
    echo(f"wrote {written} {modality.record}s to {args.out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="synthaug", description="Synthetic data that makes models better."
    )
    parser.add_argument("--version", action="version", version=f"synthaug {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p_list = sub.add_parser("list", help="list the registered generators and validators")
    p_list.set_defaults(func=_cmd_list)

    p_aug = sub.add_parser("augment", help="add synthetic records to a table, images or texts")
    p_aug.add_argument("input", help="a table (.csv/.parquet), images (a folder root/<class>/"
                       "*.png, .npz), texts (.jsonl, a table with a text column) or a built-in "
                       "data set (adult, digits, fashion-mnist, rotten-tomatoes)")
    p_aug.add_argument("--out", required=True, help="where to write: .parquet or .csv for "
                       "tables, a folder or .npz for images, .jsonl for texts")
    p_aug.add_argument("--target", help="label column of a table (needed for --balance), or "
                       "of a text file")
    p_aug.add_argument("--text-column", help="the text column of a table of texts "
                       "(default: text)")
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
    add_generate_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        # a reader that leaves early (`synthaug list | head`) ends the output quietly
        return run_command(lambda: int(args.func(args)))
    except SynthaugError as exc:
        print(f"synthaug: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
