"""Figure data of tables for reports: marginals real vs synthetic, the pair-trend matrix."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["tabular_figures"]


def tabular_figures(
    real: Any,
    synthetic: Any,
    *,
    target: str | None = None,
    sensitive: Sequence[str] = (),
    from_validators: Mapping[str, Any] | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """Marginals and pair trends of ``real`` vs ``synthetic``, and notes on what was left out."""
    from synthaug.validators.report import collect_figures

    figures, notes = collect_figures(real, synthetic, [], target=target, sensitive=sensitive)
    return {k: figures[k] for k in ("marginals", "pair_trends") if k in figures}, [
        n for n in notes if "DCR" not in n and "group" not in n.lower()]
