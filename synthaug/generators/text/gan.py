"""``text.gan``: a conditional GAN in the latent space of ``text.vae`` (after LatentGAN and
"Adversarially regularized autoencoders", Zhao et al., 2018).

GANs over discrete tokens need policy gradients or relaxations (SeqGAN, Gumbel-softmax), which
are unstable and slow to train on a few hundred texts.  A GAN over the continuous codes of a
trained sequence VAE avoids both: ``text.vae`` is fitted first, the posterior means of the
training texts become the GAN's data, and a WGAN-GP (Gulrajani et al., 2017) learns them per
class (generator and critic are MLPs given the class one-hot).  Sampling draws a code from the
generator and decodes it with the VAE's decoder.  It can only add something when the VAE's
codes carry information: on short texts whose class says most of it, the VAE's KL term goes to
zero (posterior collapse) and this GAN learns noise the decoder ignores; ``free_bits`` keeps a
floor of information in every latent dimension for that reason.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import torch
import torch.nn.functional as F
from torch import nn

from synthaug.generators.base import register_generator
from synthaug.generators.nn import MLP, TrainingHistory, iter_slices, run_epochs
from synthaug.generators.nn.seqvae import GRUSeqVAE
from synthaug.generators.text.torch_base import EpochCallback
from synthaug.generators.text.vae import VAETextGenerator
from synthaug.utils.random import RandomState
from synthaug.utils.validation import check_positive_int

__all__ = ["LatentGANTextGenerator"]

#: critic steps per generator step, and the gradient penalty's weight (WGAN-GP's defaults)
_N_CRITIC = 5
_GP_WEIGHT = 10.0


@register_generator("text.gan")
class LatentGANTextGenerator(VAETextGenerator):
    """Conditional WGAN-GP over the codes of a label-conditional sequence VAE (module docstring).

    Parameters
    ----------
    gan_epochs : int, default=300
        Passes of the GAN over the training texts' codes (cheap: MLPs on ``d_latent``-wide
        vectors).
    noise_dim, gan_hidden : int, default=32, 256
        Generator input noise width and the hidden width of both MLPs (two layers each).
    free_bits : float, default=0.1
        As for ``text.vae`` (there 0): a floor that keeps information in the codes for the
        GAN to model.
    Other parameters
        As for ``text.vae``; ``epochs`` trains the VAE.

    Examples
    --------
    >>> from synthaug.generators.text import LatentGANTextGenerator
    >>> texts = ["a fine warm film", "great acting", "a dull mess", "boring and long"] * 10
    >>> labels = ["fresh", "fresh", "rotten", "rotten"] * 10
    >>> gen = LatentGANTextGenerator(epochs=1, gan_epochs=1, d_embed=16, d_hidden=32,
    ...                              max_length=16, device="cpu", random_state=0,
    ...                              progress=False).fit(texts, labels)
    >>> gen.sample(2, conditions={"label": "rotten"}, random_state=0)[1].tolist()
    ['rotten', 'rotten']
    """

    family = "gan"

    def __init__(
        self,
        *,
        epochs: int = 40,
        gan_epochs: int = 300,
        batch_size: int = 32,
        learning_rate: float = 1e-3,
        d_embed: int = 128,
        d_hidden: int = 256,
        d_latent: int = 32,
        noise_dim: int = 32,
        gan_hidden: int = 256,
        free_bits: float = 0.1,
        word_dropout: float = 0.3,
        kl_anneal: float = 0.3,
        vocab_size: int = 1000,
        max_length: int = 96,
        temperature: float = 1.0,
        top_k: int | None = 50,
        top_p: float = 0.95,
        deduplicate: bool = True,
        filter_confidence: float | None = None,
        max_draws: float = 10.0,
        early_stopping_patience: int | None = None,
        device: str = "auto",
        compile: bool = False,
        bf16: bool = False,
        random_state: RandomState = None,
        progress: bool | None = None,
        epoch_callback: EpochCallback | None = None,
    ) -> None:
        super().__init__(
            epochs=epochs, batch_size=batch_size, learning_rate=learning_rate, d_embed=d_embed,
            d_hidden=d_hidden, d_latent=d_latent, word_dropout=word_dropout,
            kl_anneal=kl_anneal, free_bits=free_bits, vocab_size=vocab_size, max_length=max_length,
            temperature=temperature, top_k=top_k, top_p=top_p, deduplicate=deduplicate,
            filter_confidence=filter_confidence, max_draws=max_draws,
            early_stopping_patience=early_stopping_patience, device=device, compile=compile,
            bf16=bf16, random_state=random_state, progress=progress,
            epoch_callback=epoch_callback)
        self.gan_epochs = gan_epochs
        self.noise_dim = noise_dim
        self.gan_hidden = gan_hidden

    def _check_params(self) -> None:
        super()._check_params()
        for name in ("gan_epochs", "noise_dim", "gan_hidden"):
            check_positive_int(getattr(self, name), name)

    def _prepare(self, texts, rng):  # type: ignore[no-untyped-def]
        arrays = super()._prepare(texts, rng)
        self.arch_ |= {"noise_dim": int(self.noise_dim), "gan_hidden": int(self.gan_hidden)}
        return arrays

    def _make_modules(self) -> dict[str, Callable[[], nn.Module]]:
        a = self.arch_
        k, width = a["n_prefix"], (a["gan_hidden"], a["gan_hidden"])
        return {**super()._make_modules(),
                "gan_g": lambda: MLP(a["noise_dim"] + k, width, a["d_latent"],
                                     activation="leaky_relu"),
                "gan_d": lambda: MLP(a["d_latent"] + k, width, 1, activation="leaky_relu")}

    def _train(self, data: Mapping[str, torch.Tensor], generator: torch.Generator
               ) -> TrainingHistory:
        history = super()._train(data, generator)
        vae: GRUSeqVAE = self.modules_["vae"]  # type: ignore[assignment]
        seq, used = data["seq"], data["used"]
        classes = seq[:, 0] - int(self.arch_["n_tokens"])
        vae.eval()
        with torch.no_grad():  # the GAN's data: the posterior means of the training texts
            codes = torch.cat([vae.encode(seq[a:b, :int(used[a:b].max()) + 1], used[a:b])[0]
                               for a, b in iter_slices(len(seq), 512)])
        vae.train()
        self.gan_history_ = self._train_gan(codes, classes, generator)
        return history

    def _train_gan(self, codes: torch.Tensor, classes: torch.Tensor,
                   generator: torch.Generator) -> TrainingHistory:
        g, d = self.modules_["gan_g"], self.modules_["gan_d"]
        k = int(self.arch_["n_prefix"])
        dev = codes.device
        onehot = F.one_hot(classes, k).float()
        opt_g = torch.optim.Adam(g.parameters(), lr=1e-4, betas=(0.5, 0.9))
        opt_d = torch.optim.Adam(d.parameters(), lr=1e-4, betas=(0.5, 0.9))
        batch = min(int(self.batch_size) * 2, len(codes))
        steps = max(1, math.ceil(len(codes) / batch))

        def draw(n: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
            idx = torch.randint(0, len(codes), (n,), device=dev, generator=generator)
            noise = torch.randn((n, int(self.arch_["noise_dim"])), device=dev,
                                generator=generator)
            return codes[idx], onehot[idx], noise

        def step(epoch: int, s: int) -> dict[str, torch.Tensor]:
            for _ in range(_N_CRITIC):
                real, cond, noise = draw(batch)
                fake = g(torch.cat([noise, cond], dim=1)).detach()
                mix = torch.rand((batch, 1), device=dev, generator=generator)
                between = (mix * real + (1 - mix) * fake).requires_grad_(True)
                score = d(torch.cat([between, cond], dim=1))
                grad = torch.autograd.grad(score.sum(), between, create_graph=True)[0]
                penalty = ((grad.norm(dim=1) - 1) ** 2).mean()
                loss_d = (d(torch.cat([fake, cond], dim=1)).mean()
                          - d(torch.cat([real, cond], dim=1)).mean() + _GP_WEIGHT * penalty)
                opt_d.zero_grad(set_to_none=True)
                loss_d.backward()
                opt_d.step()
            _, cond, noise = draw(batch)
            loss_g = -d(torch.cat([g(torch.cat([noise, cond], dim=1)), cond], dim=1)).mean()
            opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
            opt_g.step()
            return {"loss": loss_d.detach(), "loss_g": loss_g.detach()}

        return run_epochs(step, epochs=int(self.gan_epochs), steps_per_epoch=steps,
                          rows_per_step=batch, progress=self.progress,
                          desc=f"{self.name} (latent GAN)",
                          divergence_hint=self._divergence_hint())

    def _latents(self, classes: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        k = int(self.arch_["n_prefix"])
        noise = torch.randn((len(classes), int(self.arch_["noise_dim"])), device=classes.device,
                            generator=generator)
        out: torch.Tensor = self.modules_["gan_g"](
            torch.cat([noise, F.one_hot(classes, k).float()], dim=1))
        return out
