"""Tabular generators.  Importing this package registers the built-in ones."""

from synthaug.generators.tabular.copula import GaussianCopulaGenerator
from synthaug.generators.tabular.gan import CTGANGenerator
from synthaug.generators.tabular.transformer import TabularTransformerGenerator
from synthaug.generators.tabular.vae import TVAEGenerator

__all__ = [
    "CTGANGenerator",
    "GaussianCopulaGenerator",
    "TVAEGenerator",
    "TabularTransformerGenerator",
]
