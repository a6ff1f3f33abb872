"""``Adagrad``: per-coordinate learning rates scaled by the accumulated squared gradients (Duchi et al.)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tinygrad_cnn.optim.optimizer import Optimizer, ParamsT, _check_min, _grad, _params_with_grad, _zero_step
from tinygrad_cnn.tensor import Tensor


class Adagrad(Optimizer):
    """Adagrad, as PyTorch: ``s += g**2``; ``p -= lr / (1 + (t - 1) * lr_decay) * g / (sqrt(s) + eps)``.

    ``g = grad + weight_decay * p`` (``grad`` negated when ``maximize``); ``s`` starts at
    ``initial_accumulator_value``. State per parameter, created at construction as in PyTorch: ``step``
    (a float32 0-d tensor) and ``sum``.
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10, *,
                 maximize: bool = False) -> None:  # fmt: skip
        defaults = {
            "lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value, "maximize": maximize,
        }  # fmt: skip
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, group["initial_accumulator_value"])

    def _check_options(self, options: dict[str, Any]) -> None:
        _check_min(options["lr"], "Invalid learning rate")
        _check_min(options["lr_decay"], "Invalid lr_decay value")
        _check_min(options["weight_decay"], "Invalid weight_decay value")
        _check_min(options["initial_accumulator_value"], "Invalid initial_accumulator_value value")
        _check_min(options["eps"], "Invalid epsilon value")

    def _init_state(self, p: Tensor, initial_accumulator_value: float) -> None:
        state = self.state[p]
        state["step"] = _zero_step()
        state["sum"] = Tensor(np.full_like(p.data, initial_accumulator_value))

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient; returns the closure's loss if given."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, lr_decay, eps = float(group["lr"]), float(group["lr_decay"]), float(group["eps"])
            weight_decay = float(group["weight_decay"])
            for p in _params_with_grad(group):
                if not self.state[p]:  # a group added later: PyTorch starts it from the default accumulator value
                    self._init_state(p, self.defaults["initial_accumulator_value"])
                state = self.state[p]
                state["step"].data += 1
                t = float(state["step"].data)
                g = _grad(p, group["maximize"])
                if weight_decay != 0:
                    g = g + weight_decay * p.data
                clr = lr / (1 + (t - 1) * lr_decay)
                s = state["sum"].data
                tmp = np.multiply(g, g)
                s += tmp  # s += g * g
                std = np.sqrt(s)
                std += eps
                np.multiply(g, -clr, out=tmp)
                tmp /= std
                p.data += tmp
                p._version += 1
        return loss
