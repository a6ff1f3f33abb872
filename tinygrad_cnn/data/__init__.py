"""Data loading in PyTorch's style, on numpy: ``Dataset``/``DataLoader`` and friends (as
``torch.utils.data``), image ``transforms`` (as ``torchvision.transforms``, on (C, H, W) numpy arrays),
and data set readers: ``MNIST``, ``FashionMNIST`` (IDX files), ``CIFAR10`` (binary or pickled batches,
read without running pickle code), and the bundled ``MNIST5k`` (5,000 real MNIST digits shipped as
package data, no network needed; also as arrays through ``load_mnist5k`` / ``mnist5k_split``;
provenance and licence in ``NOTICE.md`` next to this file).

Samples are numpy arrays and Python numbers; the ``DataLoader`` collates them into Tensors::

    from tinygrad_cnn.data import DataLoader, MNIST5k, transforms as T

    ds = MNIST5k("train", transform=T.Compose([T.ToTensor(), T.Normalize((0.1307,), (0.3081,))]))
    for x, y in DataLoader(ds, batch_size=64, shuffle=True):  # x: float32 (64, 1, 28, 28), y: int64 (64,)
        ...
"""

from __future__ import annotations

from tinygrad_cnn.data import transforms
from tinygrad_cnn.data.cifar import CIFAR10, UnsafePickleError, safe_load_pickle
from tinygrad_cnn.data.dataloader import DataLoader, default_collate
from tinygrad_cnn.data.dataset import (
    ConcatDataset,
    Dataset,
    ImageArrayDataset,
    SampleBatch,
    Subset,
    TensorDataset,
    random_split,
)
from tinygrad_cnn.data.download import DownloadError, download_and_verify
from tinygrad_cnn.data.mnist import MNIST, FashionMNIST, MNIST5k, load_mnist5k, mnist5k_split

__all__ = [
    "CIFAR10",
    "MNIST",
    "ConcatDataset",
    "DataLoader",
    "Dataset",
    "DownloadError",
    "FashionMNIST",
    "ImageArrayDataset",
    "MNIST5k",
    "SampleBatch",
    "Subset",
    "TensorDataset",
    "UnsafePickleError",
    "default_collate",
    "download_and_verify",
    "load_mnist5k",
    "mnist5k_split",
    "random_split",
    "safe_load_pickle",
    "transforms",
]
