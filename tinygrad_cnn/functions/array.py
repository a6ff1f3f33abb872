"""Movement and indexing: reshape/view, flatten, transpose/permute, expand/broadcast_to, squeeze,
unsqueeze, contiguous, clone, cast, getitem, cat, stack, split, chunk, unbind, flip, pad.

Their gradients only move numbers around, so each backward is the inverse movement (and the backward of
indexing, ``IndexAdd``, has indexing as its own backward: double backward for free).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from tinygrad_cnn.autograd.function import Function
from tinygrad_cnn.functions.basic_math import sum_to
from tinygrad_cnn.tensor import Tensor, _dim, _int_or_none, _int_tuple


def _check_tensor(x: Any, op: str, name: str = "input") -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): {name}: expected a Tensor, got {type(x).__name__}")
    return x


def _ints(values: Any, op: str, name: str) -> tuple[int, ...]:
    """A sequence of ints (TypeError, naming the argument, for anything else)."""
    if not isinstance(values, (tuple, list)):
        raise TypeError(f"{op}(): {name}: expected a sequence of ints, got {type(values).__name__} {values!r}")
    return _int_tuple(values, f"{op}(): {name}")


class Reshape(Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, shape: tuple[int, ...]) -> np.ndarray:
        ctx.in_shape = x.shape
        return x.data.reshape(shape)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple:
        return grad.reshape(ctx.in_shape), None


class Permute(Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, order: tuple[int, ...]) -> np.ndarray:
        ctx.inverse = tuple(np.argsort(order))
        return x.data.transpose(order)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple:
        return grad.permute(ctx.inverse), None


class Expand(Function):
    """Broadcast to a larger shape (a read-only view); the gradient is summed back."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, shape: tuple[int, ...]) -> np.ndarray:
        ctx.in_shape = x.shape
        return np.broadcast_to(x.data, shape)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple:
        return sum_to(grad, ctx.in_shape), None


class Clone(Function):
    """A copy in fresh, C-contiguous memory; used by ``clone()`` and ``contiguous()``."""

    @staticmethod
    def forward(ctx: Any, x: Tensor) -> np.ndarray:
        return np.array(x.data, copy=True, order="C")

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> Tensor:
        return grad


class Cast(Function):
    """Change dtype; differentiable between floating dtypes (the gradient is cast back)."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, dtype: np.dtype) -> np.ndarray:
        ctx.in_dtype = x.dtype
        return x.data.astype(dtype)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple:
        return grad.to(ctx.in_dtype), None


class GetItem(Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, index: Any) -> np.ndarray:
        ctx.in_shape, ctx.index = x.shape, index
        return x.data[index]

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple:
        return IndexAdd.apply(grad, ctx.in_shape, ctx.index), None


class IndexAdd(Function):
    """Zeros of ``shape`` with ``grad`` added at ``index`` (repeated indices accumulate): getitem's backward."""

    @staticmethod
    def forward(ctx: Any, grad: Tensor, shape: tuple[int, ...], index: Any) -> np.ndarray:
        ctx.index = index
        out = np.zeros(shape, dtype=grad.dtype)
        if _is_basic(index):
            out[index] = grad.data
        else:
            np.add.at(out, _int_arrays(index), grad.data)
        return out

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple:
        return GetItem.apply(grad, ctx.index), None, None


class Cat(Function):
    @staticmethod
    def forward(ctx: Any, axis: int, *xs: Tensor) -> np.ndarray:
        ctx.axis = axis
        ctx.bounds = np.cumsum([0] + [x.shape[axis] for x in xs])
        return np.concatenate([x.data for x in xs], axis=axis)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple:
        lead = (slice(None),) * ctx.axis
        grads = [
            grad[lead + (slice(int(lo), int(hi)),)] if need else None
            for lo, hi, need in zip(ctx.bounds[:-1], ctx.bounds[1:], ctx.needs_input_grad[1:])
        ]
        return (None, *grads)


class Flip(Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, axes: tuple[int, ...]) -> np.ndarray:
        ctx.axes = axes
        return np.flip(x.data, axes)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple:
        return grad.flip(ctx.axes), None


class Pad(Function):
    """Constant padding by non-negative ``widths`` ((before, after) per dim); backward crops."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, widths: tuple[tuple[int, int], ...], value: float) -> np.ndarray:
        ctx.crop = tuple(slice(lo, lo + s) for (lo, _), s in zip(widths, x.shape))
        return np.pad(x.data, widths, mode="constant", constant_values=value)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple:
        return grad[ctx.crop], None, None


# -- functional forms ------------------------------------------------------------------------------------
def reshape(x: Tensor, shape: Sequence[int]) -> Tensor:
    """Same elements in a new shape (one entry may be -1); a view when the layout allows."""
    x = _check_tensor(x, "reshape")
    shape = _ints(shape, "reshape", "shape")
    if shape.count(-1) > 1:
        raise RuntimeError(f"reshape(): shape: only one dimension can be inferred (-1), got {list(shape)}")
    if any(s < -1 for s in shape):
        raise RuntimeError(f"reshape(): shape: invalid size {min(shape)} in {list(shape)} (sizes are >= 0, or -1)")
    known = int(np.prod([s for s in shape if s != -1]))
    if -1 in shape:
        bad = known == 0 or x.numel() % known != 0
        if not bad:
            shape = tuple(x.numel() // known if s == -1 else s for s in shape)
    else:
        bad = known != x.numel()
    if bad:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {x.numel()}")
    if shape == x.shape:
        return x
    return Reshape.apply(x, shape)


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dims ``start_dim..end_dim`` into one."""
    x = _check_tensor(x, "flatten")
    if x.ndim == 0:
        _dim(start_dim, 0), _dim(end_dim, 0)
        return x.reshape(1)
    s, e = _dim(start_dim, x.ndim), _dim(end_dim, x.ndim)
    if s > e:
        raise RuntimeError(f"flatten(): start_dim ({start_dim}) must not come after end_dim ({end_dim})")
    return x.reshape(x.shape[:s] + (math.prod(x.shape[s : e + 1]),) + x.shape[e + 1 :])


def unflatten(x: Tensor, dim: int, sizes: Sequence[int]) -> Tensor:
    """Split dim ``dim`` into ``sizes`` (one may be -1)."""
    x = _check_tensor(x, "unflatten")
    d = _dim(dim, x.ndim)
    sizes = _ints(sizes, "unflatten", "sizes")
    if not sizes:
        raise RuntimeError("unflatten(): sizes: expected a non-empty sequence of sizes, got ()")
    if sizes.count(-1) > 1 or any(s < -1 for s in sizes):
        raise RuntimeError(f"unflatten(): sizes: expected sizes >= 0 with at most one -1, got {list(sizes)}")
    known = int(np.prod([s for s in sizes if s != -1]))
    n = x.shape[d]
    if (-1 not in sizes and known != n) or (-1 in sizes and (known == 0 or n % known)):
        raise RuntimeError(
            f"unflatten(): sizes: {list(sizes)} don't multiply up to the size of dim {d} ({n}) of the input of "
            f"shape {x.shape}"
        )
    return x.reshape(x.shape[:d] + sizes + x.shape[d + 1 :])


def permute(x: Tensor, order: Sequence[int]) -> Tensor:
    """Reorder the dims (a view)."""
    x = _check_tensor(x, "permute")
    order = _ints(order, "permute", "dims")
    if len(order) != x.ndim:
        raise RuntimeError(f"permute(): dims: number of dims don't match: got {len(order)} for a {x.ndim}D tensor")
    order = tuple(_dim(d, x.ndim) for d in order)
    if len(set(order)) != len(order):
        raise RuntimeError(f"permute(): dims: repeated dim in {tuple(order)}")
    if order == tuple(range(x.ndim)):
        return x
    return Permute.apply(x, order)


def transpose(x: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two dims (a view)."""
    x = _check_tensor(x, "transpose")
    if x.ndim == 0:
        _dim(dim0, 0), _dim(dim1, 0)
        return x
    order = list(range(x.ndim))
    a, b = _dim(dim0, x.ndim), _dim(dim1, x.ndim)
    order[a], order[b] = order[b], order[a]
    return permute(x, order)


def expand(x: Tensor, shape: Sequence[int]) -> Tensor:
    """Broadcast singleton dims to ``shape`` (-1 keeps a size; new leading dims allowed). A view."""
    x = _check_tensor(x, "expand")
    shape = _ints(shape, "expand", "size")
    if len(shape) < x.ndim:
        raise RuntimeError(
            f"expand(): the number of sizes provided ({len(shape)}) must be greater or equal to the number of "
            f"dimensions in the tensor ({x.ndim})"
        )
    lead = len(shape) - x.ndim
    target = []
    for i, s in enumerate(shape):
        if i < lead:
            if s < 0:
                raise RuntimeError(f"expand(): size: -1 is not allowed in a leading, non-existing dimension {i}")
            target.append(s)
            continue
        have = x.shape[i - lead]
        if s == -1 or s == have:
            target.append(have)
        elif have == 1 and s >= 0:
            target.append(s)
        else:
            raise RuntimeError(
                f"expand(): the expanded size of the tensor ({s}) must match the existing size ({have}) at "
                f"non-singleton dimension {i}. Target sizes: {list(shape)}. Tensor sizes: {list(x.shape)}"
            )
    if tuple(target) == x.shape:
        return x
    return Expand.apply(x, tuple(target))


def broadcast_to(x: Tensor, shape: Sequence[int]) -> Tensor:
    """Same as ``expand``."""
    return expand(x, shape)


def squeeze(x: Tensor, dim: Any = None) -> Tensor:
    """Remove size-1 dims (all, or the given ones; a given dim of size != 1 is left alone, as PyTorch)."""
    x = _check_tensor(x, "squeeze")
    if dim is None:
        axes = {i for i, s in enumerate(x.shape) if s == 1}
    else:
        wanted = [_dim(w, x.ndim) for w in (dim if isinstance(dim, (tuple, list)) else (dim,))]
        for d in wanted:
            if wanted.count(d) > 1:
                raise RuntimeError(f"squeeze(): dim: dim {d} appears multiple times in the list of dims {tuple(dim)}")
        axes = {d for d in wanted if x.ndim and x.shape[d] == 1}
    return x.reshape(tuple(s for i, s in enumerate(x.shape) if i not in axes))


def unsqueeze(x: Tensor, dim: int) -> Tensor:
    """Insert a size-1 dim at ``dim`` (in [-ndim-1, ndim])."""
    x = _check_tensor(x, "unsqueeze")
    d = _dim(dim, x.ndim + 1)
    return x.reshape(x.shape[:d] + (1,) + x.shape[d:])


def contiguous(x: Tensor) -> Tensor:
    """Self if already C-contiguous, else a contiguous copy."""
    return x if x.data.flags.c_contiguous else Clone.apply(x)


def flip(x: Tensor, dims: Sequence[int]) -> Tensor:
    """Reverse the order of elements along ``dims`` (a view with negative strides)."""
    x = _check_tensor(x, "flip")
    axes = tuple(_dim(d, x.ndim) for d in _ints(dims, "flip", "dims"))
    if len(set(axes)) != len(axes):
        raise RuntimeError(f"flip(): dims: dim appears multiple times in {tuple(dims)}")
    return Flip.apply(x, axes) if axes and x.ndim else x


def numpy_index(index: Any, shape: tuple[int, ...]) -> Any:
    """Turn an index with Tensors/lists into a numpy index; reject float indices with IndexError."""
    items = index if isinstance(index, tuple) else (index,)
    out = []
    for item in items:
        if isinstance(item, Tensor):
            item = item.data
        elif isinstance(item, list):
            item = np.asarray(item)
        if isinstance(item, np.ndarray):
            if item.dtype.kind not in "biu":
                raise IndexError(
                    f"index: tensors used as indices must be long, int or bool tensors, got dtype {item.dtype}"
                )
        elif isinstance(item, str):
            raise TypeError(f"index: a string is not a valid index, got {item!r}")
        elif isinstance(item, (float, np.floating)):
            raise IndexError(
                "index: only integers, slices (`:`), ellipsis (`...`), None and long or bool tensors are valid "
                f"indices, got {item!r}"
            )
        out.append(item)
    return tuple(out) if isinstance(index, tuple) or len(out) != 1 else out[0]


def _int_arrays(index: Any) -> Any:
    """The same index with each boolean mask replaced by its integer coordinates (for ``np.add.at``)."""
    items = index if isinstance(index, tuple) else (index,)
    out: list = []
    for item in items:
        if isinstance(item, np.ndarray) and item.dtype == np.bool_:
            out.extend(item.nonzero())
        else:
            out.append(item)
    return tuple(out)


def _is_basic(index: Any) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return not any(isinstance(i, np.ndarray) or isinstance(i, (bool, np.bool_)) for i in items)


def getitem(x: Tensor, index: Any) -> Tensor:
    """``x[index]`` with numpy/PyTorch semantics: ints, slices (negative steps too), None, Ellipsis, bool
    masks, integer arrays. The gradient accumulates over repeated indices."""
    idx = numpy_index(index, x.shape)
    try:
        x.data[idx]  # validate (and raise the numpy IndexError) before recording anything
    except IndexError as e:
        raise IndexError(f"index {index!r} is invalid for a tensor of shape {x.shape}: {e}") from None
    return GetItem.apply(x, idx)


def _check_same(xs: Sequence[Tensor], op: str) -> list[Tensor]:
    if isinstance(xs, Tensor) or not isinstance(xs, (list, tuple)):
        raise TypeError(f"{op}(): tensors: expected a list or tuple of Tensors, got {type(xs).__name__}")
    if len(xs) == 0:  # PyTorch: ValueError for cat, RuntimeError for stack
        raise (ValueError if op == "cat" else RuntimeError)(f"{op}(): tensors: expected a non-empty list of Tensors")
    xs = [_check_tensor(x, op, f"tensors[{i}]") for i, x in enumerate(xs)]
    kinds = {x.dtype for x in xs}
    if len(kinds) > 1:
        wide = np.result_type(*kinds)
        xs = [x.to(wide) for x in xs]
    return xs


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join tensors along an existing dim; all other dims must agree."""
    xs = _check_same(tensors, "cat")
    if any(x.shape == (0,) for x in xs) and not all(x.shape == (0,) for x in xs):
        xs = [x for x in xs if x.shape != (0,)]  # legacy: empty 1-D tensors are skipped, as PyTorch
    ref = xs[0]
    for i, x in enumerate(xs):
        if x.ndim == 0:
            raise RuntimeError(f"cat(): zero-dimensional tensor (at position {i}) cannot be concatenated")
    axis = _dim(dim, ref.ndim)
    for i, x in enumerate(xs):
        if x.ndim != ref.ndim or any(a != b for j, (a, b) in enumerate(zip(x.shape, ref.shape)) if j != axis):
            raise RuntimeError(
                f"cat(): sizes of tensors must match except in dimension {axis}: tensors[0] has shape {ref.shape}, "
                f"tensors[{i}] has shape {x.shape}"
            )
    return Cat.apply(axis, *xs)


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join tensors of equal shape along a new dim."""
    xs = _check_same(tensors, "stack")
    for i, x in enumerate(xs):
        if x.shape != xs[0].shape:
            raise RuntimeError(
                f"stack(): expects each tensor to be equal size, but got {xs[0].shape} at entry 0 and {x.shape} "
                f"at entry {i}"
            )
    d = _dim(dim, xs[0].ndim + 1)
    return cat([x.unsqueeze(d) for x in xs], d)


def split(x: Tensor, split_size_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
    """Pieces of ``split_size`` along ``dim`` (the last may be smaller), or of the given section sizes."""
    x = _check_tensor(x, "split")
    if x.ndim == 0:
        raise RuntimeError("split(): input: expected at least a 1-dimensional tensor, got a 0-d tensor")
    axis = _dim(dim, x.ndim)
    n = x.shape[axis]
    size = _int_or_none(split_size_or_sections)
    if size is not None:
        if size <= 0 and not (size == 0 and n == 0):
            raise RuntimeError(f"split(): split_size: expected a positive int, got {size}")
        sizes = [min(size, n - i) for i in range(0, n, size)] if n else [0]
    else:
        if not isinstance(split_size_or_sections, (tuple, list)):
            raise TypeError(
                "split(): split_size_or_sections: expected an int or a sequence of ints, got "
                f"{type(split_size_or_sections).__name__} {split_size_or_sections!r}"
            )
        sizes = list(_ints(split_size_or_sections, "split", "split_sizes"))
        if any(s < 0 for s in sizes) or sum(sizes) != n:
            raise RuntimeError(
                f"split(): split_sizes: expected non-negative sizes summing to {n} (the size of dim {axis}), "
                f"got {sizes}"
            )
    lead = (slice(None),) * axis
    bounds = np.cumsum([0] + sizes)
    return tuple(x[lead + (slice(int(lo), int(hi)),)] for lo, hi in zip(bounds[:-1], bounds[1:]))


def chunk(x: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """Split into ``chunks`` pieces of size ceil(n / chunks) (so possibly fewer pieces), as PyTorch."""
    x = _check_tensor(x, "chunk")
    if isinstance(chunks, bool) or not isinstance(chunks, (int, np.integer)):
        raise TypeError(f"chunk(): chunks: expected a positive int, got {type(chunks).__name__} {chunks!r}")
    if chunks <= 0:
        raise RuntimeError(f"chunk(): chunks: expected a positive int, got {chunks!r}")
    if x.ndim == 0:
        raise RuntimeError("chunk(): input: expected at least a 1-dimensional tensor, got a 0-d tensor")
    n = x.shape[_dim(dim, x.ndim)]
    if n == 0:  # PyTorch gives `chunks` empty pieces
        return tuple(split(x, 0, dim)) * int(chunks)
    return split(x, -(-n // int(chunks)), dim)


def unbind(x: Tensor, dim: int = 0) -> tuple[Tensor, ...]:
    """The slices along ``dim``, with that dim removed."""
    x = _check_tensor(x, "unbind")
    if x.ndim == 0:
        raise IndexError(f"unbind(): dim: dimension specified as {dim} but the tensor has no dimensions")
    axis = _dim(dim, x.ndim)
    lead = (slice(None),) * axis
    return tuple(x[lead + (i,)] for i in range(x.shape[axis]))


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant", value: float | None = None) -> Tensor:  # noqa: A002
    """Pad (or crop, with negative sizes) the last ``len(pad) // 2`` dims: ``pad = (left, right, top, bottom,
    ...)`` starting from the last dim, as ``torch.nn.functional.pad``. Only ``mode="constant"`` exists here."""
    x = _check_tensor(input, "pad")
    if mode != "constant":
        raise NotImplementedError(f"pad(): mode: only 'constant' is implemented, got {mode!r}")
    pad = tuple(pad)
    if any(isinstance(p, bool) or not isinstance(p, (int, np.integer)) for p in pad):
        raise TypeError(f"pad(): pad: expected a sequence of ints, got {pad!r}")
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise RuntimeError(
            f"pad(): pad: expected an even number of sizes, at most 2 * ndim = {2 * x.ndim}, got {len(pad)}"
        )
    widths = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        widths[x.ndim - 1 - i] = (int(pad[2 * i]), int(pad[2 * i + 1]))
    for d, (lo, hi) in enumerate(widths):
        if x.shape[d] + lo + hi < 0:
            raise RuntimeError(
                f"pad(): pad: dim {d} of size {x.shape[d]} would get negative size {x.shape[d] + lo + hi}"
            )
    grow = tuple((max(lo, 0), max(hi, 0)) for lo, hi in widths)
    out = Pad.apply(x, grow, 0.0 if value is None else float(value)) if any(map(any, grow)) else x
    crop = tuple(slice(-min(lo, 0), out.shape[d] + min(hi, 0)) for d, (lo, hi) in enumerate(widths))
    if any(lo < 0 or hi < 0 for lo, hi in widths):
        out = out[crop]
    return out
