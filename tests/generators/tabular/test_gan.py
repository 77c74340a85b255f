"""The GAN's own pieces (its behaviour as a deep generator: ``test_torch_base.py``)."""

from __future__ import annotations

import torch


def test_gan_sampling_pass_equals_the_concatenating_one() -> None:
    from synthaug.generators.nn import build_module
    from synthaug.generators.tabular.gan import _Generator

    gen = torch.Generator().manual_seed(0)
    net = build_module(lambda: _Generator(12, (16, 8), 5), torch.device("cpu"), gen)
    with torch.no_grad():  # batch norm statistics far from the identity
        for block in net.blocks:
            block.bn.running_mean.uniform_(-1, 1, generator=gen)
            block.bn.running_var.uniform_(0.5, 2, generator=gen)
            block.bn.weight.uniform_(0.5, 1.5, generator=gen)
            block.bn.bias.uniform_(-0.5, 0.5, generator=gen)
    net.eval()
    x = torch.randn(64, 12, generator=gen)
    with torch.inference_mode():
        fast = net(x)
        plain = net.out(net.blocks(x))
    torch.testing.assert_close(fast, plain, rtol=1e-5, atol=1e-5)
