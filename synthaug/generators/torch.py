"""The torch plumbing every deep generator shares, whatever its modality.

:class:`TorchGeneratorMixin` sits between :class:`~synthaug.generators.base.BaseGenerator` and a
modality's base (``class TorchTabularGenerator(TorchGeneratorMixin, TabularGenerator)``; an
image or text base does the same with its own).  It owns:

* the common parameters and their checks: ``epochs``, ``batch_size``, ``learning_rate``,
  ``device``, ``random_state``, ``progress``, ``early_stopping_patience``, ``compile``,
  ``bf16``, ``epoch_callback``;
* local seeding: :meth:`_torch_generator` gives one :class:`torch.Generator` per fit or sample
  call, drawn from the call's numpy generator;
* the fit scaffold :meth:`_fit_torch`: the one host -> device copy of the training arrays,
  modules built by :func:`~synthaug.generators.nn.build_module` from :meth:`_make_modules`,
  train/eval modes, seeded dropout, and an unfitted generator when training fails;
* the compile cache (:meth:`_compiled`) and the training loop (:meth:`_loop`: best weights
  under early stopping, ``epoch_callback``, divergence stops the fit);
* sampling in bounded chunks with one device -> host copy each (:meth:`_sample_into`);
* persistence of the modules and the subclass's extra state through
  ``_get_model_state`` / ``_set_model_state`` (the layout of saved folders: state
  ``{"arch", "history", "extra"}``, tensors ``module.<name>.<key>`` and ``extra.<key>``).

It knows nothing about tables, images or text: the modality base turns the user's container
into arrays and back; the family (GAN, VAE, ...) implements the hooks listed on the class.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from synthaug.generators.base import BaseGenerator
from synthaug.generators.nn import (
    TrainingHistory,
    build_module,
    iter_slices,
    maybe_compile,
    run_epochs,
    set_generator,
)
from synthaug.utils.random import torch_generator
from synthaug.utils.validation import (
    check_bool,
    check_callable,
    check_int,
    check_number,
)

__all__ = ["EpochCallback", "TorchGeneratorMixin"]

#: ``epoch_callback(generator, epoch, losses)``: called after every epoch; truthy stops the fit
EpochCallback = Callable[[Any, int, dict[str, float]], object]


class TorchGeneratorMixin(BaseGenerator):
    """Torch plumbing for a generator of any modality (see the module docstring).

    A concrete generator stores its parameters in ``__init__`` (the common ones above among
    them; scikit-learn needs the explicit signature), and implements:

    * :meth:`_make_modules`: factories of the networks, built from ``self.arch_`` (a JSON-able
      dict of sizes the subclass sets before :meth:`_fit_torch`) and nothing else, because
      loading rebuilds them the same way;
    * :meth:`_train`: the optimisation, through :meth:`_loop`, on arrays already on the device;
    * :meth:`_extra_state` / :meth:`_set_extra_state`: fitted statistics besides the modules
      (an encoding, a vocabulary), as JSON and tensors;
    * the modality base's sampling hook, drawing on the device inside :meth:`_sample_into`.

    Its fit hook calls ``self._fit_torch(arrays, self._torch_generator(rng))`` after preparing
    the arrays (and setting ``arch_``).  Fitted state: ``modules_`` (name -> ``nn.Module`` on
    ``device_``), ``arch_``, ``history_`` (:class:`~synthaug.generators.nn.TrainingHistory`).

    Examples
    --------
    >>> from synthaug.generators.tabular import TVAEGenerator
    >>> from synthaug.generators.torch import TorchGeneratorMixin
    >>> issubclass(TVAEGenerator, TorchGeneratorMixin)
    True
    >>> TVAEGenerator(epochs=5).get_params()["device"]
    'auto'
    """

    tags: ClassVar[frozenset[str]] = frozenset({"gpu"})

    #: whether early stopping restores the weights of the best epoch
    _restore_best: ClassVar[bool] = True
    _unsaved_params: ClassVar[tuple[str, ...]] = ("epoch_callback",)
    #: whether ``epochs=None`` is allowed (the family then picks a budget from the data and
    #: passes ``epochs`` to :meth:`_loop` itself)
    _auto_epochs: ClassVar[bool] = False

    epochs: int  # or None where _auto_epochs
    batch_size: int
    learning_rate: float
    early_stopping_patience: int | None
    compile: bool
    bf16: bool
    progress: bool | None
    epoch_callback: EpochCallback | None

    arch_: dict[str, Any]
    modules_: dict[str, nn.Module]
    history_: TrainingHistory

    # -- parameters ----------------------------------------------------------------------------
    def _check_params(self) -> None:
        super()._check_params()
        check_int(self.epochs, "epochs", 1, allow_none=self._auto_epochs)
        check_int(self.batch_size, "batch_size", 1)
        check_number(self.learning_rate, "learning_rate", minimum=0, open_low=True)
        check_int(self.early_stopping_patience, "early_stopping_patience", 1, allow_none=True)
        check_bool(self.compile, "compile")
        check_bool(self.bf16, "bf16")
        check_callable(self.epoch_callback, "epoch_callback",
                       signature="(generator, epoch, losses) -> bool")
        check_bool(self.progress, "progress", allow_none=True)

    # -- fit -----------------------------------------------------------------------------------
    def _torch_generator(self, rng: np.random.Generator) -> torch.Generator:
        """A :class:`torch.Generator` on ``device_``, seeded from ``rng`` (one per call)."""
        return torch_generator(rng, self.device_)

    def _fit_torch(self, arrays: Mapping[str, np.ndarray], generator: torch.Generator) -> None:
        """Copy ``arrays`` to the device, build the modules and train them with ``generator``.

        When training raises (divergence, an interrupt), ``modules_`` is removed, so the
        generator reads as unfitted instead of holding half-trained weights.
        """
        # the one host -> device copy of the training data
        data = {k: torch.from_numpy(np.ascontiguousarray(v)).to(self.device_)
                for k, v in arrays.items()}
        modules = self._build_modules(generator)
        self.modules_ = modules
        self._compiled_cache: dict[str, nn.Module] = {}
        if not modules:  # nothing to learn (a table of identifiers, say)
            self.history_ = TrainingHistory()
            return
        for module in modules.values():
            module.train()
            set_generator(module, generator)
        try:
            self.history_ = self._train(data, generator)
        except BaseException:
            del self.modules_
            self._compiled_cache = {}
            raise
        finally:
            for module in modules.values():
                set_generator(module, None)
                module.eval()

    def _learnable(self) -> bool:
        """Whether the fitted data holds anything for networks to learn (default: yes)."""
        return True

    def _build_modules(self, generator: torch.Generator) -> dict[str, nn.Module]:
        if not self._learnable():
            return {}
        factories = self._make_modules()
        return {name: build_module(f, self.device_, generator) for name, f in factories.items()}

    def _compiled(self, name: str) -> nn.Module:
        """The module ``name``, compiled when ``compile=True`` (cached until the next fit)."""
        cache: dict[str, nn.Module] = self.__dict__.setdefault("_compiled_cache", {})
        if name not in cache:
            cache[name] = maybe_compile(self.modules_[name], self.compile)
        return cache[name]

    def _loop(
        self,
        step: Callable[[int, int], Mapping[str, torch.Tensor]],
        *,
        steps_per_epoch: int,
        rows_per_step: int,
        monitor: str = "loss",
        evaluate: Callable[[], Mapping[str, torch.Tensor]] | None = None,
        on_epoch_start: Callable[[int], object] | None = None,
        epochs: int | None = None,
    ) -> TrainingHistory:
        """Run :func:`~synthaug.generators.nn.run_epochs` with this generator's settings.

        ``epochs`` (unless the caller passes its own count: a step budget, say),
        ``early_stopping_patience`` (keeping the best epoch's weights unless the
        class sets ``_restore_best = False``), ``progress`` and ``epoch_callback`` (which may
        sample: the modules go back to train mode after it) come from the parameters.

        Raises
        ------
        TrainingDivergedError
            When ``monitor`` becomes NaN or infinite; the message says what to try.
        """
        best: dict[str, dict[str, torch.Tensor]] = {}

        def keep_best() -> None:
            # device-side copies: no host transfer, and only when early stopping is on
            for name, module in self.modules_.items():
                best[name] = {k: v.detach().clone() for k, v in module.state_dict().items()}

        def epoch_end(epoch: int, losses: Mapping[str, float]) -> bool:
            if self.epoch_callback is None:
                return False
            stop = bool(self.epoch_callback(self, epoch, dict(losses)))
            for module in self.modules_.values():  # the callback may have sampled (eval mode)
                module.train()
            return stop

        patience = self.early_stopping_patience
        history = run_epochs(
            step,
            epochs=self.epochs if epochs is None else epochs,
            steps_per_epoch=steps_per_epoch,
            rows_per_step=rows_per_step,
            monitor=monitor,
            patience=patience,
            evaluate=evaluate,
            on_improve=keep_best if patience is not None and self._restore_best else None,
            on_epoch_start=on_epoch_start,
            on_epoch_end=epoch_end if self.epoch_callback is not None else None,
            progress=self.progress,
            desc=self.name or type(self).__name__,
            divergence_hint=self._divergence_hint(),
        )
        if best and history.best_epoch < history.epochs_run - 1 and (
            history.stop_reason != "callback"
        ):
            # the last epoch was not the best one: go back to the best weights
            for name, module in self.modules_.items():
                module.load_state_dict(best[name])
        return history

    def _divergence_hint(self) -> str:
        """What to try when training diverges (subclasses may add their own advice)."""
        tips = [f"a lower learning_rate (it is {self.learning_rate:g}; try "
                f"{self.learning_rate / 10:g})"]
        if self.bf16:
            tips.append("bf16=False (bfloat16 keeps only 8 bits of precision)")
        return (f"The fit was stopped and the generator left unfitted. Try {' or '.join(tips)}; "
                "extreme values in the data can cause it too.")

    # -- sample --------------------------------------------------------------------------------
    def _sample_into(
        self, out: np.ndarray, generate: Callable[[int], torch.Tensor], *, chunk_rows: int
    ) -> np.ndarray:
        """Fill ``out`` (records along axis 0) with ``generate(k)`` chunks of at most
        ``chunk_rows`` records, in eval and inference mode, one device -> host copy per chunk;
        this bounds device memory whatever ``len(out)`` is."""
        for module in self.modules_.values():
            module.eval()
        with torch.inference_mode():
            for start, stop in iter_slices(len(out), chunk_rows):
                out[start:stop] = generate(stop - start).cpu().numpy()
        return out

    # -- persistence ---------------------------------------------------------------------------
    def _is_fitted(self) -> bool:
        return hasattr(self, "modules_") and super()._is_fitted()

    def _get_model_state(self) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        extra_state, extra_tensors = self._extra_state()
        state = {"arch": self.arch_, "history": self.history_.to_dict(), "extra": extra_state}
        tensors = {f"extra.{k}": v for k, v in extra_tensors.items()}
        for name, module in self.modules_.items():
            tensors |= {f"module.{name}.{k}": v for k, v in module.state_dict().items()}
        return state, tensors

    def _set_model_state(
        self, state: Mapping[str, Any], tensors: Mapping[str, torch.Tensor]
    ) -> None:
        self.arch_ = dict(state["arch"])
        extra = {k[len("extra."):]: v for k, v in tensors.items() if k.startswith("extra.")}
        self._set_extra_state(state["extra"], extra)
        self.history_ = TrainingHistory.from_dict(state.get("history"))
        # weights come from the file; the seed only fills buffers that load_state_dict replaces
        filler = torch.Generator(device=self.device_)
        filler.manual_seed(0)
        self.modules_ = self._build_modules(filler)
        self._compiled_cache = {}
        for name, module in self.modules_.items():
            prefix = f"module.{name}."
            sub = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
            module.load_state_dict(sub, strict=True)
            module.eval()

    def __getstate__(self) -> dict[str, Any]:
        # compiled wrappers cannot be deep-copied or pickled; they are rebuilt on demand
        state: dict[str, Any] = dict(super().__getstate__())
        state.pop("_compiled_cache", None)
        return state

    # -- hooks ---------------------------------------------------------------------------------
    @abstractmethod
    def _make_modules(self) -> dict[str, Callable[[], nn.Module]]:
        """Factories of the networks, built from ``self.arch_`` only (load uses them too)."""

    @abstractmethod
    def _train(self, data: Mapping[str, torch.Tensor], generator: torch.Generator
               ) -> TrainingHistory:
        """Train ``self.modules_`` on ``data`` (already on the device), through :meth:`_loop`."""

    @abstractmethod
    def _extra_state(self) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        """Fitted statistics besides the modules (an encoding, say): JSON and tensors."""

    @abstractmethod
    def _set_extra_state(self, state: Mapping[str, Any], tensors: Mapping[str, torch.Tensor]
                         ) -> None:
        """Restore what :meth:`_extra_state` returned."""
