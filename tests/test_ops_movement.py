"""Movement ops: reshape/view, flatten/unflatten, transpose/permute/T/mT, expand/broadcast_to, squeeze,
unsqueeze, contiguous, clone, flip, cat, stack, split, chunk, unbind and ``nn.functional.pad``.

Each op: the forward agrees with numpy, the gradient agrees with float64 finite differences
(``gradcheck``: full Jacobian on small shapes, fast mode on larger ones) on contiguous and
non-contiguous inputs, float32 stays float32, and bad arguments raise PyTorch's error kind.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from helpers import SEEDS, assert_same
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_cnn as tg
import tinygrad_cnn.nn.functional as F
from tinygrad_cnn import Tensor, gradcheck, gradgradcheck
from tinygrad_cnn.testing.strategies import arrays, dims, maybe_non_contiguous, non_contiguous, shapes

FULL_MODE_MAX_ELEMENTS = 64  # above this many input elements, gradcheck runs in fast mode


def leaf(a: np.ndarray) -> Tensor:
    return Tensor(a, requires_grad=True)


def check_grad(fn: Callable[..., Any], *arrays_: np.ndarray, seed: int, gradgrad: bool = False) -> None:
    """gradcheck ``fn`` on leaves wrapping ``arrays_`` (layout kept): full Jacobian when small, else fast mode;
    with ``gradgrad`` also gradgradcheck. gradcheck draws the random, non-uniform upstream gradient."""
    inputs = tuple(leaf(a) for a in arrays_)
    fast = sum(a.size for a in arrays_) > FULL_MODE_MAX_ELEMENTS
    assert gradcheck(fn, inputs, seed=seed, fast_mode=fast)
    if gradgrad:
        assert gradgradcheck(fn, inputs, seed=seed, fast_mode=fast)


@st.composite
def factorization(draw: st.DrawFn, n: int, allow_infer: bool = True) -> tuple[int, ...]:
    """A shape with ``n`` elements (1 to 4 dims), in random order, possibly with one entry spelled -1."""
    sizes, rest = [], n
    for _ in range(draw(st.integers(0, 3))):
        d = draw(st.sampled_from([d for d in range(1, rest + 1) if rest % d == 0]))
        sizes.append(d)
        rest //= d
    sizes = list(draw(st.permutations([*sizes, rest])))
    if allow_infer and draw(st.booleans()):
        sizes[draw(st.integers(0, len(sizes) - 1))] = -1
    return tuple(sizes)


def small(min_dims: int = 0, max_dims: int = 3, max_side: int = 4) -> st.SearchStrategy[tuple[int, ...]]:
    return shapes(min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=max_side)


# -- reshape / view / flatten / unflatten ----------------------------------------------------------------


@given(st.data(), SEEDS)
def test_reshape_and_view_with_inferred_dim_match_numpy_and_gradcheck(data: st.DataObject, seed: int) -> None:
    a = data.draw(maybe_non_contiguous(small()))
    target = data.draw(factorization(a.size))
    expected = np.reshape(a, target)
    assert_same(leaf(a).reshape(target), expected)
    assert_same(leaf(a).reshape(*target), expected)
    assert_same(leaf(a).view(target), expected)
    assert_same(leaf(a).view(-1), a.ravel())
    check_grad(lambda t: t.reshape(target), a, seed=seed, gradgrad=True)


def test_reshape_of_contiguous_tensor_is_a_view_like_pytorch() -> None:
    x = Tensor(np.arange(6.0))
    y = x.view(2, 3)
    y[1, 2] = -1.0  # outside the graph: writes through to the base, as torch.view
    assert x.data[5] == -1.0
    assert y.view_as(x).shape == (6,) and x.reshape_as(y).shape == (2, 3)


@given(st.data(), SEEDS)
def test_flatten_merges_the_given_dims_and_gradchecks(data: st.DataObject, seed: int) -> None:
    a = data.draw(maybe_non_contiguous(small(min_dims=1)))
    nd = a.ndim
    start = data.draw(st.integers(0, nd - 1))
    end = data.draw(st.integers(start, nd - 1))
    start_arg = data.draw(st.sampled_from([start, start - nd]))
    end_arg = data.draw(st.sampled_from([end, end - nd]))
    expected = a.reshape(a.shape[:start] + (int(np.prod(a.shape[start : end + 1])),) + a.shape[end + 1 :])
    assert_same(leaf(a).flatten(start_arg, end_arg), expected)
    assert_same(tg.flatten(leaf(a), start_arg, end_arg), expected)
    assert_same(leaf(a).flatten(), a.ravel())
    check_grad(lambda t: t.flatten(start_arg, end_arg), a, seed=seed)


def test_flatten_of_a_scalar_gives_one_element() -> None:
    assert_same(Tensor(np.array(2.5)).flatten(), np.array([2.5]))


@given(st.data(), SEEDS)
def test_unflatten_splits_one_dim_and_gradchecks(data: st.DataObject, seed: int) -> None:
    a = data.draw(maybe_non_contiguous(small(min_dims=1)))
    d = data.draw(st.integers(-a.ndim, a.ndim - 1))
    sizes = data.draw(factorization(a.shape[d]))
    axis = d % a.ndim
    known = int(np.prod([s for s in sizes if s != -1]))
    resolved = tuple(a.shape[axis] // known if s == -1 else s for s in sizes)
    expected = a.reshape(a.shape[:axis] + resolved + a.shape[axis + 1 :])
    assert_same(leaf(a).unflatten(d, sizes), expected)
    check_grad(lambda t: t.unflatten(d, sizes), a, seed=seed)


# -- transpose / permute / T / mT -----------------------------------------------------------------------


@given(st.data(), SEEDS)
def test_transpose_swaps_two_dims_and_gradchecks(data: st.DataObject, seed: int) -> None:
    a = data.draw(maybe_non_contiguous(small(min_dims=1)))
    d0 = data.draw(st.integers(-a.ndim, a.ndim - 1))
    d1 = data.draw(st.integers(-a.ndim, a.ndim - 1))
    expected = np.swapaxes(a, d0, d1)
    assert_same(leaf(a).transpose(d0, d1), expected)
    assert_same(leaf(a).swapaxes(d0, d1), expected)
    assert_same(tg.transpose(leaf(a), d0, d1), expected)
    check_grad(lambda t: t.transpose(d0, d1), a, seed=seed)


@given(st.data(), SEEDS)
def test_permute_reorders_dims_and_gradgradchecks(data: st.DataObject, seed: int) -> None:
    a = data.draw(maybe_non_contiguous(small(min_dims=1)))
    order = data.draw(st.permutations(range(a.ndim)))
    spelled = tuple(data.draw(st.sampled_from([d, d - a.ndim])) for d in order)
    expected = np.transpose(a, order)
    assert_same(leaf(a).permute(spelled), expected)
    assert_same(leaf(a).permute(*spelled), expected)
    assert_same(tg.permute(leaf(a), spelled), expected)
    check_grad(lambda t: t.permute(spelled), a, seed=seed, gradgrad=True)


@given(st.data(), SEEDS)
def test_T_reverses_all_dims_and_mT_swaps_the_last_two(data: st.DataObject, seed: int) -> None:
    a = data.draw(maybe_non_contiguous(small(min_dims=2, max_dims=4, max_side=3)))
    assert_same(leaf(a).T, a.T)
    assert_same(leaf(a).mT, np.swapaxes(a, -1, -2))
    check_grad(lambda t: t.T, a, seed=seed)
    check_grad(lambda t: t.mT, a, seed=seed)


def test_t_transposes_a_matrix_and_leaves_vectors_alone() -> None:
    a = np.arange(6.0).reshape(2, 3)
    assert_same(Tensor(a).t(), a.T)
    assert_same(Tensor(a[0]).t(), a[0])


def test_transposed_view_made_contiguous_is_c_contiguous_like_pytorch() -> None:
    x = Tensor(np.arange(12.0, dtype=np.float32).reshape(3, 4))
    xt = x.T
    assert not xt.is_contiguous()
    y = xt.contiguous()
    assert y.is_contiguous() and y.data.flags.c_contiguous
    assert_same(y, np.ascontiguousarray(x.data.T))
    assert not np.shares_memory(y.data, x.data)


# -- expand / expand_as / broadcast_to ------------------------------------------------------------------


@st.composite
def expand_case(draw: st.DrawFn) -> tuple[np.ndarray, tuple[int, ...], tuple[int, ...]]:
    """(array, sizes argument with -1 for kept dims, resolved shape)."""
    shape = draw(shapes(min_dims=0, max_dims=3, min_side=1, max_side=3))
    a = draw(maybe_non_contiguous(shape))
    lead = draw(st.lists(st.integers(1, 3), max_size=2))
    arg, resolved = list(lead), list(lead)
    for n in shape:
        if n == 1:
            m = draw(st.integers(1, 3))
            arg.append(draw(st.sampled_from([m, -1])) if m == 1 else m)
            resolved.append(m)
        else:
            arg.append(draw(st.sampled_from([n, -1])))
            resolved.append(n)
    return a, tuple(arg), tuple(resolved)


@given(expand_case(), SEEDS)
def test_expand_broadcasts_singleton_and_new_leading_dims_and_gradgradchecks(case: Any, seed: int) -> None:
    a, arg, resolved = case
    expected = np.broadcast_to(a, resolved)
    assert_same(leaf(a).expand(arg), expected)
    assert_same(leaf(a).expand(*arg), expected)
    assert_same(leaf(a).broadcast_to(resolved), expected)
    assert_same(tg.broadcast_to(leaf(a), resolved), expected)
    assert_same(leaf(a).expand_as(Tensor(np.zeros(resolved))), expected)
    # the gradient sums over the broadcast copies
    check_grad(lambda t: t.expand(arg), a, seed=seed, gradgrad=True)
    check_grad(lambda t: t.expand_as(Tensor(np.zeros(resolved))), a, seed=seed)


def test_expand_gradient_sums_the_upstream_gradient_over_copies() -> None:
    x = Tensor(np.array([[1.0], [2.0]]), requires_grad=True)
    g = np.arange(12.0).reshape(2, 2, 3)
    x.expand(2, 2, 3).backward(Tensor(g))
    np.testing.assert_array_equal(x.grad.data, g.sum(axis=(0, 2)).reshape(2, 1))


def test_expanded_view_shares_memory_and_writing_into_it_raises_runtime_error() -> None:
    x = Tensor(np.arange(3.0))
    y = x.expand(2, 3)
    assert np.shares_memory(y.data, x.data)
    with pytest.raises(RuntimeError):
        y[0, 0] = 5.0
    np.testing.assert_array_equal(x.data, np.arange(3.0))


# -- squeeze / unsqueeze --------------------------------------------------------------------------------


@given(st.data(), SEEDS)
def test_squeeze_removes_only_singleton_dims_among_those_named(data: st.DataObject, seed: int) -> None:
    shape = data.draw(shapes(min_dims=0, max_dims=4, min_side=1, max_side=2))
    a = data.draw(maybe_non_contiguous(shape))
    dim = data.draw(dims(a.ndim))
    named = set(range(a.ndim)) if dim is None else {d % a.ndim for d in np.atleast_1d(dim)} if a.ndim else set()
    expected = a.reshape(tuple(n for i, n in enumerate(shape) if not (i in named and n == 1)))
    assert_same(leaf(a).squeeze(dim), expected)
    assert_same(tg.squeeze(leaf(a), dim), expected)
    if dim is None:
        assert_same(leaf(a).squeeze(), np.squeeze(a))
    check_grad(lambda t: t.squeeze(dim), a, seed=seed)


def test_squeeze_leaves_a_named_non_singleton_dim_alone() -> None:
    x = Tensor(np.zeros((2, 1, 3)))
    assert x.squeeze(0).shape == (2, 1, 3)
    assert x.squeeze((0, 1)).shape == (2, 3)
    assert x.squeeze(-2).shape == (2, 3)
    assert x.squeeze().shape == (2, 3)
    assert Tensor(np.array(1.0)).squeeze(0).shape == ()


@given(st.data(), SEEDS)
def test_unsqueeze_inserts_a_dim_including_negative_positions(data: st.DataObject, seed: int) -> None:
    a = data.draw(maybe_non_contiguous(small()))
    d = data.draw(st.integers(-a.ndim - 1, a.ndim))
    expected = np.expand_dims(a, d)
    assert_same(leaf(a).unsqueeze(d), expected)
    assert_same(tg.unsqueeze(leaf(a), d), expected)
    check_grad(lambda t: t.unsqueeze(d), a, seed=seed)


def test_unsqueeze_minus_one_appends_a_trailing_dim() -> None:
    x = Tensor(np.zeros((2, 3)))
    assert x.unsqueeze(-1).shape == (2, 3, 1)
    assert x.unsqueeze(-3).shape == (1, 2, 3)
    assert x.unsqueeze(2).shape == (2, 3, 1)


# -- contiguous / clone / flip --------------------------------------------------------------------------


@given(non_contiguous(shapes(min_dims=1, max_dims=3, min_side=2, max_side=3)), SEEDS)
def test_contiguous_and_clone_copy_values_into_c_order_and_gradcheck(a: np.ndarray, seed: int) -> None:
    assert not a.flags.c_contiguous
    for y in (leaf(a).contiguous(), leaf(a).clone()):
        assert_same(y, a)
        assert y.is_contiguous()
        assert not np.shares_memory(y.data, a)
    check_grad(lambda t: t.contiguous(), a, seed=seed)
    check_grad(lambda t: t.clone(), a, seed=seed)


def test_contiguous_returns_self_for_contiguous_tensors_and_clone_never_does() -> None:
    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    assert x.contiguous() is x
    c = x.clone()
    assert c is not x and not np.shares_memory(c.data, x.data) and c.grad_fn is not None


@given(st.data(), SEEDS)
def test_flip_reverses_the_given_dims_and_gradchecks(data: st.DataObject, seed: int) -> None:
    a = data.draw(maybe_non_contiguous(small(min_dims=1)))
    dim = data.draw(dims(a.ndim, allow_none=False))
    as_tuple = dim if isinstance(dim, tuple) else (dim,)
    expected = np.flip(a, as_tuple)
    assert_same(leaf(a).flip(as_tuple), expected)
    assert_same(leaf(a).flip(*as_tuple), expected)
    assert_same(tg.flip(leaf(a), as_tuple), expected)
    check_grad(lambda t: t.flip(as_tuple), a, seed=seed)


# -- cat / stack ----------------------------------------------------------------------------------------


@st.composite
def cat_case(draw: st.DrawFn) -> tuple[list[np.ndarray], int]:
    base = list(draw(shapes(min_dims=1, max_dims=3, min_side=1, max_side=3)))
    axis = draw(st.integers(0, len(base) - 1))
    parts = []
    for _ in range(draw(st.integers(1, 3))):
        base[axis] = draw(st.integers(1, 3))
        parts.append(draw(maybe_non_contiguous(tuple(base))))
    return parts, draw(st.sampled_from([axis, axis - len(base)]))


@given(cat_case(), SEEDS)
def test_cat_matches_numpy_concatenate_and_gradgradchecks(case: Any, seed: int) -> None:
    parts, dim = case
    expected = np.concatenate(parts, axis=dim)
    assert_same(tg.cat([leaf(p) for p in parts], dim), expected)
    assert_same(tg.cat(tuple(leaf(p) for p in parts), dim=dim), expected)
    check_grad(lambda *ts: tg.cat(list(ts), dim), *parts, seed=seed, gradgrad=True)


def test_cat_routes_each_slice_of_the_gradient_to_its_input_and_skips_constants() -> None:
    a = Tensor(np.zeros((2, 1)), requires_grad=True)
    b = Tensor(np.zeros((2, 3)))  # a constant
    c = Tensor(np.zeros((2, 2)), requires_grad=True)
    g = np.arange(12.0).reshape(2, 6)
    tg.cat([a, b, c], 1).backward(Tensor(g))
    np.testing.assert_array_equal(a.grad.data, g[:, :1])
    np.testing.assert_array_equal(c.grad.data, g[:, 4:])
    assert b.grad is None


@given(st.data(), SEEDS)
def test_stack_matches_numpy_stack_and_gradchecks(data: st.DataObject, seed: int) -> None:
    shape = data.draw(small(max_dims=2, max_side=3))
    parts = [data.draw(maybe_non_contiguous(shape)) for _ in range(data.draw(st.integers(1, 3)))]
    dim = data.draw(st.integers(-len(shape) - 1, len(shape)))
    expected = np.stack(parts, axis=dim)
    assert_same(tg.stack([leaf(p) for p in parts], dim), expected)
    check_grad(lambda *ts: tg.stack(list(ts), dim), *parts, seed=seed)


# -- split / chunk / unbind -----------------------------------------------------------------------------


@st.composite
def array_and_dim(draw: st.DrawFn, max_side: int = 5) -> tuple[np.ndarray, int, int]:
    """(array, dim as the user spells it, normalised axis)."""
    a = draw(maybe_non_contiguous(shapes(min_dims=1, max_dims=3, min_side=1, max_side=max_side)))
    axis = draw(st.integers(0, a.ndim - 1))
    return a, draw(st.sampled_from([axis, axis - a.ndim])), axis


def assert_pieces(pieces: Any, expected: list[np.ndarray]) -> None:
    assert isinstance(pieces, tuple)
    assert len(pieces) == len(expected)
    for p, e in zip(pieces, expected, strict=True):
        assert_same(p, e)


@given(array_and_dim(), st.integers(1, 6), SEEDS)
def test_split_by_size_gives_equal_pieces_and_a_smaller_last_one(case: Any, size: int, seed: int) -> None:
    a, dim, axis = case
    expected = np.split(a, list(range(size, a.shape[axis], size)), axis=axis)
    assert_pieces(leaf(a).split(size, dim), expected)
    assert_pieces(tg.split(leaf(a), size, dim), expected)
    check_grad(lambda t: t.split(size, dim), a, seed=seed)


@given(st.data(), SEEDS)
def test_split_by_sections_matches_numpy_and_gradchecks(data: st.DataObject, seed: int) -> None:
    a, dim, axis = data.draw(array_and_dim())
    n = a.shape[axis]
    cuts = sorted(data.draw(st.lists(st.integers(0, n), max_size=3)))
    sections = [hi - lo for lo, hi in zip([0, *cuts], [*cuts, n])]  # may contain zeros
    expected = np.split(a, cuts, axis=axis)
    assert_pieces(leaf(a).split(sections, dim), expected)
    assert_pieces(tg.split(leaf(a), tuple(sections), dim), expected)
    check_grad(lambda t: t.split(sections, dim), a, seed=seed)


@given(array_and_dim(max_side=6), st.integers(1, 7), SEEDS)
def test_chunk_uses_ceil_sized_pieces_like_pytorch(case: Any, chunks: int, seed: int) -> None:
    a, dim, axis = case
    n = a.shape[axis]
    size = -(-n // chunks)
    expected = np.split(a, list(range(size, n, size)), axis=axis)
    pieces = leaf(a).chunk(chunks, dim)
    assert len(pieces) <= chunks
    assert_pieces(pieces, expected)
    assert_pieces(tg.chunk(leaf(a), chunks, dim), expected)
    check_grad(lambda t: t.chunk(chunks, dim), a, seed=seed)


@pytest.mark.parametrize(
    ("n", "chunks", "sizes"),
    [(5, 4, [2, 2, 1]), (6, 4, [2, 2, 2]), (1, 4, [1]), (6, 3, [2, 2, 2]), (7, 3, [3, 3, 1]), (4, 1, [4])],
)
def test_chunk_may_return_fewer_pieces_than_asked(n: int, chunks: int, sizes: list[int]) -> None:
    assert [p.shape[0] for p in Tensor(np.arange(float(n))).chunk(chunks)] == sizes


def test_split_and_chunk_of_an_empty_dim_give_empty_pieces_like_pytorch() -> None:
    x = Tensor(np.zeros((2, 0)))
    assert [p.shape for p in x.split(1, 1)] == [(2, 0)]
    assert [p.shape for p in x.chunk(3, 1)] == [(2, 0)] * 3


@given(array_and_dim(), SEEDS)
def test_unbind_removes_the_dim_and_gradchecks(case: Any, seed: int) -> None:
    a, dim, axis = case
    expected = [np.take(a, i, axis=axis) for i in range(a.shape[axis])]
    assert_pieces(leaf(a).unbind(dim), expected)
    assert_pieces(tg.unbind(leaf(a), dim), expected)
    assert_pieces(tuple(leaf(a)), [a[i] for i in range(a.shape[0])])
    check_grad(lambda t: t.unbind(dim), a, seed=seed)


# -- pad ------------------------------------------------------------------------------------------------


def reference_pad(a: np.ndarray, pad: tuple[int, ...], value: float) -> np.ndarray:
    """Constant pad/crop written with explicit source and destination ranges (no np.pad)."""
    widths = [(0, 0)] * a.ndim
    for i in range(len(pad) // 2):
        widths[a.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    out = np.full([n + lo + hi for n, (lo, hi) in zip(a.shape, widths)], value, dtype=a.dtype)
    src, dst = [], []
    for n, (lo, hi) in zip(a.shape, widths):
        s0, s1 = max(-lo, 0), n - max(-hi, 0)
        src.append(slice(s0, s1))
        dst.append(slice(max(lo, 0), max(lo, 0) + s1 - s0))
    out[tuple(dst)] = a[tuple(src)]
    return out


@st.composite
def pad_case(draw: st.DrawFn, max_dims: int = 4) -> tuple[np.ndarray, tuple[int, ...], float | None]:
    shape = draw(shapes(min_dims=1, max_dims=max_dims, min_side=1, max_side=3))
    a = draw(maybe_non_contiguous(shape))
    k = draw(st.integers(1, len(shape)))  # how many trailing dims get padded
    pad: list[int] = []
    for n in reversed(shape[len(shape) - k :]):
        lo = draw(st.integers(-(n - 1), 2))  # negative = crop, keep at least one element
        hi = draw(st.integers(-(n + min(lo, 0) - 1), 2))
        pad += [lo, hi]
    value = draw(st.none() | st.floats(-5, 5, allow_nan=False))
    return a, tuple(pad), value


@given(pad_case(), SEEDS)
def test_constant_pad_with_asymmetric_negative_pads_and_fill_value_gradgradchecks(case: Any, seed: int) -> None:
    a, pad, value = case
    expected = reference_pad(a, pad, 0.0 if value is None else value)
    out = F.pad(leaf(a), pad) if value is None else F.pad(leaf(a), pad, value=value)
    assert_same(out, expected)
    assert_same(F.pad(leaf(a), list(pad), "constant", 0.0 if value is None else value), expected)
    check_grad(lambda t: F.pad(t, pad, value=value), a, seed=seed, gradgrad=True)


def test_pad_orders_sizes_from_the_last_dim_like_torch() -> None:
    a = np.arange(6.0).reshape(1, 2, 3)
    out = F.pad(Tensor(a), (1, 0, 0, 2, 1, 1), value=-1.0)
    np.testing.assert_array_equal(out.data, np.pad(a, ((1, 1), (0, 2), (1, 0)), constant_values=-1.0))
    np.testing.assert_array_equal(F.pad(Tensor(a), (-1, -1)).data, a[..., 1:2])


# -- module-level forms ---------------------------------------------------------------------------------


def test_module_level_forms_match_numpy() -> None:
    a = np.arange(24.0).reshape(2, 3, 4)
    x = Tensor(a)
    assert_same(tg.reshape(x, (4, -1)), a.reshape(4, 6))
    assert_same(tg.flatten(x, 1), a.reshape(2, 12))
    assert_same(tg.transpose(x, 0, 2), a.transpose(2, 1, 0))
    assert_same(tg.permute(x, (1, 2, 0)), a.transpose(1, 2, 0))
    assert_same(tg.squeeze(tg.unsqueeze(x, 1), 1), a)
    assert_same(tg.flip(x, (0, -1)), a[::-1, :, ::-1])
    assert_same(tg.broadcast_to(tg.tensor([1.0, 2.0]), (3, 2)), np.broadcast_to(np.float32([1, 2]), (3, 2)))
    assert_same(tg.cat([x, x], -1), np.concatenate([a, a], -1))
    assert_same(tg.stack([x, x], -1), np.stack([a, a], -1))
    assert [p.shape for p in tg.split(x, [1, 3], 2)] == [(2, 3, 1), (2, 3, 3)]
    assert [p.shape for p in tg.chunk(x, 2, 1)] == [(2, 2, 4), (2, 1, 4)]
    assert [p.shape for p in tg.unbind(x, 1)] == [(2, 4)] * 3


# -- larger inputs: fast-mode gradcheck, non-contiguous ---------------------------------------------------

LARGE_OPS: dict[str, Callable[[Tensor], Any]] = {
    "reshape": lambda t: t.reshape(-1, 5),
    "flatten": lambda t: t.flatten(1),
    "permute": lambda t: t.permute(2, 0, 1),
    "transpose": lambda t: t.transpose(0, 1),
    "expand": lambda t: t.unsqueeze(1).expand(4, 2, 4, 5),
    "squeeze_unsqueeze": lambda t: t.unsqueeze(-1).squeeze(),
    "flip": lambda t: t.flip(0, 2),
    "contiguous": lambda t: t.contiguous(),
    "cat": lambda t: tg.cat([t, t.flip(1)], 1),
    "stack": lambda t: tg.stack([t, 2 * t], 1),
    "split": lambda t: t.split([1, 3, 1], 2),
    "chunk": lambda t: t.chunk(3, 1),
    "unbind": lambda t: t.unbind(-1),
    "pad": lambda t: F.pad(t, (2, -1, -1, 1, 0, 1), value=0.5),
}


@pytest.mark.parametrize("name", sorted(LARGE_OPS))
@given(a=non_contiguous((4, 4, 5)), seed=SEEDS)
def test_fast_mode_gradcheck_on_larger_non_contiguous_inputs(name: str, a: np.ndarray, seed: int) -> None:
    assert gradcheck(LARGE_OPS[name], (leaf(a),), seed=seed, fast_mode=True)


# -- dtype and shape invariants ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(LARGE_OPS))
def test_float32_stays_float32_and_gradients_have_the_input_dtype_and_shape(name: str) -> None:
    rng = np.random.default_rng(0)
    a = rng.standard_normal((5, 4, 4)).astype(np.float32).transpose(1, 2, 0)[:, :, ::-1]  # non-contiguous
    x32, x64 = leaf(a), leaf(a.astype(np.float64))
    outs32, outs64 = LARGE_OPS[name](x32), LARGE_OPS[name](x64)
    outs32 = outs32 if isinstance(outs32, tuple) else (outs32,)
    outs64 = outs64 if isinstance(outs64, tuple) else (outs64,)
    total32, total64 = 0, 0
    for o32, o64 in zip(outs32, outs64, strict=True):
        assert o32.dtype == np.float32
        g = rng.standard_normal(o32.shape)
        total32 = total32 + (o32 * Tensor(g.astype(np.float32))).sum()
        total64 = total64 + (o64 * Tensor(g)).sum()
    total32.backward()
    total64.backward()
    assert x32.grad.dtype == np.float32 and x32.grad.shape == a.shape
    np.testing.assert_allclose(x32.grad.data, x64.grad.data, rtol=1e-5, atol=1e-5)


def test_cat_of_float32_and_float64_promotes_to_float64_and_keeps_each_gradient_dtype() -> None:
    a = Tensor(np.ones(2, dtype=np.float32), requires_grad=True)
    b = Tensor(np.ones(3), requires_grad=True)
    out = tg.cat([a, b])
    assert out.dtype == np.float64
    out.backward(Tensor(np.arange(5.0)))
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64
    np.testing.assert_array_equal(a.grad.data, [0.0, 1.0])


# -- bad input ------------------------------------------------------------------------------------------


def _x() -> Tensor:
    return Tensor(np.zeros((5, 3)))


BAD_INPUT = [
    pytest.param(lambda: _x().reshape(4, 4), RuntimeError, r"\[4, 4\].*size 15", id="reshape-wrong-size"),
    pytest.param(lambda: _x().view(-1, -1), RuntimeError, "only one dimension", id="reshape-two-inferred-dims"),
    pytest.param(lambda: _x().reshape(-1, 4), RuntimeError, "size 15", id="reshape-inferred-not-integral"),
    pytest.param(lambda: _x().unflatten(0, (2, 2)), RuntimeError, r"dim 0 \(5\)", id="unflatten-sizes-dont-multiply"),
    pytest.param(lambda: _x().expand(5, 4), RuntimeError, "non-singleton dimension 1", id="expand-non-singleton"),
    pytest.param(lambda: _x().expand(3), RuntimeError, "number of sizes", id="expand-fewer-sizes"),
    pytest.param(lambda: _x().broadcast_to((2, 3)), RuntimeError, "non-singleton", id="broadcast_to-incompatible"),
    pytest.param(lambda: _x().permute(0, 0), RuntimeError, "repeated dim", id="permute-repeated-dim"),
    pytest.param(lambda: _x().permute(1), RuntimeError, "number of dims", id="permute-missing-dim"),
    pytest.param(lambda: _x().permute(0, 1, 2), RuntimeError, "number of dims", id="permute-extra-dim"),
    pytest.param(lambda: _x().permute(0, 2), IndexError, "out of range", id="permute-dim-out-of-range"),
    pytest.param(lambda: _x().transpose(0, 2), IndexError, "out of range", id="transpose-dim-out-of-range"),
    pytest.param(lambda: _x().squeeze(2), IndexError, "out of range", id="squeeze-dim-out-of-range"),
    pytest.param(lambda: _x().unsqueeze(3), IndexError, "out of range", id="unsqueeze-dim-out-of-range"),
    pytest.param(lambda: _x().flip(0, -2), RuntimeError, "multiple times", id="flip-repeated-dim"),
    pytest.param(
        lambda: tg.cat([_x(), Tensor(np.zeros((5, 4)))]), RuntimeError, r"\(5, 3\).*\(5, 4\)", id="cat-shape-mismatch"
    ),
    pytest.param(lambda: tg.cat([_x(), Tensor(np.zeros(5))], 0), RuntimeError, r"\(5,\)", id="cat-ndim-mismatch"),
    pytest.param(lambda: tg.cat([]), ValueError, "non-empty", id="cat-empty-list"),  # torch 2.x: ValueError
    pytest.param(
        lambda: tg.cat([Tensor(np.array(1.0)), Tensor(np.array(2.0))]),
        RuntimeError,
        "zero-dim",
        id="cat-zero-dim-tensors",
    ),
    pytest.param(
        lambda: tg.stack([_x(), Tensor(np.zeros((3, 5)))]), RuntimeError, r"\(3, 5\)", id="stack-shape-mismatch"
    ),
    pytest.param(
        lambda: tg.stack([]),
        RuntimeError,
        "non-empty",
        id="stack-empty-list",
    ),
    pytest.param(
        lambda: _x().split([1, 2]),
        RuntimeError,
        r"5.*\[1, 2\]",
        id="split-sections-dont-sum",
    ),
    pytest.param(
        lambda: _x().split(0),
        RuntimeError,
        "split_size",
        id="split-size-zero",
    ),
    pytest.param(
        lambda: _x().split([6, -1]),
        RuntimeError,
        "non-negative",
        id="split-negative-section",
    ),
    pytest.param(
        lambda: _x().chunk(0),
        RuntimeError,
        "chunks",
        id="chunk-zero",
    ),
    pytest.param(
        lambda: _x().flatten(1, 0),
        RuntimeError,
        "start_dim",
        id="flatten-start-after-end",
    ),
    pytest.param(
        lambda: Tensor(np.zeros((2, 2, 2))).t(),
        RuntimeError,
        "<= 2 dimensions",
        id="t-of-3d",
    ),
    pytest.param(
        lambda: Tensor(np.zeros(3)).mT,
        RuntimeError,
        "2 dimensions",
        id="mT-of-1d",
    ),
    pytest.param(
        lambda: F.pad(_x(), (1,)),
        RuntimeError,
        "even",
        id="pad-odd-length",
    ),
    pytest.param(
        lambda: F.pad(_x(), (1,) * 6),
        RuntimeError,
        "6",
        id="pad-too-many-dims",
    ),
    pytest.param(
        lambda: F.pad(_x(), (-2, -2)),
        RuntimeError,
        "negative",
        id="pad-crops-below-zero",
    ),
    pytest.param(
        lambda: F.pad(_x(), (1, 1), mode="reflect"), NotImplementedError, "reflect", id="pad-unsupported-mode"
    ),
    pytest.param(lambda: F.pad(_x(), (1, 1), mode="foo"), NotImplementedError, "foo", id="pad-unknown-mode"),
]


@pytest.mark.parametrize(("make", "error", "match"), BAD_INPUT)
def test_bad_arguments_raise_pytorchs_error_kind_naming_the_problem(make: Callable, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        make()


@given(arrays(small(min_dims=1)), st.integers(2, 5))
def test_reshape_to_any_other_element_count_raises_runtime_error(a: np.ndarray, extra: int) -> None:
    with pytest.raises(RuntimeError, match=f"size {a.size}"):
        Tensor(a).reshape(a.size * extra)
