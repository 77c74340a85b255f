"""A torch dataset that mixes real images with images a fitted generator draws on demand.

:class:`MixedImageDataset` lets a training loop of one's own consume synthetic images without
writing them anywhere: each epoch it yields every real image once and ``round(ratio * n_real)``
generated ones, shuffled together.  Generated images are drawn ``batch_size`` at a time per
class, when the stream reaches them (at most one batch per class is held in memory), with exact
class counts: the synthetic share of each class is the class's share of the real images
(largest remainders), so the mix keeps the real class balance unless told otherwise
(``class_weights``).

Everything is seeded: epoch ``e`` of a dataset with ``random_state=s`` is the same sequence of
images and labels on every run on the same device (orders, classes and generator seeds are
derived from ``(s, e)``; see :func:`synthaug.utils.random.derive_seed`).  Iterating advances
the epoch; with DataLoader workers (each iterates a copy), call :meth:`set_epoch` before each
epoch, as with ``DistributedSampler``.  Workers split each epoch's stream into disjoint shards.
A generator on a GPU must stay in the main process (``num_workers=0``); it samples in batches
on the device anyway.

Why here and not one ``synthaug.torch`` module for every modality: what a dataset yields is
the modality's business (a CHW float tensor for an image, token ids for a text), so each
modality keeps its dataset beside its container; the mixing plan (:func:`mix_plan`) is
modality-neutral and is what a text dataset would reuse.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, cast

import numpy as np
import torch
from torch.utils.data import IterableDataset, get_worker_info

from synthaug.data.image.container import Images, as_images
from synthaug.exceptions import InvalidDataError, InvalidParameterError, NotFittedError
from synthaug.utils.random import check_random_state, derive_seed, spawn_seed
from synthaug.utils.validation import check_number, check_positive_int

__all__ = ["MixedImageDataset", "mix_plan", "to_tensor"]


def to_tensor(pixels: np.ndarray) -> torch.Tensor:
    """uint8 ``(H, W, C)`` -> float32 ``(C, H, W)`` in ``[0, 1]`` (torchvision's ToTensor)."""
    return torch.from_numpy(np.ascontiguousarray(pixels.transpose(2, 0, 1))).float().div_(255)


def mix_plan(real_classes: np.ndarray, n_classes: int, ratio: float,
             weights: np.ndarray | None, rng: np.random.Generator) -> np.ndarray:
    """One epoch's stream: ``>= 0`` a real record's index, ``-1 - k`` a synthetic record of
    class ``k``; shuffled.  Synthetic class counts are exact: ``round(ratio * n_real)`` split
    by ``weights`` (default: the real class counts) with largest remainders.

    Examples
    --------
    >>> import numpy as np
    >>> plan = mix_plan(np.array([0, 0, 1, 1]), 2, 1.5, None, np.random.default_rng(0))
    >>> sorted(plan.tolist())
    [-2, -2, -2, -1, -1, -1, 0, 1, 2, 3]
    """
    n_real = len(real_classes)
    n_syn = round(ratio * n_real)
    share = (np.bincount(real_classes, minlength=n_classes).astype(np.float64)
             if weights is None else np.asarray(weights, dtype=np.float64))
    exact = n_syn * share / share.sum()
    counts = np.floor(exact).astype(np.int64)
    remainder = n_syn - int(counts.sum())
    counts[np.argsort(-(exact - counts), kind="stable")[:remainder]] += 1
    synthetic = np.repeat(-1 - np.arange(n_classes), counts)
    return rng.permutation(np.concatenate([np.arange(n_real), synthetic]))


class MixedImageDataset(IterableDataset[tuple[Any, int]]):
    """Real images and images drawn on demand from a fitted generator, mixed at ``ratio``.

    Parameters
    ----------
    images : image container
        The real images (arrays, PIL list, :class:`~synthaug.data.image.Images`, folder).
    labels : array-like, optional
        Their labels, unless ``images`` carries them.  Every label must be one the generator
        was fitted on.
    generator : fitted image generator
        Fitted on labelled images of the same size and channels.
    ratio : float, default=1.0
        Generated images per real image in an epoch (1.0: half of what a model sees is
        generated; 0: real images only).
    class_weights : sequence of float, optional
        Share of the generated images per class (in the generator's class order,
        ``generator.schema_.classes``); default: the real images' class shares.
    batch_size : int, default=256
        Images drawn per generator call (per class).
    transform : callable, optional
        Applied to each uint8 ``(H, W, C)`` image (an albumentations pipeline's
        ``lambda a: pipeline(image=a)["image"]`` composed with your own conversion, say).
        Default: :func:`to_tensor`.
    random_state : int or None
        Seeds every epoch (see the module docstring); ``None`` draws a seed once.

    Yields
    ------
    (image, label) : (transformed image, int)
        The label is the class index in ``generator.schema_.classes`` (what
        ``torch.nn.functional.cross_entropy`` wants).

    Examples
    --------
    >>> import numpy as np
    >>> from torch.utils.data import DataLoader
    >>> from synthaug.generators.image import ImageVAEGenerator
    >>> from synthaug.data.image.dataset import MixedImageDataset
    >>> rng = np.random.default_rng(0)
    >>> x, y = rng.integers(0, 256, (20, 8, 8), dtype=np.uint8), [0, 1] * 10
    >>> gen = ImageVAEGenerator(max_steps=1, batch_size=10, width=4, latent_dim=2,
    ...                         embedding_dim=2, adversarial_weight=0, device="cpu",
    ...                         random_state=0, progress=False).fit(x, y)
    >>> data = MixedImageDataset(x, y, generator=gen, ratio=0.5, random_state=0)
    >>> batch, labels = next(iter(DataLoader(data, batch_size=30)))
    >>> batch.shape, len(data)
    (torch.Size([30, 1, 8, 8]), 30)
    """

    def __init__(
        self,
        images: Any,
        labels: Any = None,
        *,
        generator: Any,
        ratio: float = 1.0,
        class_weights: Sequence[float] | None = None,
        batch_size: int = 256,
        transform: Callable[[np.ndarray], Any] | None = None,
        random_state: int | None = None,
    ) -> None:
        super().__init__()
        real = as_images(images, labels, what="images")
        self._check_generator(generator, real)
        check_number(ratio, "ratio", minimum=0)
        check_positive_int(batch_size, "batch_size")
        schema = generator.schema_
        k = len(schema.classes)
        weights = None
        if class_weights is not None:
            weights = np.asarray(class_weights, dtype=np.float64)
            if weights.shape != (k,) or not np.isfinite(weights).all() or (weights < 0).any() \
                    or weights.sum() <= 0:
                raise InvalidParameterError(
                    f"class_weights must be {k} non-negative numbers (one per class of the "
                    f"generator, {list(schema.classes)[:10]}), not all zero; got "
                    f"{class_weights!r}."
                )
        labels = cast(np.ndarray, real.labels)  # _check_generator refused unlabelled images
        self.real = real
        self.classes = np.array([schema.class_index(v) for v in labels], dtype=np.int64)
        self.generator = generator
        self.ratio = float(ratio)
        self.weights = weights
        self.batch_size = batch_size
        self.transform = transform if transform is not None else to_tensor
        self.seed = spawn_seed(check_random_state(None)) if random_state is None else int(
            random_state)
        self.epoch = 0

    @staticmethod
    def _check_generator(generator: Any, real: Images) -> None:
        schema = getattr(generator, "schema_", None)
        if getattr(generator, "modality", None) != "image":
            raise InvalidParameterError(
                f"generator must be a fitted image generator (image.gan, image.vae, "
                f"image.transformer, ...), got {type(generator).__name__}."
            )
        if schema is None or not generator.__sklearn_is_fitted__():
            raise NotFittedError("the generator is not fitted; fit(images, labels) it first.")
        if not schema.labelled or real.labels is None:
            raise InvalidDataError(
                "MixedImageDataset needs labelled images and a generator fitted on labels, "
                "so every image it yields has a class."
            )
        if real.size != (schema.height, schema.width, schema.channels):
            raise InvalidDataError(
                f"the images are {real.size} (height, width, channels) but the generator makes "
                f"{(schema.height, schema.width, schema.channels)}."
            )
        unknown = sorted({str(v) for v in real.labels if schema.class_index(v) is None})
        if unknown:
            raise InvalidDataError(
                f"labels {unknown[:5]} were not among the generator's classes "
                f"{list(schema.classes)[:10]}; fit the generator on these classes."
            )

    def set_epoch(self, epoch: int) -> None:
        """Use epoch ``epoch``'s order and images next (needed with DataLoader workers)."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return len(self.real) + round(self.ratio * len(self.real))

    def __iter__(self) -> Iterator[tuple[Any, int]]:
        epoch = self.epoch
        self.epoch += 1  # in-process iteration moves on by itself
        k = len(self.generator.schema_.classes)
        plan = mix_plan(self.classes, k, self.ratio, self.weights,
                        np.random.default_rng(derive_seed(self.seed, "order", epoch)))
        worker = get_worker_info()
        shard = 0 if worker is None else worker.id
        if worker is not None:
            plan = np.array_split(plan, worker.num_workers)[shard]
        rng = np.random.default_rng(derive_seed(self.seed, "images", epoch, shard))
        need = np.bincount(-1 - plan[plan < 0], minlength=k)
        buffers: list[list[np.ndarray]] = [[] for _ in range(k)]
        for entry in plan.tolist():
            if entry >= 0:
                yield self.transform(self.real.pixels[entry]), int(self.classes[entry])
                continue
            c = -1 - entry
            if not buffers[c]:
                count = int(min(self.batch_size, need[c]))
                out = self.generator.sample(count, conditions={"label": self.generator.schema_
                                                               .classes[c]},
                                            random_state=spawn_seed(rng))
                pixels = out.pixels if isinstance(out, Images) else as_images(out[0]).pixels
                buffers[c] = list(pixels[::-1])  # popped from the end: first drawn first
                need[c] -= count
            yield self.transform(buffers[c].pop()), c
