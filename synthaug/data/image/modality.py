"""The image modality: uint8 images with labels in, the same container out.

Validators compute on **shrunk-pixel features**: each image is shrunk by box averaging to at
most 16 pixels a side (8x8 digits stay as they are, 28x28 clothes become 14x14) and scaled to
[0, 1]; colour images wider than 256 values are projected to 256 by a seeded random matrix.
Nothing in it is fitted to the data, so the real images are not "in-sample" in a space made
from them (a PCA fitted on the real images would make every other sample look alike by
comparison).  It needs no download and is fast on a CPU; it is a pixel-space view, so it sees
shapes and intensities, not semantics.  Feature extractors that know what images
show (EfficientNet-Lite0 from a packaged copy) come with the image generators.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from synthaug.data.features import content_keys, embed_once, feature_view
from synthaug.data.image.container import Images, ImageSchema, as_images, container_kind, to_kind
from synthaug.data.image.io import is_image_path, read_images, write_images
from synthaug.data.modality import Modality, Prepared, labels_like
from synthaug.exceptions import InvalidDataError, InvalidParameterError

__all__ = ["ImageModality", "pixel_features"]

#: largest side of the shrunk images the pixel features are made from
FEATURE_SIDE = 16
#: most features; wider (colour) pixels are randomly projected to this many
MAX_FEATURES = 256
#: the report's grid: this many images per class and side, at most this many classes
GRID_PER_CLASS = 8
GRID_CLASSES = 10


class ImageModality(Modality):
    """Images: :class:`~synthaug.data.image.Images`, uint8 arrays, PIL lists, folders, .npz.

    Examples
    --------
    >>> import numpy as np
    >>> from synthaug.data.modality import get_modality
    >>> image = get_modality("image")
    >>> batch = image.check(np.zeros((4, 8, 8), dtype=np.uint8), y=[0, 1, 0, 1])
    >>> image.n_records(batch), image.labels(batch).tolist()
    (4, [0, 1, 0, 1])
    """

    name: ClassVar[str] = "image"
    record: ClassVar[str] = "image"
    default_suite: ClassVar[str] = "image-default"

    # -- containers ----------------------------------------------------------------------------
    def accepts(self, data: Any) -> bool:
        if isinstance(data, Images):
            return True
        if isinstance(data, np.ndarray):  # uint8 only: a float 3-D array may be anything
            return data.dtype == np.uint8 and (
                data.ndim == 3 or (data.ndim == 4 and data.shape[-1] in (1, 3, 4)))
        if isinstance(data, list | tuple) and data:
            from synthaug.data.image.container import _is_pil

            return _is_pil(data[0])
        return False

    def check(self, data: Any, y: Any = None, *, what: str = "images") -> Images:
        return as_images(data, y, what=what)

    def n_records(self, data: Any) -> int:
        return len(as_images(data))

    def take(self, data: Any, index: np.ndarray) -> Images:
        batch = as_images(data)
        index = np.asarray(index)
        return Images(batch.pixels[index], None if batch.labels is None else
                      batch.labels[index])

    def concat(self, parts: Sequence[Any]) -> Images:
        batches = [as_images(p) for p in parts]
        if not batches:
            raise InvalidParameterError("concat needs at least one part.")
        sizes = {b.size for b in batches}
        if len(sizes) > 1:
            raise InvalidDataError(f"cannot join images of different sizes: {sorted(sizes)}.")
        labelled = {b.labels is not None for b in batches}
        if len(labelled) > 1:
            raise InvalidDataError("cannot join labelled and unlabelled images.")
        labels = (np.concatenate([b.labels for b in batches if b.labels is not None])
                  if labelled == {True} else None)
        return Images(np.concatenate([b.pixels for b in batches]), labels)

    def labels(self, data: Any, *, target: str | None = None) -> np.ndarray | None:
        return as_images(data).labels

    def restore(self, data: Any, like: Any, y: Any = None) -> Any:
        batch = as_images(data)
        kind = container_kind(like)
        records = to_kind(batch, kind)
        if kind == "images" or batch.labels is None:
            return records
        return records, labels_like(batch.labels, y) if y is not None else batch.labels

    def fingerprint(self, data: Any) -> str:
        batch = as_images(data)
        digest = hashlib.sha256()
        digest.update(str(batch.pixels.shape).encode())
        digest.update(batch.pixels.tobytes())
        if batch.labels is not None:
            digest.update("\x1f".join(map(str, batch.labels)).encode())
        return digest.hexdigest()

    def check_roles(self, data: Any, *, target: str | None = None,
                    sensitive: Sequence[str] = ()) -> None:
        super().check_roles(data, target=target, sensitive=sensitive)
        if target is not None and as_images(data).labels is None:
            raise InvalidDataError(
                "target was given but the images have no labels; pass labels (y=...), or a "
                "folder laid out root/<class>/*.png."
            )

    # -- generators ----------------------------------------------------------------------------
    def schema(self, data: Any) -> ImageSchema:
        return ImageSchema.of(as_images(data), container_kind(data))

    def schema_from_dict(self, data: Mapping[str, Any]) -> ImageSchema:
        return ImageSchema.from_dict(data)

    # -- validators and reports ----------------------------------------------------------------
    def prepare(self, real: Any, synthetic: Any, holdout: Any = None, *,
                validator: str = "validation") -> Prepared:
        parts = {"real": as_images(real, what="real images"),
                 "synthetic": as_images(synthetic, what="synthetic images")}
        if holdout is not None:
            parts["holdout"] = as_images(holdout, what="holdout images")
        size = parts["real"].size
        for what, batch in parts.items():
            if batch.size != size:
                raise InvalidDataError(
                    f"{validator}: the {what} images are {_size_text(batch.size)} but the real "
                    f"ones are {_size_text(size)}; compare images of one size."
                )
        feats = pixel_features([b.pixels for b in parts.values()])
        return feature_view(feats[0], feats[1], feats[2] if holdout is not None else None,
                            modality=self.name, features="shrunk-pixels")

    def describe(self, real: Any, synthetic: Any, holdout: Any = None, *,
                 target: str | None = None, sensitive: Sequence[str] = ()) -> dict[str, Any]:
        def one(data: Any) -> dict[str, Any]:
            batch = as_images(data)
            h, w, c = batch.size
            classes = 0 if batch.labels is None else len(np.unique(batch.labels))
            return {"images": len(batch), "height": h, "width": w, "channels": c,
                    "classes": classes,
                    "summary": f"{len(batch):,} images of {_size_text(batch.size)}"
                               + (f", {classes} classes" if classes else "")}

        return {"modality": self.name, "real": one(real), "synthetic": one(synthetic),
                "holdout": one(holdout) if holdout is not None else None,
                "target": target, "sensitive": list(sensitive)}

    def figures(self, real: Any, synthetic: Any, *, target: str | None = None,
                sensitive: Sequence[str] = (),
                from_validators: Mapping[str, Any] | None = None,
                ) -> tuple[dict[str, Any], list[str]]:
        """A grid of real and one of synthetic images, a row per class (up to 10)."""
        r, s = as_images(real), as_images(synthetic)
        notes: list[str] = []
        classes: list[Any] = (sorted(np.unique(r.labels).tolist(), key=str)
                              if r.labels is not None else [])
        if len(classes) > GRID_CLASSES:
            notes.append(f"The image grids show the first {GRID_CLASSES} of {len(classes)} "
                         "classes.")
            classes = classes[:GRID_CLASSES]
        grid = {
            "title": "samples per class (left: real, right: synthetic)" if classes else
                     "samples (left: real, right: synthetic)",
            "classes": [str(c) for c in classes],
            "real": _grid_png(r, classes),
            "synthetic": _grid_png(s, classes),
        }
        return {"image_grid": grid}, notes

    # -- files ---------------------------------------------------------------------------------
    def can_read(self, path: Path) -> bool:
        return is_image_path(path)

    def read(self, path: str | os.PathLike[str], **options: Any) -> Images:
        if options:
            raise InvalidParameterError(f"images take no read options, got {sorted(options)}.")
        return read_images(Path(path))

    def write(self, data: Any, path: str | os.PathLike[str]) -> Path:
        return write_images(as_images(data), path)


def _size_text(size: tuple[int, int, int]) -> str:
    h, w, c = size
    return f"{h}x{w} {'grey' if c == 1 else 'RGB'}"


def _shrink(pixels: np.ndarray, side: int) -> np.ndarray:
    """Box-average ``(N, H, W, C)`` uint8 images to at most ``side`` pixels a side (float32)."""
    n, h, w, c = pixels.shape
    f = max(1, -(-max(h, w) // side))  # ceil: the smallest whole factor that fits
    if f == 1:
        return pixels.astype(np.float32) / 255.0
    ph, pw = -h % f, -w % f
    # edge padding keeps border means honest (zeros would darken the last row and column)
    padded = np.pad(pixels, ((0, 0), (0, ph), (0, pw), (0, 0)), mode="edge")
    blocks = padded.reshape(n, (h + ph) // f, f, (w + pw) // f, f, c).astype(np.float32)
    return blocks.mean(axis=(2, 4)) / 255.0


def pixel_features(batches: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Shrunk-pixel features (see the module docstring) of each batch.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> real = rng.integers(0, 256, (50, 8, 8, 1), dtype=np.uint8)
    >>> feats = pixel_features([real, real[:5]])
    >>> feats[0].shape, bool(np.array_equal(feats[0][:5], feats[1]))
    ((50, 64), True)
    """
    flat = [_shrink(b, FEATURE_SIDE).reshape(len(b), -1) for b in batches]
    width = flat[0].shape[1]
    project: np.ndarray | None = None
    if width > MAX_FEATURES:  # colour: a seeded projection that depends on the width only
        rng = np.random.default_rng(0)
        project = (rng.standard_normal((width, MAX_FEATURES)) / np.sqrt(MAX_FEATURES)).astype(
            np.float32)

    def embed(rows: np.ndarray) -> np.ndarray:
        return rows if project is None else rows @ project

    keys = [content_keys([row.tobytes() for row in b.reshape(len(b), -1)]) for b in batches]
    return embed_once(keys, lambda p, idx: flat[p][idx], embed)


def _grid_png(batch: Images, classes: list[Any]) -> str:
    """A base64 PNG: a row of up to 8 images per class (or 2 rows of unlabelled images)."""
    from PIL import Image

    h, w, c = batch.size
    rows: list[np.ndarray] = []
    if classes and batch.labels is not None:
        for cls in classes:
            members = np.flatnonzero(batch.labels.astype(str) == str(cls))[:GRID_PER_CLASS]
            rows.append(_row(batch.pixels[members], h, w, c))
    else:
        for start in range(0, min(len(batch), 2 * GRID_PER_CLASS), GRID_PER_CLASS):
            rows.append(_row(batch.pixels[start:start + GRID_PER_CLASS], h, w, c))
    grid = np.concatenate(rows, axis=0)
    scale = max(1, 32 // max(h, w))  # small images are blown up so a person can see them
    grid = grid.repeat(scale, axis=0).repeat(scale, axis=1)
    image = Image.fromarray(grid[..., 0] if c == 1 else grid)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _row(pixels: np.ndarray, h: int, w: int, c: int) -> np.ndarray:
    """Up to GRID_PER_CLASS images side by side with a 1-pixel gap (blank where fewer)."""
    pad = 1
    row = np.full((h + pad, GRID_PER_CLASS * (w + pad), c), 255, dtype=np.uint8)
    for i, img in enumerate(pixels):
        row[:h, i * (w + pad):i * (w + pad) + w] = img
    return row
