"""Reading a :class:`~synthaug.data.encoding.TableEncoder` state, today's and older ones.

Three formats exist, and all of them load:

* **2** (today): ``{"format": 2, "params", "spans", "quantile_eps", ["schema"]}`` and arrays
  keyed ``<statistic>.<column index>``;
* **1**: synthaug 0.1's ``data.encoders.TableEncoder`` (flat ``center``/``scale``/
  ``resolution`` arrays over all columns, spans by column name, no slot counts);
* **0** (no ``"format"`` key): the span codec that GAN and VAE model folders embedded
  before the encodings were merged (spans by column index and *role*; quantile probabilities
  clipped rather than squeezed, which the state remembers so old models decode as they did).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from synthaug.data.encoding.columns import EpsPolicy
from synthaug.data.schema import TableSchema
from synthaug.exceptions import ModelFormatError

__all__ = ["STATE_FORMAT", "read_state"]

#: version of the dict written by :meth:`TableEncoder.to_state`
STATE_FORMAT = 2

#: the span codec's roles, as span kinds
_ROLES = {"value": "continuous", "mode": "mode", "levels": "discrete", "missing": "missing"}

State = tuple[dict[str, Any], TableSchema, list[dict[str, Any]], dict[str, np.ndarray], EpsPolicy]


def read_state(state: Mapping[str, Any], arrays: Mapping[str, Any],
               schema: TableSchema | None) -> State:
    """``(params, schema, spans, arrays, quantile_eps)`` of a state in any known format.

    ``schema`` is needed when the state does not hold one (format 0, and format 2 written with
    ``include_schema=False``).

    Raises
    ------
    ModelFormatError
        For a newer format, or a state whose parts are missing or do not fit together.
    """
    fmt = state.get("format")
    try:
        plain = {k: _numpy(v) for k, v in arrays.items()}
        if fmt is None:
            return _format_0(state, plain, _need(schema))
        if fmt == 1:
            return _format_1(state, plain)
        if fmt == STATE_FORMAT:
            if "schema" in state:
                schema = TableSchema.from_dict(state["schema"])
            eps = state.get("quantile_eps", "squeeze")
            if eps not in ("squeeze", "clip"):
                raise ModelFormatError(f"encoder state: unknown quantile_eps {eps!r}.")
            return (dict(state["params"]), _need(schema), [dict(s) for s in state["spans"]],
                    _typed(plain), eps)
    except ModelFormatError:
        raise
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise ModelFormatError(
            f"encoder state is damaged or incomplete ({exc!r}); refit the encoder."
        ) from None
    raise ModelFormatError(
        f"encoder state has format {fmt!r}; this synthaug reads formats 0 to {STATE_FORMAT}. "
        "Upgrade synthaug or refit the encoder."
    )


def _format_0(meta: Mapping[str, Any], arrays: dict[str, np.ndarray], schema: TableSchema
              ) -> State:
    params = {
        "numerical": meta["numerical"],
        "missing": "onehot",
        "discrete": "onehot",
        "other": "sample",
        "handle_unknown": "impute",
        "max_categories": meta["max_categories"],
        "n_quantiles": int(meta["n_quantiles"]),
        "n_modes": int(meta["n_modes"]),
        "dtype": "float32",
    }
    spans = [{"column": schema.columns[int(s["column"])].name, "kind": _ROLES[s["role"]],
              "start": int(s["start"]), "end": int(s["end"])} for s in meta["spans"]]
    return params, schema, spans, _typed(arrays), "clip"


def _format_1(state: Mapping[str, Any], arrays: dict[str, np.ndarray]) -> State:
    schema = TableSchema.from_dict(state["schema"])
    params = {**state["params"], "missing": "indicator", "discrete": "onehot",
              "other": "most_frequent", "handle_unknown": "error"}
    out: dict[str, np.ndarray] = {}
    spans = [dict(s) for s in state["spans"]]
    encoded = {s["column"] for s in spans}
    for j, col in enumerate(schema.columns):
        if col.name not in encoded:
            continue
        if col.kind.is_continuous:
            if params["numerical"] == "standard":
                out[f"center.{j}"] = arrays["center"][j : j + 1].astype(np.float64)
                out[f"scale.{j}"] = arrays["scale"][j : j + 1].astype(np.float64)
            else:
                out[f"grid.{j}"] = arrays[f"grid.{j}"].astype(np.float64)
            if not np.isnan(arrays["resolution"][j]):
                out[f"resolution.{j}"] = arrays["resolution"][j : j + 1].astype(np.float64)
            continue
        to_pos = arrays[f"code_to_pos.{j}"].astype(np.int64)
        to_code = arrays[f"pos_to_code.{j}"].astype(np.float64)
        out |= {f"code_to_pos.{j}": to_pos, f"pos_to_code.{j}": to_code}
        # format 1 kept no counts: the slot several levels share is "other"; its decoded level
        # (the most frequent of them) goes first
        slots = np.bincount(to_pos[:-1][to_pos[:-1] >= 0], minlength=len(to_code))
        shared = np.flatnonzero(slots > 1)
        if len(shared):
            codes = np.flatnonzero(to_pos[:-1] == shared[0])
            head = int(to_code[shared[0]])
            grouped = np.concatenate([[head], codes[codes != head]])
            out[f"grouped.{j}"] = grouped.astype(np.float64)
            out[f"grouped_cum.{j}"] = np.arange(1, len(grouped) + 1) / len(grouped)
    return params, schema, spans, out, "squeeze"


def _typed(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {k: v.astype(np.int64) if k.startswith("code_to_pos.") else v.astype(np.float64)
            for k, v in arrays.items()}


def _numpy(value: Any) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    return np.asarray(value)


def _need(schema: TableSchema | None) -> TableSchema:
    if schema is None:
        raise ModelFormatError("encoder state holds no schema; pass the one it was fitted on.")
    return schema
