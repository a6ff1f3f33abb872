"""dropout and dropout2d: reproducible masks from the global generator, the kept fraction and scaling,
whole-channel zeroing, gradients (gradcheck with a reseeded generator), p = 0 / 1 and bad arguments."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_cnn as tc
from tinygrad_cnn import Tensor, gradcheck, gradgradcheck
from tinygrad_cnn.functions.dropout import dropout, dropout2d
from tinygrad_cnn.testing.strategies import shapes, tensors

probabilities = st.sampled_from([0.1, 0.25, 0.5, 0.8])


def nonzero(shape: tuple, seed: int = 0, dtype: type = np.float64) -> Tensor:
    """Values with |x| >= 0.5, so a zero in the output can only come from the mask."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.5, 2.0, shape) * rng.choice([-1.0, 1.0], shape)
    return Tensor(x.astype(dtype), requires_grad=True)


def seeded(fn, seed: int = 0):
    """``fn`` that reseeds the global generator first: every call draws the same mask."""

    def call(*args):
        tc.manual_seed(seed)
        return fn(*args)

    return call


# -- masks and scaling ------------------------------------------------------------------------------------
@pytest.mark.parametrize("fn", [dropout, dropout2d])
def test_same_seed_gives_same_mask_and_another_seed_another(fn):
    x = nonzero((4, 8, 3, 3))
    tc.manual_seed(123)
    a = fn(x, 0.5)
    tc.manual_seed(123)
    b = fn(x, 0.5)
    np.testing.assert_array_equal(a.data, b.data)
    tc.manual_seed(124)
    assert not np.array_equal(fn(x, 0.5).data, a.data)


def test_consecutive_calls_draw_fresh_masks():
    x = nonzero((1000,))
    tc.manual_seed(0)
    assert not np.array_equal(dropout(x).data == 0, dropout(x).data == 0)


@given(probabilities, st.integers(0, 2**32 - 1))
def test_dropout_kept_fraction_is_about_one_minus_p(p, seed):
    n = 200_000
    tc.manual_seed(seed)
    kept = float(np.count_nonzero(dropout(Tensor(np.ones(n, np.float32)), p).data)) / n
    assert abs(kept - (1 - p)) < 6 * math.sqrt(p * (1 - p) / n)  # six binomial standard deviations


@given(probabilities, st.integers(0, 2**32 - 1))
def test_dropout2d_kept_channel_fraction_is_about_one_minus_p(p, seed):
    n, c = 500, 400
    tc.manual_seed(seed)
    out = dropout2d(Tensor(np.ones((n, c, 1, 2), np.float32)), p)
    kept = float(np.count_nonzero(out.data[:, :, 0, 0])) / (n * c)
    assert abs(kept - (1 - p)) < 6 * math.sqrt(p * (1 - p) / (n * c))


@given(tensors(shapes(1, 4), np.float32, requires_grad=False, min_magnitude=0.5), probabilities)
def test_dropout_kept_values_are_scaled_by_one_over_one_minus_p_and_dtype_kept(x, p):
    tc.manual_seed(0)
    out = dropout(x, p)
    assert out.dtype == np.float32 and out.shape == x.shape
    kept = out.data != 0
    np.testing.assert_allclose(out.data[kept], x.data[kept] / (1 - p), rtol=1e-6)


@given(tensors(st.sampled_from([(2, 3, 4, 5), (3, 4, 5)]), np.float64, requires_grad=False, min_magnitude=0.5))
def test_dropout2d_zeroes_whole_channels_and_scales_the_others(x):
    tc.manual_seed(1)
    p = 0.5
    out = dropout2d(x, p).data
    channels = out.reshape(-1, out.shape[-2] * out.shape[-1])
    inputs = x.data.reshape(channels.shape)
    for ch, inp in zip(channels, inputs):
        assert np.all(ch == 0) or np.allclose(ch, inp / (1 - p), rtol=1e-12)


def test_dropout2d_on_3d_input_treats_dim_0_as_channels():
    x = nonzero((64, 2, 3))
    tc.manual_seed(2)
    out = dropout2d(x, 0.5).data
    dropped = np.all(out == 0, axis=(1, 2))
    assert dropped.any() and not dropped.all()
    np.testing.assert_array_equal(out == 0, np.broadcast_to(dropped[:, None, None], out.shape))


# -- gradients --------------------------------------------------------------------------------------------
@given(tensors(shapes(1, 3, max_side=4), np.float64), probabilities)
def test_dropout_gradcheck_with_a_fixed_mask_contiguous_or_strided(x, p):
    gradcheck(seeded(lambda t: dropout(t, p)), (x,), seed=0)


@given(tensors(st.sampled_from([(2, 3, 2, 2), (3, 2, 3)]), np.float64), probabilities)
def test_dropout2d_gradcheck_with_a_fixed_mask_contiguous_or_strided(x, p):
    gradcheck(seeded(lambda t: dropout2d(t, p)), (x,), seed=0)


@pytest.mark.parametrize("fn", [dropout, dropout2d])
def test_gradient_is_the_mask_times_the_scale(fn):
    x = nonzero((3, 4, 2, 2), seed=3)
    g = np.random.default_rng(4).standard_normal(x.shape)
    tc.manual_seed(5)
    out = fn(x, 0.25)
    out.backward(Tensor(g))
    mask = (out.data != 0) / 0.75
    np.testing.assert_allclose(x.grad.data, g * mask, rtol=1e-12)


def test_dropout_gradgradcheck_with_a_fixed_mask():
    x = nonzero((3, 4), seed=6)
    gradgradcheck(seeded(lambda t: dropout(t, 0.4)), (x,), seed=0)


# -- p = 0, p = 1, evaluation -----------------------------------------------------------------------------
@pytest.mark.parametrize("fn", [dropout, dropout2d])
def test_p_zero_and_eval_mode_return_the_input_unchanged(fn):
    x = nonzero((2, 3, 2, 2), seed=7)
    before = x.data.copy()
    assert fn(x, 0.0) is x
    assert fn(x, 0.7, training=False) is x
    np.testing.assert_array_equal(x.data, before)


@pytest.mark.parametrize("fn", [dropout, dropout2d])
def test_p_one_gives_zeros_and_zero_gradient(fn):
    x = nonzero((2, 3, 2, 2), seed=8, dtype=np.float32)
    out = fn(x, 1.0)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out.data, np.zeros(x.shape))
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.zeros(x.shape))


@pytest.mark.parametrize("fn", [dropout, dropout2d])
def test_inplace_is_accepted_and_computed_out_of_place(fn):
    x = nonzero((2, 3, 2, 2), seed=9)
    before = x.data.copy()
    tc.manual_seed(10)
    out = fn(x, 0.5, inplace=True)
    tc.manual_seed(10)
    np.testing.assert_array_equal(out.data, fn(x, 0.5).data)
    np.testing.assert_array_equal(x.data, before)


# -- bad arguments ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("fn", [dropout, dropout2d])
@pytest.mark.parametrize("p, exc", [(-0.1, ValueError), (1.5, ValueError), (float("nan"), RuntimeError)])
def test_probability_outside_zero_one_raises_pytorchs_kind_naming_p(fn, p, exc):
    # PyTorch: ValueError from its Python range check; nan passes that check and its kernel raises RuntimeError
    with pytest.raises(exc, match=r"\(\): p: dropout probability has to be between 0 and 1"):
        fn(nonzero((2, 3, 2, 2)), p)
    with pytest.raises(exc, match="p: "):  # checked in evaluation mode too
        fn(nonzero((2, 3, 2, 2)), p, training=False)


@pytest.mark.parametrize(
    "fn,x,p,exc,message",
    [
        (dropout, Tensor(np.ones(3, np.int64)), 0.5, RuntimeError, "dropout(): input: expected a floating point"),
        (dropout, np.ones(3), 0.5, TypeError, "dropout(): input: expected a Tensor"),
        (dropout, Tensor(np.ones(3)), "0.5", TypeError, "dropout(): p: expected a number, got str"),
        (dropout2d, Tensor(np.ones((2, 3))), 0.5, RuntimeError, "dropout2d(): input: expected a 3-D (C, H, W) or 4-D"),
        (dropout2d, Tensor(np.ones((1, 2, 3, 4, 5))), 0.5, RuntimeError, "dropout2d(): input: expected a 3-D"),
    ],
)
def test_bad_arguments_raise_naming_them(fn, x, p, exc, message):
    with pytest.raises(exc, match=re.escape(message)):
        fn(x, p)
