"""Draws from network outputs with a local generator: Gumbel-softmax and categorical samples.

torch's own ``gumbel_softmax`` and ``multinomial`` read the global RNG (or sync with the host);
these take a :class:`torch.Generator` and stay on the device.
"""

from __future__ import annotations

import torch

__all__ = ["gumbel_softmax", "sample_categorical"]


def _gumbel(
    shape: torch.Size, like: torch.Tensor, generator: torch.Generator | None
) -> torch.Tensor:
    u = torch.rand(shape, device=like.device, dtype=torch.float32, generator=generator)
    # clamp keeps log(log()) finite at u in {0, 1}
    return -torch.log(-torch.log(u.clamp_(1e-10, 1.0 - 1e-7)))


def gumbel_softmax(
    logits: torch.Tensor, tau: float, generator: torch.Generator | None
) -> torch.Tensor:
    """Soft Gumbel-softmax sample along the last axis, with noise from ``generator``.

    ``torch.nn.functional.gumbel_softmax`` draws from the global RNG, hence this version.

    Examples
    --------
    >>> import torch
    >>> from synthaug.generators.nn import gumbel_softmax
    >>> soft = gumbel_softmax(torch.zeros(2, 3), 0.2, torch.Generator().manual_seed(0))
    >>> torch.allclose(soft.sum(dim=-1), torch.ones(2))
    True
    """
    noise = _gumbel(logits.shape, logits, generator).to(logits.dtype)
    return torch.softmax((logits + noise) / tau, dim=-1)


def sample_categorical(logits: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """Indices drawn from ``softmax(logits)`` along the last axis (no host sync).

    Inverse CDF: one uniform number per row against the cumulative probabilities.  Gumbel-max
    needs a uniform and two logarithms per *level*, which made it the slowest part of decoding
    on a CPU.

    Examples
    --------
    >>> import torch
    >>> from synthaug.generators.nn import sample_categorical
    >>> logits = torch.tensor([[0.0, -torch.inf, 0.0]]).expand(1000, 3)
    >>> picks = sample_categorical(logits, torch.Generator().manual_seed(0))
    >>> sorted(set(picks.tolist()))
    [0, 2]
    """
    cum = torch.softmax(logits.float(), dim=-1).cumsum_(dim=-1)
    u = torch.rand((*cum.shape[:-1], 1), device=cum.device, dtype=cum.dtype, generator=generator)
    # torch.rand can return exactly 0 (about once in 2^24 draws): no cumulative value is below
    # 0, so the pick would be index 0 whatever its probability, a masked level or another
    # column's token.  Above 0, the pick is the first index of positive probability.
    u.clamp_(min=torch.finfo(cum.dtype).tiny)
    # scaling by the total absorbs float round-off that leaves the last cumulative value < 1
    return (cum < u * cum[..., -1:]).sum(dim=-1).clamp_(max=cum.shape[-1] - 1)
