"""Images: the image modality, its container, files, features and report figures.

Importing this package registers :class:`ImageModality` as ``registry.modalities["image"]``.
"""

from synthaug.data.image.container import Images, ImageSchema, as_images
from synthaug.data.image.io import read_images, write_images
from synthaug.data.image.modality import ImageModality, pixel_features
from synthaug.data.modality import register_modality

__all__ = [
    "ImageModality",
    "ImageSchema",
    "Images",
    "as_images",
    "pixel_features",
    "read_images",
    "write_images",
]

register_modality(ImageModality())
