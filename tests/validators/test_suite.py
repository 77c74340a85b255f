"""Validation suites: built-in and user suite files, running them, the gate."""

from __future__ import annotations

import re

import pytest

from synthaug.exceptions import (
    InvalidDataError,
    InvalidParameterError,
    UnknownComponentError,
    ValidationFailedError,
)
from synthaug.validators import list_validators
from synthaug.validators.suite import Suite, builtin_suites, load_suite_spec
from tests.validators.helpers import SHAPES_ONLY, constant_copy, small_frame, write


def fidelity_suite() -> Suite:
    """The default suite with its registered fidelity checks (identical data must pass them).

    ``fidelity.detection`` is left out: it cross-validates a classifier (seconds per run) and its
    own known-answer tests cover it.
    """
    registered = [n for n in list_validators()
                  if n.startswith("fidelity.") and n != "fidelity.detection"]
    return Suite.from_file("default").restricted_to(registered)


# -- suite files -------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["default", "privacy-strict", "fairness"])
def test_builtin_suites_parse(name):
    suite = Suite.from_file(name)
    assert suite.spec.name == name
    assert suite.source == f"validators/{name}.toml (built into synthaug)"
    # every entry names a registered validator (built-in suites carry no dangling names)
    assert set(suite.validator_names) <= set(list_validators())
    assert any(c.gates for c in suite.spec.checks)


def test_builtin_names_and_file_paths(tmp_path):
    assert {"default", "privacy-strict", "fairness"} <= set(builtin_suites())
    spec = load_suite_spec(write(tmp_path / "mine.toml", SHAPES_ONLY))
    check = spec.checks[0]
    assert (spec.name, check.validator, check.min, check.max, check.gates) == (
        "shapes", "fidelity.column_shapes", 0.8, None, True)
    assert Suite.from_file(str(tmp_path / "mine.toml")).spec == spec
    with pytest.raises(UnknownComponentError, match="Did you mean 'default'"):
        Suite.from_file("defualt")
    with pytest.raises(InvalidParameterError, match=r"missing\.toml: cannot be read"):
        Suite.from_file(tmp_path / "missing.toml")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('name = "s"\n[[checks]]\nvalidator = "fidelity.column_shapes"\noptinal = true\n',
         r"checks\[0\]\.optinal: unknown key"),
        ('name = "s"\ndescripton = "red"\n[[checks]]\nvalidator = "fidelity.column_shapes"\n',
         r"descripton: unknown key. Did you mean 'description'\? Keys allowed in the top level: "
         r"checks, description, name, version"),
        ('name = "s"\n[[checks]]\nvalidator = "fidelity.column_shapes"\n'
         '[[checks]]\nvalidator = "fidelity.pair_trends"\nmin = "high"\n',
         r"checks\[1\]\.min: Input should be a valid number \(got 'high'\)"),
        ('name = "s"\n[[checks]]\nvalidator = "fidelity.column_shapes"\ngate = "yes"\n',
         r"checks\[0\]\.gate: Input should be a valid boolean"),
        ('name = "s"\n[[checks]]\nmin = 0.8\n',
         r"checks\[0\]\.validator: is required but missing"),
        ('name = "s"\n[[checks]]\nvalidator = "fidelity.column_shapes"\nmin = 0.9\nmax = 0.1\n',
         r"checks\[0\]: min = 0.9 is above max = 0.1"),
        ('name = "s"\n[[checks]]\nvalidator = "fidelity.column_shapes"\ngate = true\n',
         r"checks\[0\]: gate = true needs a threshold"),
        ('name = "s"\n[[checks]]\nvalidator = "privacy.dcr"\nneeds = ["holdot"]\n',
         r"checks\[0\]\.needs\[0\]: Input should be 'holdout', 'target', 'sensitive' "
         r"or 'generator'"),
        ('name = "s"\n[[checks]]\nvalidator = "fidelity.column_shapes"\n'
         '[[checks]]\nvalidator = "fidelity.column_shapes"\n',
         r"checks\[0\] and checks\[1\] are both labelled 'fidelity.column_shapes'"),
        ('name = "s"\nchecks = []\n', r"checks: a suite needs at least one \[\[checks\]\] entry"),
        ('name = "s"\n[[checks]\n', r"is not valid TOML"),
    ],
    ids=["unknown-key", "unknown-top-key", "threshold-type", "gate-type", "no-validator",
         "min-above-max", "gate-without-threshold", "bad-need", "duplicate-id", "no-checks",
         "bad-toml"],
)
def test_bad_suite_file_names_file_and_field(tmp_path, body, expected):
    file = write(tmp_path / "bad.toml", body)
    with pytest.raises(InvalidParameterError) as info:
        Suite.from_file(file)
    message = str(info.value)
    assert str(file) in message
    assert re.search(expected, message), message


# -- running and the gate ----------------------------------------------------------------------
def test_gate_passes_on_identical_data_and_fails_on_bad():
    real = small_frame()
    good = fidelity_suite().run(real, real.copy(), target="income", sensitive="sex,race")
    assert good.gate, str(good)
    assert good["fidelity.column_shapes"].value == pytest.approx(1.0)
    bad = fidelity_suite().run(real, constant_copy(real), figures=False)
    assert not bad.gate
    assert "fidelity.column_shapes" in bad.failed
    with pytest.raises(ValidationFailedError, match=r"fidelity\.column_shapes"):
        bad.raise_for_gate()


@pytest.mark.skipif("privacy.exact_copies" not in list_validators(),
                    reason="privacy.exact_copies is not registered yet")
def test_default_suite_fails_copies_of_training_rows():
    real = small_frame()
    report = Suite.from_file("default").restricted_to(
        ["fidelity.column_shapes", "privacy.exact_copies"]).run(real, real.copy(), figures=False)
    assert "privacy.exact_copies" in report.failed
    assert not report.gate


def test_unknown_validator_gives_did_you_mean_at_run(tmp_path):
    file = write(tmp_path / "typo.toml", SHAPES_ONLY + '[[checks]]\nvalidator = '
                 '"fidelity.colum_shapes"\nid = "typo"\nmin = 0.5\n')
    suite = Suite.from_file(file)  # parsing does not need the registry
    with pytest.raises(UnknownComponentError) as info:
        suite.run(small_frame(), small_frame())
    message = str(info.value)
    assert "Did you mean 'fidelity.column_shapes'" in message
    assert f"{file}: checks[1] (typo)" in message


def test_optional_and_needs():
    suite = Suite.from_dict({"name": "s", "checks": [
        {"validator": "fidelity.column_shapes", "min": 0.8},
        {"validator": "plugin.not_installed", "max": 0.1, "optional": True},
        {"validator": "fidelity.column_shapes", "id": "needs-holdout", "min": 0.8,
         "needs": ["holdout"], "optional": True},
    ]})
    real = small_frame()
    report = suite.run(real, real.copy(), figures=False)
    assert report.gate
    assert report.skipped == ["plugin.not_installed", "needs-holdout"]
    assert "not registered" in report["plugin.not_installed"].note
    assert "--holdout" in report["needs-holdout"].note
    assert report.checks[0].status == "pass"
    # a needed input that is missing on a non-optional entry stops the suite before it runs
    strict = Suite.from_dict({"name": "s", "checks": [
        {"validator": "fidelity.column_shapes", "min": 0.8, "needs": ["target", "sensitive"]}]})
    with pytest.raises(InvalidParameterError, match=r"needs target and sensitive.*--target"):
        strict.run(real, real)


def test_gate_fails_when_no_gating_check_ran():
    suite = Suite.from_dict({"name": "s", "checks": [
        {"validator": "plugin.not_installed", "max": 0.1, "optional": True},
        {"validator": "fidelity.column_shapes"},  # report only
    ]})
    report = suite.run(small_frame(), small_frame(), figures=False)
    assert not report.gate
    assert report["fidelity.column_shapes"].status == "info"
    assert "No gating check ran" in report.notes[0]


def test_non_gating_miss_is_a_warning_and_bad_params_name_the_entry():
    real = small_frame()
    warn = Suite.from_dict({"name": "s", "checks": [
        {"validator": "fidelity.column_shapes", "min": 0.8},
        {"validator": "fidelity.column_shapes", "id": "strict", "min": 0.999, "gate": False}]})
    report = warn.run(real, small_frame(seed=1), figures=False)
    assert report.gate and report["strict"].status == "warn"
    bad_params = Suite.from_dict({"name": "s", "checks": [
        {"validator": "fidelity.column_shapes", "min": 0.8, "params": {"bins": 3}}]},
        source="inline")
    with pytest.raises(InvalidParameterError, match=r"inline: checks\[0\].*params refused"):
        bad_params.run(real, real)


def test_missing_sensitive_column_is_a_clear_error():
    real = small_frame()
    with pytest.raises(InvalidDataError, match=r"sensitive column 'rac'.*Did you mean 'race'"):
        fidelity_suite().run(real, real, sensitive="sex,rac")
    with pytest.raises(InvalidDataError, match="target column 'incme'"):
        fidelity_suite().run(real, real, target="incme")
