"""Generators: the contract in :mod:`synthaug.generators.base`, families per modality."""

from synthaug.generators.base import BaseGenerator, get_generator, list_generators

__all__ = ["BaseGenerator", "get_generator", "list_generators"]
