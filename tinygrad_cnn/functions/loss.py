"""Loss functions with ``torch.nn.functional``'s semantics: cross_entropy, nll_loss, mse_loss, l1_loss,
binary_cross_entropy, binary_cross_entropy_with_logits.

Every loss takes ``reduction`` in ``{"none", "mean", "sum"}``. The losses are compositions of
differentiable Tensor ops (plus two small ``Function``s: the stable log-sigmoid and the clamped binary
cross entropy), so gradients, double backward and gradients with respect to targets and weights all
come from the ops' own rules.

Differences from PyTorch, all deliberate:

* input and target shapes must match exactly (PyTorch broadcasts ``mse_loss``/``l1_loss`` targets
  with a warning); a mismatch is a ValueError naming both shapes (a RuntimeError, as PyTorch, when the
  shapes do not even broadcast);
* the legacy ``size_average``/``reduce`` arguments do not exist, so everything after ``weight`` is
  keyword-only (a positional call written for PyTorch's signature fails instead of misbinding);
* ``weight``/``pos_weight`` are cast to the input's dtype and gradients flow into them (PyTorch
  refuses ``requires_grad`` weights for ``nll_loss`` and the binary losses);
* with ``reduction="mean"`` and a zero denominator (every target ignored, or the weights of the
  non-ignored targets summing to 0) the loss is nan, as in PyTorch, and the gradient is zero
  (PyTorch gives zero in the first case and nan in the second);
* ``label_smoothing`` outside ``[0, 1]`` (or nan) is a RuntimeError, also for negative values (which
  PyTorch silently accepts with class-index targets);
* class indices may be any integer dtype (PyTorch: int64 or uint8);
* integer/bool targets of the elementwise losses are cast to the input's dtype (PyTorch refuses them for
  the binary losses).

Otherwise bad arguments raise PyTorch's error kinds: TypeError for a wrong type, ValueError for an unknown
``reduction`` or a batch size mismatch, IndexError for a class index out of range, RuntimeError (or its
subclass NotImplementedError, for integer inputs) for values and shapes the loss cannot use.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tinygrad_cnn.autograd.function import Function
from tinygrad_cnn.functions.activation import log_softmax
from tinygrad_cnn.tensor import Tensor

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "l1_loss",
    "mse_loss",
    "nll_loss",
]

_REDUCTIONS = ("none", "mean", "sum")
_BCE_EPS = 1e-12  # PyTorch's floor on x * (1 - x) in the gradient of binary_cross_entropy
_LOG_FLOOR = -100.0  # PyTorch clamps the logs of binary_cross_entropy to >= -100


# -- Functions ------------------------------------------------------------------------------------------
class LogSigmoid(Function):
    """log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)): exact and finite for any finite x."""

    @staticmethod
    def forward(ctx: Any, x: Tensor) -> np.ndarray:
        ctx.save_for_backward(x)
        d = x.data
        return np.minimum(d, 0) - np.log1p(np.exp(-np.abs(d)))

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        return grad * (-x).sigmoid()


class BinaryCrossEntropy(Function):
    """-(y max(log x, -100) + (1 - y) max(log(1 - x), -100)), elementwise, as PyTorch.

    Gradients as PyTorch defines them: d/dx = (x - y) / max(x (1 - x), 1e-12) (finite at x = 0 and 1),
    d/dy = log(1 - x) - log(x) (unclamped: +-inf at x = 0 or 1).
    """

    @staticmethod
    def forward(ctx: Any, x: Tensor, y: Tensor) -> np.ndarray:
        ctx.save_for_backward(x, y)
        xd, yd = x.data, y.data
        with np.errstate(divide="ignore"):
            log_x = np.maximum(np.log(xd), _LOG_FLOOR)
            log_1mx = np.maximum(np.log1p(-xd), _LOG_FLOOR)
        return ((yd - 1) * log_1mx - yd * log_x).astype(xd.dtype, copy=False)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple:
        x, y = ctx.saved_tensors
        need_x, need_y = ctx.needs_input_grad
        gx = grad * (x - y) / (x * (1 - x)).clamp(min=_BCE_EPS) if need_x else None
        gy = None
        if need_y:
            with np.errstate(divide="ignore", invalid="ignore"):  # inf * 0 = nan at x = 0 or 1, as PyTorch
                gy = grad * ((-x).log1p() - x.log())
        return gx, gy


# -- argument checks ------------------------------------------------------------------------------------
def _check_reduction(reduction: Any, op: str) -> str:
    if not isinstance(reduction, str) or reduction not in _REDUCTIONS:
        raise ValueError(f"{op}(): reduction: expected one of 'none', 'mean', 'sum', got {reduction!r}")
    return reduction


def _check_input(x: Any, op: str, min_dims: int = 0, rank_error: type = ValueError) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): input: expected a Tensor, got {type(x).__name__}")
    if x.dtype.kind != "f":
        raise NotImplementedError(
            f"{op}(): input: expected a floating point tensor, got dtype {x.dtype} (convert with .float())"
        )
    if x.ndim < min_dims:
        raise rank_error(f"{op}(): input: expected at least {min_dims} dimension(s), got shape {x.shape}")
    return x


def _check_tensor(x: Any, op: str, name: str) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): {name}: expected a Tensor, got {type(x).__name__}")
    return x


def _same_shape(x: Tensor, target: Tensor, op: str) -> None:
    if x.shape != target.shape:
        try:
            np.broadcast_shapes(x.shape, target.shape)
            kind: type = ValueError  # broadcastable: refused on purpose (PyTorch warns, or refuses with ValueError)
        except ValueError:
            kind = ValueError if op.startswith("binary") else RuntimeError
        raise kind(
            f"{op}(): target: expected the input's shape {x.shape}, got {target.shape} "
            "(shapes must match exactly; broadcasting a target is refused)"
        )


def _float_pair(x: Any, target: Any, op: str) -> tuple[Tensor, Tensor]:
    """Input and target of equal shape and one floating dtype (integer/bool targets take the input's; an
    integer input takes a floating target's, as PyTorch promotes it)."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): input: expected a Tensor, got {type(x).__name__}")
    target = _check_tensor(target, op, "target")
    if x.dtype.kind != "f" and target.dtype.kind == "f" and op in ("mse_loss", "l1_loss"):
        x = x.to(target.dtype)
    x = _check_input(x, op)
    _same_shape(x, target, op)
    dtype = np.result_type(x.dtype, target.dtype) if target.dtype.kind == "f" else x.dtype
    return x.to(dtype), target.to(dtype)


def _aux_weight(w: Any, x: Tensor, op: str, name: str) -> Tensor | None:
    """An elementwise weight that broadcasts to the input's shape, cast to the input's dtype."""
    if w is None:
        return None
    w = _check_tensor(w, op, name)
    if w.dtype.kind not in "fiub":
        raise TypeError(f"{op}(): {name}: expected a numeric tensor, got dtype {w.dtype}")
    try:
        shape = np.broadcast_shapes(w.shape, x.shape)
    except ValueError:
        shape = None
    if shape != x.shape:
        raise RuntimeError(f"{op}(): {name}: shape {w.shape} does not broadcast to the input's shape {x.shape}")
    return w.to(x.dtype)


def _class_weight(weight: Any, n_classes: int, x: Tensor, op: str) -> Tensor | None:
    if weight is None:
        return None
    weight = _check_tensor(weight, op, "weight")
    if weight.dtype.kind not in "fiub":
        raise TypeError(f"{op}(): weight: expected a numeric tensor, got dtype {weight.dtype}")
    if weight.shape != (n_classes,):
        raise RuntimeError(
            f"{op}(): weight: expected a 1-D tensor with one weight per class, shape ({n_classes},), "
            f"got shape {weight.shape}"
        )
    return weight.to(x.dtype)


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    if loss.numel() == 0:  # mean of nothing: nan, as PyTorch (without numpy's empty-slice warning)
        return loss.sum() + math.nan
    return loss.mean()


def _nan_with_zero_grad(total: Tensor) -> Tensor:
    """nan whose gradient is zero: the mean over no (or zero-weight) targets."""
    return total * 0.0 + math.nan


# -- class-index losses ---------------------------------------------------------------------------------
def _index_target(x: Tensor, target: Any, op: str) -> np.ndarray:
    """The class indices as an int64 array, checked against the input: (N, d1, ...) for (N, C, d1, ...)
    and () for an unbatched (C,) input. A batch size mismatch is a ValueError, any other mismatch (or a
    non-integer dtype) a RuntimeError, as in PyTorch."""
    target = _check_tensor(target, op, "target")
    expected = x.shape[:1] + x.shape[2:] if x.ndim >= 2 else ()
    if (x.ndim == 1 and target.ndim >= 1) or (x.ndim >= 2 and (target.ndim == 0 or target.shape[0] != x.shape[0])):
        raise ValueError(
            f"{op}(): target: expected class indices of shape {expected} for input of shape {x.shape}, "
            f"got shape {target.shape} (the batch sizes differ)"
        )
    if target.dtype.kind not in "iu":
        if target.shape == expected:
            raise RuntimeError(
                f"{op}(): target: class indices must be an integer tensor, got dtype {target.dtype}"
                + (f" (class probabilities must have the input's shape {x.shape})" if op == "cross_entropy" else "")
            )
        wanted = f"class indices of shape {expected}"
        if op == "cross_entropy":
            wanted += f" or class probabilities of the input's shape {x.shape}"
        raise RuntimeError(f"{op}(): target: expected {wanted}, got dtype {target.dtype} of shape {target.shape}")
    if target.shape != expected:
        raise RuntimeError(
            f"{op}(): target: expected class indices of shape {expected} for input of shape {x.shape}, "
            f"got shape {target.shape}"
        )
    return target.data.astype(np.int64, copy=False)


def _check_ignore_index(ignore_index: Any, op: str) -> int:
    if isinstance(ignore_index, (bool, np.bool_)) or not isinstance(ignore_index, (int, np.integer)):
        raise TypeError(f"{op}(): ignore_index: expected an int, got {type(ignore_index).__name__}")
    return int(ignore_index)


def _batched(x: Tensor, t: np.ndarray) -> tuple[Tensor, np.ndarray]:
    """An unbatched (C,) input and () target as a batch of one."""
    return (x.reshape(1, x.shape[0]), t.reshape(1)) if x.ndim == 1 else (x, t)


def _class_index_loss(
    logp: Tensor,
    t: np.ndarray,
    weight: Tensor | None,
    ignore_index: int,
    reduction: str,
    label_smoothing: float,
    op: str,
) -> Tensor:
    """-w[t] logp[t] per target (with PyTorch's label smoothing), reduced; ``logp`` is (N, C, d1, ...)."""
    n_classes = logp.shape[1]
    valid = t != ignore_index
    bad = valid & ((t < 0) | (t >= n_classes))
    if bad.any():
        raise IndexError(f"{op}(): target: class index {int(t[bad][0])} out of range [0, {n_classes})")
    safe = np.where(valid, t, 0)
    grids: tuple[np.ndarray, ...] = np.indices(t.shape, sparse=True) if t.ndim else ()
    index = (grids[0], safe, *grids[1:])  # built apart: mypy reads a starred subscript as 3.11-only syntax
    picked = logp[index]  # logp[n, t[n, ...], ...], shape t.shape
    w_t = None if weight is None else weight[safe]
    # where() gives ignored targets exactly zero value and gradient (even for -inf log-probabilities).
    nll = (-(picked if w_t is None else picked * w_t)).where(valid, 0.0)
    smooth = None
    if label_smoothing > 0:
        weighted = logp if weight is None else logp * weight.reshape((n_classes,) + (1,) * (logp.ndim - 2))
        smooth = (-weighted.sum(1)).where(valid, 0.0)
    if reduction == "none":
        loss = nll
        if smooth is not None:
            loss = nll * (1 - label_smoothing) + smooth * (label_smoothing / n_classes)
        return loss
    total = nll.sum()
    if smooth is not None:
        total = total * (1 - label_smoothing) + smooth.sum() * (label_smoothing / n_classes)
    if reduction == "sum":
        return total
    # mean: divide by the summed weights of the non-ignored targets (their count without weight)
    if w_t is None:
        count = int(valid.sum())
        return total / count if count else _nan_with_zero_grad(total)
    denominator = w_t.where(valid, 0.0).sum()
    if denominator.data == 0:
        return _nan_with_zero_grad(total)
    return total / denominator


def nll_loss(
    input: Tensor,  # noqa: A002 - PyTorch's name
    target: Tensor,
    weight: Tensor | None = None,
    *,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> Tensor:
    """Negative log likelihood: -weight[t] * input[n, t] per target ``t = target[n, ...]``.

    input (N, C), (N, C, d1, ...) or unbatched (C,) log-probabilities; target integer class indices of
    shape (N,), (N, d1, ...) or (). Targets equal to ``ignore_index`` contribute nothing (value and
    gradient). ``reduction="mean"`` divides by the summed weights of the non-ignored targets.
    """
    op = "nll_loss"
    reduction = _check_reduction(reduction, op)
    x = _check_input(input, op, min_dims=1)
    ignore_index = _check_ignore_index(ignore_index, op)
    t = _index_target(x, target, op)
    w = _class_weight(weight, x.shape[1] if x.ndim >= 2 else x.shape[0], x, op)
    xb, tb = _batched(x, t)
    loss = _class_index_loss(xb, tb, w, ignore_index, reduction, 0.0, op)
    return loss.reshape(()) if reduction == "none" and x.ndim == 1 else loss


def cross_entropy(
    input: Tensor,  # noqa: A002 - PyTorch's name
    target: Tensor,
    weight: Tensor | None = None,
    *,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Cross entropy between logits and targets: ``nll_loss(log_softmax(input, 1), target)``, stable for
    logits of +-1e4 in float32.

    input (N, C), (N, C, d1, ...) or unbatched (C,) logits. target either integer class indices of shape
    (N,), (N, d1, ...) or () -- ``ignore_index`` targets contribute nothing, ``reduction="mean"`` divides
    by the summed ``weight`` of the other targets -- or float class probabilities of the input's shape
    (mean divides by N * d1 * ...). ``label_smoothing`` eps in [0, 1] mixes in the uniform distribution:
    (1 - eps) * loss + eps / C * sum_c -weight[c] * log p_c, with the same mean denominator (indices),
    or targets (1 - eps) * p + eps / C (probabilities).
    """
    op = "cross_entropy"
    reduction = _check_reduction(reduction, op)
    x = _check_input(input, op, min_dims=1, rank_error=RuntimeError)
    ignore_index = _check_ignore_index(ignore_index, op)
    if not isinstance(label_smoothing, (int, float, np.floating, np.integer)):
        raise TypeError(f"{op}(): label_smoothing: expected a float, got {type(label_smoothing).__name__}")
    eps = float(label_smoothing)
    if not 0.0 <= eps <= 1.0:
        raise RuntimeError(f"{op}(): label_smoothing: expected a value in [0, 1], got {label_smoothing}")
    target = _check_tensor(target, op, "target")
    class_dim = 1 if x.ndim >= 2 else 0
    n_classes = x.shape[class_dim]
    w = _class_weight(weight, n_classes, x, op)
    logp = log_softmax(x, dim=class_dim)
    if target.shape == x.shape:  # class probabilities (an index target never has the input's shape)
        return _probability_loss(logp, target, w, ignore_index, reduction, eps, op)
    t = _index_target(x, target, op)
    lb, tb = _batched(logp, t)
    loss = _class_index_loss(lb, tb, w, ignore_index, reduction, eps, op)
    return loss.reshape(()) if reduction == "none" and x.ndim == 1 else loss


def _probability_loss(
    logp: Tensor, target: Tensor, weight: Tensor | None, ignore_index: int, reduction: str, eps: float, op: str
) -> Tensor:
    """-sum_c weight[c] * p_c * log q_c over the class dim, for class-probability targets ``p``."""
    if target.dtype.kind != "f":
        raise RuntimeError(
            f"{op}(): target: class probabilities (a target of the input's shape {logp.shape}) must be a "
            f"floating point tensor, got dtype {target.dtype}"
        )
    if ignore_index >= 0:  # as PyTorch: a real class index cannot be ignored in a probability target
        raise RuntimeError(f"{op}(): ignore_index: not supported for class-probability targets, got {ignore_index}")
    class_dim = 1 if logp.ndim >= 2 else 0
    n_classes = logp.shape[class_dim]
    p = target if eps == 0 else target * (1 - eps) + eps / n_classes
    prod = logp * p
    if weight is not None:
        prod = prod * weight.reshape((n_classes,) + (1,) * (logp.ndim - class_dim - 1))
    per_sample = -prod.sum(class_dim)
    return _reduce(per_sample, reduction)


# -- elementwise losses ---------------------------------------------------------------------------------
def mse_loss(input: Tensor, target: Tensor, *, reduction: str = "mean") -> Tensor:  # noqa: A002
    """Squared error (input - target)^2, reduced. input and target of one shape (no broadcasting)."""
    op = "mse_loss"
    reduction = _check_reduction(reduction, op)
    x, y = _float_pair(input, target, op)
    diff = x - y
    return _reduce(diff * diff, reduction)


def l1_loss(input: Tensor, target: Tensor, *, reduction: str = "mean") -> Tensor:  # noqa: A002
    """Absolute error |input - target|, reduced (gradient 0 where they are equal). Same shapes only."""
    op = "l1_loss"
    reduction = _check_reduction(reduction, op)
    x, y = _float_pair(input, target, op)
    return _reduce((x - y).abs(), reduction)


def binary_cross_entropy(
    input: Tensor,  # noqa: A002
    target: Tensor,
    weight: Tensor | None = None,
    *,
    reduction: str = "mean",
) -> Tensor:
    """-weight * (y log x + (1 - y) log(1 - x)) with each log clamped to >= -100, as PyTorch.

    input probabilities x in [0, 1] (else RuntimeError), target y of the same shape; ``weight`` broadcasts
    to the input's shape. Differentiable in x and y (d/dy = log(1 - x) - log x).
    """
    op = "binary_cross_entropy"
    reduction = _check_reduction(reduction, op)
    x, y = _float_pair(input, target, op)
    d = x.data
    outside = ~((d >= 0) & (d <= 1))
    if outside.any():
        raise RuntimeError(
            f"{op}(): input: all elements should be probabilities in [0, 1], got {float(d[outside].flat[0])} "
            "(use binary_cross_entropy_with_logits for logits)"
        )
    w = _aux_weight(weight, x, op, "weight")
    loss = BinaryCrossEntropy.apply(x, y)
    return _reduce(loss if w is None else loss * w, reduction)


def binary_cross_entropy_with_logits(
    input: Tensor,  # noqa: A002
    target: Tensor,
    weight: Tensor | None = None,
    *,
    reduction: str = "mean",
    pos_weight: Tensor | None = None,
) -> Tensor:
    """Binary cross entropy on logits x, stable for any finite x (PyTorch's formula):
    weight * ((1 - y) x - (1 + (pos_weight - 1) y) log sigmoid(x)).

    target y of the input's shape; ``weight`` and ``pos_weight`` broadcast to the input's shape
    (``pos_weight`` of shape (C,) weights the positives of each class along the last dim).
    """
    op = "binary_cross_entropy_with_logits"
    reduction = _check_reduction(reduction, op)
    x, y = _float_pair(input, target, op)
    w = _aux_weight(weight, x, op, "weight")
    pw = _aux_weight(pos_weight, x, op, "pos_weight")
    log_sig = LogSigmoid.apply(x)
    loss = (1 - y) * x - (log_sig if pw is None else ((pw - 1) * y + 1) * log_sig)
    return _reduce(loss if w is None else loss * w, reduction)
