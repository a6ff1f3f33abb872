"""``Optimizer``: the base class of the optimizers, with PyTorch's param groups, ``state`` and state dicts.

A subclass passes its default options to ``Optimizer.__init__``, checks options in ``_check_options``
(run on the defaults and on every param group) and implements ``step``, updating ``p.data`` in place
with numpy for every parameter whose ``.grad`` is not None, then bumping ``p._version``.
"""

from __future__ import annotations

import copy
import numbers
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from itertools import chain
from typing import Any

import numpy as np

from tinygrad_cnn.autograd.grad_mode import enable_grad
from tinygrad_cnn.tensor import Tensor

ParamsT = Iterable[Tensor] | Iterable[dict[str, Any]]
StateDict = dict[str, Any]


class Optimizer:
    """Base class of all optimizers (PyTorch's ``torch.optim.Optimizer``).

    ``params`` is an iterable of Tensors, or of dicts (param groups) each with a ``"params"`` entry and
    any options that override ``defaults`` for that group. ``param_groups`` holds one dict per group with
    every option filled in; ``state`` maps each parameter Tensor to a dict of its optimizer state.
    """

    def __init__(self, params: ParamsT, defaults: dict[str, Any]) -> None:
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or dicts, but got "
                f"{type(params).__name__}"
            )
        self._check_options(defaults)
        self.defaults = defaults
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        param_groups: list[Any] = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    def _check_options(self, options: dict[str, Any]) -> None:
        """Raise ValueError for an invalid option value; run on the defaults and on each param group."""

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters (a dict with ``"params"`` and optional per-group options)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError("param_group must have a 'params' entry")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the ordering of tensors "
                "in sets will change between runs. Please use a list instead."
            )
        param_group["params"] = params = list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is {type(p).__name__}")
            if not (p.is_leaf or getattr(p, "_retains_grad", False)):
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            param_group.setdefault(name, default)
        self._check_options(param_group)
        ids = [id(p) for p in params]
        if len(ids) != len(set(ids)):
            warnings.warn("optimizer contains a parameter group with duplicate parameters", stacklevel=3)
        existing = {id(p) for group in self.param_groups for p in group["params"]}
        if not existing.isdisjoint(ids):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset every parameter's ``.grad``: to None (default), or to zeros in place (detached)."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    p.grad.detach_()
                    p.grad.zero_()

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update the parameters once; returns ``closure()``'s loss when a closure is given."""
        raise NotImplementedError

    @staticmethod
    def _evaluate(closure: Callable[[], Any] | None) -> Any:
        """Call the closure (it re-evaluates the model: gradients recorded even inside ``no_grad``)."""
        if closure is None:
            return None
        with enable_grad():
            return closure()

    # -- state dicts ------------------------------------------------------------------------------
    def state_dict(self) -> StateDict:
        """The optimizer's state as PyTorch lays it out.

        ``{"state": {index: {name: value}}, "param_groups": [{option: value, ..., "params": [index, ...]}]}``,
        where parameters are numbered in group order. As in PyTorch the state Tensors are the live ones
        (no copy): ``copy.deepcopy`` the result to keep a snapshot while training goes on.
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for p in group["params"]:
                index.setdefault(id(p), len(index))
            packed["params"] = [index[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {(index[id(k)] if isinstance(k, Tensor) else k): dict(v) for k, v in self.state.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: StateDict) -> None:
        """Load a ``state_dict()``: group options replace the current ones, state is copied.

        Floating state is cast to its parameter's dtype, except ``step`` (kept as saved; a plain number is
        made a float32 0-d tensor). Raises ValueError when the groups or their sizes do not match.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"load_state_dict(): state_dict: expected a dict, got {type(state_dict).__name__}")
        for key in ("state", "param_groups"):
            if key not in state_dict:
                raise KeyError(f"load_state_dict(): state_dict has no {key!r} entry (expected a state_dict() result)")
        groups = self.param_groups
        saved_groups = copy.deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError(
                f"loaded state dict has a different number of parameter groups ({len(saved_groups)}) than the "
                f"optimizer ({len(groups)})"
            )
        for i, (group, saved) in enumerate(zip(groups, saved_groups)):
            if len(group["params"]) != len(saved["params"]):
                raise ValueError(
                    f"loaded state dict contains a parameter group that doesn't match the size of optimizer's "
                    f"group: group {i} has {len(saved['params'])} parameters saved, {len(group['params'])} here"
                )
        params = dict(
            zip(
                chain.from_iterable(g["params"] for g in saved_groups), chain.from_iterable(g["params"] for g in groups)
            )
        )
        state: defaultdict[Any, dict[str, Any]] = defaultdict(dict)
        for key, value in state_dict["state"].items():
            if key in params:
                p = params[key]
                state[p] = {name: _cast(p, v, name, key) for name, v in value.items()}
            else:
                state[key] = value
        for group, saved in zip(groups, saved_groups):
            saved["params"] = group["params"]
        self.state = state
        self.param_groups = saved_groups

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines.extend(f"    {k}: {group[k]}" for k in sorted(group) if k != "params")
        return "\n".join(lines) + "\n)"


def _cast(p: Tensor, value: Any, name: str, index: int) -> Any:
    """A copy of one loaded state value, floating tensors cast to ``p``'s dtype (``step`` kept as is)."""
    if isinstance(value, np.ndarray):
        value = Tensor(value)
    if isinstance(value, Tensor):
        if name == "step":
            return Tensor(value.data.copy())
        if value.ndim != 0 and value.shape != p.shape:
            raise ValueError(
                f"loaded state dict: state {name!r} of parameter {index} has shape {value.shape}, but the "
                f"parameter has shape {p.shape}"
            )
        dtype = p.dtype if p.is_floating_point() else value.dtype
        return Tensor(value.data.astype(dtype, copy=True))
    if name == "step" and isinstance(value, (int, float)):
        return Tensor(np.array(value, dtype=np.float32))
    if isinstance(value, dict):
        return {k: _cast(p, v, k, index) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_cast(p, v, "", index) for v in value)
    return copy.deepcopy(value)


def _params_with_grad(group: dict[str, Any]) -> list[Tensor]:
    """The group's parameters that have a gradient (the others are skipped by ``step``). A gradient of another
    shape than its parameter raises RuntimeError (PyTorch refuses to assign one; numpy would broadcast it)."""
    params = [p for p in group["params"] if p.grad is not None]
    for p in params:
        if p.grad.shape != p.shape:
            raise RuntimeError(
                f"optimizer step: a parameter of shape {p.shape} has a grad of shape {p.grad.shape}; the gradient "
                "and the parameter must be the same size"
            )
    return params


def _grad(p: Tensor, maximize: bool) -> np.ndarray:
    """``p.grad``'s array, negated (a new array) when maximizing. Never modify the result in place."""
    grad = p.grad
    assert grad is not None  # callers pass only parameters with a gradient (_params_with_grad)
    g = grad.data
    return np.negative(g) if maximize else g


def _zero_step() -> Tensor:
    """A fresh ``step`` counter: a float32 0-d tensor, as PyTorch keeps it."""
    return Tensor(np.zeros((), dtype=np.float32))


def _lerp_(start: np.ndarray, end: np.ndarray, weight: float, tmp: np.ndarray) -> None:
    """In place ``start += weight * (end - start)`` as PyTorch's ``lerp_`` (its two forms by ``|weight|``)."""
    w = start.dtype.type(weight)
    np.subtract(end, start, out=tmp)
    if abs(w) < 0.5:
        tmp *= w
        start += tmp
    else:
        tmp *= 1 - w
        np.subtract(end, tmp, out=start)


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise ValueError(message)


def _number(value: Any, label: str) -> float:
    """An option's value as a float: a real number (bools count, as in Python and PyTorch) or a one-element
    Tensor (PyTorch accepts a Tensor lr). Anything else raises TypeError ``"<label>: expected a number ..."``."""
    if isinstance(value, Tensor) and value.numel() == 1:
        return float(value.item())
    if isinstance(value, (numbers.Real, np.bool_)):
        return float(value)
    raise TypeError(f"{label}: expected a number, got {value!r}")


def _check_min(value: Any, label: str, minimum: float = 0.0) -> None:
    """``value`` must be a number >= ``minimum`` (nan is not): TypeError or ValueError ``"<label>: <value>"``."""
    if not minimum <= _number(value, label):
        raise ValueError(f"{label}: {value}")
