"""Standard output of the ``synthaug`` commands, whose reader may leave early (``... | head``).

A reader such as ``head`` closes the pipe once it has its lines; every later write then fails
with ``BrokenPipeError``, and Python reports it as a traceback (or, at exit, as "Exception
ignored ... BrokenPipeError").  The work is done by then and the reader has what it wanted, so
the commands stop printing quietly and keep their exit status:

* :func:`echo` prints a line, flushed, so a closed pipe shows at that line and not at exit;
  when the reader has gone it points standard output at ``/dev/null`` and returns.
* :func:`run_command` runs a command function for ``main()``; a ``BrokenPipeError`` from any
  other write (``argparse``'s help, a library that prints) ends it with status 0.

Examples
--------
>>> echo("hello")
hello
>>> run_command(lambda: 3)
3
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

__all__ = ["echo", "run_command", "silence_stdout"]


def silence_stdout() -> None:
    """Point standard output at ``/dev/null``: the interpreter flushes it again at exit and
    would otherwise report the same broken pipe there."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # no real file descriptor (captured output)
        pass


def echo(text: object = "") -> None:
    """Print ``text`` and a newline to standard output, flushed; nothing once the reader left.

    Examples
    --------
    >>> echo(42)
    42
    """
    try:
        print(text, flush=True)
    except BrokenPipeError:
        silence_stdout()


def run_command(command: Callable[[], int]) -> int:
    """Run ``command`` and return its exit status; 0 when it ends because stdout's reader left.

    Examples
    --------
    >>> def gone() -> int:
    ...     raise BrokenPipeError
    >>> run_command(gone)
    0
    """
    try:
        status = command()
        sys.stdout.flush()  # a closed pipe shows here, inside the guard, not at exit
        return status
    except BrokenPipeError:
        silence_stdout()
        return 0
