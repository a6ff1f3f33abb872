"""The backward engine: accumulation, reuse, graph freeing, grad modes, hooks, anomaly mode, custom
Functions, autograd.grad, double backward, and a 100,000-op chain."""

from __future__ import annotations

import gc
import warnings
import weakref

import numpy as np
import pytest

import tinygrad_cnn as tc
from tinygrad_cnn.autograd import Function


def leaf(values, dtype=np.float64):
    return tc.tensor(np.asarray(values, dtype=dtype), requires_grad=True)


# -- accumulation and reuse ------------------------------------------------------------------------------
def test_gradients_accumulate_across_backward_calls_until_zeroed():
    x = leaf([1.0, 2.0])
    (x * 3).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [6.0, 6.0])
    x.grad.zero_()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])
    x.grad = None
    (x * 5).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [5.0, 5.0])


def test_a_tensor_used_many_times_gets_the_sum_of_its_gradients():
    x = leaf([1.5, -2.0, 0.5])
    y = x * 2
    out = y + y * y + y.exp() + y  # y feeds four consumers
    w = np.array([0.3, -1.2, 2.0])
    out.backward(tc.tensor(w))
    yv = 2 * x.data
    expected = w * 2 * (1 + 2 * yv + np.exp(yv) + 1)
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-12)


def test_diamond_graph_sums_both_paths():
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    a = x.sin()
    b = x.cos()
    (a * b).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.cos(2 * x.data), rtol=1e-12)


def test_non_scalar_backward_needs_a_gradient():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="scalar outputs"):
        (x * 2).backward()


def test_gradient_shape_must_match_output():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="shape"):
        (x * 2).backward(tc.tensor([1.0, 2.0, 3.0], dtype=tc.float64))


def test_backward_on_tensor_without_graph_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        tc.tensor([1.0]).sum().backward()


# -- graph freeing -----------------------------------------------------------------------------------------
def test_second_backward_through_freed_graph_raises():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_second_backward_through_freed_graph_raises_even_without_saved_tensors():
    x = leaf([1.0, 2.0])
    y = (x + 1).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 8.0])


def test_saved_tensors_are_released_after_backward():
    x = leaf(np.random.default_rng(0).standard_normal((4, 4)))
    h = (x @ x).tanh()
    h_ref = weakref.ref(h)
    loss = h.sum()
    node = h.grad_fn
    del h
    loss.backward()
    assert node._saved is None
    gc.collect()
    assert h_ref() is None  # the output tanh saved is gone once the graph is freed


def test_accessing_saved_tensors_after_release_raises():
    x = leaf([1.0, 2.0])
    y = x.exp()
    y.sum().backward()
    with pytest.raises(RuntimeError, match="freed"):
        y.grad_fn.saved_tensors  # noqa: B018


# -- grad modes ---------------------------------------------------------------------------------------------
def test_no_grad_context_records_nothing():
    x = leaf([1.0])
    with tc.no_grad():
        assert not tc.is_grad_enabled()
        y = x * 2
    assert tc.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None


def test_no_grad_and_enable_grad_as_decorators():
    x = leaf([1.0])

    @tc.no_grad()
    def f(t):
        return t * 2

    @tc.enable_grad()
    def g(t):
        return t * 2

    assert not f(x).requires_grad
    with tc.no_grad():
        assert g(x).requires_grad
    assert tc.is_grad_enabled()


def test_set_grad_enabled_as_function_context_and_decorator():
    x = leaf([1.0])
    tc.set_grad_enabled(False)
    try:
        assert not (x * 2).requires_grad
    finally:
        tc.set_grad_enabled(True)
    with tc.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert tc.is_grad_enabled()

    @tc.set_grad_enabled(False)
    def f(t):
        return t * 2

    assert tc.is_grad_enabled()  # decorating does not switch the mode
    assert not f(x).requires_grad
    assert tc.is_grad_enabled()


def test_no_grad_restores_mode_after_exception():
    with pytest.raises(ValueError):
        with tc.no_grad():
            raise ValueError
    assert tc.is_grad_enabled()


def test_detach_cuts_the_graph_and_shares_data():
    x = leaf([1.0, 2.0])
    y = x * 2
    d = y.detach()
    assert not d.requires_grad and d.grad_fn is None
    assert np.shares_memory(d.data, y.data)
    (d * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])  # d is a constant


def test_only_floating_tensors_can_require_grad():
    with pytest.raises(RuntimeError, match="floating point"):
        tc.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError, match="floating point"):
        tc.arange(3).requires_grad_()


def test_requires_grad_cannot_be_changed_on_non_leaf():
    y = leaf([1.0]) * 2
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad = False


# -- in-place operations -----------------------------------------------------------------------------------
def test_in_place_on_leaf_requiring_grad_is_refused():
    x = leaf([1.0, 2.0])
    for op in (lambda: x.add_(1), lambda: x.mul_(2), lambda: x.zero_(), lambda: x.copy_(tc.tensor([3.0, 4.0]))):
        with pytest.raises(RuntimeError, match="in-place"):
            op()
    with pytest.raises(RuntimeError, match="in-place"):
        x += 1


def test_in_place_allowed_under_no_grad_and_outside_the_graph():
    x = leaf([1.0, 2.0])
    with tc.no_grad():
        x -= 0.5
        x.mul_(2)
    np.testing.assert_allclose(x.data, [1.0, 3.0])
    assert x.requires_grad and x.is_leaf
    c = tc.tensor([1.0, 2.0])
    c += 1
    c.add_(tc.tensor([1.0, 1.0]), alpha=2)
    np.testing.assert_allclose(c.numpy(), [4.0, 5.0])


def test_in_place_change_of_a_saved_tensor_is_detected():
    x = leaf([1.0, 2.0])
    c = tc.tensor([3.0, 4.0], dtype=tc.float64)
    y = (x * c).sum()
    c.mul_(10)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_in_place_type_error_is_clear():
    i = tc.tensor([1, 2])
    with pytest.raises(RuntimeError, match="in place"):
        i.add_(0.5)


# -- hooks ---------------------------------------------------------------------------------------------------
def test_leaf_hook_sees_and_can_replace_the_gradient():
    x = leaf([1.0, 2.0])
    seen = []
    x.register_hook(lambda g: seen.append(g.numpy().copy()))
    handle = x.register_hook(lambda g: g * 10)
    (x * 3).sum().backward()
    np.testing.assert_allclose(seen[0], [3.0, 3.0])
    np.testing.assert_allclose(x.grad.numpy(), [30.0, 30.0])
    handle.remove()
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])


def test_non_leaf_hook_replaces_the_gradient_flowing_on():
    x = leaf([1.0, 2.0])
    y = x * 2
    y.register_hook(lambda g: g * 0 + 1.0)
    (y * tc.tensor([5.0, 7.0], dtype=tc.float64)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0])


def test_retain_grad_keeps_the_gradient_of_a_non_leaf():
    x = leaf([1.0, 2.0])
    y = x * 2
    y.retain_grad()
    z = x * 3
    (y * y).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), [4.0, 8.0])
    assert z.grad is None


def test_register_hook_needs_requires_grad():
    with pytest.raises(RuntimeError):
        tc.tensor([1.0]).register_hook(lambda g: g)


# -- anomaly mode ------------------------------------------------------------------------------------------------
def test_detect_anomaly_names_the_op_and_the_user_line_that_made_nan():
    x = leaf([0.0, 1.0])
    with tc.detect_anomaly():
        y = x.sqrt()  # d sqrt / dx at 0 is inf; times a zero upstream gives nan
        loss = (y * tc.tensor([0.0, 1.0], dtype=tc.float64)).sum()
        with pytest.raises(RuntimeError) as info:
            loss.backward()
    msg = str(info.value)
    assert "SqrtBackward" in msg and "nan" in msg
    assert "test_autograd_engine.py" in msg and "x.sqrt()" in msg


def test_without_anomaly_mode_nan_propagates_silently():
    x = leaf([0.0, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no numpy RuntimeWarning either, as in PyTorch
        (x.sqrt() * tc.tensor([0.0, 1.0], dtype=tc.float64)).sum().backward()
    assert np.isnan(x.grad.numpy()[0])


# -- custom Functions --------------------------------------------------------------------------------------------
class ScaledCube(Function):
    """y = scale * x**3 with a non-tensor argument."""

    @staticmethod
    def forward(ctx, x, scale):
        ctx.save_for_backward(x)
        ctx.scale = scale
        return scale * x.data**3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * ctx.scale * x * x, None


class SplitSign(Function):
    """Two outputs: the positive and the negative part."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.maximum(x.data, 0), np.minimum(x.data, 0)

    @staticmethod
    def backward(ctx, g_pos, g_neg):
        (x,) = ctx.saved_tensors
        pos = tc.tensor(x.data > 0)
        return g_pos * pos + g_neg * ~pos


def test_custom_function_forward_backward_and_needs_input_grad():
    x = leaf([1.0, -2.0])
    y = ScaledCube.apply(x, 2.0)
    assert y.grad_fn.name() == "ScaledCubeBackward"
    assert y.grad_fn.needs_input_grad == (True, False)
    y.backward(tc.tensor([1.0, 0.5], dtype=tc.float64))
    np.testing.assert_allclose(x.grad.numpy(), [6.0, 12.0])
    assert tc.gradcheck(lambda t: ScaledCube.apply(t, 0.5), (leaf([0.3, -1.1, 2.0]),))
    assert tc.gradgradcheck(lambda t: ScaledCube.apply(t, 0.5), (leaf([0.3, -1.1, 2.0]),))


def test_custom_function_with_two_outputs_and_one_unused():
    x = leaf([1.0, -2.0, 3.0])
    pos, neg = SplitSign.apply(x)
    (pos * 2).sum().backward()  # neg's gradient is materialised as zeros
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 0.0, 2.0])


def test_custom_function_returning_wrong_gradient_shape_or_count_is_an_error():
    class BadShape(Function):
        @staticmethod
        def forward(ctx, x):
            return x.data * 2

        @staticmethod
        def backward(ctx, grad):
            return grad.sum()

    class BadCount(Function):
        @staticmethod
        def forward(ctx, x, y):
            return x.data * y.data

        @staticmethod
        def backward(ctx, grad):
            return grad

    with pytest.raises(RuntimeError, match="invalid gradient"):
        BadShape.apply(leaf([1.0, 2.0])).sum().backward()
    with pytest.raises(RuntimeError, match="incorrect number of gradients"):
        BadCount.apply(leaf([1.0]), leaf([2.0])).sum().backward()


def test_function_without_inputs_requiring_grad_records_nothing():
    y = ScaledCube.apply(tc.tensor([1.0, 2.0]), 2.0)
    assert y.grad_fn is None and not y.requires_grad
    np.testing.assert_allclose(y.numpy(), [2.0, 16.0])


# -- autograd.grad ------------------------------------------------------------------------------------------------
def test_autograd_grad_returns_gradients_without_touching_dot_grad():
    x, w = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    (gx,) = tc.autograd.grad((x * w).sum(), x)
    np.testing.assert_allclose(gx.numpy(), [3.0, 4.0])
    assert x.grad is None and w.grad is None


def test_autograd_grad_of_a_non_leaf_input():
    x = leaf([1.0, 2.0])
    h = x * 3
    (gh,) = tc.autograd.grad((h * h).sum(), h)
    np.testing.assert_allclose(gh.numpy(), [6.0, 12.0])


def test_autograd_grad_unused_input_and_allow_unused():
    x, z = leaf([1.0]), leaf([2.0])
    with pytest.raises(RuntimeError, match="not have been used"):
        tc.autograd.grad((x * 2).sum(), (x, z))
    gx, gz = tc.autograd.grad((x * 2).sum(), (x, z), allow_unused=True)
    assert gz is None and gx.item() == 2.0


def test_autograd_grad_input_must_require_grad():
    x = leaf([1.0])
    with pytest.raises(RuntimeError, match="does not require grad"):
        tc.autograd.grad((x * 2).sum(), tc.tensor([1.0]))


def test_autograd_grad_with_grad_outputs_for_several_outputs():
    x = leaf([1.0, 2.0])
    a, b = x * 2, x * x
    weights = (tc.tensor([1.0, 1.0], dtype=tc.float64), tc.tensor([0.5, 2.0], dtype=tc.float64))
    (g,) = tc.autograd.grad((a, b), x, weights)
    np.testing.assert_allclose(g.numpy(), [2 + 1.0, 2 + 8.0])


def test_backward_with_inputs_only_accumulates_into_those():
    x, w = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    (x * w).sum().backward(inputs=[w])
    assert x.grad is None
    np.testing.assert_allclose(w.grad.numpy(), [1.0, 2.0])


# -- double backward ---------------------------------------------------------------------------------------------
def test_create_graph_gives_differentiable_gradients():
    x = leaf([0.5, -1.5, 2.0])
    (g,) = tc.autograd.grad((x**3).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), 3 * x.data**2)
    (h,) = tc.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(h.numpy(), 6 * x.data)


def test_backward_create_graph_makes_dot_grad_differentiable():
    x = leaf([0.5, 2.0])
    (x.exp() * x).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    g = x.grad
    x.grad = None
    g.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp(x.data) * (x.data + 2), rtol=1e-12)


def test_gradient_without_create_graph_carries_no_graph():
    x = leaf([0.5, 2.0])
    (x.exp() * x).sum().backward()
    assert not x.grad.requires_grad and x.grad.grad_fn is None


# -- scale ---------------------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_chain_of_100000_ops_backpropagates_without_recursion_error():
    x = leaf([1.0])
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y = y + 0.0
    y.sum().backward()
    assert x.grad.item() == 1.0


def test_grad_fn_exposes_next_functions():
    x = leaf([1.0])
    y = x * 2 + 1
    assert y.grad_fn.name() == "AddBackward"
    (mul_node, _), (none_node, _) = y.grad_fn.next_functions
    assert mul_node.name() == "MulBackward" and none_node is None
    assert mul_node.next_functions[0][0].name() == "AccumulateGrad"
    assert mul_node.next_functions[0][0].variable is x


def test_a_hook_may_not_change_the_gradient_shape_or_dtype():
    x = leaf([1.0, 2.0])
    x.register_hook(lambda g: g.sum())
    with pytest.raises(RuntimeError, match="hook"):
        (x * 2).sum().backward()
    y = leaf([1.0, 2.0])
    y.register_hook(lambda g: g.float())
    with pytest.raises(RuntimeError, match="dtype"):
        (y * 2).sum().backward()
