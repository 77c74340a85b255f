"""``utils.device``: resolving device names, and clear errors for missing ones."""

from __future__ import annotations

import pytest
import torch

from synthaug import get_generator
from synthaug.exceptions import DeviceError
from synthaug.utils.device import resolve_device


def test_device_resolution() -> None:
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type in ("cpu", "cuda")
    with pytest.raises(DeviceError, match="not understood"):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(DeviceError, match="no usable CUDA"):
            resolve_device("cuda")
        with pytest.raises(DeviceError):
            get_generator("tabular.copula", device="cuda:1").fit(
                __import__("pandas").DataFrame({"a": [1.0, 2.0, 3.0]})
            )
