"""A class-conditional diffusion transformer (DiT, Peebles & Xie 2023) over image patches.

The network only: what it predicts (a flow-matching velocity) and how samples are drawn live
in :mod:`.flow`, the training loop in :mod:`.loop`.  An image canvas is cut into ``p x p``
patches, each patch a token with a fixed 2-D sine-cosine position; the time and the class
(one extra "null" class for classifier-free guidance) are embedded, added, and steer every
block through adaLN-Zero: each block's layer norms are scaled and shifted, and its residual
branches gated, by a linear map of that embedding that starts at zero, so every block starts
as the identity and the untrained network predicts zero.  Attention is bidirectional
(:func:`~synthaug.generators.nn.attention` with ``causal=False``).

Two additions from U-ViT (Bao et al. 2023), which found both to matter for small diffusion
transformers trained briefly: long skip connections (the output of block ``i`` of the first
half joins the input of block ``n - 1 - i``, concatenated and projected), and a 3x3
convolution over the reassembled image, which smooths the seams between patches that a
per-patch linear output leaves.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from synthaug.generators.nn.transformer import attention

__all__ = ["DiT", "DiTBlock", "sincos_positions", "time_embedding"]

#: width of the sinusoidal time features fed to the time MLP (DiT's 256)
TIME_FEATURES = 256


def time_embedding(t: torch.Tensor, width: int = TIME_FEATURES) -> torch.Tensor:
    """Sinusoidal features of times ``t`` in ``[0, 1]`` (scaled by 1000, as DiT's steps).

    Examples
    --------
    >>> import torch
    >>> time_embedding(torch.tensor([0.0, 0.5])).shape
    torch.Size([2, 256])
    """
    half = width // 2
    freqs = torch.exp(-math.log(10_000.0) * torch.arange(half, device=t.device,
                                                          dtype=torch.float32) / half)
    angles = (t.float() * 1000.0)[:, None] * freqs[None]
    return torch.cat([torch.cos(angles), torch.sin(angles)], dim=1)


def sincos_positions(grid_h: int, grid_w: int, width: int) -> torch.Tensor:
    """Fixed 2-D sine-cosine positions ``(grid_h * grid_w, width)``: half the width encodes
    the row, half the column (MAE's and DiT's table)."""
    quarter = width // 4
    omega = 1.0 / 10_000.0 ** (torch.arange(quarter, dtype=torch.float32) / max(1, quarter))
    rows = torch.arange(grid_h, dtype=torch.float32)[:, None] * omega[None]
    cols = torch.arange(grid_w, dtype=torch.float32)[:, None] * omega[None]
    r = torch.cat([torch.sin(rows), torch.cos(rows)], dim=1)  # (grid_h, width / 2)
    c = torch.cat([torch.sin(cols), torch.cos(cols)], dim=1)
    table = torch.cat([r[:, None].expand(-1, grid_w, -1), c[None].expand(grid_h, -1, -1)],
                      dim=2).reshape(grid_h * grid_w, -1)
    return F.pad(table, (0, width - table.shape[1]))  # a width not divisible by 4


def _modulate(x: torch.Tensor, shift: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    return x * (1.0 + scale) + shift


class DiTBlock(nn.Module):
    """Bidirectional self-attention and a GELU MLP, both under adaLN-Zero modulation.

    Examples
    --------
    >>> import torch
    >>> from synthaug.generators.nn import DiTBlock, build_module
    >>> block = build_module(lambda: DiTBlock(16, 2), torch.device("cpu"),
    ...                      torch.Generator().manual_seed(0))
    >>> x = torch.randn(2, 5, 16, generator=torch.Generator().manual_seed(1))
    >>> torch.equal(block(x, torch.zeros(2, 16)), x)  # adaLN-Zero: the identity at first
    True
    """

    def __init__(self, d_model: int, n_heads: int) -> None:
        super().__init__()
        self.n_heads = n_heads
        self.norm1 = nn.LayerNorm(d_model, elementwise_affine=False, eps=1e-6)
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)
        self.norm2 = nn.LayerNorm(d_model, elementwise_affine=False, eps=1e-6)
        self.ff1 = nn.Linear(d_model, 4 * d_model)
        self.ff2 = nn.Linear(4 * d_model, d_model)
        self.modulation = nn.Linear(d_model, 6 * d_model)

    def post_init_(self, generator: torch.Generator) -> None:
        nn.init.zeros_(self.modulation.weight)
        nn.init.zeros_(self.modulation.bias)

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        shift1, scale1, gate1, shift2, scale2, gate2 = self.modulation(cond).unsqueeze(1).chunk(
            6, dim=2)
        q, k, v = self.qkv(_modulate(self.norm1(x), shift1, scale1)).split(d, dim=2)
        q, k, v = (z.reshape(b, t, self.n_heads, d // self.n_heads).transpose(1, 2)
                   for z in (q, k, v))
        a = attention(q, k, v, causal=False).transpose(1, 2).reshape(b, t, d)
        x = x + gate1 * self.proj(a)
        h = F.gelu(self.ff1(_modulate(self.norm2(x), shift2, scale2)), approximate="tanh")
        return x + gate2 * self.ff2(h)


class DiT(nn.Module):
    """Patches of a ``(B, C, grid_h * patch, grid_w * patch)`` canvas, a time in ``[0, 1]``
    and a class index (``n_classes`` is the null class) -> a tensor of the canvas's shape.

    Parameters
    ----------
    channels : int
        1 (grey) or 3 (RGB).
    grid_h, grid_w : int
        Patches per column and per row.
    patch : int
        Side of a patch in pixels.
    d_model, n_layers, n_heads : int
        Token width, blocks, attention heads (``n_heads`` divides ``d_model``).
    n_classes : int
        Real classes; index ``n_classes`` is the null class of classifier-free guidance.

    Examples
    --------
    >>> import torch
    >>> from synthaug.generators.nn import DiT, build_module
    >>> net = build_module(lambda: DiT(1, 7, 7, 4, 32, 2, 2, 10), torch.device("cpu"),
    ...                    torch.Generator().manual_seed(0))
    >>> out = net(torch.zeros(3, 1, 28, 28), torch.rand(3), torch.tensor([0, 5, 10]))
    >>> out.shape, float(out.detach().abs().max())  # a zeroed output layer predicts 0 at first
    (torch.Size([3, 1, 28, 28]), 0.0)
    """

    positions: torch.Tensor

    def __init__(self, channels: int, grid_h: int, grid_w: int, patch: int, d_model: int,
                 n_layers: int, n_heads: int, n_classes: int) -> None:
        super().__init__()
        self.channels, self.patch, self.grid = channels, patch, (grid_h, grid_w)
        self.patchify = nn.Conv2d(channels, d_model, patch, stride=patch)
        self.register_buffer("positions", torch.empty(grid_h * grid_w, d_model),
                             persistent=False)  # recomputed, never saved
        self.time1 = nn.Linear(TIME_FEATURES, d_model)
        self.time2 = nn.Linear(d_model, d_model)
        self.label = nn.Embedding(n_classes + 1, d_model)
        self.label.init_std = 0.02  # type: ignore[assignment]  # DiT's label table start
        self.blocks = nn.ModuleList(DiTBlock(d_model, n_heads) for _ in range(n_layers))
        # U-ViT's long skips: one projection per block of the second half
        self.skips = nn.ModuleList(nn.Linear(2 * d_model, d_model)
                                   for _ in range(n_layers // 2))
        self.final_norm = nn.LayerNorm(d_model, elementwise_affine=False, eps=1e-6)
        self.final_modulation = nn.Linear(d_model, 2 * d_model)
        self.out = nn.Linear(d_model, patch * patch * channels)
        self.refine = nn.Conv2d(channels, channels, 3, padding=1)

    def reset_buffers(self, generator: torch.Generator) -> None:
        table = sincos_positions(*self.grid, self.positions.shape[1])
        with torch.no_grad():
            self.positions.copy_(table.to(self.positions.device))

    def post_init_(self, generator: torch.Generator) -> None:
        for layer in (self.final_modulation, self.out):
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)
        if self.refine.bias is not None:  # so the untrained network predicts exactly zero
            nn.init.zeros_(self.refine.bias)

    def forward(self, x: torch.Tensor, t: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        h = self.patchify(x).flatten(2).transpose(1, 2) + self.positions.to(x.dtype)
        temb = self.time2(F.silu(self.time1(time_embedding(t).to(h.dtype))))
        cond = F.silu(temb + self.label(labels))
        half, first = len(self.blocks) - len(self.skips), list[torch.Tensor]()
        for i, block in enumerate(self.blocks):
            if i >= half:  # the second half: join the mirrored block's output
                h = self.skips[i - half](torch.cat([h, first.pop()], dim=2))
            h = block(h, cond)
            if i < len(self.skips):
                first.append(h)
        shift, scale = self.final_modulation(cond).unsqueeze(1).chunk(2, dim=2)
        h = self.out(_modulate(self.final_norm(h), shift, scale))  # (B, N, p * p * C)
        (gh, gw), p, c = self.grid, self.patch, self.channels
        h = h.reshape(-1, gh, gw, p, p, c).permute(0, 5, 1, 3, 2, 4)
        out: torch.Tensor = self.refine(h.reshape(-1, c, gh * p, gw * p))
        return out
