"""tinygrad_cnn: a small, readable deep-learning framework on numpy with PyTorch's API.

``Tensor`` records the ops applied to it; ``loss.backward()`` runs one generic backward pass over the
graph; every op's gradient rule is checked against numerical derivatives (``gradcheck``).
"""

import builtins

from tinygrad_cnn import autograd, nn, optim
from tinygrad_cnn.autograd import (
    Function,
    GradcheckError,
    detect_anomaly,
    enable_grad,
    gradcheck,
    gradgradcheck,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from tinygrad_cnn.creation import (
    arange,
    as_tensor,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    ones,
    ones_like,
    rand,
    randint,
    randn,
    randperm,
    tensor,
    zeros,
    zeros_like,
)
from tinygrad_cnn.dtypes import (
    bool,  # noqa: A004 - PyTorch's dtype names
    double,
    float,  # noqa: A004
    float16,
    float32,
    float64,
    half,
    int,  # noqa: A004
    int8,
    int16,
    int32,
    int64,
    long,
    uint8,
)
from tinygrad_cnn.functions.activation import log_softmax, relu, sigmoid, softmax, tanh
from tinygrad_cnn.functions.array import (
    broadcast_to,
    cat,
    chunk,
    flatten,
    flip,
    permute,
    reshape,
    split,
    squeeze,
    stack,
    transpose,
    unbind,
    unsqueeze,
)
from tinygrad_cnn.functions.basic_math import add, div, mul, neg, pow, sub  # noqa: A004
from tinygrad_cnn.functions.linalg import matmul
from tinygrad_cnn.functions.math import (
    abs,  # noqa: A004
    clamp,
    clip,
    cos,
    exp,
    log,
    log1p,
    maximum,
    minimum,
    rsqrt,
    sign,
    sin,
    sqrt,
    where,
)
from tinygrad_cnn.functions.reduction import (
    amax,
    amin,
    argmax,
    argmin,
    logsumexp,
    max,  # noqa: A004
    mean,
    min,  # noqa: A004
    std,
    sum,  # noqa: A004
    var,
)
from tinygrad_cnn.random import Generator, get_rng_state, initial_seed, manual_seed, set_rng_state
from tinygrad_cnn.serialization import load, load_metadata, load_state, save, save_state
from tinygrad_cnn.tensor import Tensor

__version__ = "0.1.0"


def is_tensor(obj: object) -> builtins.bool:
    """True if ``obj`` is a Tensor."""
    return isinstance(obj, Tensor)
