"""The Tensor API a PyTorch user expects: construction and dtype policy, factories, seeding,
metadata, conversion, operators and repr."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tc


# -- construction and dtype policy ---------------------------------------------------------------------
@pytest.mark.parametrize(
    "data, dtype",
    [
        (1.5, tc.float32),
        ([1.0, 2.0], tc.float32),
        ([1, 2.5], tc.float32),
        ([[1, 2], [3, 4]], tc.int64),
        (3, tc.int64),
        ([True, False], tc.bool),
        (np.array([1.0], dtype=np.float64), tc.float64),
        (np.array([1.0], dtype=np.float16), tc.float16),
        (np.array([1], dtype=np.int32), tc.int32),
    ],
)
def test_tensor_dtype_follows_pytorch_policy(data, dtype):
    assert tc.tensor(data).dtype == dtype


def test_tensor_copies_while_from_numpy_shares():
    a = np.arange(3.0)
    t, s = tc.tensor(a), tc.from_numpy(a)
    a[0] = 42
    assert t[0].item() == 0 and s[0].item() == 42
    assert s.numpy() is a  # numpy() gives the array itself, no copy


def test_tensor_with_explicit_dtype_and_requires_grad():
    t = tc.tensor([1, 2], dtype=tc.float64, requires_grad=True)
    assert t.dtype == tc.float64 and t.requires_grad and t.is_leaf
    assert tc.tensor([1.0], dtype="float16").dtype == tc.float16
    with pytest.raises(TypeError, match="dtype"):
        tc.tensor([1.0], dtype="complex64")


def test_ragged_or_non_numeric_data_is_rejected_clearly():
    with pytest.raises(ValueError, match="rectangular"):
        tc.tensor([[1.0], [1.0, 2.0]])
    with pytest.raises(ValueError, match="data"):  # PyTorch: ValueError for strings
        tc.tensor(["a", None])


@pytest.mark.parametrize("fn", [tc.zeros, tc.ones, tc.empty, tc.rand, tc.randn])
def test_factories_take_size_as_ints_or_tuple_with_dtype_and_requires_grad(fn):
    assert fn(2, 3).shape == (2, 3) and fn((2, 3)).shape == (2, 3) and fn([4]).shape == (4,)
    assert fn(2).dtype == tc.float32
    t = fn(2, 2, dtype=tc.float64, requires_grad=True)
    assert t.dtype == tc.float64 and t.requires_grad


def test_factory_values():
    assert tc.zeros(2, 2).numpy().sum() == 0 and tc.ones(3).numpy().sum() == 3
    np.testing.assert_array_equal(tc.full((2,), 7).numpy(), [7, 7])
    assert tc.full((2,), 7).dtype == tc.int64 and tc.full((2,), 0.5).dtype == tc.float32
    np.testing.assert_array_equal(tc.arange(5).numpy(), np.arange(5))
    assert tc.arange(5).dtype == tc.int64 and tc.arange(0, 1, 0.25).dtype == tc.float32
    np.testing.assert_allclose(tc.arange(1, 2, 0.25).numpy(), [1, 1.25, 1.5, 1.75])
    np.testing.assert_allclose(tc.linspace(0, 1, 5).numpy(), [0, 0.25, 0.5, 0.75, 1])
    np.testing.assert_array_equal(tc.eye(2, 3).numpy(), np.eye(2, 3))
    x = tc.randn(3, 2, dtype=tc.float64)
    assert tc.zeros_like(x).dtype == tc.float64 and tc.ones_like(x, dtype=tc.float32).dtype == tc.float32
    r = tc.randint(0, 10, (1000,))
    assert r.dtype == tc.int64 and 0 <= r.numpy().min() and r.numpy().max() < 10
    assert tc.randint(5, (3,)).numpy().max() < 5
    u = tc.rand(10000)
    assert 0 <= u.numpy().min() and u.numpy().max() < 1 and abs(u.numpy().mean() - 0.5) < 0.02


def test_factory_errors():
    with pytest.raises(RuntimeError, match="negative dimension"):
        tc.zeros(-1)
    with pytest.raises(TypeError, match="size"):
        tc.zeros(2.5)
    with pytest.raises(RuntimeError, match="step"):
        tc.arange(0, 3, 0)
    with pytest.raises(RuntimeError, match="floating point"):
        tc.zeros(2, dtype=tc.int64, requires_grad=True)


def test_manual_seed_makes_every_random_function_reproducible():
    def draw():
        return [tc.rand(3).numpy(), tc.randn(3).numpy(), tc.randint(0, 100, (3,)).numpy(), tc.randperm(5).numpy()]

    tc.manual_seed(123)
    a = draw()
    tc.manual_seed(123)
    b = draw()
    tc.manual_seed(124)
    c = draw()
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a[1], c[1])
    tc.manual_seed(5)
    state = tc.get_rng_state()
    first = tc.randn(4).numpy()
    tc.set_rng_state(state)
    np.testing.assert_array_equal(first, tc.randn(4).numpy())


# -- metadata and conversion -------------------------------------------------------------------------------
def test_metadata():
    t = tc.zeros(2, 3, 4)
    assert t.shape == (2, 3, 4) and t.size() == (2, 3, 4) and t.size(-1) == 4 and t.ndim == 3 and t.dim() == 3
    assert t.numel() == 24 and len(t) == 2 and t.dtype == tc.float32 and t.device == "cpu"
    with pytest.raises(TypeError, match="0-d"):
        len(tc.tensor(1.0))
    with pytest.raises(IndexError, match="range"):
        t.size(3)


def test_conversions_between_dtypes():
    x = tc.tensor([1.7, -2.2])
    assert x.double().dtype == tc.float64 and x.double().float().dtype == tc.float32
    np.testing.assert_array_equal(x.long().numpy(), [1, -2])
    assert x.to(tc.float64).dtype == tc.float64 and x.to("cpu") is x and x.to(tc.float32) is x


def test_float_conversion_is_differentiable():
    x = tc.tensor([1.0, 2.0], requires_grad=True)
    y = x.double() * 3
    y.sum().backward()
    assert x.grad.dtype == tc.float32
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])


def test_item_tolist_and_python_scalars():
    assert tc.tensor([[2.5]]).item() == 2.5 and isinstance(tc.tensor(3).item(), int)
    assert tc.tensor([[1, 2], [3, 4]]).tolist() == [[1, 2], [3, 4]]
    assert float(tc.tensor(1.5)) == 1.5 and int(tc.tensor(3)) == 3
    with pytest.raises(RuntimeError, match="2 elements"):
        tc.tensor([1.0, 2.0]).item()
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(tc.tensor([1.0, 2.0]))


def test_numpy_refused_on_tensor_requiring_grad():
    x = tc.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="detach"):
        x.numpy()
    assert x.detach().numpy()[0] == 1.0


# -- operators ---------------------------------------------------------------------------------------------------
def test_python_operators_and_reflected_forms():
    a = tc.tensor([1.0, 2.0, 4.0])
    np.testing.assert_allclose((a + 1).numpy(), [2, 3, 5])
    np.testing.assert_allclose((1 + a).numpy(), [2, 3, 5])
    np.testing.assert_allclose((1 - a).numpy(), [0, -1, -3])
    np.testing.assert_allclose((2 * a).numpy(), [2, 4, 8])
    np.testing.assert_allclose((4 / a).numpy(), [4, 2, 1])
    np.testing.assert_allclose((a**2).numpy(), [1, 4, 16])
    np.testing.assert_allclose((2**a).numpy(), [2, 4, 16])
    np.testing.assert_allclose((-a).numpy(), [-1, -2, -4])
    np.testing.assert_allclose(abs(-a).numpy(), [1, 2, 4])
    m = tc.tensor([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_allclose((m @ m).numpy(), [[7, 10], [15, 22]])
    np.testing.assert_allclose((np.eye(2, dtype=np.float32) @ m).numpy(), m.numpy())
    assert isinstance(np.ones(3, dtype=np.float32) + a, tc.Tensor)
    for r in (a + 1, 1 - a, 2 * a, 4 / a, a**2, 2**a):
        assert r.dtype == tc.float32


def test_comparisons_return_bool_tensors_without_grad():
    a = tc.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for r in (a > 1.5, a >= 2, a < 2, a <= 2, a == 2, a != 2):
        assert r.dtype == tc.bool and not r.requires_grad
    np.testing.assert_array_equal((a > 1.5).numpy(), [False, True, True])
    np.testing.assert_array_equal(((a > 1.5) & (a < 2.5)).numpy(), [False, True, False])
    np.testing.assert_array_equal((~(a > 1.5)).numpy(), [True, False, False])
    assert {a: 1}[a] == 1  # hashable by identity, like torch.Tensor


def test_repr_looks_like_pytorch():
    assert repr(tc.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(tc.tensor([1.5, 2.0])) == "tensor([1.5000, 2.0000])"
    assert repr(tc.tensor([1, 2])) == "tensor([1, 2])"
    assert repr(tc.tensor([1.0], requires_grad=True)) == "tensor([1.], requires_grad=True)"
    assert repr(tc.tensor([1.0], dtype=tc.float64)) == "tensor([1.], dtype=tinygrad_cnn.float64)"
    x = tc.tensor([1.0], requires_grad=True)
    assert repr(x * 2) == "tensor([2.], grad_fn=<MulBackward>)"


def test_setitem_outside_graph():
    t = tc.zeros(2, 3)
    t[0, 1:] = 5.0
    t[1] = tc.tensor([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(t.numpy(), [[0, 5, 5], [1, 2, 3]])
    x = tc.zeros(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="in-place"):
        x[0] = 1.0


def test_iteration_and_unbind():
    rows = list(tc.tensor([[1.0, 2.0], [3.0, 4.0]]))
    assert len(rows) == 2 and rows[1].tolist() == [3.0, 4.0]


def test_assigning_a_grad_checks_type_shape_and_dtype_as_torch() -> None:
    x = tc.zeros(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match="different size"):
        x.grad = tc.zeros(3)
    with pytest.raises(RuntimeError, match="different type"):
        x.grad = tc.zeros(2, 3, dtype=tc.float64)
    with pytest.raises(TypeError, match="Tensor or None"):
        x.grad = [[0.0] * 3] * 2  # type: ignore[assignment]
    assert x.grad is None  # nothing was assigned
    x.grad = tc.ones(2, 3)
    (x * 2).sum().backward()
    assert np.array_equal(x.grad.numpy(), np.full((2, 3), 3.0, dtype=np.float32))
    x.grad = None
    assert x.grad is None
