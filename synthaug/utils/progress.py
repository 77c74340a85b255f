"""Progress bars for anything that may take longer than a second."""

from __future__ import annotations

import os
import sys
from typing import Any

from tqdm.auto import tqdm

__all__ = ["progress_bar", "progress_enabled"]


def progress_enabled(progress: bool | None) -> bool:
    """``None`` means: show progress when standard error is a terminal and
    ``SYNTHAUG_PROGRESS`` is not ``0``; ``SYNTHAUG_PROGRESS=1`` forces it on."""
    if progress is not None:
        return bool(progress)
    env = os.environ.get("SYNTHAUG_PROGRESS")
    if env is not None:
        return env not in ("0", "false", "no", "")
    return sys.stderr.isatty()


def progress_bar(total: int | None, desc: str, progress: bool | None = None, **kw: Any) -> tqdm:
    """A tqdm bar writing to stderr; hidden when progress is off.  Use as a context manager."""
    return tqdm(
        total=total,
        desc=desc,
        disable=not progress_enabled(progress),
        file=sys.stderr,
        dynamic_ncols=True,
        mininterval=0.5,
        **kw,
    )
