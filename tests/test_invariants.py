"""Invariants every op and every backward pass must keep, whatever the op:

* backward never writes into the inputs' arrays, nor into the upstream gradient the user passed;
* each leaf's gradient has its leaf's dtype (float32 -> float32, float64 -> float64) and shape;
* gradients own their memory: no two of (inputs' data, gradients' data, upstream gradient) share any;
* after ``backward()`` every node of the graph has dropped its saved tensors, a second ``backward()``
  raises, and ``retain_graph=True`` keeps the graph usable (the gradient then doubles);
* memory: in a training loop the tensors of one iteration are freed (by reference counting alone) once
  the user drops them, and a float32 graph holds and computes nothing in float64.
"""

from __future__ import annotations

import gc
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_cnn as tg
import tinygrad_cnn.nn.functional as F
from tinygrad_cnn.autograd.function import Function
from tinygrad_cnn.tensor import Tensor
from tinygrad_cnn.testing.strategies import maybe_non_contiguous

FLOATS = [np.dtype(np.float32), np.dtype(np.float64)]
# Each property runs for every (op, dtype) pair, so each pair gets a fifth of the profile's examples.
PER_OP_EXAMPLES = max(1, settings.default.max_examples // 5)


@dataclass(frozen=True)
class Op:
    name: str
    shapes: tuple[tuple[int, ...], ...]
    fn: Callable[..., Tensor]

    def __repr__(self) -> str:
        return self.name


OPS = [
    # binary arithmetic, with and without broadcasting
    Op("add_same_shape", ((2, 3), (2, 3)), lambda a, b: a + b),
    Op("add_broadcast", ((2, 3), (3,)), lambda a, b: a + b),
    Op("sub_broadcast_both", ((2, 1), (1, 3)), lambda a, b: a - b),
    Op("mul_broadcast_new_dims", ((4, 1, 3), (2, 3)), lambda a, b: a * b),
    Op("mul_same_tensor", ((2, 3),), lambda a: a * a),
    Op("div", ((2, 3), (2, 3)), lambda a, b: a / (b * b + 1)),
    Op("rdiv_scalar", ((2, 3),), lambda a: 2.0 / (a * a + 1)),
    Op("pow_scalar_exponent", ((2, 3),), lambda a: a**3),
    Op("pow_tensor_exponent", ((2, 3), (2, 3)), lambda a, b: (a * a + 1) ** b),
    Op("maximum_broadcast", ((2, 3), (3,)), lambda a, b: a.maximum(b)),
    Op("where", ((2, 3), (2, 3)), lambda a, b: tg.where(a > 0, a, b)),
    # unary math and activations
    Op("neg", ((2, 3),), lambda a: -a),
    Op("exp", ((2, 3),), lambda a: a.exp()),
    Op("log", ((2, 3),), lambda a: (a * a + 1).log()),
    Op("sqrt", ((2, 3),), lambda a: (a * a + 1).sqrt()),
    Op("sin", ((2, 3),), lambda a: a.sin()),
    Op("abs", ((2, 3),), lambda a: a.abs()),
    Op("clamp", ((2, 3),), lambda a: a.clamp(-1.0, 1.0)),
    Op("tanh", ((2, 3),), lambda a: a.tanh()),
    Op("sigmoid", ((2, 3),), lambda a: a.sigmoid()),
    Op("relu", ((2, 3),), lambda a: a.relu()),
    Op("gelu", ((2, 3),), lambda a: F.gelu(a)),
    Op("softplus", ((2, 3),), lambda a: F.softplus(a)),
    Op("softmax", ((2, 3),), lambda a: a.softmax(-1)),
    Op("log_softmax", ((2, 3),), lambda a: a.log_softmax(0)),
    # reductions
    Op("sum_all", ((2, 3),), lambda a: a.sum()),
    Op("sum_dim", ((2, 3),), lambda a: a.sum(1)),
    Op("mean_keepdim", ((2, 3),), lambda a: a.mean(0, keepdim=True)),
    Op("amax", ((2, 3),), lambda a: a.amax(1)),
    Op("max_dim_values", ((2, 3),), lambda a: a.max(1).values),
    Op("var", ((2, 3),), lambda a: a.var(1)),
    Op("logsumexp", ((2, 3),), lambda a: a.logsumexp(1)),
    # matmul
    Op("matmul", ((2, 3), (3, 4)), lambda a, b: a @ b),
    Op("matmul_batched_broadcast", ((2, 2, 3), (3, 4)), lambda a, b: a @ b),
    Op("matvec", ((2, 3), (3,)), lambda a, b: a @ b),
    Op("dot", ((3,), (3,)), lambda a, b: a @ b),
    # movement
    Op("reshape", ((2, 3),), lambda a: a.reshape(3, 2)),
    Op("reshape_to_own_shape", ((2, 3),), lambda a: a.reshape(2, 3)),
    Op("transpose", ((2, 3),), lambda a: a.T),
    Op("permute", ((2, 3, 4),), lambda a: a.permute(2, 0, 1)),
    Op("expand", ((1, 3),), lambda a: a.expand(4, 3)),
    Op("flip", ((2, 3),), lambda a: a.flip(0, 1)),
    Op("unsqueeze_squeeze", ((2, 3),), lambda a: a.unsqueeze(1).squeeze()),
    Op("contiguous_of_transpose", ((2, 3),), lambda a: a.T.contiguous()),
    Op("clone", ((2, 3),), lambda a: a.clone()),
    Op("pad", ((2, 3),), lambda a: F.pad(a, (1, 2))),
    # indexing
    Op("getitem_basic", ((3, 4),), lambda a: a[1:, ::-2]),
    Op("getitem_int", ((3, 4),), lambda a: a[1]),
    Op("getitem_fancy_repeats", ((3, 4),), lambda a: a[[0, 2, 0]]),
    Op("getitem_mask", ((3, 4),), lambda a: a[a.data > 0]),
    # joining and splitting
    Op("cat", ((2, 3), (1, 3)), lambda a, b: tg.cat([a, b], 0)),
    Op("cat_same_tensor_twice", ((2, 3),), lambda a: tg.cat([a, a], 1)),
    Op("stack", ((2, 3), (2, 3)), lambda a, b: tg.stack([a, b], 1)),
    Op("split_piece", ((4, 3),), lambda a: a.split(3, 0)[1]),
]


def input_arrays(op: Op, dtype: np.dtype) -> st.SearchStrategy[tuple[np.ndarray, ...]]:
    """One array per input of ``op``: bounded, contiguous or not."""
    return st.tuples(*(maybe_non_contiguous(s, dtype, -2.0, 2.0) for s in op.shapes))


def run_backward(op: Op, arrays: tuple[np.ndarray, ...], seed: int = 0) -> tuple[list[Tensor], Tensor, np.ndarray]:
    """Leaves wrapping ``arrays`` (no copy), the op's output, and the upstream gradient passed to backward."""
    leaves = [Tensor(a, requires_grad=True) for a in arrays]
    out = op.fn(*leaves)
    upstream = upstream_for(out, seed)
    out.backward(Tensor(upstream))
    return leaves, out, upstream


def upstream_for(out: Tensor, seed: int = 0) -> np.ndarray:
    """A non-uniform upstream gradient for ``out`` (the same one for the same seed)."""
    return np.random.default_rng(seed).standard_normal(out.shape).astype(out.dtype)


def ops_and_dtypes() -> Any:
    return pytest.mark.parametrize(
        ("op", "dtype"), [(op, dt) for op in OPS for dt in FLOATS], ids=lambda v: getattr(v, "name", str(v))
    )


# -- (a) no mutation ---------------------------------------------------------------------------------
@ops_and_dtypes()
@settings(max_examples=PER_OP_EXAMPLES)
@given(data=st.data())
def test_backward_leaves_input_arrays_and_upstream_gradient_unmodified(op: Op, dtype: np.dtype, data: Any) -> None:
    arrays = data.draw(input_arrays(op, dtype))
    before = [a.copy() for a in arrays]
    leaves, out, upstream = run_backward(op, arrays)
    op.fn(*leaves).backward(Tensor(upstream))  # a second pass, accumulating into the grads in place
    upstream_before = upstream_for(out)
    for i, (leaf, a, b) in enumerate(zip(leaves, arrays, before)):
        assert leaf.data is a, f"input {i}: the leaf no longer wraps the caller's array"
        np.testing.assert_array_equal(a, b, err_msg=f"{op.name}: input {i} was modified")
    np.testing.assert_array_equal(upstream, upstream_before, err_msg=f"{op.name}: upstream gradient was modified")


# -- (b) dtype and shape of the gradients --------------------------------------------------------------
@ops_and_dtypes()
@settings(max_examples=PER_OP_EXAMPLES)
@given(data=st.data())
def test_leaf_gradients_have_their_inputs_dtype_and_shape(op: Op, dtype: np.dtype, data: Any) -> None:
    leaves, _, _ = run_backward(op, data.draw(input_arrays(op, dtype)))
    for i, leaf in enumerate(leaves):
        assert leaf.grad is not None, f"{op.name}: input {i} got no gradient"
        assert leaf.grad.dtype == dtype, f"{op.name}: input {i} is {dtype}, its gradient {leaf.grad.dtype}"
        assert leaf.grad.shape == leaf.shape, f"{op.name}: input {i} is {leaf.shape}, its gradient {leaf.grad.shape}"
        assert not leaf.grad.requires_grad and leaf.grad.grad_fn is None


MIXED = [
    ("add", lambda a, b: a + b),
    ("mul", lambda a, b: a * b),
    ("div", lambda a, b: a / (b * b + 1)),
    ("matmul", lambda a, b: a @ b.T),
    ("maximum", lambda a, b: a.maximum(b)),
    ("where", lambda a, b: tg.where(a > 0, a, b)),
    ("cat", lambda a, b: tg.cat([a, b], 0)),
    ("stack", lambda a, b: tg.stack([a, b])),
    ("cast_then_add", lambda a, b: a.double() + b.float()),
]


@pytest.mark.parametrize(("name", "fn"), MIXED, ids=[m[0] for m in MIXED])
@pytest.mark.parametrize("order", ["f32_f64", "f64_f32"])
@settings(max_examples=PER_OP_EXAMPLES)
@given(data=st.data())
def test_mixed_precision_op_gives_each_leaf_a_gradient_of_its_own_dtype(
    name: str, fn: Callable, order: str, data: Any
) -> None:
    dtypes = (np.float32, np.float64) if order == "f32_f64" else (np.float64, np.float32)
    arrays = [data.draw(maybe_non_contiguous((2, 3), dt, -2.0, 2.0)) for dt in dtypes]
    leaves = [Tensor(a, requires_grad=True) for a in arrays]
    out = fn(*leaves)
    out.backward(Tensor(np.ones(out.shape, out.dtype)))
    for leaf, dt in zip(leaves, dtypes):
        assert leaf.grad.dtype == dt and leaf.grad.shape == leaf.shape


# -- (c) no aliasing ------------------------------------------------------------------------------------
def assert_no_shared_memory(named: dict[str, np.ndarray]) -> None:
    items = list(named.items())
    for i, (name_a, a) in enumerate(items):
        for name_b, b in items[i + 1 :]:
            assert not np.shares_memory(a, b), f"{name_a} and {name_b} share memory"


@ops_and_dtypes()
@settings(max_examples=PER_OP_EXAMPLES)
@given(data=st.data())
def test_gradients_share_no_memory_with_each_other_the_inputs_or_the_upstream_gradient(
    op: Op, dtype: np.dtype, data: Any
) -> None:
    leaves, _, upstream = run_backward(op, data.draw(input_arrays(op, dtype)))
    arrays: dict[str, np.ndarray] = {"upstream": upstream}
    for i, leaf in enumerate(leaves):
        arrays[f"input {i}"] = leaf.data
        arrays[f"grad {i}"] = leaf.grad.data
    assert_no_shared_memory(arrays)


def test_add_of_same_shaped_leaves_gives_gradients_in_separate_memory() -> None:
    a = Tensor(np.ones((2, 3)), requires_grad=True)
    b = Tensor(np.ones((2, 3)), requires_grad=True)
    w = np.arange(6.0).reshape(2, 3)
    (a + b).backward(Tensor(w))
    assert_no_shared_memory({"a.grad": a.grad.data, "b.grad": b.grad.data, "upstream": w})
    a.grad.data[0, 0] = 100.0
    assert b.grad.data[0, 0] == 0.0 and w[0, 0] == 0.0


@pytest.mark.parametrize(
    "fn",
    [
        lambda x: x.reshape(3, 2),
        lambda x: x.reshape(2, 3),  # returns x itself: the leaf is the root
        lambda x: x.T,
        lambda x: x.clone(),
        lambda x: x + 0.0,
        lambda x: x.flip(0),
        lambda x: x[:, :],
    ],
    ids=["reshape", "reshape_to_own_shape", "transpose", "clone", "add_zero", "flip", "full_slice"],
)
def test_gradient_of_a_view_like_op_does_not_alias_the_users_upstream_gradient(fn: Callable) -> None:
    x = Tensor(np.zeros((2, 3)), requires_grad=True)
    y = fn(x)
    w = np.arange(float(y.numel())).reshape(y.shape)
    y.backward(Tensor(w))
    assert_no_shared_memory({"x.grad": x.grad.data, "upstream": w, "x": x.data})
    x.grad.data[...] = -1.0  # writing the gradient (as an optimizer might) leaves the user's array alone
    assert w.ravel()[1] == 1.0


def test_retained_grad_of_an_intermediate_does_not_alias_leaf_grad_or_upstream() -> None:
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    y = x + 1.0
    y.retain_grad()
    w = np.full((2, 3), 2.0)
    y.backward(Tensor(w))
    assert_no_shared_memory({"x.grad": x.grad.data, "y.grad": y.grad.data, "upstream": w, "y": y.data})


def test_accumulated_gradients_stay_unaliased_after_a_second_backward() -> None:
    a = Tensor(np.ones((2, 3)), requires_grad=True)
    b = Tensor(np.ones((2, 3)), requires_grad=True)
    w = np.ones((2, 3))
    for _ in range(2):
        (a + b).backward(Tensor(w))
    np.testing.assert_array_equal(a.grad.data, 2 * w)
    assert_no_shared_memory({"a.grad": a.grad.data, "b.grad": b.grad.data, "upstream": w})


# -- (d) saved buffers released ---------------------------------------------------------------------------
def graph_nodes(root: Any) -> list[Any]:
    """Every node reachable from ``root`` through ``next_functions`` (each once)."""
    seen: dict[int, Any] = {}
    stack = [root]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen[id(node)] = node
        stack.extend(nxt for nxt, _ in node.next_functions)
    return list(seen.values())


def function_nodes(root: Any) -> list[Function]:
    return [n for n in graph_nodes(root) if isinstance(n, Function)]


def weighted_loss(op: Op, leaves: list[Tensor]) -> Tensor:
    """A scalar loss through ``op``, weighted non-uniformly (so the graph has Mul and Sum after the op)."""
    out = op.fn(*leaves)
    w = np.random.default_rng(1).standard_normal(out.shape).astype(out.dtype)
    return (out * Tensor(w)).sum()


def fixed_leaves(op: Op, dtype: Any = np.float64) -> list[Tensor]:
    rng = np.random.default_rng(0)
    return [Tensor(rng.uniform(-2, 2, s).astype(dtype), requires_grad=True) for s in op.shapes]


@pytest.mark.parametrize("op", OPS, ids=lambda op: op.name)
def test_backward_frees_the_saved_tensors_of_every_node(op: Op) -> None:
    loss = weighted_loss(op, fixed_leaves(op))
    nodes = function_nodes(loss.grad_fn)
    assert any(n._saved is not None for n in nodes), "nothing was saved: the test would prove nothing"
    loss.backward()
    for node in nodes:
        assert node._released, f"{node.name()} was not released"
        assert node._saved is None, f"{node.name()} still holds its saved tensors"
        with pytest.raises(RuntimeError, match="second time"):
            node.saved_tensors  # noqa: B018 - the access itself must raise


@pytest.mark.parametrize("op", OPS, ids=lambda op: op.name)
def test_second_backward_through_a_freed_graph_raises(op: Op) -> None:
    loss = weighted_loss(op, fixed_leaves(op))
    loss.backward()
    with pytest.raises(RuntimeError, match="second time"):
        loss.backward()


@pytest.mark.parametrize("op", OPS, ids=lambda op: op.name)
def test_retain_graph_keeps_saved_tensors_and_second_backward_doubles_the_gradient(op: Op) -> None:
    leaves = fixed_leaves(op)
    loss = weighted_loss(op, leaves)
    loss.backward(retain_graph=True)
    first = [leaf.grad.data.copy() for leaf in leaves]
    assert not any(n._released for n in function_nodes(loss.grad_fn))
    loss.backward()
    for leaf, g in zip(leaves, first):
        np.testing.assert_allclose(leaf.grad.data, 2 * g, rtol=1e-12, atol=0)


def test_autograd_grad_also_frees_the_graph() -> None:
    x = Tensor(np.linspace(-1, 1, 6).reshape(2, 3), requires_grad=True)
    loss = (x.tanh() * x.exp()).sum()
    (g,) = tg.autograd.grad(loss, [x])
    assert all(n._saved is None and n._released for n in function_nodes(loss.grad_fn))
    with pytest.raises(RuntimeError, match="second time"):
        tg.autograd.grad(loss, [x])
    assert x.grad is None and g.shape == x.shape


# -- (e) memory --------------------------------------------------------------------------------------------
@contextmanager
def refcounting_only() -> Iterator[None]:
    """Turn the cyclic garbage collector off: whatever is freed inside was freed by reference counting."""
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def assert_float32_graph(root: Any) -> None:
    """Every node's outputs and float saved tensors are float32, and its inputs too."""
    for node in function_nodes(root):
        for _shape, dtype in node._output_meta:
            assert dtype.kind != "f" or dtype == np.float32, f"{node.name()} has a {dtype} output"
        for meta in node._input_meta:
            assert meta is None or meta[1] == np.float32, f"{node.name()} has a {meta[1]} input"
        for t in node.saved_tensors if node._saved is not None else ():
            assert t is None or t.dtype.kind != "f" or t.dtype == np.float32, f"{node.name()} saved {t.dtype}"


@contextmanager
def record_function_outputs(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, np.dtype]]]:
    """Record (op name, dtype) of every Function output created inside, backward passes included."""
    seen: list[tuple[str, np.dtype]] = []
    original = Function.apply.__func__  # type: ignore[attr-defined]

    def apply(cls: type, *args: Any) -> Any:
        out = original(cls, *args)
        for t in out if isinstance(out, tuple) else (out,):
            seen.append((cls.__name__, t.dtype))
        return out

    monkeypatch.setattr(Function, "apply", classmethod(apply))
    yield seen
    monkeypatch.undo()


class TinyMLP:
    """Two layers over float32 (64, 256) inputs, cross-entropy by log_softmax; plain SGD."""

    def __init__(self, rng: np.random.Generator) -> None:
        f32 = np.float32
        self.w1 = Tensor((rng.standard_normal((256, 32)) * 0.05).astype(f32), requires_grad=True)
        self.b1 = Tensor(np.zeros(32, f32), requires_grad=True)
        self.w2 = Tensor((rng.standard_normal((32, 10)) * 0.05).astype(f32), requires_grad=True)
        self.b2 = Tensor(np.zeros(10, f32), requires_grad=True)
        self.params = [self.w1, self.b1, self.w2, self.b2]

    def forward(self, x: Tensor, onehot: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        h = (x @ self.w1 + self.b1).tanh()
        logits = h @ self.w2 + self.b2
        logp = logits.log_softmax(1)
        loss = -(logp * onehot).sum(1).mean()
        return loss, {"x": x, "h": h, "logits": logits, "logp": logp}

    def step(self, lr: float = 0.1) -> None:
        with tg.no_grad():
            for p in self.params:
                p -= p.grad * lr
                p.grad = None


def batch(rng: np.random.Generator) -> tuple[Tensor, Tensor]:
    """A fresh float32 (64, 256) batch; the class is the largest of the first 10 features (learnable)."""
    x = rng.standard_normal((64, 256)).astype(np.float32)
    onehot = np.eye(10, dtype=np.float32)[x[:, :10].argmax(1)]
    return Tensor(x), Tensor(onehot)


def test_training_loop_frees_every_iterations_tensors_by_refcounting_once_dropped() -> None:
    rng = np.random.default_rng(0)
    model = TinyMLP(rng)
    refs: list[tuple[int, str, weakref.ref]] = []
    losses = []
    with refcounting_only():
        for i in range(100):
            loss, inner = model.forward(*batch(rng))
            loss.backward()
            losses.append(loss.item())
            refs += [(i, name, weakref.ref(t)) for name, t in inner.items()]
            refs.append((i, "loss", weakref.ref(loss)))
            del loss, inner
            model.step()
            alive = [(j, name) for j, name, r in refs if r() is not None]
            assert not alive, f"iteration {i}: still alive after the user dropped them: {alive}"
    assert losses[-1] < losses[0]  # it did train: the loop is a real one
    for p in model.params:
        assert p.dtype == np.float32


def test_intermediate_lives_exactly_as_long_as_the_user_holds_it() -> None:
    """The weakref check above can fail: a tensor the user still holds is not collected."""
    rng = np.random.default_rng(0)
    model = TinyMLP(rng)
    with refcounting_only():
        loss, inner = model.forward(*batch(rng))
        loss.backward()
        ref = weakref.ref(inner["h"])
        assert ref() is not None
        del inner
        assert ref() is None


def test_float32_training_graph_holds_and_computes_nothing_in_float64(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(0)
    model = TinyMLP(rng)
    with record_function_outputs(monkeypatch) as produced:
        for _ in range(3):
            loss, _ = model.forward(*batch(rng))
            assert loss.dtype == np.float32
            assert_float32_graph(loss.grad_fn)
            loss.backward()
            for p in model.params:
                assert p.grad.dtype == np.float32
            model.step()
    assert produced, "nothing recorded: the check would prove nothing"
    wide = sorted({name for name, dt in produced if dt.kind == "f" and dt != np.float32})
    assert not wide, f"ops that produced non-float32 arrays in a float32 model (forward or backward): {wide}"


@pytest.mark.parametrize("op", OPS, ids=lambda op: op.name)
def test_float32_op_graph_holds_and_computes_nothing_in_float64(op: Op, monkeypatch: pytest.MonkeyPatch) -> None:
    leaves = fixed_leaves(op, np.float32)
    with record_function_outputs(monkeypatch) as produced:
        loss = weighted_loss(op, leaves)
        assert_float32_graph(loss.grad_fn)
        loss.backward()
    wide = sorted({name for name, dt in produced if dt.kind == "f" and dt != np.float32})
    assert not wide, f"{op.name}: float64 arrays computed in a float32 graph by {wide}"


@pytest.mark.parametrize(
    "fn",
    [
        pytest.param(lambda h: h.tanh(), id="tanh"),
        pytest.param(lambda h: h.exp(), id="exp"),
        pytest.param(lambda h: h @ h.T, id="matmul"),
        pytest.param(lambda h: h + h, id="add"),
        pytest.param(lambda h: h.softmax(1), id="softmax"),
        pytest.param(lambda h: h[::-1], id="getitem"),
        pytest.param(lambda h: h * h, id="mul"),
        pytest.param(lambda h: h / 2.0, id="div"),
        pytest.param(lambda h: h**2, id="pow"),
    ],
)
def test_after_backward_a_kept_loss_does_not_keep_intermediates_alive(fn: Callable) -> None:
    """As in PyTorch, holding on to ``loss`` after backward (to log it, say) keeps only the graph's
    nodes, not the activations: backward released what they saved."""
    x = Tensor(np.ones((64, 256), np.float32), requires_grad=True)
    with refcounting_only():
        h = x * 2.0
        ref = weakref.ref(h)
        loss = fn(h).sum()
        loss.backward()
        del h
        assert ref() is None, "the intermediate is still alive while only the loss is held"
        del loss


@pytest.mark.parametrize(
    "fn",
    [
        pytest.param(lambda h: h + 1.0, id="add"),
        pytest.param(lambda h: h @ h.T, id="matmul"),
        pytest.param(lambda h: h.tanh(), id="tanh"),  # saves its own output
        pytest.param(lambda h: h.exp().softmax(1), id="exp-softmax"),
        pytest.param(lambda h: h.relu().sigmoid(), id="relu-sigmoid"),
    ],
)
def test_graph_dropped_without_backward_is_freed_by_refcounting(fn: Callable) -> None:
    """Evaluating with grad enabled and never calling backward (validation, say) must not leak until the
    cyclic collector happens to run."""
    x = Tensor(np.ones((64, 256), np.float32), requires_grad=True)
    with refcounting_only():
        y = fn(x * 2.0)
        ref = weakref.ref(y)
        del y
        assert ref() is None
