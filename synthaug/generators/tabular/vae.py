"""Conditional tabular VAE (the TVAE class) with exact conditional sampling.

The architecture is TVAE's (Xu et al., 2019): an MLP encoder to a Gaussian latent, an MLP
decoder to one output block per column, a Gaussian likelihood with a learned scale for
continuous features and a categorical (cross-entropy) likelihood for each one-hot block.

What differs, and why:

* **Conditioning with reveal masks.**  Both networks also see a condition vector: for each
  *condition column* its encoded value and a "revealed" flag.  In training each row reveals a
  random subset of its condition columns (nothing at all for half of the rows), so one model
  learns the unconditional distribution and the conditional of the other columns given any
  subset of condition columns.  Sampling reveals exactly the requested columns; their slots are
  also decoded from the request, so conditioned rows are exact without rejection.  Sampling
  with no conditions reveals nothing, which keeps the joint distribution of the condition
  columns (drawing a condition vector from per-column frequencies would break their
  dependence).
* **A learned conditional prior** ``p(z | c)`` (a small network, as in Sohn et al.'s CVAE)
  replaces the fixed ``N(0, I)`` when there are condition columns: with a fixed prior the
  latent also encodes what the condition says, and conditioned samples drift back towards
  the marginal.
* **Numerical encoding.**  Quantile-normal scores by default (a Gaussian likelihood fits them
  and spikes such as ``capital_gain == 0`` survive); ``numerical="gmm"`` gives TVAE's
  mode-specific normalisation.
* **High-cardinality columns.**  At most ``max_categories`` one-hot slots per column; rarer
  levels share an "other" slot, decoded to one of them by training frequency (their
  dependence on other columns is not learned).

The whole training loop stays on the device (see :mod:`synthaug.generators.nn`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from synthaug.exceptions import InvalidParameterError
from synthaug.generators.base import register_generator
from synthaug.generators.nn import MLP, EpochBatcher, TrainingHistory, autocast
from synthaug.generators.tabular.torch_base import (
    EpochCallback,
    TorchTabularGenerator,
    fit_span_encoding,
    load_span_encoding,
    span_encoding_state,
)
from synthaug.utils.random import RandomState
from synthaug.utils.validation import (
    check_choice,
    check_int,
    check_number,
    check_positive_int,
)

__all__ = ["TVAEGenerator"]


class _Encoder(nn.Module):
    def __init__(self, in_features: int, hidden: tuple[int, ...], latent: int) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = in_features
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU()]
            width = h
        self.body = nn.Sequential(*layers)
        self.mu = nn.Linear(width, latent)
        self.logvar = nn.Linear(width, latent)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.body(x)
        return self.mu(h), self.logvar(h)


class _Decoder(nn.Module):
    def __init__(self, in_features: int, hidden: tuple[int, ...], out: int, n_values: int
                 ) -> None:
        super().__init__()
        self.net = MLP(in_features, hidden, out)
        # learned per-feature scale of the Gaussian likelihood (TVAE's ``sigma``), in log space
        self.log_sigma = nn.Parameter(torch.empty(n_values))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.net(x)
        return out


#: log-sigma bounds: TVAE clamps sigma to [0.01, 1]
_LOG_SIGMA_MIN, _LOG_SIGMA_MAX = math.log(0.01), 0.0
_LOG_SIGMA_INIT = math.log(0.1)


@register_generator("tabular.vae")
class TVAEGenerator(TorchTabularGenerator):
    """Conditional tabular VAE, trained and sampled on the device, with exact conditions.

    Parameters
    ----------
    epochs : int or None, default=None
        Passes over the training rows (each has ``max(1, n_rows // batch_size)`` steps).
        ``None``: the data-scaled default budget, TVAE's 300 epochs but at least 1,500 and at
        most 3,000 optimiser steps in all
        (:func:`~synthaug.generators.tabular.torch_base.budget_epochs`): 800 rows train for
        1,500 epochs of one step, 20,000 rows for 75 epochs of 40.
    batch_size : int, default=500
        Rows per step (capped at the number of rows).
    learning_rate : float, default=1e-3
        Adam step size.
    latent_dim : int, default=128
        Size of the latent vector.
    hidden_dim : int, default=128
        Width of each hidden layer of the encoder and of the decoder.
    n_layers : int, default=2
        Hidden layers of the encoder and of the decoder (TVAE: two of 128).
    loss_factor : float, default=2.0
        Weight of the reconstruction term against the KL term (TVAE's ``loss_factor``).
    weight_decay : float, default=1e-5
        Adam weight decay (L2).
    condition_columns : sequence of str or None, default=None
        Columns sampling can condition on.  ``None``: every categorical and boolean column.
        Numerical, integer and datetime columns may be listed too.  Asking ``sample`` for a
        condition on another column raises :class:`~synthaug.exceptions.InvalidParameterError`.
    numerical : {"quantile", "gmm"}, default="quantile"
        Encoding of continuous columns: quantile-normal scores, or TVAE's mode-specific
        normalisation (a Gaussian mixture per column).
    max_categories : int or None, default=100
        Most one-hot slots per categorical column; rarer levels share one slot (see the module
        docstring).  ``None`` keeps every level (memory grows with the number of levels).
    early_stopping_patience : int or None, default=None
        Stop when the training loss has not improved for this many epochs, and keep the weights
        of the best epoch.
    exact_bounds : bool, default=False
        Keep each number and date column's exact minimum and maximum.  By default the model
        keeps the values that at least 10 training rows reach at each end (the 10th smallest
        and largest; at most 1% of the rows), so a saved model never holds the extreme value
        of a single person, and it learns from the training rows clipped to those bounds.
        Samples stay within the bounds either way (``fidelity.out_of_range`` does not change:
        they lie inside the real range); rows beyond them are not reproduced.
    device : str, default="auto"
        ``"auto"`` (a CUDA GPU when there is one), ``"cpu"``, ``"cuda"``, ``"cuda:N"``.
    compile : bool, default=False
        ``torch.compile`` the networks (worth it for long GPU runs).
    bf16 : bool, default=False
        bfloat16 autocast for the forward passes (GPU).
    random_state : int, numpy Generator or None
        Seeds the fit; same seed and device give the same model.
    progress : bool or None, default=None
        Progress bar with loss, rows/s and ETA (``None``: when stderr is a terminal).
    epoch_callback : callable or None, default=None
        ``epoch_callback(generator, epoch, losses)`` after every epoch (``losses``: that
        epoch's mean losses on the host).  It may sample from ``generator`` (to score quality
        on the way, say); a truthy return stops training and keeps the current weights.  Not
        saved with the model.

    Attributes
    ----------
    history_ : TrainingHistory
        Per-epoch mean losses, epochs run, whether it stopped early.
    condition_columns_ : list of str
        The columns that can be conditioned on.
    encoder_ : synthaug.data.encoding.TableEncoder
        The fitted encoding (see :func:`~synthaug.generators.tabular.torch_base.fit_span_encoding`).
    codec_ : synthaug.data.encoding.DeviceDecoder
        Its decoder on ``device_``.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from synthaug.generators.tabular import TVAEGenerator
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"age": rng.integers(18, 80, 200),
    ...                    "income": rng.choice(["<=50K", ">50K"], 200)})
    >>> gen = TVAEGenerator(epochs=5, device="cpu", random_state=0, progress=False).fit(df)
    >>> rows = gen.sample(4, conditions={"income": ">50K"}, random_state=0)
    >>> rows["income"].tolist()
    ['>50K', '>50K', '>50K', '>50K']
    """

    family = "vae"
    tags = frozenset({"gpu", "exact_conditions"})

    def __init__(
        self,
        *,
        epochs: int | None = None,
        batch_size: int = 500,
        learning_rate: float = 1e-3,
        latent_dim: int = 128,
        hidden_dim: int = 128,
        n_layers: int = 2,
        loss_factor: float = 2.0,
        weight_decay: float = 1e-5,
        condition_columns: Sequence[str] | None = None,
        numerical: str = "quantile",
        max_categories: int | None = 100,
        early_stopping_patience: int | None = None,
        exact_bounds: bool = False,
        device: str = "auto",
        compile: bool = False,
        bf16: bool = False,
        random_state: RandomState = None,
        progress: bool | None = None,
        epoch_callback: EpochCallback | None = None,
    ) -> None:
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.latent_dim = latent_dim
        self.hidden_dim = hidden_dim
        self.n_layers = n_layers
        self.loss_factor = loss_factor
        self.weight_decay = weight_decay
        self.condition_columns = condition_columns
        self.numerical = numerical
        self.max_categories = max_categories
        self.early_stopping_patience = early_stopping_patience
        self.exact_bounds = exact_bounds
        self.device = device
        self.compile = compile
        self.bf16 = bf16
        self.random_state = random_state
        self.progress = progress
        self.epoch_callback = epoch_callback

    def _check_params(self) -> None:
        super()._check_params()
        check_positive_int(self.latent_dim, "latent_dim")
        check_positive_int(self.hidden_dim, "hidden_dim")
        check_positive_int(self.n_layers, "n_layers")
        check_choice(self.numerical, "numerical", ("quantile", "gmm"))
        check_int(self.max_categories, "max_categories", 2, allow_none=True)
        for name in ("loss_factor", "weight_decay"):
            check_number(getattr(self, name), name, minimum=0)
        if self.condition_columns is not None and (
            isinstance(self.condition_columns, str)
            or not all(isinstance(c, str) for c in self.condition_columns)
        ):
            raise InvalidParameterError(
                "condition_columns must be None or a list of column names, got "
                f"{self.condition_columns!r}."
            )

    # -- fit -----------------------------------------------------------------------------------
    def _prepare(self, matrix: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
        schema = self.schema_
        if self.condition_columns is None:
            names = [c.name for c in schema.columns if c.kind.is_discrete]
        else:
            names = list(dict.fromkeys(self.condition_columns))
            for name in names:
                col = schema[name]  # unknown names: a clear InvalidDataError
                if not (col.kind.is_discrete or col.kind.is_continuous):
                    raise InvalidParameterError(
                        f"condition_columns names {name!r}, a {col.kind.value} column, which "
                        "cannot be conditioned on."
                    )
        self.condition_columns_ = names
        self.encoder_, x = fit_span_encoding(schema, matrix, rng, numerical=self.numerical,
                                             max_categories=self.max_categories)
        self.codec_ = self.encoder_.to(self.device_)
        cond_index = [schema.index(c) for c in names]
        revealable = np.ones((len(matrix), len(names)), dtype=np.float32)
        for i, j in enumerate(cond_index):
            if not schema.columns[j].kind.is_discrete:
                revealable[:, i] = ~np.isnan(matrix[:, j])  # a missing value cannot be revealed
        value_spans = [s for s in self.encoder_.spans_ if not s.softmax]
        self.arch_ = {
            "width": self.encoder_.n_features_out_,
            "cond_width": self._cond_layout()[1],
            "n_values": len(value_spans),
            "latent_dim": int(self.latent_dim),
            "hidden": [int(self.hidden_dim)] * int(self.n_layers),
        }
        return {"x": x, "revealable": revealable}

    def _cond_layout(self) -> tuple[list[tuple[int, int, int]], int]:
        """``[(column, feature start, feature end)]`` of the condition columns, and the width
        of the condition vector (their features, then one reveal flag per column)."""
        layout = []
        width = 0
        for name in self.condition_columns_:
            j = self.schema_.index(name)
            # levels of a discrete column; value (and mixture mode) of a continuous one
            spans = [s for s in self.encoder_.layout_.column_spans(j) if s.kind != "missing"]
            layout.append((j, spans[0].start, spans[-1].end))
            width += spans[-1].end - spans[0].start
        return layout, width + len(layout)

    def _make_modules(self) -> dict[str, Callable[[], nn.Module]]:
        a = self.arch_
        hidden = tuple(a["hidden"])
        factories: dict[str, Callable[[], nn.Module]] = {
            "encoder": lambda: _Encoder(a["width"] + a["cond_width"], hidden, a["latent_dim"]),
            "decoder": lambda: _Decoder(a["latent_dim"] + a["cond_width"], hidden[::-1],
                                        a["width"], a["n_values"]),
        }
        if a["cond_width"]:
            # p(z | c): with a fixed N(0, I) prior the latent also carries what the condition
            # says, and conditioned samples drift back to the marginal
            factories["prior"] = lambda: _Encoder(a["cond_width"], hidden, a["latent_dim"])
        return factories

    def _train(self, data: Mapping[str, torch.Tensor], generator: torch.Generator
               ) -> TrainingHistory:
        x_all, revealable_all = data["x"], data["revealable"]
        dev = x_all.device
        decoder = self._decoder()
        with torch.no_grad():
            decoder.log_sigma.fill_(_LOG_SIGMA_INIT)
        enc, dec = self._compiled("encoder"), self._compiled("decoder")
        prior = self._compiled("prior") if "prior" in self.modules_ else None
        params = [p for module in self.modules_.values() for p in module.parameters()]
        optimizer = torch.optim.Adam(params, lr=self.learning_rate,
                                     weight_decay=self.weight_decay)
        layout, _ = self._cond_layout()
        cond_src, cond_group = self._cond_gather(layout, dev)
        value_idx, discrete = self._loss_layout(dev)
        batcher = EpochBatcher(len(x_all), self.batch_size, dev, generator)
        n_cond = len(layout)
        loss_factor = float(self.loss_factor)

        def step(epoch: int, s: int) -> dict[str, torch.Tensor]:
            idx = batcher.batch(s)
            x = x_all[idx]
            b = x.shape[0]
            cond = self._training_cond(x, revealable_all[idx], cond_src, cond_group, n_cond,
                                       generator)
            with autocast(dev, self.bf16):
                mu, logvar = enc(torch.cat([x, cond], dim=1))
                mu, logvar = mu.float(), logvar.float()
                eps = torch.randn(mu.shape, device=dev, generator=generator)
                z = mu + eps * torch.exp(0.5 * logvar)
                raw = dec(torch.cat([z, cond], dim=1)).float()
                if prior is not None:
                    mu_p, logvar_p = (t.float() for t in prior(cond))
                else:
                    mu_p, logvar_p = torch.zeros_like(mu), torch.zeros_like(logvar)
            recon = self._reconstruction(raw, x, value_idx, discrete, decoder)
            # KL(q(z | x, c) || p(z | c)) of two diagonal Gaussians
            kl = 0.5 * torch.sum(logvar_p - logvar - 1
                                 + (logvar.exp() + (mu - mu_p).pow(2)) / logvar_p.exp())
            loss = (loss_factor * recon + kl) / b
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            with torch.no_grad():
                decoder.log_sigma.clamp_(_LOG_SIGMA_MIN, _LOG_SIGMA_MAX)
            return {"loss": loss.detach(), "recon": recon.detach() / b, "kl": kl.detach() / b}

        return self._loop(step, steps_per_epoch=batcher.steps, rows_per_step=batcher.batch_size,
                          on_epoch_start=lambda epoch: batcher.new_epoch(),
                          epochs=self._epochs_for(batcher.steps))

    def _cond_gather(self, layout: list[tuple[int, int, int]], dev: torch.device
                     ) -> tuple[torch.Tensor, torch.Tensor]:
        src = [f for _, start, end in layout for f in range(start, end)]
        group = [i for i, (_, start, end) in enumerate(layout) for _ in range(start, end)]
        return (torch.tensor(src, dtype=torch.long, device=dev),
                torch.tensor(group, dtype=torch.long, device=dev))

    @staticmethod
    def _training_cond(
        x: torch.Tensor,
        revealable: torch.Tensor,
        cond_src: torch.Tensor,
        cond_group: torch.Tensor,
        n_cond: int,
        generator: torch.Generator,
    ) -> torch.Tensor:
        """Condition vectors revealing a random subset of each row's condition columns."""
        b = x.shape[0]
        if n_cond == 0:
            return x.new_zeros((b, 0))
        dev = x.device
        # half of the rows reveal nothing (the unconditional case sampling uses most); the rest
        # reveal each column with a per-row rate drawn uniformly, so every subset size occurs
        rate = torch.rand(b, 1, device=dev, generator=generator)
        rate = rate * (torch.rand(b, 1, device=dev, generator=generator) < 0.5)
        reveal = (torch.rand(b, n_cond, device=dev, generator=generator) < rate).float()
        reveal = reveal * revealable
        return torch.cat([x[:, cond_src] * reveal[:, cond_group], reveal], dim=1)

    def _loss_layout(self, dev: torch.device
                     ) -> tuple[torch.Tensor, list[tuple[int, int]]]:
        values = [s.start for s in self.encoder_.spans_ if not s.softmax]
        discrete = [(s.start, s.end) for s in self.encoder_.spans_ if s.softmax]
        return torch.tensor(values, dtype=torch.long, device=dev), discrete

    def _value_activation(self, raw: torch.Tensor) -> torch.Tensor:
        # mixture-scaled values live in [-1, 1] (TVAE's tanh); normal scores are unbounded
        return torch.tanh(raw) if self.numerical == "gmm" else raw

    def _reconstruction(
        self,
        raw: torch.Tensor,
        x: torch.Tensor,
        value_idx: torch.Tensor,
        discrete: list[tuple[int, int]],
        decoder: _Decoder,
    ) -> torch.Tensor:
        """Summed negative log-likelihood of ``x`` under the decoder output ``raw``."""
        total = raw.new_zeros(())
        if len(value_idx):
            log_sigma = decoder.log_sigma
            pred = self._value_activation(raw[:, value_idx])
            err = (x[:, value_idx] - pred) / torch.exp(log_sigma)
            total = total + (0.5 * err.pow(2)).sum() + log_sigma.sum() * x.shape[0]
        for start, end in discrete:
            target = x[:, start:end].argmax(dim=1)
            total = total + F.cross_entropy(raw[:, start:end], target, reduction="sum")
        return total

    def _decoder(self) -> _Decoder:
        return cast(_Decoder, self.modules_["decoder"])

    # -- sample --------------------------------------------------------------------------------
    def _check_conditions(self, fixed: Mapping[int, float]) -> None:
        allowed = {self.schema_.index(c) for c in self.condition_columns_}
        bad = [self.schema_.columns[j].name for j in fixed if j not in allowed]
        if bad:
            raise InvalidParameterError(
                f"this {type(self).__name__} cannot condition on {bad}: it was fitted with "
                f"condition_columns {self.condition_columns_}. Refit with condition_columns "
                "including them to condition on them."
            )

    def _level_seen(self, column: int, code: int) -> bool:
        return self.encoder_.level_seen(column, code)

    def _generate(self, n: int, fixed: Mapping[int, float], generator: torch.Generator
                  ) -> torch.Tensor:
        dev = self.device_
        a = self.arch_
        layout, cond_width = self._cond_layout()
        cond = torch.zeros((n, cond_width), device=dev)
        given: dict[int, torch.Tensor] = {}
        flag0 = cond_width - len(layout)
        offset = 0
        for i, (j, start, end) in enumerate(layout):
            width = end - start
            if j in fixed:
                block = self.encoder_.encode_column(j, np.array([fixed[j]]),
                                                    np.random.default_rng(0))
                span_block = torch.as_tensor(block[0, : width], device=dev)
                cond[:, offset : offset + width] = span_block
                cond[:, flag0 + i] = 1.0
                if self.schema_.columns[j].kind.is_discrete:
                    pos = self.encoder_.position(j, int(fixed[j]))
                    given[j] = torch.full((n,), pos, dtype=torch.long, device=dev)
            offset += width
        decoder = self.modules_["decoder"]  # uncompiled: sample sizes vary
        z = torch.randn((n, a["latent_dim"]), device=dev, generator=generator)
        with autocast(dev, self.bf16):
            if "prior" in self.modules_:
                mu_p, logvar_p = self.modules_["prior"](cond)
                z = mu_p.float() + z * torch.exp(0.5 * logvar_p.float())
            raw = decoder(torch.cat([z, cond], dim=1)).float()
        features = raw.clone()
        value_idx, _ = self._loss_layout(dev)
        if len(value_idx):
            sigma = torch.exp(self._decoder().log_sigma)
            noise = torch.randn((n, len(value_idx)), device=dev, generator=generator)
            features[:, value_idx] = self._value_activation(raw[:, value_idx]) + noise * sigma
        return self.codec_.decode(features, generator, given=given, **self._missing_options())

    # -- persistence ---------------------------------------------------------------------------
    def _extra_state(self) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        state, tensors = span_encoding_state(self.encoder_)
        return {**state, "condition_columns": self.condition_columns_}, tensors

    def _set_extra_state(self, state: Mapping[str, Any], tensors: Mapping[str, torch.Tensor]
                         ) -> None:
        self.condition_columns_ = [str(c) for c in state["condition_columns"]]
        self.encoder_ = load_span_encoding(self.schema_, state, tensors)
        self.codec_ = self.encoder_.to(self.device_)
