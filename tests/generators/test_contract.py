"""The generator contract, generated from the registry: every generator of every modality.

Each test runs once per (modality, generator) pair: for every registered modality that holds
generators, every name in ``list_generators(modality)``.  The tiny image and text generators of
:mod:`tests.dummies` are registered for the session (``tests/conftest.py``), so the image and
text cases are real fits, not placeholders; a new generator of any modality joins these tests
by being registered.  The contract (:mod:`synthaug.generators.base`):

* ``fit(X, y)`` returns the generator; ``sample(n)`` gives ``n`` records in the container
  ``fit`` was given (``(X, y)`` when it had labels); ``sample(0)`` an empty one;
* the same seeds give the same records; ``sample_batches`` yields bounded batches holding what
  ``sample`` gives;
* ``conditions={"label": c}`` gives class ``c`` in every record, in every modality (tables also
  condition on a column); an unseen value or an unknown key is refused;
* ``save`` / ``load`` give a model that samples the same records, from a folder that holds no
  training record; ``clone`` gives an unfitted copy with the same parameters; an unfitted
  generator says to call ``fit``;
* scikit-learn's estimator checks that apply to an estimator without ``predict``.

Special cases, and why:

* ``sdv.*`` wrap SDV (an optional extra under another licence): their fits are skipped where SDV
  is not installed (CI runs them in its second environment); they refuse to save (SDV models
  can only be pickled), which is what their save case checks; and SDV meets conditions by
  rejection, so they do not declare ``exact_conditions`` and skip the exact-conditions case.
* Deep tabular generators train for two epochs on 120 rows: enough to exercise the whole path.

Bugs this suite found in package code are strict xfails with the reason (the constants below
the ``case`` fixture): the test turns red once the bug is fixed, and the marker goes with the
fix.

The tabular-only tests at the end (column schema, dtypes and ranges, column conditions, time
types, numpy in numpy out) are what only tables have.
"""

from __future__ import annotations

import copy
import importlib.util
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.utils import estimator_checks

from synthaug import get_generator, list_generators, registry
from synthaug.exceptions import (
    InvalidDataError,
    InvalidParameterError,
    NotFittedError,
    NotSupportedError,
)
from synthaug.generators.base import BaseGenerator
from tests.generators.helpers import FAST_PARAMS, fitted
from tests.toydata import make_digits, make_mixed_frame, make_reviews

HAVE_SDV = importlib.util.find_spec("sdv") is not None

#: parameters for the contract's fits: every deep generator trains briefly, on the CPU
CONTRACT_PARAMS: dict[str, dict[str, Any]] = {
    **FAST_PARAMS,
    "sdv.ctgan": {"epochs": 1, "batch_size": 100},
    "sdv.tvae": {"epochs": 1, "batch_size": 100},
}


# -- the data of each modality -----------------------------------------------------------------
@dataclass(frozen=True)
class Data:
    """Training records of one modality, their labels given apart, and what to ask of them."""

    modality: str
    X: Any
    y: Any
    #: a class to ask for with conditions={"label": ...}
    label: Any
    #: a class the records never had
    unseen_label: Any
    #: tables: exact column conditions to ask beside the label
    columns: dict[str, Any] = field(default_factory=dict)


def _tabular() -> Data:
    frame = make_mixed_frame()
    return Data("tabular", frame.drop(columns="income"), frame["income"], label=">50K",
                unseen_label="maybe", columns={"work": "State"})


def _image() -> Data:
    pixels, labels = make_digits(300)
    return Data("image", pixels, labels, label=3, unseen_label=11)


def _text() -> Data:
    texts, labels = make_reviews(120)
    return Data("text", texts, labels, label="rotten", unseen_label="lukewarm")


DATA: dict[str, Callable[[], Data]] = {"tabular": _tabular, "image": _image, "text": _text}
#: (modality, generator name) for every registered generator of every modality with data here
CASES = [(modality, name) for modality in registry.modalities.names()
         for name in list_generators(modality)]
#: a registered modality with generators but no data above would go untested: say so
UNCOVERED = sorted({m for m, _ in CASES} - set(DATA))


def _case_id(case: tuple[str, str]) -> str:
    return f"{case[0]}:{case[1]}"


def _marks(name: str) -> list[pytest.MarkDecorator]:
    return [pytest.mark.sdv] if name.startswith("sdv.") else []


def cases(known: Callable[[str, str], str | None] | None = None,
          raises: type[BaseException] | tuple[type[BaseException], ...] | None = None,
          ) -> list[Any]:
    """Every (modality, name) case, as parameters; a case ``known`` gives a reason for is a
    strict xfail (a known bug of package code: the test turns red once it is fixed, so the
    marker goes with the fix)."""
    params = []
    for modality, name in CASES:
        marks = _marks(name)
        reason = known(modality, name) if known is not None else None
        if reason:
            marks.append(pytest.mark.xfail(strict=True, raises=raises, reason=reason))
        params.append(pytest.param((modality, name), id=_case_id((modality, name)), marks=marks))
    return params


@pytest.fixture(params=cases())
def case(request: pytest.FixtureRequest) -> tuple[str, str]:
    return tuple(request.param)  # type: ignore[return-value]


@pytest.fixture
def name(case: tuple[str, str]) -> str:
    return case[1]


@pytest.fixture
def data(case: tuple[str, str]) -> Data:
    return _data(case[0])


_DATA_CACHE: dict[str, Data] = {}


def _data(modality: str) -> Data:
    if modality not in _DATA_CACHE:
        _DATA_CACHE[modality] = DATA[modality]()
    return _DATA_CACHE[modality]


def make(name: str, **params: Any) -> BaseGenerator:
    """The generator with the contract's small budget, on the CPU, seeded unless told."""
    return get_generator(name, **{**CONTRACT_PARAMS.get(name, {}), "random_state": 0,
                                  "device": "cpu", **params})


def needs_fit(name: str) -> None:
    if name.startswith("sdv.") and not HAVE_SDV:
        pytest.skip("needs the sdv extra (CI's second environment)")


_FITTED: dict[tuple[str, int, bool], BaseGenerator] = {}


def fit(name: str, data: Data, *, seed: int = 0, labelled: bool = True) -> BaseGenerator:
    """A fitted generator (a private copy of one fit per name, seed and labelling: fits are the
    slow part, and a test may change the copy it gets)."""
    needs_fit(name)
    key = (name, seed, labelled)
    if key not in _FITTED:
        gen = make(name, random_state=seed)
        _FITTED[key] = gen.fit(data.X, data.y) if labelled else gen.fit(data.X)
    return copy.deepcopy(_FITTED[key])


# -- comparing records -------------------------------------------------------------------------
def assert_same(a: Any, b: Any) -> None:
    """``a`` and ``b`` hold the same records (and labels) in the same containers."""
    assert type(a) is type(b), (type(a), type(b))
    if isinstance(a, tuple):
        assert len(a) == len(b)
        for x, z in zip(a, b, strict=True):
            assert_same(x, z)
    elif isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b)
    elif isinstance(a, pd.Series):
        pd.testing.assert_series_equal(a, b)
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    else:
        assert list(a) == list(b)


def same(a: Any, b: Any) -> bool:
    try:
        assert_same(a, b)
    except AssertionError:
        return False
    return True


def join(batches: list[Any]) -> Any:
    """Batches of one container (or of ``(X, y)`` pairs) as one."""
    first = batches[0]
    if isinstance(first, tuple):
        return tuple(join([b[i] for b in batches]) for i in range(len(first)))
    if isinstance(first, pd.DataFrame | pd.Series):
        return pd.concat(batches, ignore_index=True)
    if isinstance(first, np.ndarray):
        return np.concatenate(batches)
    return [record for batch in batches for record in batch]


def assert_records_like(out: Any, data: Data, n: int) -> None:
    """``out`` is ``n`` records in the container of ``data.X``, of the fitted kind."""
    X = data.X
    assert type(out) is type(X), (type(out), type(X))
    assert len(out) == n
    if isinstance(X, pd.DataFrame):
        assert list(out.columns) == list(X.columns)
        assert out.dtypes.to_dict() == X.dtypes.to_dict()
    elif isinstance(X, np.ndarray):
        assert out.dtype == X.dtype and out.shape[1:] == X.shape[1:]
    else:
        assert all(isinstance(record, str) and record.strip() for record in out)


def assert_labels_like(labels: Any, data: Data, n: int, *, dtype: bool = True) -> None:
    """``labels`` are ``n`` classes of the training labels (in their dtype unless told)."""
    assert len(labels) == n
    values = np.asarray(labels)
    assert set(values.tolist()) <= set(np.asarray(data.y).tolist())
    if isinstance(data.y, pd.Series):
        assert isinstance(labels, pd.Series)
        assert labels.name == data.y.name
        assert not dtype or labels.dtype == data.y.dtype, (labels.dtype, data.y.dtype)
    elif isinstance(data.y, np.ndarray):
        assert not dtype or values.dtype == data.y.dtype, (values.dtype, data.y.dtype)


# -- every generator of every modality ---------------------------------------------------------
def test_every_modality_with_generators_has_contract_data() -> None:
    assert not UNCOVERED, f"add contract data for {UNCOVERED} to tests/generators/test_contract.py"
    assert {m for m, _ in CASES} == {"tabular", "image", "text"}


def test_reachable_by_name_and_declares_capabilities(case: tuple[str, str]) -> None:
    modality, name = case
    gen = get_generator(name)
    assert isinstance(gen, BaseGenerator)
    assert gen.name == name
    assert gen.modality == modality
    assert gen.family
    if name.startswith("sdv."):  # adapters are named <library>.<name>, not <modality>.<family>
        assert name.split(".", 1)[0] == "sdv"
    else:
        assert name == f"{gen.modality}.{gen.family}"


def test_init_stores_params_only(name: str) -> None:
    gen = get_generator(name, random_state=3)
    assert gen.get_params()["random_state"] == 3
    assert not [k for k in vars(gen) if k.endswith("_")], "no fitted state before fit"


def test_fit_returns_self_and_samples_in_the_fitted_container(name: str, data: Data) -> None:
    needs_fit(name)
    gen = make(name)
    assert gen.fit(data.X, data.y) is gen
    out = gen.sample(25, random_state=1)
    assert isinstance(out, tuple) and len(out) == 2, "fitted with labels: (records, labels)"
    X_out, y_out = out
    assert_records_like(X_out, data, 25)
    assert_labels_like(y_out, data, 25)
    # without labels, the records alone, in the same container
    plain = make(name).fit(data.X).sample(7, random_state=1)
    assert_records_like(plain, data, 7)


def test_sample_zero_is_an_empty_container(name: str, data: Data) -> None:
    X_out, y_out = fit(name, data).sample(0)
    assert_records_like(X_out, data, 0)
    assert_labels_like(y_out, data, 0, dtype=False)  # the dtype: the next test


@pytest.mark.parametrize("case", cases())
def test_sample_zero_keeps_the_label_dtype(name: str, data: Data) -> None:
    _, y_out = fit(name, data).sample(0)
    assert_labels_like(y_out, data, 0)


@pytest.mark.parametrize("case", cases())
def test_same_seed_same_records(name: str, data: Data) -> None:
    a = fit(name, data, seed=5).sample(40, random_state=7)
    assert_same(a, make(name, random_state=5).fit(data.X, data.y).sample(40, random_state=7))
    # sampling changes nothing a second draw could see
    twice = fit(name, data, seed=5)
    assert_same(twice.sample(40, random_state=7), twice.sample(40, random_state=7))
    assert not same(a, fit(name, data, seed=5).sample(40, random_state=8))


@pytest.mark.parametrize("case", cases())
def test_sample_batches_are_bounded_and_hold_what_sample_gives(name: str, data: Data) -> None:
    gen = fit(name, data)
    batches = list(gen.sample_batches(20, batch_size=7, random_state=0))
    assert [len(b[0]) for b in batches] == [7, 7, 6]
    for X_b, y_b in batches:
        assert_records_like(X_b, data, len(X_b))
        assert_labels_like(y_b, data, len(X_b))
    assert_same(join(list(gen.sample_batches(20, random_state=3))), gen.sample(20, random_state=3))
    # several batches of the default size: sample joins them as sample_batches yields them
    gen.batch_size_hint = 8  # an instance attribute: this copy only
    joined = join(list(gen.sample_batches(20, random_state=3)))
    assert_same(joined, gen.sample(20, random_state=3))
    with pytest.raises(InvalidParameterError, match="batch_size"):
        gen.sample_batches(5, batch_size=0)  # refused at the call, before any batch


def test_streaming_batches_bound_memory(name: str, data: Data) -> None:
    gen = fit(name, data)
    sizes = [len(b[0]) for b in gen.sample_batches(1000, batch_size=300, random_state=0)]
    assert sizes == [300, 300, 300, 100]


def test_exact_conditions_on_the_label_and_a_column(name: str, data: Data) -> None:
    gen = fit(name, data)
    if data.modality == "tabular" and "exact_conditions" not in gen.tags:
        pytest.skip(f"{name} does not declare exact conditions")
    X_out, y_out = gen.sample(40, conditions={"label": data.label}, random_state=0)
    assert_records_like(X_out, data, 40)
    assert (np.asarray(y_out) == data.label).all()
    if data.columns:  # tables: a column too, with the label
        X_out, y_out = gen.sample(40, conditions={"label": data.label, **data.columns},
                                  random_state=1)
        assert (np.asarray(y_out) == data.label).all()
        for column, value in data.columns.items():
            assert (X_out[column] == value).all()


def test_an_unseen_label_is_refused(name: str, data: Data) -> None:
    gen = fit(name, data)
    with pytest.raises(InvalidParameterError, match="never seen"):
        gen.sample(5, conditions={"label": data.unseen_label})
    with pytest.raises(InvalidParameterError, match="never seen"):
        gen.sample_batches(5, conditions={"label": data.unseen_label})  # at the call
    # fitted without labels, there is no class to ask for
    with pytest.raises((InvalidParameterError, InvalidDataError)):
        fit(name, data, labelled=False).sample(5, conditions={"label": data.label})


def test_an_unknown_condition_key_is_refused_naming_it(name: str, data: Data) -> None:
    gen = fit(name, data)
    with pytest.raises((InvalidParameterError, InvalidDataError), match="nope"):
        gen.sample(5, conditions={"nope": 1})


@pytest.mark.parametrize("case", cases())
def test_an_unknown_condition_key_is_an_invalid_parameter(name: str, data: Data) -> None:
    gen = fit(name, data)
    with pytest.raises(InvalidParameterError, match="nope"):
        gen.sample(5, conditions={"nope": 1})


# tables declare it (or, sdv.*, do not meet it)
@pytest.mark.parametrize("case", [
    param for param in cases() if param.values[0][0] != "tabular"])
def test_generators_that_meet_conditions_exactly_declare_it(name: str, data: Data) -> None:
    gen = fit(name, data)
    _, labels = gen.sample(30, conditions={"label": data.label}, random_state=0)
    assert (np.asarray(labels) == data.label).all()  # the base's guarantee...
    assert "exact_conditions" in gen.tags  # ...declared as data


def test_save_load_sample_identical(name: str, data: Data, tmp_path: Path) -> None:
    gen = fit(name, data)
    if name.startswith("sdv."):  # SDV models can only be pickled: refused, nothing written
        with pytest.raises(NotSupportedError, match="pickle"):
            gen.save(tmp_path / "model")
        assert not (tmp_path / "model").exists()
        return
    folder = gen.save(tmp_path / "model")
    asked = {"label": data.label}
    for loaded in (type(gen).load(folder, device="cpu"), BaseGenerator.load(folder, device="cpu")):
        assert type(loaded) is type(gen)
        assert loaded.get_params() == gen.get_params()
        assert_same(loaded.sample(30, random_state=2), gen.sample(30, random_state=2))
        assert_same(loaded.sample(10, conditions=asked, random_state=4),
                    gen.sample(10, conditions=asked, random_state=4))


def _leaked_tabular(data: Data, folder: Path) -> int:
    text = "".join(p.read_text(errors="ignore") for p in folder.iterdir())
    return sum(f"{v:.9f}" in text or f"{v!r}" in text for v in data.X["hours"].iloc[5:25])


def _leaked_image(data: Data, folder: Path) -> int:
    blob = b"".join(p.read_bytes() for p in folder.iterdir())
    # an image stored as it came (uint8) or converted (float32, float64) is a copy
    return sum(any(np.ascontiguousarray(image, dtype=d).tobytes() in blob
                   for d in (np.uint8, np.float32, np.float64))
               for image in data.X[:40])


def _leaked_text(data: Data, folder: Path) -> int:
    blob = b"".join(p.read_bytes() for p in folder.iterdir())
    # JSON escapes nothing in these texts, so a stored text appears as its UTF-8 bytes
    return sum(text.encode() in blob for text in data.X)


def test_model_folder_holds_no_training_records(name: str, data: Data, tmp_path: Path) -> None:
    if name.startswith("sdv."):
        pytest.skip("SDV models are never saved")
    needs_fit(name)
    if data.modality == "tabular":  # values unlikely to appear by chance
        X = data.X.assign(hours=data.X["hours"] + 0.123456789)
        data = Data(data.modality, X, data.y, data.label, data.unseen_label, data.columns)
    make(name).fit(data.X, data.y).save(tmp_path / "model")
    folder = tmp_path / "model"
    leaked = {"tabular": _leaked_tabular, "image": _leaked_image, "text": _leaked_text}
    assert leaked[data.modality](data, folder) <= 2, "saved files hold training records"
    blob = b"".join(p.read_bytes() for p in folder.iterdir())
    assert b"pickle" not in blob.lower() and b"\x80\x04\x95" not in blob  # no pickle stream


def test_leak_detectors_find_copied_records(tmp_path: Path) -> None:
    # the detectors above must be able to fail: files holding the records are caught
    for modality in DATA:
        data = _data(modality)
        folder = tmp_path / modality
        folder.mkdir()
        if modality == "tabular":
            (folder / "state.json").write_text(json.dumps(data.X["hours"].tolist()))
            assert _leaked_tabular(data, folder) > 2
        elif modality == "image":
            (folder / "w").write_bytes(data.X[:10].astype(np.float32).tobytes())
            assert _leaked_image(data, folder) >= 10
        else:
            (folder / "state.json").write_text(json.dumps(list(data.X[:10])))
            assert _leaked_text(data, folder) >= 10


@pytest.mark.parametrize("case", cases())
def test_clone_is_an_unfitted_copy_that_fits_the_same(name: str, data: Data) -> None:
    gen = fit(name, data)
    twin = clone(gen)
    assert type(twin) is type(gen) and twin is not gen
    assert twin.get_params() == gen.get_params()
    with pytest.raises(NotFittedError):
        twin.sample(3)
    gen.sample(3)  # the original is still fitted
    twin.fit(data.X, data.y)
    assert_same(twin.sample(20, random_state=6), gen.sample(20, random_state=6))


def test_not_fitted_error(name: str, tmp_path: Path) -> None:
    gen = get_generator(name)
    with pytest.raises(NotFittedError, match="fit"):
        gen.sample(3)
    with pytest.raises(NotFittedError, match="fit"):
        gen.sample_batches(3)
    with pytest.raises(NotFittedError):
        gen.save(tmp_path / "m")
    assert not (tmp_path / "m").exists()


# -- scikit-learn's checks of estimators without predict ---------------------------------------
#: checks that need no data, for every generator of every modality
SKLEARN_CHECKS = [
    "check_estimator_cloneable",
    "check_estimator_repr",
    "check_estimator_tags_renamed",
    "check_valid_tag_types",
    "check_mixin_order",
    "check_no_attributes_set_in_init",
    "check_parameters_default_constructible",
    "check_get_params_invariance",
    "check_set_params",
    "check_do_not_raise_errors_in_init_or_set_params",
]
#: checks that fit on scikit-learn's small numerical arrays: tables only (a 2-D float array
#: is not an image batch or a list of texts)
SKLEARN_TABLE_CHECKS = [
    "check_fit_score_takes_y",
    "check_estimators_fit_returns_self",
    "check_estimators_overwrite_params",
    "check_dont_overwrite_parameters",
    "check_estimators_dtypes",
    "check_readonly_memmap_input",
    "check_f_contiguous_array_estimator",
    "check_fit_check_is_fitted",
    "check_n_features_in",
    "check_n_features_in_after_fitting",
    "check_fit1d",
    "check_fit2d_1feature",
    "check_positive_only_tag_during_fit",
    "check_requires_y_none",
]
#: the checks left out, and why
SKLEARN_LEFT_OUT: dict[str, str] = {
    **dict.fromkeys(
        ["check_estimators_unfitted", "check_fit_idempotent", "check_dict_unchanged",
         "check_methods_subset_invariance", "check_methods_sample_order_invariance",
         "check_fit2d_predict1d", "check_pipeline_consistency"],
        "they compare what predict, transform, decision_function or score return; a generator "
        "has none of them, so they would pass without checking anything (their equivalents for "
        "sample are the contract tests above: unfitted errors, same seed same records, a second "
        "draw unchanged by the first)"),
    "check_estimators_pickle": (
        "synthaug never pickles a model; save/load (JSON + safetensors) is the persistence the "
        "contract checks"),
    "check_estimators_nan_inf": (
        "missing values are data a generator learns and reproduces, so fit must accept NaN (the "
        "contract's tables have them)"),
    **dict.fromkeys(
        ["check_complex_data", "check_estimators_empty_data_messages", "check_fit2d_1sample",
         "check_estimator_sparse_tag", "check_estimator_sparse_array",
         "check_estimator_sparse_matrix"],
        "synthaug refuses these inputs with an InvalidDataError (a ValueError) whose message "
        "says what to do, not with the phrases the checks match ('Complex data not supported', "
        "'sparse', '1 sample'); tests/test_bad_inputs.py checks the refusals"),
    "check_dtype_object": (
        "its object column mixes dicts and floats, which synthaug refuses naming the column (a "
        "categorical column holds values of one type)"),
    "check_param_validation": (
        "generators declare no _parameter_constraints; each checks its parameters at fit "
        "(_check_params), tested per family"),
    "check_array_api_input": "generators take numpy and pandas containers only",
}
# Not yielded for a generator at all, so not listed: the sample_weight, classifier, regressor,
# transformer, clusterer and outlier checks (a generator has no sample_weight and no predict).


#: the table checks that fit with y (integer classes): the SDV adapters fail them


def _sklearn_cases() -> list[Any]:
    params = [pytest.param(name, check, id=f"{name}-{check}", marks=_marks(name))
              for _, name in CASES for check in SKLEARN_CHECKS]
    for modality, name in CASES:
        if modality != "tabular":
            continue
        for check in SKLEARN_TABLE_CHECKS:
            marks = _marks(name)
            params.append(pytest.param(name, check, id=f"{name}-{check}", marks=marks))
    return params


@pytest.mark.parametrize(("name", "check"), _sklearn_cases())
def test_sklearn_checks(name: str, check: str) -> None:
    if check in SKLEARN_TABLE_CHECKS:
        needs_fit(name)
    getattr(estimator_checks, check)(type(make(name)).__name__, make(name))


@pytest.mark.parametrize("name", [name for _, name in CASES])
def test_every_sklearn_check_is_run_or_left_out_with_a_reason(name: str) -> None:
    # a check scikit-learn adds (or renames) must be decided on here, not silently skipped
    yielded = {check.func.__name__ if hasattr(check, "func") else check.__name__
               for _, check in estimator_checks.estimator_checks_generator(make(name))}
    run = set(SKLEARN_CHECKS) | set(SKLEARN_TABLE_CHECKS)
    assert not run & set(SKLEARN_LEFT_OUT)
    assert yielded <= run | set(SKLEARN_LEFT_OUT), yielded - run - set(SKLEARN_LEFT_OUT)
    for check in run | set(SKLEARN_LEFT_OUT):
        assert hasattr(estimator_checks, check), check


# -- what only tables have ---------------------------------------------------------------------
# synthaug's own tabular generators; the sdv.* adapters cannot save and have their own tests
# in tests/generators/adapters/test_sdv.py
TABULAR = [n for n in list_generators("tabular") if n.startswith("tabular.")]


@pytest.fixture(params=TABULAR)
def tabular(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_fit_returns_self_and_sample_keeps_schema(tabular: str, mixed_frame: pd.DataFrame) -> None:
    gen = get_generator(tabular, **{**FAST_PARAMS.get(tabular, {}), "random_state": 0})
    assert gen.fit(mixed_frame) is gen
    out = gen.sample(50, random_state=1)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == list(mixed_frame.columns)
    assert out.dtypes.to_dict() == mixed_frame.dtypes.to_dict()
    assert len(out) == 50
    assert set(out["work"].dropna()) <= set(mixed_frame["work"].dropna())
    assert out["age"].between(mixed_frame["age"].min(), mixed_frame["age"].max()).all()
    assert out["joined"].between(mixed_frame["joined"].min(), mixed_frame["joined"].max()).all()
    assert (out["gain"] == out["gain"].round()).all()
    assert gen.sample(0).shape == (0, mixed_frame.shape[1])


def test_same_seed_same_samples(tabular: str, mixed_frame: pd.DataFrame) -> None:
    a = fitted(tabular, mixed_frame, seed=5).sample(40, random_state=7)
    b = fitted(tabular, mixed_frame, seed=5).sample(40, random_state=7)
    pd.testing.assert_frame_equal(a, b)
    c = fitted(tabular, mixed_frame, seed=5).sample(40, random_state=8)
    assert not a.equals(c)


def test_category_levels_of_time_types_survive_save(tabular: str, tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    days = pd.to_datetime(["2020-01-01", "2021-06-30 12:00:01.000000001"], format="ISO8601")
    days = days.tz_localize("UTC")
    frame = pd.DataFrame({
        "when": pd.Categorical(rng.choice(days, 120)),
        "month": pd.Categorical(rng.choice(pd.period_range("2020-01", periods=3, freq="M"), 120)),
        "wait": pd.Categorical(rng.choice(pd.to_timedelta([1, 2, 3], unit="h"), 120)),
        "x": rng.normal(size=120),
    })
    gen = fitted(tabular, frame)
    loaded = type(gen).load(gen.save(tmp_path / "model"), device="cpu")
    out = loaded.sample(40, conditions={"when": days[1]}, random_state=1)
    assert out.dtypes.to_dict() == frame.dtypes.to_dict()
    assert (out["when"] == days[1]).all()
    assert set(out["month"]) <= set(frame["month"]) and set(out["wait"]) <= set(frame["wait"])
    pd.testing.assert_frame_equal(gen.sample(30, random_state=2), loaded.sample(30, random_state=2))


def test_saved_model_holds_no_training_rows(
    tabular: str, mixed_frame: pd.DataFrame, tmp_path: Path
) -> None:
    frame = mixed_frame.copy()
    frame["hours"] = frame["hours"] + 0.123456789  # values unlikely to appear by chance
    fitted(tabular, frame).save(tmp_path / "model")
    blob = b"".join(p.read_bytes() for p in (tmp_path / "model").iterdir())
    text = "".join(p.read_text(errors="ignore") for p in (tmp_path / "model").iterdir())
    rows_found = sum(f"{v:.9f}" in text or f"{v!r}" in text for v in frame["hours"].iloc[5:25])
    assert rows_found <= 2, "saved files contain training values verbatim"
    assert b"pickle" not in blob.lower() and b"\x80\x04\x95" not in blob  # no pickle stream


def test_exact_conditions(tabular: str, mixed_frame: pd.DataFrame) -> None:
    gen = fitted(tabular, mixed_frame)
    if "exact_conditions" not in gen.tags:
        pytest.skip(f"{tabular} does not declare exact conditions")
    out = gen.sample(200, conditions={"income": ">50K", "work": "State"}, random_state=0)
    assert len(out) == 200
    assert (out["income"] == ">50K").all() and (out["work"] == "State").all()
    with pytest.raises(InvalidParameterError, match="never seen"):
        gen.sample(5, conditions={"work": "Astronaut"})
    with pytest.raises(Exception, match="not in the fitted data"):
        gen.sample(5, conditions={"nope": 1})


def test_numpy_in_numpy_out(tabular: str) -> None:
    X = np.random.default_rng(0).normal(size=(80, 3))
    gen = get_generator(tabular, **{**FAST_PARAMS.get(tabular, {}), "random_state": 0}).fit(X)
    out = gen.sample(10, random_state=0)
    assert isinstance(out, np.ndarray) and out.shape == (10, 3) and out.dtype == X.dtype
