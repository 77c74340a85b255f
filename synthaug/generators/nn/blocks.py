"""Small network blocks shared by the generators: MLP, CTGAN's residual block, seeded dropout."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["MLP", "ResidualBlock", "SeededDropout", "set_generator"]


class SeededDropout(nn.Module):
    """Dropout whose mask comes from a local :class:`torch.Generator` (see :func:`set_generator`).

    ``nn.Dropout`` draws from torch's global RNG, which would make a seeded fit depend on
    whatever else the process did with it.

    Examples
    --------
    >>> import torch
    >>> from synthaug.generators.nn import SeededDropout
    >>> drop = SeededDropout(0.5)
    >>> drop.generator = torch.Generator().manual_seed(0)
    >>> set(drop(torch.ones(2, 4)).flatten().tolist()) <= {0.0, 2.0}
    True
    """

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = float(p)
        self.generator: torch.Generator | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        keep = torch.empty_like(x).bernoulli_(1.0 - self.p, generator=self.generator)
        return x * keep / (1.0 - self.p)


def set_generator(module: nn.Module, generator: torch.Generator | None) -> None:
    """Give every :class:`SeededDropout` in ``module`` the generator it draws masks from."""
    for sub in module.modules():
        if isinstance(sub, SeededDropout):
            sub.generator = generator


class MLP(nn.Module):
    """``Linear -> activation [-> dropout]`` per hidden layer, then a linear output layer.

    Examples
    --------
    >>> import torch
    >>> from synthaug.generators.nn import MLP, build_module
    >>> net = build_module(lambda: MLP(4, (8,), 2), torch.device("cpu"),
    ...                    torch.Generator().manual_seed(0))
    >>> net(torch.zeros(3, 4)).shape
    torch.Size([3, 2])
    """

    def __init__(
        self,
        in_features: int,
        hidden: tuple[int, ...],
        out_features: int,
        *,
        activation: str = "relu",
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = in_features
        for h in hidden:
            layers.append(nn.Linear(width, h))
            layers.append(nn.LeakyReLU(0.2) if activation == "leaky_relu" else nn.ReLU())
            if dropout > 0:
                layers.append(SeededDropout(dropout))
            width = h
        layers.append(nn.Linear(width, out_features))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.net(x)
        return out


class ResidualBlock(nn.Module):
    """CTGAN's generator block: ``concat(relu(bn(linear(x))), x)`` (the width grows by ``out``).

    Examples
    --------
    >>> import torch
    >>> from synthaug.generators.nn import ResidualBlock, build_module
    >>> block = build_module(lambda: ResidualBlock(4, 8), torch.device("cpu"),
    ...                      torch.Generator().manual_seed(0))
    >>> block(torch.randn(5, 4, generator=torch.Generator().manual_seed(1))).shape
    torch.Size([5, 12])
    """

    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__()
        self.fc = nn.Linear(in_features, out_features)
        self.bn = nn.BatchNorm1d(out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([F.relu(self.bn(self.fc(x))), x], dim=1)
