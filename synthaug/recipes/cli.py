"""``synthaug recipe ...``: run a recipe, check one, list the built-in ones.

Thin over :mod:`synthaug.recipes`; :func:`add_recipe_parser` plugs the subcommand into the
``synthaug`` parser, whose ``main`` calls ``args.func(args)`` and turns a
:class:`~synthaug.exceptions.SynthaugError` into a one-line message and exit status 2.  Output
goes through :func:`synthaug.utils.console.echo`, so ``recipe run --check | head`` ends
quietly.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from synthaug.utils.console import echo

__all__ = ["add_recipe_parser"]


def _cmd_run(args: argparse.Namespace) -> int:
    from synthaug.recipes import check, run

    if args.check:
        plan = check(args.recipe, device=args.device)
        echo(json.dumps(plan, indent=2))
        return 0
    report = run(args.recipe, out_dir=args.out, device=args.device, progress=args.progress,
                 threads=args.threads)
    echo(report)
    files = "results.json, report.md, gain.png, run.json"
    validation = report.info.get("validation")
    kept = ""
    if validation:
        verdict = "passed" if validation.get("gate") else "FAILED"
        echo(f"validation suite {validation.get('suite')!r} on the generator's rows: "
             f"gate {verdict}")
        if validation.get("resumed"):  # validated by an earlier invocation; not rewritten
            kept = f"; kept {', '.join(validation.get('files', []))} from the earlier run"
        else:
            files += ", " + ", ".join(validation.get("files", []))
    echo(f"wrote {files} to {report.info['out_dir']}{kept}")
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    from synthaug.exceptions import InvalidParameterError, MissingDependencyError
    from synthaug.recipes import list_builtin_recipes, load_recipe

    for name in list_builtin_recipes():
        try:
            spec = load_recipe(name).spec
        except (InvalidParameterError, MissingDependencyError) as exc:
            # a recipe whose generator needs an extra (or a newer synthaug) is listed, not fatal
            first = str(exc).splitlines()[-1].strip()
            echo(f"  {name:24s} (cannot run here: {first[:90]})")
            continue
        summary = " ".join(spec.description.split())
        echo(f"  {name:24s} {summary[:100]}")
    return 0


def add_recipe_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``recipe run`` and ``recipe list`` to a ``synthaug`` sub-command group.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        What ``parser.add_subparsers(...)`` returned.

    Returns
    -------
    argparse.ArgumentParser
        The ``recipe`` parser.

    Examples
    --------
    >>> import argparse
    >>> from synthaug.recipes.cli import add_recipe_parser
    >>> parser = argparse.ArgumentParser(prog="synthaug")
    >>> add_recipe_parser(parser.add_subparsers(dest="command", required=True)).prog
    'synthaug recipe'
    >>> args = parser.parse_args(["recipe", "run", "adult-lowdata", "--device", "cpu"])
    >>> args.recipe, args.device, args.func.__name__
    ('adult-lowdata', 'cpu', '_cmd_run')
    """
    p_recipe = subparsers.add_parser(
        "recipe", help="measure the gain of synthetic data on a downstream model")
    sub = p_recipe.add_subparsers(dest="recipe_command", required=True)

    p_run = sub.add_parser(
        "run", help="run a recipe: every arm x every seed, then a gain report",
        description="Train the same downstream model on real data, real + synthetic data, "
                    "synthetic data and a SMOTE baseline, over several seeds, and report the "
                    "gain with intervals. Rerunning with the same --out resumes.")
    p_run.add_argument("recipe", help="a recipe .toml file, or a built-in recipe's name "
                                      "(see `synthaug recipe list`)")
    p_run.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    p_run.add_argument("--out", default=None, metavar="DIR",
                       help="run folder (default: ./synthaug-runs/<name>-<fingerprint>-<device>)")
    p_run.add_argument("--threads", type=int, default=None,
                       help="CPU threads for torch during the run (default: the recipe's "
                            "training.threads, else torch's setting)")
    p_run.add_argument("--check", action="store_true",
                       help="validate the recipe against its data and print the plan; train "
                            "nothing")
    p_run.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                       help="show progress (default: when stderr is a terminal)")
    p_run.set_defaults(func=_cmd_run)

    p_list = sub.add_parser("list", help="list the built-in recipes")
    p_list.set_defaults(func=_cmd_list)
    return p_recipe
