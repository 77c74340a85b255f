"""A small GPT-style decoder with prefix tokens, and the nucleus (top-p) cut of its logits.

:class:`PrefixGPT` is a stack of the shared :class:`~.transformer.TransformerBlock` over token
and learned position embeddings.  Its vocabulary is ``n_tokens`` tokens it reads and predicts
(word pieces, an end token) plus ``n_prefix`` tokens it only reads: conditions such as a class
label, placed at position 0.  The output layer is the token embedding itself (weight tying
without a second parameter, so the saved state has one tensor per weight).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from synthaug.generators.nn.blocks import SeededDropout
from synthaug.generators.nn.sampling import sample_categorical
from synthaug.generators.nn.transformer import KVCache, TransformerBlock

__all__ = ["PrefixGPT", "draw_next", "top_p_logits"]


class PrefixGPT(nn.Module):
    """Causal decoder over ``n_tokens`` tokens, conditioned by a prefix token at position 0.

    Parameters
    ----------
    n_tokens : int
        Tokens read and predicted; ids ``0 .. n_tokens - 1``.
    n_prefix : int
        Tokens only read (ids ``n_tokens .. n_tokens + n_prefix - 1``).
    max_positions : int
        Longest sequence, prefix included.
    d_model, n_heads, n_layers, dropout
        Sizes of the :class:`TransformerBlock` stack.

    Examples
    --------
    >>> import torch
    >>> from synthaug.generators.nn import build_module
    >>> from synthaug.generators.nn.gpt import PrefixGPT
    >>> net = build_module(lambda: PrefixGPT(10, 2, 6, 8, 2, 1, 0.0), torch.device("cpu"),
    ...                    torch.Generator().manual_seed(0)).eval()
    >>> ids = torch.tensor([[10, 3, 4, 5]])
    >>> full = net.logits(net.hidden(ids))
    >>> cache: list[list[torch.Tensor]] = [[]]
    >>> first = net.hidden(ids[:, :3], caches=cache)
    >>> step = net.logits(net.hidden(ids[:, 3:], start=3, caches=cache))
    >>> full.shape, torch.allclose(full[:, 3], step[:, 0], atol=1e-5)
    (torch.Size([1, 4, 10]), True)
    """

    def __init__(self, n_tokens: int, n_prefix: int, max_positions: int, d_model: int,
                 n_heads: int, n_layers: int, dropout: float) -> None:
        super().__init__()
        self.n_tokens = n_tokens
        self.tok = nn.Embedding(n_tokens + n_prefix, d_model)
        self.pos = nn.Embedding(max_positions, d_model)
        for emb in (self.tok, self.pos):
            emb.init_std = 0.02  # type: ignore[assignment]
        self.drop = SeededDropout(dropout)
        self.blocks = nn.ModuleList(TransformerBlock(d_model, n_heads, dropout)
                                    for _ in range(n_layers))
        self.ln_f = nn.LayerNorm(d_model)

    def hidden(self, ids: torch.Tensor, start: int = 0,
               caches: list[KVCache] | None = None) -> torch.Tensor:
        """Final hidden states of ``ids`` ``(batch, t)`` at positions ``start .. start + t``;
        with ``caches`` (one per block) earlier positions come from the cache."""
        positions = torch.arange(start, start + ids.shape[1], device=ids.device)
        x = self.drop(self.tok(ids) + self.pos(positions))
        for i, block in enumerate(self.blocks):
            x = block(x, None if caches is None else caches[i])
        out: torch.Tensor = self.ln_f(x)
        return out

    def logits(self, h: torch.Tensor) -> torch.Tensor:
        """Scores of the predictable tokens (the prefix tokens are never predicted)."""
        return F.linear(h, self.tok.weight[: self.n_tokens])

    def forward(self, ids: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Summed cross-entropy of ``targets`` (``-100``: ignored) given ``ids``."""
        logits = self.logits(self.hidden(ids))
        return F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]),
                               targets.reshape(-1), ignore_index=-100, reduction="sum")


def top_p_logits(logits: torch.Tensor, top_p: float) -> torch.Tensor:
    """``logits`` with the tokens outside the nucleus set to ``-inf`` (Holtzman et al., 2020).

    The nucleus is the smallest set of most likely tokens whose probability reaches
    ``top_p``; the most likely token is always kept.

    Examples
    --------
    >>> import torch
    >>> from synthaug.generators.nn.gpt import top_p_logits
    >>> logits = torch.log(torch.tensor([[0.5, 0.3, 0.15, 0.05]]))
    >>> torch.isfinite(top_p_logits(logits, 0.75)).tolist()
    [[True, True, False, False]]
    """
    if top_p >= 1.0:
        return logits
    ordered, index = torch.sort(logits, dim=-1, descending=True)
    probs = torch.softmax(ordered.float(), dim=-1)
    # a token is cut when the tokens before it already reach top_p
    cut = (probs.cumsum(dim=-1) - probs) >= top_p
    ordered = ordered.masked_fill(cut, float("-inf"))
    return torch.full_like(logits, float("-inf")).scatter(-1, index, ordered)


def draw_next(logits: torch.Tensor, generator: torch.Generator | None, *, temperature: float,
              top_k: int | None, top_p: float, ban: int | None = None) -> torch.Tensor:
    """One token id per row of ``logits`` ``(batch, vocabulary)``: divided by ``temperature``,
    cut to the ``top_k`` most likely (``None``: all), then to the nucleus ``top_p``, drawn with
    ``generator``; token ``ban`` (an end token at the first step, say) is never drawn.

    ``top_k`` first makes the nucleus cheap: sorting 50 scores per row instead of the whole
    vocabulary (sorting 512 x 2,000 logits per step cost more than a small network on a CPU).

    Examples
    --------
    >>> import torch
    >>> from synthaug.generators.nn.gpt import draw_next
    >>> logits = torch.tensor([[5.0, 4.0, -9.0, -9.0]]).expand(100, 4)
    >>> picks = draw_next(logits, torch.Generator().manual_seed(0), temperature=1.0,
    ...                   top_k=3, top_p=0.99, ban=0)
    >>> sorted(set(picks.tolist()))
    [1]
    """
    scores = logits.float() / temperature
    if ban is not None:
        scores[:, ban] = float("-inf")
    if top_k is None or top_k >= scores.shape[-1]:
        return sample_categorical(top_p_logits(scores, top_p), generator)
    best, where = scores.topk(top_k, dim=-1)
    pick = sample_categorical(top_p_logits(best, top_p), generator)
    return where.gather(1, pick.unsqueeze(1)).squeeze(1)
