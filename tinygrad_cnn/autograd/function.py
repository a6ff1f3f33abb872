"""``Function``: the one mechanism every differentiable op uses, built-in or user-written.

A Function subclass pairs ``forward(ctx, *args)`` with ``backward(ctx, *grad_outputs)``::

    class Square(Function):
        @staticmethod
        def forward(ctx, x):                 # runs without recording, on Tensors or numpy arrays
            ctx.save_for_backward(x)
            return x.data ** 2               # a numpy array or a Tensor
        @staticmethod
        def backward(ctx, grad):             # Tensor operations, so the gradient is itself differentiable
            (x,) = ctx.saved_tensors
            return grad * 2 * x

    y = Square.apply(x)

``apply`` runs ``forward`` with recording off, wraps the outputs in Tensors and, when an input requires
grad, makes the ``ctx`` (an instance of the subclass) the outputs' ``grad_fn``: a node of the graph that
knows its inputs' nodes (``next_functions``) and the tensors saved for backward.
"""

from __future__ import annotations

import traceback
import weakref
from typing import Any

import numpy as np

from tinygrad_cnn.autograd import anomaly, grad_mode

_FREED = (
    "Trying to backward through the graph a second time (or directly access saved tensors after they have "
    "already been freed). Saved intermediate values of the graph are freed when you call .backward() or "
    "autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second time."
)


class AccumulateGrad:
    """Graph node of a leaf tensor that requires grad: adds the incoming gradient into ``tensor.grad``."""

    next_functions: tuple = ()
    _released = False

    def __init__(self, variable: Any) -> None:
        self.variable = variable

    def name(self) -> str:
        return "AccumulateGrad"

    def __repr__(self) -> str:
        return "<AccumulateGrad>"


class Function:
    """Base class of differentiable operations; an instance is the ``ctx`` of one call and its graph node."""

    # Defaults live on the class, so that creating a ctx costs nothing; ``apply`` sets what a call needs.
    needs_input_grad: tuple[bool, ...] = ()
    next_functions: tuple[tuple[Any, int], ...] = ()  # per input: (node receiving its gradient, output slot)
    _to_save: tuple[Any, ...] = ()
    _saved: tuple[Any, ...] | None = None
    _saved_versions: tuple[int, ...] = ()
    _released = False
    _input_meta: tuple[Any, ...] = ()  # per input: (shape, dtype) its gradient must have
    _output_meta: tuple[tuple[tuple[int, ...], np.dtype], ...] = ()
    _tensor_hooks: dict[int, list[Any]] = {}  # output slot -> hooks; replaced per instance by register_hook
    _trace: list[str] | None = None  # creation stack, recorded under detect_anomaly()

    # -- the two methods a subclass writes -------------------------------------------------------
    @staticmethod
    def forward(ctx: Any, *args: Any) -> Any:
        """Compute the output(s) from the inputs; return numpy arrays or Tensors."""
        raise NotImplementedError("a Function subclass must implement forward(ctx, *args)")

    @staticmethod
    def backward(ctx: Any, *grad_outputs: Any) -> Any:
        """Return one gradient (Tensor or None) per forward argument, given one per output."""
        raise NotImplementedError("a Function subclass must implement backward(ctx, *grad_outputs)")

    # -- ctx API ---------------------------------------------------------------------------------
    def save_for_backward(self, *tensors: Any) -> None:
        """Keep Tensors (or numpy arrays, or None) for backward; an output's array is kept as that output."""
        self._to_save = tensors

    @property
    def saved_tensors(self) -> tuple[Any, ...]:
        """The saved values as Tensors; RuntimeError once freed or if one was modified in place."""
        if self._released:
            raise RuntimeError(_FREED)
        saved = self._saved if self._saved is not None else self._to_save
        saved = tuple(s.tensor(self) if isinstance(s, _SavedOutput) else s for s in saved)
        for i, (t, version) in enumerate(zip(saved, self._saved_versions)):
            if t is not None and t._version != version:
                raise RuntimeError(
                    f"one of the variables needed for gradient computation has been modified by an inplace "
                    f"operation: saved tensor {i} of {self.name()} is at version {t._version}; expected "
                    f"version {version} instead."
                )
        return saved

    def name(self) -> str:
        """``MulBackward`` for a Function called ``Mul``, as PyTorch names its nodes."""
        return f"{type(self).__name__}Backward"

    def __repr__(self) -> str:
        return f"<{self.name()}>"

    def _release(self) -> None:
        self._saved = None
        self._to_save = ()
        self._released = True

    # -- running it ------------------------------------------------------------------------------
    @classmethod
    def apply(cls, *args: Any) -> Any:
        """Run ``forward`` on ``args`` and record the call in the graph when an input requires grad."""
        from tinygrad_cnn.tensor import Tensor

        ctx = cls()
        enabled = grad_mode._grad_enabled
        if enabled:
            needs = tuple(isinstance(a, Tensor) and a._requires_grad for a in args)
            record = True in needs
        else:
            needs = (False,) * len(args)
            record = False
        ctx.needs_input_grad = needs
        grad_mode._grad_enabled = False
        try:
            raw = cls.forward(ctx, *args)
        finally:
            grad_mode._grad_enabled = enabled
        single = not isinstance(raw, tuple)
        raw_outputs = (raw,) if single else raw
        outputs = []
        for nr, out in enumerate(raw_outputs):
            arr = out.data if isinstance(out, Tensor) else out
            if not isinstance(arr, np.ndarray):  # numpy gives scalars for 0-d results
                arr = np.asarray(arr)
            t = Tensor(arr)
            if record and arr.dtype.kind == "f":
                t._requires_grad = True
                t.grad_fn = ctx
                t._output_nr = nr
            outputs.append(t)
        if record:
            ctx.next_functions = tuple((a._edge() if need else (None, 0)) for a, need in zip(args, needs))
            ctx._input_meta = tuple((a.shape, a.dtype) if need else None for a, need in zip(args, needs))
            ctx._output_meta = tuple((t.shape, t.dtype) for t in outputs)
            if ctx._to_save:
                ctx._saved = tuple(_as_saved(s, raw_outputs, outputs, Tensor) for s in ctx._to_save)
                ctx._saved_versions = tuple(
                    -1 if s is None else 0 if isinstance(s, _SavedOutput) else s._version for s in ctx._saved
                )
                ctx._to_save = ()
            if anomaly._enabled:
                ctx._trace = traceback.format_stack()[:-1]
        return outputs[0] if single else tuple(outputs)


class _SavedOutput:
    """A node's own output, saved without a strong reference to the output Tensor: holding the Tensor
    would make a cycle (output -> grad_fn -> saved -> output) that only the cyclic garbage collector
    frees, so a graph dropped without backward would linger. ``tensor(node)`` gives back the output (the
    same object while it lives, else an equivalent one with the same data and grad_fn)."""

    __slots__ = ("data", "nr", "ref")

    def __init__(self, out: Any, nr: int) -> None:
        self.data, self.nr, self.ref = out.data, nr, weakref.ref(out)

    def tensor(self, node: Function) -> Any:
        out = self.ref()
        if out is None:
            from tinygrad_cnn.tensor import Tensor

            out = Tensor(self.data)
            if node.next_functions:  # recorded: it is a differentiable output of ``node``
                out._requires_grad, out.grad_fn, out._output_nr = True, node, self.nr
        return out


def _as_saved(value: Any, raw_outputs: tuple, outputs: list, tensor_cls: type) -> Any:
    """A saved value as a Tensor: an output's own array stays that output (so it stays differentiable)."""
    if value is None or isinstance(value, tensor_cls):
        return value
    for nr, (raw, out) in enumerate(zip(raw_outputs, outputs)):
        if value is raw or value is out.data:
            return _SavedOutput(out, nr) if out.grad_fn is not None else out
    return tensor_cls(np.asarray(value))
