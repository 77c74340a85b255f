"""Texts: the text modality, its container, files, features and report figures.

Importing this package registers :class:`TextModality` as ``registry.modalities["text"]``.
"""

from synthaug.data.modality import register_modality
from synthaug.data.text.container import Texts, TextSchema, as_texts
from synthaug.data.text.io import read_texts, write_texts
from synthaug.data.text.modality import TextModality, ngram_features

__all__ = [
    "TextModality",
    "TextSchema",
    "Texts",
    "as_texts",
    "ngram_features",
    "read_texts",
    "write_texts",
]

register_modality(TextModality())
