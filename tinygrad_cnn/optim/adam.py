"""``Adam``: adaptive moment estimation (Kingma & Ba), with the AMSGrad variant and optional decoupled decay."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tinygrad_cnn.optim.optimizer import (
    Optimizer,
    ParamsT,
    _check,
    _check_min,
    _grad,
    _lerp_,
    _number,
    _params_with_grad,
    _zero_step,
)
from tinygrad_cnn.tensor import Tensor


class Adam(Optimizer):
    """Adam, as PyTorch: ``m = lerp(m, g, 1 - beta1)``; ``v = beta2 * v + (1 - beta2) * g**2``;
    ``p -= lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)``.

    ``g = grad + weight_decay * p``, or with ``decoupled_weight_decay`` (AdamW) ``p *= 1 - lr * weight_decay``
    first and ``g = grad``; ``amsgrad`` uses the running maximum of ``v``; ``maximize`` negates ``grad``.
    State per parameter: ``step`` (a float32 0-d tensor), ``exp_avg``, ``exp_avg_sq`` (``max_exp_avg_sq``).
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, *, maximize: bool = False,
                 decoupled_weight_decay: bool = False) -> None:  # fmt: skip
        pair: Any = tuple(betas) if isinstance(betas, (tuple, list)) else betas  # anything else: _check_options raises
        defaults = {
            "lr": lr, "betas": pair, "eps": eps, "weight_decay": weight_decay, "amsgrad": amsgrad,
            "maximize": maximize, "decoupled_weight_decay": decoupled_weight_decay,
        }  # fmt: skip
        super().__init__(params, defaults)

    def _check_options(self, options: dict[str, Any]) -> None:
        betas = options["betas"]
        _check_min(options["lr"], "Invalid learning rate")
        _check_min(options["eps"], "Invalid epsilon value")
        if not isinstance(betas, (tuple, list)):
            raise TypeError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        _check(len(betas) == 2, f"betas must be a pair (beta1, beta2), got {betas!r}")
        for i, beta in enumerate(betas):
            _check(0.0 <= _number(beta, f"Invalid beta parameter at index {i}") < 1.0,
                   f"Invalid beta parameter at index {i}: {beta}")  # fmt: skip
        _check_min(options["weight_decay"], "Invalid weight_decay value")

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient; returns the closure's loss if given."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, eps, weight_decay = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
            beta1, beta2 = (float(b) for b in group["betas"])
            for p in _params_with_grad(group):
                state = self.state[p]
                if not state:
                    state["step"] = _zero_step()
                    state["exp_avg"] = Tensor(np.zeros_like(p.data))
                    state["exp_avg_sq"] = Tensor(np.zeros_like(p.data))
                    if group["amsgrad"]:
                        state["max_exp_avg_sq"] = Tensor(np.zeros_like(p.data))
                state["step"].data += 1
                t = float(state["step"].data)
                g = _grad(p, group["maximize"])
                if weight_decay != 0:
                    if group["decoupled_weight_decay"]:
                        p.data *= 1 - lr * weight_decay
                    else:
                        g = g + weight_decay * p.data
                m, v = state["exp_avg"].data, state["exp_avg_sq"].data
                tmp = np.empty_like(m)
                _lerp_(m, g, 1 - beta1, tmp)  # m = beta1 * m + (1 - beta1) * g
                v *= beta2
                np.multiply(g, 1 - beta2, out=tmp)
                tmp *= g
                v += tmp  # v = beta2 * v + (1 - beta2) * g * g
                if group["amsgrad"]:
                    v = np.maximum(state["max_exp_avg_sq"].data, v, out=state["max_exp_avg_sq"].data)
                step_size = lr / (1 - beta1**t)
                denom = np.sqrt(v)
                denom /= (1 - beta2**t) ** 0.5
                denom += eps
                np.multiply(m, -step_size, out=tmp)
                tmp /= denom
                p.data += tmp
                p._version += 1
        return loss
