"""Losses: cross_entropy, nll_loss, mse_loss, l1_loss, binary_cross_entropy, binary_cross_entropy_with_logits.

Each loss: the forward agrees with a plain float64 reference written here as Python loops from the formula
(every option: weight, ignore_index, each reduction, label_smoothing, K-dimensional and unbatched inputs,
class-index and class-probability targets); gradients agree with finite differences (``gradcheck``: full
Jacobian on small inputs, fast mode on larger ones, random upstream gradients, non-contiguous inputs, also
with respect to targets and weights), second derivatives too (``gradgradcheck``); ignored targets get
exactly zero gradient; extreme float32 logits stay finite and correct; bad arguments raise clear errors.
When ``torch`` is importable, every loss and option is also compared with PyTorch's values and gradients.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from helpers import SEEDS
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinygrad_cnn import Tensor, gradcheck, gradgradcheck
from tinygrad_cnn.functions.activation import log_softmax
from tinygrad_cnn.functions.loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    l1_loss,
    mse_loss,
    nll_loss,
)
from tinygrad_cnn.testing.strategies import arrays, maybe_non_contiguous

REDUCTIONS = st.sampled_from(["none", "mean", "sum"])
FULL_MODE_MAX_ELEMENTS = 40  # above this many input elements, gradcheck runs in fast mode


# -- helpers --------------------------------------------------------------------------------------------
def leaf(a: np.ndarray) -> Tensor:
    return Tensor(a, requires_grad=True)


def check_grad(fn: Callable[..., Any], *arrays_: np.ndarray, seed: int, gradgrad: bool = False) -> None:
    """gradcheck ``fn`` on leaves wrapping ``arrays_`` (layout kept; gradcheck draws a random upstream
    gradient): full Jacobian when small, else fast mode; with ``gradgrad`` also gradgradcheck."""
    inputs = tuple(leaf(a) for a in arrays_)
    fast = sum(a.size for a in arrays_) > FULL_MODE_MAX_ELEMENTS
    assert gradcheck(fn, inputs, seed=seed, fast_mode=fast)
    if gradgrad:
        assert gradgradcheck(fn, inputs, seed=seed, fast_mode=fast)


def reduce_ref(losses: np.ndarray, reduction: str, denominator: float | None = None) -> np.ndarray:
    if reduction == "none":
        return losses
    total = float(sum(losses.ravel().tolist()))
    if reduction == "sum":
        return np.array(total)
    count = float(losses.size) if denominator is None else denominator
    return np.array(total / count if count else math.nan)


def as_ncm(x: np.ndarray) -> np.ndarray:
    """(C,) -> (1, C, 1); (N, C, d1, ...) -> (N, C, d1 * ...): loops then run over n, c and m."""
    if x.ndim == 1:
        return x.reshape(1, -1, 1)
    return x.reshape(x.shape[0], x.shape[1], -1)


def log_probs_ref(logits: list[float]) -> list[float]:
    m = max(logits)
    lse = m + math.log(sum(math.exp(v - m) for v in logits))
    return [v - lse for v in logits]


def index_shape(shape: tuple[int, ...]) -> tuple[int, ...]:
    return shape[:1] + shape[2:] if len(shape) >= 2 else ()


# -- plain references (float64 Python loops, from the formulas) ------------------------------------------
def cross_entropy_indices_ref(x, t, w, ignore_index, reduction, eps, log_input=False):  # noqa: ANN001, ANN201
    """loss[n, m] = (1 - eps) * (-w[t] logp[t]) + eps / C * sum_c (-w[c] logp[c]), 0 where t is ignored;
    mean divides by the sum of w[t] over non-ignored targets. ``log_input``: x already holds logp (nll)."""
    xs = as_ncm(np.asarray(x, dtype=np.float64))
    n_batch, n_classes, n_pos = xs.shape
    ts = np.asarray(t).reshape(n_batch, n_pos)
    weights = [1.0] * n_classes if w is None else [float(v) for v in w]
    losses = np.zeros((n_batch, n_pos))
    denominator = 0.0
    for n in range(n_batch):
        for m in range(n_pos):
            target = int(ts[n, m])
            if target == ignore_index:
                continue
            column = [float(xs[n, c, m]) for c in range(n_classes)]
            logp = column if log_input else log_probs_ref(column)
            nll = -weights[target] * logp[target]
            smooth = -sum(weights[c] * logp[c] for c in range(n_classes))
            losses[n, m] = (1 - eps) * nll + eps / n_classes * smooth
            denominator += weights[target]
    return reduce_ref(losses.reshape(np.shape(t)), reduction, denominator)


def cross_entropy_probs_ref(x, p, w, reduction, eps):  # noqa: ANN001, ANN201
    """loss[n, m] = -sum_c w[c] ((1 - eps) p[c] + eps / C) logp[c]; mean divides by N * d1 * ..."""
    xs, ps = as_ncm(np.asarray(x, dtype=np.float64)), as_ncm(np.asarray(p, dtype=np.float64))
    n_batch, n_classes, n_pos = xs.shape
    weights = [1.0] * n_classes if w is None else [float(v) for v in w]
    losses = np.zeros((n_batch, n_pos))
    for n in range(n_batch):
        for m in range(n_pos):
            logp = log_probs_ref([float(xs[n, c, m]) for c in range(n_classes)])
            losses[n, m] = -sum(
                weights[c] * ((1 - eps) * float(ps[n, c, m]) + eps / n_classes) * logp[c] for c in range(n_classes)
            )
    return reduce_ref(losses.reshape(index_shape(np.shape(x))), reduction)


def elementwise_ref(fn: Callable[..., float], reduction: str, *arrays_: Any) -> np.ndarray:
    """fn applied per element (arguments broadcast to the first one's shape), then reduced."""
    shape = np.shape(arrays_[0])
    flat = [np.broadcast_to(np.asarray(a, dtype=np.float64), shape).ravel().tolist() for a in arrays_]
    losses = np.array([fn(*vals) for vals in zip(*flat)], dtype=np.float64).reshape(shape)
    return reduce_ref(losses, reduction)


def bce_ref(x: float, y: float, w: float = 1.0) -> float:
    log_x = max(math.log(x), -100.0) if x > 0 else -100.0
    log_1mx = max(math.log1p(-x), -100.0) if x < 1 else -100.0
    return -w * (y * log_x + (1 - y) * log_1mx)


def bce_logits_ref(x: float, y: float, w: float = 1.0, pw: float = 1.0) -> float:
    # log sigmoid(x) = -log(1 + exp(-x)), written per sign so that it cannot overflow
    log_sig = -math.log1p(math.exp(-x)) if x >= 0 else x - math.log1p(math.exp(x))
    return w * ((1 - y) * x - (1 + (pw - 1) * y) * log_sig)


# -- strategies -----------------------------------------------------------------------------------------
@dataclass
class ClassCase:
    x: np.ndarray
    target: np.ndarray  # int64 class indices, or float class probabilities
    weight: np.ndarray | None
    ignore_index: int
    reduction: str
    label_smoothing: float

    @property
    def kwargs(self) -> dict[str, Any]:
        return {"ignore_index": self.ignore_index, "reduction": self.reduction}


@st.composite
def input_shapes(draw: st.DrawFn, max_classes: int = 5) -> tuple[int, ...]:
    """(C,), (N, C) or (N, C, d1[, d2]) with small sides."""
    n_classes = draw(st.integers(1, max_classes))
    kind = draw(st.sampled_from(["unbatched", "batched", "spatial"]))
    if kind == "unbatched":
        return (n_classes,)
    if kind == "batched":
        return (draw(st.integers(1, 4)), n_classes)
    spatial = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=2)))
    return (draw(st.integers(1, 2)), n_classes, *spatial)


def smoothing() -> st.SearchStrategy[float]:
    return st.one_of(st.just(0.0), st.just(1.0), st.floats(0.0, 1.0))


@st.composite
def class_cases(
    draw: st.DrawFn, probabilities: bool = False, dtype: Any = np.float64, one_valid: bool = False
) -> ClassCase:
    """Logits (maybe non-contiguous), a target (indices with some ignored, or probabilities), options.
    ``one_valid``: the first target is never ignored (so a mean has a non-zero denominator)."""
    shape = draw(input_shapes())
    n_classes = shape[1] if len(shape) >= 2 else shape[0]
    x = draw(maybe_non_contiguous(shape, dtype))
    ignore_index = draw(st.sampled_from([-100, -1, 0]))
    if probabilities:
        raw = draw(arrays(shape, min_value=0.0, max_value=1.0))
        class_dim = 1 if len(shape) >= 2 else 0
        sums = raw.sum(axis=class_dim, keepdims=True)
        target = np.where(sums > 0, raw / np.where(sums > 0, sums, 1), 1.0 / n_classes).astype(dtype)
        ignore_index = -100
    else:
        choices = sorted(set(range(n_classes)) | {ignore_index})
        target = draw(hnp.arrays(np.int64, index_shape(shape), elements=st.sampled_from(choices)))
        if one_valid and target.size:
            target.flat[0] = next(c for c in range(n_classes) if c != ignore_index) if n_classes > 1 else 0
            if target.flat[0] == ignore_index:  # C == 1 and ignore_index == 0: nothing is valid
                ignore_index = -100
    weight = draw(st.none() | arrays((n_classes,), dtype, 0.5, 2.0))
    return ClassCase(x, target, weight, ignore_index, draw(REDUCTIONS), draw(smoothing()))


def opt(a: np.ndarray | None) -> Tensor | None:
    return None if a is None else Tensor(a)


# -- forward against the references -------------------------------------------------------------------------
@given(class_cases())
def test_cross_entropy_class_indices_matches_loop_reference(case: ClassCase) -> None:
    out = cross_entropy(
        Tensor(case.x), Tensor(case.target), opt(case.weight), label_smoothing=case.label_smoothing, **case.kwargs
    )
    expected = cross_entropy_indices_ref(
        case.x, case.target, case.weight, case.ignore_index, case.reduction, case.label_smoothing
    )
    assert out.shape == expected.shape and out.dtype == np.float64
    np.testing.assert_allclose(out.data, expected, rtol=1e-10, atol=1e-12)


@given(class_cases(probabilities=True))
def test_cross_entropy_class_probabilities_matches_loop_reference(case: ClassCase) -> None:
    out = cross_entropy(
        Tensor(case.x), Tensor(case.target), opt(case.weight), reduction=case.reduction,
        label_smoothing=case.label_smoothing,
    )  # fmt: skip
    expected = cross_entropy_probs_ref(case.x, case.target, case.weight, case.reduction, case.label_smoothing)
    assert out.shape == expected.shape and out.dtype == np.float64
    np.testing.assert_allclose(out.data, expected, rtol=1e-10, atol=1e-12)


@given(class_cases())
def test_nll_loss_matches_loop_reference(case: ClassCase) -> None:
    out = nll_loss(Tensor(case.x), Tensor(case.target), opt(case.weight), **case.kwargs)
    expected = cross_entropy_indices_ref(
        case.x, case.target, case.weight, case.ignore_index, case.reduction, 0.0, log_input=True
    )
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.data, expected, rtol=1e-10, atol=1e-12)


@given(st.data(), REDUCTIONS)
def test_mse_and_l1_match_loop_reference(data: st.DataObject, reduction: str) -> None:
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=3, max_side=4))
    x, y = data.draw(maybe_non_contiguous(shape)), data.draw(arrays(shape))
    mse = mse_loss(Tensor(x), Tensor(y), reduction=reduction)
    l1 = l1_loss(Tensor(x), Tensor(y), reduction=reduction)
    np.testing.assert_allclose(mse.data, elementwise_ref(lambda a, b: (a - b) ** 2, reduction, x, y), rtol=1e-12)
    np.testing.assert_allclose(l1.data, elementwise_ref(lambda a, b: abs(a - b), reduction, x, y), rtol=1e-12)


@st.composite
def probabilities_with_edges(draw: st.DrawFn, shape: tuple[int, ...]) -> np.ndarray:
    """Values in [0, 1], exactly 0 and 1 included (where PyTorch's clamp of the logs to -100 matters)."""
    edge = st.sampled_from([0.0, 1.0, 1e-50, 1 - 1e-16])
    return draw(hnp.arrays(np.float64, shape, elements=st.floats(0.0, 1.0) | edge))


@given(st.data(), REDUCTIONS, st.booleans())
def test_binary_cross_entropy_matches_loop_reference_with_log_clamped_at_minus_100(
    data: st.DataObject, reduction: str, with_weight: bool
) -> None:
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=3, max_side=4))
    x, y = data.draw(probabilities_with_edges(shape)), data.draw(arrays(shape, min_value=0.0, max_value=1.0))
    w = data.draw(arrays(shape[-1:], min_value=0.0, max_value=2.0)) if with_weight else None
    out = binary_cross_entropy(Tensor(x), Tensor(y), opt(w), reduction=reduction)
    expected = elementwise_ref(bce_ref, reduction, x, y, *([] if w is None else [w]))
    assert np.isfinite(out.data).all()
    np.testing.assert_allclose(out.data, expected, rtol=1e-10, atol=1e-12)


@given(st.data(), REDUCTIONS, st.booleans(), st.booleans())
def test_binary_cross_entropy_with_logits_matches_loop_reference(
    data: st.DataObject, reduction: str, with_weight: bool, with_pos_weight: bool
) -> None:
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=4))
    x = data.draw(maybe_non_contiguous(shape, min_value=-50.0, max_value=50.0))
    y = data.draw(arrays(shape, min_value=0.0, max_value=1.0))
    w = data.draw(arrays(shape[-2:], min_value=0.0, max_value=2.0)) if with_weight else None
    pw = data.draw(arrays(shape[-1:], min_value=0.0, max_value=4.0)) if with_pos_weight else None
    out = binary_cross_entropy_with_logits(Tensor(x), Tensor(y), opt(w), reduction=reduction, pos_weight=opt(pw))
    w_full = np.ones(shape) if w is None else w
    pw_full = np.ones(shape) if pw is None else pw
    expected = elementwise_ref(bce_logits_ref, reduction, x, y, np.broadcast_to(w_full, shape), pw_full)
    np.testing.assert_allclose(out.data, expected, rtol=1e-10, atol=1e-12)


@given(class_cases())
def test_k_dimensional_cross_entropy_equals_cross_entropy_of_flattened_positions(case: ClassCase) -> None:
    """(N, C, d1, ...) is the (N * d1 * ..., C) problem with the class dim moved last."""
    x, t = case.x, case.target
    if x.ndim == 1:
        flat_x, flat_t = x.reshape(1, -1), t.reshape(1)
    else:
        flat_x = np.moveaxis(x, 1, -1).reshape(-1, x.shape[1])
        flat_t = t.reshape(-1)
    kw = dict(label_smoothing=case.label_smoothing, **case.kwargs)
    out = cross_entropy(Tensor(x), Tensor(t), opt(case.weight), **kw)
    flat = cross_entropy(Tensor(flat_x), Tensor(flat_t), opt(case.weight), **kw)
    np.testing.assert_allclose(out.data, flat.data.reshape(out.shape), rtol=1e-12, atol=1e-14)


def test_unbatched_cross_entropy_is_the_batch_of_one_without_its_batch_dim() -> None:
    x = np.array([0.5, -1.0, 2.0, 0.25])
    for target in (np.array(2), np.array([0.1, 0.2, 0.3, 0.4])):
        for reduction in ("none", "mean", "sum"):
            one = cross_entropy(Tensor(x), Tensor(target), reduction=reduction, label_smoothing=0.1)
            batch = cross_entropy(Tensor(x[None]), Tensor(target[None]), reduction=reduction, label_smoothing=0.1)
            assert one.shape == ()
            np.testing.assert_allclose(one.data, batch.data.reshape(()), rtol=1e-14)


# -- gradients ----------------------------------------------------------------------------------------------
@given(class_cases(one_valid=True), SEEDS)
def test_cross_entropy_class_indices_gradients_and_second_derivatives_match_finite_differences(
    case: ClassCase, seed: int
) -> None:
    target, kw = Tensor(case.target), dict(label_smoothing=case.label_smoothing, **case.kwargs)
    if case.weight is None:
        check_grad(lambda x: cross_entropy(x, target, **kw), case.x, seed=seed, gradgrad=True)
    else:  # the weight is differentiable too (through the mean's denominator as well)
        check_grad(lambda x, w: cross_entropy(x, target, w, **kw), case.x, case.weight, seed=seed, gradgrad=True)


@given(class_cases(probabilities=True), SEEDS)
def test_cross_entropy_class_probabilities_gradients_wrt_input_target_and_weight_match_finite_differences(
    case: ClassCase, seed: int
) -> None:
    kw = dict(reduction=case.reduction, label_smoothing=case.label_smoothing)
    arrays_ = (case.x, case.target) if case.weight is None else (case.x, case.target, case.weight)
    check_grad(lambda *a: cross_entropy(*a, **kw), *arrays_, seed=seed, gradgrad=True)


@given(class_cases(one_valid=True), SEEDS)
def test_nll_loss_gradients_match_finite_differences_and_nll_of_log_softmax_is_twice_differentiable(
    case: ClassCase, seed: int
) -> None:
    target = Tensor(case.target)
    weight = opt(case.weight)
    check_grad(lambda x: nll_loss(x, target, weight, **case.kwargs), case.x, seed=seed)
    class_dim = 1 if case.x.ndim >= 2 else 0
    check_grad(
        lambda x: nll_loss(log_softmax(x, dim=class_dim), target, weight, **case.kwargs),
        case.x, seed=seed, gradgrad=True,
    )  # fmt: skip


@st.composite
def regression_pair(draw: st.DrawFn, min_gap: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Input (maybe non-contiguous) and target of one shape, with |input - target| >= min_gap."""
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, max_side=4))
    y = draw(arrays(shape))
    gap = draw(maybe_non_contiguous(shape, min_magnitude=min_gap)) if min_gap else draw(maybe_non_contiguous(shape))
    return y + gap, y


@given(regression_pair(), REDUCTIONS, SEEDS)
def test_mse_loss_gradients_wrt_input_and_target_match_finite_differences(
    pair: tuple[np.ndarray, np.ndarray], reduction: str, seed: int
) -> None:
    check_grad(lambda x, y: mse_loss(x, y, reduction=reduction), *pair, seed=seed, gradgrad=True)


@given(regression_pair(min_gap=0.01), REDUCTIONS, SEEDS)
def test_l1_loss_gradients_wrt_input_and_target_match_finite_differences(
    pair: tuple[np.ndarray, np.ndarray], reduction: str, seed: int
) -> None:
    check_grad(lambda x, y: l1_loss(x, y, reduction=reduction), *pair, seed=seed)


def test_l1_loss_gradient_is_zero_where_input_equals_target() -> None:
    x = leaf(np.array([1.0, 2.0, 3.0]))
    l1_loss(x, Tensor(np.array([1.0, 0.0, 5.0])), reduction="sum").backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 1.0, -1.0])


@given(st.data(), REDUCTIONS, st.booleans(), SEEDS)
def test_binary_cross_entropy_gradients_wrt_input_target_and_weight_match_finite_differences(
    data: st.DataObject, reduction: str, with_weight: bool, seed: int
) -> None:
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=3, max_side=4))
    x = data.draw(maybe_non_contiguous(shape, min_value=0.05, max_value=0.95))
    y = data.draw(arrays(shape, min_value=0.0, max_value=1.0))
    if with_weight:
        w = data.draw(arrays(shape[-1:], min_value=0.0, max_value=2.0))
        check_grad(
            lambda a, b, c: binary_cross_entropy(a, b, c, reduction=reduction), x, y, w, seed=seed, gradgrad=True
        )
    else:
        check_grad(lambda a, b: binary_cross_entropy(a, b, reduction=reduction), x, y, seed=seed, gradgrad=True)


def test_binary_cross_entropy_gradient_at_0_and_1_is_the_finite_clamped_value() -> None:
    """d/dx = (x - y) / max(x (1 - x), 1e-12), and d/dy = log(1 - x) - log(x) (infinite there)."""
    x, y = leaf(np.array([0.0, 1.0, 0.0])), leaf(np.array([1.0, 0.0, 0.0]))
    loss = binary_cross_entropy(x, y, reduction="none")
    np.testing.assert_array_equal(loss.data, [100.0, 100.0, 0.0])
    loss.sum().backward()
    np.testing.assert_allclose(x.grad.data, [-1e12, 1e12, 0.0])
    np.testing.assert_array_equal(y.grad.data, [np.inf, -np.inf, np.inf])


@given(st.data(), REDUCTIONS, SEEDS)
def test_binary_cross_entropy_with_logits_gradients_wrt_all_inputs_match_finite_differences(
    data: st.DataObject, reduction: str, seed: int
) -> None:
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=4))
    x = data.draw(maybe_non_contiguous(shape, min_value=-5.0, max_value=5.0))
    y = data.draw(arrays(shape, min_value=0.0, max_value=1.0))
    w = data.draw(arrays(shape[-1:], min_value=0.0, max_value=2.0))
    pw = data.draw(arrays(shape[-1:], min_value=0.0, max_value=4.0))
    check_grad(
        lambda a, b, c, d: binary_cross_entropy_with_logits(a, b, c, reduction=reduction, pos_weight=d),
        x, y, w, pw, seed=seed, gradgrad=True,
    )  # fmt: skip


def test_binary_cross_entropy_with_logits_gradient_at_zero_logit_is_sigmoid_minus_target() -> None:
    x = leaf(np.zeros(3))
    binary_cross_entropy_with_logits(x, Tensor(np.array([0.0, 1.0, 0.25])), reduction="sum").backward()
    np.testing.assert_allclose(x.grad.data, [0.5, -0.5, 0.25], rtol=1e-15)


# -- ignore_index and empty means ---------------------------------------------------------------------------
@given(class_cases(), st.sampled_from(["cross_entropy", "nll_loss"]))
def test_ignored_targets_contribute_exactly_zero_value_and_gradient(case: ClassCase, loss_name: str) -> None:
    ignored = case.target == case.ignore_index
    if case.x.ndim == 1:
        mask = np.broadcast_to(ignored, case.x.shape)
    else:
        mask = np.broadcast_to(np.expand_dims(ignored, 1), case.x.shape)

    def run(x_data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = leaf(x_data)
        if loss_name == "cross_entropy":
            loss = cross_entropy(x, Tensor(case.target), opt(case.weight), label_smoothing=0.3, **case.kwargs)
        else:
            loss = nll_loss(x, Tensor(case.target), opt(case.weight), **case.kwargs)
        upstream = np.random.default_rng(0).standard_normal(loss.shape)
        loss.backward(Tensor(upstream))
        return loss.data, x.grad.data

    value, grad = run(case.x)
    assert (grad[mask] == 0).all()
    if case.reduction == "none":
        assert (value[ignored] == 0).all()
    # changing the logits of ignored targets changes nothing
    moved = np.where(mask, case.x + 7.0, case.x)
    value2, grad2 = run(moved)
    np.testing.assert_array_equal(value2, value)
    np.testing.assert_allclose(grad2, grad, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("label_smoothing", [0.0, 0.4])
@pytest.mark.parametrize("with_weight", [False, True])
def test_mean_over_only_ignored_targets_is_nan_with_zero_gradient(label_smoothing: float, with_weight: bool) -> None:
    x = leaf(np.arange(6.0).reshape(2, 3))
    weight = Tensor(np.array([1.0, 2.0, 3.0])) if with_weight else None
    loss = cross_entropy(x, Tensor(np.array([-100, -100])), weight, label_smoothing=label_smoothing)
    assert np.isnan(loss.item())
    loss.backward()
    np.testing.assert_array_equal(x.grad.data, np.zeros((2, 3)))


def test_mean_over_targets_of_zero_total_weight_is_nan_with_zero_gradient() -> None:
    """PyTorch gives nan here too (its gradient is nan; ours is zero, as documented)."""
    x, w = leaf(np.arange(6.0).reshape(2, 3)), leaf(np.array([0.0, 1.0, 2.0]))
    loss = cross_entropy(x, Tensor(np.array([0, 0])), w, label_smoothing=0.2)
    assert np.isnan(loss.item())
    loss.backward()
    np.testing.assert_array_equal(x.grad.data, np.zeros((2, 3)))
    np.testing.assert_array_equal(w.grad.data, np.zeros(3))


def test_mean_is_nan_for_empty_batches_as_in_pytorch() -> None:
    x = Tensor(np.zeros((0, 3)))
    assert np.isnan(cross_entropy(x, Tensor(np.zeros(0, dtype=np.int64))).item())
    assert np.isnan(cross_entropy(x, Tensor(np.zeros((0, 3)))).item())
    assert np.isnan(mse_loss(Tensor(np.zeros(0)), Tensor(np.zeros(0))).item())
    assert cross_entropy(x, Tensor(np.zeros(0, dtype=np.int64)), reduction="sum").item() == 0


def test_ignore_index_may_name_a_real_class() -> None:
    x = np.array([[1.0, 2.0, 3.0], [0.5, 0.0, -1.0]])
    out = cross_entropy(Tensor(x), Tensor(np.array([0, 2])), ignore_index=0, reduction="mean")
    np.testing.assert_allclose(out.item(), -log_probs_ref([0.5, 0.0, -1.0])[2], rtol=1e-14)


# -- extreme logits and dtypes -------------------------------------------------------------------------------
EXTREME = st.sampled_from([-1e4, 1e4, 0.0, 1.5, -2.25])


@given(st.data(), REDUCTIONS, st.sampled_from([0.0, 0.25]), st.booleans())
def test_cross_entropy_of_extreme_float32_logits_is_finite_and_correct(
    data: st.DataObject, reduction: str, label_smoothing: float, probabilities: bool
) -> None:
    shape = data.draw(input_shapes())
    n_classes = shape[1] if len(shape) >= 2 else shape[0]
    x = data.draw(hnp.arrays(np.float32, shape, elements=EXTREME))
    if probabilities:
        target = np.full(shape, 1.0 / n_classes, dtype=np.float32)
        expected = cross_entropy_probs_ref(x, target, None, reduction, label_smoothing)
    else:
        target = data.draw(hnp.arrays(np.int64, index_shape(shape), elements=st.integers(0, n_classes - 1)))
        expected = cross_entropy_indices_ref(x, target, None, -100, reduction, label_smoothing)
    xt = leaf(x)
    loss = cross_entropy(xt, Tensor(target), reduction=reduction, label_smoothing=label_smoothing)
    loss.backward(Tensor(np.ones(loss.shape, dtype=np.float32)))
    assert loss.dtype == np.float32 and xt.grad.dtype == np.float32
    assert np.isfinite(loss.data).all() and np.isfinite(xt.grad.data).all()
    np.testing.assert_allclose(loss.data, expected, rtol=1e-5, atol=1e-2)


def test_cross_entropy_of_1e4_against_minus_1e4_in_float32() -> None:
    x = leaf(np.array([[1e4, -1e4], [1e4, -1e4]], dtype=np.float32))
    loss = cross_entropy(x, Tensor(np.array([1, 0])), reduction="none")
    np.testing.assert_array_equal(loss.data, np.array([2e4, 0.0], dtype=np.float32))
    loss.sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.array([[1.0, -1.0], [0.0, 0.0]], dtype=np.float32))


def test_binary_cross_entropy_with_logits_of_extreme_float32_logits_is_finite_and_correct() -> None:
    x = leaf(np.array([1e4, -1e4, 1e4, -1e4], dtype=np.float32))
    y = Tensor(np.array([0.0, 1.0, 1.0, 0.0], dtype=np.float32))
    loss = binary_cross_entropy_with_logits(x, y, reduction="none", pos_weight=Tensor(np.float32([2.0])))
    np.testing.assert_array_equal(loss.data, np.array([1e4, 2e4, 0.0, 0.0], dtype=np.float32))
    loss.sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.array([1.0, -2.0, 0.0, 0.0], dtype=np.float32))


def float32_calls() -> list[tuple[str, Callable[..., Tensor], tuple[np.ndarray, ...]]]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4)).astype(np.float32)
    p = rng.uniform(0.1, 0.9, (3, 4)).astype(np.float32)
    t = np.array([0, 3, 1])
    w = np.float32([1.0, 2.0, 0.5, 1.0])
    return [
        ("cross_entropy", lambda a, r: cross_entropy(a, Tensor(t), Tensor(w), reduction=r, label_smoothing=0.1), (x,)),
        ("cross_entropy_probs", lambda a, b, r: cross_entropy(a, b, reduction=r, label_smoothing=0.1), (x, p)),
        ("nll_loss", lambda a, r: nll_loss(a, Tensor(t), Tensor(w), reduction=r), (x,)),
        ("mse_loss", lambda a, b, r: mse_loss(a, b, reduction=r), (x, p)),
        ("l1_loss", lambda a, b, r: l1_loss(a, b, reduction=r), (x, p)),
        ("binary_cross_entropy", lambda a, b, r: binary_cross_entropy(a, b, Tensor(w), reduction=r), (p, p[::-1])),
        (
            "binary_cross_entropy_with_logits",
            lambda a, b, r: binary_cross_entropy_with_logits(a, b, Tensor(w), reduction=r, pos_weight=Tensor(w)),
            (x, p),
        ),
    ]


@pytest.mark.parametrize("name,fn,inputs", float32_calls(), ids=[c[0] for c in float32_calls()])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_float32_inputs_give_float32_losses_and_gradients(
    name: str, fn: Callable[..., Tensor], inputs: tuple[np.ndarray, ...], reduction: str
) -> None:
    leaves = [leaf(a.copy()) for a in inputs]
    loss = fn(*leaves, reduction)
    assert loss.dtype == np.float32
    loss.sum().backward()
    for t in leaves:
        assert t.grad.dtype == np.float32


def test_float64_weight_does_not_promote_a_float32_loss() -> None:
    x = Tensor(np.zeros((2, 3), dtype=np.float32))
    loss = cross_entropy(x, Tensor(np.array([0, 1])), Tensor(np.array([1.0, 2.0, 3.0])))
    assert loss.dtype == np.float32


# -- errors -----------------------------------------------------------------------------------------------
def every_loss_call(reduction: Any) -> list[Callable[[], Tensor]]:
    x, p = Tensor(np.zeros((2, 3))), Tensor(np.full((2, 3), 0.5))
    t = Tensor(np.array([0, 1]))
    return [
        lambda: cross_entropy(x, t, reduction=reduction),
        lambda: nll_loss(x, t, reduction=reduction),
        lambda: mse_loss(x, p, reduction=reduction),
        lambda: l1_loss(x, p, reduction=reduction),
        lambda: binary_cross_entropy(p, p, reduction=reduction),
        lambda: binary_cross_entropy_with_logits(x, p, reduction=reduction),
    ]


@pytest.mark.parametrize("reduction", ["average", "Mean", None, 1])
def test_unknown_reduction_is_a_value_error_naming_reduction(reduction: Any) -> None:
    for call in every_loss_call(reduction):
        with pytest.raises(ValueError, match="reduction"):
            call()


@pytest.mark.parametrize(
    "call, kind",
    [
        (lambda: mse_loss(Tensor(np.zeros((2, 3))), Tensor(np.zeros(3))), ValueError),
        # shapes that do not even broadcast: RuntimeError, as PyTorch
        (lambda: l1_loss(Tensor(np.zeros((2, 3))), Tensor(np.zeros((3, 2)))), RuntimeError),
        (lambda: binary_cross_entropy(Tensor(np.zeros((2, 3))), Tensor(np.zeros((2, 1)))), ValueError),
        (lambda: binary_cross_entropy_with_logits(Tensor(np.zeros((2, 3))), Tensor(np.zeros((1, 2, 3)))), ValueError),
        (lambda: cross_entropy(Tensor(np.zeros((2, 3))), Tensor(np.zeros((3, 2)))), ValueError),  # batch sizes
        (lambda: cross_entropy(Tensor(np.zeros((2, 3))), Tensor(np.zeros(3, dtype=np.int64))), ValueError),
        # same batch size, other dims differ: RuntimeError, as PyTorch
        (lambda: nll_loss(Tensor(np.zeros((2, 3, 4))), Tensor(np.zeros((2, 3), dtype=np.int64))), RuntimeError),
        (lambda: cross_entropy(Tensor(np.zeros(3)), Tensor(np.zeros(1, dtype=np.int64))), ValueError),
    ],
)
def test_shape_mismatch_is_an_error_naming_both_shapes(call: Callable[[], Tensor], kind: type) -> None:
    with pytest.raises(kind, match=r"\(.*\).*\(.*\)"):
        call()


def test_shape_mismatch_messages_contain_the_actual_shapes() -> None:
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(3,\)"):
        mse_loss(Tensor(np.zeros((2, 3))), Tensor(np.zeros(3)))
    with pytest.raises(ValueError, match=r"\(2,\).*\(2, 3\).*\(3,\)"):
        cross_entropy(Tensor(np.zeros((2, 3))), Tensor(np.zeros(3, dtype=np.int64)))


@pytest.mark.parametrize("loss", [cross_entropy, nll_loss])
def test_float_class_indices_are_a_runtime_error(loss: Callable[..., Tensor]) -> None:
    with pytest.raises(RuntimeError, match=r"target.*integer.*float64"):
        loss(Tensor(np.zeros((2, 3))), Tensor(np.array([0.0, 1.0])))


def test_integer_class_probabilities_are_a_runtime_error() -> None:
    with pytest.raises(RuntimeError, match=r"target.*floating point.*int64"):
        cross_entropy(Tensor(np.zeros((2, 3))), Tensor(np.zeros((2, 3), dtype=np.int64)))


@pytest.mark.parametrize("loss", [cross_entropy, nll_loss])
@pytest.mark.parametrize("bad", [5, 7, -1, -3])
def test_class_index_out_of_range_is_an_index_error_naming_it_and_the_range(
    loss: Callable[..., Tensor], bad: int
) -> None:
    with pytest.raises(IndexError, match=rf"target: class index {bad} out of range \[0, 5\)"):
        loss(Tensor(np.zeros((3, 5))), Tensor(np.array([0, bad, 1])))
    with pytest.raises(IndexError, match=rf"class index {bad} "):
        loss(Tensor(np.zeros((1, 5, 2))), Tensor(np.array([[bad, 0]])), ignore_index=-100)


@pytest.mark.parametrize("shape", [(2,), (3, 1), (4,)])
def test_class_weight_of_wrong_shape_is_a_runtime_error(shape: tuple[int, ...]) -> None:
    for loss in (cross_entropy, nll_loss):
        with pytest.raises(RuntimeError, match=r"weight.*\(3,\)"):
            loss(Tensor(np.zeros((2, 3))), Tensor(np.array([0, 1])), Tensor(np.ones(shape)))


def test_binary_weights_that_do_not_broadcast_to_the_input_are_runtime_errors() -> None:
    x = Tensor(np.full((2, 3), 0.5))
    with pytest.raises(RuntimeError, match="weight"):
        binary_cross_entropy(x, x, Tensor(np.ones(2)))
    with pytest.raises(RuntimeError, match="weight"):
        binary_cross_entropy(x, x, Tensor(np.ones((4, 2, 3))))
    with pytest.raises(RuntimeError, match="pos_weight"):
        binary_cross_entropy_with_logits(x, x, pos_weight=Tensor(np.ones(2)))


@pytest.mark.parametrize("value", [-0.1, 1.5, math.nan])
def test_label_smoothing_outside_0_1_is_a_runtime_error(value: float) -> None:
    with pytest.raises(RuntimeError, match="label_smoothing"):
        cross_entropy(Tensor(np.zeros((2, 3))), Tensor(np.array([0, 1])), label_smoothing=value)


@pytest.mark.parametrize("value", [-1e-3, 1.001, math.nan, -math.inf])
def test_binary_cross_entropy_input_outside_0_1_is_a_runtime_error(value: float) -> None:
    with pytest.raises(RuntimeError, match=r"input.*\[0, 1\]"):
        binary_cross_entropy(Tensor(np.array([0.5, value])), Tensor(np.array([1.0, 0.0])))


def test_ignore_index_of_a_class_with_probability_targets_is_a_runtime_error() -> None:
    with pytest.raises(RuntimeError, match="ignore_index"):
        cross_entropy(Tensor(np.zeros((2, 3))), Tensor(np.full((2, 3), 1 / 3)), ignore_index=1)


def test_non_tensor_inputs_are_type_errors_and_integer_inputs_not_implemented() -> None:
    with pytest.raises(TypeError, match="input"):
        mse_loss(np.zeros(3), Tensor(np.zeros(3)))
    with pytest.raises(TypeError, match="target"):
        cross_entropy(Tensor(np.zeros((2, 3))), [0, 1])
    with pytest.raises(NotImplementedError, match="input.*floating"):  # as PyTorch (a RuntimeError subclass)
        cross_entropy(Tensor(np.zeros((2, 3), dtype=np.int64)), Tensor(np.array([0, 1])))
    with pytest.raises(ValueError, match="input"):
        nll_loss(Tensor(np.array(1.0)), Tensor(np.array(0)))


def test_options_after_weight_are_keyword_only_so_pytorch_positional_calls_fail_loudly() -> None:
    x, t = Tensor(np.zeros((2, 3))), Tensor(np.array([0, 1]))
    with pytest.raises(TypeError):
        cross_entropy(x, t, None, None, -100)  # PyTorch's (weight, size_average, ignore_index) positions
    with pytest.raises(TypeError):
        mse_loss(x, x, "sum")


def test_integer_and_bool_regression_targets_take_the_input_dtype() -> None:
    x = Tensor(np.array([0.5, 0.25], dtype=np.float32))
    assert mse_loss(x, Tensor(np.array([1, 0]))).dtype == np.float32
    loss = binary_cross_entropy_with_logits(x, Tensor(np.array([True, False])), reduction="none")
    assert loss.dtype == np.float32
    np.testing.assert_allclose(loss.data, [bce_logits_ref(0.5, 1.0), bce_logits_ref(0.25, 0.0)], rtol=1e-6)


# -- comparison with PyTorch (only where torch is installed) -----------------------------------------------------
def compare_with_torch(torch: Any, ours: Callable[..., Tensor], theirs: Callable[..., Any], *arrays_: Any) -> None:
    """Same values and same gradients (under a random upstream gradient) for the float arrays among
    ``arrays_``; ``None`` entries pass through."""
    our_leaves = [None if a is None else leaf(a) for a in arrays_]
    # torch gets C-contiguous copies: its nll_loss2d backward with reduction="none" fails ("grad_input must be
    # contiguous") on some permuted layouts that torch.tensor keeps from numpy; ours keeps the drawn layout.
    torch_leaves = [None if a is None else torch.tensor(np.array(a, order="C"), requires_grad=True) for a in arrays_]
    out, expected = ours(*our_leaves), theirs(*torch_leaves)
    assert out.shape == tuple(expected.shape)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-9, atol=1e-12, equal_nan=True)
    if not np.isfinite(out.data).all():
        return
    upstream = np.random.default_rng(0).standard_normal(out.shape)
    out.backward(Tensor(upstream))
    expected.backward(torch.tensor(upstream))
    for i, (a, b) in enumerate(zip(our_leaves, torch_leaves)):
        if a is not None:
            got = np.zeros(a.shape) if a.grad is None else a.grad.data
            want = np.zeros(a.shape) if b.grad is None else b.grad.numpy()
            np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-12, err_msg=f"gradient of argument {i}")


@given(class_cases(), st.booleans())
def test_cross_entropy_and_nll_loss_with_class_indices_match_torch(torch: Any, case: ClassCase, nll: bool) -> None:
    import torch.nn.functional as tf

    target, weight = case.target, case.weight
    kw = case.kwargs if nll else dict(label_smoothing=case.label_smoothing, **case.kwargs)
    ours, theirs = (nll_loss, tf.nll_loss) if nll else (cross_entropy, tf.cross_entropy)
    compare_with_torch(
        torch,
        lambda x: ours(x, Tensor(target), opt(weight), **kw),
        lambda x: theirs(x, torch.tensor(target), None if weight is None else torch.tensor(weight), **kw),
        case.x,
    )  # fmt: skip


@given(class_cases(probabilities=True))
def test_cross_entropy_with_class_probabilities_matches_torch_including_target_and_weight_gradients(
    torch: Any, case: ClassCase
) -> None:
    import torch.nn.functional as tf

    kw = dict(reduction=case.reduction, label_smoothing=case.label_smoothing)
    compare_with_torch(
        torch,
        lambda x, p, w: cross_entropy(x, p, w, **kw),
        lambda x, p, w: tf.cross_entropy(x, p, w, **kw),
        case.x, case.target, case.weight,
    )  # fmt: skip


@given(regression_pair(min_gap=0.01), REDUCTIONS, st.sampled_from(["mse_loss", "l1_loss"]))
def test_mse_and_l1_match_torch(torch: Any, pair: tuple[np.ndarray, np.ndarray], reduction: str, name: str) -> None:
    import torch.nn.functional as tf

    ours = {"mse_loss": mse_loss, "l1_loss": l1_loss}[name]
    compare_with_torch(
        torch, lambda x, y: ours(x, y, reduction=reduction), lambda x, y: getattr(tf, name)(x, y, reduction=reduction),
        *pair,
    )  # fmt: skip


@given(st.data(), REDUCTIONS, st.booleans())
def test_binary_cross_entropy_matches_torch_including_edges_and_target_gradient(
    torch: Any, data: st.DataObject, reduction: str, with_weight: bool
) -> None:
    """Also at x = 0 and 1, where the logs are clamped to -100 and d/dy is infinite in both."""
    import torch.nn.functional as tf

    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=3, max_side=4))
    x = data.draw(probabilities_with_edges(shape))
    y = data.draw(arrays(shape, min_value=0.0, max_value=1.0))
    w = data.draw(arrays(shape[-1:], min_value=0.0, max_value=2.0)) if with_weight else None
    compare_with_torch(
        torch,
        lambda a, b: binary_cross_entropy(a, b, opt(w), reduction=reduction),
        lambda a, b: tf.binary_cross_entropy(a, b, None if w is None else torch.tensor(w), reduction=reduction),
        x, y,
    )  # fmt: skip


@given(st.data(), REDUCTIONS, st.booleans(), st.booleans())
def test_binary_cross_entropy_with_logits_matches_torch_including_target_gradient(
    torch: Any, data: st.DataObject, reduction: str, with_weight: bool, with_pos_weight: bool
) -> None:
    import torch.nn.functional as tf

    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=4))
    x = data.draw(maybe_non_contiguous(shape, min_value=-30.0, max_value=30.0))
    y = data.draw(arrays(shape, min_value=0.0, max_value=1.0))
    w = data.draw(arrays(shape[-1:], min_value=0.0, max_value=2.0)) if with_weight else None
    pw = data.draw(arrays(shape[-1:], min_value=0.0, max_value=4.0)) if with_pos_weight else None
    compare_with_torch(
        torch,
        lambda a, b: binary_cross_entropy_with_logits(a, b, opt(w), reduction=reduction, pos_weight=opt(pw)),
        lambda a, b: tf.binary_cross_entropy_with_logits(
            a, b, None if w is None else torch.tensor(w), reduction=reduction,
            pos_weight=None if pw is None else torch.tensor(pw),
        ),
        x, y,
    )  # fmt: skip
