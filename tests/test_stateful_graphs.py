"""Random computation graphs, grown step by step by a Hypothesis state machine, checked against numpy.

The machine keeps a few float64 leaves (shape (2, 3), or (3,) to exercise broadcasting) and a growing list
of nodes. Each node pairs our Tensor with a reference: a function that recomputes the node's value in plain
numpy float64 from the leaves' values (and the values of the nodes before it). Rules add leaves, apply
smooth unary ops and binary ops to any earlier nodes (so nodes are reused: diamonds, x * x, a - a), and
check ``backward`` / ``autograd.grad`` against central differences of ``sum(w * reference)`` for a random,
non-uniform upstream gradient ``w``. Invariants check every node's value and that no leaf was mutated.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from hypothesis import note, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

import tinygrad_cnn as tg
import tinygrad_cnn.nn.functional as F
from tinygrad_cnn.tensor import Tensor
from tinygrad_cnn.testing.strategies import arrays

FULL = (2, 3)
BIAS = (3,)
EPS, RTOL, ATOL = 1e-6, 1e-4, 1e-6  # central differences and the tolerance on gradients
VALUE_RTOL, VALUE_ATOL = 1e-9, 1e-12  # our values against the numpy reference (same math, other order)
MAX_LEAVES = 4
MAX_NODES = 24
MAX_ABS = 30.0  # nodes with larger values are not kept: finite differences stay accurate

# Fixed, non-uniform constants the ops mix in (so a wrong permutation or broadcast shows in the gradient).
C_MAT = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])  # (2, 3): right factor of a (2, 2) matmul result
C_PAIR = np.array([0.7, -1.3])  # (2,): scales the columns of a (3, 2) reshape
C_COL = np.array([[1.1], [-0.4], [2.0]])  # (3, 1): scales the rows of a transposed (3, 2)
MASK = np.array([[True, False, True], [False, False, True]])
REPEAT = [2, 0, 2]  # a fancy index with a repeat: the gradient must accumulate
MIX = np.array([0.3, 1.7])

Reference = Callable[[list[np.ndarray], list[np.ndarray]], np.ndarray]


@dataclass(frozen=True)
class Node:
    tensor: Tensor
    reference: Reference  # (leaf values, values of the earlier nodes) -> this node's value
    ancestors: frozenset[int]  # indices of the nodes it is computed from, itself included
    label: str


def np_softmax(v: np.ndarray, axis: int) -> np.ndarray:
    e = np.exp(v - v.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def np_log_softmax(v: np.ndarray, axis: int) -> np.ndarray:
    s = v - v.max(axis=axis, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=axis, keepdims=True))


def _transpose_roundtrip(t: Tensor) -> Tensor:
    if t.ndim == 2:
        return (t.transpose(0, 1) * Tensor(C_COL)).transpose(0, 1)
    return (t.reshape(3, 1) * Tensor(C_COL)).reshape(3)


def _np_transpose_roundtrip(v: np.ndarray) -> np.ndarray:
    return (v.T * C_COL).T if v.ndim == 2 else (v.reshape(3, 1) * C_COL).reshape(3)


def _reshape_roundtrip(t: Tensor) -> Tensor:
    if t.ndim == 2:
        return (t.reshape(3, 2) * Tensor(C_PAIR)).reshape(2, 3)
    return (t.reshape(1, 3) * Tensor(C_MAT[1:])).reshape(3)


def _np_reshape_roundtrip(v: np.ndarray) -> np.ndarray:
    return (v.reshape(3, 2) * C_PAIR).reshape(2, 3) if v.ndim == 2 else (v.reshape(1, 3) * C_MAT[1:]).reshape(3)


def _pad_last(v: np.ndarray) -> np.ndarray:
    return np.pad(v, [(0, 0)] * (v.ndim - 1) + [(1, 0)])


# name -> (our op, numpy reference); ``d`` is a dim valid for the input (negative spellings included).
UNARY: dict[str, tuple[Callable[[Tensor, int], Tensor], Callable[[np.ndarray, int], np.ndarray]]] = {
    "tanh": (lambda t, d: t.tanh(), lambda v, d: np.tanh(v)),
    "sigmoid": (lambda t, d: t.sigmoid(), lambda v, d: 1 / (1 + np.exp(-v))),
    "exp_of_sin": (lambda t, d: t.sin().exp(), lambda v, d: np.exp(np.sin(v))),
    "square": (lambda t, d: t * t, lambda v, d: v * v),
    "cube": (lambda t, d: t**3, lambda v, d: v**3),
    "neg": (lambda t, d: -t, lambda v, d: -v),
    "sqrt_of_1p_square": (lambda t, d: (t * t + 1).sqrt(), lambda v, d: np.sqrt(v * v + 1)),
    "softmax": (lambda t, d: t.softmax(d), np_softmax),
    "log_softmax": (lambda t, d: t.log_softmax(d), np_log_softmax),
    "plus_sum_keepdim": (lambda t, d: t + t.sum(d, keepdim=True), lambda v, d: v + v.sum(d, keepdims=True)),
    "minus_mean_keepdim": (lambda t, d: t - t.mean(d, keepdim=True), lambda v, d: v - v.mean(d, keepdims=True)),
    "flip": (lambda t, d: t.flip(d), lambda v, d: np.flip(v, d)),
    "reverse_slice_then_pad": (lambda t, d: F.pad(t[..., 2:0:-1], (1, 0)), lambda v, d: _pad_last(v[..., 2:0:-1])),
    "index_with_repeats": (lambda t, d: t[..., REPEAT], lambda v, d: v[..., REPEAT]),
    "transpose_roundtrip": (lambda t, d: _transpose_roundtrip(t), lambda v, d: _np_transpose_roundtrip(v)),
    "reshape_roundtrip": (lambda t, d: _reshape_roundtrip(t), lambda v, d: _np_reshape_roundtrip(v)),
    # shape-changing: (3,) -> (2, 3) by expand, (2, 3) -> (3,) by a sum over rows
    "expand_or_sum_rows": (
        lambda t, d: t.expand(*FULL) if t.ndim == 1 else t.sum(0),
        lambda v, d: np.broadcast_to(v, FULL) if v.ndim == 1 else v.sum(0),
    ),
}


def _full(t: Tensor) -> Tensor:
    return t if t.shape == FULL else t.expand(*FULL)


def _np_full(v: np.ndarray) -> np.ndarray:
    return np.broadcast_to(v, FULL)


def _cat_split(a: Tensor, b: Tensor) -> Tensor:
    top, bottom = tg.cat([_full(a), _full(b)], 0).split(2, 0)
    return top * 0.5 + bottom.flip(0)


def _mask(a: np.ndarray | Tensor, b: np.ndarray | Tensor) -> np.ndarray:
    return MASK if FULL in (a.shape, b.shape) else MASK[0]


BINARY: dict[str, tuple[Callable[[Tensor, Tensor], Tensor], Callable[[np.ndarray, np.ndarray], np.ndarray]]] = {
    "add": (lambda a, b: a + b, lambda a, b: a + b),
    "sub": (lambda a, b: a - b, lambda a, b: a - b),
    "mul": (lambda a, b: a * b, lambda a, b: a * b),
    "div_by_1p_square": (lambda a, b: a / (1 + b * b), lambda a, b: a / (1 + b * b)),
    "where_fixed_mask": (
        lambda a, b: tg.where(Tensor(_mask(a, b)), a, b),
        lambda a, b: np.where(_mask(a, b), a, b),
    ),
    "matmul_a_bT_then_C": (
        lambda a, b: (_full(a) @ _full(b).transpose(0, 1)) @ Tensor(C_MAT),
        lambda a, b: (_np_full(a) @ _np_full(b).T) @ C_MAT,
    ),
    "cat_then_split": (_cat_split, lambda a, b: _np_full(a) * 0.5 + _np_full(b)[::-1]),
    "stack_then_weighted_sum": (
        lambda a, b: (tg.stack([_full(a), _full(b)], -1) * Tensor(MIX)).sum(-1),
        lambda a, b: _np_full(a) * MIX[0] + _np_full(b) * MIX[1],
    ),
}


def leaf_values(shape: tuple[int, ...]) -> st.SearchStrategy[np.ndarray]:
    return arrays(shape, np.float64, -2.0, 2.0)


class RandomGraphMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.leaves: list[Tensor] = []
        self.originals: list[np.ndarray] = []  # copies of the leaves' values, to catch mutation
        self.leaf_node: dict[int, int] = {}  # node index -> leaf index, for the nodes that are leaves
        self.nodes: list[Node] = []
        self.checked_nodes = 0  # how many nodes the whole-graph gradient invariant last saw

    # -- helpers -----------------------------------------------------------------------------------
    def _push(self, tensor: Tensor, reference: Reference, parents: tuple[int, ...], label: str) -> None:
        d = tensor.data
        if not np.isfinite(d).all() or np.abs(d).max() > MAX_ABS:
            note(f"not kept (values too large for finite differences): {label}")
            return
        ancestors = frozenset({len(self.nodes)}).union(*(self.nodes[p].ancestors for p in parents))
        self.nodes.append(Node(tensor, reference, ancestors, label))
        note(f"node {len(self.nodes) - 1} = {label}, shape {tensor.shape}")

    def _evaluate(self, leaf_values: list[np.ndarray], upto: int, override: dict[int, np.ndarray] | None = None):
        """The reference values of nodes 0..upto; ``override`` replaces some nodes' values by given ones."""
        values: list[np.ndarray] = []
        for k, node in enumerate(self.nodes[: upto + 1]):
            if override is not None and k in override:
                values.append(override[k])
            else:
                values.append(np.asarray(node.reference(leaf_values, values), dtype=np.float64))
        return values

    def _numerical_grads(self, weighted: list[tuple[int, np.ndarray]], wrt: list[int]) -> list[np.ndarray]:
        """d/d(node m) of sum_k sum(w_k * node_k) by central differences, for each node index m in ``wrt``.

        A leaf node is perturbed through its leaf value; another node by overriding its value (holding
        the leaves fixed), which is what autograd computes for a non-leaf input."""
        leaf_values = [np.array(leaf.data, dtype=np.float64) for leaf in self.leaves]
        upto = max(k for k, _ in weighted)
        base = self._evaluate(leaf_values, upto)

        def objective(override: dict[int, np.ndarray] | None, lv: list[np.ndarray]) -> float:
            values = self._evaluate(lv, upto, override)
            return float(sum(np.sum(w * values[k]) for k, w in weighted))

        grads = []
        for m in wrt:
            point = np.array(base[m], dtype=np.float64)
            g = np.zeros_like(point)
            for idx in np.ndindex(point.shape):
                results = []
                for sign in (1.0, -1.0):
                    moved = point.copy()
                    moved[idx] += sign * EPS
                    if m in self.leaf_node:
                        lv = list(leaf_values)
                        lv[self.leaf_node[m]] = moved
                        results.append(objective(None, lv))
                    else:
                        results.append(objective({m: moved}, leaf_values))
                g[idx] = (results[0] - results[1]) / (2 * EPS)
            grads.append(g)
        return grads

    def _pick(self, data: st.DataObject, label: str) -> int:
        return data.draw(st.integers(0, len(self.nodes) - 1), label=label)

    @staticmethod
    def _upstream(data: st.DataObject, shape: tuple[int, ...]) -> np.ndarray:
        seed = data.draw(st.integers(0, 2**32 - 1), label="upstream seed")
        return np.random.default_rng(seed).standard_normal(shape)

    def _zero_grads(self) -> None:
        for leaf in self.leaves:
            leaf.grad = None

    def _leaf_nodes_of(self, k: int) -> dict[int, int]:
        """leaf index -> node index, for the leaves node k depends on."""
        return {self.leaf_node[m]: m for m in self.nodes[k].ancestors if m in self.leaf_node}

    def _assert_leaf_grads(self, deps: dict[int, int], expected: list[np.ndarray], factor: float = 1.0) -> None:
        for i, leaf in enumerate(self.leaves):
            if i not in deps:
                assert leaf.grad is None, f"leaf {i} is not in the graph but got a gradient"
                continue
            assert leaf.grad is not None, f"leaf {i} is in the graph but got no gradient"
            assert leaf.grad.dtype == np.float64 and leaf.grad.shape == leaf.shape
            np.testing.assert_allclose(
                leaf.grad.data, factor * expected[i], rtol=RTOL, atol=ATOL, err_msg=f"gradient of leaf {i}"
            )

    # -- rules -------------------------------------------------------------------------------------
    def _add_leaf(self, value: np.ndarray) -> None:
        i = len(self.leaves)
        self.leaves.append(Tensor(value.copy(), requires_grad=True))
        self.originals.append(value.copy())
        self.leaf_node[len(self.nodes)] = i
        self._push(self.leaves[i], lambda lv, nv, i=i: lv[i], (), f"leaf {i}")

    @initialize(value=leaf_values(FULL))
    def first_leaf(self, value: np.ndarray) -> None:
        self._add_leaf(value)

    @precondition(lambda self: len(self.leaves) < MAX_LEAVES and len(self.nodes) < MAX_NODES)
    @rule(value=st.sampled_from([FULL, BIAS]).flatmap(leaf_values))
    def add_leaf(self, value: np.ndarray) -> None:
        self._add_leaf(value)

    @precondition(lambda self: len(self.nodes) < MAX_NODES)
    @rule(data=st.data(), op=st.sampled_from(sorted(UNARY)))
    def unary(self, data: st.DataObject, op: str) -> None:
        i = self._pick(data, "input")
        x = self.nodes[i].tensor
        d = data.draw(st.integers(-x.ndim, x.ndim - 1), label="dim")
        ours, ref = UNARY[op]
        self._push(ours(x, d), lambda lv, nv, i=i, d=d, ref=ref: ref(nv[i], d), (i,), f"{op}(node {i}, dim={d})")

    @precondition(lambda self: len(self.nodes) < MAX_NODES)
    @rule(data=st.data(), op=st.sampled_from(sorted(BINARY)))
    def binary(self, data: st.DataObject, op: str) -> None:
        i, j = self._pick(data, "left"), self._pick(data, "right")
        ours, ref = BINARY[op]
        out = ours(self.nodes[i].tensor, self.nodes[j].tensor)
        self._push(out, lambda lv, nv, i=i, j=j, ref=ref: ref(nv[i], nv[j]), (i, j), f"{op}(node {i}, node {j})")

    @rule(data=st.data(), twice=st.booleans())
    def backward_matches_numerical_gradient(self, data: st.DataObject, twice: bool) -> None:
        """``node.backward(w)`` (twice: the gradient doubles) against central differences of sum(w * node)."""
        k = self._pick(data, "node")
        node = self.nodes[k]
        w = self._upstream(data, node.tensor.shape)
        self._zero_grads()
        for _ in range(2 if twice else 1):
            node.tensor.backward(Tensor(w.copy()), retain_graph=True)
        deps = self._leaf_nodes_of(k)
        numerical = self._numerical_grads([(k, w)], list(deps.values()))
        expected = dict(zip(deps, numerical))
        self._assert_leaf_grads(deps, [expected.get(i) for i in range(len(self.leaves))], 2.0 if twice else 1.0)
        reference = self._evaluate([leaf.data for leaf in self.leaves], k)[k]
        np.testing.assert_allclose(node.tensor.data, reference, rtol=VALUE_RTOL, atol=VALUE_ATOL)

    @rule(data=st.data())
    def backward_of_two_roots_sums_their_gradients(self, data: st.DataObject) -> None:
        """``autograd.backward([a, b], [wa, wb])`` (a and b may share nodes, or be the same node)."""
        j, k = self._pick(data, "first root"), self._pick(data, "second root")
        wj = self._upstream(data, self.nodes[j].tensor.shape)
        wk = self._upstream(data, self.nodes[k].tensor.shape)
        self._zero_grads()
        tg.autograd.backward([self.nodes[j].tensor, self.nodes[k].tensor], [Tensor(wj), Tensor(wk)], retain_graph=True)
        deps = {**self._leaf_nodes_of(j), **self._leaf_nodes_of(k)}
        numerical = self._numerical_grads([(j, wj), (k, wk)], list(deps.values()))
        expected = dict(zip(deps, numerical))
        self._assert_leaf_grads(deps, [expected.get(i) for i in range(len(self.leaves))])

    @rule(data=st.data())
    def autograd_grad_matches_numerical_gradient_for_leaf_and_inner_inputs(self, data: st.DataObject) -> None:
        """``autograd.grad(node, inputs, w)`` for inputs among its ancestors (leaves or intermediate
        nodes), leaving every leaf's ``.grad`` alone."""
        k = self._pick(data, "node")
        node = self.nodes[k]
        candidates = sorted(node.ancestors)
        wrt = data.draw(st.lists(st.sampled_from(candidates), min_size=1, max_size=3, unique=True), label="inputs")
        # Two nodes may hold the same Tensor (an op that returned its input); ask for each Tensor once.
        by_tensor: dict[int, int] = {}
        for m in wrt:
            by_tensor.setdefault(id(self.nodes[m].tensor), m)
        wrt = list(by_tensor.values())
        w = self._upstream(data, node.tensor.shape)
        self._zero_grads()
        grads = tg.autograd.grad(node.tensor, [self.nodes[m].tensor for m in wrt], Tensor(w), retain_graph=True)
        assert all(leaf.grad is None for leaf in self.leaves), "autograd.grad wrote a leaf's .grad"
        numerical = self._numerical_grads([(k, w)], wrt)
        for m, g, expected in zip(wrt, grads, numerical):
            assert g.dtype == np.float64 and g.shape == self.nodes[m].tensor.shape
            np.testing.assert_allclose(g.data, expected, rtol=RTOL, atol=ATOL, err_msg=f"gradient wrt node {m}")

    # -- invariants --------------------------------------------------------------------------------
    @invariant()
    def every_node_value_matches_reference(self) -> None:
        if not self.nodes:
            return
        values = self._evaluate([leaf.data for leaf in self.leaves], len(self.nodes) - 1)
        for k, (node, value) in enumerate(zip(self.nodes, values)):
            assert node.tensor.dtype == np.float64 and node.tensor.shape == value.shape, node.label
            np.testing.assert_allclose(
                node.tensor.data, value, rtol=VALUE_RTOL, atol=VALUE_ATOL, err_msg=f"node {k}: {node.label}"
            )

    @invariant()
    def backward_through_every_node_at_once_matches_numerical_gradient(self) -> None:
        """All nodes as roots, each with its own fixed random weight: every path and every reuse of a node
        (diamonds) must contribute to the leaves' gradients. Rerun only when the graph has grown."""
        if len(self.nodes) == self.checked_nodes:
            return
        self.checked_nodes = len(self.nodes)
        weights = [np.random.default_rng(k).standard_normal(node.tensor.shape) for k, node in enumerate(self.nodes)]
        self._zero_grads()
        tg.autograd.backward([n.tensor for n in self.nodes], [Tensor(w) for w in weights], retain_graph=True)
        deps = {i: m for m, i in self.leaf_node.items()}
        numerical = self._numerical_grads(list(enumerate(weights)), list(deps.values()))
        self._assert_leaf_grads(deps, numerical)

    @invariant()
    def leaves_are_never_mutated(self) -> None:
        for i, (leaf, original) in enumerate(zip(self.leaves, self.originals)):
            assert np.array_equal(leaf.data, original), f"leaf {i} was modified"


RandomGraphMachine.TestCase.settings = settings(settings.default, stateful_step_count=15)
TestRandomGraphs = RandomGraphMachine.TestCase
