"""Class-conditional diffusion transformer trained by flow matching, with classifier-free
guidance and few-step sampling.

Three pieces, each in its own module so another family can reuse two of them: the network
(:class:`~synthaug.generators.nn.DiT`: patches, adaLN-Zero blocks), the schedule and samplers
(:mod:`synthaug.generators.nn.flow`: straight noise-to-data paths, logit-normal training
times, Euler or Heun integration, guidance) and the loop (:func:`~synthaug.generators.nn.
run_epochs`).  This class glues them: it drops the class of ``class_dropout`` of the training
images (the null class teaches the unconditional velocity that guidance needs), keeps an
exponential moving average of the weights (the saved and sampled network) and samples with
``sampling_steps`` steps at guidance ``guidance``.

Why a diffusion transformer and not an autoregressive one over learned tokens: an
autoregressive model first needs a tokenizer (a VQ autoencoder: a second model and a second
training run) and then samples one token after another (49 sequential network calls for a
7x7 token grid, against ``sampling_steps`` calls here, each over all tokens at once), which
works against the sampling-speed goal; flow matching trains one network in one run.  The
measurements behind the defaults are in ``benchmarks/RESULTS.md`` (image generators).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from synthaug.exceptions import InvalidParameterError
from synthaug.generators.base import register_generator
from synthaug.generators.image.torch_base import EpochCallback, TorchImageGenerator
from synthaug.generators.nn import (
    Canvas,
    DiT,
    TrainingHistory,
    autocast,
    flow_target,
    guided_velocity,
    integrate_flow,
    patch_canvas,
    sample_times,
)
from synthaug.generators.nn.flow import SAMPLERS
from synthaug.generators.nn.optim import adam
from synthaug.utils.random import RandomState
from synthaug.utils.validation import (
    check_choice,
    check_fraction,
    check_int,
    check_number,
    check_positive_int,
)

__all__ = ["ImageTransformerGenerator"]

#: with ``patch_size=None``: the smallest patch side whose grid has at most this many tokens
MAX_AUTO_TOKENS = 64


@register_generator("image.transformer")
class ImageTransformerGenerator(TorchImageGenerator):
    """Class-conditional DiT trained by flow matching; guided, few-step sampling.

    Parameters
    ----------
    epochs : int, default=1000
        Passes over the training images, up to ``max_steps`` steps in all.
    max_steps : int or None, default=2000
        Most optimisation steps.
    batch_size : int, default=64
        Images per step.
    learning_rate : float, default=5e-4
        Adam step size.
    d_model : int, default=96
        Token width.
    n_layers : int, default=4
        Transformer blocks.
    n_heads : int, default=4
        Attention heads (divides ``d_model``).
    patch_size : int or None, default=None
        Side of a patch in pixels; ``None`` takes the smallest of 2, 4, 8, ... whose grid has
        at most 64 patches (4 for 28x28, 8 for 64x64).
    class_dropout : float, default=0.1
        Share of training images whose class is replaced by the null class (what guidance
        needs; 0 turns guidance off).
    guidance : float, default=2.0
        Classifier-free guidance scale at sampling: 1 is the plain conditional model, larger
        trades diversity for class fidelity.
    sampling_steps : int, default=8
        Integration steps from noise to image.
    sampler : {"heun", "euler"}, default="heun"
        Heun's second-order steps (two network calls each but the last) or Euler's.
    time_shift : float, default=1.0
        Shift of the sampling times towards noise (>1 for larger images).
    ema_decay : float, default=0.999
        Decay of the weight average that is saved and sampled (0 keeps the last weights).
    early_stopping_patience : int or None, default=None
        Stop when the flow-matching loss has not fallen for this many epochs.
    device, compile, bf16, random_state, progress, epoch_callback
        As for every torch generator (see :class:`~synthaug.generators.torch.
        TorchGeneratorMixin`).  ``epoch_callback`` may sample: it sees the averaged network.

    Attributes
    ----------
    history_ : TrainingHistory
        Per-epoch mean flow-matching loss (``loss``), epochs run.

    Examples
    --------
    >>> import numpy as np
    >>> from synthaug.generators.image import ImageTransformerGenerator
    >>> rng = np.random.default_rng(0)
    >>> images = rng.integers(0, 256, (40, 8, 8, 3), dtype=np.uint8)
    >>> dit = ImageTransformerGenerator(max_steps=2, batch_size=8, d_model=16, n_layers=1,
    ...                                 n_heads=2, sampling_steps=2, device="cpu",
    ...                                 random_state=0, progress=False)
    >>> out, labels = dit.fit(images, ["a", "b"] * 20).sample(2, conditions={"label": "b"})
    >>> out.shape, labels.tolist()
    ((2, 8, 8, 3), ['b', 'b'])
    """

    family = "transformer"
    tags = frozenset({"gpu", "exact_conditions"})
    sample_chunk: ClassVar[int] = 512

    def __init__(
        self,
        *,
        epochs: int = 1000,
        max_steps: int | None = 2000,
        batch_size: int = 64,
        learning_rate: float = 5e-4,
        d_model: int = 96,
        n_layers: int = 4,
        n_heads: int = 4,
        patch_size: int | None = None,
        class_dropout: float = 0.1,
        guidance: float = 2.0,
        sampling_steps: int = 8,
        sampler: str = "heun",
        time_shift: float = 1.0,
        ema_decay: float = 0.999,
        early_stopping_patience: int | None = None,
        device: str = "auto",
        compile: bool = False,
        bf16: bool = False,
        random_state: RandomState = None,
        progress: bool | None = None,
        epoch_callback: EpochCallback | None = None,
    ) -> None:
        self.epochs = epochs
        self.max_steps = max_steps
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.d_model = d_model
        self.n_layers = n_layers
        self.n_heads = n_heads
        self.patch_size = patch_size
        self.class_dropout = class_dropout
        self.guidance = guidance
        self.sampling_steps = sampling_steps
        self.sampler = sampler
        self.time_shift = time_shift
        self.ema_decay = ema_decay
        self.early_stopping_patience = early_stopping_patience
        self.device = device
        self.compile = compile
        self.bf16 = bf16
        self.random_state = random_state
        self.progress = progress
        self.epoch_callback = epoch_callback

    def _check_params(self) -> None:
        super()._check_params()
        for name in ("d_model", "n_layers", "n_heads", "sampling_steps"):
            check_positive_int(getattr(self, name), name)
        if self.d_model % self.n_heads:
            raise InvalidParameterError(
                f"n_heads ({self.n_heads}) must divide d_model ({self.d_model})."
            )
        check_int(self.patch_size, "patch_size", 1, allow_none=True)
        check_fraction(self.class_dropout, "class_dropout", open_high=True)
        check_number(self.guidance, "guidance", minimum=0)
        check_choice(self.sampler, "sampler", SAMPLERS)
        check_number(self.time_shift, "time_shift", minimum=0, open_low=True)
        check_fraction(self.ema_decay, "ema_decay", open_high=True)

    # -- networks ------------------------------------------------------------------------------
    def _canvas_for(self, height: int, width: int) -> Canvas:
        patch = self.patch_size
        if patch is None:
            patch = 2
            while -(-height // patch) * -(-width // patch) > MAX_AUTO_TOKENS:
                patch *= 2
        return patch_canvas(height, width, int(patch))

    def _arch(self) -> dict[str, Any]:
        return {"d_model": int(self.d_model), "n_layers": int(self.n_layers),
                "n_heads": int(self.n_heads)}

    def _make_modules(self) -> dict[str, Callable[[], nn.Module]]:
        a, c = self.arch_, self.canvas_
        return {"network": lambda: DiT(a["channels"], c.base_h, c.base_w, c.cell,
                                       a["d_model"], a["n_layers"], a["n_heads"],
                                       a["n_classes"])}

    # -- fit -----------------------------------------------------------------------------------
    def _train(self, data: Mapping[str, torch.Tensor], generator: torch.Generator
               ) -> TrainingHistory:
        dev = self.device_
        n = int(data["pixels"].shape[0])
        epochs, steps_per_epoch, b = self._budget(n)
        trained, update_average = self._averaged("network")
        from synthaug.generators.nn import maybe_compile

        net = maybe_compile(trained, self.compile)
        opt = adam(trained.parameters(), lr=self.learning_rate, device=dev)
        batcher = self._batcher(data, b, generator)
        null = int(self.arch_["n_classes"])
        drop = float(self.class_dropout)

        def step(epoch: int, s: int) -> dict[str, torch.Tensor]:
            if s == 0:
                batcher.new_epoch()
            x0, labels = self._real_batch(data, batcher.batch(s))
            if drop > 0:
                dropped = torch.rand(b, device=dev, generator=generator) < drop
                labels = torch.where(dropped, torch.full_like(labels, null), labels)
            t = sample_times(b, dev, generator)
            xt, target = flow_target(x0, t, generator)
            with autocast(dev, self.bf16):
                pred = net(xt, t, labels).float()
            loss = F.mse_loss(pred, target)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            update_average(epoch * steps_per_epoch + s)
            return {"loss": loss.detach()}

        return self._loop(step, steps_per_epoch=steps_per_epoch, rows_per_step=b,
                          monitor="loss", epochs=epochs)

    # -- sample --------------------------------------------------------------------------------
    def _draw(self, labels: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        c, net = self.canvas_, self.modules_["network"]
        noise = torch.randn((len(labels), int(self.arch_["channels"]), c.canvas_h, c.canvas_w),
                            device=self.device_, generator=generator)
        guidance = float(self.guidance) if self.class_dropout > 0 else 1.0
        velocity = guided_velocity(lambda x, t, y: net(x, t, y).float(), labels,
                                   int(self.arch_["n_classes"]), guidance)
        x0 = integrate_flow(velocity, noise, steps=int(self.sampling_steps),
                            sampler=self.sampler, shift=float(self.time_shift))
        return x0.clamp(-1.0, 1.0)
