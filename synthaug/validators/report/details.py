"""A score's details as they go into a report: JSON-able, per-row arrays summarised.

Validators put whatever explains their value in ``Score.details``, sometimes per-row arrays
(distances for 100,000 rows).  Those would swamp a report and could reveal rows, so
:func:`compact_details` keeps short values as they are and replaces long number lists by their
length and quantiles.  Figure data does not come from here: validators hand it to the report
through their ``figures`` hook (:mod:`synthaug.validators.report.figures`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from synthaug.utils.serialization import to_jsonable

__all__ = ["MAX_DETAIL_ITEMS", "compact_details", "float_array"]

#: lists of numbers in details longer than this are summarised in the JSON, not copied
MAX_DETAIL_ITEMS = 200


def compact_details(details: Mapping[str, Any]) -> dict[str, Any]:
    """JSON-able copy of a score's details, long number lists replaced by a summary.

    Per-row arrays (distances for 100,000 rows, say) would swamp a report and could reveal
    rows; they become their length and quantiles.

    Examples
    --------
    >>> import numpy as np
    >>> compact_details({"d": np.arange(1000.0), "k": 3})["d"]["n"]
    1000
    """
    out = _compact(details)
    return out if isinstance(out, dict) else {"value": out}


def _compact(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _compact(v) for k, v in value.items()}
    if isinstance(value, (np.ndarray, list, tuple, pd.Series)):
        arr = np.asarray(value, dtype=object).ravel() if not isinstance(value, np.ndarray) \
            else value.ravel()
        if len(arr) > MAX_DETAIL_ITEMS:
            numeric = float_array(value)
            if numeric is not None:
                finite = numeric[np.isfinite(numeric)]
                qs = np.quantile(finite, [0.0, 0.25, 0.5, 0.75, 1.0]) if len(finite) else []
                return {
                    "n": len(numeric),
                    "quantiles": dict(zip(["min", "q25", "median", "q75", "max"],
                                          [float(q) for q in qs], strict=False)),
                    "mean": float(finite.mean()) if len(finite) else None,
                    "omitted": "per-item values left out of the report",
                }
            return [_compact(v) for v in list(value)[:MAX_DETAIL_ITEMS]] + [
                f"... {len(arr) - MAX_DETAIL_ITEMS} more left out"
            ]
        if isinstance(value, (np.ndarray, pd.Series)):
            return to_jsonable(np.asarray(value).tolist())
        return [_compact(v) for v in value]
    if isinstance(value, (np.generic, float, int, str, bool)) or value is None:
        return to_jsonable(value)
    return str(value)


def float_array(value: Any) -> np.ndarray | None:
    """``value`` as a 1-D float array when it is a flat sequence of numbers, else None.

    Examples
    --------
    >>> float_array([1, 2.5]).tolist(), float_array(["a"]), float_array([[1.0]])
    ([1.0, 2.5], None, None)
    """
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError):
        return None
    if arr.ndim != 1 or arr.dtype.kind not in "biuf":
        return None
    return arr.astype(np.float64)
