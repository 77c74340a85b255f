"""The image recipe task: labelled images in, the reference CNN out.

* **The recipe's names**: images carry their labels (:class:`~synthaug.data.image.Images`),
  so ``data.target`` only names them (``"label"`` is the convention); images have no columns,
  so ``data.sensitive``, ``scenario.column`` and ``data.drop`` are refused.
* **Model inputs**: :class:`ImageFeaturizer` gives ``x``, float32 ``(N, C, H, W)`` in [0, 1]
  (``pixels / 255``); the default model is the reference CNN of BENCHMARKS.md,
  :class:`~synthaug.data.image.classifier.ImageCNN`, registered as ``image.cnn``, whose
  ``forward(x)`` returns logits; its factory gets an
  :class:`~synthaug.data.image.classifier.ImageInputs`.
* **The generator** is fitted on the real training images with their labels and drawn from
  class by class (``conditions={"label": k}``); its images are labelled with the class they
  were drawn for.
* **The classic baseline** is albumentations (:func:`classic_images`): each extra image is a
  real image of its class, flipped left-right with probability 0.5 and shifted by up to 2
  pixels each way (zeros fill the edge), the augmentation of BENCHMARKS.md's reference
  figure.  The real images are used in turn (a seeded order), so every one is transformed
  about equally often.  Flips suit clothes and most photographs; not digits or text.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from synthaug import registry
from synthaug.data.image.classifier import ImageCNN, ImageInputs
from synthaug.data.image.container import Images, as_images
from synthaug.data.modality import LABEL
from synthaug.exceptions import InvalidDataError
from synthaug.generators.base import BaseGenerator
from synthaug.recipes.splits import plain
from synthaug.recipes.tasks import LabelledRecordsTask, register_task

__all__ = ["SHIFT_PIXELS", "ImageFeaturizer", "ImageTask", "classic_images"]

#: the largest shift of the classic baseline, in pixels, each way
SHIFT_PIXELS = 2

registry.downstream_models.register("image.cnn")(ImageCNN)


# -- model inputs ------------------------------------------------------------------------------
class ImageFeaturizer:
    """Images -> ``{"x": float32 (N, C, H, W)}`` in [0, 1]; fitted to the training images' size.

    Examples
    --------
    >>> import numpy as np
    >>> from synthaug.data.image import Images
    >>> batch = Images(np.full((2, 4, 4, 1), 255, dtype=np.uint8), np.array([0, 1]))
    >>> feat = ImageFeaturizer().fit(batch)
    >>> feat.transform(batch)["x"].shape, float(feat.transform(batch)["x"].max())
    ((2, 1, 4, 4), 1.0)
    """

    def fit(self, images: Images) -> ImageFeaturizer:
        """Remember the size of the training images."""
        self.size_ = as_images(images).size
        return self

    def inputs(self, n_classes: int) -> ImageInputs:
        """The :class:`ImageInputs` of the fitted size."""
        h, w, c = self.size_
        return ImageInputs(h, w, c, n_classes)

    def transform(self, images: Images) -> dict[str, np.ndarray]:
        """Return ``{"x": float32 (N, C, H, W)}``; images of another size are refused."""
        batch = as_images(images)
        if batch.size != self.size_:
            raise InvalidDataError(f"images of size {batch.size} reached a model fitted on "
                                   f"{self.size_}.")
        x = batch.pixels.transpose(0, 3, 1, 2).astype(np.float32)
        x /= 255.0
        return {"x": x}


# -- the classic baseline ----------------------------------------------------------------------
def classic_images(reference: Images, codes: np.ndarray, plan: np.ndarray,
                   classes: list[Any], *, random_state: int, notes: list[str]) -> Images:
    """``plan[c]`` albumentations-transformed copies of class ``c``'s reference images.

    Random horizontal flips (p = 0.5) and shifts of up to :data:`SHIFT_PIXELS` pixels each way
    (``A.Affine(translate_px=...)``, integer shifts, zeros at the edge), seeded by
    ``random_state`` (``A.Compose(seed=...)``).  A class without reference images gets none
    (said in ``notes``).

    Raises
    ------
    MissingDependencyError
        Without albumentations (``pip install 'synthaug[image]'``).

    Examples
    --------
    >>> import numpy as np
    >>> from synthaug.data.image import Images
    >>> ref = Images(np.zeros((4, 8, 8, 1), dtype=np.uint8), np.array([0, 0, 1, 1]))
    >>> out = classic_images(ref, np.array([0, 0, 1, 1]), np.array([3, 1]), [0, 1],
    ...                      random_state=0, notes=[])  # doctest: +SKIP
    >>> len(out), out.labels.tolist()  # doctest: +SKIP
    (4, [0, 0, 0, 1])
    """
    albumentations = _albumentations()
    import cv2

    transform = albumentations.Compose([
        albumentations.HorizontalFlip(p=0.5),
        albumentations.Affine(translate_px={"x": (-SHIFT_PIXELS, SHIFT_PIXELS),
                                            "y": (-SHIFT_PIXELS, SHIFT_PIXELS)},
                              border_mode=cv2.BORDER_CONSTANT, fill=0, p=1.0),
    ], seed=random_state % (2**32))
    rng = np.random.default_rng(random_state)
    h, w, c = reference.size
    pixels: list[np.ndarray] = []
    labels: list[Any] = []
    for k, n in enumerate(plan):
        if n <= 0:
            continue
        members = np.flatnonzero(codes == k)
        if not len(members):
            notes.append(f"albumentations has no real image of class {classes[k]!r} to "
                         "transform; it gets none.")
            continue
        # every image in turn, in a seeded order, so none is transformed much more often
        order = np.concatenate([rng.permutation(members)
                                for _ in range(-(-int(n) // len(members)))])[:int(n)]
        for i in order:
            out = transform(image=reference.pixels[i])["image"]
            pixels.append(np.asarray(out, dtype=np.uint8).reshape(h, w, c))
        labels.extend([plain(classes[k])] * int(n))
    if not pixels:
        return Images(np.zeros((0, h, w, c), dtype=np.uint8),
                      np.asarray([], dtype=_label_dtype(reference)))
    return Images(np.stack(pixels), np.asarray(labels, dtype=_label_dtype(reference)))


def _albumentations() -> Any:
    try:
        import albumentations
    except ImportError as exc:
        from synthaug.exceptions import MissingDependencyError

        raise MissingDependencyError(
            "the classic image baseline needs albumentations; install it with pip install "
            f"'synthaug[image]' (albumentations 2.0.x, MIT) ({exc})."
        ) from exc
    return albumentations


def _label_dtype(images: Images) -> Any:
    return images.labels.dtype if images.labels is not None else np.int64


# -- the task ----------------------------------------------------------------------------------
@register_task("image")
class ImageTask(LabelledRecordsTask):
    """Recipes on labelled images (see the module docstring).

    Examples
    --------
    >>> ImageTask.modality, ImageTask.default_model, ImageTask.baseline
    ('image', 'image.cnn', 'albumentations')
    """

    modality: ClassVar[str] = "image"
    default_model: ClassVar[str] = "image.cnn"
    baseline: ClassVar[str] = "albumentations"
    records: ClassVar[str] = "images"
    labelled_hint: ClassVar[str] = ("give a folder laid out root/<class>/*.png or an .npz "
                                    "with labels.")

    # -- the recipe's names --------------------------------------------------------------------
    def describe(self, data: Images) -> dict[str, Any]:
        batch = as_images(data)
        h, w, c = batch.size
        return {"images": len(batch), "height": h, "width": w, "channels": c}

    # -- model inputs --------------------------------------------------------------------------
    def featurizer(self) -> ImageFeaturizer:
        return ImageFeaturizer()

    # -- the generator -------------------------------------------------------------------------
    def synthetic(self, gen: BaseGenerator, n: int, *, label: Any,
                  group: tuple[str, Any] | None, like: Images, random_state: int) -> Images:
        drawn = gen.sample(n, conditions={LABEL: label}, random_state=random_state)
        batch = self.data.check(drawn[0] if isinstance(drawn, tuple) else drawn,
                                what=f"images drawn from {gen.name}")
        # the image was drawn for this class: that is its label, whatever the generator says
        return Images(batch.pixels, np.asarray([label] * len(batch), dtype=_label_dtype(like)))

    # -- the classic baseline ------------------------------------------------------------------
    def classic(self, reference: Images, codes: np.ndarray, plan: np.ndarray,
                classes: list[Any], *, like: Images, random_state: int,
                notes: list[str]) -> Images:
        return classic_images(reference, codes, plan, classes, random_state=random_state,
                              notes=notes)
