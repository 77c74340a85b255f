"""Differentiable augmentation (DiffAugment, Zhao et al. 2020) with a local generator.

A GAN's critic sees only a few hundred real images on small data and memorises them; the
generator then collapses.  DiffAugment applies the *same kind* of random transformation to
real and fake images every time the critic looks at them, in a way gradients flow through, so
the critic cannot memorise and the generator is not taught the augmentations (they are applied
to both sides).  The policy here is the paper's ``color,translation,cutout``: brightness,
saturation (colour images) and contrast jitter, a shift of up to 1/8 of the side with an empty
border, and one square cut out of side 1/2.  Everything is drawn on the device from the
caller's :class:`torch.Generator`: no global RNG, no host sync.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

__all__ = ["POLICIES", "diff_augment"]

#: the transformations :func:`diff_augment` knows
POLICIES = ("color", "translation", "cutout")
#: largest shift as a share of the side, and the cut-out square's side (the paper's)
TRANSLATION_RATIO = 0.125
CUTOUT_RATIO = 0.5


def diff_augment(
    x: torch.Tensor, generator: torch.Generator, policy: Sequence[str] = POLICIES
) -> torch.Tensor:
    """Randomly transform a batch ``(B, C, H, W)`` of images in ``[-1, 1]``, differentiably.

    Each image gets its own random parameters; calling this on the real and on the fake batch
    separately gives both the same distribution of transformations.

    Examples
    --------
    >>> import torch
    >>> from synthaug.generators.nn import diff_augment
    >>> x = torch.zeros(4, 1, 8, 8, requires_grad=True)
    >>> y = diff_augment(x, torch.Generator().manual_seed(0))
    >>> y.shape, y.requires_grad
    (torch.Size([4, 1, 8, 8]), True)
    """
    for name in policy:
        if name == "color":
            x = _color(x, generator)
        elif name == "translation":
            x = _translation(x, generator)
        elif name == "cutout":
            x = _cutout(x, generator)
        else:
            raise ValueError(f"unknown DiffAugment policy {name!r}; use {POLICIES}.")
    return x


def _rand(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    return torch.rand((x.shape[0], 1, 1, 1), device=x.device, dtype=x.dtype,
                      generator=generator)


def _color(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    # the paper's ranges (its code works on images in [-1, 1] too): brightness +-0.5,
    # saturation x[0, 2], contrast x[0.5, 1.5]
    x = x + (_rand(x, generator) - 0.5)
    if x.shape[1] > 1:
        mean = x.mean(dim=1, keepdim=True)
        x = (x - mean) * (_rand(x, generator) * 2.0) + mean
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * (_rand(x, generator) + 0.5) + mean


def _translation(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    b, _, h, w = x.shape
    sh, sw = max(1, int(h * TRANSLATION_RATIO + 0.5)), max(1, int(w * TRANSLATION_RATIO + 0.5))
    dev = x.device
    ty = torch.randint(-sh, sh + 1, (b, 1, 1), device=dev, generator=generator)
    tx = torch.randint(-sw, sw + 1, (b, 1, 1), device=dev, generator=generator)
    gy = torch.arange(h, device=dev).view(1, h, 1)
    gx = torch.arange(w, device=dev).view(1, 1, w)
    # one pixel of padding on every side is the "empty" border shifted-out pixels read: -1
    # (black, the background of most small-data images) where the paper pads with 0 (grey);
    # real and fake get the same, so the choice teaches the generator nothing
    iy = (gy + ty + 1).clamp_(0, h + 1)
    ix = (gx + tx + 1).clamp_(0, w + 1)
    padded = F.pad(x, (1, 1, 1, 1), value=-1.0)
    batch = torch.arange(b, device=dev).view(b, 1, 1)
    return padded.permute(0, 2, 3, 1)[batch, iy, ix].permute(0, 3, 1, 2)


def _cutout(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    b, _, h, w = x.shape
    ch, cw = max(1, int(h * CUTOUT_RATIO + 0.5)), max(1, int(w * CUTOUT_RATIO + 0.5))
    dev = x.device
    oy = torch.randint(0, h + (1 - ch % 2), (b, 1, 1), device=dev, generator=generator)
    ox = torch.randint(0, w + (1 - cw % 2), (b, 1, 1), device=dev, generator=generator)
    gy = torch.arange(h, device=dev).view(1, h, 1)
    gx = torch.arange(w, device=dev).view(1, 1, w)
    inside = ((gy >= oy - ch // 2) & (gy < oy - ch // 2 + ch)
              & (gx >= ox - cw // 2) & (gx < ox - cw // 2 + cw))
    keep = (~inside).unsqueeze(1).to(x.dtype)
    # cut pixels become -1, the same background as the translation's border
    return x * keep - (1.0 - keep)
