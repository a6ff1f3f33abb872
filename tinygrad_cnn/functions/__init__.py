"""Differentiable operations, grouped by category as in Chainer.

- ``basic_math``: + - * / ** and negation, with broadcasting
- ``math``: exp, log, sqrt, sin, cos, abs, maximum, minimum, clamp, where, comparisons
- ``activation``: relu, leaky_relu, elu, gelu, softplus, silu, sigmoid, tanh, softmax, log_softmax
- ``reduction``: sum, mean, amax/amin, max/min with a dim, var, std, logsumexp, argmax/argmin
- ``linalg``: matmul
- ``array``: reshape, permute, expand, indexing, cat, stack, split, flip, pad and friends

Each op is a ``Function`` with ``forward`` (numpy) and ``backward`` (Tensor operations, so that double
backward comes for free) side by side, plus a plain function that checks arguments and applies it.
"""
