"""Automatic differentiation: ``Function`` for custom ops, ``backward`` and ``grad``, the grad-mode
switches, anomaly detection, and the numerical gradient checkers."""

from tinygrad_cnn.autograd.anomaly import detect_anomaly, is_anomaly_enabled
from tinygrad_cnn.autograd.engine import backward, grad
from tinygrad_cnn.autograd.function import Function
from tinygrad_cnn.autograd.grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from tinygrad_cnn.autograd.gradcheck import GradcheckError, gradcheck, gradgradcheck

__all__ = [
    "Function", "backward", "grad", "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled",
    "detect_anomaly", "is_anomaly_enabled", "gradcheck", "gradgradcheck", "GradcheckError",
]  # fmt: skip
