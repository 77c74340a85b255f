"""Classic image augmentation (flips, shifts, colour): albumentations pipelines on Images.

:class:`ClassicAugment` says what :func:`synthaug.augment`'s ``classic=`` does: a pipeline,
how many transformed copies of each real image to add (``copies``), and whether the generated
images are transformed too (``to_generated``; in place, not copied).  ``classic=`` also takes
a bare pipeline (``copies=1``, real images only) or ``"default"``: the small-data baseline of
BENCHMARKS.md, random horizontal flips and shifts of up to 2 pixels.

Any albumentations transform works, and so does any callable ``f(image=array) -> {"image":
array}`` (albumentations' calling convention).  A pipeline is seeded from the caller's
``random_state`` when it has ``set_random_seed`` (albumentations >= 2.0), on a copy, so the
user's object is never changed.  albumentations is the ``image`` extra
(``pip install 'synthaug[image]'``; 2.0.x, its last MIT-licensed line) and is imported only
for ``"default"``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import numpy as np

from synthaug.data.image.container import Images
from synthaug.exceptions import InvalidDataError, InvalidParameterError, MissingDependencyError
from synthaug.utils.random import spawn_seed

__all__ = ["ClassicAugment", "apply_classic", "default_pipeline", "resolve_classic"]

#: the largest shift of the default pipeline, in pixels (BENCHMARKS.md's baseline)
DEFAULT_SHIFT = 2


def default_pipeline() -> Any:
    """albumentations: a horizontal flip half of the time and a shift of up to 2 pixels.

    Raises
    ------
    MissingDependencyError
        When albumentations is not installed.

    Examples
    --------
    >>> pipeline = default_pipeline()
    >>> [type(t).__name__ for t in pipeline.transforms]
    ['HorizontalFlip', 'Affine']
    """
    try:
        import albumentations as A
    except ImportError:
        raise MissingDependencyError(
            "classic='default' builds an albumentations pipeline, and albumentations is not "
            "installed: pip install 'synthaug[image]' (albumentations 2.0.x), or pass your "
            "own callable f(image=array) -> {'image': array}."
        ) from None
    return A.Compose([
        A.HorizontalFlip(p=0.5),
        A.Affine(translate_px={"x": (-DEFAULT_SHIFT, DEFAULT_SHIFT),
                               "y": (-DEFAULT_SHIFT, DEFAULT_SHIFT)}, p=1.0),
    ])


@dataclass(frozen=True)
class ClassicAugment:
    """A classic augmentation step of :func:`synthaug.augment`.

    Parameters
    ----------
    transform : albumentations transform or callable, or "default"
        Called as ``transform(image=array)["image"]`` on each uint8 ``(H, W, C)`` image; it
        must return uint8 of the same shape (no resizing, no normalisation: those belong in
        a model's input pipeline).
    copies : int, default=1
        Transformed copies of each real image added to the output (0: none).
    to_generated : bool, default=False
        Transform the generated images as well (in place: their number does not change).

    Examples
    --------
    >>> import numpy as np
    >>> from synthaug.data.image import Images
    >>> flip = lambda image: {"image": image[:, ::-1]}
    >>> step = ClassicAugment(flip, copies=2)
    >>> batch = Images(np.arange(8, dtype=np.uint8).reshape(1, 2, 4, 1), np.array([0]))
    >>> apply_classic(batch, step, np.random.default_rng(0)).pixels[0, 0, :, 0].tolist()
    [3, 2, 1, 0]
    """

    transform: Any
    copies: int = 1
    to_generated: bool = False


def resolve_classic(classic: Any) -> ClassicAugment:
    """``classic=`` as a :class:`ClassicAugment`, checked before any fitting."""
    step = classic if isinstance(classic, ClassicAugment) else ClassicAugment(classic)
    transform = default_pipeline() if isinstance(step.transform, str) and (
        step.transform == "default") else step.transform
    if not callable(transform):
        raise InvalidParameterError(
            f"classic must be an albumentations transform, a callable f(image=array) -> "
            f"{{'image': array}}, 'default' or a ClassicAugment; got {classic!r}."
        )
    copies = step.copies
    if isinstance(copies, bool) or not isinstance(copies, int | np.integer) or copies < 0:
        raise InvalidParameterError(f"ClassicAugment.copies must be an int >= 0, got "
                                    f"{copies!r}.")
    if not isinstance(step.to_generated, bool):
        raise InvalidParameterError(f"ClassicAugment.to_generated must be True or False, got "
                                    f"{step.to_generated!r}.")
    return ClassicAugment(transform, int(copies), step.to_generated)


def _seeded(transform: Any, rng: np.random.Generator) -> Any:
    """A copy of ``transform`` seeded from ``rng`` (when it can be seeded), so the same
    ``random_state`` gives the same augmentations and the caller's object is untouched."""
    seed = spawn_seed(rng) % 2**32
    if not callable(getattr(transform, "set_random_seed", None)):
        return transform
    try:
        mine = copy.deepcopy(transform)
    except Exception:  # an uncopyable pipeline: seed nothing rather than mutate the user's
        return transform
    mine.set_random_seed(seed)
    return mine


def apply_classic(images: Images, step: ClassicAugment, rng: np.random.Generator,
                  *, copies: int | None = None) -> Images:
    """``copies`` (default ``step.copies``; 1 for in-place use) transformed versions of
    every image, one copy after another, with the labels repeated.

    Raises
    ------
    InvalidDataError
        When the pipeline fails on an image, or returns something that is not a uint8 image
        of the input's shape (the message names the image and what came back).
    """
    k = step.copies if copies is None else copies
    transform = _seeded(step.transform, rng)
    n = len(images)
    out = np.empty((k * n, *images.pixels.shape[1:]), dtype=np.uint8)
    for c in range(k):
        for i in range(n):
            out[c * n + i] = _one(transform, images.pixels[i], i)
    labels = None if images.labels is None else np.tile(images.labels, k)
    return Images(out, labels)


def _one(transform: Any, pixels: np.ndarray, i: int) -> np.ndarray:
    try:
        result = transform(image=pixels)
        image = result["image"] if isinstance(result, dict) else result
    except Exception as exc:
        raise InvalidDataError(
            f"the classic pipeline failed on image {i} ({pixels.shape[0]}x{pixels.shape[1]}, "
            f"{pixels.shape[2]} channel(s)): {type(exc).__name__}: {exc}. Colour transforms "
            "need RGB images."
        ) from None
    image = np.asarray(image)
    if image.ndim == 2 and pixels.shape[2] == 1:
        image = image[..., None]
    if image.dtype != np.uint8 or image.shape != pixels.shape:
        raise InvalidDataError(
            f"the classic pipeline turned image {i} of shape {pixels.shape} (uint8) into "
            f"{image.dtype} of shape {image.shape}; augmentations must keep the size and "
            "uint8 pixels (leave resizing and normalisation to the model's input pipeline)."
        )
    return image
