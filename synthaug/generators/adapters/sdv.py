"""SDV's single-table synthesizers behind synthaug's generator contract.

``sdv.gaussian_copula``, ``sdv.ctgan`` and ``sdv.tvae`` run SDV (the optional ``sdv`` extra; SDV
is under the Business Source License, so it is never installed by default) through synthaug's
API: DataFrame or array in, the same container out, ``conditions``, ``random_state``,
``sample_batches`` and the validators all work as with the native generators.  Two things do not:

* **Saving.**  SDV models can only be stored with pickle (cloudpickle), which runs code when
  loaded; synthaug writes JSON and safetensors only, so :meth:`save` refuses with a clear error.
* **Exact conditions.**  SDV samples conditions by rejection and can give up ("Unable to sample
  any rows"); the adapter turns that into a :class:`~synthaug.exceptions.InvalidParameterError`.
  The native generators meet conditions exactly.

SDV draws from NumPy's and torch's global random generators while fitting; the adapter seeds them
from ``random_state`` inside a fork and restores them afterwards, so a fit is repeatable and the
caller's global streams are left as they were.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import torch

from synthaug.exceptions import InvalidParameterError, MissingDependencyError, NotSupportedError
from synthaug.generators.base import register_generator
from synthaug.generators.tabular.base import TabularGenerator
from synthaug.utils.progress import progress_enabled
from synthaug.utils.random import RandomState

__all__ = ["SDVCTGAN", "SDVGaussianCopula", "SDVTVAE"]

_TABLE = "table"


def _import_sdv() -> Any:
    try:
        import sdv
        from sdv import single_table
        from sdv.metadata import Metadata
        from sdv.sampling import Condition
    except ImportError as exc:
        raise MissingDependencyError(
            f"the SDV adapters need SDV, which is not installed ({exc}). Install it with "
            "`pip install \"synthaug[sdv]\"` (SDV is under the Business Source License; read it "
            "first), or use synthaug's own tabular.copula / tabular.gan / tabular.vae."
        ) from None
    major = int(str(sdv.__version__).split(".")[0])
    if major < 2:
        raise MissingDependencyError(
            f"the SDV adapters need SDV 2 or newer; SDV {sdv.__version__} is installed. Upgrade "
            "with `pip install -U \"synthaug[sdv]\"`."
        )
    return single_table, Metadata, Condition


@contextmanager
def _seeded_globals(seed: int) -> Iterator[None]:
    """Seed the global generators SDV draws from, and put the caller's back afterwards."""
    np_state, py_state = np.random.get_state(), random.getstate()
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        np.random.seed(seed)  # SDV/RDT/copulas use the legacy global NumPy stream
        random.seed(seed)
        try:
            yield
        finally:
            np.random.set_state(np_state)
            random.setstate(py_state)


class _SDVAdapter(TabularGenerator):
    """Shared body of the SDV adapters: the subclasses only name SDV's class and parameters."""

    family: ClassVar[str] = ""
    sdv_class: ClassVar[str] = ""

    def _sdv_params(self) -> dict[str, Any]:
        return dict(getattr(self, "params", None) or {})

    def _check_params(self) -> None:
        params = getattr(self, "params", None)
        if params is not None and not isinstance(params, Mapping):
            raise InvalidParameterError(
                f"{self.name}: params must be a mapping of extra keyword arguments for SDV's "
                f"{self.sdv_class}, got {type(params).__name__}."
            )

    def _fit_matrix(self, matrix: np.ndarray, rng: np.random.Generator) -> None:
        single_table, metadata_cls, _ = _import_sdv()
        # SDV wants its own frame: the typed frame of the schema, with text as plain objects,
        # and categories that are not text (integer classes, say) as their text, which SDV's
        # metadata detection accepts; samples are mapped back in _sample_matrix
        typed = self.schema_.from_matrix(matrix, rng)
        self.sdv_levels_ = _text_levels(typed)
        frame = _for_sdv(typed, self.sdv_levels_)
        metadata = metadata_cls.detect_from_dataframes({_TABLE: frame}, infer_keys=None)
        klass = getattr(single_table, self.sdv_class)
        try:
            model = klass(metadata, **self._sdv_params())
        except TypeError as exc:
            raise InvalidParameterError(
                f"{self.name}: SDV's {self.sdv_class} does not take these parameters ({exc})."
            ) from None
        with _seeded_globals(int(rng.integers(2**31 - 1))):
            model.fit({_TABLE: frame})
        self.model_ = model

    def _sample_matrix(
        self, n: int, fixed: Mapping[int, float], rng: np.random.Generator
    ) -> np.ndarray:
        _, _, condition_cls = _import_sdv()
        _seed_sampling(self.model_, int(rng.integers(2**31 - 1)))
        levels = getattr(self, "sdv_levels_", {})
        with _seeded_globals(int(rng.integers(2**31 - 1))):
            if fixed:
                values = self._decode_conditions(fixed, rng)
                sdv_values = {k: str(v) if k in levels else v for k, v in values.items()}
                try:
                    out = self.model_.sample_from_conditions(
                        [condition_cls(sdv_values, num_rows=n)])
                except (ValueError, RuntimeError) as exc:
                    raise InvalidParameterError(
                        f"{self.name}: SDV could not sample {n} rows with {values} ({exc}). "
                        "SDV samples conditions by rejection and gives up on rare values; "
                        "synthaug's tabular.copula, tabular.gan, tabular.vae and "
                        "tabular.transformer meet conditions exactly."
                    ) from None
            else:
                out = self.model_.sample(n)
        frame = out[_TABLE] if isinstance(out, dict) else out
        frame = frame.reset_index(drop=True)
        for column, mapping in levels.items():
            frame[column] = frame[column].map(lambda v, m=mapping: m.get(v, v))
        if len(frame) != n:
            raise InvalidParameterError(
                f"{self.name}: SDV returned {len(frame)} rows instead of {n} (its rejection "
                "sampler gave up); use a native synthaug generator for exact counts."
            )
        return self.schema_.to_matrix(frame[self.schema_.names], what="SDV's sample")

    def _decode_conditions(
        self, fixed: Mapping[int, float], rng: np.random.Generator
    ) -> dict[str, Any]:
        row = np.full((1, len(self.schema_.columns)), np.nan)
        for j, value in fixed.items():
            row[0, j] = value
        decoded = self.schema_.from_matrix(row, rng)
        return {self.schema_.names[j]: decoded.iat[0, j] for j in fixed}

    def _get_model_state(self) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        raise NotSupportedError(
            f"{self.name} cannot be saved: SDV models can only be stored with pickle, which runs "
            "code when loaded, and synthaug never writes pickle. Keep the fitted object in "
            "memory, refit from the data, or use synthaug's own generators, which save as JSON "
            "and safetensors."
        )

    def _set_model_state(
        self, state: Mapping[str, Any], tensors: Mapping[str, torch.Tensor]
    ) -> None:
        raise NotSupportedError(f"{self.name} models are never saved, so none can be loaded.")

    def _is_fitted(self) -> bool:
        return hasattr(self, "model_")


def _seed_sampling(model: Any, seed: int) -> None:
    """Make SDV's next sample depend on ``seed`` alone.

    SDV seeds its model with ``_set_random_state``, but RDT's transformers keep their own
    random streams for ``reverse_transform`` (which values come back missing, for one), and
    those advance from call to call.  They are put back to their state after fitting and then
    seeded from ``seed``.  Both are private SDV/RDT attributes: when a release moves them, the
    reset alone still makes a sample repeatable.
    """
    model.reset_sampling()
    model._set_random_state(seed)  # SDV's own sampling seed
    try:
        transformers = model._data_processor._hyper_transformer._transformers_sequence
    except AttributeError:
        return
    for i, transformer in enumerate(transformers):
        if getattr(transformer, "random_states", None) is not None:
            transformer.set_random_state(np.random.RandomState((seed + i) % 2**32),
                                         "reverse_transform")


def _text_levels(frame: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """For category columns whose levels are not all text: text of each level -> the level."""
    out: dict[str, dict[str, Any]] = {}
    for column in frame.columns:
        dtype = frame[column].dtype
        if isinstance(dtype, pd.CategoricalDtype) and not all(
                isinstance(c, str) for c in dtype.categories):
            out[str(column)] = {str(c): c for c in dtype.categories}
    return out


def _for_sdv(frame: pd.DataFrame, levels: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    frame = frame.copy()
    for column in levels:
        frame[column] = frame[column].astype(object).map(
            lambda v: v if v is None or (isinstance(v, float) and np.isnan(v)) else str(v))
    text = [c for c in frame.columns
            if isinstance(frame[c].dtype, (pd.StringDtype, pd.CategoricalDtype))
            or frame[c].dtype == object]
    return frame.astype(dict.fromkeys(text, "object"))


@register_generator("sdv.gaussian_copula")
class SDVGaussianCopula(_SDVAdapter):
    """SDV's ``GaussianCopulaSynthesizer`` through synthaug's API (needs ``synthaug[sdv]``).

    Parameters
    ----------
    params : mapping, optional
        Extra keyword arguments for SDV's class (for example ``default_distribution``).
    random_state : int, Generator or None
        Seeds fitting and sampling.
    device : str
        Accepted for the contract; the copula runs on the CPU.

    Examples
    --------
    Making one needs no SDV; fitting does (skipped as a doctest: SDV is an optional extra).

    >>> from synthaug import get_generator
    >>> gen = get_generator("sdv.gaussian_copula", random_state=0)
    >>> gen.name, gen.modality
    ('sdv.gaussian_copula', 'tabular')
    >>> import pandas as pd
    >>> table = pd.DataFrame({"x": [1.0, 2.5, 3.1, 4.2], "c": ["a", "b", "a", "b"]})
    >>> gen.fit(table).sample(3, random_state=1)  # doctest: +SKIP
    """

    family = "copula"
    sdv_class = "GaussianCopulaSynthesizer"

    def __init__(
        self,
        *,
        params: Mapping[str, Any] | None = None,
        random_state: RandomState = None,
        device: str = "cpu",
    ) -> None:
        self.params = params
        self.random_state = random_state
        self.device = device


class _SDVDeep(_SDVAdapter):
    """CTGAN and TVAE: epochs, batch size, the GPU and SDV's own progress bar."""

    tags = frozenset({"gpu"})

    def __init__(
        self,
        *,
        epochs: int = 300,
        batch_size: int = 500,
        params: Mapping[str, Any] | None = None,
        random_state: RandomState = None,
        device: str = "auto",
        progress: bool | None = None,
    ) -> None:
        self.epochs = epochs
        self.batch_size = batch_size
        self.params = params
        self.random_state = random_state
        self.device = device
        self.progress = progress

    def _check_params(self) -> None:
        super()._check_params()
        for key in ("epochs", "batch_size"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise InvalidParameterError(f"{self.name}: {key} must be an int >= 1, got "
                                            f"{value!r}.")
        # CTGAN's PacGAN discriminator packs 10 rows; SDV fails deep inside otherwise
        if self.sdv_class == "CTGANSynthesizer" and self.batch_size % 10:
            raise InvalidParameterError(
                f"{self.name}: batch_size must be a multiple of 10 (CTGAN packs 10 rows per "
                f"discriminator input), got {self.batch_size}."
            )

    def _sdv_params(self) -> dict[str, Any]:
        return {
            "epochs": int(self.epochs),
            "batch_size": int(self.batch_size),
            "enable_gpu": self.device_.type == "cuda",
            "verbose": progress_enabled(self.progress),
            **super()._sdv_params(),
        }


@register_generator("sdv.ctgan")
class SDVCTGAN(_SDVDeep):
    """SDV's ``CTGANSynthesizer`` through synthaug's API (needs ``synthaug[sdv]``).

    Parameters
    ----------
    epochs, batch_size : int
        SDV's defaults (300 and 500); ``batch_size`` must be a multiple of 10.
    params : mapping, optional
        Extra keyword arguments for SDV's class (``generator_dim``, ``pac``, ...).
    random_state : int, Generator or None
        Seeds fitting (through the global generators SDV uses) and sampling.
    device : {"auto", "cpu", "cuda"}
        ``"auto"`` trains on the GPU when there is one.
    progress : bool or None
        SDV's per-epoch progress bar; ``None`` shows it on a terminal.
    """

    family = "gan"
    sdv_class = "CTGANSynthesizer"


@register_generator("sdv.tvae")
class SDVTVAE(_SDVDeep):
    """SDV's ``TVAESynthesizer`` through synthaug's API (needs ``synthaug[sdv]``).

    Parameters are those of :class:`SDVCTGAN` (any ``batch_size`` >= 1).
    """

    family = "vae"
    sdv_class = "TVAESynthesizer"
