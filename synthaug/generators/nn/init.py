"""Building modules without torch's global RNG: construct on ``meta``, then initialise locally.

``torch.nn`` layers initialise themselves in ``__init__`` from the global RNG.  :func:`build_module`
constructs on the ``meta`` device instead (nothing is allocated, nothing is drawn), materialises
the module on the target device with ``to_empty`` and lets :func:`init_parameters_` fill every
parameter *and every buffer* from an explicit :class:`torch.Generator`.  ``to_empty`` leaves
uninitialised memory behind, so a tensor this module does not know how to fill is an error,
never garbage.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn
from torch.nn.modules.batchnorm import _NormBase
from torch.nn.modules.conv import _ConvNd

from synthaug.exceptions import NotSupportedError

__all__ = ["build_module", "init_parameters_", "maybe_compile"]

#: norms whose affine parameters start at the identity (weight 1, bias 0); ``_NormBase`` covers
#: batch norm and instance norm of any dimension, whose running statistics are reset too
_NORMS: tuple[type[nn.Module], ...] = (
    nn.LayerNorm, nn.GroupNorm, _NormBase, *((nn.RMSNorm,) if hasattr(nn, "RMSNorm") else ()),
)

#: torch's default slope of a fresh ``nn.PReLU``
_PRELU_INIT = 0.25


def build_module(
    factory: Callable[[], nn.Module], device: torch.device, generator: torch.Generator
) -> nn.Module:
    """Build ``factory()`` on ``device`` with parameters and buffers set from ``generator``.

    The module is first built on the ``meta`` device, where construction allocates nothing and
    draws nothing from torch's global RNG, then materialised on ``device`` and initialised by
    :func:`init_parameters_`.  The same factory, device and generator state give the same
    module.

    Raises
    ------
    NotSupportedError
        When the module holds a buffer :func:`init_parameters_` cannot fill (see there).

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> from synthaug.generators.nn import build_module
    >>> net = build_module(lambda: nn.Conv2d(3, 8, 3), torch.device("cpu"),
    ...                    torch.Generator().manual_seed(0))
    >>> net.weight.shape, bool(net.weight.abs().max() <= 1 / (3 * 9) ** 0.5)
    (torch.Size([8, 3, 3, 3]), True)
    """
    with torch.device("meta"):
        module = factory()
    _check_buffers_fillable(module)
    module = module.to_empty(device=device)
    init_parameters_(module, generator)
    return module


def init_parameters_(module: nn.Module, generator: torch.Generator) -> None:
    """(Re)initialise every parameter and buffer of ``module`` from ``generator``.

    * ``Linear`` and convolutions (``Conv1d/2d/3d`` and the transposed ones): torch's defaults,
      a Kaiming-uniform weight and a uniform bias, both in ``+-1/sqrt(fan_in)``;
    * ``Embedding``: ``N(0, 1)``, scaled by the module's ``init_std`` attribute when it has one;
    * norms (``LayerNorm``, ``GroupNorm``, ``RMSNorm``, batch and instance norm of any
      dimension): weight 1, bias 0, and running statistics reset (mean 0, variance 1, count 0);
    * ``PReLU``: slope 0.25 (torch's default);
    * any other module's own parameters, learned scales and start tokens say: ``N(0, 0.02)``,
      or 0 when the name starts with ``log_`` (a log-scale starting at 1);
    * a module's own buffers: filled by its ``reset_buffers(generator)`` method, which a
      module with buffers other than norm statistics must define (a causal mask or a
      positional table is recomputed there; a random projection draws from ``generator``);
    * last, a module's ``post_init_(generator)`` method, when it has one, once every module
      has its default: a start other than the defaults (DiT's zeroed adaLN modulation, a
      zero-initialised output layer) is set there.

    Modules are visited in ``module.modules()`` order, so the draws, and hence the weights, are
    a function of the architecture and the generator's state.

    Raises
    ------
    NotSupportedError
        When a module has buffers of its own and no ``reset_buffers`` to fill them.
    """
    _check_buffers_fillable(module)
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
            elif isinstance(sub, _ConvNd):
                # torch's fan_in: weight.shape[1] (in/groups, or out/groups when transposed)
                # times the kernel size, as nn.init._calculate_fan_in_and_fan_out reads it
                fan_in = sub.weight.shape[1] * math.prod(sub.weight.shape[2:])
                bound = 1.0 / math.sqrt(max(1, fan_in))
                sub.weight.uniform_(-bound, bound, generator=generator)
                if sub.bias is not None:
                    sub.bias.uniform_(-bound, bound, generator=generator)
            elif isinstance(sub, _NORMS):
                weight, bias = getattr(sub, "weight", None), getattr(sub, "bias", None)
                if weight is not None:
                    weight.fill_(1.0)
                if bias is not None:
                    bias.zero_()
                if isinstance(sub, _NormBase):
                    sub.reset_running_stats()  # a no-op without running statistics
            elif isinstance(sub, nn.PReLU):
                sub.weight.fill_(_PRELU_INIT)
            else:
                for name, param in sub.named_parameters(recurse=False):
                    # free-standing parameters (learned scales, start tokens) start small
                    if name.startswith("log_"):
                        param.zero_()
                    else:
                        param.normal_(0.0, 0.02, generator=generator)
            reset = getattr(sub, "reset_buffers", None)
            if callable(reset):
                reset(generator)
        # after every default: a parent's post_init_ may overwrite what its children drew
        for sub in module.modules():
            post = getattr(sub, "post_init_", None)
            if callable(post):
                post(generator)


def _check_buffers_fillable(module: nn.Module) -> None:
    """Refuse, before anything is drawn, a module with buffers nobody knows how to fill."""
    for path, sub in module.named_modules():
        own = [name for name, _ in sub.named_buffers(recurse=False)]
        if own and not isinstance(sub, _NormBase) and not callable(
            getattr(sub, "reset_buffers", None)
        ):
            where = f"{type(sub).__name__} at {path!r}" if path else type(sub).__name__
            raise NotSupportedError(
                f"{where} has buffer(s) {own}, which build_module cannot fill: modules are "
                "built on the meta device, so values set in __init__ are lost. Give the module "
                "a reset_buffers(generator) method that sets them (recompute a mask or a "
                "positional table; draw random values from the generator)."
            )


def maybe_compile(module: nn.Module, enabled: bool) -> nn.Module:
    """``torch.compile(module)`` when ``enabled``; the original module otherwise.

    The compiled wrapper shares parameters with ``module``, so saving ``module.state_dict()``
    stays the same either way.
    """
    if not enabled:
        return module
    compiled: nn.Module = torch.compile(module)  # type: ignore[assignment]
    return compiled
