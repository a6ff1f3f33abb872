"""``RMSprop``: divide the gradient by a running root mean square of recent gradients (Hinton)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tinygrad_cnn.optim.optimizer import Optimizer, ParamsT, _check_min, _grad, _lerp_, _params_with_grad, _zero_step
from tinygrad_cnn.tensor import Tensor


class RMSprop(Optimizer):
    """RMSprop, as PyTorch: ``v = alpha * v + (1 - alpha) * g**2``; ``avg = sqrt(v) + eps``, or when
    ``centered`` ``sqrt(v - gavg**2) + eps`` with ``gavg = lerp(gavg, g, 1 - alpha)``; then
    ``p -= lr * g / avg``, or with momentum ``b = momentum * b + g / avg``; ``p -= lr * b``.

    ``g = grad + weight_decay * p`` (``grad`` negated when ``maximize``). State per parameter: ``step``
    (a float32 0-d tensor), ``square_avg``, ``momentum_buffer`` (momentum > 0), ``grad_avg`` (centered).
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False, *,
                 maximize: bool = False) -> None:  # fmt: skip
        defaults = {
            "lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps, "centered": centered,
            "weight_decay": weight_decay, "maximize": maximize,
        }  # fmt: skip
        super().__init__(params, defaults)

    def _check_options(self, options: dict[str, Any]) -> None:
        _check_min(options["lr"], "Invalid learning rate")
        _check_min(options["eps"], "Invalid epsilon value")
        _check_min(options["momentum"], "Invalid momentum value")
        _check_min(options["weight_decay"], "Invalid weight_decay value")
        _check_min(options["alpha"], "Invalid alpha value")

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient; returns the closure's loss if given."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, alpha, eps = float(group["lr"]), float(group["alpha"]), float(group["eps"])
            weight_decay, momentum = float(group["weight_decay"]), float(group["momentum"])
            for p in _params_with_grad(group):
                state = self.state[p]
                if not state:
                    state["step"] = _zero_step()
                    state["square_avg"] = Tensor(np.zeros_like(p.data))
                    if group["momentum"] > 0:
                        state["momentum_buffer"] = Tensor(np.zeros_like(p.data))
                    if group["centered"]:
                        state["grad_avg"] = Tensor(np.zeros_like(p.data))
                state["step"].data += 1
                g = _grad(p, group["maximize"])
                if weight_decay != 0:
                    g = g + weight_decay * p.data
                v = state["square_avg"].data
                tmp = np.empty_like(v)
                v *= alpha
                np.multiply(g, 1 - alpha, out=tmp)
                tmp *= g
                v += tmp  # v = alpha * v + (1 - alpha) * g * g
                if group["centered"]:
                    gavg = state["grad_avg"].data
                    _lerp_(gavg, g, 1 - alpha, tmp)
                    avg = np.multiply(gavg, gavg)
                    np.subtract(v, avg, out=avg)
                    np.sqrt(avg, out=avg)
                else:
                    avg = np.sqrt(v)
                avg += eps
                if momentum > 0:
                    buf = state["momentum_buffer"].data
                    buf *= momentum
                    np.divide(g, avg, out=tmp)
                    buf += tmp  # b = momentum * b + g / avg
                    np.multiply(buf, -lr, out=tmp)
                else:
                    np.multiply(g, -lr, out=tmp)
                    tmp /= avg
                p.data += tmp
                p._version += 1
        return loss
