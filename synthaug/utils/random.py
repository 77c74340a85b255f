"""Local random generators.  synthaug never touches numpy's or torch's global RNG state."""

from __future__ import annotations

import numbers

import numpy as np
import torch

from synthaug.exceptions import InvalidParameterError

__all__ = ["RandomState", "check_random_state", "spawn_seed", "torch_generator"]

RandomState = int | np.random.Generator | None


def check_random_state(random_state: RandomState) -> np.random.Generator:
    """Return a :class:`numpy.random.Generator` for ``random_state``.

    ``None`` gives fresh OS entropy, an int a reproducible stream, and a ``Generator`` is used
    as it is (so callers can share one stream).
    """
    if random_state is None:
        return np.random.default_rng()
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        if int(random_state) < 0:
            raise InvalidParameterError(f"random_state must be >= 0, got {random_state}.")
        return np.random.default_rng(int(random_state))
    raise InvalidParameterError(
        f"random_state must be None, a non-negative int or a numpy Generator, "
        f"got {type(random_state).__name__}."
    )


def spawn_seed(rng: np.random.Generator) -> int:
    """Draw a 63-bit seed from ``rng`` for a child generator (numpy or torch)."""
    return int(rng.integers(0, 2**63 - 1))


def torch_generator(rng: np.random.Generator, device: torch.device) -> torch.Generator:
    """A :class:`torch.Generator` on ``device`` seeded from ``rng``."""
    gen = torch.Generator(device=device)
    gen.manual_seed(spawn_seed(rng))
    return gen
