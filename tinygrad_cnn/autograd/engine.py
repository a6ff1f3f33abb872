"""The backward pass: one generic, iterative walk of the graph in reverse topological order.

``backward(tensors)`` sums gradients into the ``.grad`` of leaves; ``grad(outputs, inputs)`` returns the
gradients of chosen tensors instead. Each node runs once, after every node that feeds it a gradient,
so a tensor used many times gets the sum; no recursion, so a 100,000-op chain is fine. Unless
``retain_graph`` is set, each node frees its saved tensors as soon as it has run.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from tinygrad_cnn import kernels
from tinygrad_cnn.autograd import anomaly, grad_mode
from tinygrad_cnn.autograd.function import _FREED, AccumulateGrad


def _as_list(x: Any) -> list:
    if x is None:
        return []
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _root_grads(outputs: list, grad_outputs: list) -> list:
    from tinygrad_cnn.tensor import Tensor

    if grad_outputs and len(grad_outputs) != len(outputs):
        raise RuntimeError(f"grad_outputs: got {len(grad_outputs)} gradients for {len(outputs)} outputs")
    grads = []
    for i, out in enumerate(outputs):
        if not isinstance(out, Tensor):
            raise TypeError(f"outputs[{i}]: expected a Tensor, got {type(out).__name__}")
        if not out.requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")
        g = grad_outputs[i] if grad_outputs else None
        if g is None:
            if out.numel() != 1:
                raise RuntimeError(
                    f"grad can be implicitly created only for scalar outputs; output {i} has shape {out.shape}"
                )
            g = Tensor(np.ones(out.shape, dtype=out.dtype))
        elif not isinstance(g, Tensor):
            g = Tensor(np.asarray(g, dtype=out.dtype))
        if g.shape != out.shape:
            raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has shape {g.shape}, output {out.shape}")
        grads.append(g)
    return grads


def _topological_order(roots: list) -> list:
    """Nodes reachable from ``roots``, each after every node that sends it a gradient (Kahn's algorithm)."""
    deps: dict[Any, int] = {}
    seen = set(roots)
    stack = list(seen)
    while stack:
        node = stack.pop()
        for nxt, _ in node.next_functions:
            if nxt is None:
                continue
            deps[nxt] = deps.get(nxt, 0) + 1
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    ready = [n for n in seen if n not in deps]
    order = []
    while ready:
        node = ready.pop()
        order.append(node)
        for nxt, _ in node.next_functions:
            if nxt is None:
                continue
            deps[nxt] -= 1
            if deps[nxt] == 0:
                ready.append(nxt)
    return order


def _add(buffers: dict, node: Any, nr: int, g: Any) -> None:
    slot = buffers.get(node)
    if slot is None:
        slot = buffers[node] = {}
    prev = slot.get(nr)
    slot[nr] = g if prev is None else prev + g


def _run_hooks(hooks: list, g: Any) -> Any:
    """Call each hook on the gradient; a hook may return a replacement of the same shape and dtype."""
    from tinygrad_cnn.tensor import Tensor

    for hook in hooks:
        new = hook(g)
        if new is None:
            continue
        if not isinstance(new, Tensor) or new.shape != g.shape or new.dtype != g.dtype:
            got = f"shape {new.shape}, dtype {new.dtype}" if isinstance(new, Tensor) else type(new).__name__
            raise RuntimeError(
                f"hook {getattr(hook, '__name__', hook)!r} returned {got}; expected a Tensor of shape {g.shape} "
                f"and dtype {g.dtype} (a hook may not change the size or type of the gradient)"
            )
        g = new
    return g


def _accumulate(leaf: Any, g: Any, create_graph: bool) -> None:
    from tinygrad_cnn.tensor import Tensor

    if leaf.grad is None:
        # A fresh array: the gradient never aliases another tensor, another gradient or an input.
        if create_graph:
            leaf.grad = g.clone()
        else:  # pooled memory (see kernels._buffer): a new gradient each step need not fault in fresh pages
            data = kernels._empty(g.shape, leaf.dtype)
            np.copyto(data, g.data, casting="unsafe")
            leaf.grad = Tensor(data)
    elif create_graph or leaf.grad.requires_grad:
        leaf.grad = leaf.grad + g
    else:
        leaf.grad.data += g.data


def run_backward(
    outputs: list,
    grad_outputs: list,
    retain_graph: bool,
    create_graph: bool,
    inputs: Sequence[Any] | None = None,
    accumulate: bool = True,
) -> list:
    """Backpropagate from ``outputs``; accumulate into leaves, or return the gradients of ``inputs``.

    Like PyTorch, a gradient that overflows or turns NaN (the slope of sqrt at 0 times a zero upstream
    gradient, say) does so silently, without numpy's RuntimeWarnings; ``detect_anomaly`` reports it."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return _backpropagate(outputs, grad_outputs, retain_graph, create_graph, inputs, accumulate)


def _backpropagate(
    outputs: list,
    grad_outputs: list,
    retain_graph: bool,
    create_graph: bool,
    inputs: Sequence[Any] | None,
    accumulate: bool,
) -> list:
    from tinygrad_cnn.tensor import Tensor

    root_grads = _root_grads(outputs, grad_outputs)
    edges = [out._edge() for out in outputs]
    order = _topological_order(list(dict.fromkeys(node for node, _ in edges)))

    # Where the gradient of each requested input will show up: a leaf's accumulator, or a node's output slot.
    targets: dict[tuple[Any, int], int] = {}
    for i, t in enumerate(inputs or ()):
        if not isinstance(t, Tensor):
            raise TypeError(f"inputs[{i}]: expected a Tensor, got {type(t).__name__}")
        if not t.requires_grad:
            raise RuntimeError(f"One of the differentiated Tensors (inputs[{i}]) does not require grad")
        targets[t._edge()] = i
    captured: list[Any] = [None] * len(inputs or ())

    needed: set | None = None
    if inputs is not None:  # run only the nodes that lead to a requested input
        target_nodes = {node for node, _ in targets}
        needed = set()
        for node in reversed(order):
            if node in target_nodes or any(n in needed for n, _ in node.next_functions if n is not None):
                needed.add(node)

    buffers: dict[Any, dict[int, Any]] = {}
    for (node, nr), g in zip(edges, root_grads):
        _add(buffers, node, nr, g)

    prev_mode = grad_mode._grad_enabled
    grad_mode._grad_enabled = create_graph
    try:
        for node in order:
            slot = buffers.pop(node, {})
            if needed is not None and node not in needed:
                continue
            if isinstance(node, AccumulateGrad):
                leaf = node.variable
                g = slot.get(0)
                if g is None:
                    continue
                g = _run_hooks(leaf._hooks, g) if leaf._hooks else g
                if (node, 0) in targets:
                    captured[targets[(node, 0)]] = g
                elif accumulate:
                    _accumulate(leaf, g, create_graph)
                continue
            if node._released:
                raise RuntimeError(_FREED)
            for nr, hooks in node._tensor_hooks.items():
                if nr in slot:
                    slot[nr] = _run_hooks(hooks, slot[nr])
            for nr, g in slot.items():
                if (node, nr) in targets:
                    captured[targets[(node, nr)]] = g
            grads = []
            for nr, (shape, dtype) in enumerate(node._output_meta):
                g = slot.get(nr)
                grads.append(g if g is not None else Tensor(np.zeros(shape, dtype=dtype)))
            in_grads = node.backward(node, *grads)
            if not isinstance(in_grads, tuple):
                in_grads = (in_grads,)
            n_in = len(node.next_functions)
            if len(in_grads) < n_in or any(g is not None for g in in_grads[n_in:]):
                raise RuntimeError(
                    f"function {node.name()} returned an incorrect number of gradients "
                    f"(expected {n_in}, got {len(in_grads)})"
                )
            if not retain_graph:
                node._release()
            for i, ((nxt, nr), g) in enumerate(zip(node.next_functions, in_grads)):
                if nxt is None or g is None:
                    continue
                g = _checked(node, i, g, Tensor)
                if anomaly._enabled and g.dtype.kind == "f" and np.isnan(g.data).any():
                    raise anomaly.nan_error(node, i)
                _add(buffers, nxt, nr, g)
    finally:
        grad_mode._grad_enabled = prev_mode
    return captured


def _checked(node: Any, i: int, g: Any, tensor_cls: type) -> Any:
    """Validate one gradient returned by ``node.backward``: a Tensor of the input's shape and dtype."""
    shape, dtype = node._input_meta[i]
    if not isinstance(g, tensor_cls):
        g = tensor_cls(np.asarray(g, dtype=dtype))
    if g.shape != shape:
        raise RuntimeError(
            f"Function {node.name()} returned an invalid gradient at index {i} - got shape {g.shape} "
            f"but expected shape {shape}"
        )
    if g.dtype != dtype:
        g = g.to(dtype)
    return g


def backward(
    tensors: Any,
    grad_tensors: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    inputs: Any = None,
) -> None:
    """Sum the gradients of ``tensors`` w.r.t. the graph's leaves into their ``.grad`` (or only ``inputs``')."""
    outs = _as_list(tensors)
    grads = _as_list(grad_tensors)
    retain = create_graph if retain_graph is None else retain_graph
    if inputs is None:
        run_backward(outs, grads, retain, create_graph)
        return
    ins = _as_list(inputs)
    captured = run_backward(outs, grads, retain, create_graph, inputs=ins)
    for t, g in zip(ins, captured):
        if g is not None:
            if t.is_leaf:
                _accumulate(t, g, create_graph)
            else:
                t.grad = g if create_graph else g.detach()


def grad(
    outputs: Any,
    inputs: Any,
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple:
    """Gradients of ``outputs`` w.r.t. ``inputs`` (a tuple, one per input), leaving every ``.grad`` alone.

    ``grad_outputs`` weights each output (required for non-scalar outputs); ``create_graph=True`` records
    the backward pass so the result can be differentiated again. An input the outputs do not depend on
    raises RuntimeError unless ``allow_unused=True``, which returns None for it.
    """
    outs = _as_list(outputs)
    ins = _as_list(inputs)
    retain = create_graph if retain_graph is None else retain_graph
    captured = run_backward(outs, _as_list(grad_outputs), retain, create_graph, inputs=ins, accumulate=False)
    for i, g in enumerate(captured):
        if g is None and not allow_unused:
            raise RuntimeError(
                f"One of the differentiated Tensors (inputs[{i}]) appears to not have been used in the graph. "
                "Set allow_unused=True if this is the desired behavior."
            )
    if not create_graph:
        captured = [g if g is None else g.detach() for g in captured]
    return tuple(captured)
