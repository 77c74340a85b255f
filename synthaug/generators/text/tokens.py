"""A byte-level BPE tokenizer trained on the fit texts (the ``tokenizers`` package).

Byte-level: every string is bytes first, so any Unicode text encodes (no unknown token) and
every id sequence decodes to a string (a cut inside a character becomes U+FFFD).  The
tokenizer is one JSON document (``Tokenizer.to_str``), saved in the model state, never a
pickle.  Its vocabulary holds word pieces of the training texts, never whole texts: the
byte-level pre-tokenizer splits at spaces and punctuation before merges are learned, so no
token is longer than a word.

Long texts are cut before the tokenizer sees them (at ``CHARS_PER_TOKEN`` characters per
token allowed), so a megabyte without a space costs no quadratic merge; the cut and the token
limit are counted together as truncation by the generator.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from synthaug.exceptions import MissingDependencyError, ModelFormatError

__all__ = ["CHARS_PER_TOKEN", "END", "BPETokenizer"]

#: the end-of-text token (id 0)
END = "<|endoftext|>"
#: characters kept per allowed token before tokenizing (byte-level BPE tokens of a few
#: thousand merges average 3-5 characters of English; 16 leaves ample room)
CHARS_PER_TOKEN = 16


def _tokenizers():  # type: ignore[no-untyped-def]
    try:
        import tokenizers
    except ImportError as exc:
        raise MissingDependencyError(
            "text.transformer needs the 'tokenizers' package: pip install 'synthaug[text]'."
        ) from exc
    return tokenizers


class BPETokenizer:
    """Byte-level BPE: ``fit`` on texts, ``encode`` to id lists, ``decode`` back.

    Examples
    --------
    >>> tok = BPETokenizer.fit(["a fine film", "a dull film"] * 20, vocab_size=280)
    >>> ids = tok.encode(["a fine film"], max_tokens=10)[0]
    >>> tok.decode([ids]) == ["a fine film"], tok.end_id
    (True, 0)
    """

    def __init__(self, tokenizer: object) -> None:
        self._tok = tokenizer
        end = self._tok.token_to_id(END)  # type: ignore[attr-defined]
        if end != 0:
            raise ModelFormatError(f"the tokenizer's end token {END!r} is not id 0.")
        self.end_id = 0

    @classmethod
    def fit(cls, texts: Sequence[str], vocab_size: int) -> BPETokenizer:
        tk = _tokenizers()
        from tokenizers import decoders, models, pre_tokenizers, trainers

        tokenizer = tk.Tokenizer(models.BPE())
        tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tokenizer.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(
            vocab_size=vocab_size, special_tokens=[END], show_progress=False,
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), min_frequency=2)
        tokenizer.train_from_iterator(list(texts), trainer=trainer)
        return cls(tokenizer)

    @property
    def n_tokens(self) -> int:
        return int(self._tok.get_vocab_size())  # type: ignore[attr-defined]

    def encode(self, texts: Sequence[str], max_tokens: int) -> list[list[int]]:
        """Token ids of each text, at most ``max_tokens + 1`` (one more tells a cut)."""
        cut = [t[: CHARS_PER_TOKEN * (max_tokens + 1)] for t in texts]
        return [e.ids[: max_tokens + 1]
                for e in self._tok.encode_batch(cut, add_special_tokens=False)]  # type: ignore[attr-defined]

    def decode(self, ids: Sequence[Sequence[int]] | np.ndarray) -> list[str]:
        return list(self._tok.decode_batch([list(map(int, s)) for s in ids],  # type: ignore[attr-defined]
                                           skip_special_tokens=True))

    def to_str(self) -> str:
        return str(self._tok.to_str())  # type: ignore[attr-defined]

    @classmethod
    def from_str(cls, data: str) -> BPETokenizer:
        tk = _tokenizers()
        try:
            tokenizer = tk.Tokenizer.from_str(data)
        except Exception as exc:  # the tokenizers package raises plain Exceptions
            raise ModelFormatError(f"the saved tokenizer cannot be read ({exc}).") from None
        return cls(tokenizer)
