"""The reference image classifier: one small CNN that every image measurement trains the same way.

``benchmarks/BENCHMARKS.md`` (the project's measuring rules) fixes it: two 3x3 convolutions of
32 and 64 channels, each followed by ReLU and 2x2 max pooling, one hidden layer of 128 units
with dropout 0.3, a linear layer to the classes; Adam at 1e-3, batches of 64.  Trained on 1% of
Fashion-MNIST (600 images) for 1,500 steps it scores 0.814 on the 10,000 test images.

Three places use it, which is why it lives beside the data rather than inside one of them:

* ``utility.classification_accuracy_score`` trains it on synthetic images and tests it on
  real ones (:mod:`synthaug.validators.utility.image`);
* ``fidelity.label_consistency`` trains it on real images and asks it the class of each
  synthetic one (:mod:`synthaug.validators.fidelity.image`);
* recipes train it as the downstream model ``image.cnn`` (:mod:`synthaug.recipes.tasks.image`,
  with the recipe runner's own loop, budget and early stopping).

Inputs are ``float32 (N, C, H, W)`` in [0, 1] (``pixels / 255``).  Images of any size work: an
adaptive average pooling brings the last feature map to at most 7x7, which is the identity for
28x28 images (the reference) and keeps the hidden layer small for large ones.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from synthaug.exceptions import InvalidDataError, InvalidParameterError
from synthaug.utils.validation import check_number, check_positive_int

__all__ = [
    "ImageCNN",
    "ImageInputs",
    "accuracy_interval",
    "predict_classes",
    "to_inputs",
    "train_classifier",
]

#: largest side of the last feature map (28x28 inputs give exactly 7x7)
_POOLED = 7
#: images per forward pass when predicting
_PREDICT_BATCH = 1024


@dataclass(frozen=True)
class ImageInputs:
    """What an image model is given to build itself: the image size and the class count.

    Examples
    --------
    >>> ImageInputs(28, 28, 1, 10).n_classes
    10
    """

    height: int
    width: int
    channels: int
    n_classes: int


class ImageCNN(nn.Module):
    """The reference CNN (module docstring); ``forward(x)`` returns ``(N, n_classes)`` logits.

    Registered as the recipes' downstream model ``image.cnn``.

    Parameters
    ----------
    inputs : ImageInputs
        Image size and classes.
    channels : sequence of int, default (32, 64)
        Output channels of each convolution (each halves the image with max pooling).
    hidden : int, default 128
        Units of the hidden layer.
    dropout : float, default 0.3
        Dropout after the hidden layer.

    Examples
    --------
    >>> import torch
    >>> model = ImageCNN(ImageInputs(28, 28, 1, 10))
    >>> model(torch.zeros(2, 1, 28, 28)).shape
    torch.Size([2, 10])
    >>> sum(p.numel() for p in model.parameters())
    421642
    """

    def __init__(self, inputs: ImageInputs, *, channels: Sequence[int] = (32, 64),
                 hidden: int = 128, dropout: float = 0.3) -> None:
        super().__init__()
        widths: list[Any] = list(channels) if isinstance(channels, list | tuple) else [channels]
        if not widths or any(isinstance(c, bool) or not isinstance(c, int) or c < 1
                             for c in widths):
            raise InvalidParameterError(
                f"channels must be a non-empty list of positive ints, got {channels!r}.")
        check_positive_int(hidden, "hidden")
        check_number(dropout, "dropout", minimum=0.0, maximum=1.0, open_high=True)
        h, w = inputs.height >> len(widths), inputs.width >> len(widths)
        if h < 1 or w < 1:
            raise InvalidParameterError(
                f"images of {inputs.height}x{inputs.width} are too small for {len(widths)} "
                f"convolution(s) with 2x2 pooling; use fewer channels entries.")
        layers: list[nn.Module] = []
        c = inputs.channels
        for width in widths:
            layers += [nn.Conv2d(c, width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
            c = width
        h, w = min(h, _POOLED), min(w, _POOLED)
        layers.append(nn.AdaptiveAvgPool2d((h, w)))
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(c * h * w, hidden), nn.ReLU(),
                                  nn.Dropout(dropout), nn.Linear(hidden, inputs.n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.head(self.features(x))
        return out


def to_inputs(pixels: torch.Tensor) -> torch.Tensor:
    """uint8 ``(N, H, W, C)`` pixels (on any device) as the model's float ``(N, C, H, W)``."""
    return pixels.permute(0, 3, 1, 2).float().div_(255.0)


@contextmanager
def _seeded(seed: int, device: torch.device) -> Iterator[None]:
    # parameter initialisation and dropout draw from torch's global generator, which takes
    # no generator argument: fork it, seed the fork, and leave the caller's state untouched
    devices = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


def train_classifier(pixels: np.ndarray, codes: np.ndarray, n_classes: int, *, steps: int,
                     batch_size: int = 64, learning_rate: float = 1e-3, seed: int = 0,
                     device: torch.device | str = "cpu") -> ImageCNN:
    """A new :class:`ImageCNN` trained for exactly ``steps`` Adam steps (no early stopping).

    The images go to the device once, as uint8; each batch is converted there.  Batches are
    drawn without replacement, pass after pass (the incomplete tail of a pass is dropped), in
    an order fixed by ``seed``, which also fixes the initial weights and the dropout masks.

    Parameters
    ----------
    pixels : ndarray of uint8, shape (N, H, W, C)
    codes : ndarray of int, shape (N,)
        Class codes in ``[0, n_classes)``.
    n_classes : int
    steps, batch_size, learning_rate : the budget (BENCHMARKS.md: 1,500, 64, 1e-3)
    seed : int
    device : torch.device or str

    Returns
    -------
    ImageCNN
        In evaluation mode.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> px = rng.integers(0, 256, (40, 8, 8, 1), dtype=np.uint8)
    >>> model = train_classifier(px, np.arange(40) % 2, 2, steps=3, batch_size=16)
    >>> predict_classes(model, px).shape
    (40,)
    """
    check_positive_int(steps, "steps")
    check_positive_int(batch_size, "batch_size")
    check_number(learning_rate, "learning_rate", minimum=0.0, open_low=True)
    if len(pixels) == 0:
        raise InvalidDataError("there are no images to train the classifier on.")
    dev = torch.device(device)
    _, h, w, c = pixels.shape
    x = torch.from_numpy(np.ascontiguousarray(pixels)).to(dev)
    y = torch.from_numpy(np.asarray(codes, dtype=np.int64)).to(dev)
    with _seeded(seed, dev):
        model = ImageCNN(ImageInputs(h, w, c, n_classes)).to(dev)
        gen = torch.Generator(device=dev)
        gen.manual_seed(seed)
        optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
        batch = min(batch_size, len(x))
        per_pass = len(x) // batch
        order = torch.randperm(len(x), generator=gen, device=dev)
        position = 0
        model.train()
        for _ in range(steps):
            if position >= per_pass:
                order = torch.randperm(len(x), generator=gen, device=dev)
                position = 0
            idx = order[position * batch:(position + 1) * batch]
            position += 1
            loss = F.cross_entropy(model(to_inputs(x[idx])), y[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    model.eval()
    return model


@torch.inference_mode()
def predict_classes(model: nn.Module, pixels: np.ndarray,
                    device: torch.device | str | None = None) -> np.ndarray:
    """The predicted class code of each image (uint8 ``(N, H, W, C)``), in batches."""
    dev = torch.device(device) if device is not None else next(model.parameters()).device
    model.eval()
    out = np.empty(len(pixels), dtype=np.int64)
    for lo in range(0, len(pixels), _PREDICT_BATCH):
        chunk = torch.from_numpy(np.ascontiguousarray(pixels[lo:lo + _PREDICT_BATCH])).to(dev)
        out[lo:lo + len(chunk)] = model(to_inputs(chunk)).argmax(dim=1).cpu().numpy()
    return out


def accuracy_interval(correct: np.ndarray) -> tuple[float, float]:
    """A Wilson 95% interval of the share of ``True`` in ``correct``."""
    n = len(correct)
    if n == 0:
        return math.nan, math.nan
    p, z = float(np.mean(correct)), 1.96
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)
