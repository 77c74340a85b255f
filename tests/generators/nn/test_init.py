"""build_module / init_parameters_: every parameter and buffer is set, from the generator only.

Modules are built on the meta device and materialised with ``to_empty``, which leaves
uninitialised memory; image and text models (convolutions, 2-D batch norm, group norm, masks
and positional tables) must come out as well-defined as the tabular ones.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from synthaug.exceptions import NotSupportedError
from synthaug.generators.nn import TransformerBlock, build_module, init_parameters_

CPU = torch.device("cpu")


class _Positional(nn.Module):
    """A sinusoidal positional table and a causal mask: buffers computed, not learned."""

    def __init__(self, length: int, width: int) -> None:
        super().__init__()
        self.length, self.width = length, width
        self.register_buffer("table", torch.empty(length, width))
        self.register_buffer("mask", torch.empty(length, length, dtype=torch.bool),
                             persistent=False)

    def reset_buffers(self, generator: torch.Generator) -> None:
        pos = torch.arange(self.length, dtype=torch.float32, device=self.table.device)[:, None]
        freq = torch.exp(-math.log(1e4) * torch.arange(0, self.width, 2, device=pos.device)
                         / self.width)
        self.table[:, 0::2] = torch.sin(pos * freq)
        self.table[:, 1::2] = torch.cos(pos * freq)
        self.mask.copy_(torch.ones_like(self.mask).triu_(1))


class _ImageAndText(nn.Module):
    """One of each layer an image or text generator is about to use."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.gn = nn.GroupNorm(2, 8)
        self.up = nn.ConvTranspose2d(8, 4, 4, stride=2, padding=1)
        self.bn3 = nn.BatchNorm3d(4)
        self.conv1 = nn.Conv1d(4, 4, 3, bias=False)
        self.inorm = nn.InstanceNorm2d(4, affine=True, track_running_stats=True)
        self.prelu = nn.PReLU()
        self.pos = _Positional(6, 16)
        self.block = TransformerBlock(16, 2, 0.1)
        self.scale = nn.Parameter(torch.empty(16))


def _build(seed: int) -> nn.Module:
    return build_module(_ImageAndText, CPU, torch.Generator().manual_seed(seed))


def _tensors(module: nn.Module) -> dict[str, torch.Tensor]:
    return {**dict(module.named_parameters()), **dict(module.named_buffers())}


def test_every_parameter_and_buffer_is_finite_and_small() -> None:
    net = _build(0)
    tensors = _tensors(net)
    assert "pos.mask" in tensors and "bn.running_var" in tensors  # buffers are included
    for name, value in tensors.items():
        v = value.double()
        assert torch.isfinite(v).all(), name
        assert v.abs().max() <= 1e4, name  # garbage memory is often ~1e30 or denormal noise


def test_layers_get_torchs_default_initialisation() -> None:
    net = _build(0)
    for norm in (net.bn, net.gn, net.bn3, net.inorm):  # identity affine maps
        assert torch.equal(norm.weight, torch.ones_like(norm.weight))
        assert torch.equal(norm.bias, torch.zeros_like(norm.bias))
    for bn in (net.bn, net.bn3, net.inorm):  # reset running statistics
        assert torch.equal(bn.running_mean, torch.zeros_like(bn.running_mean))
        assert torch.equal(bn.running_var, torch.ones_like(bn.running_var))
        assert int(bn.num_batches_tracked) == 0
    # Kaiming-uniform in +-1/sqrt(fan_in); fan_in is weight.shape[1] x kernel size, for
    # transposed convolutions too (torch's own convention)
    for conv, fan_in in ((net.conv, 3 * 9), (net.up, 4 * 16), (net.conv1, 4 * 3)):
        bound = 1 / math.sqrt(fan_in)
        assert conv.weight.abs().max() <= bound
        assert conv.weight.std() > bound / 4  # drawn, not zeros
        if conv.bias is not None:
            assert conv.bias.abs().max() <= bound
    assert torch.equal(net.prelu.weight, torch.full_like(net.prelu.weight, 0.25))
    assert net.pos.mask.sum() == 6 * 5 // 2 and net.pos.table[0, 1] == 1.0
    assert 0 < net.scale.std() < 0.1  # free-standing parameters start small


def test_same_seed_same_module_other_seed_other_module() -> None:
    one, two, other = _tensors(_build(7)), _tensors(_build(7)), _tensors(_build(8))
    assert one.keys() == two.keys()
    for name in one:
        assert torch.equal(one[name], two[name]), name
    assert not torch.equal(one["conv.weight"], other["conv.weight"])
    assert not torch.equal(one["block.qkv.weight"], other["block.qkv.weight"])


def test_global_rngs_are_untouched() -> None:
    torch_before = torch.random.get_rng_state().clone()
    np_before = np.random.get_state()[1].copy()  # type: ignore[index]
    _build(0)
    assert torch.equal(torch_before, torch.random.get_rng_state())
    assert np.array_equal(np_before, np.random.get_state()[1])  # type: ignore[index]


def test_init_overwrites_whatever_was_in_memory() -> None:
    # to_empty hands back whatever memory held; poison everything and re-initialise
    net = _build(0)
    with torch.no_grad():
        for value in _tensors(net).values():
            value.fill_(1e30 if value.is_floating_point() else 1)
    init_parameters_(net, torch.Generator().manual_seed(0))
    fresh = _tensors(_build(0))
    for name, value in _tensors(net).items():
        assert torch.equal(value, fresh[name]), name


def test_a_buffer_nobody_can_fill_is_refused_before_building() -> None:
    class Opaque(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lin = nn.Linear(2, 2)
            self.register_buffer("table", torch.arange(4.0))  # lost on the meta device

    with pytest.raises(NotSupportedError, match=r"Opaque.*'table'.*reset_buffers"):
        build_module(lambda: nn.Sequential(Opaque()), CPU, torch.Generator().manual_seed(0))


def test_existing_tabular_layers_keep_their_draws() -> None:
    # the GAN, VAE and transformer weights of a seed must not move with the new layer kinds
    gen = torch.Generator().manual_seed(0)
    net = build_module(lambda: nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4),
                                             nn.LayerNorm(4), nn.Embedding(5, 2)), CPU, gen)
    ref = torch.Generator().manual_seed(0)
    w = torch.empty(4, 3).uniform_(-1 / math.sqrt(3), 1 / math.sqrt(3), generator=ref)
    b = torch.empty(4).uniform_(-1 / math.sqrt(3), 1 / math.sqrt(3), generator=ref)
    e = torch.empty(5, 2).normal_(0.0, 1.0, generator=ref)
    assert torch.equal(net[0].weight, w) and torch.equal(net[0].bias, b)
    assert torch.equal(net[3].weight, e)
    assert torch.equal(net[1].running_var, torch.ones(4))
