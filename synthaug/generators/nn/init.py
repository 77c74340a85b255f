"""Building modules without torch's global RNG: construct on ``meta``, then initialise locally.

``torch.nn`` layers initialise themselves in ``__init__`` from the global RNG.  :func:`build_module`
constructs on the ``meta`` device instead (nothing is allocated, nothing is drawn), materialises
the module on the target device with ``to_empty`` and lets :func:`init_parameters_` fill the
parameters from an explicit :class:`torch.Generator`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

__all__ = ["build_module", "init_parameters_", "maybe_compile"]



def build_module(
    factory: Callable[[], nn.Module], device: torch.device, generator: torch.Generator
) -> nn.Module:
    """Build ``factory()`` on ``device`` with parameters drawn from ``generator``.

    The module is first built on the ``meta`` device, where construction allocates nothing and
    draws nothing from torch's global RNG, then materialised on ``device`` and initialised by
    :func:`init_parameters_`.
    """
    with torch.device("meta"):
        module = factory()
    module = module.to_empty(device=device)
    init_parameters_(module, generator)
    return module


def init_parameters_(module: nn.Module, generator: torch.Generator) -> None:
    """(Re)initialise every parameter and buffer of ``module`` from ``generator``.

    Linear layers get torch's default (Kaiming-uniform weight, uniform bias in
    ``+-1/sqrt(fan_in)``), embeddings ``N(0, 1)`` scaled by ``init_std`` when the embedding has
    one, norms ones/zeros; batch-norm running statistics are reset.
    """
    with torch.no_grad():
        for sub in module.modules():
            if isinstance(sub, nn.Linear):
                bound = 1.0 / math.sqrt(max(1, sub.in_features))
                sub.weight.uniform_(-bound, bound, generator=generator)
                if sub.bias is not None:
                    sub.bias.uniform_(-bound, bound, generator=generator)
            elif isinstance(sub, nn.Embedding):
                std = float(getattr(sub, "init_std", 1.0))
                sub.weight.normal_(0.0, std, generator=generator)
            elif isinstance(sub, (nn.LayerNorm, nn.BatchNorm1d)):
                if sub.weight is not None:
                    sub.weight.fill_(1.0)
                if sub.bias is not None:
                    sub.bias.zero_()
                if isinstance(sub, nn.BatchNorm1d):
                    sub.reset_running_stats()
            else:
                for name, param in sub.named_parameters(recurse=False):
                    # free-standing parameters (learned scales, start tokens) start small
                    if name.startswith("log_"):
                        param.zero_()
                    else:
                        param.normal_(0.0, 0.02, generator=generator)


def maybe_compile(module: nn.Module, enabled: bool) -> nn.Module:
    """``torch.compile(module)`` when ``enabled``; the original module otherwise.

    The compiled wrapper shares parameters with ``module``, so saving ``module.state_dict()``
    stays the same either way.
    """
    if not enabled:
        return module
    compiled: nn.Module = torch.compile(module)  # type: ignore[assignment]
    return compiled
