"""Shared base of the torch image generators: pixels to the device once, canvases, the step
budget, the weight average and sampling in bounded chunks.

:class:`TorchImageGenerator` is the image glue over
:class:`~synthaug.generators.torch.TorchGeneratorMixin` (common parameters, seeding, the device
copy, modules, the loop, persistence) and :class:`~synthaug.generators.image.ImageGenerator`
(containers, conditions, the schema):

* the training images go to the device once, as uint8 ``(N, H, W, C)`` (a quarter of float32's
  memory), with their class indices; :meth:`_real_batch` turns a batch of row indices into
  float canvases in ``[-1, 1]`` there;
* the step budget: ``epochs`` passes over the images but at most ``max_steps`` optimisation
  steps (:meth:`_budget`), so 600 images train for as many steps as the epochs allow and
  60,000 for no more than ``max_steps``: a fit's cost grows with the data up to a cap;
* the exponential moving average of a network's weights (:meth:`_averaged`): the module
  saved and sampled is the average, the one optimised is a training copy;
* :meth:`_generate` draws ``sample_chunk`` images per forward pass with the subclass's
  :meth:`_draw`, crops the canvas and copies uint8 pixels to the host once per chunk.

Subclasses implement ``_make_modules``, ``_train``, :meth:`_draw`, :meth:`_arch` and, when
they keep fitted statistics besides the modules, ``_extra_state`` / ``_set_extra_state``.
"""

from __future__ import annotations

import copy
from abc import abstractmethod
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from synthaug.data.image import Images
from synthaug.generators.image.base import ImageGenerator
from synthaug.generators.nn import Canvas, EpochBatcher, autocast, ema_decay, ema_update_
from synthaug.generators.torch import EpochCallback, TorchGeneratorMixin
from synthaug.utils.validation import check_int

__all__ = ["EpochCallback", "TorchImageGenerator", "to_pixels", "to_unit"]


def to_unit(pixels: torch.Tensor) -> torch.Tensor:
    """uint8 ``(B, H, W, C)`` -> float ``(B, C, H, W)`` in ``[-1, 1]`` (on their device)."""
    return pixels.permute(0, 3, 1, 2).float().div_(127.5).sub_(1.0)


def to_pixels(x: torch.Tensor) -> torch.Tensor:
    """float ``(B, C, H, W)`` in ``[-1, 1]`` -> uint8 ``(B, H, W, C)``, rounded and clipped."""
    scaled = (x.float() + 1.0) * 127.5
    return scaled.round_().clamp_(0, 255).to(torch.uint8).permute(0, 2, 3, 1)


class TorchImageGenerator(TorchGeneratorMixin, ImageGenerator):
    """Base of the torch image generators (see the module docstring).

    Fitted state beyond the mixin's: ``arch_`` holds ``image_height``, ``image_width``,
    ``channels``,
    ``n_classes`` (1 for unlabelled images) and ``canvas`` (``[cell, base_h, base_w]``),
    plus the subclass's sizes.

    Examples
    --------
    >>> from synthaug.generators.image import ImageGANGenerator
    >>> from synthaug.generators.image.torch_base import TorchImageGenerator
    >>> issubclass(ImageGANGenerator, TorchImageGenerator)
    True
    """

    #: images per forward pass when sampling (bounds device memory for any ``n``)
    sample_chunk: ClassVar[int] = 1_024

    max_steps: int | None

    # -- parameters ----------------------------------------------------------------------------
    def _check_params(self) -> None:
        super()._check_params()
        check_int(self.max_steps, "max_steps", 1, allow_none=True)

    # -- fit -----------------------------------------------------------------------------------
    def _fit_images(self, images: Images, rng: np.random.Generator) -> None:
        generator = self._torch_generator(rng)
        s = self.schema_
        if images.labels is None:
            index = np.zeros(len(images), dtype=np.int64)
        else:  # np.unique's order is the schema's order of classes (ImageSchema.of)
            index = np.unique(images.labels, return_inverse=True)[1].astype(np.int64)
        canvas = self._canvas_for(s.height, s.width)
        self.arch_ = {"image_height": s.height, "image_width": s.width, "channels": s.channels,
                      "n_classes": max(1, len(s.classes)),
                      "canvas": [canvas.cell, canvas.base_h, canvas.base_w], **self._arch()}
        self._fit_torch({"pixels": images.pixels, "labels": index}, generator)

    @property
    def canvas_(self) -> Canvas:
        """The canvas the networks work on (from ``arch_``)."""
        a = self.arch_
        cell, base_h, base_w = a["canvas"]
        return Canvas(int(a["image_height"]), int(a["image_width"]), int(cell), int(base_h),
                      int(base_w))

    def _budget(self, n_images: int) -> tuple[int, int, int]:
        """``(epochs, steps per epoch, batch size)``: ``epochs`` whole passes, cut to at most
        ``max_steps`` steps in all (one shortened epoch when a single one is longer)."""
        batch = min(int(self.batch_size), n_images)
        steps = max(1, n_images // batch)
        epochs = int(self.epochs)
        if self.max_steps is not None:
            if steps >= self.max_steps:
                return 1, int(self.max_steps), batch
            epochs = max(1, min(epochs, int(self.max_steps) // steps))
        return epochs, steps, batch

    def _batcher(self, data: Mapping[str, torch.Tensor], batch: int,
                 generator: torch.Generator) -> EpochBatcher:
        return EpochBatcher(int(data["pixels"].shape[0]), batch, self.device_, generator)

    def _real_batch(self, data: Mapping[str, torch.Tensor], rows: torch.Tensor
                    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Float canvases in ``[-1, 1]`` and class indices of the training images ``rows``."""
        return self.canvas_.pad(to_unit(data["pixels"][rows])), data["labels"][rows]

    def _averaged(self, name: str) -> tuple[nn.Module, Callable[[int], None]]:
        """A training copy of ``modules_[name]`` and ``update(step)``, which moves the module
        (what is saved and sampled) towards the copy by the ``ema_decay`` parameter."""
        average = self.modules_[name]
        trained = copy.deepcopy(average).train()  # the same start; copying draws nothing
        decay = float(getattr(self, "ema_decay", 0.999))

        def update(step: int) -> None:
            ema_update_(average, trained, ema_decay(step, decay))

        return trained, update

    def _epochs_loop(self, step: Callable[[int, int], Mapping[str, torch.Tensor]],
                     n_images: int, *, monitor: str) -> Any:
        epochs, steps, batch = self._budget(n_images)
        return self._loop(step, steps_per_epoch=steps, rows_per_step=batch, monitor=monitor,
                          epochs=epochs)

    # -- sample --------------------------------------------------------------------------------
    def _generate(self, n: int, classes: np.ndarray | None, rng: np.random.Generator
                  ) -> np.ndarray:
        generator = self._torch_generator(rng)
        s = self.schema_
        out = np.empty((n, s.height, s.width, s.channels), dtype=np.uint8)
        index = torch.as_tensor(np.zeros(n, dtype=np.int64) if classes is None else classes,
                                dtype=torch.long).to(self.device_)
        canvas = self.canvas_
        done = [0]

        def chunk(k: int) -> torch.Tensor:
            labels = index[done[0]:done[0] + k]
            done[0] += k
            with autocast(self.device_, self.bf16):
                x = self._draw(labels, generator)
            return to_pixels(canvas.crop(x))

        return self._sample_into(out, chunk, chunk_rows=self.sample_chunk)

    # -- persistence ---------------------------------------------------------------------------
    def _extra_state(self) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        return {}, {}

    def _set_extra_state(self, state: Mapping[str, Any], tensors: Mapping[str, torch.Tensor]
                         ) -> None:
        pass

    # -- hooks ---------------------------------------------------------------------------------
    def _canvas_for(self, height: int, width: int) -> Canvas:
        """The canvas the networks need for images of this size (default: the conv one)."""
        from synthaug.generators.nn import canvas_for

        return canvas_for(height, width)

    @abstractmethod
    def _arch(self) -> dict[str, Any]:
        """The subclass's network sizes (JSON), merged into ``arch_``."""

    @abstractmethod
    def _draw(self, labels: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """One chunk of canvases in ``[-1, 1]``, image ``i`` of class ``labels[i]``."""
