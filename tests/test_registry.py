"""The registries: did-you-mean lookups, listing by modality, refused duplicates and names."""

from __future__ import annotations

import pytest

from synthaug import get_generator, list_generators
from synthaug.exceptions import InvalidParameterError, UnknownComponentError
from synthaug.registry import Registry


def test_unknown_generator_suggests_close_names() -> None:
    with pytest.raises(UnknownComponentError, match=r"Did you mean 'tabular.copula'") as info:
        get_generator("tabular.copul")
    assert isinstance(info.value, KeyError)
    assert "tabular.copula" in info.value.suggestions


def test_list_generators_by_modality() -> None:
    assert "tabular.copula" in list_generators()
    assert list_generators("image") == [n for n in list_generators() if n.startswith("image.")]


def test_registry_refuses_duplicates_and_bad_names() -> None:
    reg: Registry[type] = Registry("thing", ())

    @reg.register("tabular.a")
    class A: ...

    with pytest.raises(InvalidParameterError, match="already registered"):
        reg.register("tabular.a")(type("B", (), {}))
    with pytest.raises(InvalidParameterError, match="must look like"):
        reg.register("NoDot")
    assert reg.names() == ["tabular.a"]


def test_bad_generator_param_is_clear() -> None:
    with pytest.raises(InvalidParameterError, match=r"tabular.copula"):
        get_generator("tabular.copula", epochz=3)
