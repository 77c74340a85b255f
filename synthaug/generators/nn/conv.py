"""Convolutional building blocks of the image generators: spectral norm, adaptive group norm,
strided up/down blocks, the encoder and decoder stacks and the canvas they work on.

One backbone serves the GAN (generator = :class:`ConvDecoder`, critic =
:class:`ProjectionCritic` on a spectrally normalised :class:`ConvEncoder`) and the VAE
(encoder = :class:`ConvEncoder` with group norm, decoder = :class:`ConvDecoder`; its
adversarial term reuses :class:`ProjectionCritic`).  The networks see a **canvas**: the image
padded to ``base * 2**levels`` pixels a side (:func:`canvas_for`), so 28x28 runs at 7 -> 14 ->
28 and 64x64 at 8 -> 16 -> 32 -> 64 with no resizing; generated canvases are cropped back.
The layout is DCGAN's (Radford et al. 2016), strided 4x4 convolutions, chosen for cost: see
:class:`UpBlock`.

Spectral normalisation is written here rather than taken from
``torch.nn.utils.parametrizations.spectral_norm``: torch's version draws its power-iteration
vector from the global RNG when it is attached, and its buffers cannot be built on the ``meta``
device; :class:`SNConv2d` and :class:`SNLinear` fill theirs from the fit's generator
(``reset_buffers``), so ``random_state`` alone decides the critic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "AdaptiveGroupNorm",
    "Canvas",
    "ConvDecoder",
    "ConvEncoder",
    "DownBlock",
    "ProjectionCritic",
    "SNConv2d",
    "SNLinear",
    "UpBlock",
    "canvas_for",
    "group_count",
    "level_widths",
    "patch_canvas",
]

#: a canvas's smallest side is at most this many pixels (the decoder's first feature map)
MAX_BASE = 8
#: channel widths stop doubling at this multiple of the top-resolution width
MAX_WIDTH_MULT = 8


# -- the canvas ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Canvas:
    """Where an image of ``height x width`` sits inside a grid of ``base_h x base_w`` cells
    of ``cell x cell`` pixels (a conv stack's base feature map, or a transformer's patches).

    Examples
    --------
    >>> c = canvas_for(28, 28)
    >>> (c.levels, c.base_h, c.canvas_h, c.top)
    (2, 7, 28, 0)
    >>> c = canvas_for(30, 64)
    >>> (c.levels, c.base_h, c.base_w, c.canvas_h, c.top, c.left)
    (3, 4, 8, 32, 1, 0)
    """

    height: int
    width: int
    cell: int
    base_h: int
    base_w: int

    @property
    def levels(self) -> int:
        """Halvings from the canvas to the base grid (``log2(cell)`` for a conv stack)."""
        return self.cell.bit_length() - 1

    @property
    def canvas_h(self) -> int:
        return self.base_h * self.cell

    @property
    def canvas_w(self) -> int:
        return self.base_w * self.cell

    @property
    def top(self) -> int:
        return (self.canvas_h - self.height) // 2

    @property
    def left(self) -> int:
        return (self.canvas_w - self.width) // 2

    def pad(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, C, height, width)`` -> the canvas, edges repeated (no artificial border)."""
        ph, pw = self.canvas_h - self.height, self.canvas_w - self.width
        if not (ph or pw):
            return x
        return F.pad(x, (self.left, pw - self.left, self.top, ph - self.top), mode="replicate")

    def crop(self, x: torch.Tensor) -> torch.Tensor:
        """The canvas -> ``(B, C, height, width)``."""
        return x[..., self.top:self.top + self.height, self.left:self.left + self.width]


def canvas_for(height: int, width: int) -> Canvas:
    """The canvas of a conv stack: the fewest halvings (at least one) that bring the longer
    side to at most :data:`MAX_BASE` pixels; each side is then rounded up to whole cells."""
    levels = 1
    while math.ceil(max(height, width) / (1 << levels)) > MAX_BASE:
        levels += 1
    cell = 1 << levels
    return Canvas(height, width, cell, math.ceil(height / cell), math.ceil(width / cell))


def patch_canvas(height: int, width: int, patch: int) -> Canvas:
    """The canvas of a patch grid: each side rounded up to whole ``patch``-pixel patches.

    Examples
    --------
    >>> c = patch_canvas(28, 28, 4)
    >>> (c.base_h, c.canvas_h), patch_canvas(30, 30, 4).canvas_h
    ((7, 28), 32)
    """
    return Canvas(height, width, patch, math.ceil(height / patch), math.ceil(width / patch))


def level_widths(width: int, levels: int) -> list[int]:
    """Channels of the feature maps from half the canvas's resolution (``width``) down to the
    base, doubling per halving and capped at ``MAX_WIDTH_MULT * width``.

    Examples
    --------
    >>> level_widths(32, 2), level_widths(16, 5)
    ([32, 64], [16, 32, 64, 128, 128])
    """
    return [width * min(1 << i, MAX_WIDTH_MULT) for i in range(levels)]


def group_count(channels: int) -> int:
    """Groups of a group norm over ``channels``: the most (up to 32) with at least 4 channels
    each, so narrow CPU-sized networks still normalise over several channels per group."""
    for groups in (32, 16, 8, 4, 2):
        if channels % groups == 0 and channels // groups >= 4:
            return groups
    return 1


# -- spectral normalisation ------------------------------------------------------------------
def _spectral_weight(weight: torch.Tensor, u: torch.Tensor, training: bool) -> torch.Tensor:
    """``weight / sigma``, sigma the largest singular value by one power iteration per call
    in training (``u`` is updated in place, as in Miyato et al. 2018), none in eval."""
    w = weight.flatten(1)
    with torch.no_grad():
        v = F.normalize(w.t() @ u, dim=0, eps=1e-12)
        if training:
            u.copy_(F.normalize(w @ v, dim=0, eps=1e-12))
            v = F.normalize(w.t() @ u, dim=0, eps=1e-12)
    sigma = torch.dot(u.clone(), w @ v.clone())
    return weight / sigma


class SNConv2d(nn.Conv2d):
    """``nn.Conv2d`` with spectral normalisation; its power-iteration vector is seeded.

    Examples
    --------
    >>> import torch
    >>> from synthaug.generators.nn import SNConv2d, build_module
    >>> conv = build_module(lambda: SNConv2d(1, 4, 3, padding=1), torch.device("cpu"),
    ...                     torch.Generator().manual_seed(0))
    >>> conv(torch.zeros(2, 1, 8, 8)).shape
    torch.Size([2, 4, 8, 8])
    """

    sn_u: torch.Tensor

    def __init__(self, *args: int, **kwargs: int) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.register_buffer("sn_u", torch.empty(self.out_channels))

    def reset_buffers(self, generator: torch.Generator) -> None:
        with torch.no_grad():
            self.sn_u.normal_(generator=generator)
            self.sn_u.div_(self.sn_u.norm().clamp_min(1e-12))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weight = _spectral_weight(self.weight, self.sn_u, self.training)
        return self._conv_forward(x, weight, self.bias)


class SNLinear(nn.Linear):
    """``nn.Linear`` with spectral normalisation (see :class:`SNConv2d`)."""

    sn_u: torch.Tensor

    def __init__(self, in_features: int, out_features: int, bias: bool = True) -> None:
        super().__init__(in_features, out_features, bias)
        self.register_buffer("sn_u", torch.empty(out_features))

    def reset_buffers(self, generator: torch.Generator) -> None:
        with torch.no_grad():
            self.sn_u.normal_(generator=generator)
            self.sn_u.div_(self.sn_u.norm().clamp_min(1e-12))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, _spectral_weight(self.weight, self.sn_u, self.training), self.bias)


# -- blocks ----------------------------------------------------------------------------------
class AdaptiveGroupNorm(nn.Module):
    """Group norm whose scale and shift come from a condition vector (class and noise).

    Unlike conditional batch norm it keeps no running statistics, so a generator behaves the
    same in train and eval mode and its EMA copy needs nothing but the weights.
    """

    def __init__(self, channels: int, cond_dim: int) -> None:
        super().__init__()
        self.norm = nn.GroupNorm(group_count(channels), channels, affine=False)
        self.proj = nn.Linear(cond_dim, 2 * channels)

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        scale, shift = self.proj(cond)[:, :, None, None].chunk(2, dim=1)
        out: torch.Tensor = self.norm(x) * (1 + scale) + shift
        return out


class UpBlock(nn.Module):
    """Doubles the resolution: a 4x4 stride-2 transposed convolution, then adaptive group
    norm and SiLU.

    A strided 4x4 kernel costs ``16 (H/2)^2`` multiply-adds per channel pair against
    ``9 H^2`` for nearest up-sampling and a 3x3 convolution (2.25x fewer): on a 2-core CPU
    that is the difference between minutes and a quarter of an hour for the same network.
    """

    def __init__(self, in_channels: int, out_channels: int, cond_dim: int) -> None:
        super().__init__()
        self.conv = nn.ConvTranspose2d(in_channels, out_channels, 4, stride=2, padding=1)
        self.norm = AdaptiveGroupNorm(out_channels, cond_dim)

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        return F.silu(self.norm(self.conv(x), cond))


class DownBlock(nn.Module):
    """Halves the resolution: a 4x4 stride-2 convolution (spectrally normalised for a
    critic), group norm for an encoder, and leaky ReLU."""

    def __init__(self, in_channels: int, out_channels: int, *, spectral: bool, norm: bool
                 ) -> None:
        super().__init__()
        self.conv = (SNConv2d if spectral else nn.Conv2d)(in_channels, out_channels, 4,
                                                          stride=2, padding=1)
        self.norm: nn.Module = nn.GroupNorm(group_count(out_channels), out_channels) if norm \
            else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.leaky_relu(self.norm(self.conv(x)), 0.2)


# -- stacks ----------------------------------------------------------------------------------
class ConvDecoder(nn.Module):
    """A vector (noise or latent) and a class -> an image canvas in ``[-1, 1]``.

    The class embedding and the vector go into a linear layer that makes the base feature map
    and, concatenated, into every block's adaptive group norm (BigGAN's shared embedding with
    a hierarchical latent), so the class shapes every resolution.  The last transposed
    convolution makes the image's channels directly (DCGAN's layout).

    Parameters
    ----------
    in_features : int
        Width of the vector.
    n_classes : int
        Classes (1 for unlabelled images).
    canvas : Canvas
        The grid to fill (``canvas_for``).
    width : int
        Channels at half the canvas's resolution (doubling per halving, see
        :func:`level_widths`).
    out_channels : int
        1 (grey) or 3 (RGB).
    cond_dim : int
        Width of the class embedding.

    Examples
    --------
    >>> import torch
    >>> from synthaug.generators.nn import ConvDecoder, build_module, canvas_for
    >>> net = build_module(lambda: ConvDecoder(8, 3, canvas_for(28, 28), 8, 1, 8),
    ...                    torch.device("cpu"), torch.Generator().manual_seed(0))
    >>> net(torch.zeros(2, 8), torch.tensor([0, 2])).shape
    torch.Size([2, 1, 28, 28])
    """

    def __init__(self, in_features: int, n_classes: int, canvas: Canvas, width: int,
                 out_channels: int, cond_dim: int) -> None:
        super().__init__()
        widths = level_widths(width, canvas.levels)[::-1]  # base first
        self.base = (widths[0], canvas.base_h, canvas.base_w)
        cond = cond_dim + in_features
        self.embed = nn.Embedding(n_classes, cond_dim)
        self.fc = nn.Linear(cond, widths[0] * canvas.base_h * canvas.base_w)
        self.norm = AdaptiveGroupNorm(widths[0], cond)
        self.blocks = nn.ModuleList(UpBlock(widths[i], widths[i + 1], cond)
                                    for i in range(len(widths) - 1))
        self.out = nn.ConvTranspose2d(widths[-1], out_channels, 4, stride=2, padding=1)

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        cond = torch.cat([self.embed(labels), z], dim=1)
        h = F.silu(self.norm(self.fc(cond).reshape(-1, *self.base), cond))
        for block in self.blocks:
            h = block(h, cond)
        return torch.tanh(self.out(h))


class ConvEncoder(nn.Module):
    """An image canvas -> the base feature map ``(B, channels, base_h, base_w)``.

    Examples
    --------
    >>> import torch
    >>> from synthaug.generators.nn import ConvEncoder, build_module, canvas_for
    >>> net = build_module(lambda: ConvEncoder(1, canvas_for(28, 28), 8, spectral=True),
    ...                    torch.device("cpu"), torch.Generator().manual_seed(0))
    >>> net(torch.zeros(2, 1, 28, 28)).shape, net.out_features
    (torch.Size([2, 16, 7, 7]), 784)
    """

    def __init__(self, in_channels: int, canvas: Canvas, width: int, *, spectral: bool,
                 norm: bool = False) -> None:
        super().__init__()
        widths = [in_channels, *level_widths(width, canvas.levels)]
        self.out_channels = widths[-1]
        #: size of the flattened base feature map
        self.out_features = widths[-1] * canvas.base_h * canvas.base_w
        # no norm on the first block: it would normalise away the image's own contrast
        self.blocks = nn.Sequential(*(DownBlock(widths[i], widths[i + 1], spectral=spectral,
                                                norm=norm and i > 0)
                                      for i in range(canvas.levels)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.blocks(x)
        return out


class ProjectionCritic(nn.Module):
    """Class-conditional critic with a projection head (Miyato & Koyama 2018):
    ``score = w . phi(x) + embed(y) . phi(x)``, ``phi`` the flattened base feature map of a
    spectrally normalised :class:`ConvEncoder` (flattened, not pooled, so the head sees the
    layout of the whole image).  Real and fake images go through it as one batch.

    Examples
    --------
    >>> import torch
    >>> from synthaug.generators.nn import ProjectionCritic, build_module, canvas_for
    >>> net = build_module(lambda: ProjectionCritic(1, 3, canvas_for(28, 28), 8),
    ...                    torch.device("cpu"), torch.Generator().manual_seed(0))
    >>> net(torch.zeros(4, 1, 28, 28), torch.tensor([0, 1, 2, 0])).shape
    torch.Size([4])
    """

    def __init__(self, in_channels: int, n_classes: int, canvas: Canvas, width: int) -> None:
        super().__init__()
        self.features = ConvEncoder(in_channels, canvas, width, spectral=True)
        size = self.features.out_features
        self.head = SNLinear(size, 1)
        self.embed = nn.Embedding(n_classes, size)
        self.embed.init_std = 1.0 / math.sqrt(size)  # type: ignore[assignment]

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        h = self.features(x).flatten(1)
        return self.head(h).squeeze(1) + (self.embed(labels) * h).sum(dim=1)
