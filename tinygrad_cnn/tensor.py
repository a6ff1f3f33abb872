"""``Tensor``: a numpy array plus what autograd needs (``requires_grad``, ``grad``, ``grad_fn``).

Every differentiable method forwards to a ``Function`` in ``tinygrad_cnn.functions``; the methods here
only validate arguments and pick the op. Data lives in ``Tensor.data`` (a numpy array, NCHW for images).
"""

from __future__ import annotations

import builtins
import weakref
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from tinygrad_cnn import dtypes
from tinygrad_cnn.autograd import engine, grad_mode
from tinygrad_cnn.autograd.function import AccumulateGrad

Scalar = int | float | bool


class Tensor:
    """An n-dimensional array that records the operations applied to it for ``backward()``.

    ``Tensor(array)`` wraps a numpy array without copying; use ``tinygrad_cnn.tensor(data)`` to build one
    from Python data with PyTorch's dtype rules.
    """

    __slots__ = (
        "data", "_grad", "grad_fn", "_requires_grad", "_output_nr", "_version", "_hooks", "_accumulator",
        "_retains_grad", "__weakref__",
    )  # fmt: skip
    __array_priority__ = 1000  # numpy defers to Tensor's reflected operators (ndarray + Tensor -> Tensor)

    def __init__(self, data: Any, requires_grad: bool = False) -> None:
        if isinstance(data, Tensor):
            data = data.data
        self.data: np.ndarray = data if isinstance(data, np.ndarray) else np.asarray(data)
        self._grad: Tensor | None = None
        self.grad_fn: Any = None
        self._requires_grad = False
        self._output_nr = 0
        self._version = 0
        self._hooks: list[Callable] = []
        self._accumulator: Any = None
        self._retains_grad = False
        if requires_grad:
            self.requires_grad = True

    # -- autograd state -------------------------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        """Whether gradients flow to this tensor; only floating tensors may require grad."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if self.grad_fn is not None:
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use a computed "
                "variable in a subgraph that doesn't require differentiation use var_no_grad = var.detach()."
            )
        if value and self.data.dtype.kind != "f":
            raise RuntimeError(
                f"only Tensors of floating point dtype can require gradients; got dtype {dtypes.name(self.dtype)}"
            )
        self._requires_grad = bool(value)

    @property
    def grad(self) -> Tensor | None:
        """The gradient accumulated by ``backward()`` (same shape and dtype as self), or None."""
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(
                    f"assigned grad expected to be a Tensor or None but got grad of type {type(value).__name__}"
                )
            if value.shape != self.shape:
                raise RuntimeError(f"assigned grad has data of a different size: expected shape {self.shape}, "
                                   f"got {value.shape}")  # fmt: skip
            if value.dtype != self.dtype:
                raise RuntimeError(f"assigned grad has data of a different type: expected {dtypes.name(self.dtype)}, "
                                   f"got {dtypes.name(value.dtype)}")  # fmt: skip
        self._grad = value

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` in place and return self."""
        self.requires_grad = requires_grad
        return self

    @property
    def is_leaf(self) -> bool:
        """True for tensors not produced by a recorded op (user-created, or ``requires_grad=False``)."""
        return self.grad_fn is None

    def _edge(self) -> tuple[Any, int]:
        """The graph node that receives this tensor's gradient, with the output slot it arrives in."""
        if self.grad_fn is not None:
            return self.grad_fn, self._output_nr
        acc = self._accumulator() if self._accumulator is not None else None
        if acc is None:
            acc = AccumulateGrad(self)
            self._accumulator = weakref.ref(acc)
        return acc, 0

    def backward(self, gradient: Any = None, retain_graph: bool | None = None, create_graph: bool = False,
                 inputs: Any = None) -> None:  # fmt: skip
        """Accumulate d(self)/d(leaf), weighted by ``gradient``, into every leaf's ``.grad``.

        ``gradient`` is required unless self has one element. The graph's saved tensors are freed
        afterwards unless ``retain_graph=True``; ``create_graph=True`` makes the gradients differentiable.
        """
        if gradient is not None and not isinstance(gradient, (Tensor, np.ndarray, int, float, np.number)):
            raise TypeError(f"backward(): gradient: expected a Tensor or None, got {type(gradient).__name__}")
        engine.backward(self, gradient, retain_graph, create_graph, inputs)

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> Any:
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned Tensor replaces it."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is None:
            hooks = self._hooks
        else:
            if "_tensor_hooks" not in vars(self.grad_fn):
                self.grad_fn._tensor_hooks = {}
            hooks = self.grad_fn._tensor_hooks.setdefault(self._output_nr, [])
        hooks.append(hook)
        return _RemovableHandle(hooks, hook)

    def retain_grad(self) -> None:
        """Make a non-leaf tensor keep its gradient in ``.grad`` after backward (no-op on leaves)."""
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is None or self._retains_grad:
            return
        self._retains_grad = True
        ref = weakref.ref(self)

        def keep(g: Tensor) -> None:
            t = ref()
            if t is not None:
                t.grad = g.detach().clone() if t.grad is None else t.grad + g.detach()

        self.register_hook(keep)

    def detach(self) -> Tensor:
        """A tensor sharing this one's data, cut from the graph."""
        return Tensor(self.data)

    def detach_(self) -> Tensor:
        """Cut this tensor from the graph in place."""
        self.grad_fn = None
        self._requires_grad = False
        return self

    # -- metadata --------------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        """The size of each dimension, as a tuple."""
        return self.data.shape

    @property
    def ndim(self) -> int:
        """Number of dimensions."""
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        """Element type, e.g. ``tinygrad_cnn.float32`` (a numpy dtype)."""
        return self.data.dtype

    @property
    def device(self) -> str:
        """Always ``"cpu"``."""
        return "cpu"

    def is_floating_point(self) -> bool:
        """True for float16/32/64 tensors."""
        return self.data.dtype.kind == "f"

    def dim(self) -> int:
        """Number of dimensions (PyTorch's ``Tensor.dim()``)."""
        return self.data.ndim

    def size(self, dim: int | None = None) -> Any:
        """The shape, or the size of one dimension."""
        if dim is None:
            return self.data.shape
        return self.data.shape[_dim(dim, self.ndim)]

    def numel(self) -> int:
        """Number of elements."""
        return int(self.data.size)

    def element_size(self) -> int:
        return int(self.data.itemsize)

    def is_contiguous(self) -> bool:
        """Whether the data is C-contiguous."""
        return bool(self.data.flags.c_contiguous)

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    # -- conversion ------------------------------------------------------------------------------
    def numpy(self) -> np.ndarray:
        """The underlying numpy array (no copy). Refused on a tensor that requires grad, as in PyTorch."""
        if self.requires_grad:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        return self.data

    def item(self) -> Scalar:
        """The value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise RuntimeError(f"a Tensor with {self.data.size} elements cannot be converted to Scalar")
        return self.data.reshape(()).item()

    def tolist(self) -> Any:
        """Nested Python lists of the values."""
        return self.data.tolist()

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self.data if dtype is None else self.data.astype(dtype)

    def __float__(self) -> float:
        if self.data.size != 1:
            raise ValueError(f"only one element tensors can be converted to Python scalars, got {self.data.size}")
        return float(self.item())

    def __int__(self) -> int:
        if self.data.size != 1:
            raise ValueError(f"only one element tensors can be converted to Python scalars, got {self.data.size}")
        return int(self.item())

    def __index__(self) -> int:
        if self.dtype.kind not in "iu" or self.data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with {self.data.size} values is ambiguous")
        return bool(self.item())

    __hash__ = object.__hash__

    def to(self, *args: Any, **kwargs: Any) -> Tensor:
        """``to(dtype)`` converts (differentiably between float types); ``to("cpu")`` returns self."""
        dtype = kwargs.get("dtype")
        for a in list(args) + ([kwargs["device"]] if kwargs.get("device") is not None else []):
            if isinstance(a, str) and a.split(":")[0] == "cpu":
                continue
            if isinstance(a, str) and a.removeprefix("torch.").removeprefix("tinygrad_cnn.") not in dtypes._BY_NAME:
                raise RuntimeError(f"to(): expected the device 'cpu' (the only one) or a dtype, got {a!r}")
            if isinstance(a, (int, np.integer)) and not isinstance(a, bool):
                raise RuntimeError(f"to(): device index {a}: there is no accelerator; the only device is 'cpu'")
            dtype = a
        if dtype is None:
            return self
        target = dtypes.to_dtype(dtype)
        if target == self.dtype:
            return self
        return _array.Cast.apply(self, target)

    def type(self, dtype: Any) -> Tensor:
        if isinstance(dtype, str) and dtype.removeprefix("torch.").removeprefix("tinygrad_cnn.") not in dtypes._BY_NAME:
            raise ValueError(f"type(): dtype: invalid type {dtype!r}")
        return self.to(dtype)

    def float(self) -> Tensor:
        """Convert to float32."""
        return self.to(dtypes.float32)

    def double(self) -> Tensor:
        """Convert to float64."""
        return self.to(dtypes.float64)

    def half(self) -> Tensor:
        return self.to(dtypes.float16)

    def long(self) -> Tensor:
        """Convert to int64 (not differentiable)."""
        return self.to(dtypes.int64)

    def int(self) -> Tensor:
        return self.to(dtypes.int32)

    def bool(self) -> Tensor:
        return self.to(dtypes.bool)

    def cpu(self) -> Tensor:
        return self

    def clone(self) -> Tensor:
        """A differentiable copy with its own memory."""
        return _array.Clone.apply(self)

    def __repr__(self) -> str:
        return _format(self)

    __str__ = __repr__

    # -- arithmetic operators ----------------------------------------------------------------------
    def __add__(self, other: Any) -> Tensor:
        return _basic.add(self, other)

    def __radd__(self, other: Any) -> Tensor:
        return _basic.add(other, self)

    def __sub__(self, other: Any) -> Tensor:
        return _basic.sub(self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return _basic.sub(other, self)

    def __mul__(self, other: Any) -> Tensor:
        return _basic.mul(self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return _basic.mul(other, self)

    def __truediv__(self, other: Any) -> Tensor:
        return _basic.div(self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return _basic.div(other, self)

    def __pow__(self, other: Any) -> Tensor:
        return _basic.pow(self, other)

    def __rpow__(self, other: Any) -> Tensor:
        return _basic.pow(other, self)

    def __matmul__(self, other: Any) -> Tensor:
        return _linalg.matmul(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return _linalg.matmul(other, self)

    def __neg__(self) -> Tensor:
        return _basic.neg(self)

    def __pos__(self) -> Tensor:
        return self

    def __abs__(self) -> Tensor:
        return _math.abs(self)

    # comparisons give bool tensors (no gradient)
    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return _math.compare(np.equal, self, other)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return _math.compare(np.not_equal, self, other)

    def __lt__(self, other: Any) -> Tensor:
        return _math.compare(np.less, self, other)

    def __le__(self, other: Any) -> Tensor:
        return _math.compare(np.less_equal, self, other)

    def __gt__(self, other: Any) -> Tensor:
        return _math.compare(np.greater, self, other)

    def __ge__(self, other: Any) -> Tensor:
        return _math.compare(np.greater_equal, self, other)

    def __invert__(self) -> Tensor:
        if self.dtype.kind not in "biu":
            raise TypeError(f"~ needs a bool or integer tensor, got {dtypes.name(self.dtype)}")
        return Tensor(~self.data)

    def __and__(self, other: Any) -> Tensor:
        return _math.compare(np.bitwise_and, self, other)

    def __or__(self, other: Any) -> Tensor:
        return _math.compare(np.bitwise_or, self, other)

    def __xor__(self, other: Any) -> Tensor:
        return _math.compare(np.bitwise_xor, self, other)

    def eq(self, other: Any) -> Tensor:
        return self.__eq__(other)

    def ne(self, other: Any) -> Tensor:
        return self.__ne__(other)

    def lt(self, other: Any) -> Tensor:
        return self.__lt__(other)

    def le(self, other: Any) -> Tensor:
        return self.__le__(other)

    def gt(self, other: Any) -> Tensor:
        return self.__gt__(other)

    def ge(self, other: Any) -> Tensor:
        return self.__ge__(other)

    def equal(self, other: Tensor) -> builtins.bool:
        """True when both have the same shape and values."""
        return self.shape == other.shape and bool(np.array_equal(self.data, other.data))

    def allclose(self, other: Tensor, rtol: builtins.float = 1e-5, atol: builtins.float = 1e-8) -> builtins.bool:
        return bool(np.allclose(self.data, _data(other), rtol=rtol, atol=atol))

    # -- in-place operators (only outside the graph) ---------------------------------------------
    def _inplace(self, name: str, fn: Callable[[np.ndarray], Any]) -> Tensor:
        if grad_mode._grad_enabled and self.requires_grad:
            what = "a leaf Variable that requires grad" if self.grad_fn is None else "a tensor that is part of a graph"
            raise RuntimeError(
                f"{name}: {what} is being used in an in-place operation. In-place operations are allowed on "
                "tensors that do not require grad, or inside `with tinygrad_cnn.no_grad():`."
            )
        try:
            fn(self.data)
        except (TypeError, ValueError) as e:  # numpy casting errors are TypeErrors
            raise RuntimeError(f"{name}: cannot update a {dtypes.name(self.dtype)} tensor of shape {self.shape} "
                               f"in place: {e}") from None  # fmt: skip
        self._version += 1
        return self

    def _operand(self, x: Any, op: str, name: str = "other") -> Any:
        """Check an in-place operand (a Tensor, a number, or array-like data) before numpy sees it: TypeError
        for a non-number, RuntimeError for a shape that does not broadcast to self's shape (as PyTorch)."""
        if isinstance(x, (int, float, np.number, np.bool_)):  # bool is an int
            return x
        if isinstance(x, Tensor):
            shape = x.shape
        elif isinstance(x, (np.ndarray, list, tuple)):
            arr = np.asarray(x)
            if arr.dtype.kind not in "fiub":
                raise TypeError(f"{op}(): {name}: expected a Tensor or a number, got {type(x).__name__} of {arr.dtype}")
            shape = arr.shape
        else:
            raise TypeError(f"{op}(): {name}: expected a Tensor or a number, got {type(x).__name__}")
        if shape != self.shape:
            try:
                fits = np.broadcast_shapes(shape, self.shape) == self.shape
            except ValueError:
                fits = False
            if not fits:
                raise RuntimeError(
                    f"{op}(): {name}: shape {shape} does not broadcast to the shape {self.shape} of the tensor "
                    "updated in place"
                )
        return x.data if isinstance(x, Tensor) else x

    @staticmethod
    def _number(v: Any, op: str, name: str) -> Any:
        if not isinstance(v, (int, float, np.number, np.bool_)):
            raise TypeError(f"{op}(): {name}: expected a number, got {type(v).__name__}")
        return v

    def __iadd__(self, other: Any) -> Tensor:
        return self.add_(other)

    def __isub__(self, other: Any) -> Tensor:
        return self.sub_(other)

    def __imul__(self, other: Any) -> Tensor:
        return self.mul_(other)

    def __itruediv__(self, other: Any) -> Tensor:
        return self.div_(other)

    def add_(self, other: Any, alpha: Scalar = 1) -> Tensor:
        """In place: ``self += alpha * other``."""
        o = self._operand(other, "add_")
        self._number(alpha, "add_", "alpha")
        return self._inplace("add_", lambda d: np.add(d, o if alpha == 1 else o * alpha, out=d))

    def sub_(self, other: Any, alpha: Scalar = 1) -> Tensor:
        """In place: ``self -= alpha * other``."""
        o = self._operand(other, "sub_")
        self._number(alpha, "sub_", "alpha")
        return self._inplace("sub_", lambda d: np.subtract(d, o if alpha == 1 else o * alpha, out=d))

    def mul_(self, other: Any) -> Tensor:
        """In place: ``self *= other``."""
        o = self._operand(other, "mul_")
        return self._inplace("mul_", lambda d: np.multiply(d, o, out=d))

    def div_(self, other: Any) -> Tensor:
        """In place: ``self /= other``."""
        o = self._operand(other, "div_")
        return self._inplace("div_", lambda d: np.divide(d, o, out=d))

    def pow_(self, exponent: Any) -> Tensor:
        o = self._operand(exponent, "pow_", "exponent")
        return self._inplace("pow_", lambda d: np.power(d, o, out=d))

    def addcmul_(self, t1: Any, t2: Any, value: Scalar = 1) -> Tensor:
        """In place: ``self += value * t1 * t2``."""
        self._operand(t1, "addcmul_", "tensor1"), self._operand(t2, "addcmul_", "tensor2")
        self._number(value, "addcmul_", "value")
        return self._inplace("addcmul_", lambda d: np.add(d, value * (_data(t1) * _data(t2)), out=d))

    def addcdiv_(self, t1: Any, t2: Any, value: Scalar = 1) -> Tensor:
        """In place: ``self += value * t1 / t2``."""
        self._operand(t1, "addcdiv_", "tensor1"), self._operand(t2, "addcdiv_", "tensor2")
        self._number(value, "addcdiv_", "value")
        return self._inplace("addcdiv_", lambda d: np.add(d, value * (_data(t1) / _data(t2)), out=d))

    def clamp_(self, min: Any = None, max: Any = None) -> Tensor:
        """In place: clip the values to ``[min, max]``."""
        if min is None and max is None:
            raise RuntimeError("clamp_(): at least one of 'min' or 'max' must not be None")
        for name, bound in (("min", min), ("max", max)):
            if bound is not None:
                self._operand(bound, "clamp_", name)
        return self._inplace("clamp_", lambda d: np.clip(d, _data(min), _data(max), out=d))

    def zero_(self) -> Tensor:
        """In place: fill with zeros."""
        return self._inplace("zero_", lambda d: d.fill(0))

    def fill_(self, value: Scalar) -> Tensor:
        """In place: fill with ``value`` (a number or a 0-d tensor)."""
        if isinstance(value, Tensor) and value.ndim != 0:
            raise RuntimeError(f"fill_(): value: expected a number or a 0-d tensor, got shape {value.shape}")
        if not isinstance(value, Tensor):
            self._number(value, "fill_", "value")
        return self._inplace("fill_", lambda d: d.fill(_data(value)))

    def copy_(self, src: Any) -> Tensor:
        """In place: copy ``src`` (broadcast to self's shape, cast to self's dtype as PyTorch) into self."""
        src = self._operand(src, "copy_", "src")
        return self._inplace("copy_", lambda d: np.copyto(d, src, casting="unsafe"))

    def uniform_(self, a: builtins.float = 0.0, b: builtins.float = 1.0, generator: Any = None) -> Tensor:
        """In place: fill with samples of U(a, b) from the global (or the given) generator."""
        from tinygrad_cnn.random import numpy_generator

        self._number(a, "uniform_", "from"), self._number(b, "uniform_", "to")
        if self.dtype.kind != "f":
            raise NotImplementedError(f"uniform_(): expected a floating point tensor, got dtype {self.dtype}")
        if a > b:
            raise RuntimeError(f"uniform_(): expected a <= b (the range [a, b)), got a={a} > b={b}")
        rng = numpy_generator(generator)
        return self._inplace("uniform_", lambda d: np.copyto(d, rng.uniform(a, b, d.shape), casting="unsafe"))

    def normal_(self, mean: builtins.float = 0.0, std: builtins.float = 1.0, generator: Any = None) -> Tensor:
        """In place: fill with samples of N(mean, std^2) from the global (or the given) generator."""
        from tinygrad_cnn.random import numpy_generator

        self._number(mean, "normal_", "mean"), self._number(std, "normal_", "std")
        if self.dtype.kind != "f":
            raise NotImplementedError(f"normal_(): expected a floating point tensor, got dtype {self.dtype}")
        if std < 0:
            raise RuntimeError(f"normal_(): std: expected a value >= 0, got {std}")
        rng = numpy_generator(generator)
        return self._inplace("normal_", lambda d: np.copyto(d, rng.normal(mean, std, d.shape), casting="unsafe"))

    # -- elementwise math ------------------------------------------------------------------------
    def add(self, other: Any, alpha: Scalar = 1) -> Tensor:
        self._number(alpha, "add", "alpha")
        return _basic.add(self, other if alpha == 1 else _basic.mul(other, alpha))

    def sub(self, other: Any, alpha: Scalar = 1) -> Tensor:
        self._number(alpha, "sub", "alpha")
        return _basic.sub(self, other if alpha == 1 else _basic.mul(other, alpha))

    def mul(self, other: Any) -> Tensor:
        return _basic.mul(self, other)

    def div(self, other: Any) -> Tensor:
        return _basic.div(self, other)

    def pow(self, exponent: Any) -> Tensor:
        return _basic.pow(self, exponent)

    def neg(self) -> Tensor:
        return _basic.neg(self)

    def abs(self) -> Tensor:
        return _math.abs(self)

    def exp(self) -> Tensor:
        return _math.exp(self)

    def log(self) -> Tensor:
        return _math.log(self)

    def log1p(self) -> Tensor:
        return _math.log1p(self)

    def sqrt(self) -> Tensor:
        return _math.sqrt(self)

    def rsqrt(self) -> Tensor:
        return _math.rsqrt(self)

    def sin(self) -> Tensor:
        return _math.sin(self)

    def cos(self) -> Tensor:
        return _math.cos(self)

    def square(self) -> Tensor:
        return _basic.mul(self, self)

    def sign(self) -> Tensor:
        """Sign of each element (-1, 0 or 1); its gradient is zero."""
        return _math.sign(self)

    def maximum(self, other: Any) -> Tensor:
        return _math.maximum(self, other)

    def minimum(self, other: Any) -> Tensor:
        return _math.minimum(self, other)

    def clamp(self, min: Any = None, max: Any = None) -> Tensor:
        return _math.clamp(self, min, max)

    clip = clamp

    def where(self, condition: Any, other: Any) -> Tensor:
        """``condition ? self : other``, elementwise (PyTorch's ``Tensor.where``)."""
        return _math.where(condition, self, other)

    def tanh(self) -> Tensor:
        return _act.tanh(self)

    def sigmoid(self) -> Tensor:
        return _act.sigmoid(self)

    def relu(self) -> Tensor:
        return _act.relu(self)

    def softmax(self, dim: builtins.int) -> Tensor:
        return _act.softmax(self, dim)

    def log_softmax(self, dim: builtins.int) -> Tensor:
        return _act.log_softmax(self, dim)

    # -- reductions ------------------------------------------------------------------------------
    def sum(self, dim: Any = None, keepdim: builtins.bool = False, *, dtype: Any = None) -> Tensor:
        return _red.sum(self if dtype is None else self.to(dtypes.to_dtype(dtype)), dim, keepdim)

    def mean(self, dim: Any = None, keepdim: builtins.bool = False, *, dtype: Any = None) -> Tensor:
        return _red.mean(self if dtype is None else self.to(dtypes.to_dtype(dtype)), dim, keepdim)

    def amax(self, dim: Any = (), keepdim: builtins.bool = False) -> Tensor:
        return _red.amax(self, dim, keepdim)

    def amin(self, dim: Any = (), keepdim: builtins.bool = False) -> Tensor:
        return _red.amin(self, dim, keepdim)

    def max(self, dim: Any = None, keepdim: builtins.bool = False) -> Any:
        """Without ``dim``: the largest value. With an int ``dim``: ``(values, indices)`` along it."""
        return _red.max(self, dim, keepdim)

    def min(self, dim: Any = None, keepdim: builtins.bool = False) -> Any:
        """Without ``dim``: the smallest value. With an int ``dim``: ``(values, indices)`` along it."""
        return _red.min(self, dim, keepdim)

    def argmax(self, dim: builtins.int | None = None, keepdim: builtins.bool = False) -> Tensor:
        return _red.argmax(self, dim, keepdim)

    def argmin(self, dim: builtins.int | None = None, keepdim: builtins.bool = False) -> Tensor:
        return _red.argmin(self, dim, keepdim)

    def var(self, dim: Any = None, unbiased: builtins.bool | None = None, keepdim: builtins.bool = False, *,
            correction: builtins.int | None = None) -> Tensor:  # fmt: skip
        return _red.var(self, dim, unbiased, keepdim, correction=correction)

    def std(self, dim: Any = None, unbiased: builtins.bool | None = None, keepdim: builtins.bool = False, *,
            correction: builtins.int | None = None) -> Tensor:  # fmt: skip
        return _red.std(self, dim, unbiased, keepdim, correction=correction)

    def logsumexp(self, dim: Any, keepdim: builtins.bool = False) -> Tensor:
        return _red.logsumexp(self, dim, keepdim)

    # -- linear algebra --------------------------------------------------------------------------
    def matmul(self, other: Any) -> Tensor:
        return _linalg.matmul(self, other)

    # -- movement --------------------------------------------------------------------------------
    def reshape(self, *shape: Any) -> Tensor:
        return _array.reshape(self, _shape_arg(shape, "shape"))

    def view(self, *shape: Any) -> Tensor:
        """Same as ``reshape`` here: it never fails on non-contiguous data (it copies instead)."""
        return _array.reshape(self, _shape_arg(shape, "shape"))

    def view_as(self, other: Tensor) -> Tensor:
        return _array.reshape(self, _tensor_arg(other, "view_as", "other").shape)

    def reshape_as(self, other: Tensor) -> Tensor:
        return _array.reshape(self, _tensor_arg(other, "reshape_as", "other").shape)

    def flatten(self, start_dim: builtins.int = 0, end_dim: builtins.int = -1) -> Tensor:
        return _array.flatten(self, start_dim, end_dim)

    def unflatten(self, dim: builtins.int, sizes: Sequence[builtins.int]) -> Tensor:
        return _array.unflatten(self, dim, sizes)

    def transpose(self, dim0: builtins.int, dim1: builtins.int) -> Tensor:
        return _array.transpose(self, dim0, dim1)

    def swapaxes(self, dim0: builtins.int, dim1: builtins.int) -> Tensor:
        return _array.transpose(self, dim0, dim1)

    def t(self) -> Tensor:
        if self.ndim > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {self.ndim}D")
        return _array.permute(self, tuple(reversed(range(self.ndim))))

    def permute(self, *dims: Any) -> Tensor:
        return _array.permute(self, _shape_arg(dims, "dims"))

    @property
    def T(self) -> Tensor:  # noqa: N802
        """All dimensions reversed."""
        return _array.permute(self, tuple(reversed(range(self.ndim))))

    @property
    def mT(self) -> Tensor:  # noqa: N802
        """The last two dimensions swapped (a batch of matrices transposed)."""
        if self.ndim < 2:
            raise RuntimeError(f"mT: expected a tensor with at least 2 dimensions, got {self.ndim}")
        return _array.transpose(self, -2, -1)

    def expand(self, *sizes: Any) -> Tensor:
        return _array.expand(self, _shape_arg(sizes, "size"))

    def expand_as(self, other: Tensor) -> Tensor:
        return _array.expand(self, _tensor_arg(other, "expand_as", "other").shape)

    def broadcast_to(self, shape: Sequence[builtins.int]) -> Tensor:
        return _array.broadcast_to(self, shape)

    def squeeze(self, dim: Any = None) -> Tensor:
        return _array.squeeze(self, dim)

    def unsqueeze(self, dim: builtins.int) -> Tensor:
        return _array.unsqueeze(self, dim)

    def contiguous(self) -> Tensor:
        return _array.contiguous(self)

    def flip(self, *dims: Any) -> Tensor:
        return _array.flip(self, _shape_arg(dims, "dims"))

    def split(self, split_size_or_sections: Any, dim: builtins.int = 0) -> tuple[Tensor, ...]:
        return _array.split(self, split_size_or_sections, dim)

    def chunk(self, chunks: builtins.int, dim: builtins.int = 0) -> tuple[Tensor, ...]:
        return _array.chunk(self, chunks, dim)

    def unbind(self, dim: builtins.int = 0) -> tuple[Tensor, ...]:
        return _array.unbind(self, dim)

    def __getitem__(self, index: Any) -> Tensor:
        return _array.getitem(self, index)

    def __setitem__(self, index: Any, value: Any) -> None:
        """In place, outside the graph only (as the other in-place operations)."""
        idx = _array.numpy_index(index, self.shape)
        if not isinstance(value, (Tensor, int, float, np.number, np.bool_, np.ndarray, list, tuple)):
            raise TypeError(f"__setitem__(): value: expected a Tensor or a number, got {type(value).__name__}")
        v = _data(value)
        self._inplace("__setitem__", lambda d: d.__setitem__(idx, v))

    def __iter__(self) -> Any:
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))


class _RemovableHandle:
    """Returned by ``register_hook``; ``remove()`` unregisters the hook."""

    def __init__(self, hooks: list, hook: Callable) -> None:
        self.hooks, self.hook = hooks, hook

    def remove(self) -> None:
        if self.hook in self.hooks:
            self.hooks.remove(self.hook)


def _data(x: Any) -> Any:
    """The numpy value behind a Tensor; other values pass through."""
    return x.data if isinstance(x, Tensor) else x


def _dim(dim: int, ndim: int) -> int:
    """Normalise a possibly-negative dimension index, with PyTorch's IndexError when out of range."""
    lo, hi = (-ndim, ndim - 1) if ndim > 0 else (-1, 0)
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"dim: expected an int, got {type(dim).__name__}")
    if not lo <= dim <= hi:
        raise IndexError(f"Dimension out of range (expected to be in range of [{lo}, {hi}], but got {dim})")
    return int(dim) % max(ndim, 1)


def _int_or_none(v: Any) -> int | None:
    """``v`` as an int if it is one (a Python or numpy int, or an integer tensor of one element, as
    ``operator.index`` takes it; never a bool or a float), else None."""
    if isinstance(v, (bool, np.bool_)):
        return None
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, Tensor) and v.dtype.kind in "iu" and v.data.size == 1:
        return int(v.data.reshape(()))
    return None


def _shape_arg(args: tuple, name: str) -> tuple[int, ...]:
    """Accept ``f(2, 3)`` and ``f((2, 3))`` / ``f([2, 3])``, as PyTorch does."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = tuple(args[0])
    return _int_tuple(args, name)


def _int_tuple(values: tuple | list, what: str) -> tuple[int, ...]:
    """``values`` as a tuple of ints (integer tensors and numpy ints accepted); TypeError naming ``what``."""
    if all(type(v) is int for v in values):  # the common case, kept cheap (shapes are parsed inside many ops)
        return tuple(values)
    out = []
    for i, v in enumerate(values):
        n = _int_or_none(v)
        if n is None:
            raise TypeError(
                f"{what}: expected a sequence of ints, got {type(v).__name__} {v!r} at position {i} of {values!r}"
            )
        out.append(n)
    return tuple(out)


def _tensor_arg(x: Any, op: str, name: str) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): {name}: expected a Tensor, got {type(x).__name__}")
    return x


def _format(t: Tensor) -> str:
    """A repr close to PyTorch's: ``tensor([1., 2.], requires_grad=True)``."""
    d = t.data
    if d.dtype.kind == "f":
        finite = d[np.isfinite(d)]
        if finite.size and np.all(finite == np.round(finite)) and np.abs(finite).max() < 1e8:
            fmt = lambda v: f"{v:.0f}." if np.isfinite(v) else str(v)  # noqa: E731
        elif finite.size and (np.abs(finite).max() >= 1e8 or np.abs(finite[finite != 0]).min(initial=1) < 1e-4):
            fmt = lambda v: f"{v:.4e}"  # noqa: E731
        else:
            fmt = lambda v: f"{v:.4f}"  # noqa: E731
        body = np.array2string(d, separator=", ", formatter={"float_kind": fmt}, prefix="tensor(", threshold=1000)
    else:
        body = np.array2string(d, separator=", ", prefix="tensor(", threshold=1000)
    extras = []
    if d.dtype not in (dtypes.float32, dtypes.int64, dtypes.bool):
        extras.append(f"dtype={dtypes.name(d.dtype)}")
    if t.grad_fn is not None:
        extras.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        extras.append("requires_grad=True")
    return "tensor(" + body + "".join(", " + e for e in extras) + ")"


# The op modules import Tensor from here, so they are imported after the class exists.
from tinygrad_cnn.functions import activation as _act  # noqa: E402
from tinygrad_cnn.functions import array as _array  # noqa: E402
from tinygrad_cnn.functions import basic_math as _basic  # noqa: E402
from tinygrad_cnn.functions import linalg as _linalg  # noqa: E402
from tinygrad_cnn.functions import math as _math  # noqa: E402
from tinygrad_cnn.functions import reduction as _red  # noqa: E402
