"""nn.utils: clip_grad_norm_ / clip_grad_value_ / parameters_to_vector / vector_to_parameters against PyTorch."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_cnn as tc
from tinygrad_cnn import Tensor, nn
from tinygrad_cnn.nn import utils


def torch_or_skip() -> Any:
    return pytest.importorskip("torch")


SHAPES = [(3, 4), (5,), (2, 3, 2), (1,)]


def params_with_grads(seed: int = 0, scale: float = 1.0, none_at: int | None = 2,
                      dtype: type = np.float32) -> tuple[list[nn.Parameter], list[Any]]:  # fmt: skip
    """The same parameters and gradients for us and for PyTorch (one gradient left None)."""
    torch = torch_or_skip()
    rng = np.random.default_rng(seed)
    ours, theirs = [], []
    for i, shape in enumerate(SHAPES):
        p = nn.Parameter(rng.standard_normal(shape).astype(dtype))
        t = torch.nn.Parameter(torch.tensor(p.data.copy()))
        if i != none_at:
            g = (rng.standard_normal(shape) * scale).astype(dtype)
            p.grad = Tensor(g.copy())
            t.grad = torch.tensor(g.copy())
        ours.append(p)
        theirs.append(t)
    return ours, theirs


def assert_grads_equal(ours: list[nn.Parameter], theirs: list[Any], rtol: float = 1e-6) -> None:
    for p, t in zip(ours, theirs):
        if t.grad is None:
            assert p.grad is None
        else:
            assert p.grad.dtype == t.grad.numpy().dtype
            np.testing.assert_allclose(p.grad.data, t.grad.numpy(), rtol=rtol, atol=1e-7)


@pytest.mark.parametrize("norm_type", [2.0, 1, 3.0, 0.5, math.inf, "inf", -math.inf, 0])
@pytest.mark.parametrize("max_norm", [0.5, 1e6])
def test_clip_grad_norm_matches_torch(norm_type: Any, max_norm: float) -> None:
    torch = torch_or_skip()
    ours, theirs = params_with_grads()
    total = utils.clip_grad_norm_(ours, max_norm, norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    assert isinstance(total, Tensor) and total.shape == () and total.dtype == np.float32
    np.testing.assert_allclose(total.data, expected.numpy(), rtol=1e-6)
    assert_grads_equal(ours, theirs)


@given(st.integers(0, 2**16), st.floats(0.01, 10), st.sampled_from([1.0, 2.0, math.inf]), st.booleans())
def test_clip_grad_norm_random_matches_torch(seed: int, max_norm: float, norm_type: float, double: bool) -> None:
    torch = torch_or_skip()
    ours, theirs = params_with_grads(seed, scale=seed % 7 + 0.1, none_at=seed % 5,
                                     dtype=np.float64 if double else np.float32)  # fmt: skip
    total = utils.clip_grad_norm_(iter(ours), max_norm, norm_type)  # a generator, as model.parameters()
    expected = torch.nn.utils.clip_grad_norm_(iter(theirs), max_norm, norm_type)
    assert total.dtype == (np.float64 if double else np.float32)
    np.testing.assert_allclose(total.data, expected.numpy(), rtol=1e-6)
    assert_grads_equal(ours, theirs)


def test_clip_grad_norm_scales_to_max_norm() -> None:
    p = nn.Parameter(np.zeros(4, np.float32))
    p.grad = Tensor(np.array([3.0, 4.0, 0.0, 0.0], np.float32))
    total = utils.clip_grad_norm_(p, 1.0)  # a single Tensor
    assert float(total) == 5.0
    np.testing.assert_allclose(p.grad.data, [0.6, 0.8, 0, 0], rtol=1e-5)
    assert p.grad.dtype == np.float32
    assert float(utils.clip_grad_norm_(p, 10.0)) == pytest.approx(1.0, rel=1e-5)
    np.testing.assert_allclose(p.grad.data, [0.6, 0.8, 0, 0], rtol=1e-5)  # below max_norm: unchanged


def test_clip_grad_norm_on_a_model() -> None:
    torch = torch_or_skip()
    tc.manual_seed(0)
    ours = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    theirs.load_state_dict({k: torch.tensor(v.data) for k, v in ours.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    (ours(Tensor(x)) ** 2).sum().backward()
    (theirs(torch.tensor(x)) ** 2).sum().backward()
    t1 = utils.clip_grad_norm_(ours.parameters(), 0.1)
    t2 = torch.nn.utils.clip_grad_norm_(theirs.parameters(), 0.1)
    np.testing.assert_allclose(t1.data, t2.numpy(), rtol=1e-5)
    assert_grads_equal(list(ours.parameters()), list(theirs.parameters()), rtol=1e-5)


def test_clip_grad_norm_edge_cases() -> None:
    torch = torch_or_skip()
    no_grads = [nn.Parameter(np.ones(3, np.float32))]
    total = utils.clip_grad_norm_(no_grads, 1.0)
    assert total.shape == () and float(total) == 0.0 and no_grads[0].grad is None
    assert float(utils.clip_grad_norm_([], 1.0)) == float(torch.nn.utils.clip_grad_norm_([], 1.0))
    ours, theirs = params_with_grads()
    ours[0].grad.data[0, 0] = np.nan
    theirs[0].grad[0, 0] = float("nan")
    with pytest.raises(RuntimeError, match="non-finite"):
        utils.clip_grad_norm_(ours, 1.0, error_if_nonfinite=True)
    assert not np.isnan(ours[1].grad.data).any()  # nothing scaled when it raises
    total = utils.clip_grad_norm_(ours, 1.0)
    expected = torch.nn.utils.clip_grad_norm_(theirs, 1.0)
    assert np.isnan(total.data) and np.isnan(expected.numpy())
    assert np.isnan(ours[1].grad.data).all() and torch.isnan(theirs[1].grad).all()  # scaled by nan, as PyTorch
    with pytest.raises(ValueError, match="norm_type"):
        utils.clip_grad_norm_(ours, 1.0, norm_type="two")


def test_get_total_norm_and_clip_grads_with_norm_match_torch() -> None:
    torch = torch_or_skip()
    ours, theirs = params_with_grads(3)
    total = utils.get_total_norm([p.grad for p in ours if p.grad is not None], 3.0)
    expected = torch.nn.utils.get_total_norm([t.grad for t in theirs if t.grad is not None], 3.0)
    np.testing.assert_allclose(total.data, expected.numpy(), rtol=1e-6)
    utils.clip_grads_with_norm_(ours, 0.3, total)
    torch.nn.utils.clip_grads_with_norm_(theirs, 0.3, expected)
    assert_grads_equal(ours, theirs)


@pytest.mark.parametrize("clip_value", [0.5, 1, 0.0])
def test_clip_grad_value_matches_torch(clip_value: float) -> None:
    torch = torch_or_skip()
    ours, theirs = params_with_grads(1, scale=2.0)
    assert utils.clip_grad_value_(ours, clip_value) is None
    torch.nn.utils.clip_grad_value_(theirs, clip_value)
    assert_grads_equal(ours, theirs)
    single = nn.Parameter(np.zeros(2, np.float64))
    single.grad = Tensor(np.array([-3.0, 0.25]))
    utils.clip_grad_value_(single, 0.5)
    assert single.grad.dtype == np.float64 and list(single.grad.data) == [-0.5, 0.25]
    with pytest.raises(TypeError, match="clip_value"):
        utils.clip_grad_value_(single, None)


def test_parameters_to_vector_and_back_match_torch() -> None:
    torch = torch_or_skip()
    ours, theirs = params_with_grads(2)
    vec = utils.parameters_to_vector(ours)
    expected = torch.nn.utils.parameters_to_vector(theirs)
    np.testing.assert_array_equal(vec.data, expected.detach().numpy())
    assert vec.shape == (sum(math.prod(s) for s in SHAPES),) and vec.dtype == np.float32
    new = np.random.default_rng(5).standard_normal(vec.shape).astype(np.float32)
    utils.vector_to_parameters(Tensor(new), ours)
    torch.nn.utils.vector_to_parameters(torch.tensor(new), theirs)
    for p, t in zip(ours, theirs):
        np.testing.assert_array_equal(p.data, t.detach().numpy())
        assert p.requires_grad and p.dtype == np.float32
    new[:] = 0  # copied, not shared
    assert not np.all(ours[0].data == 0)


def test_parameters_to_vector_is_differentiable() -> None:
    a, b = nn.Parameter(np.ones((2, 2), np.float32)), nn.Parameter(np.ones(3, np.float32))
    vec = utils.parameters_to_vector(iter([a, b]))
    (vec * Tensor(np.arange(7, dtype=np.float32))).sum().backward()
    np.testing.assert_array_equal(a.grad.data, [[0, 1], [2, 3]])
    np.testing.assert_array_equal(b.grad.data, [4, 5, 6])
    assert utils.parameters_to_vector(a).shape == (4,)  # a single tensor


def test_vector_to_parameters_errors() -> None:
    ps = [nn.Parameter(np.zeros((2, 2), np.float32))]
    with pytest.raises(TypeError, match="expected a Tensor"):
        utils.vector_to_parameters(np.zeros(4), ps)
    with pytest.raises(ValueError, match="4 elements"):
        utils.vector_to_parameters(Tensor(np.zeros(5, np.float32)), ps)
    with pytest.raises(ValueError, match="at least one"):
        utils.parameters_to_vector([])
    with pytest.raises(TypeError, match="expected Tensors"):
        utils.clip_grad_norm_([np.zeros(3)], 1.0)
