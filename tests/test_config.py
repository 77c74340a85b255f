"""The recipe spec: strict types, the data's modality, and components that must serve it."""

from __future__ import annotations

from typing import Any

import pytest

from synthaug.config import RecipeSpec, SpecError, infer_modality, loads_toml, parse_spec

BASE: dict[str, Any] = {"name": "demo", "data": {"source": "adult", "target": "income"}}


def parse(**sections: Any) -> RecipeSpec:
    doc = {**BASE, **{k: v for k, v in sections.items() if k != "data"}}
    doc["data"] = {**BASE["data"], **sections.get("data", {})}
    return parse_spec(doc, RecipeSpec, source="mine.toml")


def problems(**sections: Any) -> dict[str, str]:
    with pytest.raises(SpecError) as info:
        parse(**sections)
    lines = str(info.value).splitlines()
    text = lines[1:] if len(lines) > 1 else [lines[0].removeprefix("mine.toml: ")]
    return dict(line.strip().split(": ", 1) for line in text)


# -- strict types ------------------------------------------------------------------------------
def test_seeds_as_text_says_it_must_be_a_list_of_integers() -> None:
    found = problems(seeds="five")
    assert list(found) == ["seeds"]
    assert "must be a list of integers" in found["seeds"] and "'five'" in found["seeds"]
    assert "must be a list of integers" in problems(seeds=2.0)["seeds"]
    assert "valid integer" in problems(seeds=[0, "1"])["seeds[1]"]


@pytest.mark.parametrize(("section", "key", "value"), [
    ("training", "max_steps", "400"),
    ("training", "max_steps", 400.0),
    ("training", "batch_size", True),
    ("training", "learning_rate", "0.01"),
    ("split", "seed", "0"),
    ("scenario", "per_class", "5"),
    ("augmentation", "synthetic_only", "yes"),
    ("augmentation", "ratios", ["1"]),
    ("report", "confidence", "0.9"),
])
def test_a_value_of_the_wrong_type_is_refused_naming_the_field(
        section: str, key: str, value: Any) -> None:
    extra: dict[str, Any] = {"kind": "low_data"} if section == "scenario" else {}
    found = problems(**{section: {**extra, key: value}})
    field = f"{section}.{key}" + ("[0]" if isinstance(value, list) else "")
    assert list(found) == [field]
    assert "should be a valid" in found[field] and repr(
        value[0] if isinstance(value, list) else value) in found[field]


def test_lists_and_integers_where_floats_go_are_still_accepted() -> None:
    spec = parse(seeds=[0, 3], augmentation={"ratios": [1, 2]},
                 training={"max_steps": 400, "learning_rate": 1},
                 data={"drop": ["fnlwgt"]})
    assert spec.seeds == (0, 3) and spec.augmentation.ratios == (1.0, 2.0)
    assert spec.training.learning_rate == 1.0 and spec.data.drop == ("fnlwgt",)
    assert parse(seeds=3).seeds == (0, 1, 2)


# -- the data's modality -----------------------------------------------------------------------
def test_modality_is_inferred_from_the_source() -> None:
    assert parse().data.modality is None
    assert parse().data.resolved_modality == "tabular"
    assert infer_modality("adult") == "tabular"
    assert infer_modality("data/x.parquet") == "tabular"
    assert infer_modality("data/X.CSV.gz") == "tabular"
    assert infer_modality("reviews.jsonl") == "text"
    assert infer_modality("digits.npz") == "image"
    assert infer_modality("something") == "tabular"
    # an adapter's name says no modality: the runner checks its class's declared one
    assert parse(data={"source": "x.csv", "modality": "text"},
                 generator={"name": "sdv.ctgan"}).data.resolved_modality == "text"
    assert "data.modality" in problems(data={"modality": "video"})


def test_generator_and_model_of_another_modality_are_refused_naming_both() -> None:
    found = problems(data={"source": "reviews.jsonl"}, model={"name": "tabular.mlp"})
    assert set(found) == {"generator.name", "model.name"}
    assert "'tabular.copula' (the default) is a tabular generator" in found["generator.name"]
    assert "data is text" in found["generator.name"]
    assert "inferred from data.source 'reviews.jsonl'" in found["generator.name"]
    assert "'tabular.mlp' is a tabular downstream model" in found["model.name"]
    found = problems(data={"modality": "image"}, generator={"name": "tabular.gan"})
    assert "'tabular.gan' is a tabular generator, but this recipe's data is image " \
           "(data.modality = 'image')" in found["generator.name"]


def test_smote_is_the_classic_baseline_of_tables_only() -> None:
    assert parse().augmentation.baseline == "classic"
    assert parse(augmentation={"baseline": "smote"}).augmentation.baseline == "smote"
    found = problems(data={"source": "reviews.jsonl"}, generator={"name": "sdv.ctgan"},
                     augmentation={"baseline": "smote"})
    assert list(found) == ["augmentation.baseline"]
    assert "Use 'classic'" in found["augmentation.baseline"]


def test_model_name_defaults_to_the_task_and_is_still_checked() -> None:
    assert parse().model.name is None
    found = problems(model={"name": "tabular.mpl"})
    assert "Did you mean 'tabular.mlp'" in found["model.name"]


def test_invalid_toml_names_the_file() -> None:
    with pytest.raises(SpecError, match=r"mine\.toml: is not valid TOML"):
        loads_toml("name = \n", RecipeSpec, source="mine.toml")
