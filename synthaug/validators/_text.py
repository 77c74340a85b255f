"""Shared plumbing of the text validators: checked inputs, MiniLM features, words, classes.

The text validators (``fidelity/text.py``, ``privacy/text.py``) compute on what the
feature-only validators cannot see: MiniLM sentence embeddings
(:mod:`synthaug.data.text.embedding`) and the words themselves.  What they share lives here:

* :func:`text_inputs` checks the three inputs once and refuses data of another modality;
* :func:`minilm_rows` gives a capped, nested sample of a set's texts with their MiniLM rows
  from the run's one feature store;
* :func:`~synthaug.data.text.words.words` is the one tokenizer of the word-level checks;
* :func:`shared` computes a value once per suite run (the classifier trained on the real
  texts);
* :func:`classes_of`, :func:`class_codes` and :func:`labelled` map labels to the real texts'
  classes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from synthaug.data.features import FeatureStore, nested_sample
from synthaug.data.modality import detect_modality, run_shared
from synthaug.data.text.container import Texts, as_texts
from synthaug.data.text.words import words
from synthaug.exceptions import InvalidDataError, NotComputableError, NotSupportedError
from synthaug.utils.validation import check_int, check_positive_int
from synthaug.validators.base import BaseValidator

__all__ = ["TEXT", "EmbeddingCheck", "class_codes", "classes_of", "embedding_details",
           "labelled", "minilm_rows", "shared", "text_inputs", "words"]

#: the modalities the text validators accept
TEXT: frozenset[str] = frozenset({"text"})

T = TypeVar("T")


def text_inputs(validator: str, real: Any, synthetic: Any, holdout: Any = None,
                context: Mapping[str, Any] | None = None,
                ) -> tuple[Texts, Texts, Texts | None]:
    """The three inputs as :class:`Texts`.

    Raises
    ------
    NotSupportedError
        When the data are not texts.
    """
    modality = (context or {}).get("modality") or detect_modality(real, what="real").name
    if modality != "text":
        raise NotSupportedError(
            f"{validator} scores text data, not {modality} data. Use a suite made for "
            f"{modality} data, or drop this check.")
    return (as_texts(real, what="real texts"), as_texts(synthetic, what="synthetic texts"),
            None if holdout is None else as_texts(holdout, what="holdout texts"))


def shared(context: Mapping[str, Any] | None, inputs: tuple[Any, Any, Any], key: str,
           compute: Callable[[], T]) -> T:
    """``compute()`` once per suite run under ``key`` (every time outside a suite), typed."""
    value: T = run_shared(context, inputs, key, compute)
    return value


def minilm_rows(store: FeatureStore, texts: Texts, max_rows: int | None, seed: int
                ) -> tuple[np.ndarray, np.ndarray]:
    """``(features, positions)`` of a nested sample of at most ``max_rows`` of ``texts``."""
    rows = nested_sample(len(texts), max_rows, seed)
    return store.of(texts.texts[rows]), rows


def embedding_details(store: FeatureStore) -> dict[str, Any]:
    """What every MiniLM-based score says about the features it compared."""
    from synthaug.data.text.embedding import FEATURE_DIM, MAX_TOKENS

    return {"features": store.name, "feature_dim": FEATURE_DIM, "max_tokens": MAX_TOKENS}


def labelled(texts: Texts, what: str, validator: str) -> np.ndarray:
    """The labels of ``texts``, or :class:`NotComputableError` when there are none."""
    if texts.labels is None:
        raise NotComputableError(
            f"{validator} needs labelled {what} texts (the class each one has or was asked "
            "for); these have none. Pass labels (y=..., or a file with a label column).")
    return texts.labels


def classes_of(labels: np.ndarray) -> list[str]:
    """The classes of the real labels, as text, sorted (the code order)."""
    return sorted(set(pd.Series(labels, dtype=object).astype(str)))


def class_codes(classes: list[str], labels: np.ndarray, what: str, validator: str
                ) -> np.ndarray:
    """Codes of ``labels`` among ``classes`` (compared as text), refusing unknown labels."""
    text = pd.Index(pd.Series(labels, dtype=object).astype(str))
    codes = pd.Index(classes).get_indexer(text)
    if (codes < 0).any():
        unknown = sorted(set(text[codes < 0]))[:5]
        raise InvalidDataError(
            f"{validator}: the {what} texts hold labels the real texts do not have "
            f"({unknown}); label them with the real classes ({classes[:10]}).")
    return codes.astype(np.int64)


class EmbeddingCheck(BaseValidator):
    """Parameters of the checks on MiniLM features, and the run's feature store."""

    modalities = TEXT

    def __init__(self, *, max_rows: int | None = 2_000, batch_size: int = 128,
                 device: str = "auto", random_state: int = 0) -> None:
        self.max_rows = max_rows
        self.batch_size = batch_size
        self.device = device
        self.random_state = random_state

    def _check_params(self) -> None:
        check_int(self.max_rows, "max_rows", 10, allow_none=True)
        check_positive_int(self.batch_size, "batch_size")
        check_int(self.random_state, "random_state", 0)

    def _store(self, context: Mapping[str, Any] | None, inputs: tuple[Any, Any, Any]
               ) -> tuple[FeatureStore, Any]:
        from synthaug.data.text.embedding import shared_features
        from synthaug.validators._common import resolve_validator_device

        device = resolve_validator_device(self.device, context)
        return shared_features(context, *inputs, device=device,
                               batch_size=self.batch_size), device
