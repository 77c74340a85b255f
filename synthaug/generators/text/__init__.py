"""Text generators (label-conditional; built on :mod:`synthaug.generators.text.base`).

Importing this package registers ``text.transformer``; it needs the ``text`` extra
(``tokenizers``) only when it is fitted or loaded.
"""

from synthaug.generators.text.base import TextGenerator
from synthaug.generators.text.transformer import TransformerTextGenerator

__all__ = ["TextGenerator", "TransformerTextGenerator"]
