"""The shared transformer block: its key/value cache gives the full pass's outputs."""

from __future__ import annotations

import torch

from synthaug.generators.nn import (
    TransformerBlock,
    build_module,
)


def test_transformer_block_cache_matches_the_full_pass() -> None:
    gen = torch.Generator().manual_seed(0)
    block = build_module(lambda: TransformerBlock(16, 4, 0.0), torch.device("cpu"), gen).eval()
    x = torch.randn(5, 7, 16, generator=gen)
    full = block(x)
    cache: list[torch.Tensor] = []
    with torch.no_grad():
        prefill = block(x[:, :3], cache)  # several positions, a chunk, then one at a time
        chunk = block(x[:, 3:5], cache)
        steps = [block(x[:, t : t + 1], cache) for t in range(5, 7)]
    torch.testing.assert_close(prefill, full[:, :3])
    torch.testing.assert_close(chunk, full[:, 3:5])
    torch.testing.assert_close(torch.cat(steps, dim=1), full[:, 5:])
    assert cache[0].shape == (5, 4, 7, 4)
    # causal: the first position ignores the others
    other = x.clone()
    other[:, 1:] = 0
    torch.testing.assert_close(block(other)[:, 0], full[:, 0])
