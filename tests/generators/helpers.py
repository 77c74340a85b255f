"""Generators with small budgets, shared by the generator tests."""

from __future__ import annotations

import pandas as pd

from synthaug import get_generator
from synthaug.generators.base import BaseGenerator

# Small budgets so deep generators really train, but only for an epoch or two.
FAST_PARAMS: dict[str, dict[str, object]] = {
    "tabular.copula": {},
    "tabular.vae": {"epochs": 2, "batch_size": 64},
    "tabular.gan": {"epochs": 2, "batch_size": 60},
    "tabular.transformer": {"epochs": 2, "batch_size": 64},
    # a few steps of networks a few channels wide: the contract, not the quality
    "image.gan": {"width": 4, "critic_width": 4, "noise_dim": 4, "embedding_dim": 4,
                  "max_steps": 3, "batch_size": 16},
    "image.vae": {"width": 4, "critic_width": 4, "latent_dim": 4, "embedding_dim": 4,
                  "max_steps": 3, "batch_size": 16},
    "image.transformer": {"d_model": 8, "n_layers": 1, "n_heads": 2, "sampling_steps": 2,
                          "max_steps": 3, "batch_size": 16},
    # long enough for every contract text (no truncation warning), small enough to fit in ~1 s
    "text.transformer": {"epochs": 2, "batch_size": 32, "d_model": 32, "n_layers": 1,
                         "n_heads": 2, "vocab_size": 300, "max_length": 48},
    "text.gan": {"epochs": 2, "gan_epochs": 2, "batch_size": 32, "d_embed": 16, "d_hidden": 32,
                 "d_latent": 8, "noise_dim": 8, "gan_hidden": 32, "vocab_size": 300,
                 "max_length": 48},
    "text.vae": {"epochs": 2, "batch_size": 32, "d_embed": 16, "d_hidden": 32, "d_latent": 8,
                 "vocab_size": 300, "max_length": 48},
}


def fitted(name: str, frame: pd.DataFrame, seed: int = 0) -> BaseGenerator:
    params = {**FAST_PARAMS.get(name, {}), "random_state": seed, "device": "cpu"}
    return get_generator(name, **params).fit(frame)
