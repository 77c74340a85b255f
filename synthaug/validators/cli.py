"""``synthaug validate``: run a validation suite on files and write its report.

Exit status: 0 when the suite's gate passes, 1 when it fails (the reports are still written:
that is when they are needed), 2 on bad input (a missing file, an unknown suite or validator, a
bad suite file, columns that do not match, an output name with a wrong suffix).

The subcommand is added to the ``synthaug`` command by :func:`add_validate_parser`; this module
also runs alone as ``python -m synthaug.validators.cli``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from synthaug.exceptions import InvalidParameterError, SynthaugError
from synthaug.utils.console import echo, run_command
from synthaug.utils.files import atomic_file, check_distinct_outputs, check_output_file

__all__ = ["EXIT_BAD_INPUT", "EXIT_GATE_FAILED", "add_validate_parser", "main", "run_validate"]

EXIT_GATE_FAILED = 1
EXIT_BAD_INPUT = 2


def add_validate_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    """Add the ``validate`` subcommand to ``subparsers`` and return its parser.

    The parser sets ``func`` to :func:`run_validate`, which returns the exit status.

    Examples
    --------
    >>> import argparse
    >>> parser = argparse.ArgumentParser(prog="synthaug")
    >>> _ = add_validate_parser(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(["validate", "real.csv", "synth.csv", "--sensitive", "sex,race"])
    >>> args.suite, args.sensitive
    (None, 'sex,race')
    """
    p = subparsers.add_parser(
        "validate",
        help="score synthetic data with a validation suite; exit 1 when its gate fails",
        description=(
            "Run a validation suite (fidelity, privacy, bias) on synthetic data against the "
            "real data, write the report, and exit 0 when the gate passes, 1 when it fails, "
            "2 on bad input."
        ),
    )
    p.add_argument("real", help="real (training) data: a table (.csv/.tsv/.parquet), images (a "
                   "folder root/<class>/*.png or an .npz), texts (.jsonl, or a table with a "
                   "text column), or a built-in data set (adult, digits, fashion-mnist, "
                   "rotten-tomatoes)")
    p.add_argument("synthetic", help="synthetic data, in a form of the same modality")
    p.add_argument("--holdout", help="real records the generator never saw (privacy checks)")
    p.add_argument("--suite", default=None,
                   help="built-in suite name (default, privacy-strict, fairness, image-default, "
                        "text-default) or a .toml file; default: the data's default suite")
    p.add_argument("--target", help="label column (of a table, or of a table of texts)")
    p.add_argument("--text-column", help="the text column of a table of texts (default: text)")
    p.add_argument("--sensitive", help="sensitive columns, comma-separated: sex,race")
    p.add_argument("--report", help="write the report here: .html, .md or .json by suffix")
    p.add_argument("--json", dest="json_out", metavar="PATH", help="also write the JSON report")
    p.add_argument("--markdown", dest="markdown_out", metavar="PATH",
                   help="also write the Markdown report")
    p.add_argument("--device", help="device for validators that use one: auto, cpu, cuda")
    p.set_defaults(func=run_validate)
    return p


def _outputs(args: argparse.Namespace) -> list[tuple[Path, Any]]:
    """Output files and their formats, checked before any work is done."""
    from synthaug.validators.report import report_format

    outputs: list[tuple[Path, Any]] = []
    if args.report:
        outputs.append((Path(args.report), report_format(args.report)))
    for path, fmt, flag in ((args.json_out, "json", "--json"),
                            (args.markdown_out, "markdown", "--markdown")):
        if not path:
            continue
        if report_format(path) != fmt:
            raise InvalidParameterError(
                f"{flag} {path!r}: the name should end in "
                f"{'.json' if fmt == 'json' else '.md'}."
            )
        outputs.append((Path(path), fmt))
    labels = ["--report"] * bool(args.report) + ["--json"] * bool(args.json_out) \
        + ["--markdown"] * bool(args.markdown_out)
    for label, (path, _) in zip(labels, outputs, strict=True):
        check_output_file(path, what=label)
    check_distinct_outputs(list(zip(labels, (p for p, _ in outputs), strict=True)))
    return outputs


def run_validate(args: argparse.Namespace) -> int:
    """Run ``synthaug validate`` for parsed ``args``; return the exit status (0 or 1).

    Bad input raises a :class:`~synthaug.exceptions.SynthaugError`, which the command turns
    into exit status 2.
    """
    # lazy imports keep `synthaug --help` fast; synthaug.cli imports this module at start-up
    from synthaug.data.sources import read_source, source_modality
    from synthaug.validators.suite import Suite

    outputs = _outputs(args)
    modality = source_modality(args.real, text_column=args.text_column)
    # a bad suite fails before any data is read; no --suite: the modality's default suite
    suite = Suite.from_file(args.suite if args.suite is not None else modality.default_suite)
    options = {"text_column": args.text_column,
               "label_column": args.target if modality.name == "text" else None}
    real = _read(args.real, modality, options, read_source)
    synthetic = _read(args.synthetic, modality, options, read_source)
    holdout = _read(args.holdout, modality, options, read_source) if args.holdout else None
    context = {"device": args.device} if args.device else None
    # a table names its label column; images and texts carry their labels
    report = suite.run(real, synthetic, holdout=holdout,
                       target=args.target if modality.name == "tabular" else None,
                       sensitive=args.sensitive, context=context)
    texts = [(path, report.render(fmt)) for path, fmt in outputs]  # render all, then write
    try:
        with ExitStack() as stack:  # every report complete, or none
            for path, text in texts:
                stack.enter_context(atomic_file(path)).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InvalidParameterError(
            f"could not write the report ({exc}). Check that the folder can be created and "
            "written to."
        ) from None
    echo(report)
    for path, _ in outputs:
        echo(f"wrote {path}")
    return 0 if report.gate else EXIT_GATE_FAILED


def _read(source: str, modality: Any, options: dict[str, Any], read_source: Any) -> Any:
    """Read one input, refusing one of another modality than the real data's."""
    found, data = read_source(source, **options)
    if found.name != modality.name:
        raise InvalidParameterError(
            f"{source!r} holds {found.name} data but the real data are {modality.name}; "
            "compare data of one kind."
        )
    return data


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``validate`` alone, as ``python -m synthaug.validators.cli REAL SYNTH ...``.

    Examples
    --------
    >>> main(["no-such-file.csv", "synth.csv"])
    2
    """
    parser = argparse.ArgumentParser(prog="synthaug")
    sub = parser.add_subparsers(dest="command")
    add_validate_parser(sub)
    args = parser.parse_args(["validate", *(sys.argv[1:] if argv is None else argv)])
    try:
        return run_command(lambda: int(args.func(args)))
    except SynthaugError as exc:
        print(f"synthaug: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
