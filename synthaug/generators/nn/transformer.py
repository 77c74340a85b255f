"""Attention and the pre-norm transformer block, with a key/value cache for sampling.

Modality-neutral: a tabular model feeds it one token per column, a text model one per word
piece, an image model one per patch.  The block owns no positional information; a model adds
the position (or, for tables, the column to predict) to its input embeddings.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from synthaug.generators.nn.blocks import SeededDropout

__all__ = ["KVCache", "TransformerBlock", "attention"]

#: one block's key/value cache: empty before the first call, ``[keys, values]`` after, each
#: ``(batch, heads, positions so far, head width)``; the block appends to it in place
KVCache = list[torch.Tensor]


def attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, causal: bool) -> torch.Tensor:
    """Plain softmax attention over the last two axes of ``(..., positions, width)`` tensors.

    The fused kernels of ``F.scaled_dot_product_attention`` have a non-deterministic backward
    pass on CUDA, which ``random_state`` reproducibility on a GPU cannot have; for the short
    sequences synthaug models (a few dozen tokens) the plain version costs little.  Scores are
    softmaxed in float32, so bf16 autocast does not lose the small weights.

    Examples
    --------
    >>> import torch
    >>> from synthaug.generators.nn import attention
    >>> q = k = v = torch.ones(1, 2, 3, 4)
    >>> attention(q, k, v, causal=True).shape
    torch.Size([1, 2, 3, 4])
    """
    scores = (q @ k.transpose(-2, -1)) * (q.shape[-1] ** -0.5)
    if causal:
        t = q.shape[-2]
        # the queries are the last t positions of the keys (all of them without a cache)
        future = torch.ones((t, k.shape[-2]), dtype=torch.bool, device=q.device).triu_(
            1 + k.shape[-2] - t
        )
        scores = scores.masked_fill(future, float("-inf"))
    return torch.softmax(scores.float(), dim=-1).to(v.dtype) @ v


class TransformerBlock(nn.Module):
    """Pre-norm transformer block: causal self-attention, then a GELU feed-forward layer.

    ``forward(x, cache)`` takes ``(batch, positions, d_model)``.  With ``cache`` (a
    :data:`KVCache`, empty at first) the block keeps the keys and values it has seen, so
    autoregressive sampling feeds one new position per call and attends to all earlier ones.

    Parameters
    ----------
    d_model : int
        Width of the tokens.
    n_heads : int
        Attention heads; must divide ``d_model``.
    dropout : float
        :class:`SeededDropout` rate on the attention and feed-forward outputs.

    Examples
    --------
    >>> import torch
    >>> from synthaug.generators.nn import TransformerBlock, build_module
    >>> block = build_module(lambda: TransformerBlock(8, 2, 0.0), torch.device("cpu"),
    ...                      torch.Generator().manual_seed(0)).eval()
    >>> x = torch.randn(3, 5, 8, generator=torch.Generator().manual_seed(1))
    >>> cache: list[torch.Tensor] = []
    >>> steps = [block(x[:, :4], cache), block(x[:, 4:], cache)]
    >>> torch.allclose(block(x)[:, 4], steps[1][:, 0], atol=1e-6)
    True
    """

    def __init__(self, d_model: int, n_heads: int, dropout: float) -> None:
        super().__init__()
        self.n_heads = n_heads
        # attribute names are the saved state's keys (``blocks.0.qkv.weight``): keep them
        self.ln1 = nn.LayerNorm(d_model)
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)
        self.ln2 = nn.LayerNorm(d_model)
        self.ff1 = nn.Linear(d_model, 4 * d_model)
        self.ff2 = nn.Linear(4 * d_model, d_model)
        self.drop = SeededDropout(dropout)

    def forward(self, x: torch.Tensor, cache: KVCache | None = None) -> torch.Tensor:
        b, t, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(d, dim=2)
        q, k, v = (z.reshape(b, t, self.n_heads, d // self.n_heads).transpose(1, 2)
                   for z in (q, k, v))
        causal = True
        if cache is not None:
            if cache:
                k = torch.cat([cache[0], k], dim=2)
                v = torch.cat([cache[1], v], dim=2)
                causal = t > 1  # one new query attends to every cached key
            cache[:] = [k, v]
        attn = attention(q, k, v, causal)
        x = x + self.drop(self.proj(attn.transpose(1, 2).reshape(b, t, d)))
        return x + self.drop(self.ff2(F.gelu(self.ff1(self.ln2(x)))))
