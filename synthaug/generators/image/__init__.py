"""Image generators (class-conditional; built on :mod:`synthaug.generators.image.base`).

Importing this package registers ``image.gan`` (:class:`ImageGANGenerator`), ``image.vae``
(:class:`ImageVAEGenerator`) and ``image.transformer`` (:class:`ImageTransformerGenerator`),
all on :class:`~synthaug.generators.image.torch_base.TorchImageGenerator`.
"""

from synthaug.generators.image.base import ImageGenerator
from synthaug.generators.image.gan import ImageGANGenerator
from synthaug.generators.image.transformer import ImageTransformerGenerator
from synthaug.generators.image.vae import ImageVAEGenerator

__all__ = [
    "ImageGANGenerator",
    "ImageGenerator",
    "ImageTransformerGenerator",
    "ImageVAEGenerator",
]
