from __future__ import annotations

import pytest
import torch

from synthaug import get_generator, list_generators
from synthaug.exceptions import DeviceError, InvalidParameterError, UnknownComponentError
from synthaug.registry import Registry
from synthaug.utils.device import resolve_device
from synthaug.utils.random import check_random_state


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


def test_device_resolution() -> None:
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type in ("cpu", "cuda")
    with pytest.raises(DeviceError, match="not understood"):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(DeviceError, match="no usable CUDA"):
            resolve_device("cuda")
        with pytest.raises(DeviceError):
            get_generator("tabular.copula", device="cuda:1").fit(
                __import__("pandas").DataFrame({"a": [1.0, 2.0, 3.0]})
            )


def test_random_state_checks() -> None:
    a = check_random_state(1).random(3)
    b = check_random_state(1).random(3)
    assert (a == b).all()
    with pytest.raises(InvalidParameterError):
        check_random_state(-1)
    with pytest.raises(InvalidParameterError):
        check_random_state("seed")  # type: ignore[arg-type]
