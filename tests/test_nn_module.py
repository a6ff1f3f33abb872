"""``nn.Module``, ``nn.Parameter`` and the containers (``Sequential``, ``ModuleList``, ``ModuleDict``) pinned
against PyTorch: registration by attribute assignment, traversal order and dotted names, ``state_dict`` /
``load_state_dict``, train/eval, dtype casts, hooks, ``repr`` and the container APIs.

The modules here are small hand-written ``Module`` subclasses. The same classes are built for both frameworks
by ``_classes`` (same names, same attributes, same ``extra_repr``), so a structure built with each can be
compared key for key and character for character (torch tests skip when torch is not installed).
"""

from __future__ import annotations

import copy
import itertools
import math
from collections import OrderedDict
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_cnn as tc
from tinygrad_cnn.nn import Module, ModuleDict, ModuleList, Parameter, Sequential
from tinygrad_cnn.tensor import Tensor
from tinygrad_cnn.testing.strategies import pool_configs


# -- the same small modules, for tinygrad_cnn and for torch ------------------------------------------------
def _classes(nn_mod: Any, param_cls: Any, make: Any) -> SimpleNamespace:
    """``Leaf`` (2 parameters, 2 persistent buffers, 1 non-persistent), ``Block`` (a parameter, a buffer and
    named children) and ``Note`` (an ``extra_repr`` given as text), written once for both frameworks."""

    class Leaf(nn_mod.Module):
        def __init__(self, n_in: int = 2, n_out: int = 3, tag: str = "", weight: Any = None) -> None:
            super().__init__()
            self.n_in, self.n_out, self.tag = n_in, n_out, tag
            w = np.arange(n_in * n_out, dtype=np.float32).reshape(n_in, n_out) / 10 - 0.2
            self.weight = weight if weight is not None else param_cls(make(w))
            self.bias = param_cls(make(np.full(n_out, 0.5, dtype=np.float32)))
            self.register_buffer("running", make(np.ones(n_out, dtype=np.float32)))
            self.register_buffer("count", make(np.zeros((), dtype=np.int64)))
            self.register_buffer("scratch", make(np.zeros(n_out, dtype=np.float32)), persistent=False)

        def forward(self, x: Any) -> Any:
            return x @ self.weight + self.bias

        def extra_repr(self) -> str:
            return f"in_features={self.n_in}, out_features={self.n_out}{self.tag}"

    class Block(nn_mod.Module):
        def __init__(self, children: Any = ()) -> None:
            super().__init__()
            children = list(children)
            for name, child in children[:1]:
                setattr(self, name, child)
            self.scale = param_cls(make(np.ones(1, dtype=np.float32)))
            self.register_buffer("steps", make(np.zeros((), dtype=np.int64)))
            for name, child in children[1:]:
                setattr(self, name, child)

        def forward(self, x: Any) -> Any:
            for child in self.children():
                x = child(x)
            return x * self.scale

    class Note(nn_mod.Module):
        def __init__(self, text: str, child: Any = None) -> None:
            super().__init__()
            self.text = text
            if child is not None:
                self.inner = child

        def extra_repr(self) -> str:
            return self.text

    return SimpleNamespace(nn=nn_mod, Parameter=param_cls, make=make, Leaf=Leaf, Block=Block, Note=Note)


TC = _classes(tc.nn, Parameter, lambda a: tc.from_numpy(np.array(a)))
Leaf, Block = TC.Leaf, TC.Block


@pytest.fixture(scope="module")
def T() -> SimpleNamespace:
    torch = pytest.importorskip("torch")
    ns = _classes(torch.nn, torch.nn.Parameter, lambda a: torch.from_numpy(np.array(a)))
    ns.torch = torch
    return ns


def make_net(ns: SimpleNamespace) -> Any:
    """Block > Sequential > ModuleList, ModuleDict, OrderedDict-named Sequential: every kind of nesting."""
    return ns.Block(
        [
            ("features", ns.nn.Sequential(ns.Leaf(2, 3), ns.nn.ModuleList([ns.Leaf(3, 3, ", a"), ns.Leaf(3, 3)]))),
            ("heads", ns.nn.ModuleDict({"cls": ns.Leaf(3, 2), "reg": ns.Leaf(3, 1)})),
            ("out", ns.nn.Sequential(OrderedDict(fc=ns.Leaf(3, 4), act=ns.Leaf(4, 4, ", c")))),
        ]
    )


def names(pairs: Any) -> list[str]:
    return [n for n, _ in pairs]


def arr(t: Any) -> np.ndarray:
    """The values of a tinygrad_cnn or torch tensor as a numpy array."""
    return t.data if isinstance(t, Tensor) else t.detach().numpy()


def layout(container: Any) -> list[tuple[str, str]]:
    """(registered name, child's extra_repr) of each child: the leaves' tags identify them in both frameworks."""
    return [(name, m.extra_repr()) for name, m in container._modules.items()]


# -- attribute registration ----------------------------------------------------------------------------------
def test_assignment_registers_parameters_modules_and_buffers():
    m = Block([("child", Leaf())])
    leaf = m.child
    assert list(m._parameters) == ["scale"] and list(m._buffers) == ["steps"] and list(m._modules) == ["child"]
    assert list(leaf._parameters) == ["weight", "bias"]
    assert list(leaf._buffers) == ["running", "count", "scratch"]
    for name in ("scale", "steps", "child"):
        assert name not in m.__dict__  # they live in the stores and are found by __getattr__
    assert m.scale is m._parameters["scale"] and m.child is leaf and m.steps is m._buffers["steps"]
    assert isinstance(m.scale, Parameter) and m.scale.requires_grad
    assert leaf.n_in == 2 and "n_in" in leaf.__dict__  # a plain attribute stays a plain attribute


def test_reassigning_none_keeps_the_slot_and_hides_it_from_traversal():
    leaf = Leaf()
    leaf.weight = None
    leaf.running = None
    assert leaf.weight is None and leaf.running is None
    assert list(leaf._parameters) == ["weight", "bias"] and "running" in leaf._buffers
    assert names(leaf.named_parameters()) == ["bias"]
    assert list(leaf.state_dict()) == ["bias", "count"]
    with pytest.raises(TypeError):
        leaf.weight = tc.zeros(2, 3)  # still a parameter slot: only a Parameter (or None) fits
    leaf.weight = Parameter(tc.zeros(2, 3))
    assert names(leaf.named_parameters()) == ["weight", "bias"]
    blk = Block([("child", Leaf())])
    blk.child = None
    assert blk.child is None and list(blk._modules) == ["child"]
    assert names(blk.named_children()) == [] and names(blk.named_modules()) == [""]
    assert "child.weight" not in blk.state_dict()


def test_reassigning_a_parameter_or_module_keeps_its_position(T):
    # PyTorch replaces the entry in place (register_parameter / _modules[name] = value): state_dict order holds
    def run(ns: SimpleNamespace) -> tuple[list[str], list[str]]:
        leaf = ns.Leaf()
        leaf.weight = ns.Parameter(ns.make(np.zeros((2, 3), dtype=np.float32)))  # as a reset_parameters() does
        blk = ns.Block([("a", ns.Leaf()), ("b", ns.Leaf())])
        blk.a = ns.Leaf(2, 2)
        return list(leaf.state_dict()), list(blk.state_dict())

    assert (
        run(TC)
        == run(T)
        == (
            ["weight", "bias", "running", "count"],
            ["scale", "steps"] + [f"{c}.{k}" for c in "ab" for k in ("weight", "bias", "running", "count")],
        )
    )


def test_assigning_the_wrong_kind_to_a_registered_name_raises_typeerror():
    leaf = Leaf()
    with pytest.raises(TypeError, match="parameter 'weight'"):
        leaf.weight = tc.zeros(2, 3)  # a plain Tensor where a Parameter is registered
    with pytest.raises(TypeError, match="buffer 'running'"):
        leaf.running = np.ones(3)
    blk = Block([("child", Leaf())])
    with pytest.raises(TypeError, match="child module 'child'"):
        blk.child = tc.zeros(1)
    assert isinstance(leaf.weight, Parameter) and isinstance(blk.child, Leaf)


def test_assigning_a_module_to_a_parameter_name_raises_typeerror(T):
    # torch checks "name is a parameter" before "value is a Module": the parameter is not silently replaced
    for ns in (T, TC):
        leaf = ns.Leaf()
        with pytest.raises(TypeError, match="parameter 'weight'"):
            leaf.weight = ns.Leaf()
        assert "weight" in leaf._parameters and "weight" not in leaf._modules


def test_assigning_a_parameter_or_module_over_another_kind_moves_it():
    leaf = Leaf()
    leaf.running = Parameter(tc.zeros(3))  # buffer -> parameter
    leaf.scratch = Leaf()  # non-persistent buffer -> module
    leaf.tag = Parameter(tc.zeros(1))  # plain attribute -> parameter
    assert names(leaf.named_parameters(recurse=False)) == ["weight", "bias", "running", "tag"]
    assert names(leaf.named_buffers(recurse=False)) == ["count"]
    assert list(leaf._modules) == ["scratch"] and "tag" not in leaf.__dict__


def test_buffer_reassignment_keeps_persistence():
    leaf = Leaf()
    leaf.scratch = tc.ones(3)
    leaf.running = tc.full((3,), 2.0)
    assert "scratch" not in leaf.state_dict() and leaf.state_dict()["running"].data.tolist() == [2.0] * 3
    assert names(leaf.named_buffers()) == ["running", "count", "scratch"]
    assert leaf.scratch.data.tolist() == [1.0] * 3
    leaf.register_buffer("scratch", tc.zeros(3))  # re-registered persistent (the default)
    assert list(leaf.state_dict()) == ["weight", "bias", "running", "count", "scratch"]
    leaf.register_buffer("running", tc.zeros(3), persistent=False)
    assert list(leaf.state_dict()) == ["weight", "bias", "count", "scratch"]


@pytest.mark.parametrize("what", ["param", "module", "buffer", "register_parameter", "add_module"])
def test_registering_before_super_init_raises_attributeerror(what):
    class Early(Module):
        def __init__(self) -> None:
            if what == "param":
                self.w = Parameter(tc.zeros(1))
            elif what == "module":
                self.m = Sequential()
            elif what == "buffer":
                self.register_buffer("b", tc.zeros(1))
            elif what == "register_parameter":
                self.register_parameter("w", None)
            else:
                self.add_module("m", None)
            super().__init__()

    with pytest.raises(AttributeError, match=r"before Module\.__init__\(\) call"):
        Early()


def test_plain_attributes_before_super_init_are_allowed():
    class Early(Module):
        def __init__(self) -> None:
            self.size = 3  # PyTorch allows plain attributes (and plain tensors) before super().__init__()
            self.t = tc.zeros(1)
            super().__init__()

    m = Early()
    assert m.size == 3 and isinstance(m.t, Tensor) and list(m.named_buffers()) == []


NAME_CASES = [
    ("register_parameter", "a.b", KeyError),
    ("register_parameter", "", KeyError),
    ("register_parameter", 3, TypeError),
    ("register_parameter", "train", KeyError),  # a method
    ("register_parameter", "n_in", KeyError),  # a plain attribute
    ("register_parameter", "running", KeyError),  # a buffer
    ("register_buffer", "a.b", KeyError),
    ("register_buffer", "", KeyError),
    ("register_buffer", 3, TypeError),
    ("register_buffer", "forward", KeyError),
    ("register_buffer", "weight", KeyError),
    ("add_module", "a.b", KeyError),
    ("add_module", "", KeyError),
    ("add_module", 3, TypeError),
    ("add_module", "training", KeyError),
    ("add_module", "bias", KeyError),
    ("register_module", "a.b", KeyError),
]


def _register(ns: SimpleNamespace, method: str, name: Any) -> Any:
    leaf = ns.Leaf()
    getattr(leaf, method)(name, None)
    return leaf


@pytest.mark.parametrize("method, name, exc", NAME_CASES)
def test_register_name_validation(method, name, exc):
    with pytest.raises(exc):
        _register(TC, method, name)


@pytest.mark.parametrize("method, name, exc", NAME_CASES)
def test_register_name_validation_matches_torch(T, method, name, exc):
    with pytest.raises(exc):
        _register(T, method, name)


def test_registering_an_existing_name_of_the_same_kind_replaces_it():
    leaf = Leaf()
    p = Parameter(tc.zeros(2, 3))
    leaf.register_parameter("weight", p)
    leaf.register_buffer("running", None)
    leaf.add_module("sub", Leaf())
    leaf.add_module("sub", None)
    assert leaf.weight is p and leaf.running is None and leaf.sub is None
    assert names(leaf.named_parameters()) == ["weight", "bias"]


def test_register_rejects_the_wrong_value_type():
    leaf = Leaf()
    with pytest.raises(TypeError):
        leaf.register_parameter("p", tc.zeros(1))  # a Tensor, not a Parameter
    with pytest.raises(TypeError):
        leaf.register_buffer("b", np.zeros(1))
    with pytest.raises(TypeError):
        leaf.add_module("m", tc.zeros(1))
    leaf.register_buffer("pb", Parameter(tc.zeros(1)))  # a Parameter is a Tensor: a valid buffer, as in torch
    assert "pb" in leaf.state_dict() and names(leaf.named_parameters()) == ["weight", "bias"]


def test_delattr_removes_registered_names():
    blk = Block([("child", Leaf())])
    blk.plain = 1
    del blk.scale, blk.steps, blk.child, blk.plain
    assert list(blk._parameters) == list(blk._buffers) == list(blk._modules) == []
    for name in ("scale", "steps", "child", "plain"):
        assert not hasattr(blk, name)
    with pytest.raises(AttributeError):
        del blk.nope
    leaf = Leaf()
    del leaf.scratch
    assert names(leaf.named_buffers()) == ["running", "count"]
    leaf.scratch = tc.zeros(3)  # no longer a buffer: a plain attribute
    assert names(leaf.named_buffers()) == ["running", "count"] and "scratch" in leaf.__dict__


def test_getattr_error_message_matches_torch(T):
    for ns in (TC, T):
        with pytest.raises(AttributeError, match=r"^'Leaf' object has no attribute 'nope'$"):
            _ = ns.Leaf().nope


def test_dir_lists_registered_names():
    blk = Block([("child", Leaf())])
    assert {"scale", "steps", "child", "forward", "state_dict", "training"} <= set(dir(blk))
    assert {"weight", "bias", "running", "count", "scratch", "n_in"} <= set(dir(blk.child))


def test_dir_leaves_out_names_that_are_not_identifiers(T):
    # torch's Module.__dir__ drops keys starting with a digit (Sequential's "0", "1", ...)
    for ns in (T, TC):
        d = dir(ns.nn.Sequential(ns.Leaf(), ns.Leaf()))
        assert "0" not in d and "1" not in d and "append" in d


# -- traversal -----------------------------------------------------------------------------------------------
def test_traversal_names_and_order_match_torch(T):
    ours, theirs = make_net(TC), make_net(T)
    assert names(ours.named_parameters()) == names(theirs.named_parameters())
    assert names(ours.named_buffers()) == names(theirs.named_buffers())
    assert names(ours.named_modules()) == names(theirs.named_modules())
    assert names(ours.named_children()) == names(theirs.named_children()) == ["features", "heads", "out"]
    assert names(ours.named_parameters(prefix="net")) == names(theirs.named_parameters(prefix="net"))
    assert names(ours.named_modules(prefix="net")) == names(theirs.named_modules(prefix="net"))
    assert names(ours.named_parameters(recurse=False)) == names(theirs.named_parameters(recurse=False))
    assert names(ours.named_buffers(recurse=False)) == ["steps"]


def test_traversal_on_a_known_structure():
    net = make_net(TC)
    params = names(net.named_parameters())
    assert params[:5] == ["scale", "features.0.weight", "features.0.bias", "features.1.0.weight", "features.1.0.bias"]
    assert params[-2:] == ["out.act.weight", "out.act.bias"] and len(params) == 1 + 2 * 7
    assert [id(p) for p in net.parameters()] == [id(p) for _, p in net.named_parameters()]
    assert [id(b) for b in net.buffers()] == [id(b) for _, b in net.named_buffers()]
    assert "features.1.1.scratch" in names(net.named_buffers())  # non-persistent buffers are traversed
    assert names(net.named_modules()) == [
        "", "features", "features.0", "features.1", "features.1.0", "features.1.1",
        "heads", "heads.cls", "heads.reg", "out", "out.fc", "out.act",
    ]  # fmt: skip
    assert list(net.modules()) == [m for _, m in net.named_modules()]
    assert list(net.children()) == [net.features, net.heads, net.out]
    assert list(net.parameters(recurse=False)) == [net.scale] and list(net.buffers(recurse=False)) == [net.steps]


def test_tied_parameters_and_shared_modules_are_listed_once(T):
    def run(ns: SimpleNamespace) -> tuple:
        a = ns.Leaf(3, 3, ", a")
        b = ns.Leaf(3, 3, ", b", weight=a.weight)  # tied weight
        s = ns.nn.Sequential(a, b, a)  # a shared module
        return (
            names(s.named_parameters()),
            names(s.named_parameters(remove_duplicate=False)),
            names(s.named_buffers()),
            names(s.named_modules()),
            names(s.named_modules(remove_duplicate=False)),
            names(s.named_children()),
            list(s.state_dict()),
            len(list(s.parameters())),
        )

    ours = run(TC)
    assert ours == run(T)
    assert ours[0] == ["0.weight", "0.bias", "1.bias"] and ours[-1] == 3
    assert ours[6][:4] == ["0.weight", "0.bias", "0.running", "0.count"] and "1.weight" in ours[6]
    assert "2.weight" in ours[6]  # state_dict lists a shared module under every name


def test_get_submodule():
    net = make_net(TC)
    assert net.get_submodule("") is net
    assert net.get_submodule("features.1.0") is net.features[1][0]
    assert net.get_submodule("heads.reg") is net.heads["reg"]
    assert net.get_submodule("out.act") is net.out.act
    for bad in ("nope", "features.9", "features.0.weight", "features.0.running", "out.fc.x"):
        with pytest.raises(AttributeError):
            net.get_submodule(bad)


# -- state_dict ----------------------------------------------------------------------------------------------
def test_state_dict_keys_match_torch(T):
    ours, theirs = make_net(TC), make_net(T)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    keys = list(ours.state_dict())
    assert keys[:4] == ["scale", "steps", "features.0.weight", "features.0.bias"]
    assert "heads.cls.running" in keys and "out.fc.count" in keys
    assert not any(k.endswith("scratch") for k in keys)  # non-persistent buffers are not saved
    assert list(ours.state_dict(prefix="m.")) == list(theirs.state_dict(prefix="m."))


def test_state_dict_values_are_detached_and_share_memory():
    leaf = Leaf()
    sd = leaf.state_dict()
    w = sd["weight"]
    assert type(w) is Tensor and not w.requires_grad and w.grad_fn is None
    assert np.shares_memory(w.data, leaf.weight.data) and np.shares_memory(sd["count"].data, leaf.count.data)
    leaf.weight.data[0, 0] = 42.0
    assert w.data[0, 0] == 42.0
    kept = leaf.state_dict(keep_vars=True)
    assert kept["weight"] is leaf.weight and kept["running"] is leaf.running
    dest: dict = {}
    assert leaf.state_dict(dest, "x.") is dest and list(dest)[0] == "x.weight"


def test_load_state_dict_round_trip():
    src, dst = make_net(TC), make_net(TC)
    for i, p in enumerate(src.parameters()):
        p.data[...] = i + 0.25
    src.features[0].count.data[...] = 7
    params_before = list(dst.parameters())
    result = dst.load_state_dict(src.state_dict())
    assert result == ([], []) and result.missing_keys == [] and result.unexpected_keys == []
    for (k, a), (_, b) in zip(src.state_dict().items(), dst.state_dict().items()):
        assert a.dtype == b.dtype and np.array_equal(a.data, b.data), k
        assert not np.shares_memory(a.data, b.data)  # copied, not aliased
    assert all(p is q for p, q in zip(params_before, dst.parameters()))  # the same Parameter objects
    assert dst.features[0].count.item() == 7 and dst.features[0].count.dtype == tc.int64


def test_load_state_dict_strict_names_missing_and_unexpected_keys():
    sd = make_net(TC).state_dict()
    del sd["features.0.bias"]
    sd["features.0.extra"] = tc.zeros(1)
    with pytest.raises(RuntimeError) as info:
        make_net(TC).load_state_dict(sd)
    msg = str(info.value)
    assert 'Missing key(s) in state_dict: "features.0.bias".' in msg
    assert 'Unexpected key(s) in state_dict: "features.0.extra".' in msg
    assert msg.startswith("Error(s) in loading state_dict for Block:")


def test_load_state_dict_error_message_matches_torch(T):
    def message(ns: SimpleNamespace) -> str:
        sd = {"weight": ns.make(np.zeros((2, 3), dtype=np.float32)), "zz": ns.make(np.zeros(1, dtype=np.float32))}
        with pytest.raises(RuntimeError) as info:
            ns.Leaf().load_state_dict(sd)
        return str(info.value)

    assert message(TC) == message(T)  # "Missing ..." first, then "Unexpected ..."


def test_load_state_dict_non_strict_returns_the_key_lists():
    src = Leaf()
    src.bias.data[...] = 3.0
    sd = {"bias": src.bias.detach(), "zz": tc.zeros(1), "yy.w": tc.zeros(1)}
    dst = Leaf()
    missing, unexpected = dst.load_state_dict(sd, strict=False)
    assert missing == ["weight", "running", "count"] and unexpected == ["zz", "yy.w"]
    assert dst.bias.data.tolist() == [3.0] * 3  # the matching keys are loaded


def test_load_state_dict_shape_mismatch_names_the_key_even_when_not_strict():
    for strict in (True, False):
        sd = Leaf().state_dict()
        sd["bias"] = tc.zeros(4)
        with pytest.raises(RuntimeError, match=r"size mismatch for bias"):
            Leaf().load_state_dict(sd, strict=strict)


@pytest.mark.parametrize("corrupt", ["shape", "missing", "unexpected", "type"])
def test_load_state_dict_loads_nothing_when_it_raises(corrupt):
    dst = make_net(TC)
    before = {k: v.data.copy() for k, v in dst.state_dict().items()}
    sd = {k: Tensor(v.data + 1) for k, v in make_net(TC).state_dict().items()}
    last = list(sd)[-1]
    if corrupt == "shape":
        sd[last] = tc.zeros(9)
    elif corrupt == "missing":
        del sd[last]
    elif corrupt == "unexpected":
        sd["zz"] = tc.zeros(1)
    else:
        sd[last] = [1.0, 2.0]
    with pytest.raises(RuntimeError):
        dst.load_state_dict(sd)
    for k, v in dst.state_dict().items():
        assert np.array_equal(v.data, before[k]), k


def test_load_state_dict_accepts_numpy_arrays_and_casts_to_the_model_dtype():
    leaf = Leaf()
    sd = {k: np.asarray(v.data + 1, dtype=np.float64 if v.dtype == tc.float32 else np.int32)
          for k, v in leaf.state_dict().items()}  # fmt: skip
    sd["weight"] = sd["weight"] + 1e-12
    leaf.load_state_dict(sd)
    assert leaf.weight.dtype == tc.float32 and leaf.count.dtype == tc.int64
    assert np.array_equal(leaf.weight.data, sd["weight"].astype(np.float32))
    assert leaf.count.item() == 1 and leaf.bias.data.tolist() == [1.5] * 3
    leaf.load_state_dict({**leaf.state_dict(), "count": np.array(2**40)})  # int64 buffer keeps its range
    assert leaf.count.item() == 2**40
    assert leaf.weight.requires_grad and isinstance(leaf.weight, Parameter)


def test_load_state_dict_casts_a_float_into_an_int_buffer_as_torch(T):
    # torch copies with Tensor.copy_, which casts any dtype (truncating float -> int)
    for ns in (T, TC):
        leaf = ns.Leaf()
        sd = dict(leaf.state_dict())
        sd["count"] = ns.make(np.array(3.7))
        leaf.load_state_dict(sd)
        assert int(arr(leaf.count)) == 3 and str(arr(leaf.count).dtype) == "int64"


def test_load_state_dict_into_tied_parameters():
    a = Leaf(3, 3)
    s = Sequential(a, Leaf(3, 3, weight=a.weight))
    sd = {k: Tensor(v.data.copy()) for k, v in s.state_dict().items()}
    sd["0.weight"].data[...] = 1.0
    sd["1.weight"].data[...] = 1.0
    s.load_state_dict(sd)
    assert s[0].weight is s[1].weight and np.all(s[1].weight.data == 1.0)


def test_load_state_dict_rejects_a_non_mapping():
    with pytest.raises(TypeError):
        Leaf().load_state_dict([("weight", tc.zeros(2, 3))])


def test_state_dict_round_trips_with_torch(T):
    torch = T.torch
    ours, theirs = make_net(TC), make_net(T)
    with torch.no_grad():
        for i, p in enumerate(theirs.parameters()):
            p.mul_(i + 2)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    for (k, a), (k2, b) in zip(ours.state_dict().items(), theirs.state_dict().items()):
        assert k == k2 and np.array_equal(a.data, b.numpy()) and str(a.dtype) == str(b.numpy().dtype)
    for p in ours.parameters():
        p.data[...] += 1
    theirs.load_state_dict({k: torch.from_numpy(v.data.copy()) for k, v in ours.state_dict().items()})
    for (_, a), (_, b) in zip(ours.state_dict().items(), theirs.state_dict().items()):
        assert np.array_equal(a.data, b.numpy())


# -- modes, gradients, apply, dtype ---------------------------------------------------------------------------
def test_train_and_eval_propagate_and_return_self():
    net = make_net(TC)
    assert all(m.training for m in net.modules())
    assert net.eval() is net and not any(m.training for m in net.modules())
    assert net.train() is net and all(m.training for m in net.modules())
    assert net.features.train(False) is net.features
    assert net.training and not net.features[1][0].training and net.heads.training
    for bad in (1, 0, "yes", None):
        with pytest.raises(ValueError, match="boolean"):
            net.train(bad)


def test_train_calls_the_childrens_train_as_torch(T):
    # torch's train() recurses through child.train(mode): a child overriding train() (to keep its batch norm
    # frozen, say) is honoured by model.train() / model.eval()
    for ns in (T, TC):

        class Frozen(ns.Leaf):
            def train(self, mode: bool = True) -> Any:
                super().train(False)  # always stays in eval mode
                return self

        s = ns.nn.Sequential(ns.Leaf(), Frozen())
        s.eval()
        s.train()
        assert s.training and s[0].training and not s[1].training


def test_zero_grad():
    s = Sequential(Leaf(2, 3), Leaf(3, 1))
    x = tc.ones(4, 2)
    s(x).sum().backward()
    assert all(p.grad is not None for p in s.parameters())
    s.zero_grad()
    assert all(p.grad is None for p in s.parameters())
    s(x).sum().backward()
    grads = [p.grad for p in s.parameters()]
    s.zero_grad(set_to_none=False)
    for p, g in zip(s.parameters(), grads):
        assert p.grad is g and not g.requires_grad and np.all(g.data == 0) and g.shape == p.shape
    s(x).sum().backward()  # accumulates from zero
    assert np.allclose(s[1].bias.grad.data, 4.0)


def test_requires_grad_():
    net = make_net(TC)
    assert net.requires_grad_(False) is net and not any(p.requires_grad for p in net.parameters())
    assert not any(b.requires_grad for b in net.buffers())
    net.features.requires_grad_()
    assert [p.requires_grad for p in net.parameters()] == [False] + [True] * 6 + [False] * 8


def test_apply_visits_children_first_as_torch(T):
    def order(ns: SimpleNamespace) -> list[str]:
        net = make_net(ns)
        by_id = {id(m): n for n, m in net.named_modules()}
        seen: list[str] = []
        assert net.apply(lambda m: seen.append(by_id[id(m)])) is net
        return seen

    ours = order(TC)
    assert ours == order(T)
    assert ours[:3] == ["features.0", "features.1.0", "features.1.1"] and ours[-1] == ""


def test_float_double_and_to_cast_floating_state_in_place():
    s = Sequential(Leaf(2, 3), Leaf(3, 1))
    s(tc.ones(1, 2)).sum().backward()
    w = s[0].weight
    assert s.double() is s
    assert s[0].weight is w and w.dtype == tc.float64 and w.grad.dtype == tc.float64 and w.requires_grad
    assert s[0].running.dtype == tc.float64 and s[0].scratch.dtype == tc.float64
    assert s[0].count.dtype == tc.int64  # integer buffers are left alone
    assert s(tc.ones(1, 2, dtype=tc.float64)).dtype == tc.float64
    assert s.float() is s and w.dtype == tc.float32 and w.grad.dtype == tc.float32
    assert s.to(tc.float64) is s and w.dtype == tc.float64
    assert s.to(dtype=tc.float32) is s and w.dtype == tc.float32
    assert s.to("cpu", tc.float64) is s and w.dtype == tc.float64
    assert s.to("cpu") is s and s.to(device="cpu") is s and s.cpu() is s and w.dtype == tc.float64
    with pytest.raises(TypeError):
        s.to(tc.int64)
    with pytest.raises((ValueError, RuntimeError)):
        s.to("cuda")
    assert w.dtype == tc.float64


def test_float_on_a_float32_model_keeps_memory_as_torch():
    # torch's Tensor.to returns self when the dtype already matches: m.float() on a float32 model allocates
    # nothing, and a state_dict taken before still aliases the parameters
    leaf = Leaf()
    sd = leaf.state_dict()
    leaf.float()
    leaf.weight.data[0, 0] = 9.0
    assert sd["weight"].data[0, 0] == 9.0


# -- hooks ---------------------------------------------------------------------------------------------------
def test_forward_hooks_and_pre_hooks():
    leaf = Leaf(2, 3)
    calls: list[Any] = []

    def pre(m: Module, args: tuple) -> Any:
        calls.append(("pre", m, len(args)))
        return args[0] * 2  # not a tuple: wrapped into one

    def post(m: Module, args: tuple, out: Any) -> Any:
        calls.append(("post", m, args[0].data.copy()))
        return out + 1

    h1 = leaf.register_forward_pre_hook(pre)
    h2 = leaf.register_forward_hook(post)
    x = tc.ones(1, 2)
    plain = leaf.forward(x).data
    out = leaf(x)
    expected = (2 * x.data) @ leaf.weight.data + leaf.bias.data + 1
    assert np.allclose(out.data, expected)
    assert calls[0] == ("pre", leaf, 1) and calls[1][0] == "post" and calls[1][1] is leaf
    assert np.array_equal(calls[1][2], 2 * x.data)  # the forward hook sees the pre-hook's arguments
    h1.remove()
    h2.remove()
    h2.remove()  # removing twice is harmless
    assert np.allclose(leaf(x).data, plain) and len(calls) == 2


def test_hooks_run_in_order_none_keeps_output_and_fire_inside_sequential():
    s = Sequential(Leaf(2, 3), Leaf(3, 1))
    order: list[str] = []
    handles = [
        s[0].register_forward_hook(lambda m, a, o: order.append("first")),
        s[0].register_forward_hook(lambda m, a, o: order.append("second")),
        s[1].register_forward_pre_hook(lambda m, a: order.append("pre1")),
    ]
    x = tc.ones(1, 2)
    out = s(x)
    assert order == ["first", "second", "pre1"]
    assert np.allclose(out.data, (x.data @ s[0].weight.data + s[0].bias.data) @ s[1].weight.data + s[1].bias.data)
    handles[0].remove()
    s(x)
    assert order[3:] == ["second", "pre1"]


def test_missing_forward_raises_notimplementederror():
    for m in (Module(), ModuleList([Leaf()]), ModuleDict({"a": Leaf()})):
        with pytest.raises(NotImplementedError, match='missing the required "forward" function'):
            m(tc.ones(1))


# -- repr ----------------------------------------------------------------------------------------------------
def test_repr_of_nested_containers_matches_torch(T):
    def structures(ns: SimpleNamespace) -> list[Any]:
        with_none = ns.Block([("a", ns.Leaf()), ("b", ns.Leaf(3, 3))])
        with_none.a = None
        return [
            make_net(ns),
            with_none,
            ns.Leaf(),
            ns.nn.Sequential(),
            ns.nn.ModuleList(),
            ns.nn.ModuleDict(),
            ns.Block(),
            ns.Note("one line"),
            ns.Note("two\nlines"),
            ns.Note("one line", ns.nn.Sequential(ns.Leaf(), ns.Note("x\ny"))),
            ns.Note("two\nlines", ns.nn.ModuleList([ns.Leaf(), ns.nn.ModuleDict({"k": ns.Leaf(1, 1)})])),
            ns.Note("", ns.Note("")),
        ]

    for ours, theirs in zip(structures(TC), structures(T)):
        assert repr(ours) == repr(theirs)


def test_repr_on_a_known_structure():
    s = Sequential(OrderedDict(fc=Leaf(2, 3), body=Sequential(Leaf(3, 3, ", x"))))
    assert repr(s) == (
        "Sequential(\n"
        "  (fc): Leaf(in_features=2, out_features=3)\n"
        "  (body): Sequential(\n"
        "    (0): Leaf(in_features=3, out_features=3, x)\n"
        "  )\n"
        ")"
    )


def test_modulelist_repr_compresses_repeated_modules_as_torch(T):
    # torch's ModuleList.__repr__ folds runs of identical reprs: "(0-1): 2 x Leaf(...)"
    def build(ns: SimpleNamespace) -> Any:
        return ns.nn.ModuleList([ns.Leaf(), ns.Leaf(), ns.Leaf(3, 3), ns.Leaf(), ns.Leaf(), ns.Leaf()])

    assert repr(build(TC)) == repr(build(T))
    assert "(3-5): 3 x Leaf(in_features=2, out_features=3)" in repr(build(TC))


# -- Sequential ----------------------------------------------------------------------------------------------
def tagged(ns: SimpleNamespace, tags: str) -> list[Any]:
    return [ns.Leaf(1, 1, f", {t}") for t in tags]


def test_sequential_indexing_and_slicing():
    a, b, c = tagged(TC, "abc")
    s = Sequential(a, b, c)
    assert s[0] is a and s[2] is c and s[-1] is c and s[-3] is a
    for bad in (3, -4, 100):
        with pytest.raises(IndexError):
            s[bad]
    with pytest.raises(TypeError):
        s[1.0]
    sub = s[1:]
    assert type(sub) is Sequential and list(sub) == [b, c] and list(sub._modules) == ["1", "2"]
    assert sub[0] is b  # positional indexing on a slice
    assert list(s[::-1]) == [c, b, a] and len(s[5:]) == 0
    assert len(s) == 3 and list(s) == [a, b, c] and list(iter(s)) == [a, b, c]


def test_sequential_forward_and_backward():
    s = Sequential(Leaf(2, 3), Leaf(3, 1))
    x = tc.tensor([[1.0, 2.0], [3.0, -1.0]])
    out = s(x)
    h = x.data @ s[0].weight.data + s[0].bias.data
    assert np.allclose(out.data, h @ s[1].weight.data + s[1].bias.data)
    out.sum().backward()
    assert np.allclose(s[1].weight.grad.data, h.sum(0)[:, None])
    assert np.allclose(s[0].bias.grad.data, np.broadcast_to(s[1].weight.data[:, 0], (2, 3)).sum(0))
    assert Sequential()(x) is x  # an empty Sequential is the identity


# A ReLU followed by a MaxPool2d runs as pool then ReLU (nn.containers._pool_first): the same values and gradients.
def _relu_pool_inputs(draw: Any, shape: tuple[int, ...]) -> np.ndarray:
    """Values from a small set around 0: many ties, windows whose max is negative, zero or positive."""
    values = draw(st.lists(st.sampled_from([-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0]), min_size=int(np.prod(shape)),
                           max_size=int(np.prod(shape))))  # fmt: skip
    return np.array(values).reshape(shape)


@given(cfg=pool_configs("max"), data=st.data())
def test_sequential_relu_then_max_pool_matches_the_composition(cfg: Any, data: Any) -> None:
    x_np = _relu_pool_inputs(data.draw, cfg.input_shape)
    g = np.random.default_rng(0).standard_normal(cfg.output_shape)  # a non-uniform upstream gradient
    fused = Sequential(tc.nn.ReLU(), tc.nn.MaxPool2d(**cfg.kwargs))
    x1, x2 = tc.tensor(x_np, requires_grad=True), tc.tensor(x_np, requires_grad=True)
    out = fused(x1)
    ref = tc.nn.functional.max_pool2d(tc.nn.functional.relu(x2), **cfg.kwargs)
    np.testing.assert_array_equal(out.data, ref.data)
    out.backward(tc.tensor(g))
    ref.backward(tc.tensor(g))
    np.testing.assert_array_equal(x1.grad.data, x2.grad.data)


def test_sequential_relu_then_max_pool_matches_torch(torch: Any) -> None:
    rng = np.random.default_rng(1)
    x_np = rng.choice([-1.0, 0.0, 1.0, 2.0], size=(2, 3, 7, 6)).astype(np.float32)  # ties everywhere
    g = rng.standard_normal((2, 3, 3, 3)).astype(np.float32)
    ours = tc.tensor(x_np, requires_grad=True)
    theirs = torch.tensor(x_np, requires_grad=True)
    out = Sequential(tc.nn.ReLU(), tc.nn.MaxPool2d(2, ceil_mode=True, padding=1, stride=3))(ours)
    t_out = torch.nn.Sequential(torch.nn.ReLU(), torch.nn.MaxPool2d(2, ceil_mode=True, padding=1, stride=3))(theirs)
    out.backward(tc.tensor(g))
    t_out.backward(torch.tensor(g))
    np.testing.assert_array_equal(out.data, t_out.detach().numpy())
    np.testing.assert_array_equal(ours.grad.data, theirs.grad.numpy())


def test_sequential_relu_then_max_pool_with_non_finite_gradients_matches_torch(torch: Any) -> None:
    x_np = np.array([[[[-2.0, -1.0, 0.0, -3.0, 2.0, 1.0, math.nan, 1.0]]]])
    g = np.array([[[[math.inf, -math.inf, math.nan, 1.0]]]])
    ours = tc.tensor(x_np, requires_grad=True)
    theirs = torch.tensor(x_np, requires_grad=True)
    Sequential(tc.nn.ReLU(), tc.nn.MaxPool2d((1, 2)))(ours).backward(tc.tensor(g))
    torch.nn.Sequential(torch.nn.ReLU(), torch.nn.MaxPool2d((1, 2)))(theirs).backward(torch.tensor(g))
    np.testing.assert_array_equal(ours.grad.data, theirs.grad.numpy())


def test_sequential_keeps_the_order_of_a_module_whose_forward_was_replaced() -> None:
    relu = tc.nn.ReLU()
    relu.forward = lambda t: t.abs()  # an instance-level forward: not ReLU's any more
    out = Sequential(relu, tc.nn.MaxPool2d((1, 2)))(tc.tensor([[[[-3.0, 1.0]]]]))
    assert out.item() == 3.0


def test_sequential_runs_the_relu_on_the_pooled_pixels(monkeypatch: Any) -> None:
    from tinygrad_cnn.nn.layers import activation

    shapes: list[tuple[int, ...]] = []
    relu = activation.F.relu
    monkeypatch.setattr(activation.F, "relu", lambda x, inplace=False: shapes.append(x.shape) or relu(x))
    Sequential(tc.nn.ReLU(), tc.nn.MaxPool2d(2), tc.nn.ReLU())(tc.randn(2, 3, 8, 8))
    assert shapes == [(2, 3, 4, 4), (2, 3, 4, 4)]


def test_sequential_relu_then_max_pool_keeps_what_users_can_see() -> None:
    x_np = np.array([[[[-1.0, 2.0], [3.0, -4.0]]]])
    relu, pool = tc.nn.ReLU(), tc.nn.MaxPool2d(2)
    seen: list[tuple[int, ...]] = []
    handle = relu.register_forward_hook(lambda m, args, out: seen.append(tuple(out.shape)))
    Sequential(relu, pool)(tc.tensor(x_np))
    assert seen == [(1, 1, 2, 2)]  # a hook sees the ReLU of the full input: the order is kept
    handle.remove()
    out, idx = Sequential(tc.nn.ReLU(), tc.nn.MaxPool2d(2, return_indices=True))(tc.tensor(x_np))
    assert out.item() == 3.0 and idx.item() == 2  # the indices of the ReLU's maxima, unfused
    with pytest.raises(NotImplementedError, match="max_pool2d"):  # int input: ReLU passes it, the pool refuses it
        Sequential(tc.nn.ReLU(), tc.nn.MaxPool2d(2))(tc.tensor([[[[1, -2], [3, 4]]]]))


def test_sequential_from_ordereddict():
    a, b = tagged(TC, "ab")
    s = Sequential(OrderedDict(conv=a, act=b))
    assert list(s._modules) == ["conv", "act"] and s.conv is a and s[1] is b and s[-2] is a
    assert list(s.state_dict())[:2] == ["conv.weight", "conv.bias"]
    assert list(s[1:]._modules) == ["act"]
    with pytest.raises(TypeError):
        Sequential({"conv": a})  # only an OrderedDict names the modules, as in torch


def test_sequential_mutations_match_torch(T):
    def run(ns: SimpleNamespace) -> list[Any]:
        s = ns.nn.Sequential(*tagged(ns, "abc"))
        snaps = [layout(s)]
        assert s.append(tagged(ns, "d")[0]) is s
        snaps.append(layout(s))
        assert s.insert(1, tagged(ns, "e")[0]) is s
        s.insert(-1, tagged(ns, "f")[0])
        s.insert(len(s), tagged(ns, "g")[0])
        s.insert(-len(s), tagged(ns, "h")[0])
        snaps.append(layout(s))
        assert s.extend(tagged(ns, "ij")) is s
        snaps.append(layout(s))
        del s[0]
        snaps.append(layout(s))
        del s[-1]
        del s[1:3]
        snaps.append(layout(s))
        del s[::2]
        snaps.append(layout(s))
        s[0] = tagged(ns, "k")[0]
        s[-1] = tagged(ns, "l")[0]
        snaps += [layout(s), layout(s[1:3]), layout(s[::2])]
        named = ns.nn.Sequential(OrderedDict(zip("xyz", tagged(ns, "xyz"))))
        named.append(tagged(ns, "w")[0])
        snaps.append(layout(named))
        snaps.append(layout(named[1:]))
        del named[1]  # torch renumbers every module after a deletion, names included
        snaps.append(layout(named))
        return snaps

    assert run(TC) == run(T)


def test_sequential_insert_errors():
    s = Sequential(*tagged(TC, "ab"))
    for bad in (3, -3):
        with pytest.raises(IndexError):
            s.insert(bad, Leaf())
    with pytest.raises((TypeError, AssertionError)):
        s.insert(0, "not a module")
    assert [m.tag for m in s] == [", a", ", b"]


SEQ_OPS = st.lists(
    st.one_of(
        st.tuples(st.just("append")),
        st.tuples(st.just("insert"), st.integers(-6, 6)),
        st.tuples(st.just("del"), st.integers(-6, 6)),
        st.tuples(st.just("delslice"), st.integers(-6, 6), st.integers(-6, 6), st.sampled_from([1, 2, -1])),
        st.tuples(st.just("set"), st.integers(-6, 6)),
    ),
    max_size=8,
)


def _apply_seq_ops(ns: SimpleNamespace, ops: list[tuple], container: str) -> list[Any]:
    """Apply ``ops`` to a Sequential or ModuleList and record each outcome (the layout, or the error type)."""
    counter = itertools.count()

    def new() -> Any:
        return ns.Leaf(1, 1, f", m{next(counter)}")

    first = [new(), new(), new()]
    c = ns.nn.ModuleList(first) if container == "ModuleList" else ns.nn.Sequential(*first)
    trace: list[Any] = []
    for op in ops:
        n = len(c)
        try:
            if op[0] == "append":
                c.append(new())
            elif op[0] == "insert":
                if not 0 <= op[1] <= n:  # torch's ModuleList.insert breaks on negative or too large indices
                    continue
                c.insert(op[1], new())
            elif op[0] == "del":
                del c[op[1]]
            elif op[0] == "delslice":
                del c[op[1] : op[2] : op[3]]
            else:
                c[op[1]] = new()
            trace.append(layout(c))
        except IndexError:
            trace.append("IndexError")
    return trace


@pytest.mark.parametrize("container", ["Sequential", "ModuleList"])
@given(ops=SEQ_OPS)
def test_sequence_containers_follow_torch_under_random_edits(T, container, ops):
    assert _apply_seq_ops(TC, ops, container) == _apply_seq_ops(T, ops, container)


# -- ModuleList ----------------------------------------------------------------------------------------------
def test_modulelist_api_matches_torch(T):
    def run(ns: SimpleNamespace) -> list[Any]:
        ml = ns.nn.ModuleList(tagged(ns, "ab"))
        snaps = [layout(ml), len(ml)]
        assert ml.append(tagged(ns, "c")[0]) is ml
        assert ml.extend(tagged(ns, "de")) is ml
        ml += tagged(ns, "f")
        ml.insert(0, tagged(ns, "g")[0])
        ml.insert(3, tagged(ns, "h")[0])
        snaps.append(layout(ml))
        snaps += [ml[0].tag, ml[-1].tag, layout(ml[2:5]), type(ml[1:]).__name__]
        del ml[1]
        del ml[-1]
        ml[0] = tagged(ns, "i")[0]
        ml[-2] = tagged(ns, "j")[0]
        snaps.append(layout(ml))
        del ml[1::2]
        snaps.append(layout(ml))
        snaps.append([m.tag for m in ml])
        snaps.append(list(ml.state_dict())[:3])
        snaps.append(layout(ns.nn.ModuleList(m for m in tagged(ns, "xyz"))))  # any iterable
        return snaps

    assert run(TC) == run(T)


def test_modulelist_errors():
    ml = ModuleList(tagged(TC, "ab"))
    for bad in (2, -3):
        with pytest.raises(IndexError):
            ml[bad]
        with pytest.raises(IndexError):
            ml[bad] = Leaf()
        with pytest.raises(IndexError):
            del ml[bad]
    with pytest.raises(TypeError):
        ml.extend(3)
    with pytest.raises(TypeError):
        ml.append("not a module")
    with pytest.raises(TypeError):
        ModuleList([Leaf(), 3])
    assert [m.tag for m in ml] == [", a", ", b"]


def test_modulelist_insert_of_a_non_module_leaves_the_list_intact():
    ml = ModuleList(tagged(TC, "ab"))
    with pytest.raises(TypeError):
        ml.insert(0, "not a module")
    assert [m.tag for m in ml] == [", a", ", b"]


def test_modulelist_and_sequential_built_from_another_container(T):
    # torch's ModuleList.extend takes any iterable of modules, a Sequential or a ModuleList included
    for ns in (T, TC):
        seq = ns.nn.Sequential(*tagged(ns, "ab"))
        ml = ns.nn.ModuleList(seq)
        assert list(ml) == list(seq) and list(ml._modules) == ["0", "1"]
        ml2 = ns.nn.ModuleList(ml)
        ml2.extend(ns.nn.ModuleList(tagged(ns, "c")))
        assert [m.tag for m in ml2] == [", a", ", b", ", c"]
        seq.extend(ml2[2:])
        assert [m.tag for m in seq] == [", a", ", b", ", c"]


# -- ModuleDict ----------------------------------------------------------------------------------------------
def test_moduledict_api_matches_torch(T):
    def run(ns: SimpleNamespace) -> list[Any]:
        a, b, c, d, e, f = tagged(ns, "abcdef")
        md = ns.nn.ModuleDict({"beta": a, "alpha": b})  # insertion order, not sorted
        snaps: list[Any] = [list(md), list(md.keys()), [m.tag for m in md.values()], len(md)]
        md.update([("gamma", c), ["delta", d]])
        md.update(OrderedDict(eps=e))
        md["beta"] = f  # an existing key keeps its place
        md["zeta"] = ns.Leaf(1, 1, ", z")
        snaps += [layout(md), [k for k, _ in md.items()], "alpha" in md, "nope" in md, md["alpha"].tag]
        popped = md.pop("gamma")
        del md["alpha"]
        snaps += [popped.tag, layout(md), list(md.state_dict())[:2], names(md.named_children())]
        with pytest.raises(KeyError):
            md["nope"]
        with pytest.raises(ValueError):
            md.update([("k", a, 1)])
        md.clear()
        snaps += [len(md), list(md.state_dict())]
        return snaps

    assert run(TC) == run(T)


def test_moduledict_from_another_moduledict(T):
    for ns in (T, TC):
        src = ns.nn.ModuleDict({"a": ns.Leaf(), "b": ns.Leaf()})
        md = ns.nn.ModuleDict(src)
        md.update(ns.nn.ModuleDict({"c": ns.Leaf()}))
        assert list(md) == ["a", "b", "c"] and md["a"] is src["a"]


def test_moduledict_rejects_bad_names_and_values():
    md = ModuleDict()
    with pytest.raises(KeyError):
        md["a.b"] = Leaf()
    with pytest.raises(KeyError):
        md["update"] = Leaf()  # an existing attribute, as in torch
    with pytest.raises(TypeError):
        md["x"] = 3
    with pytest.raises((TypeError, ValueError)):
        ModuleDict([Leaf()])
    assert len(md) == 0


# -- Parameter -----------------------------------------------------------------------------------------------
def test_parameter_repr_matches_torch(T):
    for data in ([1.0, 2.0], [0.0], []):
        assert repr(Parameter(tc.tensor(data, dtype=tc.float32))) == repr(T.nn.Parameter(T.torch.tensor(data)))
    assert repr(Parameter(tc.tensor([1.0, 2.0]))).startswith("Parameter containing:\ntensor([1., 2.]")


def test_parameter_construction():
    t = tc.tensor([1.0, 2.0])
    p = Parameter(t)
    assert isinstance(p, Tensor) and type(p) is Parameter and p.requires_grad and p.is_leaf
    assert np.shares_memory(p.data, t.data) and not t.requires_grad  # shares the data, leaves the source alone
    a = np.zeros(3, dtype=np.float64)
    q = Parameter(a, requires_grad=False)
    assert q.data is a and not q.requires_grad and q.dtype == tc.float64
    e = Parameter()
    assert e.shape == (0,) and e.dtype == tc.float32 and e.requires_grad
    assert Parameter(p) is not p and np.shares_memory(Parameter(p).data, p.data)
    with pytest.raises(RuntimeError, match="floating point"):
        Parameter(tc.tensor([1, 2]))
    ip = Parameter(tc.tensor([1, 2]), requires_grad=False)
    assert ip.dtype == tc.int64 and not ip.requires_grad
    with pytest.raises(TypeError):
        Parameter([1.0, 2.0])


def test_ops_on_parameters_return_tensors_and_backprop_into_grad():
    p = Parameter(tc.tensor([1.0, 2.0, 3.0]))
    for out in (p + 1, p * p, p.detach(), p.clone(), p.sum(), -p, p.reshape(3, 1)):
        assert type(out) is Tensor
    assert not p.detach().requires_grad and p.clone().requires_grad
    (p * p).sum().backward()
    assert type(p.grad) is Tensor and np.allclose(p.grad.data, [2.0, 4.0, 6.0])
    assert type(Leaf().state_dict()["weight"]) is Tensor


# -- copies ----------------------------------------------------------------------------------------------
def test_deepcopy_copies_data_and_keeps_ties():
    a = Leaf(3, 3)
    s = Sequential(a, Leaf(3, 3, weight=a.weight), a)
    c = copy.deepcopy(s)
    assert c[0] is c[2] and c[0].weight is c[1].weight and c[0] is not a
    assert isinstance(c[0].weight, Parameter) and c[0].weight.requires_grad
    assert not np.shares_memory(c[0].weight.data, a.weight.data)
    assert list(c.state_dict()) == list(s.state_dict()) and repr(c) == repr(s)
    assert "scratch" in c[0]._buffers and "scratch" not in c[0].state_dict()


# -- random nesting vs torch ---------------------------------------------------------------------------------
KEYS = st.sampled_from(["alpha", "beta", "gamma", "delta", "eps"])


def _extend(children: st.SearchStrategy) -> st.SearchStrategy:
    named = st.lists(st.tuples(KEYS, children), min_size=1, max_size=3, unique_by=lambda t: t[0])
    return st.one_of(
        st.tuples(st.sampled_from(["seq", "list"]), st.lists(children, min_size=1, max_size=3)),
        st.tuples(st.sampled_from(["dict", "seqd", "block"]), named),
    )


SPECS = st.recursive(st.tuples(st.just("leaf"), st.integers(1, 3), st.integers(1, 3)), _extend, max_leaves=8)


def build(spec: tuple, ns: SimpleNamespace, counter: Any = None) -> Any:
    """The module tree described by ``spec``; every leaf gets a distinct tag (so no two reprs coincide)."""
    counter = itertools.count() if counter is None else counter
    kind, rest = spec[0], spec[1:]
    if kind == "leaf":
        return ns.Leaf(rest[0], rest[1], f", id={next(counter)}")
    if kind in ("seq", "list"):
        kids = [build(c, ns, counter) for c in rest[0]]
        return ns.nn.Sequential(*kids) if kind == "seq" else ns.nn.ModuleList(kids)
    pairs = [(k, build(c, ns, counter)) for k, c in rest[0]]
    if kind == "dict":
        return ns.nn.ModuleDict(OrderedDict(pairs))
    if kind == "seqd":
        return ns.nn.Sequential(OrderedDict(pairs))
    return ns.Block(pairs)


@given(spec=SPECS)
def test_random_nesting_matches_torch(T, spec):
    ours, theirs = build(spec, TC), build(spec, T)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert names(ours.named_parameters()) == names(theirs.named_parameters())
    assert names(ours.named_buffers()) == names(theirs.named_buffers())
    assert names(ours.named_modules()) == names(theirs.named_modules())
    assert repr(ours) == repr(theirs)
    sd = {k: np.array(v.numpy() * 3) for k, v in theirs.state_dict().items()}
    assert ours.load_state_dict(sd) == ([], [])
    for k, v in ours.state_dict().items():
        assert np.array_equal(v.data, sd[k]), k
    assert theirs.load_state_dict(
        {k: T.torch.from_numpy(np.array(v.data + 1)) for k, v in ours.state_dict().items()}
    ) == ([], [])
