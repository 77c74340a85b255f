"""How much room there is, and how much a container takes: sizes checked before work starts.

Entry points that hold their whole output in memory (:func:`synthaug.augment`) or write it to
disk (:func:`synthaug.api.augment_to_file`) estimate what the output will take and compare it
with what the machine has, so an impossible request is refused up front, with the figures,
instead of growing until the system kills the process or the disk fills.

Examples
--------
>>> import numpy as np
>>> container_nbytes(np.zeros((10, 4)))
320
>>> available_memory_bytes() is None or available_memory_bytes() > 0
True
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["available_memory_bytes", "container_nbytes", "format_bytes"]

#: object arrays are sized from this many of their elements (``sys.getsizeof`` is per object)
_OBJECT_SAMPLE = 2_000


def container_nbytes(data: Any) -> int:
    """Bytes a data container holds: frames (deep), arrays, and dataclass containers of them.

    Object arrays (texts) are sized from a sample of their elements.

    Examples
    --------
    >>> import pandas as pd
    >>> container_nbytes(pd.DataFrame({"x": [1.0, 2.0]})) >= 16
    True
    """
    if isinstance(data, pd.DataFrame | pd.Series):
        usage = data.memory_usage(index=True, deep=True)
        return int(usage.sum() if isinstance(usage, pd.Series) else usage)
    if isinstance(data, np.ndarray):
        if data.dtype != object or data.size == 0:
            return int(data.nbytes)
        flat = data.ravel()
        sample = flat[: _OBJECT_SAMPLE]
        per_item = sum(sys.getsizeof(v) for v in sample) / len(sample)
        return int(data.nbytes + per_item * flat.size)
    if isinstance(data, tuple | list):
        return sum(container_nbytes(part) for part in data)
    if dataclasses.is_dataclass(data) and not isinstance(data, type):
        return sum(container_nbytes(getattr(data, f.name)) for f in dataclasses.fields(data))
    return sys.getsizeof(data)


def _read_int(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def available_memory_bytes() -> int | None:
    """Memory a new allocation can still get, in bytes; ``None`` when it cannot be told.

    The kernel's ``MemAvailable`` (what can be had without swapping), lowered to what is left
    under a cgroup (container) limit when there is one.
    """
    found: list[int] = []
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                found.append(int(line.split()[1]) * 1024)
                break
    except (OSError, ValueError, IndexError):
        pass
    if not found and hasattr(os, "sysconf"):
        with contextlib.suppress(ValueError, OSError):
            found.append(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    cgroup = Path("/sys/fs/cgroup")
    limit, used = _read_int(cgroup / "memory.max"), _read_int(cgroup / "memory.current")
    if limit is not None and used is not None:
        found.append(max(limit - used, 0))
    return min(found) if found else None


def format_bytes(n: float) -> str:
    """``n`` bytes in the largest unit that keeps it above 1 (``"3.2 GB"``).

    Examples
    --------
    >>> format_bytes(3_200_000_000), format_bytes(512)
    ('3.2 GB', '512 B')
    """
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{int(n)} B"
