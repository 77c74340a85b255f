"""Local random generators.  synthaug never touches numpy's or torch's global RNG state."""

from __future__ import annotations

import numbers
import zlib

import numpy as np
import torch

from synthaug.exceptions import InvalidParameterError

__all__ = ["RandomState", "check_random_state", "derive_seed", "spawn_seed", "torch_generator"]

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


def derive_seed(seed: int, *keys: int | str) -> int:
    """A 63-bit seed for one purpose (``"model"``, ``"generator"``, a shard) of one seed.

    Derived by :class:`numpy.random.SeedSequence` from ``seed`` and the keys (text keys by their
    CRC-32), so purposes never share a stream and the same (seed, keys) gives the same value on
    every machine, in every process and in any order of calls.  Recipes derive their per-arm
    seeds with it and jobs their per-shard seeds.

    Examples
    --------
    >>> from synthaug.utils.random import derive_seed
    >>> derive_seed(0, "model") == derive_seed(0, "model") != derive_seed(0, "generator")
    True
    >>> derive_seed(0, "model")
    4315024886209773960
    """
    words = [seed] + [k if isinstance(k, int) else zlib.crc32(k.encode()) for k in keys]
    return int(np.random.SeedSequence(words).generate_state(1, dtype=np.uint64)[0] >> 1)
