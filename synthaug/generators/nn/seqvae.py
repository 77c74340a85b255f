"""A GRU sequence VAE with a prefix (class) token, after Bowman et al. (2016).

The encoder reads a text's tokens and, with its class, gives the posterior ``N(mu, sigma)``
of a latent vector ``z``; the decoder starts from ``z`` and the class and predicts the tokens
one by one, ``z`` fed at every step.  Word dropout (replacing decoder inputs by a mask token)
and KL annealing, both owned by the training loop, keep the decoder from ignoring ``z``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["GRUSeqVAE"]


class GRUSeqVAE(nn.Module):
    """Conditional GRU sequence VAE over ``n_tokens`` tokens (see the module docstring).

    Token ids: ``0 .. n_tokens - 1`` are read and predicted, ``n_tokens .. n_tokens + n_prefix
    - 1`` are class tokens (read at position 0), and ``mask_id = n_tokens + n_prefix`` is the
    word-dropout mask.

    Examples
    --------
    >>> import torch
    >>> from synthaug.generators.nn import build_module
    >>> from synthaug.generators.nn.seqvae import GRUSeqVAE
    >>> net = build_module(lambda: GRUSeqVAE(10, 2, 8, 16, 4), torch.device("cpu"),
    ...                    torch.Generator().manual_seed(0))
    >>> seq = torch.tensor([[10, 3, 4, 0], [11, 5, 0, 0]])
    >>> mu, logvar = net.encode(seq, torch.tensor([3, 2]))
    >>> logits = net.decode_all(seq[:, :-1], mu)
    >>> mu.shape, logits.shape
    (torch.Size([2, 4]), torch.Size([2, 3, 10]))
    """

    def __init__(self, n_tokens: int, n_prefix: int, d_embed: int, d_hidden: int,
                 d_latent: int) -> None:
        super().__init__()
        self.n_tokens = n_tokens
        self.mask_id = n_tokens + n_prefix
        self.tok = nn.Embedding(n_tokens + n_prefix + 1, d_embed)
        self.tok.init_std = 0.1  # type: ignore[assignment]
        self.encoder = nn.GRU(d_embed, d_hidden, batch_first=True)
        self.to_stats = nn.Linear(d_hidden + d_embed, 2 * d_latent)
        self.to_h0 = nn.Linear(d_latent + d_embed, d_hidden)
        self.decoder = nn.GRU(d_embed + d_latent, d_hidden, batch_first=True)
        self.out = nn.Linear(d_hidden, n_tokens)

    def encode(self, seq: torch.Tensor, lengths: torch.Tensor
               ) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior mean and log-variance of ``seq`` ``(b, t)`` (class token first), whose
        ``lengths`` tokens after it are the text (and end token)."""
        states, _ = self.encoder(self.tok(seq[:, 1:]))
        last = (lengths - 1).clamp(min=0).view(-1, 1, 1).expand(-1, 1, states.shape[-1])
        h = states.gather(1, last).squeeze(1)
        mu, logvar = self.to_stats(torch.cat([h, self.tok(seq[:, 0])], dim=1)).chunk(2, dim=1)
        return mu, logvar.clamp(-10.0, 10.0)

    def start(self, prefix: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """The decoder's first hidden state ``(1, b, d_hidden)`` from class tokens and ``z``."""
        return torch.tanh(self.to_h0(torch.cat([z, self.tok(prefix)], dim=1))).unsqueeze(0)

    def decode_all(self, inputs: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """Teacher-forced logits ``(b, t, n_tokens)`` for decoder ``inputs`` (class token
        first, then the text's tokens, some masked)."""
        h0 = self.start(inputs[:, 0], z)
        x = torch.cat([self.tok(inputs), z.unsqueeze(1).expand(-1, inputs.shape[1], -1)], dim=2)
        states, _ = self.decoder(x, h0)
        out: torch.Tensor = self.out(states)
        return out

    def step(self, token: torch.Tensor, z: torch.Tensor, h: torch.Tensor
             ) -> tuple[torch.Tensor, torch.Tensor]:
        """One decoding step: logits for the next token after ``token`` ``(b,)``, new state."""
        x = torch.cat([self.tok(token), z], dim=1).unsqueeze(1)
        states, h = self.decoder(x, h)
        return self.out(states[:, 0]), h

    def forward(self, seq: torch.Tensor, target: torch.Tensor, lengths: torch.Tensor,
                noise: torch.Tensor, keep: torch.Tensor, free_bits: float = 0.0
                ) -> tuple[torch.Tensor, torch.Tensor]:
        """Summed reconstruction loss and summed KL of a batch; ``noise`` ``N(0, 1)`` of the
        latent's shape, ``keep`` the decoder inputs not dropped (the class token is kept);
        each latent dimension's batch-mean KL counts as at least ``free_bits``."""
        mu, logvar = self.encode(seq, lengths)
        z = mu + noise * torch.exp(0.5 * logvar)
        inputs = torch.where(keep, seq[:, :-1], torch.full_like(seq[:, :-1], self.mask_id))
        logits = self.decode_all(inputs, z)
        rec = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), target.reshape(-1),
                              ignore_index=-100, reduction="sum")
        per_dim = 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).mean(dim=0)
        kl = per_dim.clamp(min=free_bits).sum() * mu.shape[0]
        return rec, kl
