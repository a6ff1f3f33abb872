"""``SGD``: stochastic gradient descent with optional momentum, dampening, Nesterov and weight decay."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tinygrad_cnn import kernels
from tinygrad_cnn.optim.optimizer import Optimizer, ParamsT, _check, _check_min, _grad, _number, _params_with_grad
from tinygrad_cnn.tensor import Tensor


class SGD(Optimizer):
    """Stochastic gradient descent, PyTorch's formulation (the momentum buffer starts as the first gradient).

    ``g = grad + weight_decay * p``; ``b = momentum * b + (1 - dampening) * g``;
    ``p -= lr * (g + momentum * b if nesterov else b)`` (``grad`` negated when ``maximize``).
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False) -> None:  # fmt: skip
        defaults = {
            "lr": lr, "momentum": momentum, "dampening": dampening, "weight_decay": weight_decay,
            "nesterov": nesterov, "maximize": maximize,
        }  # fmt: skip
        super().__init__(params, defaults)

    def _check_options(self, options: dict[str, Any]) -> None:
        _check_min(options["lr"], "Invalid learning rate")
        _check_min(options["momentum"], "Invalid momentum value")
        _number(options["dampening"], "Invalid dampening value")
        _check_min(options["weight_decay"], "Invalid weight_decay value")
        if options["nesterov"]:
            _check(
                options["momentum"] > 0 and options["dampening"] == 0,
                "Nesterov momentum requires a momentum and zero dampening (nesterov=True needs momentum > 0 and "
                f"dampening=0, got momentum={options['momentum']}, dampening={options['dampening']})",
            )

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient; returns the closure's loss if given."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, momentum, dampening = float(group["lr"]), float(group["momentum"]), float(group["dampening"])
            weight_decay, nesterov = float(group["weight_decay"]), group["nesterov"]
            for p in _params_with_grad(group):
                g = _grad(p, group["maximize"])
                if weight_decay != 0:
                    g = g + weight_decay * p.data
                if momentum != 0:
                    state = self.state[p]
                    if state.get("momentum_buffer") is None:
                        state["momentum_buffer"] = Tensor(g.copy())
                    else:
                        buf = state["momentum_buffer"].data
                        buf *= momentum
                        buf += g if dampening == 0 else (1 - dampening) * g
                    buf = state["momentum_buffer"].data
                    g = g + momentum * buf if nesterov else buf
                step = kernels._empty(g.shape, g.dtype)  # lr * g into pooled scratch: no fresh pages per step
                np.multiply(g, lr, out=step)
                p.data -= step
                p._version += 1
        return loss
