"""Malformed arguments raise a named error of the right kind, everywhere a user passes them.

Every layer constructor and forward, the losses, the optimizers and schedulers, the data pipeline
(``DataLoader``, ``random_split``, data sets, collation, transforms), ``nn.init`` and ``nn.utils`` are
driven by Hypothesis with wrong ranks, mismatched channels, zero or negative sizes, non-integer sizes,
bools where ints are expected, integer tensors where floats are needed, out-of-range hyperparameters,
bad state dicts and so on. Each family below draws one malformed call and says which error it must
raise and which words its message must contain (the argument's name, or what is wrong with it).

The error kinds are PyTorch's where PyTorch raises for the same call: TypeError for a value of the
wrong type, ValueError for a well-typed value out of range, IndexError for a dim or class index out of
range, RuntimeError for shapes and dtypes an op cannot combine. Our constructors check eagerly, so
some calls PyTorch accepts (and fails on later, or never) raise here. ``test_error_kinds_match_torch``
replays every family against PyTorch (skipped without torch) and fails on any difference in kind that
is not listed, with its reason, in ``TORCH_DIFFERENCES``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given

import tinygrad_cnn as tc
from tinygrad_cnn import data as tdata
from tinygrad_cnn.data import transforms as T

# -- the two libraries behind one interface ------------------------------------------------------------


class Ours:
    """tinygrad_cnn behind the names the cases use (``TorchLib`` maps them to PyTorch)."""

    name = "ours"
    nn = tc.nn
    optim = tc.optim
    sched = tc.optim.lr_scheduler
    init = tc.nn.init
    utils = tc.nn.utils
    data = tdata
    int64 = tc.int64
    float32 = tc.float32
    transforms = T

    @staticmethod
    def t(a: Any, requires_grad: bool = False) -> Any:
        return tc.tensor(np.asarray(a), requires_grad=requires_grad)


class TorchLib:
    name = "torch"

    def __init__(self, torch: Any) -> None:
        import torch.utils.data

        self.torch = torch
        self.nn = torch.nn
        self.optim = torch.optim
        self.sched = torch.optim.lr_scheduler
        self.init = torch.nn.init
        self.utils = torch.nn.utils
        self.data = torch.utils.data
        self.int64 = torch.int64
        self.float32 = torch.float32
        self.transforms = None  # no torchvision: the transform families are not replayed

    def t(self, a: Any, requires_grad: bool = False) -> Any:
        return self.torch.tensor(np.asarray(a), requires_grad=requires_grad)


@dataclass(frozen=True)
class Bad:
    """One malformed call: ``call(lib)`` must raise ``kind`` with one of ``names`` in its message."""

    label: str
    call: Callable[[Any], Any]
    kind: type[BaseException]
    names: tuple[str, ...]


KINDS = (IndexError, KeyError, ValueError, TypeError, RuntimeError, AssertionError, AttributeError)


def kind_of(exc: BaseException) -> type[BaseException]:
    """The broad kind of an exception (NotImplementedError counts as RuntimeError, its base, as in torch)."""
    return next((k for k in KINDS if isinstance(exc, k)), type(exc))


def outcome(case: Bad, lib: Any) -> BaseException | None:
    """The exception ``case.call(lib)`` raises (None if it returns)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            case.call(lib)
        except Exception as exc:  # whatever comes out is classified by the caller
            return exc
    return None


def check(case: Bad) -> None:
    exc = outcome(case, Ours)
    assert exc is not None, f"{case.label}: no error raised (expected {case.kind.__name__})"
    assert isinstance(exc, case.kind), f"{case.label}: expected {case.kind.__name__}, got {type(exc).__name__}: {exc}"
    message = str(exc).lower()
    assert any(n.lower() in message for n in case.names), f"{case.label}: message names none of {case.names}: {exc}"


# -- value strategies: (value, the kind of error it must cause) -----------------------------------------

Kinded = st.SearchStrategy  # of (value, kind) pairs

NON_NUMBERS = st.sampled_from(["3", None, [3, 3, 3], (), b"3", {}, 1j])
NON_INTS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=32), st.booleans(), st.just(np.float64(2.0)), NON_NUMBERS
)


def _kinded(values: st.SearchStrategy, kind: type[BaseException]) -> Kinded:
    return values.map(lambda v: (v, kind))


def bad_int(minimum: int) -> Kinded:
    """Ints below ``minimum`` (ValueError), and floats, bools, strings, None, ... (TypeError)."""
    return st.one_of(
        _kinded(st.integers(minimum - 20, minimum - 1), ValueError),
        _kinded(st.integers(minimum - 20, minimum - 1).map(np.int64), ValueError),
        _kinded(NON_INTS, TypeError),
    )


def bad_ntuple(n: int, minimum: int) -> Kinded:
    """A bad int, a tuple of the wrong length (TypeError) or an n-tuple with one bad entry."""

    @st.composite
    def tuples(draw: Any) -> tuple[Any, type[BaseException]]:
        value, kind = draw(bad_int(minimum))
        items = [minimum + 1] * n
        items[draw(st.integers(0, n - 1))] = value
        return tuple(items), kind

    wrong_length = st.integers(0, 4).filter(lambda k: k not in (1, n)).map(lambda k: tuple([minimum + 1] * k))
    return st.one_of(bad_int(minimum), _kinded(wrong_length, TypeError), tuples())


def bad_number(
    minimum: float | None = None,
    maximum: float | None = None,
    *,
    min_ok: bool = True,
    max_ok: bool = True,
    nan: bool = True,
    types: bool = True,
) -> Kinded:
    """Numbers below ``minimum`` or above ``maximum`` (the bounds themselves when not ``min_ok`` /
    ``max_ok``), and nan: ValueError; non-numbers: TypeError."""
    out = []
    if minimum is not None:
        out.append(_kinded(st.floats(minimum - 100, minimum, exclude_max=min_ok), ValueError))
    if maximum is not None:
        out.append(_kinded(st.floats(maximum, maximum + 100, exclude_min=max_ok), ValueError))
    if nan:
        out.append(_kinded(st.just(math.nan), ValueError))
    if types:
        out.append(_kinded(NON_NUMBERS, TypeError))
    return st.one_of(*out)


NON_BOOLS = st.sampled_from([1, 0, "yes", None, 2.0, np.int64(1)])
NON_TENSORS = st.sampled_from([np.zeros((2, 3), np.float32), [[0.0, 1.0, 2.0]], 3.0, None, "x"])


def arg(label: str, make: Callable[[Any, Any], Any], values: Kinded, *names: str) -> st.SearchStrategy:
    """Malformed calls ``make(lib, value)`` for each drawn (value, kind); the message must name ``names``."""
    return values.map(lambda vk: Bad(f"{label}={vk[0]!r}", lambda lib, v=vk[0]: make(lib, v), vk[1], names))


def fixed(label: str, make: Callable[[Any], Any], kind: type[BaseException], *names: str) -> st.SearchStrategy:
    return st.just(Bad(label, make, kind, names))


def f32(*shape: int) -> np.ndarray:
    return np.random.default_rng(sum(shape)).standard_normal(shape).astype(np.float32)


def i64(*shape: int, high: int = 3) -> np.ndarray:
    return np.random.default_rng(sum(shape)).integers(0, high, shape).astype(np.int64)


SIZES = st.integers(1, 4)

# -- layer constructors ----------------------------------------------------------------------------------

CONVS = {"Conv1d": 1, "Conv2d": 2, "ConvTranspose2d": 2}


def _conv(lib: Any, cls: str, **kw: Any) -> Any:
    args = {"in_channels": 4, "out_channels": 4, "kernel_size": 3, **kw}
    return getattr(lib.nn, cls)(**args)


@st.composite
def conv_sizes(draw: Any) -> st.SearchStrategy:
    cls = draw(st.sampled_from(sorted(CONVS)))
    which = draw(st.sampled_from(["in_channels", "out_channels", "groups"]))
    return draw(arg(f"{cls}({which})", lambda lib, v: _conv(lib, cls, **{which: v}), bad_int(1), which))


@st.composite
def conv_groups(draw: Any) -> st.SearchStrategy:
    cls = draw(st.sampled_from(sorted(CONVS)))
    groups = draw(st.integers(2, 4))
    cin, cout = draw(st.tuples(st.integers(1, 9), st.integers(1, 9)).filter(lambda c: c[0] % groups or c[1] % groups))
    label = f"{cls}({cin}, {cout}, groups={groups})"
    return Bad(
        label, lambda lib: _conv(lib, cls, in_channels=cin, out_channels=cout, groups=groups), ValueError, ("groups",)
    )


@st.composite
def conv_window(draw: Any) -> st.SearchStrategy:
    cls = draw(st.sampled_from(sorted(CONVS)))
    n = CONVS[cls]
    options = {"kernel_size": 1, "stride": 1, "dilation": 1, "padding": 0}
    if cls == "ConvTranspose2d":
        options["output_padding"] = 0
    which = draw(st.sampled_from(sorted(options)))
    values = bad_ntuple(n, options[which])
    return draw(arg(f"{cls}({which})", lambda lib, v: _conv(lib, cls, **{which: v}), values, which))


@st.composite
def conv_strings(draw: Any) -> st.SearchStrategy:
    cls = draw(st.sampled_from(sorted(CONVS)))
    text = st.sampled_from(["full", "SAME", "", "zeros", "circular_"])
    modes = st.sampled_from(["full", "SAME", "", "zero", "circular_"])
    cases = [
        arg(
            f"{cls}(padding_mode)",
            lambda lib, v: _conv(lib, cls, padding_mode=v),
            _kinded(modes, ValueError),
            "padding_mode",
        ),
        arg(f"{cls}(padding)", lambda lib, v: _conv(lib, cls, padding=v), _kinded(text, ValueError), "padding"),
    ]
    if cls != "ConvTranspose2d":
        cases.append(
            arg(
                f"{cls}(padding='same', stride)",
                lambda lib, v: _conv(lib, cls, padding="same", stride=v),
                _kinded(st.integers(2, 4), ValueError),
                "stride",
            )
        )
    else:
        cases.append(
            arg(
                "ConvTranspose2d(output_padding >= stride)",
                lambda lib, v: _conv(lib, cls, stride=2, output_padding=v),
                _kinded(st.integers(2, 5), ValueError),
                "output_padding",
            )
        )
    return draw(st.one_of(*cases))


FACTORIES = {
    "Linear": lambda lib, **kw: lib.nn.Linear(3, 4, **kw),
    "Conv2d": lambda lib, **kw: lib.nn.Conv2d(2, 4, 3, **kw),
    "BatchNorm2d": lambda lib, **kw: lib.nn.BatchNorm2d(3, **kw),
    "LayerNorm": lambda lib, **kw: lib.nn.LayerNorm(3, **kw),
    "GroupNorm": lambda lib, **kw: lib.nn.GroupNorm(1, 3, **kw),
}


@st.composite
def factory_args(draw: Any) -> st.SearchStrategy:
    cls = draw(st.sampled_from(sorted(FACTORIES)))
    make = FACTORIES[cls]
    return draw(
        st.one_of(
            arg(
                f"{cls}(dtype)",
                lambda lib, v: make(lib, dtype=getattr(lib, v)),
                _kinded(st.just("int64"), TypeError),
                "dtype",
            ),
            arg(
                f"{cls}(device)",
                lambda lib, v: make(lib, device=v),
                _kinded(st.sampled_from(["cuda:7", "tpu"]), ValueError),
                "device",
            ),
        )
    )


FLAGS = {
    "Linear": (lambda lib, **kw: lib.nn.Linear(3, 4, **kw), ["bias"]),
    "Conv2d": (lambda lib, **kw: lib.nn.Conv2d(2, 4, 3, **kw), ["bias"]),
    "BatchNorm1d": (lambda lib, **kw: lib.nn.BatchNorm1d(3, **kw), ["affine", "track_running_stats"]),
    "LayerNorm": (lambda lib, **kw: lib.nn.LayerNorm(3, **kw), ["elementwise_affine", "bias"]),
    "GroupNorm": (lambda lib, **kw: lib.nn.GroupNorm(1, 3, **kw), ["affine"]),
    "ReLU": (lambda lib, **kw: lib.nn.ReLU(**kw), ["inplace"]),
    "Dropout": (lambda lib, **kw: lib.nn.Dropout(**kw), ["inplace"]),
    "MaxPool2d": (lambda lib, **kw: lib.nn.MaxPool2d(2, **kw), ["return_indices", "ceil_mode"]),
    "AvgPool2d": (lambda lib, **kw: lib.nn.AvgPool2d(2, **kw), ["ceil_mode", "count_include_pad"]),
    "AdaptiveMaxPool2d": (lambda lib, **kw: lib.nn.AdaptiveMaxPool2d(2, **kw), ["return_indices"]),
}


@st.composite
def flags(draw: Any) -> st.SearchStrategy:
    cls = draw(st.sampled_from(sorted(FLAGS)))
    make, names = FLAGS[cls]
    which = draw(st.sampled_from(names))
    return draw(arg(f"{cls}({which})", lambda lib, v: make(lib, **{which: v}), _kinded(NON_BOOLS, TypeError), which))


@st.composite
def linear_sizes(draw: Any) -> st.SearchStrategy:
    which = draw(st.sampled_from(["in_features", "out_features"]))
    make = lambda lib, v: lib.nn.Linear(**{"in_features": 3, "out_features": 3, which: v})  # noqa: E731
    return draw(arg(f"Linear({which})", make, bad_int(0), which))


POOLS = {
    "MaxPool2d": ["kernel_size", "stride", "padding", "dilation"],
    "AvgPool2d": ["kernel_size", "stride", "padding"],
}


@st.composite
def pool_window(draw: Any) -> st.SearchStrategy:
    cls = draw(st.sampled_from(sorted(POOLS)))
    which = draw(st.sampled_from(POOLS[cls]))
    minimum = 0 if which == "padding" else 1
    kw = {"kernel_size": 3}

    def make(lib: Any, v: Any) -> Any:
        return getattr(lib.nn, cls)(**{**kw, which: v})

    values = bad_ntuple(2, minimum)
    if which == "stride":  # None: the kernel size
        values = values.filter(lambda vk: vk[0] is not None)
    cases = [arg(f"{cls}({which})", make, values, which)]
    if which == "padding":  # more than half the kernel
        cases.append(arg(f"{cls}(padding > kernel_size / 2)", make, _kinded(st.integers(2, 5), ValueError), "padding"))
    return draw(st.one_of(*cases))


@st.composite
def adaptive_pool(draw: Any) -> st.SearchStrategy:
    cls = draw(st.sampled_from(["AdaptiveAvgPool2d", "AdaptiveMaxPool2d"]))
    values = st.one_of(
        st.integers(-9, -1),
        st.floats(allow_nan=True, width=32),
        st.booleans(),
        st.just((2, 2, 2)),
        st.just(()),
        st.just((2, -1)),
        st.just((2, 1.5)),
        st.just("2"),
    )
    # the output_size of the adaptive pools is a ValueError for any bad value (kept from the first version)
    return draw(
        arg(f"{cls}(output_size)", lambda lib, v: getattr(lib.nn, cls)(v), _kinded(values, ValueError), "output_size")
    )


NORM_SIZES = {
    ("BatchNorm1d", "num_features"): lambda lib, v: lib.nn.BatchNorm1d(v),
    ("BatchNorm2d", "num_features"): lambda lib, v: lib.nn.BatchNorm2d(v),
    ("GroupNorm", "num_groups"): lambda lib, v: lib.nn.GroupNorm(v, 4),
    ("GroupNorm", "num_channels"): lambda lib, v: lib.nn.GroupNorm(1, v),
    ("LocalResponseNorm", "size"): lambda lib, v: lib.nn.LocalResponseNorm(v),
}


@st.composite
def norm_sizes(draw: Any) -> st.SearchStrategy:
    cls, which = draw(st.sampled_from(sorted(NORM_SIZES)))
    return draw(arg(f"{cls}({which})", NORM_SIZES[cls, which], bad_int(1), which))


@st.composite
def group_norm_divisible(draw: Any) -> st.SearchStrategy:
    groups = draw(st.integers(2, 5))
    channels = draw(st.integers(1, 12).filter(lambda c: c % groups))
    return Bad(
        f"GroupNorm({groups}, {channels})", lambda lib: lib.nn.GroupNorm(groups, channels), ValueError, ("num_groups",)
    )


def layer_norm_shape() -> st.SearchStrategy:
    values = st.one_of(
        _kinded(st.integers(-5, 0), ValueError),
        _kinded(st.lists(st.integers(-3, 0), min_size=1, max_size=3), ValueError),
        _kinded(st.just([]), ValueError),
        _kinded(st.sampled_from(["5", 2.0, None, True, [2.5], [True]]), TypeError),
    )
    return arg("LayerNorm(normalized_shape)", lambda lib, v: lib.nn.LayerNorm(v), values, "normalized_shape")


NORM_NUMBERS = {
    ("BatchNorm2d", "eps"): (lambda lib, v: lib.nn.BatchNorm2d(3, eps=v), bad_number(0)),
    ("BatchNorm1d", "momentum"): (
        lambda lib, v: lib.nn.BatchNorm1d(3, momentum=v),
        _kinded(NON_NUMBERS.filter(lambda v: v is not None), TypeError),
    ),
    ("LayerNorm", "eps"): (lambda lib, v: lib.nn.LayerNorm(3, eps=v), bad_number(0)),
    ("GroupNorm", "eps"): (lambda lib, v: lib.nn.GroupNorm(1, 3, eps=v), bad_number(0)),
    ("LocalResponseNorm", "alpha"): (
        lambda lib, v: lib.nn.LocalResponseNorm(2, alpha=v),
        _kinded(NON_NUMBERS, TypeError),
    ),
    ("LocalResponseNorm", "beta"): (
        lambda lib, v: lib.nn.LocalResponseNorm(2, beta=v),
        _kinded(NON_NUMBERS, TypeError),
    ),
    ("LocalResponseNorm", "k"): (lambda lib, v: lib.nn.LocalResponseNorm(2, k=v), _kinded(NON_NUMBERS, TypeError)),
}


@st.composite
def norm_numbers(draw: Any) -> st.SearchStrategy:
    cls, which = draw(st.sampled_from(sorted(NORM_NUMBERS)))
    make, values = NORM_NUMBERS[cls, which]
    return draw(arg(f"{cls}({which})", make, values, which))


@st.composite
def dropout_p(draw: Any) -> st.SearchStrategy:
    cls = draw(st.sampled_from(["Dropout", "Dropout2d"]))
    values = st.one_of(bad_number(0, 1), _kinded(st.booleans(), TypeError))
    return draw(arg(f"{cls}(p)", lambda lib, v: getattr(lib.nn, cls)(v), values, "p:", "probability"))


ACTIVATION_ARGS = {
    ("LeakyReLU", "negative_slope"): (lambda lib, v: lib.nn.LeakyReLU(v), _kinded(NON_NUMBERS, TypeError)),
    ("ELU", "alpha"): (lambda lib, v: lib.nn.ELU(v), _kinded(NON_NUMBERS, TypeError)),
    ("GELU", "approximate"): (lambda lib, v: lib.nn.GELU(v), _kinded(st.sampled_from(["erf", "", "TANH"]), ValueError)),
    ("Softmax", "dim"): (lambda lib, v: lib.nn.Softmax(v), _kinded(st.sampled_from([1.0, "1", [1]]), TypeError)),
    ("LogSoftmax", "dim"): (lambda lib, v: lib.nn.LogSoftmax(v), _kinded(st.sampled_from([1.0, "1"]), TypeError)),
    ("Flatten", "start_dim"): (lambda lib, v: lib.nn.Flatten(v), _kinded(st.sampled_from([1.0, "1", None]), TypeError)),
    ("Flatten", "end_dim"): (
        lambda lib, v: lib.nn.Flatten(1, v),
        _kinded(st.sampled_from([1.5, "1", None]), TypeError),
    ),
}


@st.composite
def activation_args(draw: Any) -> st.SearchStrategy:
    cls, which = draw(st.sampled_from(sorted(ACTIVATION_ARGS)))
    make, values = ACTIVATION_ARGS[cls, which]
    return draw(arg(f"{cls}({which})", make, values, which))


LOSSES = ["CrossEntropyLoss", "NLLLoss", "MSELoss", "L1Loss", "BCELoss", "BCEWithLogitsLoss"]


@st.composite
def loss_args(draw: Any) -> st.SearchStrategy:
    cls = draw(st.sampled_from(LOSSES))
    cases = [
        arg(
            f"{cls}(reduction)",
            lambda lib, v: getattr(lib.nn, cls)(reduction=v),
            _kinded(st.sampled_from(["avg", "MEAN", "", None, 1]), ValueError),
            "reduction",
        ),
    ]
    if cls in ("CrossEntropyLoss", "NLLLoss", "BCELoss", "BCEWithLogitsLoss"):
        cases.append(
            arg(
                f"{cls}(weight)",
                lambda lib, v: getattr(lib.nn, cls)(weight=v),
                _kinded(st.sampled_from([[1.0, 2.0], np.ones(2), 1.0]), TypeError),
                "weight",
            )
        )
    if cls in ("CrossEntropyLoss", "NLLLoss"):
        cases.append(
            arg(
                f"{cls}(ignore_index)",
                lambda lib, v: getattr(lib.nn, cls)(ignore_index=v),
                _kinded(st.sampled_from([1.5, "1", None]), TypeError),
                "ignore_index",
            )
        )
    if cls == "CrossEntropyLoss":
        cases.append(
            arg(
                "CrossEntropyLoss(label_smoothing)",
                lambda lib, v: lib.nn.CrossEntropyLoss(label_smoothing=v),
                bad_number(0, 1),
                "label_smoothing",
            )
        )
    if cls == "BCEWithLogitsLoss":
        cases.append(
            arg(
                "BCEWithLogitsLoss(pos_weight)",
                lambda lib, v: lib.nn.BCEWithLogitsLoss(pos_weight=v),
                _kinded(st.sampled_from([[1.0], np.ones(2), 2.0]), TypeError),
                "pos_weight",
            )
        )
    return draw(st.one_of(*cases))


# -- forward -----------------------------------------------------------------------------------------------


def _call(make_layer: Callable[[Any], Any], make_input: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def call(lib: Any) -> Any:
        return make_layer(lib)(make_input(lib))

    return call


@st.composite
def linear_forward(draw: Any) -> st.SearchStrategy:
    fin = draw(SIZES)
    batch = draw(st.lists(SIZES, max_size=2))
    other = draw(SIZES.filter(lambda k: k != fin))
    layer = lambda lib: lib.nn.Linear(fin, 2)  # noqa: E731
    return draw(
        st.sampled_from(
            [
                Bad(
                    f"Linear({fin}) on (*, {other})",
                    _call(layer, lambda lib: lib.t(f32(*batch, other))),
                    RuntimeError,
                    ("in_features", "shape"),
                ),
                Bad(
                    f"Linear({fin}) on int64",
                    _call(layer, lambda lib: lib.t(i64(*batch, fin))),
                    RuntimeError,
                    ("dtype",),
                ),
                Bad(
                    f"Linear({fin}) on a 0-d tensor",
                    _call(layer, lambda lib: lib.t(np.float32(1))),
                    RuntimeError,
                    ("dim",),
                ),
                Bad(f"Linear({fin}) on an ndarray", _call(layer, lambda lib: f32(*batch, fin)), TypeError, ("tensor",)),
            ]
        )
    )


@st.composite
def conv_forward(draw: Any) -> st.SearchStrategy:
    cls = draw(st.sampled_from(sorted(CONVS)))
    n = CONVS[cls]
    cin, k = draw(SIZES), draw(st.integers(1, 3))
    layer = lambda lib: getattr(lib.nn, cls)(cin, 2, k)  # noqa: E731
    spatial = (k + 2,) * n
    rank = draw(st.sampled_from([r for r in range(0, n + 4) if r not in (n + 1, n + 2)]))
    other = draw(SIZES.filter(lambda c: c != cin))
    cases = [
        Bad(
            f"{cls} on {rank}-D input",
            _call(layer, lambda lib: lib.t(f32(*([cin] * rank)))),
            RuntimeError,
            ("input", "dim"),
        ),
        Bad(
            f"{cls}({cin}) on {other} channels",
            _call(layer, lambda lib: lib.t(f32(2, other, *spatial))),
            RuntimeError,
            ("channels",),
        ),
        Bad(
            f"{cls} on int64",
            _call(layer, lambda lib: lib.t(i64(2, cin, *spatial))),
            RuntimeError,
            ("dtype", "long", "int64"),
        ),
        Bad(f"{cls} on an ndarray", _call(layer, lambda lib: f32(2, cin, *spatial)), TypeError, ("tensor",)),
    ]
    if cls == "ConvTranspose2d":
        size, kind = draw(
            st.sampled_from(
                [
                    ((k + 9, k + 9), ValueError),
                    ((1, 1), ValueError),
                    ((5, 5, 5), ValueError),
                    (("a", 5), TypeError),
                    ((5.5, 5), TypeError),
                    (5, TypeError),
                ]
            )
        )
        cases.append(
            Bad(
                f"ConvTranspose2d(output_size={size!r})",
                lambda lib: layer(lib)(lib.t(f32(1, cin, 3, 3)), output_size=size),
                kind,
                ("output_size", "output size"),
            )
        )
    if cls != "ConvTranspose2d" and k > 1:
        small = (k - 1,) * n
        cases.append(
            Bad(
                f"{cls}(kernel {k}) on spatial {small}",
                _call(layer, lambda lib: lib.t(f32(1, cin, *small))),
                RuntimeError,
                ("kernel",),
            )
        )
    return draw(st.sampled_from(cases))


@st.composite
def pool_forward(draw: Any) -> st.SearchStrategy:
    cls = draw(st.sampled_from(["MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d"]))
    layer = lambda lib: getattr(lib.nn, cls)(2)  # noqa: E731
    rank = draw(st.sampled_from([0, 1, 2, 5]))
    cases = [
        Bad(
            f"{cls} on {rank}-D input",
            _call(layer, lambda lib: lib.t(f32(*([3] * rank)))),
            RuntimeError,
            ("input", "dim"),
        ),
        Bad(f"{cls} on an ndarray", _call(layer, lambda lib: f32(1, 2, 4, 4)), TypeError, ("tensor",)),
    ]
    if cls in ("MaxPool2d", "AvgPool2d"):
        size = draw(st.integers(3, 5))
        big = lambda lib: getattr(lib.nn, cls)(size + 1)  # noqa: E731
        cases.append(
            Bad(
                f"{cls}({size + 1}) on {size}x{size}",
                _call(big, lambda lib: lib.t(f32(1, 1, size, size))),
                RuntimeError,
                ("kernel", "size"),
            )
        )
    return draw(st.sampled_from(cases))


@st.composite
def norm_forward(draw: Any) -> st.SearchStrategy:
    c = draw(st.integers(2, 4))
    other = draw(st.integers(1, 5).filter(lambda k: k != c))
    cases = [
        Bad(
            "BatchNorm1d on 4-D",
            _call(lambda lib: lib.nn.BatchNorm1d(c), lambda lib: lib.t(f32(2, c, 3, 3))),
            ValueError,
            ("input",),
        ),
        Bad(
            "BatchNorm1d on 1-D",
            _call(lambda lib: lib.nn.BatchNorm1d(c), lambda lib: lib.t(f32(c))),
            ValueError,
            ("input",),
        ),
        Bad(
            "BatchNorm2d on 3-D",
            _call(lambda lib: lib.nn.BatchNorm2d(c), lambda lib: lib.t(f32(2, c, 3))),
            ValueError,
            ("input",),
        ),
        Bad(
            f"BatchNorm1d({c}) on {other} channels",
            _call(lambda lib: lib.nn.BatchNorm1d(c), lambda lib: lib.t(f32(4, other))),
            RuntimeError,
            ("running_mean", "channels", "elements"),
        ),
        Bad(
            "BatchNorm1d training on one value per channel",
            _call(lambda lib: lib.nn.BatchNorm1d(c), lambda lib: lib.t(f32(1, c))),
            ValueError,
            ("value per channel",),
        ),
        Bad(
            "BatchNorm2d on int64",
            _call(lambda lib: lib.nn.BatchNorm2d(c), lambda lib: lib.t(i64(2, c, 2, 2))),
            RuntimeError,
            ("dtype", "long", "int64"),
        ),
        Bad(
            f"LayerNorm({c}) on (*, {other})",
            _call(lambda lib: lib.nn.LayerNorm(c), lambda lib: lib.t(f32(2, other))),
            RuntimeError,
            ("normalized_shape",),
        ),
        Bad(
            "LayerNorm on int64",
            _call(lambda lib: lib.nn.LayerNorm(c), lambda lib: lib.t(i64(2, c))),
            RuntimeError,
            ("dtype", "long", "int64"),
        ),
        Bad(
            f"GroupNorm(1, {c}) on {other} channels",
            _call(lambda lib: lib.nn.GroupNorm(1, c), lambda lib: lib.t(f32(2, other, 3))),
            RuntimeError,
            ("channels",),
        ),
        Bad(
            "GroupNorm on 1-D",
            _call(lambda lib: lib.nn.GroupNorm(1, c), lambda lib: lib.t(f32(c))),
            RuntimeError,
            ("input", "dim"),
        ),
        Bad(
            "LocalResponseNorm on 2-D",
            _call(lambda lib: lib.nn.LocalResponseNorm(2), lambda lib: lib.t(f32(2, c))),
            ValueError,
            ("3d", "dimension"),
        ),
    ]
    return draw(st.sampled_from(cases))


@st.composite
def misc_forward(draw: Any) -> st.SearchStrategy:
    ndim = draw(st.integers(1, 3))
    x = lambda lib: lib.t(f32(*([2] * ndim)))  # noqa: E731
    out_of_range = draw(st.sampled_from([ndim, ndim + 1, -ndim - 1, -ndim - 3]))
    cases = [
        Bad(
            f"Flatten({out_of_range}) on {ndim}-D",
            _call(lambda lib: lib.nn.Flatten(out_of_range, -1), x),
            IndexError,
            ("dim", "range"),
        ),
        Bad(
            f"Softmax({out_of_range}) on {ndim}-D",
            _call(lambda lib: lib.nn.Softmax(out_of_range), x),
            IndexError,
            ("dim", "range"),
        ),
        Bad(
            f"LogSoftmax({out_of_range}) on {ndim}-D",
            _call(lambda lib: lib.nn.LogSoftmax(out_of_range), x),
            IndexError,
            ("dim", "range"),
        ),
        Bad(
            "Dropout2d on 1-D",
            _call(lambda lib: lib.nn.Dropout2d(0.5), lambda lib: lib.t(f32(4))),
            RuntimeError,
            ("dim", "input"),
        ),
        Bad(
            "Dropout on int64",
            _call(lambda lib: lib.nn.Dropout(0.5), lambda lib: lib.t(i64(4))),
            RuntimeError,
            ("dtype", "long", "int64", "float"),
        ),
    ]
    if ndim >= 2:
        cases.append(
            Bad(
                f"Flatten({ndim - 1}, 0) on {ndim}-D",
                _call(lambda lib: lib.nn.Flatten(ndim - 1, 0), x),
                RuntimeError,
                ("start_dim",),
            )
        )
    return draw(st.sampled_from(cases))


ACTIVATIONS = [
    "ReLU",
    "LeakyReLU",
    "ELU",
    "GELU",
    "SiLU",
    "Sigmoid",
    "Tanh",
    "Softmax",
    "LogSoftmax",
    "Dropout",
    "Flatten",
    "Identity",
]
INT_FAILS = ["LeakyReLU", "ELU", "GELU", "SiLU", "Softmax", "LogSoftmax"]  # float-only in PyTorch


@st.composite
def activation_forward(draw: Any) -> st.SearchStrategy:
    cls = draw(st.sampled_from(ACTIVATIONS))

    def layer(lib: Any) -> Any:
        return getattr(lib.nn, cls)(1) if cls in ("Softmax", "LogSoftmax") else getattr(lib.nn, cls)()

    cases = []
    if cls != "Identity":
        value = draw(NON_TENSORS)
        cases.append(Bad(f"{cls} on {type(value).__name__}", _call(layer, lambda lib: value), TypeError, ("tensor",)))
    if cls in INT_FAILS:
        cases.append(
            Bad(
                f"{cls} on int64",
                _call(layer, lambda lib: lib.t(i64(2, 3))),
                RuntimeError,
                ("dtype", "long", "int64", "float"),
            )
        )
    if not cases:  # Identity returns anything as it is, as PyTorch's
        cases.append(
            Bad(
                "Softmax() with no dim",
                _call(lambda lib: lib.nn.Softmax(), lambda lib: lib.t(f32(2, 3))),
                TypeError,
                ("dim",),
            )
        )
    return draw(st.sampled_from(cases))


@st.composite
def loss_forward(draw: Any) -> st.SearchStrategy:
    n, c = draw(st.integers(1, 4)), draw(st.integers(2, 4))
    m = draw(st.integers(1, 5).filter(lambda k: k != n))
    bad_class = draw(st.sampled_from([c, c + 3, -2]))

    def ce(lib: Any, **kw: Any) -> Any:
        return lib.nn.CrossEntropyLoss(**kw)

    def loss(cls: str, x: Callable[[Any], Any], y: Callable[[Any], Any], **kw: Any) -> Callable[[Any], Any]:
        return lambda lib: getattr(lib.nn, cls)(**kw)(x(lib), y(lib))

    logits = lambda lib: lib.t(f32(n, c))  # noqa: E731
    cases = [
        Bad(
            f"CrossEntropyLoss: batch {n} vs target {m}",
            loss("CrossEntropyLoss", logits, lambda lib: lib.t(i64(m, high=c))),
            ValueError,
            ("batch size", "batch_size"),
        ),
        Bad(
            f"NLLLoss: batch {n} vs target {m}",
            loss("NLLLoss", logits, lambda lib: lib.t(i64(m, high=c))),
            ValueError,
            ("batch size", "batch_size"),
        ),
        Bad(
            f"CrossEntropyLoss: class {bad_class} of {c}",
            loss("CrossEntropyLoss", logits, lambda lib: lib.t(np.full(n, bad_class, np.int64))),
            IndexError,
            ("target", "out of bounds"),
        ),
        Bad(
            f"NLLLoss: class {bad_class} of {c}",
            loss("NLLLoss", logits, lambda lib: lib.t(np.full(n, bad_class, np.int64))),
            IndexError,
            ("target", "out of bounds"),
        ),
        Bad(
            "CrossEntropyLoss: probabilities of another shape",
            loss("CrossEntropyLoss", logits, lambda lib: lib.t(f32(n, c + 1))),
            RuntimeError,
            ("target", "shape"),
        ),
        Bad(
            "CrossEntropyLoss: int64 logits",
            loss("CrossEntropyLoss", lambda lib: lib.t(i64(n, c)), lambda lib: lib.t(i64(n, high=c))),
            RuntimeError,
            ("dtype", "long", "int64", "float"),
        ),
        Bad(
            f"CrossEntropyLoss: weight of {c + 1} for {c} classes",
            lambda lib: ce(lib, weight=lib.t(np.ones(c + 1, np.float32)))(logits(lib), lib.t(i64(n, high=c))),
            RuntimeError,
            ("weight",),
        ),
        Bad(
            "MSELoss: shapes that do not broadcast",
            loss("MSELoss", logits, lambda lib: lib.t(f32(n, c + 1))),
            RuntimeError,
            ("size", "shape"),
        ),
        Bad(
            "L1Loss: shapes that do not broadcast",
            loss("L1Loss", logits, lambda lib: lib.t(f32(n, c + 1))),
            RuntimeError,
            ("size", "shape"),
        ),
        Bad(
            "BCELoss: target of another shape",
            loss(
                "BCELoss",
                lambda lib: lib.t(np.full((n, c), 0.5, np.float32)),
                lambda lib: lib.t(np.zeros((n, c + 1), np.float32)),
            ),
            ValueError,
            ("target size", "target"),
        ),
        Bad(
            "BCELoss: input outside [0, 1]",
            loss(
                "BCELoss",
                lambda lib: lib.t(np.full((n, c), 1.5, np.float32)),
                lambda lib: lib.t(np.zeros((n, c), np.float32)),
            ),
            RuntimeError,
            ("between 0 and 1", "[0, 1]"),
        ),
        Bad(
            "BCEWithLogitsLoss: target of another shape",
            loss("BCEWithLogitsLoss", logits, lambda lib: lib.t(np.zeros((n, c + 1), np.float32))),
            ValueError,
            ("target size", "target"),
        ),
    ]
    return draw(st.sampled_from(cases))


# -- optimizers and schedulers -----------------------------------------------------------------------------

OPTIMIZER_OPTIONS = {
    "SGD": {"lr": "learning rate", "momentum": "momentum", "weight_decay": "weight_decay"},
    "Adam": {"lr": "learning rate", "eps": "epsilon", "weight_decay": "weight_decay"},
    "AdamW": {"lr": "learning rate", "eps": "epsilon", "weight_decay": "weight_decay"},
    "RMSprop": {
        "lr": "learning rate",
        "eps": "epsilon",
        "weight_decay": "weight_decay",
        "momentum": "momentum",
        "alpha": "alpha",
    },
    "Adagrad": {
        "lr": "learning rate",
        "lr_decay": "lr_decay",
        "weight_decay": "weight_decay",
        "eps": "epsilon",
        "initial_accumulator_value": "initial_accumulator_value",
    },
}


def _param(lib: Any) -> Any:
    return lib.t(np.zeros(2, np.float32), requires_grad=True)


@st.composite
def optimizer_options(draw: Any) -> st.SearchStrategy:
    cls = draw(st.sampled_from(sorted(OPTIMIZER_OPTIONS)))
    which = draw(st.sampled_from(sorted(OPTIMIZER_OPTIONS[cls])))
    make = lambda lib, v: getattr(lib.optim, cls)([_param(lib)], **{which: v})  # noqa: E731
    values = bad_number(0, types=False) | _kinded(st.sampled_from(["0.1", None, [0.1]]), TypeError)
    return draw(arg(f"{cls}({which})", make, values, OPTIMIZER_OPTIONS[cls][which], which))


@st.composite
def adam_betas(draw: Any) -> st.SearchStrategy:
    cls = draw(st.sampled_from(["Adam", "AdamW"]))
    out = st.one_of(st.floats(-5, 0, exclude_max=True), st.floats(1, 5), st.just(math.nan))

    @st.composite
    def one_bad(d: Any) -> tuple[Any, type[BaseException]]:
        betas = [0.9, 0.999]
        betas[d(st.integers(0, 1))] = d(out)
        return tuple(betas), ValueError

    values = st.one_of(
        one_bad(),
        _kinded(st.sampled_from([(0.9,), (0.9, 0.99, 0.999), ()]), ValueError),
        _kinded(st.sampled_from([0.9, None, "ab", (0.9, "0.99"), ("a", "b")]), TypeError),
    )
    return draw(arg(f"{cls}(betas)", lambda lib, v: getattr(lib.optim, cls)([_param(lib)], betas=v), values, "beta"))


@st.composite
def optimizer_params(draw: Any) -> st.SearchStrategy:
    cls = draw(st.sampled_from(sorted(OPTIMIZER_OPTIONS)))
    make = lambda lib, params: getattr(lib.optim, cls)(params(lib), lr=0.1)  # noqa: E731
    cases = [
        Bad(f"{cls}([])", lambda lib: make(lib, lambda _: []), ValueError, ("empty",)),
        Bad(f"{cls}(tensor)", lambda lib: make(lib, _param), TypeError, ("params", "iterable")),
        Bad(f"{cls}([ndarray])", lambda lib: make(lib, lambda _: [np.zeros(2)]), TypeError, ("params", "tensor")),
        Bad(f"{cls}([non-leaf])", lambda lib: make(lib, lambda lb: [_param(lb) * 2]), ValueError, ("leaf",)),
        Bad(
            f"{cls}({{tensor}})",
            lambda lib: make(lib, lambda lb: [{"params": {_param(lb)}}]),
            TypeError,
            ("ordered", "set"),
        ),
        Bad(f"{cls}([{{}}])", lambda lib: make(lib, lambda _: [{"lr": 0.1}]), ValueError, ("params",)),
    ]
    if cls == "SGD":
        bad = draw(st.sampled_from([{"momentum": 0}, {"momentum": 0.9, "dampening": 0.5}]))
        cases.append(
            Bad(
                f"SGD(nesterov=True, {bad})",
                lambda lib: lib.optim.SGD([_param(lib)], nesterov=True, **bad),
                ValueError,
                ("nesterov",),
            )
        )
    return draw(st.sampled_from(cases))


@st.composite
def optimizer_state_dict(draw: Any) -> st.SearchStrategy:
    cls = draw(st.sampled_from(sorted(OPTIMIZER_OPTIONS)))

    def trained(lib: Any, shapes: tuple[tuple[int, ...], ...], groups: int = 1) -> Any:
        params = [lib.t(np.ones(s, np.float32), requires_grad=True) for s in shapes]
        spec = [{"params": params[i::groups]} for i in range(groups)] if groups > 1 else params
        opt = getattr(lib.optim, cls)(spec, lr=0.1, **({"momentum": 0.9} if cls in ("SGD", "RMSprop") else {}))
        for p in params:
            p.grad = lib.t(np.ones(p.shape, np.float32))
        opt.step()
        return opt

    def load(into: Callable[[Any], Any], state: Callable[[Any], Any]) -> Callable[[Any], Any]:
        return lambda lib: into(lib).load_state_dict(state(lib))

    base = lambda lib: trained(lib, ((2,), (3,)))  # noqa: E731
    grad_shape = draw(st.sampled_from([(1,), (2, 1), (), (3,)]))

    def wrong_grad(lib: Any) -> Any:
        p = lib.t(np.ones(2, np.float32), requires_grad=True)
        opt = getattr(lib.optim, cls)([p], lr=0.1)
        p.grad = lib.t(np.ones(grad_shape, np.float32))
        opt.step()

    cases = [
        Bad(f"{cls}.step() with a grad of shape {grad_shape} for (2,)", wrong_grad, RuntimeError, ("grad",)),
        Bad(
            f"{cls}: state dict with 2 groups into 1",
            load(base, lambda lib: trained(lib, ((2,), (3,)), 2).state_dict()),
            ValueError,
            ("parameter groups",),
        ),
        Bad(
            f"{cls}: group of 1 parameter into 2",
            load(base, lambda lib: trained(lib, ((2,),)).state_dict()),
            ValueError,
            ("size", "group"),
        ),
        Bad(f"{cls}: no 'param_groups'", load(base, lambda lib: {"state": {}}), KeyError, ("param_groups",)),
        Bad(f"{cls}: a list as state dict", load(base, lambda lib: [1, 2]), TypeError, ("state_dict", "dict")),
    ]
    return draw(st.sampled_from(cases))


@st.composite
def module_state_dict(draw: Any) -> st.SearchStrategy:
    def model(lib: Any, width: int = 2) -> Any:
        return lib.nn.Sequential(lib.nn.Linear(3, width), lib.nn.BatchNorm1d(width))

    def load(state: Callable[[Any], Any], strict: bool = True) -> Callable[[Any], Any]:
        return lambda lib: model(lib).load_state_dict(state(lib), strict=strict)

    width = draw(st.integers(3, 5))
    extra = draw(st.sampled_from(["0.bias2", "2.weight", "weight", "1.running_mean.x"]))
    dropped = draw(st.sampled_from(["0.weight", "1.num_batches_tracked", "1.running_var"]))

    def without(lib: Any) -> dict:
        sd = dict(model(lib).state_dict())
        del sd[dropped]
        return sd

    cases = [
        Bad(
            f"unexpected key {extra!r}",
            load(lambda lib: {**model(lib).state_dict(), extra: lib.t(np.zeros(2))}),
            RuntimeError,
            ("unexpected key",),
        ),
        Bad(f"missing key {dropped!r}", load(without), RuntimeError, ("missing key",)),
        Bad(
            f"shapes of width {width}",
            load(lambda lib: model(lib, width).state_dict()),
            RuntimeError,
            ("size mismatch",),
        ),
        Bad(
            f"shapes of width {width}, strict=False",
            load(lambda lib: model(lib, width).state_dict(), strict=False),
            RuntimeError,
            ("size mismatch",),
        ),
        Bad("a list of values", load(lambda lib: list(model(lib).state_dict().values())), TypeError, ("state_dict",)),
        Bad(
            "a list as a value",
            load(lambda lib: {**model(lib).state_dict(), "0.bias": [0.0, 0.0]}),
            RuntimeError,
            ("0.bias",),
        ),
    ]
    return draw(st.sampled_from(cases))


def _sgd(lib: Any) -> Any:
    return lib.optim.SGD([_param(lib)], lr=0.1, momentum=0.9)


SCHEDULER_ARGS = {
    ("StepLR", "step_size"): (lambda lib, v: lib.sched.StepLR(_sgd(lib), step_size=v), bad_int(1)),
    ("StepLR", "gamma"): (lambda lib, v: lib.sched.StepLR(_sgd(lib), 2, gamma=v), bad_number(0, min_ok=False)),
    ("StepLR", "last_epoch"): (
        lambda lib, v: lib.sched.StepLR(_sgd(lib), 2, last_epoch=v),
        bad_int(-1).filter(lambda vk: vk[0] is not None),
    ),
    ("MultiStepLR", "milestones"): (
        lambda lib, v: lib.sched.MultiStepLR(_sgd(lib), [2, v]),
        bad_int(0).filter(lambda vk: not isinstance(vk[0], (list, tuple, dict, bytes))),
    ),
    ("ExponentialLR", "gamma"): (lambda lib, v: lib.sched.ExponentialLR(_sgd(lib), v), bad_number(0, min_ok=False)),
    ("CosineAnnealingLR", "T_max"): (
        lambda lib, v: lib.sched.CosineAnnealingLR(_sgd(lib), v),
        bad_number(0, min_ok=False),
    ),
    ("CosineAnnealingLR", "eta_min"): (
        lambda lib, v: lib.sched.CosineAnnealingLR(_sgd(lib), 5, eta_min=v),
        bad_number(0, types=False),
    ),
    ("LinearLR", "start_factor"): (
        lambda lib, v: lib.sched.LinearLR(_sgd(lib), start_factor=v),
        bad_number(0, 1, min_ok=False),
    ),
    ("LinearLR", "end_factor"): (lambda lib, v: lib.sched.LinearLR(_sgd(lib), end_factor=v), bad_number(0, 1)),
    ("LinearLR", "total_iters"): (lambda lib, v: lib.sched.LinearLR(_sgd(lib), total_iters=v), bad_int(1)),
    ("OneCycleLR", "total_steps"): (
        lambda lib, v: lib.sched.OneCycleLR(_sgd(lib), 1.0, total_steps=v),
        bad_int(1).filter(lambda vk: vk[0] is not None),
    ),
    ("OneCycleLR", "pct_start"): (
        lambda lib, v: lib.sched.OneCycleLR(_sgd(lib), 1.0, 10, pct_start=v),
        bad_number(0, 1),
    ),
    ("OneCycleLR", "anneal_strategy"): (
        lambda lib, v: lib.sched.OneCycleLR(_sgd(lib), 1.0, 10, anneal_strategy=v),
        _kinded(st.sampled_from(["exp", "COS", None]), ValueError),
    ),
    ("OneCycleLR", "max_lr"): (
        lambda lib, v: lib.sched.OneCycleLR(_sgd(lib), v, 10),
        _kinded(st.sampled_from([[1.0, 2.0], [], (1.0, 2.0, 3.0)]), ValueError),
    ),
    ("ReduceLROnPlateau", "mode"): (
        lambda lib, v: lib.sched.ReduceLROnPlateau(_sgd(lib), mode=v),
        _kinded(st.sampled_from(["avg", "MIN", None]), ValueError),
    ),
    ("ReduceLROnPlateau", "threshold_mode"): (
        lambda lib, v: lib.sched.ReduceLROnPlateau(_sgd(lib), threshold_mode=v),
        _kinded(st.sampled_from(["pct", None]), ValueError),
    ),
    ("ReduceLROnPlateau", "factor"): (
        lambda lib, v: lib.sched.ReduceLROnPlateau(_sgd(lib), factor=v),
        bad_number(0, 1, max_ok=False),
    ),
    ("ReduceLROnPlateau", "min_lr"): (
        lambda lib, v: lib.sched.ReduceLROnPlateau(_sgd(lib), min_lr=v),
        _kinded(st.sampled_from([[0.1, 0.1], [], -0.5]), ValueError),
    ),
}
SCHEDULER_NAMES = {"milestones": "milestones", "max_lr": "max_lr", "min_lr": "min_lr"}


@st.composite
def scheduler_args(draw: Any) -> st.SearchStrategy:
    cls, which = draw(st.sampled_from(sorted(SCHEDULER_ARGS)))
    make, values = SCHEDULER_ARGS[cls, which]
    # every bad scheduler argument is a ValueError, as PyTorch's OneCycleLR does for its own
    values = values.map(lambda vk: (vk[0], ValueError))
    return draw(arg(f"{cls}({which})", make, values, which))


@st.composite
def scheduler_optimizer(draw: Any) -> st.SearchStrategy:
    cls = draw(
        st.sampled_from(["StepLR", "ExponentialLR", "CosineAnnealingLR", "LinearLR", "OneCycleLR", "ReduceLROnPlateau"])
    )
    value = draw(st.sampled_from([None, [1, 2], "sgd"]))
    args = {"StepLR": (2,), "ExponentialLR": (0.5,), "CosineAnnealingLR": (5,), "OneCycleLR": (1.0, 10)}.get(cls, ())
    metric, kind = draw(st.sampled_from([("low", ValueError), (None, TypeError), ([0.5], TypeError)]))
    return draw(
        st.sampled_from(
            [
                Bad(f"{cls}({value!r})", lambda lib: getattr(lib.sched, cls)(value, *args), TypeError, ("optimizer",)),
                Bad(
                    f"ReduceLROnPlateau.step({metric!r})",
                    lambda lib: lib.sched.ReduceLROnPlateau(_sgd(lib)).step(metric),
                    kind,
                    ("metrics",),
                ),
            ]
        )
    )


# -- data ------------------------------------------------------------------------------------------------


def _dataset(lib: Any, n: int = 6) -> Any:
    return lib.data.TensorDataset(lib.t(f32(n, 2)), lib.t(i64(n)))


@st.composite
def dataloader_args(draw: Any) -> st.SearchStrategy:
    cases = [
        arg(
            "DataLoader(batch_size)",
            lambda lib, v: lib.data.DataLoader(_dataset(lib), batch_size=v),
            bad_int(1).filter(lambda vk: vk[0] is not None),
            "batch_size",
        ),
        arg(
            "DataLoader(num_workers)",
            lambda lib, v: lib.data.DataLoader(_dataset(lib), num_workers=v),
            _kinded(st.integers(-9, -1), ValueError),
            "num_workers",
        ),
        arg(
            "DataLoader(collate_fn)",
            lambda lib, v: lib.data.DataLoader(_dataset(lib), collate_fn=v),
            _kinded(st.sampled_from([3, "stack"]), TypeError),
            "collate_fn",
        ),
        arg(
            "DataLoader(dataset)",
            lambda lib, v: lib.data.DataLoader(v),
            _kinded(st.sampled_from([5, None, 2.0]), TypeError),
            "dataset",
        ),
    ]
    return draw(st.one_of(*cases))


@st.composite
def random_split_args(draw: Any) -> st.SearchStrategy:
    n = draw(st.integers(2, 12))
    # (ints summing to 1 are fractions, 100% in the first split, as PyTorch reads them)
    not_summing = st.lists(st.integers(0, n), min_size=1, max_size=4).filter(lambda ls: sum(ls) not in (1, n))
    fractions = st.lists(st.floats(0.01, 0.9), min_size=1, max_size=4).filter(lambda ls: not math.isclose(sum(ls), 1))
    negative = st.integers(1, 5).map(lambda k: [-k, n + k])
    values = st.one_of(
        _kinded(not_summing, ValueError),
        _kinded(fractions, ValueError),
        _kinded(negative, ValueError),
        _kinded(st.just([]), ValueError),
        _kinded(st.sampled_from([["5", "5"], [None], [[1]]]), TypeError),
    )
    return draw(arg(f"random_split(range({n}))", lambda lib, v: lib.data.random_split(range(n), v), values, "length"))


@st.composite
def dataset_args(draw: Any) -> st.SearchStrategy:
    n = draw(st.integers(1, 5))
    m = draw(st.integers(1, 6).filter(lambda k: k != n))
    cases = [
        Bad(
            f"TensorDataset of {n} and {m} rows",
            lambda lib: lib.data.TensorDataset(lib.t(f32(n, 2)), lib.t(i64(m))),
            ValueError,
            ("size mismatch",),
        ),
        Bad(
            "TensorDataset of a 0-d tensor",
            lambda lib: lib.data.TensorDataset(lib.t(np.float32(1))),
            ValueError,
            ("0-dimensional", "dimension"),
        ),
        Bad("TensorDataset of a list", lambda lib: lib.data.TensorDataset([1.0] * n), TypeError, ("tensors",)),
        Bad("default_collate([])", lambda lib: lib.data.default_collate([]), ValueError, ("empty",)),
        Bad(
            "collate of unequal samples",
            lambda lib: lib.data.default_collate([lib.t(f32(n)), lib.t(f32(m))]),
            RuntimeError,
            ("equal size",),
        ),
        Bad(
            f"Subset index {n} of {n}",
            lambda lib: lib.data.Subset(_dataset(lib), list(range(n)))[n],
            IndexError,
            ("index", "range"),
        ),
        Bad(
            "ConcatDataset of an int", lambda lib: lib.data.ConcatDataset([_dataset(lib), 5]), TypeError, ("datasets",)
        ),
        Bad(
            f"ConcatDataset index {2 * n} of {2 * n}",
            lambda lib: lib.data.ConcatDataset([_dataset(lib, n)] * 2)[2 * n],
            IndexError,
            ("index", "range"),
        ),
    ]
    return draw(st.sampled_from(cases))


# -- transforms (ours only: torchvision is not a test dependency) ----------------------------------------

_IMG = np.arange(2 * 6 * 6, dtype=np.uint8).reshape(2, 6, 6)


@st.composite
def transform_args(draw: Any) -> st.SearchStrategy:
    pair_of_sizes = st.one_of(
        _kinded(st.integers(-5, 0), ValueError),
        _kinded(st.just((3, 0)), ValueError),
        _kinded(st.sampled_from([(2, 2, 2), ()]), ValueError),
        _kinded(st.sampled_from([2.5, True, "3", None, (2, "2"), (2.0, 2)]), TypeError),
    )
    shifts = st.one_of(
        _kinded(st.integers(-5, -1), ValueError),
        _kinded(st.just((1, -2)), ValueError),
        _kinded(st.sampled_from([1.5, True, "2", None, (1, 0.5)]), TypeError),
    )
    paddings = st.one_of(
        _kinded(st.integers(-5, -1), ValueError),
        _kinded(st.sampled_from([(1, 2, 3), (1, -1)]), ValueError),
        _kinded(st.sampled_from([1.5, True, "2", (1.0, 2)]), TypeError),
    )
    probabilities = bad_number(0, 1)
    cases = [
        arg("RandomCrop(size)", lambda lib, v: T.RandomCrop(v), pair_of_sizes, "size"),
        arg("RandomCrop(padding)", lambda lib, v: T.RandomCrop(4, padding=v), paddings, "padding"),
        arg(
            "RandomCrop(padding_mode)",
            lambda lib, v: T.RandomCrop(4, padding=1, padding_mode=v),
            _kinded(st.sampled_from(["wrap", "zeros", None]), ValueError),
            "padding_mode",
        ),
        arg("RandomShift(max_shift)", lambda lib, v: T.RandomShift(v), shifts, "max_shift"),
        arg("RandomHorizontalFlip(p)", lambda lib, v: T.RandomHorizontalFlip(v), probabilities, "p must"),
        arg(
            "RandomAffine(degrees)",
            lambda lib, v: T.RandomAffine(v),
            _kinded(st.sampled_from([-1, -30.5, (1, 2, 3), (5,)]), ValueError)
            | _kinded(st.sampled_from(["ab", None, (1, "2")]), TypeError),
            "degrees",
        ),
        arg(
            "RandomAffine(translate)",
            lambda lib, v: T.RandomAffine(0, translate=v),
            _kinded(st.sampled_from([(0.1, 1.5), (-0.1, 0.1), (0.1,)]), ValueError)
            | _kinded(st.sampled_from([0.1, "ab", (0.1, "a")]), TypeError),
            "translate",
        ),
        arg(
            "RandomAffine(scale)",
            lambda lib, v: T.RandomAffine(0, scale=v),
            _kinded(st.sampled_from([(0.0, 1.0), (-1, 2), (0.9,)]), ValueError)
            | _kinded(st.sampled_from([1.0, "ab", (1, None)]), TypeError),
            "scale",
        ),
        arg(
            "RandomAffine(interpolation)",
            lambda lib, v: T.RandomAffine(0, interpolation=v),
            _kinded(st.sampled_from(["cubic", None]), ValueError),
            "interpolation",
        ),
        arg(
            "Normalize(std)",
            lambda lib, v: T.Normalize(0.5, v),
            _kinded(st.sampled_from([0, [1, 0], 0.0]), ValueError)
            | _kinded(st.sampled_from(["a", None, [1, "a"]]), TypeError),
            "std",
        ),
        arg(
            "Normalize(mean)",
            lambda lib, v: T.Normalize(v, 1.0),
            _kinded(st.sampled_from([[[0.5], [0.5]]]), ValueError)
            | _kinded(st.sampled_from(["a", None, ["x"]]), TypeError),
            "mean",
        ),
        arg(
            "Compose(transforms)",
            lambda lib, v: T.Compose(v),
            _kinded(st.sampled_from([[3], [None], 5, T.ToTensor()]), TypeError),
            "transforms",
        ),
        arg(
            "Lambda(lambd)",
            lambda lib, v: T.Lambda(v),
            _kinded(st.sampled_from([3, None]), TypeError),
            "lambd",
            "callable",
        ),
    ]
    return draw(st.one_of(*cases))


TRANSFORMS = {
    "ToTensor": lambda: T.ToTensor(),
    "RandomCrop": lambda: T.RandomCrop(4),
    "RandomShift": lambda: T.RandomShift(1),
    "RandomHorizontalFlip": lambda: T.RandomHorizontalFlip(1.0),
    "RandomAffine": lambda: T.RandomAffine(10),
    "Normalize": lambda: T.Normalize(0.5, 0.5),
}


@st.composite
def transform_calls(draw: Any) -> st.SearchStrategy:
    name = draw(st.sampled_from(sorted(TRANSFORMS)))
    make = TRANSFORMS[name]
    floats = _IMG.astype(np.float32)
    rank = draw(st.sampled_from([0, 1] if name == "Normalize" else [0, 1, 4]))
    cases = [
        Bad(f"{name} on a list", lambda lib: make()(floats.tolist()), TypeError, ("array",)),
        Bad(f"{name} on a Tensor", lambda lib: make()(tc.tensor(floats)), TypeError, ("array",)),
        Bad(f"{name} on {rank}-D", lambda lib: make()(np.zeros((3,) * rank, np.float32)), ValueError, ("shape",)),
    ]
    if name == "ToTensor":
        cases.append(Bad("ToTensor on int16", lambda lib: make()(_IMG.astype(np.int16)), TypeError, ("dtype",)))
    if name == "Normalize":
        cases.append(
            Bad(
                "Normalize of 3 channels on 2",
                lambda lib: T.Normalize([0, 0, 0], [1, 1, 1])(floats),
                ValueError,
                ("channels",),
            )
        )
        cases.append(Bad("Normalize on uint8", lambda lib: make()(_IMG), TypeError, ("floating",)))
    if name == "RandomCrop":
        size = draw(st.integers(7, 9))
        cases.append(
            Bad(f"RandomCrop({size}) of 6x6", lambda lib: T.RandomCrop(size)(_IMG), ValueError, ("crop size",))
        )
    return draw(st.sampled_from(cases))


# -- nn.init and nn.utils ---------------------------------------------------------------------------------

INITS = ["kaiming_uniform_", "kaiming_normal_", "xavier_uniform_", "xavier_normal_"]


@st.composite
def init_args(draw: Any) -> st.SearchStrategy:
    fn = draw(st.sampled_from(INITS))
    rank = draw(st.sampled_from([0, 1]))
    call = lambda lib, *a, **kw: getattr(lib.init, fn)(*a, **kw)  # noqa: E731
    cases = [
        Bad(
            f"{fn} on {rank}-D",
            lambda lib: call(lib, lib.t(np.zeros((3,) * rank, np.float32))),
            ValueError,
            ("dimensions",),
        ),
        Bad(f"{fn} on an ndarray", lambda lib: call(lib, np.zeros((3, 3), np.float32)), TypeError, ("tensor",)),
        Bad(f"{fn} on int64", lambda lib: call(lib, lib.t(np.zeros((3, 3), np.int64))), TypeError, ("floating",)),
    ]
    if fn.startswith("kaiming"):
        mode = draw(st.sampled_from(["fan_avg", "", None, 1]))
        cases.append(
            Bad(
                f"{fn}(mode={mode!r})",
                lambda lib: call(lib, lib.t(np.zeros((3, 3), np.float32)), mode=mode),
                ValueError,
                ("mode",),
            )
        )
        nl = draw(st.sampled_from(["swish", "gelu", "ReLU"]))
        cases.append(
            Bad(
                f"{fn}(nonlinearity={nl!r})",
                lambda lib: call(lib, lib.t(np.zeros((3, 3), np.float32)), nonlinearity=nl),
                ValueError,
                ("nonlinearity",),
            )
        )
    gain = draw(st.sampled_from([("softsign", None), ("leaky_relu", "0.1"), ("leaky_relu", True), ("LINEAR", None)]))
    cases.append(
        Bad(
            f"calculate_gain{gain}",
            lambda lib: lib.init.calculate_gain(*gain),
            ValueError,
            ("nonlinearity", "negative_slope"),
        )
    )
    bound = draw(st.floats(-5, -0.01))
    cases.append(
        Bad(
            f"normal_(std={bound})",
            lambda lib: lib.init.normal_(lib.t(np.zeros(3, np.float32)), 0, bound),
            RuntimeError,
            ("std",),
        )
    )
    cases.append(
        Bad(
            f"uniform_(1, {bound})",
            lambda lib: lib.init.uniform_(lib.t(np.zeros(3, np.float32)), 1, bound),
            RuntimeError,
            ("from", "range"),
        )
    )
    return draw(st.sampled_from(cases))


def _params_with_grads(lib: Any) -> list:
    params = [lib.t(np.ones((2, 2), np.float32), requires_grad=True) for _ in range(2)]
    for p in params:
        p.grad = lib.t(np.ones((2, 2), np.float32))
    return params


@st.composite
def utils_args(draw: Any) -> st.SearchStrategy:
    n = draw(st.integers(1, 7).filter(lambda k: k != 8))
    cases = [
        arg(
            "clip_grad_norm_(max_norm)",
            lambda lib, v: lib.utils.clip_grad_norm_(_params_with_grads(lib), v),
            _kinded(st.sampled_from(["a", "one"]), ValueError),
            "max_norm",
        ),
        arg(
            "clip_grad_norm_(norm_type)",
            lambda lib, v: lib.utils.clip_grad_norm_(_params_with_grads(lib), 1.0, norm_type=v),
            _kinded(st.sampled_from(["two", "x"]), ValueError),
            "norm_type",
        ),
        arg(
            "clip_grad_value_(clip_value)",
            lambda lib, v: lib.utils.clip_grad_value_(_params_with_grads(lib), v),
            _kinded(st.sampled_from([None, [1.0]]), TypeError),
            "clip_value",
        ),
        fixed("parameters_to_vector([])", lambda lib: lib.utils.parameters_to_vector([]), ValueError, "one", "empty"),
        fixed(
            "clip_grad_norm_([ndarray])", lambda lib: lib.utils.clip_grad_norm_([np.zeros(3)], 1.0), TypeError, "tensor"
        ),
        fixed(
            f"vector_to_parameters(vec of {n}, 8 elements)",
            lambda lib: lib.utils.vector_to_parameters(lib.t(np.zeros(n, np.float32)), _params_with_grads(lib)),
            ValueError,
            "elements",
        ),
        fixed(
            "vector_to_parameters(ndarray)",
            lambda lib: lib.utils.vector_to_parameters(np.zeros(8), _params_with_grads(lib)),
            TypeError,
            "tensor",
        ),
    ]
    return draw(st.one_of(*cases))


# -- the families ---------------------------------------------------------------------------------------

FAMILIES: dict[str, st.SearchStrategy] = {
    "linear sizes": linear_sizes(),
    "conv sizes": conv_sizes(),
    "conv groups": conv_groups(),
    "conv window": conv_window(),
    "conv strings": conv_strings(),
    "dtype and device": factory_args(),
    "bool flags": flags(),
    "pool window": pool_window(),
    "adaptive pool size": adaptive_pool(),
    "norm sizes": norm_sizes(),
    "group norm groups": group_norm_divisible(),
    "layer norm shape": layer_norm_shape(),
    "norm numbers": norm_numbers(),
    "dropout p": dropout_p(),
    "activation args": activation_args(),
    "loss args": loss_args(),
    "linear forward": linear_forward(),
    "conv forward": conv_forward(),
    "pool forward": pool_forward(),
    "norm forward": norm_forward(),
    "flatten/softmax/dropout forward": misc_forward(),
    "activation forward": activation_forward(),
    "loss forward": loss_forward(),
    "optimizer options": optimizer_options(),
    "adam betas": adam_betas(),
    "optimizer params": optimizer_params(),
    "optimizer load_state_dict": optimizer_state_dict(),
    "module load_state_dict": module_state_dict(),
    "scheduler args": scheduler_args(),
    "scheduler optimizer": scheduler_optimizer(),
    "dataloader args": dataloader_args(),
    "random_split lengths": random_split_args(),
    "datasets and collate": dataset_args(),
    "transform args": transform_args(),
    "transform calls": transform_calls(),
    "init": init_args(),
    "utils": utils_args(),
}
OURS_ONLY = {"transform args", "transform calls"}


@pytest.mark.parametrize("family", sorted(FAMILIES))
@given(data=st.data())
def test_malformed_arguments_raise_a_named_error(family: str, data: st.DataObject) -> None:
    check(data.draw(FAMILIES[family], label="case"))


# -- the same calls against PyTorch ------------------------------------------------------------------------

# (family, PyTorch's kind, ours) -> why they differ; family "*" is any family. PyTorch accepting a call we
# refuse is not listed: our constructors check eagerly, where PyTorch fails later (at forward) or never
# (bool flags given ints, zero sizes, ...).
TORCH_DIFFERENCES: dict[tuple[str, type, type], str] = {
    ("*", AttributeError, TypeError): "torch calls a method of the non-Tensor argument; we check its type",
    ("*", AttributeError, ValueError): "torch calls str.lower() on a non-str mode; we list the valid modes",
    ("*", ZeroDivisionError, ValueError): "torch divides by the zero argument; we check it",
    ("*", ZeroDivisionError, TypeError): "torch divides by the zero-valued non-int argument; we check its type",
    ("linear sizes", RuntimeError, ValueError): "torch fails allocating a negative dim; we check the argument",
    ("conv sizes", RuntimeError, ValueError): "torch fails allocating a negative dim; we check the argument",
    ("norm sizes", RuntimeError, ValueError): "torch fails allocating a negative dim; we check the argument",
    ("layer norm shape", RuntimeError, ValueError): "torch fails allocating a negative dim; we check the argument",
    ("conv window", RuntimeError, ValueError): "torch fails allocating a negative kernel; we check the argument",
    ("conv window", RuntimeError, TypeError): "torch fails allocating a kernel of the wrong length",
    ("dtype and device", RuntimeError, TypeError): "torch fails initialising an int64 weight; we refuse the dtype",
    ("dtype and device", RuntimeError, ValueError): "torch does not know the device; we run on the CPU only",
    ("dtype and device", AssertionError, ValueError): "torch is not compiled with CUDA; we run on the CPU only",
    ("pool forward", IndexError, RuntimeError): "torch's avg_pool2d indexes dim -3; we check the rank (RuntimeError, "
    "as torch's max_pool2d)",
    ("scheduler args", KeyError, ValueError): "torch resumes at any last_epoch != -1 and misses 'initial_lr'; we "
    "check last_epoch first",
    ("scheduler args", TypeError, ValueError): "torch's comparison of a non-number fails; schedulers raise ValueError "
    "for every bad argument (as torch's OneCycleLR does for its own)",
    ("conv sizes", ValueError, TypeError): "a float size: torch's divisibility check fails, we refuse the type",
    ("norm sizes", ValueError, TypeError): "a float num_groups: torch's divisibility check fails, we refuse the type",
    ("adam betas", IndexError, ValueError): "betas of length < 2: torch indexes betas[1], we check the length",
    ("optimizer params", KeyError, ValueError): "a param group without 'params': our ValueError says so",
    ("dataloader args", ValueError, TypeError): "a batch_size of the wrong type is a TypeError here",
    ("datasets and collate", AssertionError, ValueError): "TensorDataset sizes: torch asserts, we raise ValueError",
    ("datasets and collate", IndexError, ValueError): "an empty batch or a 0-d tensor: torch indexes it, we check",
    ("init", RuntimeError, TypeError): "an int64 tensor: torch's kernel is missing, we refuse the dtype",
    ("utils", RuntimeError, ValueError): "a vector of the wrong size: torch's view fails, we check the size",
}


def torch_difference(family: str, theirs: type, ours: type) -> str | None:
    return TORCH_DIFFERENCES.get((family, theirs, ours), TORCH_DIFFERENCES.get(("*", theirs, ours)))


@pytest.fixture(scope="module")
def torch_lib() -> TorchLib:
    return TorchLib(pytest.importorskip("torch"))


@pytest.mark.parametrize("family", sorted(set(FAMILIES) - OURS_ONLY))
@given(data=st.data())
def test_error_kinds_match_torch(torch_lib: TorchLib, family: str, data: st.DataObject) -> None:
    case = data.draw(FAMILIES[family], label="case")
    ours, theirs = outcome(case, Ours), outcome(case, torch_lib)
    assert ours is not None, f"{case.label}: no error raised"
    if theirs is None:
        return  # PyTorch accepts it (or checks later): we are stricter
    if kind_of(theirs) is kind_of(ours):
        return
    assert torch_difference(family, kind_of(theirs), kind_of(ours)) is not None, (
        f"{case.label}: torch raises {type(theirs).__name__}: {theirs}; we raise {type(ours).__name__}: {ours}"
    )


# -- empty batches are not malformed: every layer maps them to an empty batch, as PyTorch -------------------

EMPTY_BATCHES = [
    ("Linear", lambda: tc.nn.Linear(3, 2), (0, 3), (0, 2)),
    ("Conv1d", lambda: tc.nn.Conv1d(2, 3, 3), (0, 2, 5), (0, 3, 3)),
    ("Conv2d", lambda: tc.nn.Conv2d(2, 3, 3), (0, 2, 5, 5), (0, 3, 3, 3)),
    ("ConvTranspose2d", lambda: tc.nn.ConvTranspose2d(2, 3, 3), (0, 2, 5, 5), (0, 3, 7, 7)),
    ("MaxPool2d", lambda: tc.nn.MaxPool2d(2), (0, 2, 4, 4), (0, 2, 2, 2)),
    ("AvgPool2d", lambda: tc.nn.AvgPool2d(2), (0, 2, 4, 4), (0, 2, 2, 2)),
    ("AdaptiveAvgPool2d", lambda: tc.nn.AdaptiveAvgPool2d(2), (0, 2, 4, 4), (0, 2, 2, 2)),
    ("AdaptiveMaxPool2d", lambda: tc.nn.AdaptiveMaxPool2d(2), (0, 2, 4, 4), (0, 2, 2, 2)),
    ("BatchNorm1d", lambda: tc.nn.BatchNorm1d(2), (0, 2), (0, 2)),
    ("BatchNorm2d (eval)", lambda: tc.nn.BatchNorm2d(2).eval(), (0, 2, 3, 3), (0, 2, 3, 3)),
    ("LayerNorm", lambda: tc.nn.LayerNorm(3), (0, 3), (0, 3)),
    ("GroupNorm", lambda: tc.nn.GroupNorm(1, 2), (0, 2, 3), (0, 2, 3)),
    ("LocalResponseNorm", lambda: tc.nn.LocalResponseNorm(2), (0, 2, 3), (0, 2, 3)),
    ("Dropout", lambda: tc.nn.Dropout(), (0, 3), (0, 3)),
    ("Dropout2d", lambda: tc.nn.Dropout2d(), (0, 2, 3, 3), (0, 2, 3, 3)),
    ("Softmax", lambda: tc.nn.Softmax(1), (0, 3), (0, 3)),
    ("LogSoftmax", lambda: tc.nn.LogSoftmax(1), (0, 3), (0, 3)),
    ("GELU", lambda: tc.nn.GELU(), (0, 3), (0, 3)),
    ("Flatten", lambda: tc.nn.Flatten(), (0, 2, 3), (0, 6)),
]  # fmt: skip


@pytest.mark.parametrize(("name", "make", "shape", "expected"), EMPTY_BATCHES)
def test_empty_batches_flow_through_every_layer(
    name: str, make: Callable[[], Any], shape: tuple, expected: tuple
) -> None:
    x = tc.zeros(*shape, requires_grad=True)
    out = make()(x)
    assert out.shape == expected, name
    out.sum().backward()
    assert x.grad is not None and x.grad.shape == shape


def test_empty_batches_give_nan_mean_losses_as_torch() -> None:
    logits, labels = tc.zeros(0, 3), tc.zeros(0, dtype=tc.int64)
    assert np.isnan(tc.nn.CrossEntropyLoss()(logits, labels).item())
    assert tc.nn.CrossEntropyLoss(reduction="none")(logits, labels).shape == (0,)
    assert tc.nn.CrossEntropyLoss(reduction="sum")(logits, labels).item() == 0
    assert np.isnan(tc.nn.MSELoss()(logits, logits).item())
    with pytest.raises(ValueError, match="empty"):
        tdata.default_collate([])
