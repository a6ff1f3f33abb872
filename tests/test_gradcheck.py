"""gradcheck / gradgradcheck: pass on correct ops, catch wrong backwards, leave the caller's data alone."""

from __future__ import annotations

import re

import numpy as np
import pytest

from tinygrad_cnn.autograd import Function
from tinygrad_cnn.autograd.gradcheck import GradcheckError, gradcheck, gradgradcheck
from tinygrad_cnn.tensor import Tensor


def leaf(*shape: int, seed: int = 0, dtype: type = np.float64) -> Tensor:
    return Tensor(np.random.default_rng(seed).standard_normal(shape).astype(dtype), requires_grad=True)


# -- deliberately broken ops ---------------------------------------------------------------------


class WrongFactor(Function):
    """x**2 whose backward is off by a factor 1.5."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.data**2

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * x * 3.0


class IgnoresUpstream(Function):
    """2x whose backward returns 2 * ones, whatever the incoming gradient."""

    @staticmethod
    def forward(ctx, x):
        ctx.shape = x.shape
        return 2.0 * x.data

    @staticmethod
    def backward(ctx, grad):
        return Tensor(np.full(ctx.shape, 2.0))


class SumIgnoresUpstream(Function):
    """sum(x) whose backward returns ones: right for grad == 1, wrong for any other upstream gradient."""

    @staticmethod
    def forward(ctx, x):
        ctx.shape = x.shape
        return np.asarray(x.data.sum())

    @staticmethod
    def backward(ctx, grad):
        return Tensor(np.ones(ctx.shape))


class WrongShape(Function):
    """Elementwise 3x whose backward returns one gradient element too many."""

    @staticmethod
    def forward(ctx, x):
        ctx.size = x.data.size
        return 3.0 * x.data

    @staticmethod
    def backward(ctx, grad):
        return Tensor(np.full(ctx.size + 1, 3.0))


class Cube(Function):
    """x**3 with a backward made of Tensor ops on the saved input: differentiable twice."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.data**3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3.0 * x * x


class CubeDetached(Function):
    """x**3 whose backward uses a detached x: right to first order, wrong double backward."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.data**3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        xd = x.detach()
        return grad * 3.0 * xd * xd


# -- gradcheck passes on correct ops ----------------------------------------------------------------

CORRECT = {
    "mul": (lambda x, y: x * y, lambda: (leaf(3, 4, seed=1), leaf(3, 4, seed=2))),
    "exp": (lambda x: x.exp(), lambda: (leaf(2, 3, seed=3),)),
    "matmul": (lambda a, b: a @ b, lambda: (leaf(3, 4, seed=4), leaf(4, 2, seed=5))),
    "broadcast_mul": (lambda x, y: x * y, lambda: (leaf(3, 1, seed=6), leaf(4, seed=7))),
    "cube": (Cube.apply, lambda: (leaf(5, seed=8),)),
}


@pytest.mark.parametrize("fast_mode", [False, True], ids=["full", "fast"])
@pytest.mark.parametrize("name", sorted(CORRECT))
def test_gradcheck_passes_on_correct_ops(name: str, fast_mode: bool) -> None:
    fn, make = CORRECT[name]
    assert gradcheck(fn, make(), fast_mode=fast_mode, seed=0) is True


def test_gradcheck_accepts_a_single_tensor_and_float32() -> None:
    x = leaf(4, dtype=np.float32)
    assert gradcheck(lambda t: t * t, x, seed=0)


def test_gradcheck_passes_non_tensor_inputs_through() -> None:
    assert gradcheck(lambda x, k: x * k, (leaf(3), 2.5), seed=0)


def test_gradcheck_multiple_outputs_and_unused_inputs() -> None:
    x, y = leaf(3, seed=1), leaf(2, seed=2)  # y is unused by the first output, x by the second
    const = Tensor(np.ones(2))  # an output that depends on no input: zero Jacobian

    def fn(a: Tensor, b: Tensor) -> tuple:
        return a.exp(), b * b, const, "not a tensor"

    assert gradcheck(fn, (x, y), seed=0)
    assert gradcheck(fn, (x, y), fast_mode=True, seed=0)


def test_gradcheck_requires_an_input_requiring_grad() -> None:
    with pytest.raises(ValueError, match="require grad"):
        gradcheck(lambda x: x * 2, Tensor(np.ones(3)))


# -- gradcheck catches wrong backwards ------------------------------------------------------------


def test_wrong_factor_names_input_output_and_element() -> None:
    x, y = leaf(2, 3, seed=1), leaf(2, 3, seed=2)
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda a, b: a + WrongFactor.apply(b), (x, y), seed=0)
    message = str(info.value)
    assert "output 0" in message
    assert "input 1" in message
    assert re.search(r"input element \(\d, \d\)", message)
    assert "analytic" in message and "numeric" in message


@pytest.mark.parametrize("fast_mode", [False, True], ids=["full", "fast"])
@pytest.mark.parametrize(
    "fn, shape",
    [
        (WrongFactor.apply, (3,)),
        (IgnoresUpstream.apply, (3,)),
        (IgnoresUpstream.apply, ()),  # one output element: only the random upstream gradient exposes it
        (SumIgnoresUpstream.apply, (2, 2)),  # scalar output: idem
        (WrongShape.apply, (4,)),
    ],
    ids=["factor", "ignores_upstream", "ignores_upstream_0d", "sum_ignores_upstream", "wrong_shape"],
)
def test_gradcheck_catches_wrong_backward(fn, shape: tuple, fast_mode: bool) -> None:
    x = leaf(*shape, seed=3)
    with pytest.raises(GradcheckError, match="input 0"):
        gradcheck(fn, x, fast_mode=fast_mode, seed=0)
    assert gradcheck(fn, x, fast_mode=fast_mode, seed=0, raise_exception=False) is False


@pytest.mark.parametrize("fast_mode", [False, True], ids=["full", "fast"])
@pytest.mark.parametrize(
    "bad_grad, what",
    [
        (lambda g: Tensor(g.data.astype(np.float32)), "dtype float32"),
        (lambda g: Tensor(np.ones(g.shape[0] + 1)), "shape"),
    ],
    ids=["dtype", "shape"],
)
def test_gradient_shape_and_dtype_are_checked(bad_grad, what: str, fast_mode: bool) -> None:
    # A hook on the input leaf tries to replace its gradient by one of the wrong shape or dtype: the engine
    # refuses it, and gradcheck reports the failed backward as a GradcheckError naming the problem.
    def fn(a: Tensor) -> Tensor:
        a.register_hook(bad_grad)
        return a * 2.0

    with pytest.raises(GradcheckError, match=f"(?s)backward.*{what.split()[0]}"):
        gradcheck(fn, leaf(4), fast_mode=fast_mode, seed=0)
    assert not gradcheck(fn, leaf(4), fast_mode=fast_mode, seed=0, raise_exception=False)


@pytest.mark.parametrize("seed", range(5))
def test_upstream_ignoring_backward_is_caught_for_any_seed(seed: int) -> None:
    assert not gradcheck(SumIgnoresUpstream.apply, leaf(3), seed=seed, raise_exception=False)
    assert not gradcheck(SumIgnoresUpstream.apply, leaf(3), seed=seed, fast_mode=True, raise_exception=False)


def test_full_mode_message_names_element_of_a_vjp_failure() -> None:
    with pytest.raises(GradcheckError, match=r"vector-Jacobian product.*input element \(\d, \d\)"):
        gradcheck(SumIgnoresUpstream.apply, leaf(2, 2), seed=0)


# -- gradgradcheck ----------------------------------------------------------------------------------


@pytest.mark.parametrize("fast_mode", [False, True], ids=["full", "fast"])
@pytest.mark.parametrize(
    "fn, make",
    [
        (lambda x, y: x * y, lambda: (leaf(2, 3, seed=1), leaf(2, 3, seed=2))),
        (lambda x: x.exp(), lambda: (leaf(3, seed=3),)),
        (lambda a, b: a @ b, lambda: (leaf(2, 3, seed=4), leaf(3, 2, seed=5))),
        (lambda x: (x * x * x).exp(), lambda: (leaf(3, seed=6),)),
        (Cube.apply, lambda: (leaf(4, seed=7),)),
    ],
    ids=["mul", "exp", "matmul", "exp_cube", "cube_function"],
)
def test_gradgradcheck_passes_on_smooth_ops(fn, make, fast_mode: bool) -> None:
    assert gradgradcheck(fn, make(), fast_mode=fast_mode, seed=0) is True


def test_gradgradcheck_with_given_grad_outputs() -> None:
    g = Tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True)
    assert gradgradcheck(lambda x: x.exp(), leaf(3), (g,), seed=0)


@pytest.mark.parametrize("fast_mode", [False, True], ids=["full", "fast"])
def test_gradgradcheck_catches_detached_intermediate(fast_mode: bool) -> None:
    x = leaf(4, seed=9)
    assert gradcheck(CubeDetached.apply, x, fast_mode=fast_mode, seed=0)  # first order is right
    with pytest.raises(GradcheckError, match="input 0"):
        gradgradcheck(CubeDetached.apply, x, fast_mode=fast_mode, seed=0)
    assert gradgradcheck(CubeDetached.apply, x, fast_mode=fast_mode, seed=0, raise_exception=False) is False


# -- the caller's data -------------------------------------------------------------------------------


@pytest.mark.parametrize("gradcheck_fn", [gradcheck, gradgradcheck])
@pytest.mark.parametrize("fast_mode", [False, True], ids=["full", "fast"])
def test_inputs_are_left_unmodified(gradcheck_fn, fast_mode: bool) -> None:
    a = np.random.default_rng(0).standard_normal((4, 3))
    x = Tensor(a.T, requires_grad=True)  # float64, non-contiguous: used without copy
    y = Tensor(np.random.default_rng(1).standard_normal((3, 4)).astype(np.float32), requires_grad=True)
    before_a, before_y = a.copy(), y.data.copy()
    assert gradcheck_fn(lambda p, q: (p * q).exp(), (x, y), fast_mode=fast_mode, seed=0)
    np.testing.assert_array_equal(a, before_a)
    np.testing.assert_array_equal(y.data, before_y)
    assert x.data.base is a and y.data.dtype == np.float32
    assert x.grad is None and y.grad is None


def test_non_contiguous_layout_reaches_fn() -> None:
    base = np.random.default_rng(0).standard_normal((3, 8))
    x = Tensor(base[:, ::-2], requires_grad=True)  # negative, stepped strides
    layouts = []

    def fn(t: Tensor) -> Tensor:
        layouts.append((t.data.strides, t.data.flags.c_contiguous))
        return t * t

    assert gradcheck(fn, x, seed=0)
    assert layouts and all(strides == x.data.strides and not c for strides, c in layouts)
