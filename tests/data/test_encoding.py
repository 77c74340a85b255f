"""synthaug.data.encoding: the one tabular encoding behind TabularEncoder, the GAN and the VAE.

The column pieces are tested once each; the encoder over every combination of its options
(round trips, layouts, states); the device decoder against the host inverse; and states of
synthaug 0.1's TableEncoder (format 1) against what that code computed; and TableEncoder end
to end on a frame of every nullable kind (the sklearn face's tests moved here).
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone

from synthaug.data.encoding import STATE_FORMAT, Span, SpanLayout, TableEncoder
from synthaug.data.encoding.columns import (
    OTHER,
    discrete_layout,
    fit_gmm_1d,
    quantile_grid,
    quantile_scores,
)
from synthaug.data.encoding.torch import quantile_values
from synthaug.data.schema import TableSchema
from synthaug.exceptions import (
    InvalidDataError,
    InvalidParameterError,
    ModelFormatError,
    NotFittedError,
)
from tests.toydata import make_mixed_frame, make_nullable_frame

FORMAT1 = Path(__file__).parents[1] / "fixtures" / "encoder-format1"

OPTIONS: list[dict[str, Any]] = [
    dict(zip(("numerical", "missing", "discrete", "other"), combo, strict=True))
    for combo in itertools.product(("standard", "quantile", "gmm"), ("indicator", "onehot"),
                                   ("onehot", "codes"), ("most_frequent", "sample"))
]


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    out = make_mixed_frame(300, seed=4)
    rng = np.random.default_rng(5)
    out["city"] = pd.Series(rng.choice([f"c{i}" for i in range(9)], 300,
                                       p=[0.3, 0.2, 0.15, 0.1, 0.1, 0.05, 0.05, 0.03, 0.02]),
                            dtype="str")
    return out


# -- the column pieces -----------------------------------------------------------------------
def test_quantile_squeeze_is_invertible_and_clip_is_not_quite() -> None:
    rng = np.random.default_rng(0)
    values = np.sort(rng.gamma(2.0, 3.0, 200))
    grid = torch.as_tensor(quantile_grid(values, 1000), dtype=torch.float64)
    errors = {}
    for policy in ("squeeze", "clip"):
        z = quantile_scores(values, grid.numpy(), policy)
        assert np.isfinite(z).all() and np.abs(z).max() < 5.3  # extremes stay finite
        back = quantile_values(torch.special.ndtr(torch.as_tensor(z)), grid, policy).numpy()
        errors[policy] = np.abs(back - values)
    assert errors["squeeze"].max() < 1e-12  # the maximum comes back as the maximum
    assert errors["clip"][-1] > 1e-5  # clipping pulls the largest value in


def test_discrete_layout_groups_rare_levels_either_way() -> None:
    counts = np.array([10, 6, 3, 0, 2, 2])  # four levels, an unseen one, then missing
    kept = discrete_layout(counts, True, 2, sample_other=False)
    assert kept.code_to_pos.tolist() == [0, 1, 1, 1, 1, 2]  # every level has a slot
    assert kept.pos_to_code[1] == 1 and np.isnan(kept.pos_to_code[2])  # most frequent of b..e
    drawn = discrete_layout(counts, True, 2, sample_other=True)
    assert drawn.code_to_pos.tolist() == [0, 1, 1, -1, 1, 2]  # the unseen level is left out
    assert drawn.pos_to_code[1] == OTHER and drawn.grouped.tolist() == [1, 2, 4]
    np.testing.assert_allclose(drawn.grouped_cum, [6 / 11, 9 / 11, 1.0])
    assert drawn.counts.tolist() == [10, 11, 2]
    plain = discrete_layout(np.array([3, 1, 0]), False, None, sample_other=True)
    assert plain.width == 2 and len(plain.grouped) == 0


def test_gmm_finds_separated_modes() -> None:
    rng = np.random.default_rng(1)
    values = np.concatenate([rng.normal(-10, 1, 600), rng.normal(20, 2, 400)])
    means, _, weights = fit_gmm_1d(values, 10, rng)
    assert abs(weights.sum() - 1) < 1e-12
    big = np.sort(means[weights > 0.1])
    assert (np.abs(big - (-10)) < 2).any() and (np.abs(big - 20) < 3).any()


# -- the encoder -----------------------------------------------------------------------------
@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: "-".join(o.values()))
def test_every_option_round_trips(options: dict[str, Any], frame: pd.DataFrame) -> None:
    enc = TableEncoder(max_categories=5, **options)
    array = enc.fit_transform(frame, rng=0)
    assert array.shape == (len(frame), enc.n_features_out_) == (len(frame), enc.layout_.width)
    assert len(enc.get_feature_names_out()) == enc.n_features_out_
    back = enc.inverse_transform(array, rng=0)
    assert back.dtypes.to_dict() == frame.dtypes.to_dict()
    exact = ["age", "gain", "work", "flag", "income", "joined"]  # integers, levels, dates
    pd.testing.assert_frame_equal(back[exact], frame[exact])
    pd.testing.assert_series_equal(back["score"].isna(), frame["score"].isna())
    tol = {"standard": 1e-9, "quantile": 1e-6, "gmm": 1e-6}[options["numerical"]]
    np.testing.assert_allclose(back["hours"], frame["hours"], atol=tol * 100)
    kept = frame["city"].value_counts().index[:4]
    rare = ~frame["city"].isin(kept)
    assert (back["city"][~rare] == frame["city"][~rare]).all()
    if options["other"] == "most_frequent":  # "other" decodes to the commonest grouped level
        assert back["city"][rare].nunique() == 1
    else:  # drawn by training frequency
        assert set(back["city"][rare]) == set(frame["city"][rare])


def test_layouts_of_the_options(frame: pd.DataFrame) -> None:
    sub = frame[["hours", "score", "work"]]
    plain = TableEncoder().fit(sub)
    assert [(s.kind, s.width) for s in plain.spans_] == [
        ("continuous", 1), ("continuous", 1), ("missing", 1), ("discrete", 4)]
    deep = TableEncoder(numerical="gmm", missing="onehot", discrete="codes").fit(sub, rng=0)
    kinds = [s.kind for s in deep.spans_]
    assert kinds == ["continuous", "mode", "continuous", "mode", "missing", "code"]
    assert [s.softmax for s in deep.spans_] == [False, True, False, True, True, False]
    names = deep.get_feature_names_out()
    assert names[:2] == ["hours", "hours__mode0"] and names[-3:] == [
        "score__observed", "score__missing", "work"]


def test_missing_rows_hold_zero_or_the_mean(frame: pd.DataFrame) -> None:
    sub = frame[["score"]]
    missing = sub["score"].isna().to_numpy()
    indicator = TableEncoder(numerical="quantile").fit(sub)
    assert (indicator.transform(sub)[missing, 0] == 0).all()
    onehot = TableEncoder(numerical="quantile", missing="onehot").fit(sub)
    encoded = onehot.transform(sub)
    mean = onehot.transform(pd.DataFrame({"score": [sub["score"].mean()]}))[0, 0]
    np.testing.assert_allclose(encoded[missing, 0], mean)
    assert (encoded[missing, 2] == 1).all() and (encoded[~missing, 1] == 1).all()


def test_handle_unknown(frame: pd.DataFrame) -> None:
    sub = frame[["age", "income"]]  # neither has missing values
    strict = TableEncoder().fit(sub)
    holes = strict.schema_.to_matrix(sub)
    holes[0, 0] = holes[1, 1] = np.nan
    with pytest.raises(InvalidDataError, match="'age' has 1 missing"):
        strict.transform_matrix(holes)
    lenient = TableEncoder(handle_unknown="impute").fit(sub)
    encoded = lenient.transform_matrix(holes)
    commonest = int(np.argmax(lenient.level_counts(1)))
    assert encoded[1, 1 + commonest] == 1.0  # the commonest level
    assert encoded[0, 0] == 0.0  # as an indicator encoding writes any missing value


def test_sampling_decoder_and_host_inverse_agree(frame: pd.DataFrame) -> None:
    enc = TableEncoder(numerical="gmm", missing="onehot", other="sample", max_categories=5,
                       dtype="float32").fit(frame, rng=0)
    encoded = enc.transform(frame, rng=0)
    # one-hot rows as near-certain logits: sampling them must give the argmax
    logits = np.where(encoded == 1, 30.0, np.where(encoded == 0, -30.0, encoded))
    for span in enc.spans_:
        if not span.softmax:
            logits[:, span.start] = encoded[:, span.start]
    decoder = enc.to(torch.device("cpu"))
    sampled = decoder.decode(torch.as_tensor(logits), torch.Generator().manual_seed(0))
    host = enc.inverse_matrix(logits, rng=0)
    np.testing.assert_array_equal(np.isnan(sampled.numpy()), np.isnan(host))
    ids = enc.schema_.names.index("city")
    keep = ~np.isnan(host)
    keep[:, ids] = False  # the "other" draws use different streams
    np.testing.assert_allclose(sampled.numpy()[keep], host[keep], rtol=1e-12)
    with pytest.raises(InvalidParameterError, match=r"torch\.Generator"):
        decoder.decode(torch.as_tensor(logits))


def test_decoding_conditions_replace_the_draw(frame: pd.DataFrame) -> None:
    enc = TableEncoder(missing="onehot", other="sample", max_categories=5).fit(frame)
    decoder = enc.to(torch.device("cpu"))
    j = enc.schema_.index("work")
    pos = enc.position(j, 1)
    out = decoder.decode(torch.zeros(50, decoder.width), torch.Generator().manual_seed(0),
                         given={j: torch.full((50,), pos)})
    assert (out[:, j] == 1).all()


def test_level_seen_sees_grouped_levels() -> None:
    frame = pd.DataFrame({"c": pd.Categorical(["a"] * 5 + ["b"] * 3 + ["c", "d"],
                                              categories=["a", "b", "c", "d", "zz"])})
    for other in ("most_frequent", "sample"):
        enc = TableEncoder(max_categories=2, other=other).fit(frame)
        seen = [enc.level_seen(0, code) for code in range(5)]
        assert seen == [True, True, True, True, False], other


def test_clone_and_params_work_like_any_estimator() -> None:
    enc = TableEncoder(numerical="quantile", max_categories=3)
    again = clone(enc)
    assert again.get_params() == enc.get_params() and again is not enc
    assert repr(enc) == "TableEncoder(max_categories=3, numerical='quantile')"
    with pytest.raises(InvalidParameterError, match="missing must be one of"):
        TableEncoder(missing="flag").fit(pd.DataFrame({"x": [1.0, 2.0]}))


@pytest.mark.parametrize("options", OPTIONS[::3], ids=lambda o: "-".join(o.values()))
def test_state_round_trips(options: dict[str, Any], frame: pd.DataFrame) -> None:
    enc = TableEncoder(max_categories=5, **options).fit(frame, rng=0)
    state, arrays = enc.to_state()
    state = json.loads(json.dumps(state))
    assert state["format"] == STATE_FORMAT
    again = TableEncoder.from_state(state, arrays)
    np.testing.assert_array_equal(again.transform(frame, rng=1), enc.transform(frame, rng=1))
    assert again.spans_ == enc.spans_ and again.get_params() == enc.get_params()
    bare, _ = enc.to_state(include_schema=False)
    with pytest.raises(ModelFormatError, match="no schema"):
        TableEncoder.from_state(bare, arrays)
    assert TableEncoder.from_state(bare, arrays, schema=enc.schema_).spans_ == enc.spans_


def test_bad_states_are_model_format_errors(frame: pd.DataFrame) -> None:
    state, arrays = TableEncoder().fit(frame).to_state()
    with pytest.raises(ModelFormatError, match="format 99"):
        TableEncoder.from_state({**state, "format": 99}, arrays)
    with pytest.raises(ModelFormatError, match="lacks"):
        TableEncoder.from_state(state, {k: v for k, v in arrays.items()
                                        if not k.startswith("center.")})
    with pytest.raises(ModelFormatError, match="damaged"):
        TableEncoder.from_state({**state, "spans": state["spans"][1:]}, arrays)


def test_layout_refuses_gaps_and_split_columns() -> None:
    with pytest.raises(InvalidParameterError, match="continue"):
        SpanLayout([Span("x", "continuous", 0, 1), Span("y", "continuous", 2, 3)], ["x", "y"])
    with pytest.raises(InvalidParameterError, match="adjacent"):
        SpanLayout([Span("x", "continuous", 0, 1), Span("y", "continuous", 1, 2),
                    Span("x", "missing", 2, 3)], ["x", "y"])


# -- synthaug 0.1 states (format 1) ----------------------------------------------------------
@pytest.mark.parametrize("key", ["standard", "quantile"])
def test_format_1_states_encode_and_decode_as_they_did(key: str) -> None:
    frame = pd.read_parquet(FORMAT1 / "frame.parquet")
    state = json.loads((FORMAT1 / f"{key}.json").read_text())
    with np.load(FORMAT1 / f"{key}.npz", allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    encoded = arrays.pop("_encoded")
    enc = TableEncoder.from_state(state, arrays)
    assert enc.get_feature_names_out() == state["feature_names"]
    np.testing.assert_allclose(enc.transform(frame), encoded, rtol=0, atol=1e-12)
    noisy = encoded + np.random.default_rng(0).normal(0, 1, encoded.shape)
    then = pd.read_parquet(FORMAT1 / f"{key}.inverse.parquet")
    # quantile decoding moved from np.interp to the torch decoder: the same line, ulps apart
    pd.testing.assert_frame_equal(enc.inverse_transform(noisy, rng=0), then, rtol=1e-12)
    assert TableSchema.from_dict(state["schema"]).names == list(frame.columns)


# -- TableEncoder end to end -------------------------------------------------------------------
def test_encoder_round_trip_is_exact_with_standard_scaling() -> None:
    frame = make_nullable_frame()
    enc = TableEncoder().fit(frame)
    array = enc.transform(frame)
    assert array.dtype == np.float64 and array.shape == (len(frame), enc.n_features_out_)
    back = enc.inverse_transform(array, rng=0)
    pd.testing.assert_frame_equal(back, frame)  # floats to rtol 1e-5, everything else exact
    np.testing.assert_allclose(back["score"], frame["score"], rtol=0, atol=1e-12)


def test_encoder_quantile_round_trip_keeps_discrete_values() -> None:
    frame = make_nullable_frame()
    enc = TableEncoder(numerical="quantile").fit(frame)
    array = enc.transform(frame)
    cont = [s.start for s in enc.spans_ if s.kind == "continuous"]
    assert np.abs(array[:, cont]).max() < 6  # normal scores, extremes clipped
    back = enc.inverse_transform(array, rng=0)
    for name in ["age", "visits", "kids", "work", "flag", "joined", "plan"]:
        pd.testing.assert_series_equal(back[name], frame[name])
    np.testing.assert_allclose(back["score"], frame["score"], atol=1e-6)


def test_encoder_layout_names_and_spans() -> None:
    frame = make_nullable_frame()
    enc = TableEncoder().fit(frame)
    names = enc.get_feature_names_out()
    assert names == [
        "age", "score", "visits", "visits__missing", "kids", "kids__missing",
        "work=Private", "work=Self", "work=State", "work__missing",
        "flag=False", "flag=True", "joined", "joined__missing", "plan=basic", "plan=pro",
    ]  # fmt: skip
    assert enc.spans_[:4] == [
        Span("age", "continuous", 0, 1),
        Span("score", "continuous", 1, 2),
        Span("visits", "continuous", 2, 3),
        Span("visits", "missing", 3, 4),
    ]
    assert Span("work", "discrete", 6, 10) in enc.spans_
    assert enc.spans_[-1].end == len(names) == enc.n_features_out_
    array = enc.transform(frame)
    for span in enc.spans_:
        block = array[:, span.start : span.end]
        if span.kind == "discrete":
            np.testing.assert_array_equal(block.sum(axis=1), 1.0)  # exactly one hot
        elif span.kind == "missing":
            np.testing.assert_array_equal(block[:, 0], frame[span.column].isna())
    assert enc.get_feature_names_out([f"c{i}" for i in range(8)])[6] == "c4=Private"


def test_encoder_drops_identifier_columns_and_regenerates_them() -> None:
    frame = make_nullable_frame(40)
    frame.insert(0, "id", [f"row-{i}" for i in range(len(frame))])
    enc = TableEncoder().fit(frame)
    assert "id" not in {s.column for s in enc.spans_}
    back = enc.inverse_transform(enc.transform(frame), rng=0)
    assert back["id"].is_unique and not set(back["id"]) & set(frame["id"])
    pd.testing.assert_frame_equal(back.drop(columns="id"), frame.drop(columns="id"))


def test_encoder_max_categories_groups_rare_levels_into_other() -> None:
    levels = ["a"] * 10 + ["b"] * 6 + ["c"] * 3 + ["d"] * 2 + [None] * 2
    frame = pd.DataFrame({"x": pd.Series(levels, dtype="str")})
    enc = TableEncoder(max_categories=2).fit(frame)
    assert enc.get_feature_names_out() == ["x=a", "x__other", "x__missing"]
    back = enc.inverse_transform(enc.transform(frame), rng=0)["x"]
    # "other" decodes to the most frequent of the grouped levels (b); missing stays missing
    expected = ["a"] * 10 + ["b"] * 11 + [None] * 2
    pd.testing.assert_series_equal(back, pd.Series(expected, dtype="str", name="x"))


def test_encoder_inverse_accepts_raw_generator_output() -> None:
    frame = make_nullable_frame()
    enc = TableEncoder(dtype="float32").fit(frame)
    array = enc.transform(frame)
    assert array.dtype == np.float32
    noisy = array + np.random.default_rng(0).normal(0, 3, array.shape).astype(np.float32)
    back = enc.inverse_transform(noisy, rng=0)
    assert list(back.dtypes) == list(frame.dtypes)
    assert back["age"].between(18, 79).all()  # clipped to the fitted range
    assert set(back["work"].dropna()) <= {"Private", "State", "Self"}
    assert back["joined"].dropna().dt.round("s").equals(back["joined"].dropna())


def test_encoder_state_is_json_and_arrays_and_rebuilds_an_equal_encoder() -> None:
    frame = make_nullable_frame()
    for numerical in ("standard", "quantile"):
        enc = TableEncoder(numerical=numerical, max_categories=2).fit(frame)
        state, arrays = enc.to_state()
        state = json.loads(json.dumps(state))
        assert all(isinstance(a, np.ndarray) for a in arrays.values())
        assert max(a.size for a in arrays.values()) <= 1000  # statistics, not rows
        again = TableEncoder.from_state(state, {k: a.copy() for k, a in arrays.items()})
        np.testing.assert_array_equal(again.transform(frame), enc.transform(frame))
        assert again.spans_ == enc.spans_
        pd.testing.assert_frame_equal(
            again.inverse_transform(enc.transform(frame), rng=0),
            enc.inverse_transform(enc.transform(frame), rng=0),
        )


def test_encoder_errors_are_clear() -> None:
    frame = make_nullable_frame()
    with pytest.raises(NotFittedError, match="fit"):
        TableEncoder().transform(frame)
    with pytest.raises(InvalidParameterError, match="numerical"):
        TableEncoder(numerical="minmax").fit(frame)
    enc = TableEncoder().fit(frame)
    unseen = frame.copy()
    unseen.loc[0, "work"] = "Army"
    with pytest.raises(InvalidDataError, match=r"never seen.*'Army'"):
        enc.transform(unseen)
    holes = frame.copy()
    holes.loc[0, "age"] = np.nan
    with pytest.raises(InvalidDataError, match="'age' has 1 missing"):
        enc.transform(holes)
    with pytest.raises(InvalidDataError, match="shape"):
        enc.inverse_transform(np.zeros((2, 3)))
