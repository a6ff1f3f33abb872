"""Bad input gets an error that teaches: PyTorch's kind, a message naming the argument and what came.

Every public op of ``tinygrad_cnn`` and ``tinygrad_cnn.nn.functional`` is fed malformed arguments from a
few families (wrong rank, mismatched channels or shapes, zero/negative/non-integer sizes, tuples of the
wrong length, integer tensors where floats are needed, out-of-range dims and class indices, p outside
[0, 1], wrong types). The kind of error is PyTorch's for the same call: TypeError for a wrong type,
IndexError for a dim or index out of range, ValueError where PyTorch raises one, RuntimeError (or its
subclass NotImplementedError, for dtypes without a kernel) for the rest. Never a numpy exception from
deep inside, never a silent wrong result.

* ``CASES``: a table; each call is written once against a module ``m`` (``tinygrad_cnn``, or ``torch``
  when it is installed), so ``test_kind_matches_pytorch`` checks the expected kinds against PyTorch's.
  The few deliberate differences say so (``torch=`` and ``why=``).
* ``ACCEPTED``: calls PyTorch accepts (empty batches, 1-tuples, ...) that must work here too, with
  PyTorch's output shape.
* hypothesis tests draw malformed arguments from each family for every functional op.
* NaN and Inf inputs propagate as numpy would; ``detect_anomaly()`` names the op whose backward made a NaN.
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


def F(m: Any) -> Any:  # noqa: N802 - reads like torch.nn.functional
    return m.nn.functional


def X(m: Any, *shape: int) -> Any:  # noqa: N802
    """float32 ones of ``shape`` in module ``m``."""
    return m.ones(shape)


def D(m: Any, *shape: int) -> Any:  # noqa: N802
    return m.ones(shape, dtype=m.float64)


def Int(m: Any, *shape: int) -> Any:  # noqa: N802
    return m.ones(shape, dtype=m.int64)


def B(m: Any, *shape: int) -> Any:  # noqa: N802
    return m.ones(shape, dtype=m.bool)


def T(m: Any, values: Any) -> Any:  # noqa: N802
    return m.tensor(values)


def x4(m: Any) -> Any:
    return X(m, 1, 1, 4, 4)


def setitem(t: Any, index: Any, value: Any) -> Any:
    t[index] = value
    return t


SAME = "same"  # PyTorch raises the same kind
ACCEPTS = "accepts"  # PyTorch accepts the call; we refuse it on purpose (``why`` says why)


@dataclass(frozen=True)
class Case:
    id: str
    call: Callable[[Any], Any]
    kind: type[Exception]
    names: tuple[str, ...]  # substrings of our message: the argument, and what came
    torch: Any = SAME
    why: str = ""


def C(id: str, call: Callable[[Any], Any], kind: type[Exception], *names: str, torch: Any = SAME,  # noqa: A002, N802
      why: str = "") -> Case:  # fmt: skip
    return Case(id, call, kind, names, torch, why)


R, V, TE, IE, NI = RuntimeError, ValueError, TypeError, IndexError, NotImplementedError

# fmt: off
CASES = [
    # -- conv2d -------------------------------------------------------------------------------------------------
    C("conv2d input 2-D", lambda m: F(m).conv2d(X(m, 5, 5), X(m, 1, 1, 2, 2)), R, "input", "2-D"),
    C("conv2d input 5-D", lambda m: F(m).conv2d(X(m, 1, 1, 1, 5, 5), X(m, 1, 1, 2, 2)), R, "input", "5-D"),
    C("conv2d weight 3-D", lambda m: F(m).conv2d(X(m, 1, 1, 5, 5), X(m, 1, 1, 2)), R, "weight", "(1, 1, 2)"),
    C("conv2d weight 0 filters", lambda m: F(m).conv2d(X(m, 1, 1, 5, 5), X(m, 0, 1, 3, 3)), R, "(0, 1, 3, 3)"),
    C("conv2d channels", lambda m: F(m).conv2d(X(m, 1, 3, 5, 5), X(m, 2, 2, 2, 2)), R, "3 channels", "expects 2"),
    C("conv2d groups 0", lambda m: F(m).conv2d(X(m, 1, 2, 5, 5), X(m, 2, 2, 2, 2), groups=0), R, "groups", "0"),
    C("conv2d groups -1", lambda m: F(m).conv2d(X(m, 1, 2, 5, 5), X(m, 2, 2, 2, 2), groups=-1), R, "groups", "-1"),
    C("conv2d groups 2.5", lambda m: F(m).conv2d(X(m, 1, 2, 5, 5), X(m, 2, 2, 2, 2), groups=2.5), TE, "groups", "2.5"),
    C("conv2d groups True", lambda m: F(m).conv2d(X(m, 1, 2, 5, 5), X(m, 2, 2, 2, 2), groups=True), TE, "groups"),
    C("conv2d groups vs in-channels", lambda m: F(m).conv2d(X(m, 1, 3, 5, 5), X(m, 2, 1, 2, 2), groups=2), R,
      "3 channels", "groups"),
    C("conv2d groups vs out-channels", lambda m: F(m).conv2d(X(m, 1, 2, 5, 5), X(m, 3, 1, 2, 2), groups=2), R,
      "groups", "out_channels 3"),
    C("conv2d stride 0", lambda m: F(m).conv2d(X(m, 1, 1, 5, 5), X(m, 1, 1, 2, 2), stride=0), R, "stride", "0"),
    C("conv2d stride -1", lambda m: F(m).conv2d(X(m, 1, 1, 5, 5), X(m, 1, 1, 2, 2), stride=-1), R, "stride", "-1"),
    C("conv2d stride 2.5", lambda m: F(m).conv2d(X(m, 1, 1, 5, 5), X(m, 1, 1, 2, 2), stride=2.5), TE, "stride", "2.5"),
    C("conv2d stride str", lambda m: F(m).conv2d(X(m, 1, 1, 5, 5), X(m, 1, 1, 2, 2), stride="2"), TE, "stride", "'2'"),
    C("conv2d stride bool", lambda m: F(m).conv2d(X(m, 1, 1, 5, 5), X(m, 1, 1, 2, 2), stride=True), TE, "stride"),
    C("conv2d stride 3-tuple", lambda m: F(m).conv2d(X(m, 1, 1, 5, 5), X(m, 1, 1, 2, 2), stride=(1, 2, 3)), R,
      "stride", "(1, 2, 3)"),
    C("conv2d padding -1", lambda m: F(m).conv2d(X(m, 1, 1, 5, 5), X(m, 1, 1, 2, 2), padding=-1), R, "padding", "-1"),
    C("conv2d padding 1.5", lambda m: F(m).conv2d(X(m, 1, 1, 5, 5), X(m, 1, 1, 2, 2), padding=1.5), TE, "padding"),
    C("conv2d padding 'full'", lambda m: F(m).conv2d(X(m, 1, 1, 5, 5), X(m, 1, 1, 2, 2), padding="full"), R,
      "padding", "'full'"),
    C("conv2d padding same strided", lambda m: F(m).conv2d(X(m, 1, 1, 5, 5), X(m, 1, 1, 3, 3), padding="same",
      stride=2), R, "padding='same'", "stride 2"),
    C("conv2d dilation 0", lambda m: F(m).conv2d(X(m, 1, 1, 5, 5), X(m, 1, 1, 2, 2), dilation=0), R, "dilation"),
    C("conv2d kernel too big", lambda m: F(m).conv2d(X(m, 1, 1, 2, 5), X(m, 1, 1, 3, 3)), R, "kernel size (3, 3)",
      "(2, 5)"),
    C("conv2d empty kernel", lambda m: F(m).conv2d(X(m, 1, 1, 3, 3), X(m, 1, 1, 0, 2)), R, "kernel size", "(0, 2)"),
    C("conv2d empty height", lambda m: F(m).conv2d(X(m, 1, 1, 0, 5), X(m, 2, 1, 1, 1)), R, "padded input (0, 5)"),
    C("conv2d bias shape", lambda m: F(m).conv2d(X(m, 1, 1, 5, 5), X(m, 2, 1, 3, 3), X(m, 3)), R, "bias", "(3,)"),
    C("conv2d bias 2-D", lambda m: F(m).conv2d(X(m, 1, 1, 5, 5), X(m, 2, 1, 3, 3), X(m, 1, 2)), R, "bias", "(1, 2)"),
    C("conv2d int input", lambda m: F(m).conv2d(Int(m, 1, 1, 5, 5), X(m, 1, 1, 3, 3)), R, "input is int64",
      "weight is float32"),
    C("conv2d float64 weight", lambda m: F(m).conv2d(X(m, 1, 1, 5, 5), D(m, 1, 1, 3, 3)), R, "weight is float64"),
    C("conv2d float64 bias", lambda m: F(m).conv2d(X(m, 1, 1, 5, 5), X(m, 1, 1, 3, 3), D(m, 1)), R,
      "bias is float64"),
    C("conv2d bool input", lambda m: F(m).conv2d(B(m, 1, 1, 5, 5), B(m, 1, 1, 3, 3)), NI, "input", "bool"),
    C("conv2d ndarray input", lambda m: F(m).conv2d(np.ones((1, 1, 5, 5), np.float32), X(m, 1, 1, 3, 3)), TE,
      "input", "ndarray"),
    C("conv2d list weight", lambda m: F(m).conv2d(X(m, 1, 1, 5, 5), [[[[1.0]]]]), TE, "weight", "list"),
    # -- conv1d -------------------------------------------------------------------------------------------------
    C("conv1d input 4-D", lambda m: F(m).conv1d(X(m, 1, 1, 5, 5), X(m, 1, 1, 2)), R, "input", "4-D"),
    C("conv1d weight 4-D", lambda m: F(m).conv1d(X(m, 1, 1, 5), X(m, 1, 1, 2, 2)), R, "weight", "(1, 1, 2, 2)"),
    C("conv1d stride 0", lambda m: F(m).conv1d(X(m, 1, 1, 5), X(m, 1, 1, 2), stride=0), R, "conv1d", "stride", "0"),
    C("conv1d stride pair", lambda m: F(m).conv1d(X(m, 1, 1, 5), X(m, 1, 1, 2), stride=(1, 1)), R, "stride",
      "(1, 1)"),
    C("conv1d stride 1.5", lambda m: F(m).conv1d(X(m, 1, 1, 5), X(m, 1, 1, 2), stride=1.5), TE, "stride", "1.5"),
    C("conv1d padding -1", lambda m: F(m).conv1d(X(m, 1, 1, 5), X(m, 1, 1, 2), padding=-1), R, "padding", "-1"),
    C("conv1d padding 'full'", lambda m: F(m).conv1d(X(m, 1, 1, 5), X(m, 1, 1, 2), padding="full"), R,
      "conv1d", "padding", "'full'"),
    C("conv1d dilation 0", lambda m: F(m).conv1d(X(m, 1, 1, 5), X(m, 1, 1, 2), dilation=0), R, "dilation", "0"),
    C("conv1d groups 0", lambda m: F(m).conv1d(X(m, 1, 2, 5), X(m, 2, 2, 3), groups=0), R, "groups", "0"),
    C("conv1d channels", lambda m: F(m).conv1d(X(m, 1, 3, 5), X(m, 2, 4, 3)), R, "3 channels", "expects 4"),
    C("conv1d kernel too big", lambda m: F(m).conv1d(X(m, 1, 1, 3), X(m, 1, 1, 5)), R, "kernel size 5", "input 3"),
    C("conv1d int input", lambda m: F(m).conv1d(Int(m, 1, 1, 5), X(m, 1, 1, 3)), R, "input is int64"),
    C("conv1d bias shape", lambda m: F(m).conv1d(X(m, 1, 1, 5), X(m, 2, 1, 3), X(m, 3)), R, "conv1d", "bias",
      "(3,)"),
    # -- conv_transpose2d ---------------------------------------------------------------------------------------
    C("conv_transpose2d input 5-D", lambda m: F(m).conv_transpose2d(X(m, 1, 1, 1, 5, 5), X(m, 1, 1, 2, 2)), R,
      "input", "5-D"),
    C("conv_transpose2d input 2-D", lambda m: F(m).conv_transpose2d(X(m, 5, 5), X(m, 1, 2, 3, 3)), R, "input",
      "2-D"),
    C("conv_transpose2d weight 3-D", lambda m: F(m).conv_transpose2d(X(m, 1, 1, 5, 5), X(m, 1, 1, 2)), R, "weight"),
    C("conv_transpose2d channels", lambda m: F(m).conv_transpose2d(X(m, 1, 3, 5, 5), X(m, 2, 1, 2, 2)), R,
      "3 channels", "expects 2"),
    C("conv_transpose2d groups", lambda m: F(m).conv_transpose2d(X(m, 1, 3, 5, 5), X(m, 3, 1, 2, 2), groups=2), R,
      "groups", "in_channels 3"),
    C("conv_transpose2d groups 0", lambda m: F(m).conv_transpose2d(X(m, 1, 2, 5, 5), X(m, 2, 1, 2, 2), groups=0),
      R, "groups", "0"),
    C("conv_transpose2d stride 0", lambda m: F(m).conv_transpose2d(X(m, 1, 1, 3, 3), X(m, 1, 1, 2, 2),
      stride=(1, 0)), R, "stride", "(1, 0)"),
    C("conv_transpose2d padding -1", lambda m: F(m).conv_transpose2d(X(m, 1, 1, 3, 3), X(m, 1, 1, 2, 2),
      padding=(0, -1)), R, "padding", "(0, -1)"),
    C("conv_transpose2d padding str", lambda m: F(m).conv_transpose2d(X(m, 1, 1, 5, 5), X(m, 1, 2, 3, 3),
      padding="same"), TE, "padding", "'same'"),
    C("conv_transpose2d output_padding >= stride", lambda m: F(m).conv_transpose2d(X(m, 1, 1, 3, 3),
      X(m, 1, 1, 2, 2), stride=2, output_padding=2), R, "output_padding (2, 2)", "stride (2, 2)"),
    C("conv_transpose2d output_padding -1", lambda m: F(m).conv_transpose2d(X(m, 1, 1, 3, 3), X(m, 1, 1, 2, 2),
      stride=2, output_padding=-1), R, "output_padding", "-1"),
    C("conv_transpose2d output too small", lambda m: F(m).conv_transpose2d(X(m, 1, 1, 1, 1), X(m, 1, 1, 2, 2),
      padding=1), R, "output size (0, 0)", "padding"),
    C("conv_transpose2d bias shape", lambda m: F(m).conv_transpose2d(X(m, 1, 2, 5, 5), X(m, 2, 3, 3, 3),
      X(m, 2)), R, "bias", "(3,)", "(2,)"),
    C("conv_transpose2d int input", lambda m: F(m).conv_transpose2d(Int(m, 1, 1, 5, 5), X(m, 1, 1, 3, 3)), R,
      "input is int64"),
    C("conv_transpose2d float64 weight", lambda m: F(m).conv_transpose2d(X(m, 1, 1, 5, 5), D(m, 1, 1, 3, 3)), R,
      "weight is float64"),
    # -- linear -------------------------------------------------------------------------------------------------
    C("linear in_features", lambda m: F(m).linear(X(m, 2, 3), X(m, 4, 5)), R, "in_features = 5", "(2, 3)"),
    C("linear weight 3-D", lambda m: F(m).linear(X(m, 2, 3), X(m, 1, 4, 3)), R, "weight", "(1, 4, 3)"),
    C("linear 0-d input", lambda m: F(m).linear(X(m), X(m, 4, 3)), R, "input", "()"),
    C("linear 0-d weight", lambda m: F(m).linear(X(m, 2, 3), X(m)), R, "weight", "()"),
    C("linear 1-D weight with bias", lambda m: F(m).linear(X(m, 2, 3), X(m, 3), X(m, 2)), R, "weight", "(3,)"),
    C("linear 1-D weight mismatch", lambda m: F(m).linear(X(m, 2, 3), X(m, 4)), R, "in_features = 4", "(2, 3)"),
    C("linear bias shape", lambda m: F(m).linear(X(m, 2, 3), X(m, 4, 3), X(m, 5)), R, "bias", "(5,)"),
    C("linear bias grows the output", lambda m: F(m).linear(X(m, 3), X(m, 4, 3), X(m, 2, 4)), R, "bias", "(2, 4)"),
    C("linear int input", lambda m: F(m).linear(Int(m, 2, 3), X(m, 4, 3)), R, "input is int64",
      "weight is float32"),
    C("linear float64 weight", lambda m: F(m).linear(X(m, 2, 3), D(m, 4, 3)), R, "weight is float64"),
    C("linear int bias", lambda m: F(m).linear(X(m, 2, 3), X(m, 4, 3), Int(m, 4)), R, "bias is int64"),
    C("linear list input", lambda m: F(m).linear([[1.0, 2.0, 3.0]], X(m, 4, 3)), TE, "input", "list"),
    C("linear list bias", lambda m: F(m).linear(X(m, 2, 3), X(m, 4, 3), [1.0] * 4), TE, "bias", "list"),
    # -- pooling ------------------------------------------------------------------------------------------------
    C("max_pool2d kernel 0", lambda m: F(m).max_pool2d(x4(m), 0), R, "kernel_size", "0"),
    C("max_pool2d kernel -1", lambda m: F(m).max_pool2d(x4(m), -1), R, "kernel_size", "-1"),
    C("max_pool2d kernel 2.5", lambda m: F(m).max_pool2d(x4(m), 2.5), TE, "kernel_size", "2.5"),
    C("max_pool2d kernel str", lambda m: F(m).max_pool2d(x4(m), "2"), TE, "kernel_size", "'2'"),
    C("max_pool2d kernel None", lambda m: F(m).max_pool2d(x4(m), None), TE, "kernel_size", "None"),
    C("max_pool2d kernel bool", lambda m: F(m).max_pool2d(x4(m), True), TE, "kernel_size", "True"),
    C("max_pool2d kernel 3-tuple", lambda m: F(m).max_pool2d(x4(m), (1, 2, 3)), R, "kernel_size", "(1, 2, 3)"),
    C("max_pool2d stride 0", lambda m: F(m).max_pool2d(x4(m), 2, stride=0), R, "stride", "0"),
    C("max_pool2d stride 3-tuple", lambda m: F(m).max_pool2d(x4(m), 2, stride=(1, 2, 3)), R, "stride"),
    C("max_pool2d padding -1", lambda m: F(m).max_pool2d(x4(m), 2, padding=-1), R, "padding", "-1"),
    C("max_pool2d padding above half", lambda m: F(m).max_pool2d(x4(m), 3, padding=2), R, "padding (2, 2)",
      "kernel_size (3, 3)"),
    C("max_pool2d padding 3-tuple", lambda m: F(m).max_pool2d(x4(m), 3, padding=(1, 1, 1)), R, "padding"),
    C("max_pool2d dilation 0", lambda m: F(m).max_pool2d(x4(m), 2, dilation=0), R, "dilation", "0"),
    C("max_pool2d dilation 1.5", lambda m: F(m).max_pool2d(x4(m), 2, dilation=1.5), TE, "dilation", "1.5"),
    C("max_pool2d kernel too big", lambda m: F(m).max_pool2d(X(m, 1, 1, 2, 5), 3), R, "kernel (3, 3)", "(2, 5)"),
    C("max_pool2d input 2-D", lambda m: F(m).max_pool2d(X(m, 4, 4), 2), R, "input", "(4, 4)"),
    C("max_pool2d input 5-D", lambda m: F(m).max_pool2d(X(m, 1, 1, 1, 4, 4), 2), R, "input", "(1, 1, 1, 4, 4)"),
    C("max_pool2d no channels", lambda m: F(m).max_pool2d(X(m, 1, 0, 4, 4), 2), R, "input", "(1, 0, 4, 4)"),
    C("max_pool2d unbatched no channels", lambda m: F(m).max_pool2d(X(m, 0, 4, 4), 2), R, "input", "(0, 4, 4)"),
    C("max_pool2d empty height", lambda m: F(m).max_pool2d(X(m, 1, 1, 0, 4), 2), R, "input", "(1, 1, 0, 4)"),
    C("max_pool2d ceil_mode int", lambda m: F(m).max_pool2d(x4(m), 2, ceil_mode=1), TE, "ceil_mode", "int"),
    C("max_pool2d list input", lambda m: F(m).max_pool2d([[[1.0]]], 1), TE, "input", "list"),
    C("max_pool2d int input", lambda m: F(m).max_pool2d(Int(m, 1, 1, 4, 4), 2), NI, "input", "int64",
      torch=ACCEPTS, why="integer pooling is not implemented here (PyTorch has CPU kernels for it)"),
    C("avg_pool2d kernel 0", lambda m: F(m).avg_pool2d(x4(m), 0), R, "kernel_size", "0"),
    C("avg_pool2d stride 0", lambda m: F(m).avg_pool2d(x4(m), 2, stride=0), R, "stride", "0"),
    C("avg_pool2d padding -1", lambda m: F(m).avg_pool2d(x4(m), 2, padding=-1), R, "padding", "-1"),
    C("avg_pool2d padding above half", lambda m: F(m).avg_pool2d(x4(m), (4, 2), padding=(2, 2)), R,
      "padding (2, 2)", "kernel_size (4, 2)"),
    C("avg_pool2d kernel 3-tuple", lambda m: F(m).avg_pool2d(x4(m), (1, 2, 3)), R, "kernel_size", "(1, 2, 3)"),
    C("avg_pool2d kernel too big", lambda m: F(m).avg_pool2d(X(m, 1, 1, 2, 5), 3), R, "kernel (3, 3)"),
    C("avg_pool2d divisor_override 0", lambda m: F(m).avg_pool2d(x4(m), 2, divisor_override=0), R,
      "divisor_override", "0"),
    C("avg_pool2d divisor_override 1.5", lambda m: F(m).avg_pool2d(x4(m), 2, divisor_override=1.5), TE,
      "divisor_override", "1.5"),
    C("avg_pool2d count_include_pad str", lambda m: F(m).avg_pool2d(x4(m), 2, count_include_pad="y"), TE,
      "count_include_pad", "str"),
    C("avg_pool2d no channels", lambda m: F(m).avg_pool2d(X(m, 1, 0, 4, 4), 2), R, "input", "(1, 0, 4, 4)"),
    C("avg_pool2d unbatched no channels", lambda m: F(m).avg_pool2d(X(m, 0, 4, 4), 2), R, "input", "(0, 4, 4)"),
    C("avg_pool2d input 2-D", lambda m: F(m).avg_pool2d(X(m, 4, 4), 2), R, "input", "(4, 4)", torch=IE,
      why="PyTorch's IndexError here comes from an internal negative dim lookup; max_pool2d's kind is kept"),
    C("avg_pool2d int input", lambda m: F(m).avg_pool2d(Int(m, 1, 1, 4, 4), 2), NI, "input", "int64",
      torch=ACCEPTS, why="integer pooling is not implemented here"),
    C("adaptive_avg_pool2d output -1", lambda m: F(m).adaptive_avg_pool2d(x4(m), -1), R, "output_size", "-1"),
    C("adaptive_avg_pool2d output 1.5", lambda m: F(m).adaptive_avg_pool2d(x4(m), 1.5), TE, "output_size", "1.5"),
    C("adaptive_avg_pool2d output str", lambda m: F(m).adaptive_avg_pool2d(x4(m), "2"), TE, "output_size", "'2'"),
    C("adaptive_avg_pool2d output 3-tuple", lambda m: F(m).adaptive_avg_pool2d(x4(m), (1, 2, 3)), R,
      "output_size", "(1, 2, 3)"),
    C("adaptive_avg_pool2d output 1-tuple", lambda m: F(m).adaptive_avg_pool2d(x4(m), (2,)), R, "output_size",
      "(2,)"),
    C("adaptive_avg_pool2d input 2-D", lambda m: F(m).adaptive_avg_pool2d(X(m, 4, 4), 2), R, "input", "(4, 4)"),
    C("adaptive_avg_pool2d empty height", lambda m: F(m).adaptive_avg_pool2d(X(m, 1, 1, 0, 4), 2), R, "input",
      "(1, 1, 0, 4)"),
    C("adaptive_avg_pool2d int input", lambda m: F(m).adaptive_avg_pool2d(Int(m, 1, 1, 4, 4), 2), NI, "input",
      "int64"),
    C("adaptive_max_pool2d output 3-tuple", lambda m: F(m).adaptive_max_pool2d(x4(m), (1, 2, 3)), R,
      "output_size"),
    C("adaptive_max_pool2d input 5-D", lambda m: F(m).adaptive_max_pool2d(X(m, 1, 1, 1, 4, 4), 2), R, "input"),
    C("adaptive_max_pool2d int input", lambda m: F(m).adaptive_max_pool2d(Int(m, 1, 1, 4, 4), 2), NI, "input",
      "int64"),
    # -- normalization ------------------------------------------------------------------------------------------
    C("batch_norm input 1-D", lambda m: F(m).batch_norm(X(m, 3), X(m, 3), X(m, 3)), R, "input", "(3,)"),
    C("batch_norm running_mean size", lambda m: F(m).batch_norm(X(m, 4, 3), X(m, 4), X(m, 3)), R, "running_mean",
      "(4,)"),
    C("batch_norm running_var size", lambda m: F(m).batch_norm(X(m, 4, 3), X(m, 3), X(m, 4)), R, "running_var",
      "(4,)"),
    C("batch_norm weight size", lambda m: F(m).batch_norm(X(m, 4, 3), X(m, 3), X(m, 3), weight=X(m, 4)), R,
      "weight", "(4,)"),
    C("batch_norm bias size", lambda m: F(m).batch_norm(X(m, 4, 3), X(m, 3), X(m, 3), bias=X(m, 2)), R,
      "bias", "(2,)"),
    C("batch_norm one stat, eval", lambda m: F(m).batch_norm(X(m, 4, 3), X(m, 3), None), R, "running_var"),
    C("batch_norm one stat, training", lambda m: F(m).batch_norm(X(m, 4, 3), X(m, 3), None, training=True), V,
      "running_var"),
    C("batch_norm eval without stats", lambda m: F(m).batch_norm(X(m, 4, 3), None, None), R, "running_mean"),
    C("batch_norm one value per channel", lambda m: F(m).batch_norm(X(m, 1, 3), None, None, training=True), V,
      "more than 1 value per channel", "(1, 3)"),
    C("batch_norm int input", lambda m: F(m).batch_norm(Int(m, 4, 3), X(m, 3), X(m, 3)), NI, "input", "int64"),
    C("batch_norm int running_mean", lambda m: F(m).batch_norm(X(m, 4, 3), Int(m, 3), X(m, 3)), R, "running_mean",
      "int64"),
    C("batch_norm ndarray input", lambda m: F(m).batch_norm(np.ones((4, 3)), X(m, 3), X(m, 3)), TE, "input",
      "ndarray"),
    C("batch_norm list weight", lambda m: F(m).batch_norm(X(m, 4, 3), X(m, 3), X(m, 3), weight=[1, 2, 3]), TE,
      "weight", "list"),
    C("batch_norm eps str", lambda m: F(m).batch_norm(X(m, 4, 3), X(m, 3), X(m, 3), eps="a"), TE, "eps", "str"),
    C("batch_norm eps negative", lambda m: F(m).batch_norm(X(m, 4, 3), X(m, 3), X(m, 3), eps=-1.0), V, "eps",
      "-1"),
    C("batch_norm momentum None", lambda m: F(m).batch_norm(X(m, 4, 3), X(m, 3), X(m, 3), training=True,
      momentum=None), TE, "momentum", "NoneType"),
    C("batch_norm training int", lambda m: F(m).batch_norm(X(m, 4, 3), X(m, 3), X(m, 3), training=1), TE,
      "training", "int"),
    C("layer_norm shape mismatch", lambda m: F(m).layer_norm(X(m, 2, 3, 4), (3, 5)), R, "normalized_shape",
      "(3, 5)", "(2, 3, 4)"),
    C("layer_norm shape longer than input", lambda m: F(m).layer_norm(X(m, 3), (2, 3)), R, "normalized_shape"),
    C("layer_norm empty shape", lambda m: F(m).layer_norm(X(m, 2, 3), ()), R, "normalized_shape", "()"),
    C("layer_norm float shape", lambda m: F(m).layer_norm(X(m, 2, 3), (1.5,)), TE, "normalized_shape", "1.5"),
    C("layer_norm float size", lambda m: F(m).layer_norm(X(m, 2, 3), 3.0), TE, "normalized_shape", "3.0"),
    C("layer_norm weight shape", lambda m: F(m).layer_norm(X(m, 2, 3), (3,), weight=X(m, 2)), R, "weight", "(2,)"),
    C("layer_norm bias shape", lambda m: F(m).layer_norm(X(m, 2, 3), (3,), bias=X(m, 1, 3)), R, "bias", "(1, 3)"),
    C("layer_norm int input", lambda m: F(m).layer_norm(Int(m, 2, 3), (3,)), NI, "input", "int64"),
    C("layer_norm eps str", lambda m: F(m).layer_norm(X(m, 2, 3), (3,), eps="a"), TE, "eps", "str"),
    C("group_norm not a divisor", lambda m: F(m).group_norm(X(m, 2, 6, 3), 4), R, "num_groups", "6", "4"),
    C("group_norm negative", lambda m: F(m).group_norm(X(m, 2, 6, 3), -2), R, "num_groups", "-2"),
    C("group_norm 0", lambda m: F(m).group_norm(X(m, 2, 6, 3), 0), R, "num_groups", "0", torch=ZeroDivisionError,
      why="PyTorch divides by num_groups before checking it"),
    C("group_norm float", lambda m: F(m).group_norm(X(m, 2, 6, 3), 2.0), TE, "num_groups", "float"),
    C("group_norm bool", lambda m: F(m).group_norm(X(m, 2, 6, 3), True), TE, "num_groups", "bool"),
    C("group_norm input 1-D", lambda m: F(m).group_norm(X(m, 6), 2), R, "input", "(6,)"),
    C("group_norm weight", lambda m: F(m).group_norm(X(m, 2, 6, 3), 2, weight=X(m, 3)), R, "weight", "(3,)"),
    C("group_norm bias", lambda m: F(m).group_norm(X(m, 2, 6, 3), 2, bias=X(m, 2)), R, "bias", "(2,)"),
    C("group_norm int input", lambda m: F(m).group_norm(Int(m, 2, 6, 3), 2), NI, "input", "int64"),
    C("local_response_norm input 2-D", lambda m: F(m).local_response_norm(X(m, 2, 3), 2), V, "input", "(2, 3)"),
    C("local_response_norm size 0", lambda m: F(m).local_response_norm(X(m, 2, 3, 4), 0), R, "size", "0"),
    C("local_response_norm size -1", lambda m: F(m).local_response_norm(X(m, 2, 3, 4), -1), R, "size", "-1"),
    C("local_response_norm size 2.5", lambda m: F(m).local_response_norm(X(m, 2, 3, 4), 2.5), TE, "size", "float"),
    C("local_response_norm alpha str", lambda m: F(m).local_response_norm(X(m, 2, 3, 4), 2, alpha="a"), TE,
      "alpha", "str"),
    # -- dropout ------------------------------------------------------------------------------------------------
    C("dropout p -0.1", lambda m: F(m).dropout(X(m, 3), -0.1), V, "p", "-0.1"),
    C("dropout p 1.5", lambda m: F(m).dropout(X(m, 3), 1.5), V, "p", "1.5"),
    C("dropout p nan", lambda m: F(m).dropout(X(m, 3), math.nan), R, "p", "nan"),
    C("dropout p str", lambda m: F(m).dropout(X(m, 3), "0.5"), TE, "p", "str"),
    C("dropout p None", lambda m: F(m).dropout(X(m, 3), None), TE, "p", "NoneType"),
    C("dropout int input", lambda m: F(m).dropout(Int(m, 3), 0.5), R, "input", "int64"),
    C("dropout training str", lambda m: F(m).dropout(X(m, 3), 0.5, training="yes"), TE, "training", "str"),
    C("dropout list input", lambda m: F(m).dropout([1.0], 0.5), TE, "input", "list"),
    C("dropout2d input 1-D", lambda m: F(m).dropout2d(X(m, 3), 0.5), R, "input", "(3,)"),
    C("dropout2d input 2-D", lambda m: F(m).dropout2d(X(m, 2, 3), 0.5), R, "input", "(2, 3)", torch=ACCEPTS,
      why="PyTorch warns that 2-D input is deprecated and will be an error"),
    C("dropout2d p 2", lambda m: F(m).dropout2d(X(m, 1, 2, 3, 4), 2), V, "p", "2"),
    C("dropout2d int input", lambda m: F(m).dropout2d(Int(m, 1, 2, 3, 4), 0.5), R, "input", "int64"),
    # -- losses -------------------------------------------------------------------------------------------------
    C("cross_entropy target out of range", lambda m: F(m).cross_entropy(X(m, 2, 5), T(m, [0, 5])), IE, "target",
      "5", "[0, 5)"),
    C("cross_entropy negative target", lambda m: F(m).cross_entropy(X(m, 2, 5), T(m, [0, -2])), IE, "target",
      "-2"),
    C("cross_entropy no classes", lambda m: F(m).cross_entropy(X(m, 2, 0), m.zeros(2, dtype=m.int64)), IE,
      "target", "[0, 0)"),
    C("cross_entropy batch size", lambda m: F(m).cross_entropy(X(m, 2, 5), T(m, [0, 1, 2])), V, "target", "(3,)"),
    C("cross_entropy target 2-D", lambda m: F(m).cross_entropy(X(m, 2, 5), Int(m, 2, 1)), R, "target", "(2, 1)"),
    C("cross_entropy spatial target", lambda m: F(m).cross_entropy(X(m, 2, 5, 3), Int(m, 2, 4)), R, "target",
      "(2, 3)", "(2, 4)"),
    C("cross_entropy float indices", lambda m: F(m).cross_entropy(X(m, 2, 5), X(m, 2)), R, "target", "float32"),
    C("cross_entropy bool indices", lambda m: F(m).cross_entropy(X(m, 2, 5), T(m, [True, False])), R, "target",
      "bool"),
    C("cross_entropy float target of other shape", lambda m: F(m).cross_entropy(X(m, 2, 5), X(m, 2, 4)), R,
      "target", "(2, 4)"),
    C("cross_entropy int probabilities", lambda m: F(m).cross_entropy(X(m, 2, 5), Int(m, 2, 5)), R, "target",
      "int64"),
    C("cross_entropy reduction", lambda m: F(m).cross_entropy(X(m, 2, 5), T(m, [0, 1]), reduction="avg"), V,
      "reduction", "'avg'"),
    C("cross_entropy reduction None", lambda m: F(m).cross_entropy(X(m, 2, 5), T(m, [0, 1]), reduction=None), V,
      "reduction", "None"),
    C("cross_entropy weight shape", lambda m: F(m).cross_entropy(X(m, 2, 5), T(m, [0, 1]), weight=X(m, 4)), R,
      "weight", "(4,)"),
    C("cross_entropy int input", lambda m: F(m).cross_entropy(Int(m, 2, 5), T(m, [0, 1])), NI, "input", "int64"),
    C("cross_entropy 0-d input", lambda m: F(m).cross_entropy(X(m), T(m, 0)), R, "input", "()"),
    C("cross_entropy label_smoothing 1.5", lambda m: F(m).cross_entropy(X(m, 2, 5), T(m, [0, 1]),
      label_smoothing=1.5), R, "label_smoothing", "1.5"),
    C("cross_entropy label_smoothing -0.1", lambda m: F(m).cross_entropy(X(m, 2, 5), T(m, [0, 1]),
      label_smoothing=-0.1), R, "label_smoothing", "-0.1", torch=ACCEPTS,
      why="PyTorch silently accepts a negative label_smoothing with class-index targets"),
    C("cross_entropy label_smoothing str", lambda m: F(m).cross_entropy(X(m, 2, 5), T(m, [0, 1]),
      label_smoothing="a"), TE, "label_smoothing", "str"),
    C("cross_entropy ignore_index float", lambda m: F(m).cross_entropy(X(m, 2, 5), T(m, [0, 1]), ignore_index=1.5),
      TE, "ignore_index", "float"),
    C("cross_entropy ignore_index with probabilities", lambda m: F(m).cross_entropy(X(m, 2, 5), X(m, 2, 5),
      ignore_index=1), R, "ignore_index", "1"),
    C("cross_entropy list target", lambda m: F(m).cross_entropy(X(m, 2, 5), [0, 1]), TE, "target", "list"),
    C("nll_loss target out of range", lambda m: F(m).nll_loss(X(m, 2, 5), T(m, [0, 7])), IE, "target", "7"),
    C("nll_loss batch size", lambda m: F(m).nll_loss(X(m, 2, 5), T(m, [0])), V, "target", "(1,)"),
    C("nll_loss spatial target", lambda m: F(m).nll_loss(X(m, 2, 5, 3), Int(m, 2, 4)), R, "target", "(2, 4)"),
    C("nll_loss float target", lambda m: F(m).nll_loss(X(m, 2, 5), X(m, 2)), R, "target", "float32"),
    C("nll_loss int input", lambda m: F(m).nll_loss(Int(m, 2, 5), T(m, [0, 1])), NI, "input", "int64"),
    C("nll_loss 0-d input", lambda m: F(m).nll_loss(X(m), T(m, 0)), V, "input", "()"),
    C("nll_loss weight shape", lambda m: F(m).nll_loss(X(m, 2, 5), T(m, [0, 1]), weight=X(m, 3)), R, "weight",
      "(3,)"),
    C("nll_loss ignore_index bool", lambda m: F(m).nll_loss(X(m, 2, 5), T(m, [0, 1]), ignore_index=True), TE,
      "ignore_index", "bool"),
    C("mse_loss shapes do not broadcast", lambda m: F(m).mse_loss(X(m, 2, 3), X(m, 4)), R, "target", "(2, 3)",
      "(4,)"),
    C("mse_loss broadcast target", lambda m: F(m).mse_loss(X(m, 2, 3), X(m, 3)), V, "target", "(3,)",
      torch=ACCEPTS, why="PyTorch broadcasts with a warning that it is likely a bug; refused here"),
    C("mse_loss int input and target", lambda m: F(m).mse_loss(Int(m, 2, 3), Int(m, 2, 3)), NI, "input", "int64"),
    C("mse_loss reduction", lambda m: F(m).mse_loss(X(m, 2, 3), X(m, 2, 3), reduction="bad"), V, "reduction",
      "'bad'"),
    C("l1_loss int input and target", lambda m: F(m).l1_loss(Int(m, 2, 3), Int(m, 2, 3)), NI, "input", "int64"),
    C("l1_loss shapes do not broadcast", lambda m: F(m).l1_loss(X(m, 2, 3), X(m, 3, 2)), R, "target", "(3, 2)"),
    C("binary_cross_entropy input above 1", lambda m: F(m).binary_cross_entropy(X(m, 3) * 2, X(m, 3)), R, "input",
      "[0, 1]", "2.0"),
    C("binary_cross_entropy input nan", lambda m: F(m).binary_cross_entropy(X(m, 3) * math.nan, X(m, 3)), R,
      "input", "nan"),
    C("binary_cross_entropy target shape", lambda m: F(m).binary_cross_entropy(X(m, 3) * 0.5, X(m, 2)), V,
      "target", "(2,)"),
    C("binary_cross_entropy weight", lambda m: F(m).binary_cross_entropy(X(m, 3) * 0.5, X(m, 3), weight=X(m, 2)),
      R, "weight", "(2,)"),
    C("binary_cross_entropy weight grows the output", lambda m: F(m).binary_cross_entropy(X(m, 3) * 0.5, X(m, 3),
      weight=X(m, 2, 3)), R, "weight", "(2, 3)"),
    C("binary_cross_entropy int input", lambda m: F(m).binary_cross_entropy(Int(m, 3), X(m, 3)), NI, "input",
      "int64"),
    C("binary_cross_entropy_with_logits target shape", lambda m: F(m).binary_cross_entropy_with_logits(X(m, 3),
      X(m, 2)), V, "target", "(2,)"),
    C("binary_cross_entropy_with_logits pos_weight", lambda m: F(m).binary_cross_entropy_with_logits(X(m, 2, 3),
      X(m, 2, 3), pos_weight=X(m, 2)), R, "pos_weight", "(2,)"),
    C("binary_cross_entropy_with_logits weight", lambda m: F(m).binary_cross_entropy_with_logits(X(m, 2, 3),
      X(m, 2, 3), weight=X(m, 4)), R, "weight", "(4,)"),
    C("binary_cross_entropy_with_logits int input", lambda m: F(m).binary_cross_entropy_with_logits(Int(m, 3),
      X(m, 3)), NI, "input", "int64"),
    C("binary_cross_entropy_with_logits reduction", lambda m: F(m).binary_cross_entropy_with_logits(X(m, 3),
      X(m, 3), reduction=1), V, "reduction", "1"),
    # -- activations and the softmax family ----------------------------------------------------------------------
    C("softmax int input", lambda m: F(m).softmax(Int(m, 2, 3), 0), NI, "input", "int64"),
    C("softmax bool input", lambda m: F(m).softmax(B(m, 2, 3), 0), NI, "input", "bool"),
    C("softmax dtype int", lambda m: F(m).softmax(X(m, 2, 3), 0, dtype=m.int64), NI, "input", "int64"),
    C("softmax dtype str", lambda m: F(m).softmax(X(m, 2, 3), 0, dtype="foo"), TE, "dtype", "'foo'"),
    C("softmax dim out of range", lambda m: F(m).softmax(X(m, 2, 3), 2), IE, "[-2, 1]", "2"),
    C("softmax dim float", lambda m: F(m).softmax(X(m, 2, 3), 1.5), TE, "dim", "float"),
    C("softmax dim bool", lambda m: F(m).softmax(X(m, 2, 3), True), TE, "dim", "bool"),
    C("softmax 0-d dim 1", lambda m: F(m).softmax(X(m), 1), IE, "[-1, 0]", "1"),
    C("log_softmax int input", lambda m: F(m).log_softmax(Int(m, 2, 3), 1), NI, "input", "int64"),
    C("log_softmax dim out of range", lambda m: F(m).log_softmax(X(m, 2, 3), -3), IE, "-3"),
    C("tc.softmax int input", lambda m: m.softmax(Int(m, 2, 3), 0), NI, "input", "int64"),
    C("relu bool input", lambda m: F(m).relu(B(m, 3)), R, "input", "bool"),
    C("leaky_relu int input", lambda m: F(m).leaky_relu(Int(m, 3)), NI, "input", "int64"),
    C("leaky_relu slope str", lambda m: F(m).leaky_relu(X(m, 3), "a"), TE, "negative_slope", "str"),
    C("elu int input", lambda m: F(m).elu(Int(m, 3)), NI, "input", "int64"),
    C("elu alpha str", lambda m: F(m).elu(X(m, 3), "a"), TE, "alpha", "str"),
    C("gelu int input", lambda m: F(m).gelu(Int(m, 3)), NI, "input", "int64"),
    C("gelu approximate 'erf'", lambda m: F(m).gelu(X(m, 3), approximate="erf"), R, "approximate", "'erf'"),
    C("gelu approximate None", lambda m: F(m).gelu(X(m, 3), approximate=None), TE, "approximate", "NoneType"),
    C("softplus int input", lambda m: F(m).softplus(Int(m, 3)), NI, "input", "int64"),
    C("softplus beta str", lambda m: F(m).softplus(X(m, 3), beta="a"), TE, "beta", "str"),
    C("silu int input", lambda m: F(m).silu(Int(m, 3)), NI, "input", "int64"),
    C("sigmoid list input", lambda m: F(m).sigmoid([1.0]), TE, "input", "list", torch=AttributeError,
      why="PyTorch's F.sigmoid calls input.sigmoid() on the list"),
    # -- reductions ---------------------------------------------------------------------------------------------
    C("sum dim out of range", lambda m: X(m, 2, 3).sum(2), IE, "[-2, 1]", "2"),
    C("sum dim float", lambda m: X(m, 2, 3).sum(1.5), TE, "dim", "float"),
    C("sum dim str", lambda m: X(m, 2, 3).sum("a"), TE, "dim", "str"),
    C("sum repeated dims", lambda m: X(m, 2, 3).sum((0, 0)), R, "dim 0", "multiple times"),
    C("sum dims with a float", lambda m: X(m, 2, 3).sum((0, 1.5)), TE, "dim", "float"),
    C("sum keepdim int", lambda m: X(m, 2, 3).sum(0, keepdim=1), TE, "keepdim", "int"),
    C("sum dtype str", lambda m: X(m, 2, 3).sum(dtype="foo"), TE, "dtype", "'foo'"),
    C("sum of 0-d over (1,)", lambda m: X(m).sum((1,)), IE, "[-1, 0]", "1"),
    C("tc.sum list", lambda m: m.sum([1.0, 2.0]), TE, "input", "list"),
    C("mean int", lambda m: Int(m, 3).mean(), R, "input", "int64"),
    C("mean bool", lambda m: B(m, 3).mean(), R, "input", "bool"),
    C("tc.mean float", lambda m: m.mean(1.5), TE, "input", "float"),
    C("amax repeated dims", lambda m: X(m, 2, 3).amax((1, -1)), R, "dim 1", "multiple times"),
    C("amax over an empty dim", lambda m: X(m, 0, 3).amax(0), IE, "dim 0", "(0, 3)"),
    C("amax of an empty tensor", lambda m: X(m, 0, 3).amax(), R, "empty", "(0, 3)"),
    C("max of an empty tensor", lambda m: X(m, 0).max(), R, "empty", "(0,)"),
    C("max over an empty dim", lambda m: X(m, 0, 3).max(0), IE, "dim 0", "(0, 3)"),
    C("max tuple dim", lambda m: X(m, 2, 3).max((0,)), TE, "dim", "tuple"),
    C("max dim out of range", lambda m: X(m, 2, 3).max(3), IE, "[-2, 1]", "3"),
    C("max keepdim str", lambda m: X(m, 2, 3).max(0, keepdim="a"), TE, "keepdim", "str"),
    C("argmax of an empty tensor", lambda m: X(m, 0).argmax(), IE, "empty", "(0,)"),
    C("argmax over an empty dim", lambda m: X(m, 0, 3).argmax(0), IE, "dim 0", "(0, 3)"),
    C("argmax tuple dim", lambda m: X(m, 2, 3).argmax((0,)), TE, "dim", "tuple"),
    C("argmin dim out of range", lambda m: X(m, 2, 3).argmin(-3), IE, "-3"),
    C("var int", lambda m: Int(m, 3).var(), R, "input", "int64"),
    C("var unbiased and correction", lambda m: X(m, 3).var(unbiased=True, correction=1), TE, "unbiased",
      "correction"),
    C("var correction str", lambda m: X(m, 3).var(correction="a"), TE, "correction", "str"),
    C("var unbiased str", lambda m: X(m, 3).var(0, "a"), TE, "unbiased", "str"),
    C("std repeated dims", lambda m: X(m, 2, 3).std((0, 0)), R, "dim 0", "multiple times"),
    C("logsumexp dim out of range", lambda m: X(m, 3).logsumexp(1), IE, "[-1, 0]", "1"),
    C("logsumexp keepdim str", lambda m: X(m, 3).logsumexp(0, keepdim="a"), TE, "keepdim", "str"),
    # -- movement -----------------------------------------------------------------------------------------------
    C("reshape wrong size", lambda m: X(m, 2, 3, 4).reshape(5, 5), R, "[5, 5]", "24"),
    C("reshape two -1", lambda m: X(m, 2, 3, 4).reshape(-1, -1), R, "shape", "only one dimension"),
    C("reshape -2", lambda m: X(m, 2, 3, 4).reshape(-2, 12), R, "shape", "-2"),
    C("reshape -1 with 0", lambda m: X(m, 0, 3).reshape(-1, 0), R, "[-1, 0]", "0"),
    C("reshape float", lambda m: X(m, 2, 3, 4).reshape(2.5, 12), TE, "shape", "2.5"),
    C("reshape str", lambda m: X(m, 2, 3, 4).reshape("a"), TE, "shape", "'a'"),
    C("reshape None", lambda m: X(m, 2, 3, 4).reshape(None), TE, "shape", "None"),
    C("reshape nested", lambda m: X(m, 2, 3, 4).reshape((2, (3, 4))), TE, "shape", "(3, 4)"),
    C("tc.reshape float shape", lambda m: m.reshape(X(m, 2, 3, 4), (2.0, 12)), TE, "shape", "2.0"),
    C("tc.reshape int shape", lambda m: m.reshape(X(m, 2, 3, 4), 24), TE, "shape", "int"),
    C("view wrong size", lambda m: X(m, 2, 3, 4).view(7), R, "[7]", "24"),
    C("view_as list", lambda m: X(m, 2, 3).view_as([1]), TE, "other", "list"),
    C("reshape_as wrong size", lambda m: X(m, 2, 3).reshape_as(X(m, 5)), R, "[5]", "6"),
    C("permute too few dims", lambda m: X(m, 2, 3, 4).permute(0, 1), R, "dims", "2", "3D"),
    C("permute repeated dim", lambda m: X(m, 2, 3, 4).permute(0, 0, 1), R, "dims", "(0, 0, 1)"),
    C("permute dim out of range", lambda m: X(m, 2, 3, 4).permute(0, 1, 3), IE, "[-3, 2]", "3"),
    C("permute float dim", lambda m: X(m, 2, 3, 4).permute(0, 1, 2.0), TE, "dims", "2.0"),
    C("tc.permute float dim", lambda m: m.permute(X(m, 2, 3, 4), (0, 1, 2.0)), TE, "dims", "2.0"),
    C("transpose dim out of range", lambda m: X(m, 2, 3, 4).transpose(0, 3), IE, "[-3, 2]", "3"),
    C("transpose float dim", lambda m: X(m, 2, 3, 4).transpose(0, 1.0), TE, "dim", "float"),
    C("transpose 0-d dim 1", lambda m: X(m).transpose(0, 1), IE, "[-1, 0]", "1"),
    C("t of 3-D", lambda m: X(m, 2, 3, 4).t(), R, "2 dimensions", "3D"),
    C("mT of 1-D", lambda m: X(m, 3).mT, R, "2 dimensions", "1"),
    C("squeeze dim out of range", lambda m: X(m, 2, 3, 4).squeeze(3), IE, "[-3, 2]", "3"),
    C("squeeze float dim", lambda m: X(m, 2, 3, 4).squeeze(1.0), TE, "dim", "float"),
    C("squeeze repeated dims", lambda m: X(m, 1, 3, 1).squeeze((0, 0)), R, "dim 0", "multiple times"),
    C("squeeze dims out of range", lambda m: X(m, 1, 3, 1).squeeze((0, 3)), IE, "[-3, 2]", "3"),
    C("unsqueeze dim out of range", lambda m: X(m, 2, 3, 4).unsqueeze(4), IE, "[-4, 3]", "4"),
    C("unsqueeze dim -5", lambda m: X(m, 2, 3, 4).unsqueeze(-5), IE, "-5"),
    C("unsqueeze None", lambda m: X(m, 2, 3, 4).unsqueeze(None), TE, "dim", "NoneType"),
    C("flatten start after end", lambda m: X(m, 2, 3, 4).flatten(2, 1), R, "start_dim", "end_dim"),
    C("flatten dim out of range", lambda m: X(m, 2, 3, 4).flatten(0, 3), IE, "[-3, 2]", "3"),
    C("flatten float dim", lambda m: X(m, 2, 3, 4).flatten(0.0), TE, "dim", "float"),
    C("flatten 0-d dim 1", lambda m: X(m).flatten(1), IE, "[-1, 0]", "1"),
    C("tc.flatten list", lambda m: m.flatten([1, 2]), TE, "input", "list"),
    C("unflatten sizes", lambda m: X(m, 2, 3, 4).unflatten(1, (2, 2)), R, "sizes", "[2, 2]", "(3)"),
    C("unflatten dim out of range", lambda m: X(m, 2, 3, 4).unflatten(3, (2, 2)), IE, "[-3, 2]", "3"),
    C("unflatten float size", lambda m: X(m, 2, 3, 4).unflatten(1, (1.5, 2)), TE, "sizes", "1.5"),
    C("unflatten two -1", lambda m: X(m, 2, 3, 4).unflatten(2, (-1, -1)), R, "sizes", "[-1, -1]"),
    C("unflatten int sizes", lambda m: X(m, 2, 3, 4).unflatten(2, 4), TE, "sizes", "int"),
    C("unflatten empty sizes", lambda m: X(m, 2, 3, 4).unflatten(2, ()), R, "sizes", "()"),
    C("expand mismatch", lambda m: X(m, 2, 3).expand(4, 3), R, "expanded size", "(4)", "(2)"),
    C("expand fewer sizes", lambda m: X(m, 2, 3).expand(3), R, "number of sizes provided (1)", "(2)"),
    C("expand -1 in a new dim", lambda m: X(m, 2, 3).expand(-1, 2, 3), R, "-1", "leading"),
    C("expand float", lambda m: X(m, 1, 3).expand(2.0, 3), TE, "size", "2.0"),
    C("expand_as mismatch", lambda m: X(m, 2, 3).expand_as(X(m, 4, 3)), R, "expanded size", "(4)"),
    C("expand_as list", lambda m: X(m, 2, 3).expand_as([1]), TE, "other", "list"),
    C("broadcast_to mismatch", lambda m: m.broadcast_to(X(m, 2, 3), (4, 3)), R, "expanded size", "(4)"),
    C("broadcast_to list", lambda m: m.broadcast_to([1.0], (4, 3)), TE, "input", "list"),
    C("cat empty list", lambda m: m.cat([]), V, "tensors", "non-empty"),
    C("cat shapes", lambda m: m.cat([X(m, 2, 3), X(m, 2, 4)]), R, "(2, 3)", "(2, 4)"),
    C("cat ranks", lambda m: m.cat([X(m, 2, 3), X(m, 3)]), R, "(2, 3)", "(3,)"),
    C("cat dim out of range", lambda m: m.cat([X(m, 2, 3), X(m, 2, 3)], 2), IE, "[-2, 1]", "2"),
    C("cat float dim", lambda m: m.cat([X(m, 2, 3), X(m, 2, 3)], 1.0), TE, "dim", "float"),
    C("cat non-tensor", lambda m: m.cat([X(m, 2, 3), [1.0]]), TE, "tensors[1]", "list"),
    C("cat a tensor", lambda m: m.cat(X(m, 2, 3)), TE, "tensors", "Tensor"),
    C("cat 0-d", lambda m: m.cat([X(m), X(m)]), R, "zero-dimensional", "position 0"),
    C("stack empty list", lambda m: m.stack([]), R, "tensors", "non-empty"),
    C("stack shapes", lambda m: m.stack([X(m, 2, 3), X(m, 3, 2)]), R, "(2, 3)", "(3, 2)"),
    C("stack dim out of range", lambda m: m.stack([X(m, 2), X(m, 2)], 2), IE, "[-2, 1]", "2"),
    C("stack non-tensor", lambda m: m.stack([X(m, 2), 1.0]), TE, "tensors[1]", "float"),
    C("split size 0", lambda m: X(m, 4).split(0), R, "split_size", "0"),
    C("split size -1", lambda m: X(m, 4).split(-1), R, "split_size", "-1"),
    C("split sections sum", lambda m: X(m, 4).split([1, 2]), R, "split_sizes", "4", "[1, 2]"),
    C("split negative section", lambda m: X(m, 4).split([5, -1]), R, "split_sizes", "[5, -1]"),
    C("split float", lambda m: X(m, 4).split(1.5), TE, "split_size_or_sections", "1.5"),
    C("split float sections", lambda m: X(m, 4).split([2.0, 2.0]), TE, "split_sizes", "2.0"),
    C("split str", lambda m: X(m, 4).split("a"), TE, "split_size_or_sections", "'a'"),
    C("split dim out of range", lambda m: X(m, 4).split(2, 1), IE, "[-1, 0]", "1"),
    C("split 0-d", lambda m: X(m).split(1), R, "input", "0-d"),
    C("chunk 0", lambda m: X(m, 4).chunk(0), R, "chunks", "0"),
    C("chunk float", lambda m: X(m, 4).chunk(2.5), TE, "chunks", "2.5"),
    C("chunk dim out of range", lambda m: X(m, 4).chunk(2, 1), IE, "[-1, 0]", "1"),
    C("chunk 0-d", lambda m: X(m).chunk(1), R, "input", "0-d"),
    C("unbind 0-d", lambda m: X(m).unbind(0), IE, "dim", "no dimensions"),
    C("unbind dim out of range", lambda m: X(m, 2).unbind(1), IE, "[-1, 0]", "1"),
    C("flip repeated dim", lambda m: X(m, 2, 3, 4).flip(0, 0), R, "dims", "(0, 0)"),
    C("flip dim out of range", lambda m: X(m, 2, 3, 4).flip(3), IE, "[-3, 2]", "3"),
    C("flip float dim", lambda m: X(m, 2, 3, 4).flip(1.0), TE, "dims", "1.0"),
    C("tc.flip int dims", lambda m: m.flip(X(m, 2, 3, 4), 0), TE, "dims", "int"),
    C("pad odd length", lambda m: F(m).pad(X(m, 2, 3), (1,)), R, "pad", "1"),
    C("pad float", lambda m: F(m).pad(X(m, 2, 3), (1.5, 1)), TE, "pad", "1.5"),
    # -- indexing -----------------------------------------------------------------------------------------------
    C("index out of range", lambda m: X(m, 2, 3)[2], IE, "2", "size 2"),
    C("negative index out of range", lambda m: X(m, 2, 3)[-3], IE, "-3"),
    C("too many indices", lambda m: X(m, 2, 3)[0, 0, 0], IE, "too many indices"),
    C("float index", lambda m: X(m, 2, 3)[1.0], IE, "1.0"),
    C("string index", lambda m: X(m, 2, 3)["a"], TE, "index", "'a'"),
    C("float tensor index", lambda m: X(m, 2, 3)[X(m, 1)], IE, "float32"),
    C("mask of the wrong shape", lambda m: X(m, 2, 3)[B(m, 3)], IE, "boolean", "(2, 3)"),
    C("int tensor index out of range", lambda m: X(m, 2, 3)[T(m, [0, 5])], IE, "5"),
    C("indices that do not broadcast", lambda m: X(m, 2, 3)[T(m, [0, 1]), T(m, [0, 1, 2])], IE, "(2,)", "(3,)"),
    C("index a 0-d tensor", lambda m: X(m)[0], IE, "0", "()"),
    C("slice step 0", lambda m: X(m, 2, 3)[::0], V, "slice step"),
    C("setitem value of another shape", lambda m: setitem(X(m, 2, 3), 0, X(m, 4)), R, "(4,)", "(3,)"),
    C("setitem index out of range", lambda m: setitem(X(m, 2, 3), 5, 1.0), IE, "5", "size 2"),
    C("setitem float index", lambda m: setitem(X(m, 2, 3), 1.5, 1.0), IE, "1.5"),
    C("setitem str value", lambda m: setitem(X(m, 2, 3), 0, "a"), TE, "value", "str"),
    # -- matmul and elementwise ---------------------------------------------------------------------------------
    C("matmul inner dims", lambda m: X(m, 2, 3) @ X(m, 4, 5), R, "(2x3 and 4x5)"),
    C("matmul 0-d", lambda m: X(m) @ X(m, 3), R, "0D"),
    C("matmul batch dims", lambda m: X(m, 2, 2, 3) @ X(m, 3, 3, 4), R, "batch dims", "(2,)", "(3,)"),
    C("matmul 1-D mismatch", lambda m: X(m, 3) @ X(m, 4), R, "3", "4"),
    C("matmul scalar", lambda m: m.matmul(X(m, 2), 2.0), TE, "scalar"),
    C("matmul int @ float", lambda m: Int(m, 2, 3) @ X(m, 3, 2), R, "int64", "float32"),
    C("matmul bool", lambda m: B(m, 2, 3) @ B(m, 3, 2), NI, "input", "bool"),
    C("add shapes", lambda m: X(m, 2, 3) + X(m, 4), R, "(2, 3)", "(4,)"),
    C("add str", lambda m: X(m, 2, 3) + "a", TE, "other", "str"),
    C("add None", lambda m: X(m, 2, 3) + None, TE, "other", "NoneType"),
    C("add alpha str", lambda m: X(m, 2).add(X(m, 2), alpha="a"), TE, "alpha", "str"),
    C("mul shapes", lambda m: X(m, 2, 3) * X(m, 2, 1, 4, 5), R, "(2, 3)", "(2, 1, 4, 5)"),
    C("pow shapes", lambda m: X(m, 2, 3) ** X(m, 4), R, "exponent", "(4,)"),
    C("sub bool tensors", lambda m: B(m, 2) - B(m, 2), R, "bool"),
    C("sub bool and number", lambda m: B(m, 2) - 1, R, "bool"),
    C("neg bool", lambda m: -B(m, 2), R, "bool"),
    C("neg list", lambda m: m.neg([1.0]), TE, "input", "list"),
    C("eq shapes", lambda m: X(m, 2, 3) == X(m, 4), R, "(2, 3)", "(4,)"),
    C("lt shapes", lambda m: X(m, 2, 3) < X(m, 4), R, "(2, 3)", "(4,)"),
    C("and of floats", lambda m: X(m, 2) & X(m, 2), NI, "float32"),
    C("invert float", lambda m: ~X(m, 2), TE, "float32"),
    C("maximum shapes", lambda m: m.maximum(X(m, 2, 3), X(m, 4)), R, "(2, 3)", "(4,)"),
    C("maximum str", lambda m: m.maximum(X(m, 2, 3), "a"), TE, "other", "str"),
    C("clamp without bounds", lambda m: X(m, 2).clamp(), R, "min", "max"),
    C("clamp str bound", lambda m: X(m, 2).clamp("a"), TE, "min", "str"),
    C("clamp tensor bound shape", lambda m: X(m, 2, 3).clamp(X(m, 4)), R, "min (4,)", "(2, 3)"),
    C("where non-bool condition", lambda m: m.where(X(m, 2), X(m, 2), X(m, 2)), R, "condition", "float32"),
    C("where shapes", lambda m: m.where(B(m, 2, 3), X(m, 4), X(m, 2, 3)), R, "input (4,)", "(2, 3)"),
    C("where str", lambda m: m.where(B(m, 2), X(m, 2), "a"), TE, "other", "str"),
    C("exp list", lambda m: m.exp([1.0]), TE, "input", "list"),
    C("sqrt str", lambda m: m.sqrt("a"), TE, "input", "str"),
    C("abs bool", lambda m: m.abs(B(m, 2)), NI, "input", "bool"),
    C("sign list", lambda m: m.sign([1.0]), TE, "input", "list"),
    # -- factories ----------------------------------------------------------------------------------------------
    C("zeros -1", lambda m: m.zeros(-1), R, "negative dimension", "-1"),
    C("ones negative", lambda m: m.ones(2, -1), R, "negative dimension", "(2, -1)"),
    C("empty -1", lambda m: m.empty(-1), R, "negative dimension"),
    C("rand -1", lambda m: m.rand(-1), R, "negative dimension"),
    C("zeros 2.5", lambda m: m.zeros(2.5), TE, "size", "2.5"),
    C("zeros str", lambda m: m.zeros("a"), TE, "size", "'a'"),
    C("zeros None", lambda m: m.zeros(None), TE, "size", "None"),
    C("zeros bool", lambda m: m.zeros(True), TE, "size", "True"),
    C("zeros nested", lambda m: m.zeros((2, (3,))), TE, "size", "(3,)"),
    C("zeros dtype str", lambda m: m.zeros(2, dtype="foo"), TE, "dtype", "'foo'"),
    C("zeros dtype object", lambda m: m.zeros(2, dtype=object), TE, "dtype", "object"),
    C("zeros int requires_grad", lambda m: m.zeros(2, dtype=m.int64, requires_grad=True), R, "floating point",
      "int64"),
    C("randn 2.5", lambda m: m.randn(2.5), TE, "size", "2.5"),
    C("rand int dtype", lambda m: m.rand(2, dtype=m.int64), NI, "dtype", "int64"),
    C("randn int dtype", lambda m: m.randn(2, dtype=m.int64), NI, "dtype", "int64"),
    C("full -1", lambda m: m.full((-1,), 1.0), R, "negative dimension"),
    C("full str value", lambda m: m.full((2,), "a"), TE, "fill_value", "'a'"),
    C("full None value", lambda m: m.full((2,), None), TE, "fill_value", "None"),
    C("full float size", lambda m: m.full((2.5,), 1.0), TE, "size", "2.5"),
    C("zeros_like list", lambda m: m.zeros_like([1.0]), TE, "input", "list"),
    C("ones_like ndarray", lambda m: m.ones_like(np.ones(2)), TE, "input", "ndarray"),
    C("empty_like list", lambda m: m.empty_like([1.0]), TE, "input", "list"),
    C("full_like list", lambda m: m.full_like([1.0], 2.0), TE, "input", "list"),
    C("full_like str value", lambda m: m.full_like(X(m, 2), "a"), TE, "fill_value", "'a'"),
    C("arange step 0", lambda m: m.arange(0, 5, 0), R, "step", "nonzero"),
    C("arange wrong sign", lambda m: m.arange(5, 0, 1), R, "step", "start=5"),
    C("arange negative end", lambda m: m.arange(-3), R, "end=-3"),
    C("arange nan", lambda m: m.arange(math.nan), R, "finite", "nan"),
    C("arange inf", lambda m: m.arange(math.inf), R, "finite", "inf"),
    C("arange str", lambda m: m.arange("a"), TE, "end", "'a'"),
    C("arange None", lambda m: m.arange(None), TE, "end", "None"),
    C("arange int requires_grad", lambda m: m.arange(3, requires_grad=True), R, "floating point"),
    C("linspace steps -1", lambda m: m.linspace(0, 1, -1), R, "steps", "-1"),
    C("linspace steps 2.5", lambda m: m.linspace(0, 1, 2.5), TE, "steps", "2.5"),
    C("linspace steps bool", lambda m: m.linspace(0, 1, True), TE, "steps", "True"),
    C("linspace end str", lambda m: m.linspace(0, "a", 2), TE, "end", "'a'"),
    C("eye -1", lambda m: m.eye(-1), R, "n", "-1"),
    C("eye m -1", lambda m: m.eye(2, -1), R, "m", "-1"),
    C("eye 2.5", lambda m: m.eye(2.5), TE, "n", "2.5"),
    C("eye str", lambda m: m.eye("a"), TE, "n", "'a'"),
    C("randint high <= low", lambda m: m.randint(5, 5, (2,)), R, "high (5)", "low (5)"),
    C("randint without size", lambda m: m.randint(5), TE, "size"),
    C("randint float high", lambda m: m.randint(0, 5.5, (2,)), TE, "high", "5.5"),
    C("randint str high", lambda m: m.randint(0, "a", (2,)), TE, "high", "'a'"),
    C("randint negative size", lambda m: m.randint(0, 5, (-1,)), R, "negative dimension"),
    C("randperm -1", lambda m: m.randperm(-1), R, "n", "-1"),
    C("randperm 2.5", lambda m: m.randperm(2.5), TE, "n", "2.5"),
    C("randperm str", lambda m: m.randperm("a"), TE, "n", "'a'"),
    C("tensor ragged", lambda m: m.tensor([[1, 2], [3]]), V, "data", "rectangular"),
    C("tensor of strings", lambda m: m.tensor(["a"]), V, "data", "str"),
    C("tensor None", lambda m: m.tensor(None), R, "data", "NoneType"),
    C("tensor dict", lambda m: m.tensor({1: 2}), R, "data", "dict"),
    C("tensor object array", lambda m: m.tensor(np.array([1, "a"], dtype=object)), TE, "data", "ndarray"),
    C("tensor int requires_grad", lambda m: m.tensor([1, 2], requires_grad=True), R, "floating point"),
    C("tensor dtype str", lambda m: m.tensor([1.0], dtype="foo"), TE, "dtype", "'foo'"),
    C("from_numpy list", lambda m: m.from_numpy([1.0]), TE, "array", "list"),
    C("from_numpy str array", lambda m: m.from_numpy(np.array(["a"])), TE, "array", "<U1"),
    C("as_tensor strings", lambda m: m.as_tensor(["a"]), V, "data", "str"),
    # -- Tensor methods -----------------------------------------------------------------------------------------
    C("size dim out of range", lambda m: X(m, 2, 3).size(2), IE, "[-2, 1]", "2"),
    C("size float dim", lambda m: X(m, 2, 3).size(1.0), TE, "dim", "float"),
    C("item of 2 elements", lambda m: X(m, 2).item(), R, "2 elements"),
    C("item of 0 elements", lambda m: X(m, 0).item(), R, "0 elements"),
    C("float() of 2 elements", lambda m: float(X(m, 2)), V, "one element", "2"),
    C("int() of 2 elements", lambda m: int(X(m, 2)), V, "one element", "2"),
    C("bool() of 2 elements", lambda m: bool(X(m, 2)), R, "ambiguous"),
    C("len of 0-d", lambda m: len(X(m)), TE, "0-d"),
    C("iter of 0-d", lambda m: iter(X(m)), TE, "0-d"),
    C("float tensor as index", lambda m: [1, 2, 3][X(m)], TE, "integer tensors", "single element"),
    C("to unknown device", lambda m: X(m, 2).to("foo"), R, "'foo'", "cpu"),
    C("to device index", lambda m: X(m, 2).to(3), R, "device", "3"),
    C("type unknown", lambda m: X(m, 2).type("foo"), V, "type", "'foo'"),
    C("requires_grad_ of int", lambda m: Int(m, 2).requires_grad_(), R, "floating point", "int64"),
    C("numpy of requires_grad", lambda m: X(m, 2).requires_grad_().numpy(), R, "requires grad", "detach"),
    C("backward non-scalar", lambda m: (X(m, 2).requires_grad_() * 2).backward(), R, "scalar outputs", "(2,)"),
    C("backward without grad", lambda m: X(m, 2).sum().backward(), R, "does not require grad"),
    C("backward gradient shape", lambda m: (X(m, 2).requires_grad_() * 2).backward(X(m, 3)), R, "(3,)", "(2,)"),
    C("backward gradient list", lambda m: (X(m, 2).requires_grad_() * 2).backward([1.0, 1.0]), TE, "gradient",
      "list"),
    C("register_hook without grad", lambda m: X(m, 2).register_hook(lambda g: g), R, "hook",
      "doesn't require gradient"),
    C("retain_grad without grad", lambda m: X(m, 2).retain_grad(), R, "retain_grad", "requires_grad=False"),
    C("add_ shapes", lambda m: X(m, 2, 3).add_(X(m, 4)), R, "other", "(4,)", "(2, 3)"),
    C("add_ grows", lambda m: X(m, 3).add_(X(m, 2, 3)), R, "other", "(2, 3)", "(3,)"),
    C("add_ float into int", lambda m: Int(m, 3).add_(1.5), R, "add_", "int64"),
    C("add_ str", lambda m: X(m, 3).add_("a"), TE, "other", "str"),
    C("add_ alpha str", lambda m: X(m, 3).add_(X(m, 3), alpha="a"), TE, "alpha", "str"),
    C("sub_ shapes", lambda m: X(m, 2, 3).sub_(X(m, 4)), R, "other", "(4,)"),
    C("mul_ shapes", lambda m: X(m, 2, 3).mul_(X(m, 4)), R, "other", "(4,)"),
    C("div_ int", lambda m: Int(m, 3).div_(2), R, "div_", "int64"),
    C("pow_ shapes", lambda m: X(m, 2, 3).pow_(X(m, 4)), R, "exponent", "(4,)"),
    C("addcmul_ shapes", lambda m: X(m, 2, 3).addcmul_(X(m, 4), X(m, 4)), R, "tensor1", "(4,)"),
    C("copy_ shapes", lambda m: X(m, 2, 3).copy_(X(m, 4)), R, "src", "(4,)"),
    C("fill_ with a 1-D tensor", lambda m: X(m, 2).fill_(X(m, 2)), R, "value", "(2,)"),
    C("fill_ str", lambda m: X(m, 2).fill_("a"), TE, "value", "str"),
    C("clamp_ without bounds", lambda m: X(m, 2).clamp_(), R, "min", "max"),
    C("clamp_ shapes", lambda m: X(m, 2, 3).clamp_(X(m, 4)), R, "min", "(4,)"),
    C("uniform_ of int", lambda m: Int(m, 2).uniform_(), NI, "uniform_", "int64"),
    C("uniform_ a > b", lambda m: X(m, 2).uniform_(1, 0), R, "uniform_", "a=1"),
    C("normal_ std -1", lambda m: X(m, 2).normal_(0, -1), R, "std", "-1"),
    C("setitem on a leaf that requires grad", lambda m: setitem(X(m, 2, 3).requires_grad_(), 0, 1.0), R,
      "leaf", "in-place"),
]
# fmt: on

# PyTorch's accepted calls that must work here too, with PyTorch's output shape (empty batches, 1-tuples, ...).
ACCEPTED = [
    ("conv2d empty batch", lambda m: F(m).conv2d(X(m, 0, 2, 5, 5), X(m, 4, 2, 3, 3))),
    ("conv2d empty batch, groups", lambda m: F(m).conv2d(X(m, 0, 4, 5, 5), X(m, 4, 2, 3, 3), groups=2, stride=2)),
    ("conv2d stride 1-tuple", lambda m: F(m).conv2d(X(m, 1, 1, 5, 5), X(m, 1, 1, 2, 2), stride=(2,))),
    ("conv2d int input and weight", lambda m: F(m).conv2d(Int(m, 1, 1, 5, 5), Int(m, 1, 1, 3, 3))),
    ("conv1d empty batch", lambda m: F(m).conv1d(X(m, 0, 2, 5), X(m, 4, 2, 3))),
    ("conv_transpose2d empty batch", lambda m: F(m).conv_transpose2d(X(m, 0, 2, 5, 5), X(m, 2, 4, 3, 3),
                                                                    stride=2)),
    ("linear empty batch", lambda m: F(m).linear(X(m, 0, 3), X(m, 4, 3), X(m, 4))),
    ("linear 1-D weight", lambda m: F(m).linear(X(m, 2, 3), X(m, 3))),
    ("linear broadcast bias", lambda m: F(m).linear(X(m, 2, 3), X(m, 4, 3), X(m, 1))),
    ("linear 0-d bias", lambda m: F(m).linear(X(m, 2, 3), X(m, 4, 3), X(m))),
    ("linear 2-D bias", lambda m: F(m).linear(X(m, 2, 3), X(m, 4, 3), X(m, 2, 4))),
    ("linear int input and weight", lambda m: F(m).linear(Int(m, 2, 3), Int(m, 4, 3))),
    ("max_pool2d empty batch", lambda m: F(m).max_pool2d(X(m, 0, 1, 4, 4), 2)),
    ("max_pool2d kernel 1-tuple", lambda m: F(m).max_pool2d(x4(m), (2,))),
    ("max_pool2d stride 1-tuple", lambda m: F(m).max_pool2d(x4(m), 2, stride=(1,))),
    ("avg_pool2d empty batch", lambda m: F(m).avg_pool2d(X(m, 0, 1, 4, 4), 2)),
    ("avg_pool2d negative divisor", lambda m: F(m).avg_pool2d(x4(m), 2, divisor_override=-1)),
    ("adaptive_avg_pool2d empty batch", lambda m: F(m).adaptive_avg_pool2d(X(m, 0, 1, 4, 4), 2)),
    ("adaptive_avg_pool2d no channels", lambda m: F(m).adaptive_avg_pool2d(X(m, 1, 0, 4, 4), 2)),
    ("adaptive_avg_pool2d output 0", lambda m: F(m).adaptive_avg_pool2d(x4(m), (0, 2))),
    ("adaptive_max_pool2d empty batch", lambda m: F(m).adaptive_max_pool2d(X(m, 0, 1, 4, 4), 2)),
    ("adaptive_max_pool2d output 0", lambda m: F(m).adaptive_max_pool2d(x4(m), 0)),
    ("batch_norm empty batch, training", lambda m: F(m).batch_norm(X(m, 0, 3), X(m, 3), X(m, 3), training=True)),
    ("batch_norm bias of 3 elements", lambda m: F(m).batch_norm(X(m, 4, 3), X(m, 3), X(m, 3), bias=X(m, 3, 1))),
    ("layer_norm empty batch", lambda m: F(m).layer_norm(X(m, 0, 3), (3,))),
    ("group_norm empty batch", lambda m: F(m).group_norm(X(m, 0, 6, 3), 2)),
    ("local_response_norm int input", lambda m: F(m).local_response_norm(Int(m, 2, 3, 4), 2)),
    ("dropout p True", lambda m: F(m).dropout(X(m, 3), True)),
    ("dropout int input in eval", lambda m: F(m).dropout(Int(m, 3), 0.5, training=False)),
    ("dropout int input, p 0", lambda m: F(m).dropout(Int(m, 3), 0.0)),
    ("dropout2d empty batch", lambda m: F(m).dropout2d(X(m, 0, 2, 3, 4), 0.5)),
    ("cross_entropy empty batch", lambda m: F(m).cross_entropy(X(m, 0, 5), m.zeros(0, dtype=m.int64))),
    ("cross_entropy empty batch, none", lambda m: F(m).cross_entropy(X(m, 0, 5), m.zeros(0, dtype=m.int64),
                                                                     reduction="none")),
    ("cross_entropy label_smoothing True", lambda m: F(m).cross_entropy(X(m, 2, 5), T(m, [0, 1]),
                                                                        label_smoothing=True)),
    ("cross_entropy no classes, probabilities", lambda m: F(m).cross_entropy(X(m, 2, 0), X(m, 2, 0))),
    ("mse_loss int input, float target", lambda m: F(m).mse_loss(Int(m, 2, 3), X(m, 2, 3))),
    ("l1_loss int input, float target", lambda m: F(m).l1_loss(Int(m, 2, 3), X(m, 2, 3))),
    ("softmax over an empty dim", lambda m: F(m).softmax(X(m, 2, 0), 1)),
    ("log_softmax of an empty batch", lambda m: F(m).log_softmax(X(m, 0, 3), 0)),
    ("softmax of int with a float dtype", lambda m: F(m).softmax(Int(m, 2, 3), 0, dtype=m.float32)),
    ("softplus beta 0", lambda m: F(m).softplus(X(m, 3) * 0 - 1, beta=0)),
    ("sum of 0-d over (0,)", lambda m: X(m).sum((0,))),
    ("max(other)", lambda m: X(m, 2, 3).max(X(m, 2, 3))),
    ("argmax of an empty tensor over a non-empty dim", lambda m: X(m, 0, 3).argmax(1)),
    ("amax of an empty tensor over a non-empty dim", lambda m: X(m, 0, 3).amax(1)),
    ("reshape to a tensor size", lambda m: X(m, 2, 3, 4).reshape(T(m, 24))),
    ("view with a tensor size", lambda m: X(m, 6).view(T(m, 2), 3)),
    ("expand to a tensor size", lambda m: X(m, 1).expand(T(m, 3))),
    ("zeros of a tensor size", lambda m: m.zeros(T(m, 2))),
    ("cat skips empty 1-D tensors", lambda m: m.cat([X(m, 2, 3), X(m, 0)])),
    ("sign of bool", lambda m: m.sign(B(m, 2))),
    ("copy_ float into int", lambda m: Int(m, 2).copy_(X(m, 2) * 1.5)),
    ("matmul of an empty batch", lambda m: X(m, 0, 3) @ X(m, 3, 2)),
]  # fmt: skip


def _builtin_kind(e: BaseException) -> type[BaseException]:
    """The builtin exception class an ``except`` clause would name (PyTorch raises subclasses of these)."""
    for k in (IndexError, TypeError, ValueError, NotImplementedError, RuntimeError, ZeroDivisionError):
        if isinstance(e, k):
            return k
    return type(e)


def test_case_count() -> None:
    assert len(CASES) >= 400 and len({c.id for c in CASES}) == len(CASES)
    assert len({a[0] for a in ACCEPTED}) == len(ACCEPTED)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_call_raises_the_expected_kind_naming_the_argument(case: Case) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy's nan/overflow warnings are not the point here
        with pytest.raises(Exception) as info:  # noqa: B017 - the exact kind is checked below
            case.call(tc)
    e = info.value
    assert type(e) is case.kind, f"expected {case.kind.__name__}, got {type(e).__module__}.{type(e).__name__}: {e}"
    for name in case.names:
        assert name in str(e), f"{name!r} is not in the message: {e}"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_kind_matches_pytorch(torch: Any, case: Case) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            case.call(torch)
        except Exception as e:  # noqa: BLE001 - any exception's kind is compared
            got: Any = _builtin_kind(e)
        else:
            got = ACCEPTS
    if case.torch is SAME:
        assert got is not ACCEPTS, f"PyTorch accepts this call: {case.id}"
        assert issubclass(case.kind, got), f"PyTorch raises {got.__name__}, the table says {case.kind.__name__}"
    else:  # a deliberate difference: check PyTorch still does what the table says
        assert case.why and got == case.torch, f"PyTorch now gives {got}; the table says {case.torch} ({case.why})"


@pytest.mark.parametrize("call", [a[1] for a in ACCEPTED], ids=[a[0] for a in ACCEPTED])
def test_calls_pytorch_accepts_work_here(call: Callable[[Any], Any]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        out = call(tc)
    assert isinstance(out, tc.Tensor)


@pytest.mark.parametrize("call", [a[1] for a in ACCEPTED], ids=[a[0] for a in ACCEPTED])
def test_calls_pytorch_accepts_give_its_shape(torch: Any, call: Callable[[Any], Any]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours, theirs = call(tc), call(torch)
    assert ours.shape == tuple(theirs.shape)


# -- hypothesis: malformed arguments drawn from each family --------------------------------------------------------
def _raises(kind: type[Exception], call: Callable[[], Any], *names: str) -> BaseException:
    """``call`` raises exactly ``kind`` (a builtin: never numpy's subclasses) with every name in its message."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(Exception) as info:  # noqa: B017 - checked below
            call()
    e = info.value
    assert type(e) is kind, f"expected {kind.__name__}, got {type(e).__module__}.{type(e).__name__}: {e}"
    assert type(e).__module__ == "builtins"
    for name in names:
        assert name in str(e), f"{name!r} is not in the message: {e}"
    return e


Fn = tc.nn.functional
SIZE_PARAMS = {  # op -> (call with one size-like keyword changed, the keywords that must be >= 1 / >= 0)
    "conv2d": (lambda **k: Fn.conv2d(tc.ones(1, 2, 6, 6), tc.ones(2, 2, 3, 3), **k), ("stride", "dilation"),
               ("padding",)),
    "conv1d": (lambda **k: Fn.conv1d(tc.ones(1, 2, 6), tc.ones(2, 2, 3), **k), ("stride", "dilation"), ("padding",)),
    "conv_transpose2d": (lambda **k: Fn.conv_transpose2d(tc.ones(1, 2, 4, 4), tc.ones(2, 2, 3, 3), **k),
                         ("stride", "dilation"), ("padding", "output_padding")),
    "max_pool2d": (lambda **k: Fn.max_pool2d(tc.ones(1, 2, 6, 6), **{"kernel_size": 2, **k}),
                   ("kernel_size", "stride", "dilation"), ("padding",)),
    "avg_pool2d": (lambda **k: Fn.avg_pool2d(tc.ones(1, 2, 6, 6), **{"kernel_size": 2, **k}),
                   ("kernel_size", "stride"), ("padding",)),
}  # fmt: skip
OPS = sorted(SIZE_PARAMS)


@st.composite
def bad_sizes(draw: st.DrawFn) -> tuple[str, str, Any, type[Exception]]:
    """(op, keyword, bad value, expected kind): below the minimum, of a wrong type, or a tuple of wrong length."""
    op = draw(st.sampled_from(OPS))
    call, positive, non_negative = SIZE_PARAMS[op]
    key = draw(st.sampled_from(positive + non_negative))
    lowest = 1 if key in positive else 0
    pair = op != "conv1d"
    family = draw(st.sampled_from(["too small", "wrong type", "wrong length"]))
    if family == "too small":
        bad = draw(st.integers(-5, lowest - 1))
        if pair and draw(st.booleans()):
            bad = draw(st.permutations([bad, lowest + 1]))
            bad = tuple(bad) if draw(st.booleans()) else list(bad)
        return op, key, bad, RuntimeError
    if family == "wrong type":
        wrong = st.one_of(
            st.floats(allow_nan=True).filter(lambda v: not float(v).is_integer() if math.isfinite(v) else True),
            st.booleans(),
            st.text(max_size=2),
            st.just(2.0),
        )
        bad = draw(wrong)
        if pair and draw(st.booleans()):
            bad = (lowest + 1, bad)
        return op, key, bad, TypeError
    length = draw(st.sampled_from([3, 4, 5]) if pair else st.sampled_from([2, 3]))
    return op, key, tuple([lowest + 1] * length), RuntimeError


@given(bad_sizes())
def test_bad_sizes_raise_pytorchs_kind_naming_the_argument(drawn: tuple[str, str, Any, type[Exception]]) -> None:
    op, key, bad, kind = drawn
    call = SIZE_PARAMS[op][0]
    _raises(kind, lambda: call(**{key: bad}), op, key)


RANKS = {  # op -> (call on an input of the given shape, accepted ranks, kind for the others)
    "conv2d": (lambda s: Fn.conv2d(tc.ones(*s), tc.ones(1, 1, 1, 1)), (3, 4), RuntimeError),
    "conv1d": (lambda s: Fn.conv1d(tc.ones(*s), tc.ones(1, 1, 1)), (2, 3), RuntimeError),
    "conv_transpose2d": (lambda s: Fn.conv_transpose2d(tc.ones(*s), tc.ones(1, 1, 1, 1)), (3, 4), RuntimeError),
    "max_pool2d": (lambda s: Fn.max_pool2d(tc.ones(*s), 1), (3, 4), RuntimeError),
    "avg_pool2d": (lambda s: Fn.avg_pool2d(tc.ones(*s), 1), (3, 4), RuntimeError),
    "adaptive_avg_pool2d": (lambda s: Fn.adaptive_avg_pool2d(tc.ones(*s), 1), (3, 4), RuntimeError),
    "adaptive_max_pool2d": (lambda s: Fn.adaptive_max_pool2d(tc.ones(*s), 1), (3, 4), RuntimeError),
    "batch_norm": (lambda s: Fn.batch_norm(tc.ones(*s), tc.zeros(1), tc.ones(1)), (2, 3, 4, 5), RuntimeError),
    "group_norm": (lambda s: Fn.group_norm(tc.ones(*s), 1), (2, 3, 4, 5), RuntimeError),
    "local_response_norm": (lambda s: Fn.local_response_norm(tc.ones(*s), 1), (3, 4, 5), ValueError),
    "dropout2d": (lambda s: Fn.dropout2d(tc.ones(*s), 0.5), (3, 4), RuntimeError),
    "cross_entropy": (lambda s: Fn.cross_entropy(tc.ones(*s), tc.zeros(*s[:1], *s[2:], dtype=tc.int64)),
                      (1, 2, 3, 4, 5), RuntimeError),
    "nll_loss": (lambda s: Fn.nll_loss(tc.ones(*s), tc.zeros(*s[:1], *s[2:], dtype=tc.int64)), (1, 2, 3, 4, 5),
                 ValueError),
    "linear": (lambda s: Fn.linear(tc.ones(*s), tc.ones(1, 1)), (1, 2, 3, 4, 5), RuntimeError),
}  # fmt: skip


@given(st.sampled_from(sorted(RANKS)), st.integers(0, 5))
def test_inputs_of_a_wrong_rank_raise_pytorchs_kind_naming_input(op: str, rank: int) -> None:
    call, ranks, kind = RANKS[op]
    shape = (1,) * rank
    if rank in ranks:
        call(shape)  # a valid rank (of ones): accepted
    else:
        _raises(kind, lambda: call(shape), "input")


@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 3))
def test_mismatched_channels_raise_runtime_error(c: int, other: int, groups: int) -> None:
    if c == other * groups:
        other += 1
    w = tc.ones(groups, other, 1, 1)
    _raises(RuntimeError, lambda: Fn.conv2d(tc.ones(1, c, 3, 3), w, groups=groups), f"{c} channels")
    _raises(RuntimeError, lambda: Fn.conv1d(tc.ones(1, c, 3), tc.ones(groups, other, 1), groups=groups), "channels")
    _raises(RuntimeError, lambda: Fn.linear(tc.ones(2, c), tc.ones(3, c + other)), f"in_features = {c + other}")
    _raises(RuntimeError, lambda: Fn.batch_norm(tc.ones(2, c), tc.zeros(c + other), tc.ones(c)), "running_mean")
    _raises(RuntimeError, lambda: Fn.layer_norm(tc.ones(2, c), (c + other,)), "normalized_shape")
    _raises(RuntimeError, lambda: Fn.group_norm(tc.ones(2, c * 2 + 1), 2), "num_groups")
    _raises(RuntimeError, lambda: tc.ones(2, c) @ tc.ones(c + other, 2), "cannot be multiplied")


INT_ONLY_FLOAT_OPS = {  # op on an int64 tensor -> PyTorch's kind
    "softmax": (lambda x: Fn.softmax(x, 0), NotImplementedError),
    "log_softmax": (lambda x: Fn.log_softmax(x, 0), NotImplementedError),
    "gelu": (Fn.gelu, NotImplementedError),
    "elu": (Fn.elu, NotImplementedError),
    "silu": (Fn.silu, NotImplementedError),
    "softplus": (Fn.softplus, NotImplementedError),
    "leaky_relu": (Fn.leaky_relu, NotImplementedError),
    "mean": (lambda x: x.mean(), RuntimeError),
    "var": (lambda x: x.var(), RuntimeError),
    "std": (lambda x: x.std(), RuntimeError),
    "dropout": (lambda x: Fn.dropout(x, 0.5), RuntimeError),
    "layer_norm": (lambda x: Fn.layer_norm(x, x.shape[-1:]), NotImplementedError),
    "batch_norm": (lambda x: Fn.batch_norm(x.reshape(1, -1), None, None, training=True), NotImplementedError),
    "conv2d": (lambda x: Fn.conv2d(x.reshape(1, 1, 1, -1), tc.ones(1, 1, 1, 1)), RuntimeError),
    "linear": (lambda x: Fn.linear(x, tc.ones(2, x.shape[-1])), RuntimeError),
    "mse_loss": (lambda x: Fn.mse_loss(x, x), NotImplementedError),
    "cross_entropy": (lambda x: Fn.cross_entropy(x.reshape(1, -1), tc.zeros(1, dtype=tc.int64)),
                      NotImplementedError),
    "max_pool2d": (lambda x: Fn.max_pool2d(x.reshape(1, 1, 1, -1), 1), NotImplementedError),
}  # fmt: skip


@given(st.sampled_from(sorted(INT_ONLY_FLOAT_OPS)), st.integers(1, 4), st.sampled_from([np.int64, np.int32]))
def test_integer_tensors_where_floats_are_needed(op: str, n: int, dtype: type) -> None:
    call, kind = INT_ONLY_FLOAT_OPS[op]
    _raises(kind, lambda: call(tc.Tensor(np.arange(n, dtype=dtype))), np.dtype(dtype).name)


DIM_OPS = {  # op(tensor, dim)
    "sum": lambda t, d: t.sum(d), "mean": lambda t, d: t.mean(d), "amax": lambda t, d: t.amax(d),
    "amin": lambda t, d: t.amin(d), "max": lambda t, d: t.max(d), "min": lambda t, d: t.min(d),
    "argmax": lambda t, d: t.argmax(d), "argmin": lambda t, d: t.argmin(d), "var": lambda t, d: t.var(d),
    "std": lambda t, d: t.std(d), "logsumexp": lambda t, d: t.logsumexp(d), "softmax": lambda t, d: t.softmax(d),
    "log_softmax": lambda t, d: t.log_softmax(d), "F.softmax": lambda t, d: Fn.softmax(t, d),
    "transpose": lambda t, d: t.transpose(0, d), "squeeze": lambda t, d: t.squeeze(d),
    "flatten": lambda t, d: t.flatten(d), "cat": lambda t, d: tc.cat([t, t], d), "split": lambda t, d: t.split(1, d),
    "chunk": lambda t, d: t.chunk(2, d), "unbind": lambda t, d: t.unbind(d), "flip": lambda t, d: t.flip(d),
    "size": lambda t, d: t.size(d), "sum tuple": lambda t, d: t.sum((0, d)),
    "unflatten": lambda t, d: t.unflatten(d, (1, -1)),
}  # fmt: skip


@given(st.sampled_from(sorted(DIM_OPS)), st.integers(1, 4), st.integers(0, 6), st.booleans())
def test_dims_out_of_range_are_index_errors(op: str, ndim: int, beyond: int, negative: bool) -> None:
    t = tc.ones(*([2] * ndim))
    dim = -ndim - 1 - beyond if negative else ndim + beyond
    _raises(IndexError, lambda: DIM_OPS[op](t, dim), "Dimension out of range", str(dim))
    _raises(IndexError, lambda: t.unsqueeze(dim + (1 if dim >= 0 else -1)), "Dimension out of range")
    _raises(IndexError, lambda: tc.stack([t, t], dim + (1 if dim >= 0 else -1)), "Dimension out of range")


@given(st.sampled_from(sorted(DIM_OPS)), st.sampled_from([1.5, "0", None, (0.0,), True]))
def test_dims_of_a_wrong_type_are_type_errors(op: str, dim: Any) -> None:
    if dim is None and op in ("sum", "mean", "amax", "amin", "max", "min", "argmax", "argmin", "var", "std"):
        return  # None means "every dim" there
    if dim is None and op in ("squeeze", "logsumexp"):
        return  # squeeze(None) squeezes all; logsumexp(None) reduces all here
    if isinstance(dim, tuple) and op in ("sum", "mean", "amax", "amin", "var", "std", "logsumexp", "squeeze",
                                         "flip", "sum tuple", "unflatten"):  # fmt: skip
        dim = (0, 0.5)
    if op == "unflatten" or (op == "flip" and not isinstance(dim, tuple)):
        kind_names: tuple[str, ...] = ()
    else:
        kind_names = ("dim",)
    _raises(TypeError, lambda: DIM_OPS[op](tc.ones(2, 2), dim), *kind_names)


@given(st.sampled_from(["cross_entropy", "nll_loss"]), st.integers(1, 4), st.integers(1, 5), st.data())
def test_class_indices_out_of_range_are_index_errors(op: str, n: int, c: int, data: st.DataObject) -> None:
    bad = data.draw(st.one_of(st.integers(c, c + 5), st.integers(-6, -1).filter(lambda v: v != -100)))
    target = np.zeros(n, dtype=np.int64)
    target[data.draw(st.integers(0, n - 1))] = bad
    x = tc.zeros(n, c)
    if op == "nll_loss":
        _raises(IndexError, lambda: Fn.nll_loss(x, tc.Tensor(target)), "target", str(bad), f"[0, {c})")
    else:
        _raises(IndexError, lambda: Fn.cross_entropy(x, tc.Tensor(target)), "target", str(bad), f"[0, {c})")


@given(st.sampled_from(["dropout", "dropout2d"]), st.one_of(st.floats(-1e6, -1e-9), st.floats(1 + 1e-9, 1e6)),
       st.booleans())  # fmt: skip
def test_p_outside_0_1_is_a_value_error_naming_p(op: str, p: float, training: bool) -> None:
    fn = getattr(Fn, op)
    _raises(ValueError, lambda: fn(tc.ones(1, 2, 3, 3), p, training=training), "p", "between 0 and 1")


NON_TENSORS = st.sampled_from([[1.0, 2.0], np.ones((1, 1, 2, 2)), 1.5, "x", None, (1, 2)])
TENSOR_OPS = {  # op with its first argument replaced
    "conv2d": lambda a: Fn.conv2d(a, tc.ones(1, 1, 1, 1)), "conv1d": lambda a: Fn.conv1d(a, tc.ones(1, 1, 1)),
    "conv_transpose2d": lambda a: Fn.conv_transpose2d(a, tc.ones(1, 1, 1, 1)),
    "linear": lambda a: Fn.linear(a, tc.ones(1, 2)), "max_pool2d": lambda a: Fn.max_pool2d(a, 1),
    "avg_pool2d": lambda a: Fn.avg_pool2d(a, 1), "adaptive_avg_pool2d": lambda a: Fn.adaptive_avg_pool2d(a, 1),
    "adaptive_max_pool2d": lambda a: Fn.adaptive_max_pool2d(a, 1),
    "batch_norm": lambda a: Fn.batch_norm(a, None, None, training=True), "layer_norm": lambda a: Fn.layer_norm(a, 2),
    "group_norm": lambda a: Fn.group_norm(a, 1), "local_response_norm": lambda a: Fn.local_response_norm(a, 2),
    "dropout": lambda a: Fn.dropout(a), "dropout2d": lambda a: Fn.dropout2d(a),
    "cross_entropy": lambda a: Fn.cross_entropy(a, tc.zeros(2, dtype=tc.int64)),
    "nll_loss": lambda a: Fn.nll_loss(a, tc.zeros(2, dtype=tc.int64)), "mse_loss": lambda a: Fn.mse_loss(a, a),
    "l1_loss": lambda a: Fn.l1_loss(a, tc.ones(2)),
    "binary_cross_entropy": lambda a: Fn.binary_cross_entropy(a, tc.ones(2)),
    "binary_cross_entropy_with_logits": lambda a: Fn.binary_cross_entropy_with_logits(a, tc.ones(2)),
    "relu": Fn.relu, "leaky_relu": Fn.leaky_relu, "elu": Fn.elu, "gelu": Fn.gelu, "softplus": Fn.softplus,
    "silu": Fn.silu, "sigmoid": Fn.sigmoid, "tanh": Fn.tanh, "softmax": lambda a: Fn.softmax(a, 0),
    "log_softmax": lambda a: Fn.log_softmax(a, 0), "pad": lambda a: Fn.pad(a, (1, 1)),
    "sum": tc.sum, "mean": tc.mean, "amax": tc.amax, "max": tc.max, "argmax": tc.argmax, "var": tc.var,
    "logsumexp": lambda a: tc.logsumexp(a, 0), "exp": tc.exp, "log": tc.log, "sqrt": tc.sqrt, "abs": tc.abs,
    "sign": tc.sign, "neg": tc.neg, "clamp": lambda a: tc.clamp(a, 0), "reshape": lambda a: tc.reshape(a, (-1,)),
    "flatten": tc.flatten, "permute": lambda a: tc.permute(a, (0,)), "transpose": lambda a: tc.transpose(a, 0, 0),
    "squeeze": tc.squeeze, "unsqueeze": lambda a: tc.unsqueeze(a, 0), "flip": lambda a: tc.flip(a, (0,)),
    "split": lambda a: tc.split(a, 1), "chunk": lambda a: tc.chunk(a, 1), "unbind": tc.unbind,
    "broadcast_to": lambda a: tc.broadcast_to(a, (2,)), "zeros_like": tc.zeros_like, "ones_like": tc.ones_like,
    "full_like": lambda a: tc.full_like(a, 1.0), "empty_like": tc.empty_like,
}  # fmt: skip


@given(st.sampled_from(sorted(TENSOR_OPS)), NON_TENSORS)
def test_non_tensors_where_a_tensor_is_needed_are_type_errors(op: str, bad: Any) -> None:
    e = _raises(TypeError, lambda: TENSOR_OPS[op](bad))
    assert "input" in str(e) or "Tensor" in str(e)


@given(st.sampled_from(["zeros", "ones", "empty", "rand", "randn"]),
       st.lists(st.integers(-3, 3), min_size=1, max_size=4).filter(lambda s: min(s) < 0))  # fmt: skip
def test_negative_sizes_are_runtime_errors(factory: str, size: list[int]) -> None:
    _raises(RuntimeError, lambda: getattr(tc, factory)(*size), "negative dimension")
    _raises(RuntimeError, lambda: getattr(tc, factory)(size), "negative dimension")


@given(st.sampled_from(["zeros", "ones", "empty", "rand", "randn", "reshape", "view", "expand"]),
       st.lists(st.integers(1, 3), min_size=1, max_size=3), st.data())  # fmt: skip
def test_non_integer_sizes_are_type_errors_naming_the_size(op: str, size: list[int], data: st.DataObject) -> None:
    bad = data.draw(st.sampled_from([1.5, 2.0, "2", None, True, np.float64(1.0), [1.5]]))
    size[data.draw(st.integers(0, len(size) - 1))] = bad
    call = getattr(tc, op) if op in ("zeros", "ones", "empty", "rand", "randn") else getattr(tc.ones(6), op)
    _raises(TypeError, lambda: call(*size), "size" if op in ("zeros", "ones", "empty", "rand", "randn", "expand")
            else "shape")  # fmt: skip


@given(st.lists(st.integers(1, 4), min_size=1, max_size=3), st.integers(2, 5))
def test_shape_mismatches_in_movement_ops_are_runtime_errors(shape: list[int], extra: int) -> None:
    t = tc.ones(*shape)
    n = int(np.prod(shape))
    _raises(RuntimeError, lambda: t.reshape(n * extra), str(n))
    _raises(RuntimeError, lambda: t.view(n + extra), str(n))
    _raises(RuntimeError, lambda: t.expand(*[s + extra for s in shape]) if max(shape) > 1 else t.expand(-2),
            "expand")  # fmt: skip
    _raises(RuntimeError, lambda: tc.cat([t, tc.ones(*shape[:-1], shape[-1] + 1)], 0) if len(shape) > 1
            else tc.cat([t, tc.ones(1, 1)]), "cat")  # fmt: skip
    _raises(RuntimeError, lambda: tc.stack([t, tc.ones(*shape, 1)]), "stack")
    _raises(RuntimeError, lambda: t.split([shape[0] + extra], 0), "split_sizes")
    _raises(RuntimeError, lambda: t.permute(*range(len(shape) + 1)), "dims")
    a, b = tc.ones(*shape[:-1], shape[-1] + 1), tc.ones(*shape[:-1], shape[-1] + 1 + extra)  # last dims >= 2
    _raises(RuntimeError, lambda: a + b, "do not broadcast")


# -- the empty batch: accepted where PyTorch accepts it ----------------------------------------------------------------
EMPTY_BATCH = {  # op on an input with batch size 0 -> output shape
    "conv2d": (lambda x: Fn.conv2d(x, tc.ones(3, 2, 3, 3), padding=1), (0, 3, 4, 4)),
    "conv_transpose2d": (lambda x: Fn.conv_transpose2d(x, tc.ones(2, 3, 3, 3)), (0, 3, 6, 6)),
    "max_pool2d": (lambda x: Fn.max_pool2d(x, 2), (0, 2, 2, 2)),
    "avg_pool2d": (lambda x: Fn.avg_pool2d(x, 2, padding=1), (0, 2, 3, 3)),
    "adaptive_avg_pool2d": (lambda x: Fn.adaptive_avg_pool2d(x, 3), (0, 2, 3, 3)),
    "adaptive_max_pool2d": (lambda x: Fn.adaptive_max_pool2d(x, 3), (0, 2, 3, 3)),
    "batch_norm": (lambda x: Fn.batch_norm(x, tc.zeros(2), tc.ones(2), training=True), (0, 2, 4, 4)),
    "group_norm": (lambda x: Fn.group_norm(x, 2), (0, 2, 4, 4)),
    "layer_norm": (lambda x: Fn.layer_norm(x, (4, 4)), (0, 2, 4, 4)),
    "local_response_norm": (lambda x: Fn.local_response_norm(x, 2), (0, 2, 4, 4)),
    "dropout2d": (lambda x: Fn.dropout2d(x, 0.5), (0, 2, 4, 4)),
    "linear": (lambda x: Fn.linear(x, tc.ones(5, 4)), (0, 2, 4, 5)),
    "softmax": (lambda x: Fn.softmax(x, 0), (0, 2, 4, 4)),
    "cross_entropy": (lambda x: Fn.cross_entropy(x, tc.zeros(0, 4, 4, dtype=tc.int64), reduction="none"),
                      (0, 4, 4)),
}  # fmt: skip


@given(st.sampled_from(sorted(EMPTY_BATCH)))
def test_an_empty_batch_is_accepted_with_gradients(op: str) -> None:
    call, shape = EMPTY_BATCH[op]
    x = tc.zeros(0, 2, 4, 4, dtype=tc.float64, requires_grad=True)
    if op.startswith("conv"):
        call = {
            "conv2d": lambda x: Fn.conv2d(x, tc.ones(3, 2, 3, 3, dtype=tc.float64), padding=1),
            "conv_transpose2d": lambda x: Fn.conv_transpose2d(x, tc.ones(2, 3, 3, 3, dtype=tc.float64)),
        }[op]
    if op == "linear":
        call = lambda x: Fn.linear(x, tc.ones(5, 4, dtype=tc.float64))  # noqa: E731
    out = call(x)
    assert out.shape == shape
    out.sum().backward()
    assert x.grad is not None and x.grad.shape == x.shape


# -- NaN and Inf propagate; detect_anomaly names the op whose backward made a NaN -----------------------------------
PROPAGATING = {
    "relu": Fn.relu, "sigmoid": Fn.sigmoid, "tanh": Fn.tanh, "gelu": Fn.gelu, "softplus": Fn.softplus,
    "softmax": lambda x: Fn.softmax(x, -1), "log_softmax": lambda x: Fn.log_softmax(x, -1),
    "conv2d": lambda x: Fn.conv2d(x, tc.ones(1, 2, 1, 1, dtype=tc.float64)),
    "max_pool2d": lambda x: Fn.max_pool2d(x, 1), "avg_pool2d": lambda x: Fn.avg_pool2d(x, 1),
    "batch_norm": lambda x: Fn.batch_norm(x, None, None, training=True), "layer_norm": lambda x: Fn.layer_norm(x, 2),
    "linear": lambda x: Fn.linear(x, tc.ones(3, 2, dtype=tc.float64)), "sum": lambda x: x.sum(-1),
    "mean": lambda x: x.mean(-1), "amax": lambda x: x.amax(-1), "exp": tc.exp, "log": tc.log, "sqrt": tc.sqrt,
    "mse_loss": lambda x: Fn.mse_loss(x, tc.zeros_like(x), reduction="none"),
    "cross_entropy": lambda x: Fn.cross_entropy(x.reshape(-1, 2), tc.zeros(x.numel() // 2, dtype=tc.int64),
                                                reduction="none"),
}  # fmt: skip


@pytest.mark.parametrize("special", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize("op", sorted(PROPAGATING))
def test_nan_and_inf_inputs_propagate_without_error(op: str, special: float) -> None:
    data = np.arange(8, dtype=np.float64).reshape(2, 2, 1, 2) + 1
    data[0, 0, 0, 0] = special
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        out = PROPAGATING[op](tc.Tensor(data))
    if special != special:  # nan reaches the output, as numpy (and PyTorch) give
        assert np.isnan(out.data).any()


def test_detect_anomaly_names_the_op_whose_backward_made_the_first_nan() -> None:
    x = tc.tensor([0.0, 4.0], dtype=tc.float64, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with tc.detect_anomaly():
            y = (x.sqrt() * 0.0).sum()  # d/dx sqrt at 0 is inf; times the zero upstream gradient: nan
            with pytest.raises(RuntimeError) as info:
                y.backward()
    message = str(info.value)
    assert "SqrtBackward" in message and "nan" in message
    assert "test_errors.py" in message  # the line of user code that created the op
    x.grad = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        (x.sqrt() * 0.0).sum().backward()  # without anomaly detection the nan just propagates
    assert np.isnan(x.grad.data[0]) and x.grad.data[1] == 0


def test_detect_anomaly_as_a_decorator_and_nothing_raised_without_nan() -> None:
    @tc.detect_anomaly()
    def step() -> tc.Tensor:
        x = tc.tensor([1.0, 2.0], dtype=tc.float64, requires_grad=True)
        Fn.cross_entropy(x.reshape(1, 2), tc.tensor([1])).backward()
        return x.grad

    assert np.isfinite(step().data).all()
    assert not tc.autograd.anomaly.is_anomaly_enabled()
