"""Decoding an encoded table in torch, on any device: the one decoder of the encoding.

Generators decode their output where they computed it, so sampling ships only the final
``(n, n_columns)`` schema matrix to the host; :meth:`TableEncoder.inverse_matrix` runs the same
code on the CPU.  Softmax spans are sampled from their logits with a local generator (a
generator's output) or decoded by argmax (an encoded array); everything else is arithmetic on
the fitted statistics.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import torch

from synthaug.data.encoding.columns import OTHER, QUANTILE_EPS, EpsPolicy
from synthaug.exceptions import InvalidParameterError
from synthaug.generators.nn.sampling import sample_categorical

if TYPE_CHECKING:
    from synthaug.data.encoding.layout import Span
    from synthaug.data.encoding.table import TableEncoder

__all__ = ["DeviceDecoder", "quantile_values"]


def quantile_values(p: torch.Tensor, grid: torch.Tensor, policy: EpsPolicy = "squeeze"
                    ) -> torch.Tensor:
    """Inverse of :func:`~synthaug.data.encoding.columns.quantile_scores` given ``p = ndtr(z)``:
    piecewise-linear through the grid's evenly spaced probabilities."""
    if policy == "squeeze":
        p = (p - QUANTILE_EPS) / (1 - 2 * QUANTILE_EPS)
    k = grid.shape[0]
    pos = p.clamp(0.0, 1.0) * (k - 1)
    lo = pos.floor().long().clamp_(0, k - 2)
    frac = pos - lo
    return grid[lo] + frac * (grid[lo + 1] - grid[lo])


class DeviceDecoder:
    """A fitted :class:`~synthaug.data.encoding.TableEncoder`'s statistics on ``device``.

    Made by :meth:`TableEncoder.to`.  ``width`` and ``spans`` are the encoder's layout.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> import torch
    >>> from synthaug.data.encoding import TableEncoder
    >>> df = pd.DataFrame({"x": [1.0, 2.0, None, 4.0], "c": ["a", "b", "a", "a"]})
    >>> enc = TableEncoder(missing="onehot").fit(df)
    >>> decoder = enc.to(torch.device("cpu"))
    >>> logits = torch.zeros(3, decoder.width)  # a generator's raw output, say
    >>> decoder.decode(logits, torch.Generator().manual_seed(0)).shape
    torch.Size([3, 2])
    """

    def __init__(self, encoder: TableEncoder, device: torch.device) -> None:
        self.encoder = encoder
        self.device = device
        self.layout = encoder.layout_
        self.width = self.layout.width
        self.spans = self.layout.spans
        self.n_columns = len(encoder.schema_.columns)
        # float64 throughout: nanosecond datetimes need it
        self.tensors = {k: torch.as_tensor(v, dtype=torch.float64, device=device)
                        for k, v in encoder.arrays_.items()}
        self._sample_other = encoder.other == "sample"
        # the missing slot of each nullable discrete column in one-hot layout
        self._missing_slot = {
            j: int(np.flatnonzero(np.isnan(encoder.arrays_[f"pos_to_code.{j}"]))[0])
            for j, span in self.layout.discrete()
            if span.kind == "discrete" and np.isnan(encoder.arrays_[f"pos_to_code.{j}"]).any()
        }

    def decode(
        self,
        features: torch.Tensor,
        generator: torch.Generator | None = None,
        *,
        given: Mapping[int, torch.Tensor] | None = None,
        argmax: bool = False,
        missing_shift: Mapping[int, float] | None = None,
        probe: dict[int, list[torch.Tensor]] | None = None,
    ) -> torch.Tensor:
        """Turn ``(n, width)`` features into an ``(n, n_columns)`` float64 schema matrix.

        Parameters
        ----------
        features : Tensor
            Final values in continuous spans; logits (or one-hot rows) in softmax spans; a
            slot number in code spans; a 0/1 flag (missing when above 0.5) in indicator spans.
        generator : torch.Generator, optional
            Draws each softmax span from its softmax (unless ``argmax``) and "other" levels by
            training frequency.  Needed whenever something is drawn: decoding never reads
            torch's global RNG.
        given : mapping of int to Tensor, optional
            Slot indices already decided per discrete column (conditions); they replace the
            draw for those columns.
        argmax : bool
            Decode softmax spans by argmax instead of sampling.
        missing_shift : mapping of int to float, optional
            Added to the logit of the missing slot of these columns (a discrete column's
            missing level, a continuous column's ``[observed, missing]`` pair) before the
            draw: how a generator calibrates its missing-value shares to the data's
            (:meth:`~synthaug.generators.tabular.torch_base.TorchTabularGenerator._calibrate_missing`).
        probe : dict, optional
            When given, each nullable column's per-row probability of missing (after the
            shift) is appended to ``probe[column]``: what the calibration measures.

        Returns
        -------
        Tensor
            NaN for missing values; identifier and empty columns are NaN too (the schema
            regenerates them).
        """
        if generator is None and (not argmax or self.draws_other):
            raise InvalidParameterError(
                "decoding draws random values here; pass a torch.Generator (synthaug never "
                "draws from torch's global RNG)."
            )
        n = features.shape[0]
        t = self.tensors
        out = torch.full((n, self.n_columns), math.nan, dtype=torch.float64,
                         device=features.device)
        given = given or {}
        shifts = missing_shift or {}
        enc = self.encoder

        def pick(span: Span, j: int | None = None, slot: int | None = None) -> torch.Tensor:
            """Draw (or argmax) a softmax span; ``slot`` is column ``j``'s missing slot."""
            block = features[:, span.start : span.end]
            if slot is not None and j is not None:
                if shifts.get(j):
                    block = block.clone()
                    block[:, slot] += shifts[j]
                if probe is not None:
                    probe.setdefault(j, []).append(torch.softmax(block.double(), dim=1)[:, slot])
            if argmax:
                return block.argmax(dim=1)
            return sample_categorical(block, generator)

        for j, spans in self.layout.groups():
            first = spans[0]
            if first.kind in ("discrete", "code"):
                pos = given.get(j)
                if pos is None:
                    if first.kind == "code":
                        top = t[f"pos_to_code.{j}"].shape[0] - 1
                        pos = features[:, first.start].double().round().clamp(0, top).long()
                    else:
                        pos = pick(first, j, self._missing_slot.get(j))
                code = t[f"pos_to_code.{j}"][pos]
                if self._sample_other and f"grouped.{j}" in t:
                    u = torch.rand(n, generator=generator, device=features.device,
                                   dtype=torch.float64)
                    cum = t[f"grouped_cum.{j}"]
                    idx = torch.searchsorted(cum, u).clamp_(max=len(cum) - 1)
                    code = torch.where(code == OTHER, t[f"grouped.{j}"][idx], code)
                out[:, j] = code
                continue
            z = features[:, first.start].double()
            if enc.numerical == "quantile":
                x = quantile_values(torch.special.ndtr(z), t[f"grid.{j}"], enc.quantile_eps_)
            elif enc.numerical == "standard":
                x = z * t[f"scale.{j}"][0] + t[f"center.{j}"][0]
            else:
                mode = pick(spans[1])
                x = z.clamp(-1.0, 1.0) * 4 * t[f"stds.{j}"][mode] + t[f"means.{j}"][mode]
            if f"resolution.{j}" in t:
                # snap datetimes to the fitted data's unit; also removes float round-off near 1e18
                unit = t[f"resolution.{j}"][0]
                x = torch.round(x / unit) * unit
            last = spans[-1]
            if last.kind == "missing":
                # a two-way one-hot [observed, missing] is a softmax; an indicator a threshold
                is_missing = (pick(last, j, 1) == 1 if last.width > 1
                              else features[:, last.start] > 0.5)
                x = torch.where(is_missing, torch.full_like(x, math.nan), x)
            out[:, j] = x
        return out

    @property
    def draws_other(self) -> bool:
        """Whether decoding draws "other" levels (so needs a generator even with argmax)."""
        return self._sample_other and any(k.startswith("grouped.") for k in self.tensors)
