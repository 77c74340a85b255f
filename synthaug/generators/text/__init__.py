"""Text generators (label-conditional; built on :mod:`synthaug.generators.text.base`).

Importing this package registers ``text.transformer`` and ``text.vae``; they need the
``text`` extra (``tokenizers``) only when they are fitted or loaded.
"""

from synthaug.generators.text.base import TextGenerator
from synthaug.generators.text.transformer import TransformerTextGenerator
from synthaug.generators.text.vae import VAETextGenerator

__all__ = ["TextGenerator", "TransformerTextGenerator", "VAETextGenerator"]
