"""Text fidelity on all-MiniLM-L6-v2 sentence embeddings: Fréchet distance, MAUVE, label
consistency.

Every check here compares texts as 384-d unit-norm MiniLM embeddings
(:mod:`synthaug.data.text.embedding`, the packaged model; shared by all the checks of a suite
run).  The names say the extractor: these are not the figures of papers that used other
encoders (GPT-2 for MAUVE), and their values are comparable only with values on the same
features.

* ``fidelity.frechet_minilm``: the Fréchet distance between Gaussians fitted to the real and
  the synthetic embeddings, overall and per label.  Finite samples bias it upwards, so with a
  holdout the details give the **floor**: the same distance between the real texts and as many
  holdout texts (two samples of one distribution), overall and per label.
* ``fidelity.mauve_minilm``: MAUVE (Pillutla et al., "MAUVE: Measuring the Gap Between Neural
  Text and Human Text using Divergence Frontiers", NeurIPS 2021), computed as the authors'
  reference code does, on MiniLM features instead of GPT-2's: PCA of the joint sample keeping
  90% of the variance, k-means with ``n / 10`` clusters over both sides, the two cluster
  histograms, and the area under the divergence curve ``(exp(-c KL(Q|R)), exp(-c KL(P|R)))``
  for the mixtures ``R = w P + (1 - w) Q`` (c = 5, 25 weights).  1 for identical histograms,
  towards 0 as they part.  Its quantisation needs many texts per side: the paper uses 5,000;
  below ``min_rows`` (default 1,000 per side) the check is **not computable**, not guessed.
* ``fidelity.label_consistency_minilm``: a logistic regression on MiniLM embeddings, trained on
  the real texts, predicts the label of each synthetic text; the value is the share predicted
  as the label the text was asked for.  With a holdout the details give the same classifier's
  accuracy on real unseen texts, which a perfect generator scores about (the classifier errs on
  real texts too).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from synthaug.data.features import nested_sample
from synthaug.exceptions import InsufficientDataError, NotComputableError
from synthaug.utils.validation import check_bool, check_int, check_number
from synthaug.validators._common import Gaussian
from synthaug.validators._text import (
    EmbeddingCheck,
    class_codes,
    classes_of,
    embedding_details,
    labelled,
    minilm_rows,
    shared,
    text_inputs,
)
from synthaug.validators.base import Score, register_validator

__all__ = ["FrechetMiniLM", "LabelConsistencyMiniLM", "MauveMiniLM", "mauve"]

#: texts shown per label in the report's samples (label consistency's figure)
_SHOWN = 4


@register_validator("fidelity.frechet_minilm")
class FrechetMiniLM(EmbeddingCheck):
    """Fréchet distance on MiniLM sentence embeddings, overall and per label.

    Lower is better; 0 only for identical feature statistics.  Its scale depends on the sample
    size, so read it beside its floor: with a holdout the details hold ``floor``, the distance
    between the real texts and as many holdout texts as synthetic ones were compared, and
    ``over_floor`` = value / floor.

    Parameters
    ----------
    by_label : bool, default False
        The headline value: False, the distance of all texts; True, the mean of the per-label
        distances weighted by the labels' shares of the real texts (a generator that gives
        texts the wrong labels keeps the overall distance low and fails this).
    relative : bool, default False
        Give the value over its floor (``over_floor``; needs a holdout of at least 2 texts per
        label compared): about 1 for a fresh sample of the real distribution whatever the
        sample size, where the distance itself shrinks as samples grow, so a suite can gate
        on it for any size.
    max_rows : int or None, default 2000
        Most texts of each set embedded and compared (a nested sample fixed by
        ``random_state``).
    batch_size : int, default 128
        Texts per forward pass of the encoder.
    device : str, default "auto"
        Where the encoder runs ("auto": a CUDA GPU when there is one).
    random_state : int, default 0
        Seed of the nested samples (the same in every check of a suite, so the embeddings are
        shared).

    Notes
    -----
    Details: ``overall``, ``per_label`` (label -> distance, labels with at least 2 texts on
    both sides), ``mean_term``, ``covariance_term``, ``n_real``, ``n_synthetic``; with a
    holdout ``floor``, ``per_label_floor``, ``over_floor``, ``n_holdout``; ``features``.

    Examples
    --------
    >>> from synthaug.data.text import Texts
    >>> real = Texts.of(["a fine film", "dull", "warm and funny", "too long"],
    ...                 ["fresh", "rotten", "fresh", "rotten"])
    >>> FrechetMiniLM(device="cpu").score(real, real).value  # doctest: +SKIP
    0.0
    """

    category = "fidelity"
    direction = "lower"

    def __init__(self, *, by_label: bool = False, relative: bool = False,
                 max_rows: int | None = 2_000, batch_size: int = 128, device: str = "auto",
                 random_state: int = 0) -> None:
        super().__init__(max_rows=max_rows, batch_size=batch_size, device=device,
                         random_state=random_state)
        self.by_label = by_label
        self.relative = relative

    def _check_params(self) -> None:
        super()._check_params()
        check_bool(self.by_label, "by_label")
        check_bool(self.relative, "relative")

    def score(self, real: Any, synthetic: Any, *, holdout: Any = None,
              context: Mapping[str, Any] | None = None) -> Score:
        self._check_params()
        r, s, h = text_inputs(self.name, real, synthetic, holdout, context)
        if min(len(r), len(s)) < 2:
            raise InsufficientDataError(f"{self.name} needs at least 2 real and 2 synthetic "
                                        "texts.")
        store, _ = self._store(context, (real, synthetic, holdout))
        real_f, real_rows = minilm_rows(store, r, self.max_rows, self.random_state)
        synth_f, synth_rows = minilm_rows(store, s, self.max_rows, self.random_state)
        gauss = Gaussian.fit(real_f)
        overall, mean_term, cov_term = gauss.frechet(synth_f)
        details: dict[str, Any] = {"overall": overall, "mean_term": mean_term,
                                   "covariance_term": cov_term, "n_real": len(real_f),
                                   "n_synthetic": len(synth_f), **embedding_details(store)}
        hold_f = hold_rows = None
        if h is not None and len(h) >= 2:
            hold_f, hold_rows = minilm_rows(store, h, min(len(synth_f), self.max_rows or len(h)),
                                            self.random_state)
            floor = gauss.frechet(hold_f)[0]
            details.update({"floor": floor, "n_holdout": len(hold_f),
                            "over_floor": overall / floor if floor > 0 else None})
        weighted = None
        if r.labels is not None and s.labels is not None:
            r_lab = r.labels[real_rows].astype(str)
            s_lab = s.labels[synth_rows].astype(str)
            per: dict[str, float] = {}
            per_floor: dict[str, float] = {}
            weights: dict[str, float] = {}
            for label in classes_of(r_lab):
                mine_r, mine_s = real_f[r_lab == label], synth_f[s_lab == label]
                if min(len(mine_r), len(mine_s)) < 2:
                    continue
                g = Gaussian.fit(mine_r)
                per[label] = g.frechet(mine_s)[0]
                weights[label] = float(np.mean(r_lab == label))
                if hold_f is not None and h is not None and h.labels is not None:
                    mine_h = hold_f[h.labels[hold_rows].astype(str) == label]
                    if len(mine_h) >= 2:
                        per_floor[label] = g.frechet(mine_h[:len(mine_s)])[0]
            details["per_label"] = per
            if per_floor:
                details["per_label_floor"] = per_floor
                if set(per_floor) == set(per):
                    details["per_label_floor_mean"] = (
                        sum(per_floor[k] * weights[k] for k in per) / sum(weights.values()))
            if per:
                total = sum(weights.values())
                weighted = sum(per[k] * weights[k] for k in per) / total
                details["per_label_mean"] = weighted
        value = overall
        if self.by_label:
            if weighted is None:
                raise InsufficientDataError(
                    f"{self.name} (by_label) needs labelled real and synthetic texts with at "
                    "least 2 of some label on both sides.")
            value = weighted
        if self.relative:
            divisor: float | None = (details.get("per_label_floor_mean") if self.by_label
                                     else details.get("floor"))
            if divisor is None or divisor <= 0:
                raise NotComputableError(
                    f"{self.name} (relative) divides by the floor, the distance between the "
                    "real texts and held-out ones: give a holdout (command line: --holdout) "
                    "with at least 2 texts of each label compared.")
            details["absolute"] = value
            value = value / divisor
        return self._score(value, details=details)


# -- MAUVE -------------------------------------------------------------------------------------
def mauve(p_features: np.ndarray, q_features: np.ndarray, *, n_clusters: int | None = None,
          explained_variance: float = 0.9, scaling: float = 5.0, n_weights: int = 25,
          n_init: int = 5, random_state: int = 0) -> dict[str, Any]:
    """MAUVE of ``q_features`` (model text) against ``p_features`` (human text).

    The reference implementation's recipe (module docstring).  ``n_clusters`` defaults to the
    smaller side over 10, as the authors' ``num_buckets="auto"``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(600, 8))
    >>> round(mauve(x, x)["mauve"], 6)
    1.0
    >>> mauve(x, rng.normal(size=(600, 8)) + 4.0)["mauve"] < 0.05
    True
    """
    from sklearn.cluster import KMeans
    from sklearn.decomposition import PCA

    joint = np.concatenate([p_features, q_features]).astype(np.float64)
    pca = PCA(random_state=random_state).fit(joint)
    keep = int(np.searchsorted(np.cumsum(pca.explained_variance_ratio_), explained_variance)) + 1
    reduced = pca.transform(joint)[:, :keep]
    k = n_clusters or max(2, round(min(len(p_features), len(q_features)) / 10))
    codes = KMeans(n_clusters=k, n_init=n_init, max_iter=500,
                   random_state=random_state).fit_predict(reduced)
    p = np.bincount(codes[:len(p_features)], minlength=k) / len(p_features)
    q = np.bincount(codes[len(p_features):], minlength=k) / len(q_features)
    points = [(0.0, 1.0)]  # the divergence curve's ends: w -> 0 and w -> 1
    for w in np.linspace(1e-6, 1 - 1e-6, n_weights):
        mix = w * p + (1 - w) * q
        points.append((math.exp(-scaling * _kl(q, mix)), math.exp(-scaling * _kl(p, mix))))
    points.append((1.0, 0.0))
    xs, ys = np.array(points).T
    order = np.argsort(xs, kind="stable")
    area = float(np.trapezoid(ys[order], xs[order]))
    return {"mauve": min(1.0, max(0.0, area)), "n_clusters": k, "pca_components": keep,
            "frontier": {"x": xs[order].tolist(), "y": ys[order].tolist()}}


def _kl(a: np.ndarray, b: np.ndarray) -> float:
    mask = a > 0
    return float(np.sum(a[mask] * np.log(a[mask] / b[mask])))


@register_validator("fidelity.mauve_minilm")
class MauveMiniLM(EmbeddingCheck):
    """MAUVE on MiniLM sentence embeddings (Pillutla et al. 2021; module docstring).

    Higher is better: 1 when the synthetic texts fall in the real texts' clusters in the same
    proportions, towards 0 as they part.  Not comparable with MAUVE on GPT-2 features.

    Parameters
    ----------
    min_rows : int, default 1000
        Fewest texts on each side: below it the check is not computable (its k-means
        histograms of ``n / 10`` clusters are too noisy to rank generators; the paper uses
        5,000 per side).
    max_rows : int or None, default 5000
        Most texts of each side (nested samples fixed by ``random_state``).
    batch_size, device, random_state
        As for ``fidelity.frechet_minilm``; the seed also seeds PCA and k-means.

    Notes
    -----
    Details: ``n_clusters``, ``pca_components``, ``n_real``, ``n_synthetic``; with a holdout of
    at least ``min_rows`` texts, ``floor`` (MAUVE of the holdout against the real texts: the
    value two samples of one distribution reach); ``features``.
    """

    category = "fidelity"
    direction = "higher"

    def __init__(self, *, min_rows: int = 1_000, max_rows: int | None = 5_000,
                 batch_size: int = 128, device: str = "auto", random_state: int = 0) -> None:
        super().__init__(max_rows=max_rows, batch_size=batch_size, device=device,
                         random_state=random_state)
        self.min_rows = min_rows

    def _check_params(self) -> None:
        super()._check_params()
        check_int(self.min_rows, "min_rows", 20)

    def score(self, real: Any, synthetic: Any, *, holdout: Any = None,
              context: Mapping[str, Any] | None = None) -> Score:
        self._check_params()
        r, s, h = text_inputs(self.name, real, synthetic, holdout, context)
        n = min(len(r), len(s), self.max_rows or len(r))
        if n < self.min_rows:
            raise InsufficientDataError(
                f"{self.name} needs at least {self.min_rows} real and {self.min_rows} synthetic "
                f"texts (got {len(r)} and {len(s)}): with fewer, its cluster histograms are "
                "too noisy to mean much (the MAUVE paper uses 5,000 per side). Give more texts, "
                "or read fidelity.frechet_minilm instead.")
        store, _ = self._store(context, (real, synthetic, holdout))
        real_f, _ = minilm_rows(store, r, n, self.random_state)
        synth_f, _ = minilm_rows(store, s, n, self.random_state)
        result = mauve(real_f, synth_f, random_state=self.random_state)
        details: dict[str, Any] = {"n_clusters": result["n_clusters"],
                                   "pca_components": result["pca_components"],
                                   "n_real": len(real_f), "n_synthetic": len(synth_f),
                                   **embedding_details(store)}
        if h is not None and len(h) >= self.min_rows:
            hold_f, _ = minilm_rows(store, h, n, self.random_state)
            details["floor"] = mauve(real_f, hold_f, random_state=self.random_state)["mauve"]
            details["n_holdout"] = len(hold_f)
        return self._score(result["mauve"], details=details)


# -- label consistency -------------------------------------------------------------------------
def _classifier_key(c: float, max_rows: int | None, seed: int) -> str:
    return f"text-classifier/minilm/{c!r}/{max_rows}/{seed}"


@register_validator("fidelity.label_consistency_minilm")
class LabelConsistencyMiniLM(EmbeddingCheck):
    """Share of synthetic texts that a classifier trained on the real texts assigns to the
    label they were asked for.

    The classifier is a logistic regression on MiniLM embeddings (the strong, cheap baseline a
    practitioner would train), fitted once per suite run.  A conditional generator whose texts
    read as another label (or as none) scores low even when its texts are fluent, which the
    distribution checks cannot see; texts whose labels were shuffled score about chance.  Read
    it beside ``holdout_accuracy`` (the same classifier on real unseen texts, when a holdout is
    given): a perfect generator scores about that, and ``relative`` = value / holdout_accuracy
    about 1; a generator can score above it by writing clearer cases than real texts are.

    Parameters
    ----------
    c : float, default 10.0
        Inverse regularisation strength of the logistic regression (the embeddings are unit
        vectors, so the usual 1.0 underfits: on Rotten Tomatoes, 600 training snippets, held-out
        accuracy 0.683 at 1.0, 0.688 at 10, 0.668 at 100; 150 snippets: 0.615, 0.653, 0.652).
    max_train_rows : int or None, default 10000
        Most real texts it trains on.
    max_rows : int or None, default 5000
        Most synthetic (and holdout) texts it classifies.
    relative : bool, default False
        Give ``relative`` (the value over the holdout accuracy; needs a labelled holdout) as
        the value: about 1 for a perfect generator whatever the classifier's skill on the
        corpus, so a suite can gate on it for any data set.
    batch_size, device, random_state
        As for ``fidelity.frechet_minilm``.

    Notes
    -----
    Details: ``per_class`` (label -> consistency), ``confusions`` (the most frequent
    (asked, predicted) pairs that differ, with counts), ``mean_confidence`` (the classifier's
    probability of the asked label), ``n_synthetic``, ``n_train``; with a holdout
    ``holdout_accuracy`` and ``relative``; ``shown``: a few synthetic texts per label with the
    label the classifier read (the report's sample texts).
    """

    category = "fidelity"
    direction = "higher"

    def __init__(self, *, c: float = 10.0, max_train_rows: int | None = 10_000,
                 max_rows: int | None = 5_000, relative: bool = False, batch_size: int = 128,
                 device: str = "auto", random_state: int = 0) -> None:
        super().__init__(max_rows=max_rows, batch_size=batch_size, device=device,
                         random_state=random_state)
        self.c = c
        self.max_train_rows = max_train_rows
        self.relative = relative

    def _check_params(self) -> None:
        super()._check_params()
        check_bool(self.relative, "relative")
        check_number(self.c, "c", minimum=0.0, open_low=True)
        check_int(self.max_train_rows, "max_train_rows", 2, allow_none=True)

    def score(self, real: Any, synthetic: Any, *, holdout: Any = None,
              context: Mapping[str, Any] | None = None) -> Score:
        from sklearn.linear_model import LogisticRegression

        self._check_params()
        inputs = (real, synthetic, holdout)
        r, s, h = text_inputs(self.name, real, synthetic, holdout, context)
        classes = classes_of(labelled(r, "real", self.name))
        if len(classes) < 2:
            raise InsufficientDataError(f"{self.name} needs real texts of at least 2 labels.")
        asked_all = labelled(s, "synthetic", self.name)
        if not len(s):
            raise InsufficientDataError(f"{self.name}: there are no synthetic texts.")
        store, _ = self._store(context, inputs)

        def train() -> Any:
            feats, rows = minilm_rows(store, r, self.max_train_rows, self.random_state)
            codes = class_codes(classes, r.labels[rows], "real", self.name)  # type: ignore[index]
            return LogisticRegression(C=self.c, max_iter=2_000).fit(feats, codes)

        model = shared(context, inputs, _classifier_key(self.c, self.max_train_rows,
                                                        self.random_state), train)
        synth_f, rows = minilm_rows(store, s, self.max_rows, self.random_state)
        asked = class_codes(classes, asked_all[rows], "synthetic", self.name)
        proba = model.predict_proba(synth_f)
        predicted = np.argmax(proba, axis=1)
        correct = predicted == asked
        pairs, counts = np.unique(np.stack([asked[~correct], predicted[~correct]]), axis=1,
                                  return_counts=True)
        top = np.argsort(-counts, kind="stable")[:5]
        value = float(correct.mean())
        half = 1.96 * math.sqrt(value * (1 - value) / len(correct))
        details: dict[str, Any] = {
            "per_class": {classes[c]: float(correct[asked == c].mean())
                          for c in range(len(classes)) if (asked == c).any()},
            "confusions": [{"asked": classes[pairs[0, i]], "predicted": classes[pairs[1, i]],
                            "count": int(counts[i])} for i in top],
            "mean_confidence": float(proba[np.arange(len(asked)), asked].mean()),
            "n_synthetic": len(rows),
            "n_train": len(nested_sample(len(r), self.max_train_rows, self.random_state)),
            "shown": _shown(r, s, rows, classes, asked, predicted, self.random_state),
            **embedding_details(store),
        }
        if h is not None and h.labels is not None and len(h):
            hold_f, hold_rows = minilm_rows(store, h, self.max_rows, self.random_state)
            truth = class_codes(classes, h.labels[hold_rows], "holdout", self.name)
            accuracy = float(np.mean(model.predict(hold_f) == truth))
            details.update({"holdout_accuracy": accuracy,
                            "relative": value / accuracy if accuracy > 0 else None})
        interval = (max(0.0, value - half), min(1.0, value + half))
        if self.relative:
            reference: float | None = details.get("holdout_accuracy")
            if not reference:
                raise NotComputableError(
                    f"{self.name} (relative) divides by the classifier's accuracy on held-out "
                    "real texts: give a labelled holdout (command line: --holdout).")
            details["absolute"] = value
            return self._score(value / reference, interval=(interval[0] / reference,
                                                            interval[1] / reference),
                               details=details)
        return self._score(value, interval=interval, details=details)

    def figures(self, score: Score) -> dict[str, Any]:
        shown = score.details.get("shown")
        if not shown:
            return {}
        return {"text_samples": {
            "title": "sample texts per label (random; synthetic texts marked where the "
                     "real-text classifier reads another label)", "samples": shown}}


def _shown(r: Any, s: Any, rows: np.ndarray, classes: list[str], asked: np.ndarray,
           predicted: np.ndarray, seed: int) -> list[dict[str, Any]]:
    """A few random real and synthetic texts per label, the synthetic ones the classifier
    reads as another label marked so."""
    from synthaug.data.text.modality import SAMPLE_LABELS, cut_text

    rng = np.random.default_rng(seed)
    real_labels = r.labels.astype(str)
    out = []
    for c, label in enumerate(classes[:SAMPLE_LABELS]):
        mine_r = np.flatnonzero(real_labels == label)
        mine_s = np.flatnonzero(asked == c)
        pick_r = rng.permutation(mine_r)[:_SHOWN]
        pick_s = rng.permutation(mine_s)[:_SHOWN]
        synth = [cut_text(str(s.texts[rows[j]])) + ("" if predicted[j] == c else
                                                f"  [read as {classes[predicted[j]]}]")
                 for j in pick_s]
        out.append({"label": label, "real": [cut_text(str(r.texts[i])) for i in pick_r],
                    "synthetic": synth})
    return out
