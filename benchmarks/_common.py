"""Shared benchmark plumbing: machine facts, peak memory, timing, RESULTS.md sections."""

from __future__ import annotations

import datetime as dt
import os
import platform
import re
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).with_name("RESULTS.md")


def pin_threads(n: int) -> None:
    import torch

    torch.set_num_threads(n)


def machine() -> dict[str, Any]:
    import numpy as np
    import pandas as pd
    import torch

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "python": platform.python_version(),
        "cpu_cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "gpu": gpu or "none",
        "torch": torch.__version__,
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "loadavg": os.getloadavg()[0],
    }


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak_rss() -> bool:
    """Reset this process's peak-RSS counter (Linux: write 5 to /proc/self/clear_refs)."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def current_peak_rss_mib() -> float:
    """Peak RSS since the last :func:`reset_peak_rss` (VmHWM), else since start."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return peak_rss_mib()


def timed(fn: Callable[[], Any], repeats: int = 3) -> tuple[list[float], Any]:
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return times, out


def write_section(name: str, body: str) -> None:
    """Replace (or append) the section ``name`` of RESULTS.md, leaving the others alone."""
    begin, end = f"<!-- begin {name} -->", f"<!-- end {name} -->"
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n\n"
    block = f"{begin}\n{body.rstrip()}\n{end}"
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.S)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else text + "\n" + block + "\n"
    tmp = RESULTS.with_suffix(".tmp")
    tmp.write_text(text)
    os.replace(tmp, RESULTS)


def mean_sd(values: list[float], fmt: str) -> str:
    """``"mean ± sd"`` of the finite ``values`` (one value alone, "—" for none)."""
    import statistics

    values = [v for v in values if v == v]
    if not values:
        return "—"
    if len(values) == 1:
        return fmt.format(values[0])
    return f"{fmt.format(statistics.fmean(values))} ± {fmt.format(statistics.stdev(values))}"


def command_line() -> str:
    return "python " + " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]])
