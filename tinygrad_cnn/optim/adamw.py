"""``AdamW``: Adam with decoupled weight decay (Loshchilov & Hutter)."""

from __future__ import annotations

from tinygrad_cnn.optim.adam import Adam
from tinygrad_cnn.optim.optimizer import ParamsT, StateDict


class AdamW(Adam):
    """Adam whose weight decay shrinks the parameters directly, ``p *= 1 - lr * weight_decay``, before the
    Adam update (instead of adding ``weight_decay * p`` to the gradient); default ``weight_decay=1e-2``.
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *, maximize: bool = False) -> None:  # fmt: skip
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize, decoupled_weight_decay=True)

    def load_state_dict(self, state_dict: StateDict) -> None:
        """As ``Optimizer.load_state_dict``; the decay stays decoupled even if the state came from ``Adam``."""
        super().load_state_dict(state_dict)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True
