"""Resolve a user's device request into a :class:`torch.device`, loudly."""

from __future__ import annotations

import re

import torch

from synthaug.exceptions import DeviceError

__all__ = ["resolve_device"]

_CUDA = re.compile(r"^cuda(?::(\d+))?$")


def resolve_device(device: str | torch.device | None = "auto") -> torch.device:
    """Turn ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"mps"`` into a device.

    ``"auto"`` (or ``None``) picks the first CUDA device when there is one, else the CPU.  Asking
    for a device that is not present is an error, never a silent fallback to the CPU.

    Examples
    --------
    >>> resolve_device("cpu")
    device(type='cpu')
    """
    if device is None or device == "auto":
        return torch.device("cuda:0") if torch.cuda.is_available() else torch.device("cpu")
    text = str(device).strip().lower()
    if text == "cpu":
        return torch.device("cpu")
    match = _CUDA.match(text)
    if match:
        if not torch.cuda.is_available():
            raise DeviceError(
                f"device={device!r} was requested but this machine has no usable CUDA GPU "
                "(torch.cuda.is_available() is False). Use device='cpu' or device='auto'."
            )
        index = int(match.group(1) or 0)
        count = torch.cuda.device_count()
        if index >= count:
            raise DeviceError(
                f"device={device!r} was requested but only {count} CUDA device(s) exist "
                f"(cuda:0 to cuda:{count - 1})."
            )
        return torch.device("cuda", index)
    if text == "mps":
        if not torch.backends.mps.is_available():
            raise DeviceError("device='mps' was requested but MPS is not available here.")
        return torch.device("mps")
    raise DeviceError(
        f"device={device!r} is not understood. Use 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'."
    )
