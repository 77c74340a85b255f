"""Exponential moving average of a network's weights (the GAN's sampling generator).

A GAN's generator weights oscillate around a good solution as generator and critic chase each
other; their moving average (Karras et al. 2018, Yazici et al. 2019) samples better images than
the last iterate at no training cost.  The update is one fused ``lerp`` per step on the device.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["ema_decay", "ema_update_"]


def ema_decay(step: int, decay: float) -> float:
    """The decay for 0-based ``step``: ``min(decay, (1 + step) / (10 + step))``.

    Early on the average follows the weights closely (a short training run would otherwise
    average in its random start).

    Examples
    --------
    >>> from synthaug.generators.nn import ema_decay
    >>> round(ema_decay(0, 0.999), 3), ema_decay(100_000, 0.999)
    (0.1, 0.999)
    """
    return min(decay, (1.0 + step) / (10.0 + step))


@torch.no_grad()
def ema_update_(average: nn.Module, source: nn.Module, decay: float) -> None:
    """``average <- decay * average + (1 - decay) * source`` for every parameter; buffers
    are copied (``average`` and ``source`` must have the same architecture).

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> from synthaug.generators.nn import ema_update_
    >>> a, b = nn.Linear(1, 1, bias=False), nn.Linear(1, 1, bias=False)
    >>> _ = nn.init.zeros_(a.weight), nn.init.ones_(b.weight)
    >>> ema_update_(a, b, 0.9)
    >>> round(a.weight.item(), 3)
    0.1
    """
    targets: list[torch.Tensor] = list(average.parameters())
    sources: list[torch.Tensor] = [p.detach() for p in source.parameters()]
    torch._foreach_lerp_(targets, sources, 1.0 - decay)
    for mine, theirs in zip(average.buffers(), source.buffers(), strict=True):
        mine.copy_(theirs)
