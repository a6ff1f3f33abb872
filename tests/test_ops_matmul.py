"""Matrix product with PyTorch's rules: 1-D @ 1-D is a scalar, 1-D operands are promoted and the added
dim removed, batch dims broadcast. The forward agrees with a naive float64 triple loop, the gradients
(summed back over broadcast batch dims) with float64 finite differences, first and second order.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from helpers import SEEDS
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_cnn as tg
from tinygrad_cnn import Tensor, gradcheck, gradgradcheck
from tinygrad_cnn.testing.strategies import broadcastable_shapes, maybe_non_contiguous, non_contiguous


def leaf(a: np.ndarray) -> Tensor:
    return Tensor(a, requires_grad=True)


def naive_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """PyTorch's matmul semantics, spelled out with Python loops in float64."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    a2 = a[None, :] if a.ndim == 1 else a
    b2 = b[:, None] if b.ndim == 1 else b
    batch = np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
    a2 = np.broadcast_to(a2, batch + a2.shape[-2:])
    b2 = np.broadcast_to(b2, batch + b2.shape[-2:])
    n, k = a2.shape[-2:]
    m = b2.shape[-1]
    out = np.zeros(batch + (n, m))
    for bi in np.ndindex(*batch):
        for i in range(n):
            for j in range(m):
                total = 0.0
                for p in range(k):
                    total += a2[bi + (i, p)] * b2[bi + (p, j)]
                out[bi + (i, j)] = total
    if a.ndim == 1:
        out = out[..., 0, :]
    if b.ndim == 1:
        out = out[..., 0]
    return out


@st.composite
def matmul_shapes(draw: st.DrawFn, max_side: int = 3) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Operand shapes covering 1-D, 2-D and batched (broadcasting) cases."""
    n, k, m = (draw(st.integers(1, max_side)) for _ in range(3))
    batch_a, batch_b = draw(broadcastable_shapes(2, min_dims=0, max_dims=2, max_side=3))
    a_kind = draw(st.sampled_from(["vector", "matrix", "batched"]))
    b_kind = draw(st.sampled_from(["vector", "matrix", "batched"]))
    a = {"vector": (k,), "matrix": (n, k), "batched": batch_a + (n, k)}[a_kind]
    b = {"vector": (k,), "matrix": (k, m), "batched": batch_b + (k, m)}[b_kind]
    return a, b


@st.composite
def operands(draw: st.DrawFn, max_side: int = 3) -> tuple[np.ndarray, np.ndarray]:
    sa, sb = draw(matmul_shapes(max_side))
    return draw(maybe_non_contiguous(sa)), draw(maybe_non_contiguous(sb))


# -- forward --------------------------------------------------------------------------------------------


@given(operands())
def test_matmul_matches_a_naive_triple_loop(ab: tuple[np.ndarray, np.ndarray]) -> None:
    a, b = ab
    expected = naive_matmul(a, b)
    for out in (Tensor(a) @ Tensor(b), Tensor(a).matmul(Tensor(b)), tg.matmul(Tensor(a), Tensor(b))):
        assert out.shape == expected.shape
        assert out.dtype == np.float64
        np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    ("sa", "sb", "out_shape"),
    [
        ((3,), (3,), ()),
        ((2, 3), (3,), (2,)),
        ((3,), (3, 4), (4,)),
        ((2, 3), (3, 4), (2, 4)),
        ((5, 2, 3), (3,), (5, 2)),
        ((3,), (5, 3, 4), (5, 4)),
        ((2, 1, 3, 4), (5, 4, 2), (2, 5, 3, 2)),
        ((4, 2), (3, 1, 2, 1), (3, 1, 4, 1)),
        ((1, 2, 3), (4, 1, 3, 2), (4, 1, 2, 2)),
    ],
)
def test_matmul_output_shapes_follow_pytorch_rules(sa: tuple, sb: tuple, out_shape: tuple) -> None:
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)
    out = Tensor(a) @ Tensor(b)
    assert out.shape == out_shape
    np.testing.assert_allclose(out.data, naive_matmul(a, b), rtol=1e-12, atol=1e-12)


def test_matmul_with_a_numpy_operand_on_either_side() -> None:
    a, b = np.arange(6.0).reshape(2, 3), np.arange(12.0).reshape(3, 4)
    np.testing.assert_allclose((Tensor(a) @ b).data, a @ b)
    out = a @ Tensor(b)  # ndarray.__matmul__ defers to Tensor.__rmatmul__
    assert isinstance(out, Tensor)
    np.testing.assert_allclose(out.data, a @ b)


# -- gradients ------------------------------------------------------------------------------------------


@given(operands(), SEEDS)
def test_matmul_gradients_match_numerics_for_all_operand_ranks(ab: tuple[np.ndarray, np.ndarray], seed: int) -> None:
    a, b = ab
    fast = a.size + b.size > 64
    assert gradcheck(lambda x, y: x @ y, (leaf(a), leaf(b)), seed=seed, fast_mode=fast)
    # one operand a constant: only the other gets a gradient
    assert gradcheck(lambda x: x @ Tensor(b), (leaf(a),), seed=seed, fast_mode=fast)
    assert gradcheck(lambda y: Tensor(a) @ y, (leaf(b),), seed=seed, fast_mode=fast)


@given(operands(max_side=2), SEEDS)
def test_matmul_gradgradchecks(ab: tuple[np.ndarray, np.ndarray], seed: int) -> None:
    a, b = ab
    fast = a.size + b.size > 24
    assert gradgradcheck(lambda x, y: x @ y, (leaf(a), leaf(b)), seed=seed, fast_mode=fast)


@given(non_contiguous((2, 1, 5, 6)), non_contiguous((3, 6, 4)), SEEDS)
def test_matmul_fast_mode_gradcheck_on_larger_broadcast_non_contiguous_inputs(
    a: np.ndarray, b: np.ndarray, seed: int
) -> None:
    assert gradcheck(lambda x, y: x @ y, (leaf(a), leaf(b)), seed=seed, fast_mode=True)
    assert gradgradcheck(lambda x, y: x @ y, (leaf(a), leaf(b)), seed=seed, fast_mode=True)


def test_gradient_of_a_broadcast_batch_dim_is_summed_over_the_batch() -> None:
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((2, 1, 3, 4)), rng.standard_normal((5, 4, 2))
    x, y = leaf(a), leaf(b)
    g = rng.standard_normal((2, 5, 3, 2))
    (x @ y).backward(Tensor(g))
    assert x.grad.shape == a.shape and y.grad.shape == b.shape
    np.testing.assert_allclose(x.grad.data, np.einsum("bcij,ckj->bik", g, b)[:, None], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(y.grad.data, np.einsum("bxik,bcij->ckj", a, g), rtol=1e-12, atol=1e-12)


# -- dtype ----------------------------------------------------------------------------------------------


@given(st.data())
def test_float32_matmul_stays_float32_and_gradients_have_input_dtype_and_shape(data: st.DataObject) -> None:
    sa, sb = data.draw(matmul_shapes())
    a = data.draw(maybe_non_contiguous(sa, dtype=np.float32))
    b = data.draw(maybe_non_contiguous(sb, dtype=np.float32))
    x, y = leaf(a), leaf(b)
    out = x @ y
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data, naive_matmul(a, b), rtol=1e-5, atol=1e-5)
    g = np.random.default_rng(0).standard_normal(out.shape).astype(np.float32)
    out.backward(Tensor(g))
    assert x.grad.dtype == np.float32 and x.grad.shape == a.shape
    assert y.grad.dtype == np.float32 and y.grad.shape == b.shape


# -- bad input ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sa", "sb", "names"),
    [
        ((2, 3), (4, 2), ("2x3", "4x2")),
        ((3,), (4,), ("3", "4")),
        ((2, 3), (4,), ("2x3", "4")),
        ((3,), (4, 2), ("3", "4x2")),
        ((5, 2, 3), (5, 2, 3), ("5x2x3", "5x2x3")),
    ],
)
def test_inner_dim_mismatch_raises_runtime_error_naming_both_shapes(sa: tuple, sb: tuple, names: tuple) -> None:
    with pytest.raises(RuntimeError, match=rf"\({names[0]} and {names[1]}\)"):
        Tensor(np.zeros(sa)) @ Tensor(np.zeros(sb))


def test_non_broadcasting_batch_dims_raise_runtime_error_naming_both() -> None:
    with pytest.raises(RuntimeError, match=r"\(2,\).*\(3,\)"):
        Tensor(np.zeros((2, 2, 3))) @ Tensor(np.zeros((3, 3, 2)))


def test_zero_dim_operand_raises_runtime_error() -> None:
    with pytest.raises(RuntimeError, match="0D"):
        Tensor(np.array(1.0)) @ Tensor(np.zeros(3))
    with pytest.raises(RuntimeError, match="0D"):
        Tensor(np.zeros(3)) @ Tensor(np.array(1.0))


def test_matmul_with_a_python_scalar_raises_type_error() -> None:
    with pytest.raises(TypeError, match="scalar"):
        Tensor(np.zeros(3)) @ 2.0


@given(matmul_shapes(), st.integers(1, 3))
def test_any_inner_dim_mismatch_raises_runtime_error(shapes_: tuple[Any, Any], extra: int) -> None:
    sa, sb = shapes_
    sb = sb[:-2] + (sb[-2] + extra, sb[-1]) if len(sb) > 1 else (sb[0] + extra,)
    with pytest.raises(RuntimeError, match="cannot be multiplied"):
        Tensor(np.zeros(sa)) @ Tensor(np.zeros(sb))
