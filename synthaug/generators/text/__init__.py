"""Text generators (label-conditional; built on :mod:`synthaug.generators.text.base`).

Importing this package registers ``text.transformer``, ``text.vae`` and ``text.gan``; they need the
``text`` extra (``tokenizers``) only when they are fitted or loaded.
"""

from synthaug.generators.text.base import TextGenerator
from synthaug.generators.text.gan import LatentGANTextGenerator
from synthaug.generators.text.transformer import TransformerTextGenerator
from synthaug.generators.text.vae import VAETextGenerator

__all__ = ["LatentGANTextGenerator", "TextGenerator", "TransformerTextGenerator",
           "VAETextGenerator"]
