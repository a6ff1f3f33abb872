"""Map-style data sets as in ``torch.utils.data``: ``Dataset``, ``TensorDataset``, ``Subset``,
``ConcatDataset`` and ``random_split``.

A data set is anything with ``__len__`` and ``__getitem__(i)``. It may also define torch's batch
protocol ``__getitems__(indices)``, returning the list of samples for a list of indices at once; the
``DataLoader`` then fetches a whole batch with one call (``TensorDataset`` and the image data sets do
it with numpy fancy indexing).
"""

from __future__ import annotations

import bisect
import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from tinygrad_cnn.random import Generator, numpy_generator
from tinygrad_cnn.tensor import Tensor

__all__ = ["ConcatDataset", "Dataset", "Subset", "TensorDataset", "random_split"]


class Dataset:
    """Base class of map-style data sets: subclasses implement ``__getitem__(index)`` and ``__len__()``.

    ``a + b`` concatenates two data sets (a ``ConcatDataset``).
    """

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must implement __len__")

    def __add__(self, other: Any) -> ConcatDataset:
        return ConcatDataset([self, other])


class SampleBatch(list):
    """A list of samples that also carries them already stacked, one array per field.

    Returned by ``__getitems__`` of the numpy-backed data sets: any ``collate_fn`` sees an ordinary list
    of ``(x, y, ...)`` tuples, while ``default_collate`` takes the stacked ``columns`` without stacking
    again. ``columns[k]`` has shape ``(len(self), *field_k_shape)``.
    """

    def __init__(self, samples: list[tuple[Any, ...]], columns: tuple[Any, ...]) -> None:
        super().__init__(samples)
        self.columns = columns


def _field(t: Any) -> np.ndarray:
    return t.data if isinstance(t, Tensor) else t


class TensorDataset(Dataset):
    """Samples are the rows of the given tensors: ``ds[i] == (t0[i], t1[i], ...)``.

    Args:
        *tensors: Tensors or numpy arrays with the same size of their first dimension.

    Items keep each input's type: a Tensor gives Tensor rows, an ndarray gives ndarray rows (or numpy
    scalars for 1-D arrays).
    """

    def __init__(self, *tensors: Tensor | np.ndarray) -> None:
        if not tensors:
            raise ValueError("TensorDataset: expected at least one tensor")
        for k, t in enumerate(tensors):
            if not isinstance(t, (Tensor, np.ndarray)):
                raise TypeError(f"TensorDataset: tensors[{k}]: expected a Tensor or ndarray, got {type(t).__name__}")
            if t.ndim == 0:
                raise ValueError(f"TensorDataset: tensors[{k}] is 0-dimensional; every tensor needs a first dimension")
        sizes = [t.shape[0] for t in tensors]
        if len(set(sizes)) != 1:
            raise ValueError(f"TensorDataset: size mismatch between tensors: first dimensions are {sizes}")
        self.tensors = tuple(tensors)

    def __getitem__(self, index: int) -> tuple[Any, ...]:
        return tuple(Tensor(t.data[index]) if isinstance(t, Tensor) else t[index] for t in self.tensors)

    def __getitems__(self, indices: Sequence[int]) -> SampleBatch:
        idx = np.asarray(indices, dtype=np.intp)
        columns = tuple(_field(t)[idx] for t in self.tensors)
        wrap = tuple(isinstance(t, Tensor) for t in self.tensors)
        samples = [tuple(Tensor(c[k]) if w else c[k] for c, w in zip(columns, wrap)) for k in range(idx.size)]
        return SampleBatch(samples, columns)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]


class Subset(Dataset):
    """The items of ``dataset`` at positions ``indices``: ``Subset(ds, idx)[k] == ds[idx[k]]``."""

    def __init__(self, dataset: Any, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, index: int | list[int]) -> Any:
        if isinstance(index, list):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __getitems__(self, indices: Sequence[int]) -> list[Any]:
        mapped = [int(self.indices[i]) for i in indices]
        if hasattr(self.dataset, "__getitems__"):
            return self.dataset.__getitems__(mapped)
        return [self.dataset[i] for i in mapped]

    def __len__(self) -> int:
        return len(self.indices)


class ConcatDataset(Dataset):
    """The concatenation of several data sets: indices run through the first, then the second, ..."""

    def __init__(self, datasets: Sequence[Any]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        for i, d in enumerate(self.datasets):
            if not (hasattr(d, "__len__") and hasattr(d, "__getitem__")):
                raise TypeError(
                    f"ConcatDataset: datasets[{i}]: expected a data set with __len__ and __getitem__, "
                    f"got {type(d).__name__}"
                )
        self.cumulative_sizes: list[int] = []
        total = 0
        for d in self.datasets:
            total += len(d)
            self.cumulative_sizes.append(total)

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index: int) -> Any:
        n = len(self)
        if index < 0:
            if -index > n:
                raise ValueError("absolute value of index should not exceed dataset length")
            index += n
        if index >= n:
            raise IndexError(f"index {index} is out of range for a ConcatDataset of length {n}")
        k = bisect.bisect_right(self.cumulative_sizes, index)
        start = 0 if k == 0 else self.cumulative_sizes[k - 1]
        return self.datasets[k][index - start]


def _is_int(v: Any) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def random_split(dataset: Any, lengths: Sequence[int | float], generator: Generator | None = None) -> list[Subset]:
    """Split ``dataset`` into non-overlapping random ``Subset`` s of the given lengths.

    ``lengths`` are ints summing to ``len(dataset)``, or fractions summing to 1: as in PyTorch each
    split gets ``floor(len * fraction)`` items and the remaining items are dealt one each to the
    splits in round-robin order from the first. The permutation is drawn from ``generator`` (a
    ``tinygrad_cnn.Generator``) or else from the global generator, so ``manual_seed`` makes it
    reproducible.
    """
    if generator is not None and not isinstance(generator, Generator):
        raise TypeError(f"random_split(): generator: expected a tinygrad_cnn.Generator, got {type(generator).__name__}")
    n = len(dataset)
    lengths = list(lengths)
    if not lengths:
        raise ValueError("random_split(): lengths: expected at least one length")
    for i, v in enumerate(lengths):
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
            raise TypeError(f"random_split(): lengths[{i}]: expected an int or a float, got {v!r}")
        if v < 0:
            raise ValueError(f"random_split(): lengths[{i}]: expected a non-negative value, got {v!r}")
    total = sum(lengths)
    if math.isclose(total, 1) and total <= 1:
        sizes = []
        for i, frac in enumerate(lengths):
            if not 0 <= frac <= 1:
                raise ValueError(f"random_split(): fraction at index {i} is not between 0 and 1: {frac}")
            sizes.append(int(math.floor(n * frac)))
        for i in range(n - sum(sizes)):
            sizes[i % len(sizes)] += 1
        for i, size in enumerate(sizes):
            if size == 0:
                warnings.warn(f"random_split(): length of split at index {i} is 0", stacklevel=2)
    else:
        for i, v in enumerate(lengths):
            if not _is_int(v):
                raise ValueError(
                    f"random_split(): lengths must be ints summing to len(dataset) = {n} or fractions summing to 1; "
                    f"got lengths[{i}] = {v!r} (sum {total})"
                )
        sizes = [int(v) for v in lengths]
    if sum(sizes) != n:
        raise ValueError(
            f"random_split(): sum of input lengths ({sum(sizes)}) does not equal the length of the input dataset ({n})"
        )
    perm = numpy_generator(generator).permutation(n).tolist()
    out = []
    offset = 0
    for size in sizes:
        out.append(Subset(dataset, perm[offset : offset + size]))
        offset += size
    return out


class ImageArrayDataset(Dataset):
    """Base of the image data sets: images in ``data`` (uint8, (N, C, H, W)), labels in ``targets``
    (int64, (N,)), class names in ``classes``.

    ``ds[i]`` is ``(transform(image), target_transform(label))`` with ``image`` a fresh uint8 (C, H, W)
    array (channels first, unlike torchvision's PIL images) and ``label`` a Python int.
    ``__getitems__`` fetches a batch with one fancy index when no transform is set.
    """

    classes: list[str] = []

    def __init__(
        self,
        data: np.ndarray,
        targets: np.ndarray,
        transform: Any = None,
        target_transform: Any = None,
    ) -> None:
        if data.ndim != 4 or data.dtype != np.uint8:
            raise ValueError(f"{type(self).__name__}: data must be uint8 (N, C, H, W), got {data.dtype} {data.shape}")
        if targets.shape != (data.shape[0],):
            raise ValueError(f"{type(self).__name__}: {data.shape[0]} images but targets of shape {targets.shape}")
        self.data = data
        self.targets = targets.astype(np.int64, copy=False)
        self.transform = transform
        self.target_transform = target_transform

    def __len__(self) -> int:
        return self.data.shape[0]

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        img = self.data[index].copy()
        label = int(self.targets[index])
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            label = self.target_transform(label)
        return img, label

    def __getitems__(self, indices: Sequence[int]) -> list[tuple[Any, Any]]:
        if self.transform is not None or self.target_transform is not None:
            return [self[int(i)] for i in indices]
        idx = np.asarray(indices, dtype=np.intp)
        images = self.data[idx]
        labels = self.targets[idx]
        return SampleBatch(list(zip(images, labels.tolist())), (images, labels))

    def _extra_repr(self) -> list[str]:
        return []

    def __repr__(self) -> str:
        lines = [f"Dataset {type(self).__name__}", f"    Number of datapoints: {len(self)}", *self._extra_repr()]
        if self.transform is not None:
            lines.append("    Transform: " + repr(self.transform).replace("\n", "\n    "))
        if self.target_transform is not None:
            lines.append("    Target transform: " + repr(self.target_transform).replace("\n", "\n    "))
        return "\n".join(lines)
