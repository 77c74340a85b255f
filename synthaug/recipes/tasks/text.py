"""The text recipe task: labelled texts in, a text CNN or a head on frozen MiniLM out.

* **The recipe's names**: texts carry their labels (:class:`~synthaug.data.text.Texts`), so
  ``data.target`` only names them (``"label"``); texts have no columns, so ``data.sensitive``,
  ``scenario.column`` and ``data.drop`` are refused.
* **Two downstream models**, registered by name:

  - ``text.cnn`` (the default), trained from scratch: Kim (2014)'s sentence CNN, word
    embeddings (64-d) of a vocabulary fitted on the real training texts (words it never saw,
    in synthetic texts too, are one "unknown" id), convolutions of widths 3, 4 and 5 words
    (64 filters each), max-pooled over the text, dropout 0.5, a linear layer to the classes.
    Texts are cut after :data:`MAX_WORDS` words (a Rotten Tomatoes snippet has about 25).
  - ``text.minilm_head``: a classifier head (one hidden layer of 128 units, dropout 0.1) on
    frozen all-MiniLM-L6-v2 sentence embeddings (:mod:`synthaug.data.text.embedding`), the
    strong baseline a practitioner would use.  Each distinct text is embedded once per
    process (the featurizer's store outlives the arms and seeds).

  The featurizer gives what the recipe's model reads: ``tokens`` (int64 ``(N, MAX_WORDS)``)
  for ``text.cnn`` (and any other model), ``x`` (float32 ``(N, 384)``) for
  ``text.minilm_head``.
* **The generator** is fitted on the real training texts with their labels and drawn from
  label by label (``conditions={"label": k}``); its texts are labelled with the label they
  were drawn for.  A generator that filters its texts (``filter_confidence``) does so inside
  ``sample``: the filtered arms are the same recipe with the parameter set.
* **The classic baseline** is EDA (Wei & Zou 2019) without its word lists
  (:func:`eda_texts`): each extra text is a real text of its label with one of random swap,
  random deletion or random insertion applied to about 10% of its words (at least one); EDA's
  fourth operation, synonym replacement, and its insertions of synonyms need WordNet, so
  insertion repeats a word of the same text.  Real texts are used in turn (a seeded order).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from synthaug import registry
from synthaug.data.features import FeatureStore
from synthaug.data.modality import LABEL
from synthaug.data.text.container import Texts, as_texts
from synthaug.data.text.words import PAD, Vocabulary
from synthaug.exceptions import InvalidParameterError
from synthaug.generators.base import BaseGenerator
from synthaug.recipes.splits import plain
from synthaug.recipes.tasks import LabelledRecordsTask, register_task
from synthaug.utils.validation import check_number, check_positive_int

__all__ = ["EDA_SHARE", "MAX_WORDS", "MiniLMHead", "TextCNN", "TextFeaturizer", "TextInputs",
           "TextTask", "eda_edit", "eda_texts"]

#: words a text keeps for the text CNN (the rest is cut off)
MAX_WORDS = 64
#: share of a text's words one EDA edit touches (Wei & Zou's alpha)
EDA_SHARE = 0.1
#: the model that reads MiniLM embeddings
MINILM_HEAD = "text.minilm_head"


@dataclass(frozen=True)
class TextInputs:
    """What a text model is given to build itself.

    Examples
    --------
    >>> TextInputs(vocabulary=100, max_words=64, embedding_dim=384, n_classes=2).n_classes
    2
    """

    vocabulary: int
    max_words: int
    embedding_dim: int
    n_classes: int


@registry.downstream_models.register("text.cnn")
class TextCNN(nn.Module):
    """Kim (2014)'s sentence CNN (module docstring); ``forward(tokens)`` returns logits.

    Parameters
    ----------
    inputs : TextInputs
    embedding_dim : int, default 64
    widths : sequence of int, default (3, 4, 5)
        Words each convolution spans.
    filters : int, default 64
        Filters per width.
    dropout : float, default 0.5

    Examples
    --------
    >>> import torch
    >>> model = TextCNN(TextInputs(100, 16, 384, 2))
    >>> model(torch.zeros(3, 16, dtype=torch.int64)).shape
    torch.Size([3, 2])
    """

    def __init__(self, inputs: TextInputs, *, embedding_dim: int = 64,
                 widths: tuple[int, ...] | list[int] = (3, 4, 5), filters: int = 64,
                 dropout: float = 0.5) -> None:
        super().__init__()
        check_positive_int(embedding_dim, "embedding_dim")
        check_positive_int(filters, "filters")
        check_number(dropout, "dropout", minimum=0.0, maximum=1.0, open_high=True)
        if not widths or any(isinstance(w, bool) or not isinstance(w, int) or w < 1
                             for w in widths):
            raise InvalidParameterError(f"widths must be positive ints, got {widths!r}.")
        self.embed = nn.Embedding(inputs.vocabulary, embedding_dim, padding_idx=PAD)
        self.convs = nn.ModuleList(nn.Conv1d(embedding_dim, filters, w, padding=w - 1)
                                   for w in widths)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(filters * len(widths), inputs.n_classes)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        x = self.embed(tokens).transpose(1, 2)  # (N, E, L)
        pooled = [torch.relu(conv(x)).amax(dim=2) for conv in self.convs]
        return self.out(self.drop(torch.cat(pooled, dim=1)))


@registry.downstream_models.register(MINILM_HEAD)
class MiniLMHead(nn.Module):
    """A classifier head on frozen MiniLM sentence embeddings; ``forward(x)`` returns logits.

    Parameters
    ----------
    inputs : TextInputs
    hidden : int, default 128
    dropout : float, default 0.1

    Examples
    --------
    >>> import torch
    >>> MiniLMHead(TextInputs(0, 0, 384, 2))(torch.zeros(3, 384)).shape
    torch.Size([3, 2])
    """

    def __init__(self, inputs: TextInputs, *, hidden: int = 128, dropout: float = 0.1) -> None:
        super().__init__()
        check_positive_int(hidden, "hidden")
        check_number(dropout, "dropout", minimum=0.0, maximum=1.0, open_high=True)
        self.net = nn.Sequential(nn.Linear(inputs.embedding_dim, hidden), nn.ReLU(),
                                 nn.Dropout(dropout), nn.Linear(hidden, inputs.n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


# -- model inputs ------------------------------------------------------------------------------
_STORES: dict[str, FeatureStore] = {}


def _minilm_store(device: str) -> FeatureStore:
    """One MiniLM store per process and device: a text is embedded once across arms, seeds
    and runs."""
    if device not in _STORES:
        from synthaug.data.text.embedding import MiniLM, minilm_store

        _STORES[device] = minilm_store(MiniLM(device=device))
    return _STORES[device]


class TextFeaturizer:
    """Texts -> ``{"tokens": int64 (N, MAX_WORDS)}``, or ``{"x": float32 (N, 384)}`` of MiniLM
    for ``text.minilm_head``; the vocabulary is fitted on the real training texts.

    Examples
    --------
    >>> from synthaug.data.text import Texts
    >>> batch = Texts.of(["a fine film", "a dull film"], ["fresh", "rotten"])
    >>> feat = TextFeaturizer().fit(batch)
    >>> feat.transform(batch)["tokens"].shape
    (2, 64)
    """

    def __init__(self, *, minilm: bool = False, device: str = "cpu") -> None:
        self.minilm = minilm
        self.device = device

    def fit(self, texts: Texts) -> TextFeaturizer:
        """Fit the vocabulary on the real training texts."""
        self.vocabulary_ = Vocabulary.fit(str(t) for t in as_texts(texts).texts)
        return self

    def inputs(self, n_classes: int) -> TextInputs:
        from synthaug.data.text.embedding import FEATURE_DIM

        return TextInputs(len(self.vocabulary_), MAX_WORDS, FEATURE_DIM, n_classes)

    def transform(self, texts: Texts) -> dict[str, np.ndarray]:
        batch = as_texts(texts)
        if self.minilm:
            return {"x": _minilm_store(self.device).of(batch.texts)}
        return {"tokens": self.vocabulary_.encode((str(t) for t in batch.texts),
                                                  max_length=MAX_WORDS)}


# -- the classic baseline ----------------------------------------------------------------------
def eda_edit(text: str, rng: np.random.Generator, share: float = EDA_SHARE) -> str:
    """One EDA edit of ``text``: random swap, deletion or insertion (module docstring).

    Words are the text's whitespace-separated pieces (punctuation stays on its word).  A
    deletion never empties a text; a one-word text can only gain a repeated word.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> edited = eda_edit("a warm and funny film", rng)
    >>> edited != "a warm and funny film", sorted(set(edited.split())) <= sorted(
    ...     set("a warm and funny film".split()))
    (True, True)
    """
    tokens = text.split()
    if not tokens:
        return text
    n = max(1, round(share * len(tokens)))
    ops = ["swap", "delete", "insert"] if len(tokens) > 1 else ["insert"]
    op = ops[int(rng.integers(len(ops)))]
    for _ in range(n):
        if op == "swap":
            i, j = rng.choice(len(tokens), size=2, replace=False)
            tokens[i], tokens[j] = tokens[j], tokens[i]
        elif op == "delete" and len(tokens) > 1:
            del tokens[int(rng.integers(len(tokens)))]
        else:
            word = tokens[int(rng.integers(len(tokens)))]
            tokens.insert(int(rng.integers(len(tokens) + 1)), word)
    return " ".join(tokens)


def eda_texts(reference: Texts, codes: np.ndarray, plan: np.ndarray, classes: list[Any], *,
              random_state: int, notes: list[str], like: Texts | None = None) -> Texts:
    """``plan[c]`` EDA edits of class ``c``'s reference texts, labelled ``classes[c]``.

    Examples
    --------
    >>> from synthaug.data.text import Texts
    >>> ref = Texts.of(["a fine warm film", "a dull long film"], ["fresh", "rotten"])
    >>> out = eda_texts(ref, np.array([0, 1]), np.array([2, 1]), ["fresh", "rotten"],
    ...                 random_state=0, notes=[])
    >>> len(out), out.labels.tolist()
    (3, ['fresh', 'fresh', 'rotten'])
    """
    rng = np.random.default_rng(random_state)
    texts: list[str] = []
    labels: list[Any] = []
    for k, n in enumerate(plan):
        if n <= 0:
            continue
        members = np.flatnonzero(codes == k)
        if not len(members):
            notes.append(f"EDA has no real text of label {classes[k]!r} to edit; it gets none.")
            continue
        order = np.concatenate([rng.permutation(members)
                                for _ in range(-(-int(n) // len(members)))])[:int(n)]
        texts.extend(eda_edit(str(reference.texts[i]), rng) for i in order)
        labels.extend([plain(classes[k])] * int(n))
    dtype = (like or reference).labels.dtype if (like or reference).labels is not None \
        else object
    return Texts(np.asarray(texts, dtype=object), np.asarray(labels, dtype=dtype))


# -- the task ----------------------------------------------------------------------------------
@register_task("text")
class TextTask(LabelledRecordsTask):
    """Recipes on labelled texts (see the module docstring).

    Examples
    --------
    >>> TextTask.modality, TextTask.default_model, TextTask.baseline
    ('text', 'text.cnn', 'eda')
    """

    modality: ClassVar[str] = "text"
    default_model: ClassVar[str] = "text.cnn"
    baseline: ClassVar[str] = "eda"
    records: ClassVar[str] = "texts"
    labelled_hint: ClassVar[str] = "give a JSONL or CSV file with a label column."

    def describe(self, data: Texts) -> dict[str, Any]:
        batch = as_texts(data)
        return {"texts": len(batch),
                "median_chars": float(np.median([len(t) for t in batch.texts]))}

    def featurizer(self) -> TextFeaturizer:
        return TextFeaturizer(minilm=(self.spec.model.name or self.default_model) == MINILM_HEAD)

    def synthetic(self, gen: BaseGenerator, n: int, *, label: Any,
                  group: tuple[str, Any] | None, like: Texts, random_state: int) -> Texts:
        drawn = gen.sample(n, conditions={LABEL: label}, random_state=random_state)
        batch = self.data.check(drawn[0] if isinstance(drawn, tuple) else drawn,
                                what=f"texts drawn from {gen.name}")
        # the text was drawn for this label: that is its label, whatever the generator says
        dtype = like.labels.dtype if like.labels is not None else object
        return Texts(batch.texts, np.asarray([label] * len(batch), dtype=dtype))

    def classic(self, reference: Texts, codes: np.ndarray, plan: np.ndarray,
                classes: list[Any], *, like: Texts, random_state: int,
                notes: list[str]) -> Texts:
        return eda_texts(reference, codes, plan, classes, random_state=random_state,
                         notes=notes, like=like)
