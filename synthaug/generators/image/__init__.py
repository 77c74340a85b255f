"""Image generators (class-conditional; built on :mod:`synthaug.generators.image.base`)."""

from synthaug.generators.image.base import ImageGenerator

__all__ = ["ImageGenerator"]
