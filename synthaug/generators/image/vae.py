"""Class-conditional convolutional VAE, with three things that keep its images from blurring.

A plain VAE blurs for three separate reasons, and each has its own remedy here:

1. **A mis-weighted likelihood.**  A Gaussian decoder with a fixed variance (or a plain MSE)
   weighs the reconstruction against the KL term arbitrarily; too little weight and the
   decoder learns the class mean.  The decoder's variance is instead set to its optimum, the
   batch's mean squared error (sigma-VAE, Rybkin et al. 2021), so the reconstruction term
   sharpens as the fit improves.
2. **Holes in the prior.**  Codes of real images do not fill the standard normal prior;
   decoding prior draws from between them gives averages of images.  After training, a
   Gaussian per class is fitted to the codes of the training images (ex-post density
   estimation, Ghosh et al. 2020) and samples are drawn from it (``prior="fitted"``; shrunk
   towards the standard normal for small classes).
3. **Averaging under uncertainty.**  Where several sharp images are equally likely, a pixel
   loss prefers their mean.  A spectrally normalised projection critic scores the
   reconstructions (with DiffAugment, as in ``image.gan``), and the decoder also minimises its
   hinge loss (VQGAN's adversarial term, Esser et al. 2021), weighted adaptively by the ratio
   of the two losses' gradient norms at the decoder's last layer times
   ``adversarial_weight``, from a quarter of the way into training.
   ``adversarial_weight=0`` turns it off and costs half as much per step.

The benchmark (``benchmarks/image.py``) measures the effect of each as the sharpness of
samples (mean squared Laplacian relative to real images) and the classification accuracy
score.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, cast

import torch
import torch.nn.functional as F
from torch import nn

from synthaug.generators.base import register_generator
from synthaug.generators.image.torch_base import EpochCallback, TorchImageGenerator
from synthaug.generators.nn import (
    Canvas,
    ConvDecoder,
    ConvEncoder,
    ProjectionCritic,
    TrainingHistory,
    autocast,
    build_module,
    diff_augment,
    iter_slices,
)
from synthaug.generators.nn.optim import adam
from synthaug.utils.random import RandomState
from synthaug.utils.validation import check_bool, check_choice, check_number, check_positive_int

__all__ = ["ImageVAEGenerator"]

#: the adversarial term starts after this share of the training steps (the decoder first
#: learns to reconstruct; a critic facing noise only teaches it to make noise)
_ADVERSARIAL_START = 0.25
#: clamp of VQGAN's adaptive weight
_MAX_ADAPTIVE = 1e4
#: smallest decoder variance (of images in [-1, 1]); keeps the likelihood finite
_MIN_VARIANCE = 1e-4


class _Encoder(nn.Module):
    """Image and class -> the mean and log-variance of the code."""

    def __init__(self, channels: int, n_classes: int, canvas: Canvas, width: int,
                 embedding_dim: int, latent_dim: int) -> None:
        super().__init__()
        self.features = ConvEncoder(channels, canvas, width, spectral=False, norm=True)
        self.embed = nn.Embedding(n_classes, embedding_dim)
        self.head = nn.Linear(self.features.out_features + embedding_dim, 2 * latent_dim)

    def forward(self, x: torch.Tensor, labels: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor]:
        h = torch.cat([self.features(x).flatten(1), self.embed(labels)], dim=1)
        mean, log_var = self.head(h).chunk(2, dim=1)
        return mean, log_var.clamp(-12.0, 8.0)


@register_generator("image.vae")
class ImageVAEGenerator(TorchImageGenerator):
    """Class-conditional convolutional VAE: optimal-variance likelihood, a fitted prior and
    an adversarial term (see the module docstring for why each).

    Parameters
    ----------
    epochs : int, default=1000
        Passes over the training images, up to ``max_steps`` steps in all.
    max_steps : int or None, default=2000
        Most optimisation steps.
    batch_size : int, default=64
        Images per step.
    learning_rate : float, default=1e-3
        Adam step size of the encoder and decoder (the critic's is a fifth of it).
    latent_dim : int, default=32
        Size of the code.
    width : int, default=32
        Channels at half resolution of the encoder and decoder (doubling per halving).
    embedding_dim : int, default=32
        Width of the class embeddings.
    beta : float, default=1.0
        Weight of the KL term.
    decoder_variance : float or None, default=None
        Variance of the Gaussian decoder, on images scaled to ``[-1, 1]``; ``None`` sets it to
        its optimum, the batch's mean squared error (sigma-VAE).  2.0 is the classic VAE that
        sums squared errors on ``[0, 1]`` pixels (the baseline that blurs).
    adversarial_weight : float, default=0.5
        Factor on the adaptive weight of the adversarial term; 0 turns it (and the critic)
        off.
    critic_width : int, default=32
        The critic's channels at half resolution.
    prior : {"fitted", "standard"}, default="fitted"
        Sample codes from a Gaussian per class fitted to the training codes, or from N(0, I).
    augment : bool, default=True
        DiffAugment on what the critic sees.
    early_stopping_patience : int or None, default=None
        Stop when the VAE loss (``elbo``) has not fallen for this many epochs, keeping the best
        epoch's weights.
    device, compile, bf16, random_state, progress, epoch_callback
        As for every torch generator (see :class:`~synthaug.generators.torch.
        TorchGeneratorMixin`).  During training the prior is the standard normal (the
        fitted one exists once training is over).

    Attributes
    ----------
    history_ : TrainingHistory
        Per-epoch means of ``elbo`` (negative ELBO per pixel), ``recon``, ``kl``, ``adv``
        (the decoder's adversarial loss, 0 before it starts) and ``loss_d`` (the critic's).
    prior_mean_, prior_scale_ : torch.Tensor
        The fitted prior: per class, the mean ``(K, latent_dim)`` and a Cholesky factor
        ``(K, latent_dim, latent_dim)`` of the covariance.  Statistics of codes, not images.

    Examples
    --------
    >>> import numpy as np
    >>> from synthaug.generators.image import ImageVAEGenerator
    >>> rng = np.random.default_rng(0)
    >>> images = rng.integers(0, 256, (40, 8, 8), dtype=np.uint8)
    >>> vae = ImageVAEGenerator(max_steps=2, batch_size=8, width=8, latent_dim=4,
    ...                         embedding_dim=4, critic_width=8, device="cpu",
    ...                         random_state=0, progress=False).fit(images, [0, 1] * 20)
    >>> out, labels = vae.sample(3, conditions={"label": 0}, random_state=0)
    >>> out.shape, labels.tolist()
    ((3, 8, 8), [0, 0, 0])
    """

    family = "vae"
    tags = frozenset({"gpu", "exact_conditions"})

    def __init__(
        self,
        *,
        epochs: int = 1000,
        max_steps: int | None = 2000,
        batch_size: int = 64,
        learning_rate: float = 1e-3,
        latent_dim: int = 32,
        width: int = 32,
        embedding_dim: int = 32,
        beta: float = 1.0,
        decoder_variance: float | None = None,
        adversarial_weight: float = 0.5,
        critic_width: int = 32,
        prior: str = "fitted",
        augment: bool = True,
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
        self.latent_dim = latent_dim
        self.width = width
        self.embedding_dim = embedding_dim
        self.beta = beta
        self.decoder_variance = decoder_variance
        self.adversarial_weight = adversarial_weight
        self.critic_width = critic_width
        self.prior = prior
        self.augment = augment
        self.early_stopping_patience = early_stopping_patience
        self.device = device
        self.compile = compile
        self.bf16 = bf16
        self.random_state = random_state
        self.progress = progress
        self.epoch_callback = epoch_callback

    def _check_params(self) -> None:
        super()._check_params()
        for name in ("latent_dim", "width", "embedding_dim", "critic_width"):
            check_positive_int(getattr(self, name), name)
        check_number(self.beta, "beta", minimum=0)
        check_number(self.decoder_variance, "decoder_variance", minimum=0, open_low=True,
                     allow_none=True)
        check_number(self.adversarial_weight, "adversarial_weight", minimum=0)
        check_choice(self.prior, "prior", ("fitted", "standard"))
        check_bool(self.augment, "augment")

    # -- networks ------------------------------------------------------------------------------
    def _arch(self) -> dict[str, Any]:
        return {"latent_dim": int(self.latent_dim), "width": int(self.width),
                "embedding_dim": int(self.embedding_dim)}

    def _make_modules(self) -> dict[str, Callable[[], nn.Module]]:
        a, canvas = self.arch_, self.canvas_
        return {
            "encoder": lambda: _Encoder(a["channels"], a["n_classes"], canvas, a["width"],
                                        a["embedding_dim"], a["latent_dim"]),
            "decoder": lambda: ConvDecoder(a["latent_dim"], a["n_classes"], canvas,
                                           a["width"], a["channels"], a["embedding_dim"]),
        }

    # -- fit -----------------------------------------------------------------------------------
    def _train(self, data: Mapping[str, torch.Tensor], generator: torch.Generator
               ) -> TrainingHistory:
        a, dev, canvas = self.arch_, self.device_, self.canvas_
        n = int(data["pixels"].shape[0])
        epochs, steps_per_epoch, b = self._budget(n)
        encoder, decoder = self._compiled("encoder"), self._compiled("decoder")
        last = cast(ConvDecoder, self.modules_["decoder"]).out.weight
        self.__dict__.pop("prior_mean_", None)  # a refit's callbacks must not see the old one
        params = [p for name in ("encoder", "decoder") for p in
                  self.modules_[name].parameters()]
        opt = adam(params, lr=self.learning_rate, device=dev)
        adversarial = self.adversarial_weight > 0
        if adversarial:
            critic_eager = build_module(
                lambda: ProjectionCritic(a["channels"], a["n_classes"], canvas,
                                         int(self.critic_width)), dev, generator).train()
            critic = self._maybe_compiled(critic_eager)
            # a slower critic: it only has to keep up with a decoder that mostly reconstructs
            opt_d = adam(critic_eager.parameters(), lr=self.learning_rate / 5,
                         betas=(0.5, 0.9), device=dev)
        start = int(_ADVERSARIAL_START * epochs * steps_per_epoch)
        batcher = self._batcher(data, b, generator)
        pixels = float(a["channels"] * canvas.canvas_h * canvas.canvas_w)
        zero = torch.zeros((), device=dev)
        fixed = None if self.decoder_variance is None else torch.tensor(
            float(self.decoder_variance), device=dev)

        def aug(x: torch.Tensor) -> torch.Tensor:
            return diff_augment(x, generator) if self.augment else x

        def step(epoch: int, s: int) -> dict[str, torch.Tensor]:
            if s == 0:
                batcher.new_epoch()
            x, labels = self._real_batch(data, batcher.batch(s))
            with autocast(dev, self.bf16):
                mean, log_var = encoder(x, labels)
            mean, log_var = mean.float(), log_var.float()
            eps = torch.randn(mean.shape, device=dev, generator=generator)
            z = mean + eps * torch.exp(0.5 * log_var)
            with autocast(dev, self.bf16):
                recon = decoder(z, labels).float()
            sq = (recon - x).pow(2).flatten(1).sum(dim=1)
            # sigma-VAE: the decoder variance at its optimum, the batch's mean squared error
            variance = (sq.mean() / pixels).detach().clamp_min(_MIN_VARIANCE) if fixed is None \
                else fixed
            nll = (0.5 * sq / variance).mean() / pixels + 0.5 * torch.log(variance)
            kl = (-0.5 * (1.0 + log_var - mean.pow(2) - log_var.exp()).sum(dim=1)).mean()
            elbo = nll + self.beta * kl / pixels
            loss = elbo
            adv, loss_d = zero, zero
            if adversarial and epoch * steps_per_epoch + s >= start:
                critic_eager.requires_grad_(False)
                with autocast(dev, self.bf16):
                    adv = -critic(aug(recon), labels).float().mean()
                loss = elbo + self._adaptive_weight(elbo, adv, last) * adv
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if adversarial and epoch * steps_per_epoch + s >= start:
                critic_eager.requires_grad_(True)
                with autocast(dev, self.bf16):
                    scores = critic(torch.cat([aug(x), aug(recon.detach())]),
                                    torch.cat([labels, labels])).float()
                loss_d = F.relu(1.0 - scores[:b]).mean() + F.relu(1.0 + scores[b:]).mean()
                opt_d.zero_grad(set_to_none=True)
                loss_d.backward()
                opt_d.step()
            return {"elbo": elbo.detach(), "recon": nll.detach(), "kl": kl.detach(),
                    "adv": adv.detach(), "loss_d": loss_d.detach()}

        history = self._loop(step, steps_per_epoch=steps_per_epoch, rows_per_step=b,
                             monitor="elbo", epochs=epochs)
        self._fit_prior(data)
        return history

    def _adaptive_weight(self, rec: torch.Tensor, adv: torch.Tensor, last: torch.Tensor
                         ) -> torch.Tensor:
        """VQGAN's balance: ``|grad rec| / |grad adv|`` at the decoder's last layer, so the
        adversarial term neither vanishes nor drowns the reconstruction (no host sync)."""
        (g_rec,) = torch.autograd.grad(rec, last, retain_graph=True)
        (g_adv,) = torch.autograd.grad(adv, last, retain_graph=True)
        ratio = g_rec.norm() / (g_adv.norm() + 1e-4)
        return (ratio.clamp(0.0, _MAX_ADAPTIVE) * self.adversarial_weight).detach()

    def _maybe_compiled(self, module: nn.Module) -> nn.Module:
        from synthaug.generators.nn import maybe_compile

        return maybe_compile(module, self.compile)

    @torch.no_grad()
    def _fit_prior(self, data: Mapping[str, torch.Tensor]) -> None:
        """A Gaussian per class over the codes (posterior means) of the training images."""
        d, k = int(self.arch_["latent_dim"]), int(self.arch_["n_classes"])
        dev = self.device_
        encoder = self.modules_["encoder"].eval()
        labels = data["labels"]
        codes = torch.empty((len(labels), d), device=dev)
        for lo, hi in iter_slices(len(labels), 1024):
            x, y = self._real_batch(data, torch.arange(lo, hi, device=dev))
            with autocast(dev, self.bf16):
                codes[lo:hi] = encoder(x, y)[0].float()
        encoder.train()
        onehot = F.one_hot(labels, k).to(codes.dtype)  # (N, K)
        counts = onehot.sum(dim=0)  # a class with no image cannot occur: it has no label
        means = (onehot.t() @ codes) / counts[:, None]
        centred = codes - means[labels]
        cov = torch.einsum("nk,ni,nj->kij", onehot, centred, centred) / counts[:, None, None]
        # shrink towards N(0, I) by d / (n + d): a class of a handful of images gets the
        # standard prior's spread instead of a degenerate Gaussian around its few codes
        shrink = (d / (counts + d))[:, None, None]
        eye = torch.eye(d, device=dev)
        cov = (1.0 - shrink) * cov + shrink * eye + _MIN_VARIANCE * eye
        self.prior_mean_ = means.contiguous()
        self.prior_scale_ = torch.linalg.cholesky(cov).contiguous()

    # -- sample --------------------------------------------------------------------------------
    def _draw(self, labels: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        d = int(self.arch_["latent_dim"])
        eps = torch.randn((len(labels), d), device=self.device_, generator=generator)
        if self.prior == "fitted" and "prior_mean_" in self.__dict__:  # (not while training)
            z = self.prior_mean_[labels] + (self.prior_scale_[labels] @ eps[:, :, None])[..., 0]
        else:
            z = eps
        out: torch.Tensor = self.modules_["decoder"](z, labels)
        return out

    # -- persistence ---------------------------------------------------------------------------
    def _extra_state(self) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        return {}, {"prior_mean": self.prior_mean_, "prior_scale": self.prior_scale_}

    def _set_extra_state(self, state: Mapping[str, Any], tensors: Mapping[str, torch.Tensor]
                         ) -> None:
        self.prior_mean_ = tensors["prior_mean"].to(self.device_)
        self.prior_scale_ = tensors["prior_scale"].to(self.device_)
