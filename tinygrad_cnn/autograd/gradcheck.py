"""Numerical gradient checking: compare a function's backward pass with finite differences.

``gradcheck(fn, inputs)`` runs ``fn`` on float64 copies of ``inputs`` and checks that the gradients the
autograd engine computes agree with central differences of the forward pass::

    from tinygrad_cnn import gradcheck
    x = Tensor(np.random.randn(3, 4), requires_grad=True)
    w = Tensor(np.random.randn(4, 2), requires_grad=True)
    assert gradcheck(lambda a, b: (a @ b).tanh(), (x, w))

To test an op of your own (a ``Function`` subclass), call it through ``gradcheck`` on small random
inputs -- a few elements per dimension is plenty, the full check costs one forward pass per input
element and one backward pass per output element. Avoid points where the op is not differentiable
(``relu`` at 0, ``abs`` at 0, ties in ``max``), where central differences are meaningless. If the op is
also meant to be differentiated twice, use ``gradgradcheck`` as well.

Everything runs in float64: each floating-point Tensor input is replaced by a float64 leaf (same values,
same ``requires_grad``), so the finite differences are accurate enough for tight tolerances. The
caller's arrays are never modified; perturbations are applied to private copies.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tinygrad_cnn.autograd.engine import grad as autograd_grad
from tinygrad_cnn.autograd.grad_mode import enable_grad, no_grad

# ``Tensor`` is imported inside the functions: tinygrad_cnn.tensor imports this package.

__all__ = ["GradcheckError", "gradcheck", "gradgradcheck"]


class GradcheckError(RuntimeError):
    """Raised by ``gradcheck`` / ``gradgradcheck`` when analytic and numerical gradients disagree."""


def _as_tuple(x: Any) -> tuple:
    if isinstance(x, tuple):
        return x
    if isinstance(x, list):
        return tuple(x)
    return (x,)


def _is_float_tensor(x: Any) -> bool:
    from tinygrad_cnn.tensor import Tensor

    return isinstance(x, Tensor) and np.dtype(x.dtype).kind == "f"


def _prepare_inputs(inputs: Any) -> tuple:
    """float64 leaves in place of the floating Tensors of ``inputs`` (no copy when already float64)."""
    from tinygrad_cnn.tensor import Tensor

    prepared = []
    for i, x in enumerate(_as_tuple(inputs)):
        if isinstance(x, Tensor):
            requires_grad = bool(x.requires_grad)
            if np.dtype(x.dtype).kind == "f":
                data = x.data
                if data.dtype != np.float64:
                    data = np.array(data, dtype=np.float64, copy=True)
                x = Tensor(data, requires_grad=requires_grad)
            elif requires_grad:
                raise ValueError(f"gradcheck: input {i} requires grad but has non-floating dtype {x.dtype}")
            else:
                x = x.detach()
        prepared.append(x)
    return tuple(prepared)


def _copy_keeping_layout(a: np.ndarray) -> np.ndarray:
    """A private copy of ``a`` with the same strides (transposed, stepped, reversed views stay so).

    Falls back to a C-contiguous copy when ``a`` may overlap itself (e.g. a ``broadcast_to`` view), where
    perturbing one element would perturb several.
    """
    itemsize = a.itemsize
    axes = [(abs(s), n) for s, n in zip(a.strides, a.shape, strict=True) if n > 1]
    if a.size == 0 or any(s % itemsize for s, _ in axes):
        return np.array(a, copy=True)
    span = itemsize
    for stride, n in sorted(axes):
        if stride < span:  # may overlap itself
            return np.array(a, copy=True)
        span = stride * (n - 1) + span
    low = sum(s * (n - 1) for s, n in zip(a.strides, a.shape, strict=True) if s < 0 and n > 1)
    high = sum(s * (n - 1) for s, n in zip(a.strides, a.shape, strict=True) if s > 0 and n > 1)
    buffer = np.zeros((high - low) // itemsize + 1, dtype=a.dtype)
    start = buffer[-low // itemsize :]
    copy = np.lib.stride_tricks.as_strided(start, shape=a.shape, strides=a.strides)
    copy[...] = a
    return copy


def _outputs_tuple(out: Any) -> tuple:
    from tinygrad_cnn.tensor import Tensor

    if isinstance(out, Tensor):
        return (out,)
    if isinstance(out, (tuple, list)):
        return tuple(out)
    raise TypeError(f"gradcheck: fn must return a Tensor or a tuple of Tensors, got {type(out).__name__}")


def _fmt(x: float) -> str:
    return f"{x:.10g}"


class _Checker:
    """State of one ``gradcheck`` call: the prepared inputs, the reference outputs, the random vectors."""

    def __init__(self, fn: Callable[..., Any], inputs: Any, eps: float, atol: float, rtol: float, seed: int) -> None:
        from tinygrad_cnn.tensor import Tensor

        self.fn, self.eps, self.atol, self.rtol, self.seed = fn, eps, atol, rtol, seed
        self.inputs = _prepare_inputs(inputs)
        self.diff = [p for p, x in enumerate(self.inputs) if isinstance(x, Tensor) and x.requires_grad]
        if not self.diff:
            raise ValueError("gradcheck expects at least one input Tensor to require grad")
        with enable_grad():
            outs = _outputs_tuple(fn(*self.inputs))
        self.outputs = outs
        self.out_idx = [k for k, o in enumerate(outs) if _is_float_tensor(o)]
        if not self.out_idx:
            raise ValueError("gradcheck: fn returned no floating-point Tensor output")
        self.rng = np.random.default_rng(seed)
        # Random, non-uniform upstream gradients: a backward that ignores its incoming gradient shows up.
        self.v = {k: self.rng.standard_normal(outs[k].shape) for k in self.out_idx}

    # -- helpers ---------------------------------------------------------------------------------
    def settings(self) -> str:
        return f"(eps={self.eps:g}, atol={self.atol:g}, rtol={self.rtol:g}, seed={self.seed})"

    def diff_names(self) -> str:
        if len(self.diff) == 1:
            return f"input {self.diff[0]}"
        return "inputs " + ", ".join(str(p) for p in self.diff)

    def close(self, analytic: np.ndarray, numeric: np.ndarray) -> np.ndarray:
        return np.abs(analytic - numeric) <= self.atol + self.rtol * np.abs(numeric)

    def evaluate(self, p: int, data: np.ndarray) -> list[np.ndarray]:
        """Float outputs of ``fn`` (float64 copies) with input ``p`` replaced by ``data``, under no_grad."""
        from tinygrad_cnn.tensor import Tensor

        args = list(self.inputs)
        args[p] = Tensor(data, requires_grad=self.inputs[p].requires_grad)
        with no_grad():
            outs = _outputs_tuple(self.fn(*args))
        result = []
        for k in self.out_idx:
            o = outs[k] if k < len(outs) else None
            if not isinstance(o, Tensor) or o.shape != self.outputs[k].shape:
                raise GradcheckError(f"gradcheck: output {k} changed type or shape when input {p} was perturbed")
            result.append(np.array(o.data, dtype=np.float64, copy=True))
        return result

    def backward(self, k: int, grad_output: np.ndarray, what: str) -> list[np.ndarray]:
        """Analytic gradients of output ``k`` weighted by ``grad_output``, one array per input in ``diff``."""
        from tinygrad_cnn.tensor import Tensor

        out = self.outputs[k]
        if not out.requires_grad:  # does not depend on any input: the Jacobian is zero
            return [np.zeros(self.inputs[p].shape) for p in self.diff]
        try:
            grads = autograd_grad(
                (out,),
                tuple(self.inputs[p] for p in self.diff),
                (Tensor(np.asarray(grad_output, dtype=out.dtype)),),
                retain_graph=True,
                allow_unused=True,
            )
        except Exception as exc:  # a backward that crashes (wrong shape, ...) fails the check
            raise GradcheckError(
                f"gradcheck: backward of output {k} with respect to {self.diff_names()} failed while "
                f"computing {what}: {type(exc).__name__}: {exc}"
            ) from exc
        if len(grads) != len(self.diff):
            raise GradcheckError(f"gradcheck: autograd returned {len(grads)} gradients for {len(self.diff)} inputs")
        result = []
        for p, g in zip(self.diff, grads, strict=True):
            x = self.inputs[p]
            if g is None:
                result.append(np.zeros(x.shape))
                continue
            data = g.data if isinstance(g, Tensor) else np.asarray(g)
            if tuple(data.shape) != tuple(x.shape):
                raise GradcheckError(
                    f"gradcheck: the gradient of output {k} with respect to input {p} has shape "
                    f"{tuple(data.shape)}, but input {p} has shape {tuple(x.shape)}"
                )
            if data.dtype != x.dtype:
                raise GradcheckError(
                    f"gradcheck: the gradient of output {k} with respect to input {p} has dtype "
                    f"{data.dtype}, but input {p} has dtype {x.dtype}"
                )
            result.append(np.array(data, dtype=np.float64, copy=True))
        return result

    def vjps(self) -> dict[int, list[np.ndarray]]:
        """Analytic vector-Jacobian products ``v_k^T J_k`` for each float output ``k``."""
        return {k: self.backward(k, self.v[k], "the vector-Jacobian product") for k in self.out_idx}

    # -- full mode -------------------------------------------------------------------------------
    def numeric_jacobian(self, p: int) -> list[np.ndarray]:
        """``J[k]`` of shape (outputs[k].size, inputs[p].size), by central differences, column by column."""
        x = self.inputs[p].data
        work = _copy_keeping_layout(x)
        jac = [np.zeros((self.outputs[k].data.size, x.size)) for k in self.out_idx]
        for col, idx in enumerate(np.ndindex(x.shape)):
            orig = work[idx]
            work[idx] = orig + self.eps
            plus = self.evaluate(p, work)
            work[idx] = orig - self.eps
            minus = self.evaluate(p, work)
            work[idx] = orig
            for j, (a, b) in enumerate(zip(plus, minus, strict=True)):
                jac[j][:, col] = ((a - b) / (2 * self.eps)).ravel()
        return jac

    def analytic_jacobian(self) -> list[list[np.ndarray]]:
        """``J[j][i]`` for output ``out_idx[j]`` and input ``diff[i]``, row by row (one-hot grad_outputs)."""
        jac = []
        for k in self.out_idx:
            out = self.outputs[k]
            rows = [np.zeros((out.data.size, self.inputs[p].data.size)) for p in self.diff]
            for r, oidx in enumerate(np.ndindex(out.shape)):
                one_hot = np.zeros(out.shape)
                one_hot[oidx] = 1.0
                grads = self.backward(k, one_hot, f"row {oidx} of the Jacobian")
                for i, g in enumerate(grads):
                    rows[i][r] = g.ravel()
            jac.append(rows)
        return jac

    def check_full(self) -> None:
        analytic = self.analytic_jacobian()
        vjps = self.vjps()
        for i, p in enumerate(self.diff):
            in_shape = self.inputs[p].shape
            numeric = self.numeric_jacobian(p)
            for j, k in enumerate(self.out_idx):
                a, n = analytic[j][i], numeric[j]
                ok = self.close(a, n)
                if not ok.all():
                    bad = np.argwhere(~ok)
                    excess = (np.abs(a - n) - self.rtol * np.abs(n))[~ok]
                    r, c = bad[int(np.argmax(excess))]
                    out_el = np.unravel_index(r, self.outputs[k].shape)
                    in_el = np.unravel_index(c, in_shape)
                    message = (
                        f"Jacobian mismatch for output {k} with respect to input {p}, at output element "
                        f"{tuple(int(e) for e in out_el)} and input element {tuple(int(e) for e in in_el)}: "
                        f"analytic {_fmt(a[r, c])}, numeric {_fmt(n[r, c])} "
                        f"({len(bad)} of {ok.size} entries differ) {self.settings()}"
                    )
                    if ok.size <= 64:
                        message += f"\nnumeric Jacobian:\n{n}\nanalytic Jacobian:\n{a}"
                    raise GradcheckError(message)
                # The backward with a random (non-one-hot) upstream gradient must give v^T J as well.
                expected = self.v[k].ravel() @ n
                got = vjps[k][i].ravel()
                ok = self.close(got, expected)
                if not ok.all():
                    c = int(np.argmax(np.abs(got - expected) - self.rtol * np.abs(expected)))
                    in_el = np.unravel_index(c, in_shape)
                    raise GradcheckError(
                        f"vector-Jacobian product mismatch for output {k} with respect to input {p}, at "
                        f"input element {tuple(int(e) for e in in_el)}: analytic (backward with a random "
                        f"upstream gradient v) {_fmt(got[c])}, numeric (v^T J) {_fmt(expected[c])} -- the "
                        f"backward may mishandle its incoming gradient {self.settings()}"
                    )

    # -- fast mode -------------------------------------------------------------------------------
    def check_fast(self) -> None:
        vjps = self.vjps()
        for i, p in enumerate(self.diff):
            x = self.inputs[p].data
            u = self.rng.standard_normal(x.shape)
            work = _copy_keeping_layout(x)
            work[...] = x + self.eps * u
            plus = self.evaluate(p, work)
            work[...] = x - self.eps * u
            minus = self.evaluate(p, work)
            for j, k in enumerate(self.out_idx):
                numeric = float(np.sum(self.v[k] * (plus[j] - minus[j])) / (2 * self.eps))
                analytic = float(np.sum(vjps[k][i] * u))
                if not self.close(np.array(analytic), np.array(numeric)):
                    raise GradcheckError(
                        f"fast-mode gradcheck mismatch for output {k} with respect to input {p}: along a "
                        f"random direction u, analytic <backward(v), u> = {_fmt(analytic)}, numeric "
                        f"v^T (f(x + eps u) - f(x - eps u)) / (2 eps) = {_fmt(numeric)} {self.settings()}; "
                        f"rerun with fast_mode=False to find the element"
                    )


def _resolve_seed(seed: int | None) -> int:
    if seed is None:
        return int(np.random.default_rng().integers(2**63))
    return int(seed)


def gradcheck(
    fn: Callable[..., Any],
    inputs: Any,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    fast_mode: bool = False,
    raise_exception: bool = True,
    seed: int | None = None,
) -> bool:
    """Check the gradients of ``fn(*inputs)`` against central finite differences, in float64.

    ``inputs`` is a Tensor or a tuple of Tensors and other values (passed through unchanged). Every
    floating Tensor input becomes a float64 leaf with the same ``requires_grad``; the gradients of the
    floating-point outputs are checked with respect to each input that requires grad.

    Full mode (default) compares, entry by entry with ``|analytic - numeric| <= atol + rtol * |numeric|``:

    * the analytic Jacobian (one backward pass per output element, with one-hot ``grad_outputs``) with
      the numerical one (the input perturbed by ``+-eps``, one element at a time, ``fn`` re-run under
      ``no_grad``);
    * the backward pass with a random, non-uniform upstream gradient ``v`` with ``v^T J_numeric`` --
      this catches a backward that ignores or mis-scales its incoming gradient;
    * and every analytic gradient must have its input's shape and dtype.

    ``fast_mode=True`` instead draws a random direction ``u`` per input and compares the directional
    derivative ``v^T (f(x + eps u) - f(x - eps u)) / (2 eps)`` with ``<backward(v), u>``: two forward
    passes per input and one backward pass per output, but a failure cannot name the element.

    Returns True on success. On failure raises ``GradcheckError`` (naming the input, the output, the
    element and both values), or returns False if ``raise_exception=False``. ``seed`` fixes the random
    ``v`` and ``u``; without it a fresh seed is drawn and shown in error messages.
    """
    try:
        checker = _Checker(fn, inputs, eps, atol, rtol, _resolve_seed(seed))
        if fast_mode:
            checker.check_fast()
        else:
            checker.check_full()
    except GradcheckError:
        if raise_exception:
            raise
        return False
    return True


def gradgradcheck(
    fn: Callable[..., Any],
    inputs: Any,
    grad_outputs: Any = None,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    fast_mode: bool = False,
    raise_exception: bool = True,
    seed: int | None = None,
) -> bool:
    """Check second derivatives: ``gradcheck`` of the backward pass of ``fn``, in float64.

    Runs ``gradcheck`` on ``(*inputs, *grad_outputs) -> autograd.grad(fn(*inputs), inputs_requiring_grad,
    grad_outputs, create_graph=True, allow_unused=True)`` (unused inputs get zero gradients), so both
    the dependence of the gradient on the inputs and on ``grad_outputs`` are verified. Use it for an op
    whose ``backward`` is written with differentiable Tensor operations and must itself be
    differentiable (a backward that computes with detached values or raw numpy passes ``gradcheck`` but
    fails here).

    ``grad_outputs`` (one per floating output that requires grad) defaults to random, non-uniform
    float64 Tensors with ``requires_grad=True``. The other arguments are as for ``gradcheck``.
    """
    from tinygrad_cnn.tensor import Tensor

    seed = _resolve_seed(seed)
    rng = np.random.default_rng(seed)
    prepared = _prepare_inputs(inputs)
    n_inputs = len(prepared)
    with enable_grad():
        outputs = _outputs_tuple(fn(*prepared))
    diff_outputs = [o for o in outputs if _is_float_tensor(o) and o.requires_grad]
    if grad_outputs is None:
        grad_outs = tuple(Tensor(rng.standard_normal(o.shape), requires_grad=True) for o in diff_outputs)
    else:
        grad_outs = tuple(
            g if isinstance(g, Tensor) else Tensor(np.asarray(g, dtype=np.float64)) for g in _as_tuple(grad_outputs)
        )
    if len(grad_outs) != len(diff_outputs):
        raise ValueError(
            f"gradgradcheck: got {len(grad_outs)} grad_outputs for {len(diff_outputs)} differentiable outputs"
        )

    def first_derivative(*args: Any) -> tuple:
        xs, gs = args[:n_inputs], args[n_inputs:]
        diff_xs = tuple(x for x in xs if isinstance(x, Tensor) and x.requires_grad)
        with enable_grad():
            outs = [o for o in _outputs_tuple(fn(*xs)) if _is_float_tensor(o) and o.requires_grad]
            if len(outs) != len(gs):
                raise GradcheckError("gradgradcheck: the set of differentiable outputs of fn changed")
            if outs:
                grads = autograd_grad(tuple(outs), diff_xs, tuple(gs), create_graph=True, allow_unused=True)
            else:
                grads = (None,) * len(diff_xs)
        return tuple(Tensor(np.zeros(x.shape)) if g is None else g for x, g in zip(diff_xs, grads, strict=True))

    try:
        return gradcheck(
            first_derivative,
            prepared + grad_outs,
            eps=eps,
            atol=atol,
            rtol=rtol,
            fast_mode=fast_mode,
            raise_exception=True,
            seed=seed,
        )
    except GradcheckError as exc:
        if not raise_exception:
            return False
        diff = [p for p, x in enumerate(prepared) if isinstance(x, Tensor) and x.requires_grad]
        legend = ", ".join(f"output {j} = d/d(input {p})" for j, p in enumerate(diff))
        n_all = n_inputs + len(grad_outs)
        raise GradcheckError(
            f"gradgradcheck failed: checking the backward pass of fn as a function of fn's inputs "
            f"({_span(0, n_inputs)}) and grad_outputs ({_span(n_inputs, n_all)}); {legend}.\n{exc}"
        ) from exc


def _span(start: int, stop: int) -> str:
    if stop - start == 1:
        return f"input {start}"
    return f"inputs {start}..{stop - 1}" if stop > start else "none"
