"""Text generators (label-conditional; built on :mod:`synthaug.generators.text.base`)."""

from synthaug.generators.text.base import TextGenerator

__all__ = ["TextGenerator"]
