"""The plan of a job: its shards, each a pure function of the spec and its index.

Nothing in a shard depends on which worker draws it, when, or in what order, so every engine
and every number of workers writes the same bytes:

* **Shards.**  Shard ``i`` covers records ``[i * shard_size, (i + 1) * shard_size)`` of the
  job (the last one fewer) and is named ``shard-<i>`` with the index zero-padded to five
  digits (more when there are more shards), plus the format's suffix.  Names never depend on
  worker timing (Ray Data's ``FilenameProvider`` idea).
* **Seeds.**  Shard ``i`` draws from ``numpy.random.default_rng(derive_seed(seed, "shard",
  i))``: :func:`synthaug.utils.random.derive_seed` is
  ``SeedSequence([seed, crc32(b"shard"), i]).generate_state(1, uint64)[0] >> 1``, so the
  shards' streams are distinct, never overlap in practice (SeedSequence hashing, as
  ``SeedSequence.spawn`` does it), and the same job seed gives them again on every machine.
* **Class mix.**  The class totals are the largest-remainder apportionment of
  ``records * share`` (ties to the class listed first), so they are exact; class ``c`` gets
  ``floor(end * T_c / N) - floor(start * T_c / N)`` records of shard ``[start, end)``.  Each
  shard thus holds every class in proportion, the totals add up exactly, and a shard with a
  mix of ``k`` classes holds ``shard_size`` records give or take ``k - 1``.

Examples
--------
>>> from synthaug.jobs.plan import plan_shards
>>> shards = plan_shards(records=10, shard_size=4, seed=0, suffix=".parquet")
>>> [(s.name, s.records) for s in shards]
[('shard-00000.parquet', 4), ('shard-00001.parquet', 4), ('shard-00002.parquet', 2)]
>>> mixed = plan_shards(records=10, shard_size=5, seed=0, suffix=".parquet",
...                     classes=[("a", 0.3), ("b", 0.7)])
>>> [s.counts for s in mixed]
[(('a', 1), ('b', 3)), (('a', 2), ('b', 4))]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from synthaug.utils.random import derive_seed

__all__ = ["Shard", "class_totals", "plan_shards", "shard_name"]


@dataclass(frozen=True)
class Shard:
    """One unit of work: which records, drawn how, written where.

    Attributes
    ----------
    index : int
    name : str
        The file (or folder) name inside the job's ``shards/`` folder.
    start : int
        Position of the shard's first record in the job's nominal order.
    seed : int
        The shard's seed (see the module docstring).
    counts : tuple of (label, count)
        Records of each class of the mix, or ``((None, n),)`` without a mix.
    """

    index: int
    name: str
    start: int
    seed: int
    counts: tuple[tuple[Any, int], ...]

    @property
    def records(self) -> int:
        """How many records the shard holds."""
        return sum(count for _, count in self.counts)

    def task(self) -> dict[str, Any]:
        """The shard as a plain dict: all a worker receives (no objects, never a model)."""
        return {"index": self.index, "name": self.name, "seed": self.seed,
                "counts": [[label, count] for label, count in self.counts]}


def shard_name(index: int, n_shards: int, suffix: str) -> str:
    """``shard-00042.parquet``: the index padded to five digits, or more for more shards."""
    width = max(5, len(str(max(n_shards - 1, 0))))
    return f"shard-{index:0{width}d}{suffix}"


def class_totals(records: int, shares: Sequence[float]) -> list[int]:
    """Exact class totals: the largest-remainder apportionment of ``records * share``.

    Examples
    --------
    >>> class_totals(10, [1 / 3, 1 / 3, 1 / 3])
    [4, 3, 3]
    """
    total = sum(shares)
    quotas = [records * s / total for s in shares]
    counts = [int(q) for q in quotas]
    left = records - sum(counts)
    # largest remainders first; equal remainders go to the class listed first
    order = sorted(range(len(shares)), key=lambda c: (-(quotas[c] - counts[c]), c))
    for c in order[:left]:
        counts[c] += 1
    return counts


def plan_shards(*, records: int, shard_size: int, seed: int, suffix: str,
                classes: Sequence[tuple[Any, float]] | None = None) -> list[Shard]:
    """Every shard of a job (see the module docstring).

    Parameters
    ----------
    records : int
        Records of the whole job.
    shard_size : int
        Records per shard (nominal, with a mix).
    seed : int
        The job seed.
    suffix : str
        The format's file suffix (``""`` for a folder of images).
    classes : sequence of (label, share), optional
        The class mix.
    """
    n_shards = -(-records // shard_size)
    totals = class_totals(records, [s for _, s in classes]) if classes else None
    shards = []
    for i in range(n_shards):
        start, end = i * shard_size, min((i + 1) * shard_size, records)
        if classes and totals is not None:
            # integer floors of a monotone function: non-negative, and they telescope to T_c
            counts = tuple((label, end * t // records - start * t // records)
                           for (label, _), t in zip(classes, totals, strict=True))
        else:
            counts = ((None, end - start),)
        shards.append(Shard(i, shard_name(i, n_shards, suffix), start,
                            derive_seed(seed, "shard", i), counts))
    return shards
