"""Optimizers and learning-rate schedulers with PyTorch's API and numbers (``torch.optim``).

``SGD``, ``Adam``, ``AdamW``, ``RMSprop`` and ``Adagrad`` update ``p.data`` in place (keeping its dtype) for
every parameter whose ``.grad`` is set; ``lr_scheduler`` holds the schedulers.
"""

from tinygrad_cnn.optim import lr_scheduler
from tinygrad_cnn.optim.adagrad import Adagrad
from tinygrad_cnn.optim.adam import Adam
from tinygrad_cnn.optim.adamw import AdamW
from tinygrad_cnn.optim.optimizer import Optimizer
from tinygrad_cnn.optim.rmsprop import RMSprop
from tinygrad_cnn.optim.sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "lr_scheduler"]
