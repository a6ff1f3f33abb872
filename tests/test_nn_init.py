"""nn.init: calculate_gain and the fan rules equal PyTorch's; each initialiser fills in place (also a
Parameter, under no_grad) with the distribution PyTorch's formulas give; generators; argument errors."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_cnn as tc
from tinygrad_cnn import Tensor, nn
from tinygrad_cnn.nn import init


def torch_or_skip() -> Any:
    return pytest.importorskip("torch")


def empty(*shape: int, dtype: type = np.float32) -> nn.Parameter:
    return nn.Parameter(np.full(shape, np.nan, dtype=dtype))


NONLINEARITIES = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                  "conv_transpose3d", "sigmoid", "tanh", "relu", "leaky_relu", "selu"]  # fmt: skip


@pytest.mark.parametrize("param", [None, 0, 0.2, 1, 3.0, math.sqrt(5)])
@pytest.mark.parametrize("nonlinearity", NONLINEARITIES)
def test_calculate_gain_matches_torch(nonlinearity: str, param: float | None) -> None:
    torch = torch_or_skip()
    assert init.calculate_gain(nonlinearity, param) == torch.nn.init.calculate_gain(nonlinearity, param)


def test_calculate_gain_values_and_errors() -> None:
    assert init.calculate_gain("relu") == math.sqrt(2)
    assert init.calculate_gain("tanh") == 5 / 3
    assert init.calculate_gain("leaky_relu") == math.sqrt(2 / (1 + 0.01**2))
    assert init.calculate_gain("leaky_relu", math.sqrt(5)) == math.sqrt(1 / 3)
    with pytest.raises(ValueError, match="'softsign'"):
        init.calculate_gain("softsign")
    with pytest.raises(ValueError, match="negative_slope"):
        init.calculate_gain("leaky_relu", True)
    with pytest.raises(ValueError, match="negative_slope"):
        init.calculate_gain("leaky_relu", "0.1")


@given(st.lists(st.integers(0, 6), min_size=2, max_size=5))
def test_fan_in_and_fan_out_match_torch(shape: list[int]) -> None:
    torch = torch_or_skip()
    expected = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    assert init._calculate_fan_in_and_fan_out(Tensor(np.empty(shape, np.float32))) == expected


@pytest.mark.parametrize("shape", [(), (5,)])
def test_fan_needs_two_dims(shape: tuple) -> None:
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(Tensor(np.zeros(shape, np.float32)))
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.kaiming_uniform_(Tensor(np.zeros(shape or (1,), np.float32)))


# (initialiser, kwargs, torch's std formula from fan_in, fan_out, uniform?)
def xavier_std(fi: int, fo: int, gain: float = 1.0) -> float:
    return gain * math.sqrt(2 / (fi + fo))


def kaiming_std(fan: int, a: float = 0.0, nonlinearity: str = "leaky_relu") -> float:
    return init.calculate_gain(nonlinearity, a) / math.sqrt(fan)


CASES: list[tuple[str, dict, Callable[[int, int], float], bool]] = [
    ("xavier_uniform_", {}, lambda fi, fo: xavier_std(fi, fo), True),
    ("xavier_uniform_", {"gain": 2.5}, lambda fi, fo: xavier_std(fi, fo, 2.5), True),
    ("xavier_normal_", {}, lambda fi, fo: xavier_std(fi, fo), False),
    ("xavier_normal_", {"gain": 0.5}, lambda fi, fo: xavier_std(fi, fo, 0.5), False),
    ("kaiming_uniform_", {}, lambda fi, fo: kaiming_std(fi), True),
    ("kaiming_uniform_", {"a": math.sqrt(5)}, lambda fi, fo: kaiming_std(fi, math.sqrt(5)), True),
    ("kaiming_uniform_", {"mode": "fan_out", "nonlinearity": "relu"}, lambda fi, fo: kaiming_std(fo, 0, "relu"), True),
    ("kaiming_normal_", {}, lambda fi, fo: kaiming_std(fi), False),
    ("kaiming_normal_", {"mode": "FAN_OUT", "nonlinearity": "tanh"}, lambda fi, fo: kaiming_std(fo, 0, "tanh"), False),
    ("kaiming_normal_", {"a": 0.2, "nonlinearity": "leaky_relu"}, lambda fi, fo: kaiming_std(fi, 0.2), False),
]  # fmt: skip


@pytest.mark.parametrize("shape", [(300, 200), (64, 32, 3, 3), (48, 40, 7)])
@pytest.mark.parametrize(("fn", "kwargs", "std_of", "uniform"), CASES)
def test_initialiser_statistics(fn: str, kwargs: dict, std_of: Callable, uniform: bool, shape: tuple) -> None:
    rf = math.prod(shape[2:])
    fan_in, fan_out = shape[1] * rf, shape[0] * rf
    std = std_of(fan_in, fan_out)
    tc.manual_seed(0)
    p = empty(*shape)
    assert getattr(init, fn)(p, **kwargs) is p
    w = p.data
    assert w.dtype == np.float32 and np.isfinite(w).all()
    assert abs(w.std() - std) < 0.03 * std
    assert abs(w.mean()) < 0.05 * std
    if uniform:
        bound = math.sqrt(3) * std
        assert np.abs(w).max() <= np.float32(bound) and np.abs(w).max() > 0.99 * bound
    else:
        assert np.abs(w).max() > 3 * std  # normal tails, not a uniform


@pytest.mark.parametrize(("fn", "kwargs", "std_of", "uniform"), CASES)
def test_std_formula_equals_torch(fn: str, kwargs: dict, std_of: Callable, uniform: bool) -> None:
    """Our expected std equals the one PyTorch's own initialiser produces (sampled on a large tensor)."""
    torch = torch_or_skip()
    torch.manual_seed(0)
    t = getattr(torch.nn.init, fn)(torch.empty(256, 128, 3), **kwargs)
    assert abs(float(t.std()) - std_of(128 * 3, 256 * 3)) < 0.02 * std_of(128 * 3, 256 * 3)


def test_simple_fills() -> None:
    p = empty(3, 4)
    assert init.constant_(p, 0.5) is p and np.all(p.data == 0.5)
    assert init.ones_(p) is p and np.all(p.data == 1)
    assert init.zeros_(p) is p and np.all(p.data == 0)
    tc.manual_seed(1)
    u = init.uniform_(empty(10000), -2, 3).data
    assert u.min() >= -2 and u.max() <= 3 and abs(u.mean() - 0.5) < 0.05
    n = init.normal_(empty(10000), 1.0, 0.5).data
    assert abs(n.mean() - 1) < 0.02 and abs(n.std() - 0.5) < 0.02
    ints = Tensor(np.zeros(3, np.int64))
    assert np.all(init.ones_(ints).data == 1) and init.ones_(ints).dtype == np.int64


def test_in_place_on_parameters_under_no_grad() -> None:
    p = nn.Parameter(np.zeros((4, 3), np.float32))
    version = p._version
    with tc.enable_grad():
        init.kaiming_uniform_(p)
    assert p.requires_grad and p.grad_fn is None and p._version > version
    assert tc.is_grad_enabled()
    with pytest.raises(RuntimeError, match="in-place"):
        p.uniform_()  # outside no_grad the Tensor method itself refuses


def test_generators_and_seeding() -> None:
    g1, g2 = tc.Generator(7), tc.Generator(7)
    a = init.xavier_normal_(empty(5, 6), generator=g1).data
    b = init.xavier_normal_(empty(5, 6), generator=g2).data
    np.testing.assert_array_equal(a, b)
    tc.manual_seed(3)
    c = init.kaiming_uniform_(empty(5, 6)).data
    tc.manual_seed(3)
    np.testing.assert_array_equal(init.kaiming_uniform_(empty(5, 6)).data, c)
    state = tc.get_rng_state()
    init.uniform_(empty(3), generator=tc.Generator(1))
    assert tc.get_rng_state()["bit_generator"] == state["bit_generator"]  # a given generator leaves the global one


def test_float64_stays_float64() -> None:
    p = empty(20, 30, dtype=np.float64)
    assert init.kaiming_normal_(p).dtype == np.float64 and np.isfinite(p.data).all()


def test_zero_element_tensors_are_a_no_op_with_a_warning() -> None:
    p = empty(0, 3)
    for fn in (init.kaiming_uniform_, init.kaiming_normal_):
        with pytest.warns(UserWarning, match="zero-element"):
            assert fn(p) is p
    with pytest.warns(UserWarning, match="zero-element"):  # as PyTorch: no inputs, bias bound 0
        m = nn.Linear(0, 3)
    assert m.weight.shape == (3, 0) and np.all(m.bias.data == 0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        init.xavier_uniform_(empty(2, 3))  # no warning on ordinary tensors


@pytest.mark.parametrize(
    ("call", "exc", "pattern"),
    [
        (lambda: init.kaiming_uniform_(empty(3, 3), mode="fan_avg"), ValueError, "'fan_avg'"),
        (lambda: init.kaiming_normal_(empty(3, 3), mode=None), ValueError, "mode"),
        (lambda: init.kaiming_uniform_(empty(3, 3), nonlinearity="swish"), ValueError, "'swish'"),
        (lambda: init.kaiming_normal_(empty(3, 3), nonlinearity="gelu"), ValueError, "'gelu'"),
        (lambda: init.uniform_(np.zeros(3)), TypeError, "Tensor"),
        (lambda: init.normal_(Tensor(np.zeros(3, np.int64))), TypeError, "floating"),
        (lambda: init.xavier_uniform_(empty(3)), ValueError, "fewer than 2 dimensions"),
        (lambda: init.xavier_uniform_(empty(0, 0)), ValueError, "fan_in \\+ fan_out"),
    ],
)
def test_errors(call: Callable[[], Any], exc: type, pattern: str) -> None:
    with pytest.raises(exc, match=pattern):
        call()
