"""The image building blocks on their own: canvas, spectral norm, DiffAugment, EMA, flow
matching, DiT and the init hook they rely on."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from synthaug.generators.image.torch_base import to_pixels, to_unit
from synthaug.generators.nn import (
    ConvDecoder,
    DiT,
    ProjectionCritic,
    SNConv2d,
    SNLinear,
    build_module,
    canvas_for,
    diff_augment,
    ema_update_,
    flow_target,
    guided_velocity,
    integrate_flow,
    patch_canvas,
    sample_times,
)
from synthaug.generators.nn.flow import time_grid

CPU = torch.device("cpu")


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("size", [(8, 8), (28, 28), (30, 20), (64, 64), (96, 33)])
def test_canvas_pads_and_crops_back(size: tuple[int, int]) -> None:
    h, w = size
    c = canvas_for(h, w)
    assert c.canvas_h >= h and c.canvas_w >= w and max(c.base_h, c.base_w) <= 8
    assert c.canvas_h % (1 << c.levels) == 0
    x = torch.rand(2, 3, h, w, generator=gen())
    padded = c.pad(x)
    assert padded.shape == (2, 3, c.canvas_h, c.canvas_w)
    assert torch.equal(c.crop(padded), x)
    p = patch_canvas(h, w, 4)
    assert torch.equal(p.crop(p.pad(x)), x) and p.canvas_h % 4 == 0


def test_pixels_round_trip_through_unit_range() -> None:
    pixels = torch.arange(256, dtype=torch.uint8).reshape(1, 16, 16, 1)
    unit = to_unit(pixels)
    assert unit.shape == (1, 1, 16, 16) and unit.min() == -1 and unit.max() == 1
    assert torch.equal(to_pixels(unit), pixels)
    assert to_pixels(torch.full((1, 1, 2, 2), 5.0)).unique().tolist() == [255]  # clipped


def test_spectral_norm_bounds_the_largest_singular_value() -> None:
    conv = build_module(lambda: SNConv2d(3, 8, 3, padding=1), CPU, gen())
    with torch.no_grad():
        conv.weight.mul_(10.0)
        for _ in range(30):  # power iterations converge while training
            conv(torch.zeros(1, 3, 4, 4))
    from synthaug.generators.nn.conv import _spectral_weight

    w = _spectral_weight(conv.weight, conv.sn_u.clone(), training=False).flatten(1)
    assert torch.linalg.matrix_norm(w, ord=2).item() == pytest.approx(1.0, abs=1e-3)
    lin = build_module(lambda: SNLinear(5, 4), CPU, gen())
    assert lin(torch.zeros(2, 5)).shape == (2, 4)


def test_modules_with_spectral_norm_build_the_same_from_the_same_seed() -> None:
    def critic() -> nn.Module:
        return ProjectionCritic(1, 3, canvas_for(16, 16), 4)

    a, b = build_module(critic, CPU, gen(1)), build_module(critic, CPU, gen(1))
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        assert ka == kb and torch.equal(va, vb), ka
    c = build_module(critic, CPU, gen(2))
    assert not torch.equal(a.state_dict()["features.blocks.0.conv.sn_u"],
                           c.state_dict()["features.blocks.0.conv.sn_u"])


def test_diff_augment_is_seeded_differentiable_and_keeps_the_shape() -> None:
    x = torch.rand(6, 3, 12, 12, generator=gen()) * 2 - 1
    x.requires_grad_(True)
    a = diff_augment(x, gen(3))
    b = diff_augment(x, gen(3))
    assert a.shape == x.shape and torch.equal(a, b)
    assert not torch.equal(a, diff_augment(x, gen(4)))
    a.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="unknown DiffAugment"):
        diff_augment(x, gen(), ["rotate"])
    global_state = torch.random.get_rng_state()
    diff_augment(x.detach(), gen(5))
    assert torch.equal(torch.random.get_rng_state(), global_state)  # no global RNG


def test_ema_moves_towards_the_trained_weights() -> None:
    avg = build_module(lambda: nn.Linear(3, 2), CPU, gen(0))
    src = build_module(lambda: nn.Linear(3, 2), CPU, gen(1))
    before = avg.weight.detach().clone()
    ema_update_(avg, src, 0.75)
    expected = 0.75 * before + 0.25 * src.weight.detach()
    assert torch.allclose(avg.weight, expected)


def test_flow_matching_target_and_samplers() -> None:
    x0 = torch.randn(4, 1, 4, 4, generator=gen())
    t = sample_times(4, CPU, gen(1))
    xt, v = flow_target(x0, t, gen(2))
    noise = xt + (1 - t.view(-1, 1, 1, 1)) * v  # x_t + (1 - t) v = eps
    assert torch.allclose(xt - t.view(-1, 1, 1, 1) * v, x0, atol=1e-6)  # x_t - t v = x0
    assert noise.shape == x0.shape
    # the exact velocity of a straight path to a fixed target: any sampler lands on it
    target = torch.full((3, 2), 0.5)

    def exact(x: torch.Tensor, tt: torch.Tensor) -> torch.Tensor:
        return (x - target) / tt.clamp_min(1e-6)[:, None]

    start = torch.randn(3, 2, generator=gen(3))
    for sampler in ("euler", "heun"):
        out = integrate_flow(exact, start, steps=3, sampler=sampler)
        assert torch.allclose(out, target, atol=1e-5), sampler
    grid = time_grid(4, 3.0, CPU)
    assert grid[0] == 1 and grid[-1] == 0 and (grid[1:-1] > torch.tensor([0.75, 0.5, 0.25])).all()


def test_guidance_extrapolates_from_the_null_class() -> None:
    def model(x: torch.Tensor, t: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return torch.where(y[:, None] == 9, torch.zeros_like(x), torch.ones_like(x))

    calls = []

    def counted(x: torch.Tensor, t: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        calls.append(len(x))
        return model(x, t, y)

    v = guided_velocity(counted, torch.tensor([2, 3]), 9, 3.0)(torch.zeros(2, 1), torch.ones(2))
    assert v.tolist() == [[3.0], [3.0]] and calls == [4]  # one batch of cond + uncond
    plain = guided_velocity(counted, torch.tensor([2]), 9, 1.0)(torch.zeros(1, 1), torch.ones(1))
    assert plain.tolist() == [[1.0]] and calls[-1] == 1


def test_dit_starts_at_zero_and_keeps_positions_out_of_the_saved_state() -> None:
    net = build_module(lambda: DiT(3, 2, 3, 4, 16, 2, 2, 5), CPU, gen())
    out = net(torch.randn(2, 3, 8, 12, generator=gen(1)), torch.rand(2), torch.tensor([0, 5]))
    assert out.shape == (2, 3, 8, 12) and out.abs().max() == 0  # adaLN-Zero, zeroed output
    assert "positions" not in net.state_dict()
    assert net.positions.abs().sum() > 0  # recomputed by reset_buffers
    assert all(block.modulation.weight.abs().max() == 0 for block in net.blocks)


def test_decoder_is_the_same_in_train_and_eval_mode() -> None:
    # no batch statistics: an EMA copy needs nothing but the weights
    dec = build_module(lambda: ConvDecoder(4, 3, canvas_for(28, 28), 4, 1, 4), CPU, gen())
    z, y = torch.randn(3, 4, generator=gen(1)), torch.tensor([0, 1, 2])
    train = dec.train()(z, y)
    assert torch.equal(train, dec.eval()(z, y))
    assert float(np.abs(train.detach().numpy()).max()) <= 1.0
