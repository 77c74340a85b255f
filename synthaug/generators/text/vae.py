"""``text.vae``: a label-conditional GRU sequence VAE (:mod:`synthaug.generators.nn.seqvae`).

Texts are byte-level BPE ids of a tokenizer fitted on them, as for ``text.transformer``
(:class:`~synthaug.generators.text.torch_base.BPETextGenerator`: truncation, the tokenizer
saved as JSON).  Training maximises the evidence lower bound with two remedies for posterior
collapse (Bowman et al., 2016): the KL term's weight rises linearly from 0 to 1 over the first
``kl_anneal`` share of the steps, and ``word_dropout`` of the decoder's input tokens are
replaced by a mask token, so the decoder must read the latent ``z``.  Sampling draws ``z``
from the prior (``text.gan`` draws it from a GAN instead), then decodes with
``temperature``, ``top_k`` and ``top_p``; the GRU state is the decoding cache.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import torch
from torch import nn

from synthaug.data.text.container import Texts
from synthaug.exceptions import InvalidParameterError
from synthaug.generators.base import register_generator
from synthaug.generators.nn import EpochBatcher, TrainingHistory, autocast
from synthaug.generators.nn.gpt import draw_next
from synthaug.generators.nn.seqvae import GRUSeqVAE
from synthaug.generators.text.torch_base import BPETextGenerator, EpochCallback
from synthaug.utils.random import RandomState
from synthaug.utils.validation import check_fraction, check_int, check_number, check_positive_int

__all__ = ["VAETextGenerator"]


@register_generator("text.vae")
class VAETextGenerator(BPETextGenerator):
    """Label-conditional GRU sequence VAE for texts (see the module docstring).

    Parameters
    ----------
    epochs : int, default=40
        Passes over the training texts.
    batch_size : int, default=32
        Texts per step.
    learning_rate : float, default=1e-3
        Adam step size.
    d_embed, d_hidden, d_latent : int, default=128, 256, 32
        Token embedding, GRU state and latent widths.
    word_dropout : float, default=0.3
        Share of decoder input tokens replaced by a mask token in training.
    kl_anneal : float, default=0.3
        Share of the steps over which the KL weight rises from 0 to 1.
    free_bits : float, default=0.0
        Nats per latent dimension (averaged over a batch) below which the KL term is not
        pushed further down (Kingma et al., 2016); above 0 it keeps the codes informative
        where the decoder could do without them.
    vocab_size, max_length, temperature, top_k, top_p
        As for ``text.transformer``.
    deduplicate, filter_confidence, max_draws
        Screening shared by every text generator (:mod:`synthaug.generators.text.base`).
    device, compile, bf16, random_state, progress, epoch_callback, early_stopping_patience
        As for every torch generator (early stopping watches the training loss here).

    Examples
    --------
    >>> from synthaug.generators.text import VAETextGenerator
    >>> texts = ["a fine warm film", "great acting", "a dull mess", "boring and long"] * 10
    >>> labels = ["fresh", "fresh", "rotten", "rotten"] * 10
    >>> gen = VAETextGenerator(epochs=1, d_embed=16, d_hidden=32, max_length=16, device="cpu",
    ...                        random_state=0, progress=False).fit(texts, labels)
    >>> gen.sample(2, conditions={"label": "fresh"}, random_state=0)[1].tolist()
    ['fresh', 'fresh']
    """

    family = "vae"
    tags = frozenset({"gpu", "exact_conditions"})

    def __init__(
        self,
        *,
        epochs: int = 40,
        batch_size: int = 32,
        learning_rate: float = 1e-3,
        d_embed: int = 128,
        d_hidden: int = 256,
        d_latent: int = 32,
        word_dropout: float = 0.3,
        kl_anneal: float = 0.3,
        free_bits: float = 0.0,
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
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.d_embed = d_embed
        self.d_hidden = d_hidden
        self.d_latent = d_latent
        self.word_dropout = word_dropout
        self.kl_anneal = kl_anneal
        self.free_bits = free_bits
        self.vocab_size = vocab_size
        self.max_length = max_length
        self.temperature = temperature
        self.top_k = top_k
        self.top_p = top_p
        self.deduplicate = deduplicate
        self.filter_confidence = filter_confidence
        self.max_draws = max_draws
        self.early_stopping_patience = early_stopping_patience
        self.device = device
        self.compile = compile
        self.bf16 = bf16
        self.random_state = random_state
        self.progress = progress
        self.epoch_callback = epoch_callback

    def _check_params(self) -> None:
        super()._check_params()
        for name in ("d_embed", "d_hidden", "d_latent"):
            check_positive_int(getattr(self, name), name)
        check_int(self.vocab_size, "vocab_size", 257)
        check_int(self.max_length, "max_length", 1)
        check_number(self.temperature, "temperature", minimum=0, open_low=True)
        check_int(self.top_k, "top_k", 1, allow_none=True)
        check_fraction(self.top_p, "top_p", open_low=True)
        check_fraction(self.word_dropout, "word_dropout", open_high=True)
        check_fraction(self.kl_anneal, "kl_anneal")
        check_number(self.free_bits, "free_bits", minimum=0)
        if self.early_stopping_patience is not None and self.kl_anneal > 0:
            raise InvalidParameterError(
                "early_stopping_patience watches the loss, which rises while the KL weight is "
                "annealed; use it with kl_anneal=0, or set it to None.")

    # -- fit -----------------------------------------------------------------------------------
    def _prepare(self, texts: Texts, rng: np.random.Generator) -> dict[str, np.ndarray]:
        seq, target = self._tokenize(texts)
        self.arch_ = {"n_tokens": self.tokenizer_.n_tokens,
                      "n_prefix": max(1, len(self.schema_.classes)),
                      "d_embed": int(self.d_embed), "d_hidden": int(self.d_hidden),
                      "d_latent": int(self.d_latent)}
        return {"seq": seq, "target": target,
                "used": (target != -100).sum(axis=1).astype(np.int64)}

    def _make_modules(self) -> dict[str, Callable[[], nn.Module]]:
        a = self.arch_
        return {"vae": lambda: GRUSeqVAE(a["n_tokens"], a["n_prefix"], a["d_embed"],
                                         a["d_hidden"], a["d_latent"])}

    def _train(self, data: Mapping[str, torch.Tensor], generator: torch.Generator
               ) -> TrainingHistory:
        seq, target, used = data["seq"], data["target"], data["used"]
        dev = seq.device
        module = self.modules_["vae"]
        model = self._compiled("vae")
        optimizer = torch.optim.Adam(module.parameters(), lr=self.learning_rate)
        batcher = EpochBatcher(len(seq), self.batch_size, dev, generator)
        anneal = max(1, round(float(self.kl_anneal) * self.epochs * batcher.steps))
        d_latent = int(self.arch_["d_latent"])
        self.tokens_seen_ = 0

        def step(epoch: int, s: int) -> dict[str, torch.Tensor]:
            idx = batcher.batch(s)
            longest, count = torch.stack([used[idx].max(), used[idx].sum()]).tolist()
            self.tokens_seen_ += count
            ids, tgt = seq[idx, :longest + 1], target[idx, :longest]
            noise = torch.randn((len(idx), d_latent), device=dev, generator=generator)
            keep = torch.rand(ids[:, :-1].shape, device=dev, generator=generator)
            keep = keep >= float(self.word_dropout)
            keep[:, 0] = True  # the class token is always read
            beta = min(1.0, (epoch * batcher.steps + s) / anneal) if self.kl_anneal else 1.0
            with autocast(dev, self.bf16):
                rec, kl = model(ids, tgt, used[idx], noise, keep, float(self.free_bits))
            loss = (rec + beta * kl) / len(idx)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(module.parameters(), 5.0, foreach=True)
            optimizer.step()
            return {"loss": loss.detach(), "kl": (kl / len(idx)).detach(),
                    "rec_per_token": (rec / max(count, 1)).detach()}

        return self._loop(step, steps_per_epoch=batcher.steps, rows_per_step=batcher.batch_size,
                          on_epoch_start=lambda epoch: batcher.new_epoch())

    # -- sample --------------------------------------------------------------------------------
    def _latents(self, classes: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Latent vectors to decode: the prior's (``text.gan`` draws them from its GAN)."""
        return torch.randn((len(classes), int(self.arch_["d_latent"])), device=classes.device,
                           generator=generator)

    def _decode(self, classes: torch.Tensor, generator: torch.Generator) -> list[str]:
        vae: GRUSeqVAE = self.modules_["vae"]  # type: ignore[assignment]
        k, dev = len(classes), classes.device
        end = self.tokenizer_.end_id
        limit = int(self.max_length)
        top_k = None if self.top_k is None else int(self.top_k)
        z = self._latents(classes, generator)
        prefix = classes + vae.n_tokens
        h = vae.start(prefix, z)
        tok = prefix
        out = torch.full((k, limit), end, dtype=torch.long, device=dev)
        done = torch.zeros(k, dtype=torch.bool, device=dev)
        with autocast(dev, self.bf16):
            for t in range(limit):
                logits, h = vae.step(tok, z, h)
                tok = draw_next(logits, generator, temperature=float(self.temperature),
                                top_k=top_k, top_p=float(self.top_p),
                                ban=end if t == 0 else None)
                tok = torch.where(done, end, tok)
                out[:, t] = tok
                done |= tok == end
                if (t + 1) % 8 == 0 and bool(done.all()):
                    break
        return self._texts_of(out.cpu().numpy())
