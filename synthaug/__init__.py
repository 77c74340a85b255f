"""synthaug: synthetic data that makes models better.

>>> from synthaug import augment, get_generator, list_generators
"""

from synthaug._version import __version__
from synthaug.api import AugmentReport, augment, augment_to_file
from synthaug.generators.base import get_generator, list_generators

__all__ = [
    "AugmentReport",
    "__version__",
    "augment",
    "augment_to_file",
    "get_generator",
    "list_generators",
]
