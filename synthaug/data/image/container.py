"""Images as synthaug holds them: ``uint8`` pixels ``(N, H, W, C)`` and one label per image.

:func:`as_images` is the one place user input becomes :class:`Images`: numpy arrays ``(N, H, W)``
or ``(N, H, W, C)``, lists of PIL images, an :class:`Images`, or a path (a folder laid out
``root/<class>/*.png``, or an ``.npz``).  Every check happens there, with a message that says
what was wrong and how to fix it.  :class:`ImageSchema` is what a generator remembers about its
training images (size, channels, classes and their counts, the container to give back), never
the images.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from synthaug.data.modality import check_labels
from synthaug.exceptions import InvalidDataError

__all__ = ["ImageSchema", "Images", "as_images", "container_kind", "to_kind"]

#: channel counts synthaug handles: grey and RGB
CHANNELS = (1, 3)
#: PIL modes and their channel counts
_PIL_MODES = {"L": 1, "RGB": 3}


@dataclass(frozen=True, eq=False)
class Images:
    """A batch of images with optional labels: the image modality's canonical container.

    Parameters
    ----------
    pixels : ndarray of uint8, shape (N, H, W, C)
        C is 1 (grey) or 3 (RGB); 0 is black, 255 full intensity.
    labels : ndarray of shape (N,), optional
        The class of each image.

    Examples
    --------
    >>> import numpy as np
    >>> batch = Images(np.zeros((2, 8, 8, 1), dtype=np.uint8), np.array([0, 1]))
    >>> len(batch), batch.size
    (2, (8, 8, 1))
    """

    pixels: np.ndarray
    labels: np.ndarray | None = None

    def __post_init__(self) -> None:
        px = self.pixels
        if not isinstance(px, np.ndarray) or px.dtype != np.uint8 or px.ndim != 4 or (
            px.shape[-1] not in CHANNELS
        ):
            raise InvalidDataError(
                "Images.pixels must be a uint8 array of shape (N, H, W, C) with C = 1 or 3; "
                f"got {getattr(px, 'dtype', type(px).__name__)} of shape "
                f"{getattr(px, 'shape', '?')}. Use as_images(...) to convert other inputs."
            )
        if self.labels is not None and (self.labels.ndim != 1 or len(self.labels) != len(px)):
            raise InvalidDataError(
                f"Images has {len(px)} images but labels of shape {self.labels.shape}; give one "
                "label per image."
            )

    def __len__(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def size(self) -> tuple[int, int, int]:
        """``(height, width, channels)``."""
        _, h, w, c = self.pixels.shape
        return int(h), int(w), int(c)


def as_images(data: Any, y: Any = None, *, what: str = "images") -> Images:
    """Check ``data`` (and labels ``y``) and return them as :class:`Images`.

    Parameters
    ----------
    data : ndarray, list of PIL images, Images, str or path
        uint8 ``(N, H, W)`` (grey) or ``(N, H, W, C)`` with C = 1 or 3; a list or tuple of PIL
        images of one size and mode ("L" or "RGB"); or a folder / ``.npz`` to read.
    y : array-like, optional
        One label per image (not allowed when ``data`` already carries labels).
    what : str
        How the data is named in messages.

    Raises
    ------
    InvalidDataError
        For anything that is not a batch of same-sized grey or RGB ``uint8`` images with
        matching labels; the message says how to convert it.

    Examples
    --------
    >>> import numpy as np
    >>> as_images(np.zeros((3, 4, 5), dtype=np.uint8), [0, 1, 0]).size
    (4, 5, 1)
    """
    if isinstance(data, str | os.PathLike):
        from synthaug.data.image.io import read_images

        data = read_images(Path(data))
    if isinstance(data, Images):
        if y is not None and data.labels is not None:
            raise InvalidDataError(
                f"{what} already carry labels; do not also pass y (or drop Images.labels)."
            )
        if y is None:
            return data
        return Images(data.pixels, check_labels(y, len(data), what=what))
    pixels = _pixels(data, what)
    if len(pixels) == 0:
        raise InvalidDataError(f"{what} holds no images; give at least one.")
    labels = None if y is None else check_labels(y, len(pixels), what=what)
    return Images(pixels, labels)


def _pixels(data: Any, what: str) -> np.ndarray:
    if isinstance(data, np.ndarray):
        return _array_pixels(data, what)
    if isinstance(data, list | tuple) and data and _is_pil(data[0]):
        return _pil_pixels(data, what)
    raise InvalidDataError(
        f"{what} must be a uint8 array of shape (N, H, W) or (N, H, W, C), a list of PIL "
        f"images, synthaug.data.Images, or a folder / .npz path; got {type(data).__name__}."
    )


def _array_pixels(data: np.ndarray, what: str) -> np.ndarray:
    if data.ndim == 3:
        data = data[..., None]
    if data.ndim != 4 or data.shape[-1] not in CHANNELS:
        raise InvalidDataError(
            f"{what} has shape {data.shape}; images are (N, H, W) for grey or (N, H, W, C) with "
            "C = 1 (grey) or 3 (RGB), channels last. Transpose channels-first arrays with "
            "x.transpose(0, 2, 3, 1)."
        )
    if data.dtype != np.uint8:
        hint = ("; scale floats in [0, 1] with (x * 255).round().astype(np.uint8)"
                if data.dtype.kind == "f" else "; convert with x.astype(np.uint8)")
        raise InvalidDataError(f"{what} has dtype {data.dtype}, but images must be uint8 "
                               f"(0-255){hint}.")
    if data.shape[1] < 2 or data.shape[2] < 2:
        raise InvalidDataError(f"{what} are {data.shape[1]}x{data.shape[2]} pixels; an image "
                               "needs at least 2x2.")
    return np.ascontiguousarray(data)


def _is_pil(obj: Any) -> bool:
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow comes with matplotlib
        return False
    return isinstance(obj, Image.Image)


def _pil_pixels(images: Sequence[Any], what: str) -> np.ndarray:
    first = images[0]
    arrays = []
    for i, img in enumerate(images):
        if not _is_pil(img):
            raise InvalidDataError(f"{what}[{i}] is a {type(img).__name__}, not a PIL image.")
        if img.mode not in _PIL_MODES:
            raise InvalidDataError(
                f"{what}[{i}] has PIL mode {img.mode!r}; use grey ('L') or 'RGB' images, for "
                "example img.convert('RGB')."
            )
        if img.size != first.size or img.mode != first.mode:
            raise InvalidDataError(
                f"{what}[{i}] is {img.size[0]}x{img.size[1]} {img.mode}, but {what}[0] is "
                f"{first.size[0]}x{first.size[1]} {first.mode}; every image must have one size "
                "and mode (resize them first)."
            )
        arr = np.asarray(img, dtype=np.uint8)
        arrays.append(arr[..., None] if arr.ndim == 2 else arr)
    return _array_pixels(np.stack(arrays), what)


@dataclass(frozen=True)
class ImageSchema:
    """What a generator knows about its training images: never the images themselves.

    ``container`` is how they were given (``"ndarray3"``: (N, H, W); ``"ndarray"``;
    ``"pil"``; ``"images"``), so samples come back the same way.  ``classes`` and
    ``class_counts`` are empty when the images had no labels.
    """

    height: int
    width: int
    channels: int
    n_images: int
    classes: tuple[Any, ...] = ()
    class_counts: tuple[int, ...] = ()
    container: str = "ndarray"
    labels_dtype: str | None = None
    _index: dict[Any, int] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._index.update({c: i for i, c in enumerate(self.classes)})

    @property
    def labelled(self) -> bool:
        return bool(self.classes)

    def class_index(self, label: Any) -> int | None:
        """Position of ``label`` among the classes (None when it is not one)."""
        key = label.item() if isinstance(label, np.generic) else label
        return self._index.get(key)

    def to_dict(self) -> dict[str, Any]:
        return {"height": self.height, "width": self.width, "channels": self.channels,
                "n_images": self.n_images, "classes": list(self.classes),
                "class_counts": list(self.class_counts), "container": self.container,
                "labels_dtype": self.labels_dtype}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ImageSchema:
        return cls(int(data["height"]), int(data["width"]), int(data["channels"]),
                   int(data["n_images"]), tuple(data.get("classes", ())),
                   tuple(int(c) for c in data.get("class_counts", ())),
                   str(data.get("container", "ndarray")), data.get("labels_dtype"))

    @classmethod
    def of(cls, images: Images, container: str) -> ImageSchema:
        h, w, c = images.size
        if images.labels is None:
            return cls(h, w, c, len(images), container=container)
        classes, counts = np.unique(images.labels, return_counts=True)
        return cls(h, w, c, len(images), tuple(_plain(v) for v in classes),
                   tuple(int(k) for k in counts), container, str(images.labels.dtype))


def container_kind(data: Any) -> str:
    """How the user gave images, so a generator's samples come back the same way."""
    if isinstance(data, np.ndarray):
        return "ndarray3" if data.ndim == 3 else "ndarray"
    if isinstance(data, list | tuple):
        return "pil"
    return "images"  # Images, or a folder / .npz read into Images (labels travel inside)


def to_kind(batch: Images, kind: str) -> Any:
    """The pixels of ``batch`` as the container ``kind`` names (:func:`container_kind`);
    labels are not included, except in an :class:`Images`."""
    if kind == "images":
        return batch
    if kind == "pil":
        from PIL import Image

        return [Image.fromarray(p[..., 0] if p.shape[-1] == 1 else p) for p in batch.pixels]
    if kind == "ndarray3" and batch.pixels.shape[-1] == 1:
        return batch.pixels[..., 0]
    return batch.pixels


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value
