"""Tabular generators.  Importing this package registers the built-in ones."""

from synthaug.generators.tabular.copula import GaussianCopulaGenerator

__all__ = ["GaussianCopulaGenerator"]
