"""Containers: ``Sequential`` (a pipeline), ``ModuleList`` and ``ModuleDict`` (registered collections)."""

from __future__ import annotations

import operator
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, cast

from tinygrad_cnn.nn.layers.activation import ReLU
from tinygrad_cnn.nn.layers.pooling import MaxPool2d
from tinygrad_cnn.nn.module import Module
from tinygrad_cnn.tensor import Tensor


def _index(idx: Any, n: int, what: str) -> int:
    """A non-negative index into ``n`` items, as Python lists accept them, or IndexError."""
    i = operator.index(idx)
    if not -n <= i < n:
        raise IndexError(f"index {i} is out of range for {what} of length {n}")
    return i + n if i < 0 else i


def _delete(modules: OrderedDict[str, Module], idx: int | slice, what: str) -> None:
    """Delete the module(s) at ``idx``, then renumber the rest ``"0"``, ``"1"``, ... as PyTorch does."""
    keys = list(modules)
    for key in keys[idx] if isinstance(idx, slice) else [keys[_index(idx, len(keys), what)]]:
        del modules[key]
    _renumber(modules, list(modules.values()))


def _renumber(modules: OrderedDict[str, Module], items: list[Module]) -> None:
    """Make ``modules`` hold ``items`` under the keys ``"0"``, ``"1"``, ..."""
    modules.clear()
    for i, m in enumerate(items):
        modules[str(i)] = m


def _pool_first(first: Module, second: Module, x: Any) -> bool:
    """Whether ``second(first(x))`` may run as ``first(second(x))``: a ``ReLU`` followed by a ``MaxPool2d``.

    ReLU is non-decreasing, so it commutes with a max: both orders give the same values, and the same
    gradients (where the window's max is positive both pick the same first maximum; where it is not, ReLU
    sends zero either way). Pooling first runs the ReLU, forward and backward, on the pooled pixels only (a
    quarter of them for 2x2 pools; about 3% of a small CNN's training step). Not done where the difference
    could show: a hook on either module or a ``forward`` replaced on one, a pool that returns indices, or an
    input that is not a floating tensor (the errors would come in another order).
    """
    return (
        type(first) is ReLU and type(second) is MaxPool2d and not second.return_indices
        and "forward" not in vars(first) and "forward" not in vars(second)  # no forward replaced on the instance
        and not (first._forward_hooks or first._forward_pre_hooks or second._forward_hooks
                 or second._forward_pre_hooks)
        and isinstance(x, Tensor) and x.dtype.kind == "f"
    )  # fmt: skip


class Sequential(Module):
    """Runs its modules in order, each on the previous one's output: ``Sequential(conv, relu, pool)``.

    Built from modules (named ``"0"``, ``"1"``, ...) or from one ``OrderedDict`` of named modules.
    Indexing returns a module; slicing returns a new Sequential sharing the modules. A ``ReLU`` followed by a
    ``MaxPool2d`` runs as pool then ReLU, which computes the same values and gradients faster (see
    ``_pool_first``).
    """

    def __init__(self, *args: Module | OrderedDict[str, Module]) -> None:
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for name, module in args[0].items():
                self.add_module(name, module)
        else:
            for i, arg in enumerate(args):
                self.add_module(str(i), arg)  # type: ignore[arg-type]

    def __getitem__(self, idx: int | slice) -> Any:
        if isinstance(idx, slice):
            return Sequential(OrderedDict(list(self._modules.items())[idx]))
        return list(self._modules.values())[_index(idx, len(self), "Sequential")]

    def __setitem__(self, idx: int, module: Module) -> None:
        key = list(self._modules)[_index(idx, len(self), "Sequential")]
        self.add_module(key, module)

    def __delitem__(self, idx: int | slice) -> None:
        _delete(self._modules, idx, "Sequential")

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def append(self, module: Module) -> Sequential:
        """Add ``module`` at the end."""
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> Sequential:
        for m in modules:
            self.append(m)
        return self

    def insert(self, index: int, module: Module) -> Sequential:
        if not isinstance(module, Module):
            raise TypeError(f"module should be of type Module, got {type(module).__name__}")
        n = len(self)
        if not -n <= index <= n:
            raise IndexError(f"index {index} is out of range for Sequential of length {n}")
        items = list(self._modules.values())
        items.insert(index if index >= 0 else index + n, module)
        _renumber(self._modules, items)
        return self

    def forward(self, input: Any) -> Any:
        modules = list(self._modules.values())
        i = 0
        while i < len(modules):
            if i + 1 < len(modules) and _pool_first(modules[i], modules[i + 1], input):
                input = modules[i](modules[i + 1](input))
                i += 2
            else:
                input = modules[i](input)
                i += 1
        return input


class ModuleList(Module):
    """A list of modules whose parameters are registered (names ``"0"``, ``"1"``, ...); it has no forward."""

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, idx: int | slice) -> Any:
        if isinstance(idx, slice):
            return ModuleList(list(self._modules.values())[idx])
        return self._modules[str(_index(idx, len(self), "ModuleList"))]

    def __setitem__(self, idx: int, module: Module) -> None:
        self.add_module(str(_index(idx, len(self), "ModuleList")), module)

    def __delitem__(self, idx: int | slice) -> None:
        _delete(self._modules, idx, "ModuleList")

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __repr__(self) -> str:
        """As torch: a run of children with the same repr prints once, as ``(0-2): 3 x Linear(...)``."""
        reprs = [repr(m) for m in self._modules.values()]
        if not reprs:
            return self._get_name() + "()"
        lines, start = [], 0
        for end in range(1, len(reprs) + 1):
            if end == len(reprs) or reprs[end] != reprs[start]:
                label = f"({start}): " if end - start == 1 else f"({start}-{end - 1}): {end - start} x "
                lines.append((label + reprs[start]).replace("\n", "\n  "))
                start = end
        return self._get_name() + "(\n  " + "\n  ".join(lines) + "\n)"

    def __iadd__(self, modules: Iterable[Module]) -> ModuleList:
        return self.extend(modules)

    def append(self, module: Module) -> ModuleList:
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        if not isinstance(modules, Iterable):
            raise TypeError(f"ModuleList.extend should be called with an iterable, but got {type(modules).__name__}")
        for m in modules:
            self.append(m)
        return self

    def insert(self, index: int, module: Module) -> None:
        if not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        items = list(self._modules.values())
        items.insert(index, module)
        _renumber(self._modules, items)


class ModuleDict(Module):
    """A dict of modules whose parameters are registered under their keys; it has no forward."""

    def __init__(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        del self._modules[key]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __contains__(self, key: object) -> bool:
        return key in self._modules

    def keys(self) -> Iterable[str]:
        return self._modules.keys()

    def items(self) -> Iterable[tuple[str, Module]]:
        return self._modules.items()

    def values(self) -> Iterable[Module]:
        return self._modules.values()

    def pop(self, key: str) -> Module:
        return self._modules.pop(key)

    def clear(self) -> None:
        self._modules.clear()

    def update(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]]) -> None:
        is_map = isinstance(modules, (Mapping, ModuleDict))
        pairs: Iterable[Any] = cast("Mapping[str, Module]", modules).items() if is_map else modules
        for j, pair in enumerate(pairs):
            if is_map:
                key, module = pair
            else:
                if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                    raise ValueError(f"ModuleDict update sequence element #{j} should be a (key, module) pair")
                key, module = pair
            self.add_module(key, module)
